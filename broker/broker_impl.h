// Broker::Impl: the I/O thread's state and the glue between the broker's
// parts. Internal to broker/ (broker.h is the public API).
//
// One I/O thread owns everything here except where marked: it receives
// frames (broker.cc), answers requests (requests.cc), hands PUBLISHes to the
// VerifierPool through FloodControl, stages verified ones in the
// GroupCommit, and after each commit answers and routes what it returns
// (Router, CatchUp); housekeeping.cc holds the periodic work. The ZAP thread
// touches only `zap_events` (under its mutex); other threads only the atomic
// flags and counters, and `bound_endpoint` (under its mutex).
#pragma once

#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "base/clock.h"
#include "base/mutex.h"
#include "broker/broker.h"
#include "broker/catch_up.h"
#include "broker/connection_watch.h"
#include "broker/flood_control.h"
#include "broker/group_commit.h"
#include "broker/ingress.h"
#include "broker/live_events.h"
#include "broker/metrics.h"
#include "broker/metrics_server.h"
#include "broker/peer_connection.h"
#include "broker/refusal_tally.h"
#include "broker/replay_guard.h"
#include "broker/router.h"
#include "broker/session_table.h"
#include "broker/source_index.h"
#include "broker/store.h"
#include "broker/store_lock.h"
#include "broker/store_writer.h"
#include "broker/stream_feed.h"
#include "broker/subscription_index.h"
#include "broker/trust_state.h"
#include "broker/verifier_pool.h"
#include "broker/zap_handler.h"
#include "crypto/keys.h"
#include "wire/frame.h"

namespace tearline::broker {
namespace v1 = tearline::v1;

struct Broker::Impl {
  Impl(Config c, const Clock& clk);
  // Distinct (source, reason) pairs a RefusalTally keeps per interval.
  static constexpr std::size_t kMaxRefusalSources = 256;

  Config config;
  const Clock& clock;
  std::shared_ptr<spdlog::logger> log;
  TrustState trust;
  // Counted by every thread (the verifiers too: declared before the pool,
  // so it outlives it), rendered on the metrics endpoint's.
  Metrics metrics;
  zmq::context_t context{1};
  std::unique_ptr<ZapHandler> zap;
  zmq::socket_t router;
  zmq::socket_t results;
  std::unique_ptr<ConnectionWatch> watch;  // dropped connections (session_churn.cc)
  std::unique_ptr<VerifierPool> pool;
  SourceIndex sources;
  report::RootCache roots;  // batch roots verified at ingress, for every verifier thread
  ReplayGuard replay;
  FloodControl flood;
  SessionTable sessions;
  SubscriptionIndex subscriptions;                    // durable, per node
  std::map<std::string, std::uint64_t> node_cursors;  // acked broker seq per node (durable)
  // node -> (writer -> acked seq) in other brokers' streams (durable;
  // docs/protocol.md 6.14), as the store recovered them
  std::map<std::string, std::map<std::string, std::uint64_t>> node_stream_cursors;
  // node -> the fencing number of this broker's claim on its durable state,
  // in a store several brokers share (Store::claim_node); empty otherwise.
  std::map<std::string, std::uint64_t> node_fences;
  Router routing;
  std::int64_t next_housekeeping_ms = 0;  // steady time (base/clock.h)
  std::int64_t started_at_ms = 0;
  std::int64_t next_retention_ms = 0;    // steady time
  std::int64_t next_chains_read_ms = 0;  // steady time: the other audit chains' heads (read_other_chains)
  bool chains_read_failing = false;
  WallClockWatch wall_watch;  // wall-clock steps, seen by housekeeping

  // Durable state (docs/reliability.md). The lock is taken before the store
  // is opened and released after it is closed.
  std::optional<StoreLock> store_lock;
  std::unique_ptr<Store> store;
  std::unique_ptr<StoreWriter> writer;
  std::unique_ptr<crypto::SigningKey> audit_key;           // signs audit checkpoints and acceptance receipts
  crypto::TransportPublicKey transport_key;                // the broker's CURVE public key
  std::unique_ptr<crypto::TransportKey> transport_secret;  // its key pair, for the links to partner brokers
  // One per [[peer]]: the receiving side of a boundary (peer_arrivals.cc).
  std::vector<std::unique_ptr<PeerConnection>> peer_links;
  std::string broker_id;          // its own credential's node id (broker_identity.h)
  std::string pending_broker_id;  // found by the last directory check; taken once the whole load succeeds
  std::unique_ptr<GroupCommit> commits;
  bool record_accepted_loss = false;  // --accept-loss accepted a truncation: audit it before serving
  std::unique_ptr<CatchUp> catch_up;
  std::string store_writer;          // the name this broker writes its stream under (StoreOptions::writer)
  std::unique_ptr<StreamFeed> feed;  // other brokers' streams in a shared store (broker.cc routes them)

