// The tearline client library: one public header.
//
// A Session is one agency node's connection to a broker: CURVE with the
// node's transport key, HELLO/WELCOME, then publish (build, seal to every
// eligible recipient, sign), subscribe, and receive verified, opened reports
// with a status per section. Broker errors come back as values (code and
// every reason). After a broker restart the session says HELLO again and
// re-subscribes by itself; duplicate deliveries are dropped by report id.
//
// The directory (who is who) is read from disk at connect() and again on
// every re-HELLO, when the broker announces a new one (DIRECTORY_CHANGED, or
// a WELCOME whose directory digest differs from the local one), and on
// reload_directory(): a node issued after the session started verifies once
// the local directory holds its credential. What happened to the link and
// the directory is told by take_connection_event().
//
// Self-contained: this header includes std headers and the public error model
// (<tearline/status.h>) only, never lib/ or generated protobuf headers; a
// build target (tearline_client_header_check) proves it. Tools inside this
// tree reach the rest (raw frames, built reports, the directory) through
// client/session_internal.h.
//
// Threading: a Session is used from one thread at a time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <tearline/status.h>

namespace tearline::client {

// The classification ladder; the numbers are the wire's (Classification in
// proto/tearline/v1/identity.proto).
enum class Classification : int {
  kUnset = 0,
  kUnclassified = 1,
  kRestricted = 2,
  kConfidential = 3,
  kSecret = 4,
  kTopSecret = 5,
};

// A section's label: who may read it (docs/policy.md).
struct Label {
  Classification classification = Classification::kUnset;
  std::vector<std::string> releasable_to;  // country codes; sorted and de-duplicated when built
  std::vector<std::string> units;          // unit ids; sorted and de-duplicated when built
  bool orcon = false;

  bool operator==(const Label&) const = default;
};

struct DraftSection {
  Label label;
  std::string text;  // the content (any bytes)
};

// A report this node derives from: the source's id and the sections used.
struct Source {
  std::vector<std::uint8_t> report_id;  // 16 bytes
  std::vector<std::uint32_t> sections;  // 0-based; empty = all sections
};

// A report to publish. created_at_ms and sequence are filled in when 0.
struct Draft {
  std::string topic;
  std::vector<DraftSection> sections;
  std::vector<Source> sources;
  std::int64_t created_at_ms = 0;
  std::uint64_t sequence = 0;
};

// What this node got of one section of a received report.
enum class SectionStatus { kOpened, kWithheld, kNotAddressed, kOpenFailed };
// "opened", "withheld", "not addressed", "open failed".
std::string_view section_status_name(SectionStatus status);

struct SessionOptions {
  std::string endpoint;             // e.g. tcp://127.0.0.1:7801
  std::filesystem::path directory;  // PKI directory: trust.toml, credentials/, ..., broker.pub
  std::filesystem::path key_file;   // the node's key file (mode 0600)
  std::string node_id;
  // The broker to speak to, by its node id, when its PKI has several (they
  // may share one store, docs/scale-out.md): its CURVE key is then the
  // transport key of its credential in `directory` (role "broker"), which
  // its agency signed. Empty: DIRECTORY/broker.pub, the PKI's first broker.
  std::string broker_id;
  int connect_timeout_ms = 5000;  // HELLO answered within this, or UNAVAILABLE
  int request_timeout_ms = 5000;  // each request answered within this
  std::string client_name = "tearline-client";
};

// Durable patterns are the node's, stored by the broker: its mailbox, kept
// across sessions and broker restarts, delivered from the node's cursor (the
// last seq it acknowledged) when a session subscribes durably. Session-only
// patterns live with this session: live reports only, gone when it ends.
enum class SubscriptionMode { kDurable, kSessionOnly };

// The broker's answer to LIST_SUBSCRIPTIONS.
struct Subscriptions {
  std::vector<std::string> durable;  // the node's stored patterns, sorted
  std::vector<std::string> session;  // this session's own patterns, sorted
  std::uint64_t acked_seq = 0;       // the node's durable cursor: acknowledged up to here
  // Its cursors in other brokers' streams, by writer (docs/protocol.md
  // 6.14); empty when the broker shares its store with no other.
  std::map<std::string, std::uint64_t> streams;
};

// The broker's health (ADMIN "status", answered BROKER_STATUS;
// docs/protocol.md). Times are unix milliseconds.
struct BrokerStatus {
  std::string version;  // e.g. "0.2.0 (git 1a2b3c4)"
  std::string broker_id;
  std::int64_t started_at_ms = 0;
  std::int64_t broker_time_ms = 0;
  std::uint32_t sessions = 0;          // READY sessions
  std::uint64_t head_seq = 0;          // the last committed broker seq
  std::uint32_t verify_queue = 0;      // PUBLISHes waiting for verification
  std::uint32_t commit_queue = 0;      // verified reports waiting for the group commit
  std::uint64_t delivery_backlog = 0;  // DELIVERs queued behind slow sessions
  std::uint64_t store_bytes = 0;
  std::int64_t last_checkpoint_ms = 0;  // 0: no signed audit checkpoint yet
  std::string directory_digest_hex;     // 64 hex characters
  std::uint64_t directory_generation = 0;
  std::uint64_t accepted = 0, rejected = 0, delivered = 0;  // since start
  // Faults since start (docs/reliability.md): stored records that failed
  // their re-check, refused CURVE handshakes and HELLOs, wall-clock steps.
  std::uint64_t damaged_records = 0, refused_handshakes = 0, refused_hellos = 0, wall_clock_steps = 0;
  // By code name, since start: PUBLISHes rejected (first reason), sections withheld at delivery.
  std::vector<std::pair<std::string, std::uint64_t>> rejected_by_code, withheld_by_reason;
  // Links to partner brokers (and how many receive), copies from them taken and refused since start.
  std::uint32_t peer_links = 0, peer_links_ready = 0;
  std::uint64_t crossings_taken = 0, crossings_refused = 0;
};

// Something that happened to the session's link or directory, for callers
// that tell their user (e.g. `tearline subscribe`'s stderr lines).
struct ConnectionEvent {
  enum class Kind {
    kBrokerLost,         // the connection dropped or the broker forgot the session
    kBrokerRegained,     // WELCOME again; deliveries resume after resume_after_seq
    kDirectoryReloaded,  // the local directory was read again (see status)
  };
  Kind kind = Kind::kBrokerLost;
  std::uint64_t resume_after_seq = 0;  // kBrokerRegained: the last seq this session took (0: none)
  // kDirectoryReloaded: the directory digests (64 hex characters) before and
  // after, whether the local one now equals the broker's last announced one,
  // and why it was read (e.g. "the broker announced a new directory").
  std::string old_digest_hex, new_digest_hex;
  bool matches_broker = false;
  std::string why;
  // kBrokerLost: what was seen. kDirectoryReloaded: OK, or why the reload
  // failed (the session keeps the directory it had).
  Status status;
};

struct PublishOutcome {
  bool accepted = false;
  std::vector<std::uint8_t> report_id;
  std::uint64_t broker_seq = 0;
  Status status;  // the broker's reasons when rejected
  // When accepted: the broker's acceptance receipt (a serialized
  // tearline.v1.AcceptanceReceipt, verified against the report sent), and
  // what it says. An ACCEPTED whose receipt does not verify is not accepted:
  // status says RECEIPT_INVALID.
  std::vector<std::uint8_t> receipt;
  std::string broker_id;
  std::int64_t accepted_ms = 0;
};

struct ReceivedSection {
  SectionStatus status = SectionStatus::kWithheld;
  std::optional<Label> label;
  std::string text;  // when opened
};

// What receive() returns: a report, or a gap notice (the broker's GAP frame,
// docs/protocol.md 6.13): the record at broker_seq exists but will not be
// delivered, e.g. STORAGE_DAMAGED when the stored report failed the broker's
// re-check. A gap is never a report: only broker_seq and `gap` are set, and
// nothing is acknowledged for it (a later ACK covers its seq).
enum class ReceivedKind { kReport, kGap };

struct Received {
  ReceivedKind kind = ReceivedKind::kReport;
  Status gap;  // kGap: the broker's reasons (never OK); kReport: OK
  std::uint64_t broker_seq = 0;
  // The broker whose stream broker_seq is in, when not the one this session
  // speaks to: another broker sharing its store accepted the report
  // (docs/protocol.md 6.14); empty otherwise.
  std::string writer;
  Status verification;  // OK when the signature and every commitment verified
  std::string report_id_hex, originator, topic;
  std::int64_t created_at_ms = 0;
  std::vector<ReceivedSection> sections;
  std::vector<std::uint8_t> raw;  // the report bytes as delivered
  // The broker's acceptance receipt that came with the copy (serialized
  // tearline.v1.AcceptanceReceipt) and its time when it verified; a copy
  // whose receipt is missing or does not verify fails verification with
  // RECEIPT_INVALID.
  std::vector<std::uint8_t> receipt;
  std::int64_t accepted_ms = 0;
  // The brokers of other agencies the report passed through before this
  // one, the originator's first (docs/federation.md, "The path"), each
  // with the seq and time of its signed acceptance, all verified; empty for
  // a report published to this broker. A copy whose path does not verify
  // fails verification with RECEIPT_INVALID.
  struct Hop {
    std::string broker_id;
    std::uint64_t broker_seq = 0;
    std::int64_t accepted_ms = 0;
  };
  std::vector<Hop> path;
};

class Session {
 public:
  // Loads the directory and key file, connects and says HELLO. Fails with
  // UNKNOWN_NODE when the local directory holds no credential of the node
  // (nothing is sent); KEY_FILE for a key file that is not the node's (naming
  // the kind of key it is); HANDSHAKE_REFUSED when the CURVE handshake failed
  // (the broker refused the node's key: followed by NOT_YET_VALID, EXPIRED or
  // REVOKED when the local directory says why; or the broker's key does not
  // match DIRECTORY/broker.pub); the broker's ERROR (e.g. SESSION_REVOKED);
  // or, when nothing answers within connect_timeout_ms, UNAVAILABLE.
  static Result<std::unique_ptr<Session>> connect(const SessionOptions& options);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const std::string& node_id() const;