  Mutex zap_events_mu;
  std::vector<AuditEvent> zap_events GUARDED_BY(zap_events_mu);  // from the ZAP thread
  std::uint64_t zap_events_dropped GUARDED_BY(zap_events_mu) = 0;
  // Refused handshakes (from the ZAP thread) and HELLOs (I/O thread),
  // logged and audited aggregated (session_churn.cc).
  RefusalTally handshake_refusals GUARDED_BY(zap_events_mu){config.refusal_interval_ms, kMaxRefusalSources};
  RefusalTally hello_refusals{config.refusal_interval_ms, kMaxRefusalSources};

  std::atomic<bool> stop_requested{false};
  std::atomic<bool> reload_requested{false};
  mutable Mutex endpoint_mu;
  std::string bound_endpoint GUARDED_BY(endpoint_mu);  // set by create(), read by endpoint()
  struct Counters {
    std::atomic<std::uint64_t> accepted{0}, rejected{0}, delivered{0}, closed{0}, reloads{0}, failed_reloads{0};
    std::atomic<std::uint64_t> damaged_records{0}, refused_handshakes{0}, refused_hellos{0}, wall_clock_steps{0};
  } counters;
  // The live event stream (GET /events): fed only while the endpoint is
  // configured (live_on), read by its workers.
  LiveEvents live_events;
  bool live_on = false;
  // Serves GET /metrics when config.metrics_listen is set (metrics_publish.cc);
  // stopped first at destruction.
  std::unique_ptr<MetricsServer> metrics_server;

  // ---- broker.cc: the loop and sending ----
  Status run();
  void receive();
  // Routes what other brokers sharing the store accepted (StreamFeed,
  // CatchUp::run_stream); true when some session is still behind in one.
  bool follow_streams();
  void on_frame(Session& s, tearline::v1::Frame& frame);
  bool try_send(const std::string& routing_id, const Bytes& bytes);
  void send(Session& s, const tearline::v1::Frame& frame);
  std::string endpoint() const EXCLUDES(endpoint_mu);
  void audit_event(std::string event, std::string node, std::string report, std::string decision, std::string detail);

  // ---- peer_arrivals.cc: what partner brokers deliver (docs/federation.md) ----
  // Ticks each PeerConnection, reads what it received and hands each copy
  // to the verifiers.
  void drive_peer_links();
  // A checked copy: refused for good, a duplicate, or staged in the group commit.
  void on_arrival(IngressResult& r);
  // A staged copy the group commit settled: stored (`refusal` null; its
  // "crossing taken" entry was written with it) or refused.
  void arrival_settled(const ArrivalTag& tag, const std::string& report_hex, const Refusal* refusal);
  // `refused`: why a kDone copy was refused (told to the partner with its ACK).
  void settle_arrival(const ArrivalTag& tag, PeerConnection::Settled how, const Status& refused = Status::ok());

  // ---- peer_checkpoints.cc: audit checkpoints exchanged over peerings ----
  // PING: a partner broker's session may carry its newest checkpoint; the
  // PONG carries ours to it.
  void on_ping(Session& s, const tearline::v1::Ping& ping);
  // The message of our newest checkpoint, when there is one.
  std::optional<tearline::v1::AuditCheckpoint> our_checkpoint() const;
  // Checks a partner broker's checkpoint and records it in our audit log
  // (event peer_checkpoint: received, with its anchor line; refused, with
  // the reasons): at most one entry per partner per audit_checkpoint_seconds.
  void record_peer_checkpoint(const std::string& peer, const tearline::v1::AuditCheckpoint& m);
  struct PeerCheckpoints {
    std::uint64_t index = 0;             // the last recorded (0: none since start)
    std::int64_t last_entry_steady = 0;  // when the last entry about it was written (0: none)
  };
  std::map<std::string, PeerCheckpoints> peer_checkpoints;  // by partner broker

  // ---- store_open.cc: the last step of create() ----
  // Locks data_dir (StoreLock), opens the store, restores what it holds.
  Status open_store();