  // Builds the report (sealed to every node its labels admit now, signed),
  // sends it and waits for the verdict. Sequence and created-at are filled in.
  Result<PublishOutcome> publish(const Draft& draft);
  // Builds 1..64 drafts as one batch (one signature over the batch's Merkle
  // root, docs/report-format.md "Batches"), sends them all at once and waits
  // for every verdict; outcomes in the drafts' order. A bad draft fails the
  // whole call before anything is sent.
  Result<std::vector<PublishOutcome>> publish_batch(const std::vector<Draft>& drafts);
  // Sends report bytes as they are (for testers) and waits for the verdict.
  Result<PublishOutcome> publish_bytes(std::span<const std::uint8_t> report);

  // SUBSCRIBE / UNSUBSCRIBE in `mode` (see SubscriptionMode); the broker's
  // refusal (e.g. a pattern the topic policy denies entirely) as a Status.
  // The session re-subscribes both sets after a re-HELLO.
  Status subscribe(const std::vector<std::string>& patterns, SubscriptionMode mode = SubscriptionMode::kDurable);
  Status unsubscribe(const std::vector<std::string>& patterns, SubscriptionMode mode = SubscriptionMode::kDurable);
  // The node's durable patterns, this session's patterns and the cursor.
  Result<Subscriptions> subscriptions();
  // ADMIN "reload": the broker reads its directory and policy again (the
  // admin role). OK on ACCEPTED.
  Status admin_reload();
  // ADMIN "status": the broker's health (the admin role).
  Result<BrokerStatus> status();
  // Reads the local directory from disk again (as at connect(), with the
  // revocation lists held carried over). On failure the session keeps the
  // directory it had. Also queues a kDirectoryReloaded event whose `why` is
  // `why` (e.g. "SIGHUP").
  Status reload_directory(std::string_view why = "on request");
  // The local directory's digest, 64 hex characters.
  std::string directory_digest_hex() const;

  // The oldest connection event not yet taken, if any (cleared on read).
  std::optional<ConnectionEvent> take_connection_event();

  // Waits up to timeout_ms for the next report or gap notice (kind kGap, see
  // Received), in broker order; verifies, opens and ACKs a report.
  // ACKs are signed delivery receipts, coalesced: one covers every copy
  // taken since the last, and goes when no DELIVER is left waiting or after
  // 64 copies (a copy taken while more wait is acknowledged by a later
  // call; one still unacknowledged when the session ends is delivered
  // again to the node's next session). nullopt on timeout.
  std::optional<Received> receive(int timeout_ms);

  // The last ERROR frame received outside a request, if any (cleared on read).
  std::optional<Status> take_session_error();

  struct Impl;

 private:
  friend struct SessionAccess;  // client/session_internal.h
  explicit Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tearline::client