  // ---- requests.cc: answering requests ----
  void on_hello(Session& s, const tearline::v1::Hello& hello);
  void on_subscribe(Session& s, const tearline::v1::Subscribe& sub);
  void on_unsubscribe(Session& s, const tearline::v1::Unsubscribe& unsub);
  Status check_patterns(const google::protobuf::RepeatedPtrField<std::string>& patterns, bool policy_check,
                        const std::string& node);
  void attach(Session& s);
  // ---- node_claims.cc: a node's durable state in a store several brokers share ----
  // Claims the node of `s` for this broker and takes its stored patterns
  // and cursors, unless another session of the node is attached here (this
  // broker holds the claim then); OK for a store with one writer.
  Status claim_node_of(const Session& s);
  // Another broker claimed `node` after this broker's claim `fence`: when
  // that is still the claim held, the node's attached sessions here are
  // closed SESSION_REPLACED (their next attach claims it back).
  void lost_claim(const std::string& node, std::uint64_t fence);
  void on_ack(Session& s, const tearline::v1::Ack& ack);
  void on_publish(Session& s, tearline::v1::Publish& pub);
  void on_admin(Session& s, const tearline::v1::Admin& admin);
  void on_list_subscriptions(Session& s, const tearline::v1::ListSubscriptions& list);
  // ---- status_report.cc: ADMIN "status" ----
  void answer_status(Session& s, std::uint64_t request_id);
  void on_verified(IngressResult& r);
  void cancel_queued_jobs(const Session& s);
  void close_session(Session& s, Code code, const Status& reasons);
  void note_outcome(Session& s, const Status& status);
  void error(Session& s, Code code, const std::string& message, std::uint64_t request_id = 0);
  void reject(Session& s, std::uint64_t request_id, const Status& status);
  // A PUBLISH refused before verification (partner node, halted store,
  // flood control, full queue): counted as every rejected PUBLISH is.
  void reject_publish_early(Session& s, std::uint64_t request_id, const Status& status);
  void reject_subscribe(Session& s, std::uint64_t request_id, const Status& problems);
  void reject_publish(const Refusal& r);

  // ---- session_churn.cc: the session bound, BYE, dropped connections, refusals ----
  SessionBound session_bound() const;
  void on_bye(Session& s, const tearline::v1::Bye& bye);
  // The connection of `routing_id` dropped (ConnectionWatch).
  void on_disconnected(const std::string& routing_id);
  // Cancels the session's queued jobs and removes it from the table; `s` is
  // invalid afterwards.
  void forget_session(Session& s);
  // Answers a refused HELLO (when `answer`), counts it and tallies it.
  void refuse_hello(Session& s, Code code, const Status& why, bool answer);
  // Called on the ZAP thread for each refused handshake.
  void note_refused_handshake(const std::string& who, const std::string& address, const std::string& reason)
      EXCLUDES(zap_events_mu);
  // Logs and audits the refusal tallies that are due (all with `force`).
  void take_refusals(bool force) EXCLUDES(zap_events_mu);

  // ---- housekeeping.cc: the group commit's glue and periodic work ----
  void commit();
  void start_commit();
  CommitOutcome::Kind finish_commit(StoreWriter::Written written);
  void commit_and_wait();
  void take_zap_events() EXCLUDES(zap_events_mu);
  void apply_retention_if_due();
  // In a store several brokers share, their audit chains' heads for the
  // next heads entry (GroupCommit::other_chains), at most once a second.
  void read_other_chains();
  Status reload(const std::string& why);
  // ---- directory_announce.cc ----
  // DIRECTORY_CHANGED to every READY session when the current directory's
  // digest differs from `previous_digest`; nothing otherwise.
  void announce_directory(const std::array<std::uint8_t, 32>& previous_digest);
  // The directory check of every load: the broker's own credential is in it.
  TrustState::Accept own_identity_check();
  void enforce_validity();
  // Logs the peer links of the current snapshot and why any peering is not used.
  void log_peerings();
  // Logs, audits and counts a step of the wall clock since the last pass.
  void watch_wall_clock();
  void housekeeping();

  // ---- metrics_publish.cc: the metrics endpoint ----
  // Takes the metrics_listen port (before the store opens: a port in use
  // fails the start with the store untouched); create() serves at its end.
  Status bind_metrics();
  // The I/O thread's gauges, for the next scrape (each housekeeping).
  void publish_gauges();
  std::string render_metrics() const;  // any thread
};

}  // namespace tearline::broker
