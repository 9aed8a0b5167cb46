#include "client/session_internal.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <fstream>
#include <map>
#include <set>

#include "base/clock.h"
#include "base/time_format.h"
#include "client/connection.h"
#include "crypto/key_file.h"
#include "report/key_epochs.h"
#include "wire/frame.h"

namespace tearline::client {
namespace v1 = tearline::v1;

namespace {

constexpr int kPingIntervalMs = 1000;  // while waiting: detects a restarted broker quickly
constexpr std::size_t kDedupeWindow = 65536;
constexpr std::int64_t kRetryMs = 500;  // between HELLO attempts while the broker refuses
// Delivery receipts: one signed ACK covers the copies taken since the last
// one; it goes when the delivery queue drains or after this many copies.
constexpr std::size_t kAckEvery = 64;
// Events read without waiting before deciding that the queue has drained,
// so that a burst of DELIVERs is acknowledged by few receipts.
constexpr int kAckLookahead = 64;

// The node's own credential in the local directory: unknown (checked before
// connecting), and not yet valid, expired or revoked (added to a refused
// handshake), each with the date or the list and what to do.
Status check_own_credential(const identity::Directory& dir, const SessionOptions& o, std::int64_t now) {
  const identity::Credential* c = dir.node(o.node_id);
  if (c == nullptr) {
    return Status::fail(Code::UNKNOWN_NODE, "node " + o.node_id + " has no credential in the directory " +
                                                o.directory.string() +
                                                " (not issued yet, or issued after this copy was made): issue it "
                                                "with `tearline certs issue` or copy the PKI's directory again");
  }
  const std::string which = "the credential of " + c->node_id + " (serial " + std::to_string(c->serial) + ")";
  Status s;
  if (now < c->not_before) {
    s.add(Code::NOT_YET_VALID, which + " is valid only from " + format_utc_seconds(c->not_before) +
                                   ": wait until then, or check this machine's clock");
  }
  if (now >= c->not_after) {
    s.add(Code::EXPIRED, which + " expired at " + format_utc_seconds(c->not_after) +
                             ": issue a new one (`tearline certs issue --replace`) and reload the broker");
  }
  const identity::RevocationList* list = dir.revocation_list(c->agency);
  if (list != nullptr && list->revokes_serial(c->serial)) {
    s.add(Code::REVOKED, which + " is revoked by " + c->agency + "'s revocation list " + std::to_string(list->number) +
                             ": issue a new credential (`tearline certs issue --replace`) and reload the broker");
  }
  const identity::Authority* issuer = dir.trust().authority(c->agency);
  // A partner's boundary broker (role broker) connects to our broker as the
  // peer of a peering; whether one is in effect is the broker's question.
  if (issuer != nullptr && issuer->partner && !c->has_role(identity::kBrokerRole)) {
    s.add(Code::FOREIGN_NODE, c->node_id + " is a node of " + c->agency + ", a partner agency in the directory " +
                                  o.directory.string() +
                                  ": it connects to its own agency's broker, with its own agency's directory");
  }
  return s;
}

// What a key file that is not a node's holds, by its first bytes (the
// formats of crypto/key_file.h); empty when it is not a tearline key file.
std::string key_file_kind(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::string head(8, '\0');
  if (!in.read(head.data(), static_cast<std::streamsize>(head.size()))) return "";
  if (head == "TLAUTH1\n") return "an agency authority's signing key (TLAUTH1)";
  if (head == "TLBRKR1\n") return "the broker's key file (TLBRKR1)";
  if (head == "TLNODE1\n") return "a node key file (TLNODE1)";
  return "";
}

std::string hex_of(const std::array<std::uint8_t, 32>& digest) {
  return to_hex(ByteView(digest.data(), digest.size()));
}

}  // namespace

struct Session::Impl {
  SessionOptions options;
  identity::DirectoryPtr directory;
  std::unique_ptr<crypto::NodeSecrets> keys;
  std::unique_ptr<Connection> connection;
  std::uint64_t last_sequence = 0;
  std::vector<std::string> durable_patterns, session_patterns;  // re-subscribed after a re-HELLO
  std::deque<ConnectionEvent> events;                           // for take_connection_event()
  bool lost = false;                                            // a kBrokerLost was queued and no WELCOME came since
  std::uint64_t last_seq = 0;                                   // the highest broker seq taken by receive()
  std::string broker_digest;                                    // the broker's directory digest, as last announced
  // DELIVERs not yet taken, each with the session generation it arrived in;
  // a GAP is queued in order as a Deliver with its seq and no report, its
  // reasons in `gaps` (oldest first).
  std::deque<std::pair<std::uint64_t, v1::Deliver>> deliveries;
  std::deque<Status> gaps;
  // Each WELCOME starts a generation: copies sent in an earlier one are
  // not acknowledged (the broker forgot them and sends them again).
  std::uint64_t generation = 0;
  std::string broker_id;  // WELCOME's
  // Taken in this generation, not yet acknowledged, per stream: the writer
  // (empty: broker_id's own stream; docs/protocol.md 6.14).
  std::map<std::string, std::vector<receipt::DeliveredCopy>> to_ack;
  std::size_t to_ack_count = 0;
  std::optional<Status> session_error;
  std::set<std::string> seen_ids;
  std::deque<std::string> seen_order;
  bool ready = false;
  // Time spent waiting in receive() with nothing arriving since the last
  // PING, summed over calls: a caller polling with short timeouts must ping
  // too, or it never learns that a restarted broker forgot its session.
  std::int64_t idle_ms = 0;
  std::uint64_t last_ping_nonce = 0;   // PONGs to the library's own PINGs are not shown to send_raw()
  report::KeyEpochs epochs;            // content keys reused per label and recipient set
  report::RootCache roots{256, 8};     // batch roots this session verified
  report::UnwrapCache unwraps;         // content keys this node unwrapped
  report::RootCache receipts{16, 64};  // acceptance statements this session verified

  // A WELCOME came: a new generation of the session. On a re-HELLO the
  // directory is read again; on the first, when the broker's differs.
  void welcomed() {
    ready = true;
    ++generation;
    broker_id = connection->welcome().broker_id();
    broker_digest = connection->welcome().directory_digest();
    to_ack.clear();
    to_ack_count = 0;
    // The link's history up to this WELCOME is settled by it; a drop after
    // its handshake is not.
    const std::vector<bool> changes = connection->link_changes();
    if (lost) {
      lost = false;
      ConnectionEvent e;
      e.kind = ConnectionEvent::Kind::kBrokerRegained;
      e.resume_after_seq = last_seq;
      events.push_back(std::move(e));
    }
    if (generation > 1) {
      (void)reload("the session said HELLO again");
    } else if (!broker_digest.empty() && !matches_broker()) {
      (void)reload("the broker's directory differs from the local one");
    }
    if (!changes.empty() && !changes.back()) {
      lose(Status::fail(Code::UNAVAILABLE, "the connection to the broker at " + options.endpoint + " dropped"));
    }
  }

  bool matches_broker() const {
    const auto& d = directory->digest();
    return broker_digest.size() == d.size() &&
           std::equal(d.begin(), d.end(), broker_digest.begin(),
                      [](std::uint8_t a, char b) { return a == static_cast<std::uint8_t>(b); });
  }

  // Reads the directory from disk again; keeps the old one on failure.
  Status reload(std::string why) {
    ConnectionEvent e;
    e.kind = ConnectionEvent::Kind::kDirectoryReloaded;
    e.why = std::move(why);
    e.old_digest_hex = hex_of(directory->digest());
    auto loaded =
        identity::Directory::load(options.directory, SystemClock::instance().now_seconds(), nullptr, directory.get());
    if (loaded) {
      directory = std::move(loaded).value();
    } else {
      e.status = loaded.status();
    }
    e.new_digest_hex = hex_of(directory->digest());
    e.matches_broker = matches_broker();
    Status out = e.status;
    events.push_back(std::move(e));
    return out;
  }

  // The broker is gone for this session: say HELLO again before the next
  // request, and tell the caller once.
  void lose(Status why) {
    ready = false;
    if (lost || generation == 0) return;
    lost = true;
    ConnectionEvent e;
    e.kind = ConnectionEvent::Kind::kBrokerLost;
    e.status = std::move(why);
    events.push_back(std::move(e));
  }

  // Follows the socket monitor: a dropped connection means a new peer for
  // the broker when ZeroMQ reconnects, so the session must say HELLO again.
  void follow_link() {
    for (bool up : connection->link_changes()) {
      if (!up && ready) {
        lose(Status::fail(Code::UNAVAILABLE, "the connection to the broker at " + options.endpoint + " dropped"));
      }
    }
  }

  // Sends, per stream, one ACK with the signed delivery receipt of every
  // copy taken since the last one (nothing when none): format 1 for the
  // broker's own stream, format 2 naming the writer for another's.
  void acknowledge() {
    for (const auto& [writer, copies] : to_ack) {
      if (copies.empty()) continue;
      const Bytes signed_receipt = receipt::sign_delivery(options.node_id, broker_id, keys->signing,
                                                          SystemClock::instance().now_ms(), copies, writer);
      (void)connection->try_send(wire::make_ack(copies.back().broker_seq, signed_receipt, writer));
    }
    to_ack.clear();
    to_ack_count = 0;
  }

  // A copy taken by receive(): acknowledged with the next receipt when it
  // came in this generation.
  void taken(std::uint64_t generation_of, const v1::Deliver& d) {
    if (generation_of != generation) return;
    const std::string writer = d.writer() == broker_id ? std::string() : d.writer();
    if (writer.empty()) last_seq = std::max(last_seq, d.broker_seq());
    auto pending = to_ack.find(writer);
    if (pending != to_ack.end() && !pending->second.empty() && d.broker_seq() <= pending->second.back().broker_seq) {
      acknowledge();  // seqs ascend per receipt
    }
    to_ack[writer].push_back(receipt::describe_copy(d.broker_seq(), as_bytes(d.report())));
    if (++to_ack_count >= kAckEvery) acknowledge();
  }

  // Handles a frame that is not the answer being waited for.
  void stash(v1::Frame& f) {
    if (f.has_deliver()) {
      deliveries.emplace_back(generation, std::move(*f.mutable_deliver()));
    } else if (f.has_gap()) {
      v1::Deliver marker;
      marker.set_broker_seq(f.gap().broker_seq());
      marker.set_writer(f.gap().writer());
      deliveries.emplace_back(generation, std::move(marker));
      gaps.push_back(wire::status_of(f.gap()));
    } else if (f.has_error()) {
      Status st = error_status(f.error());
      // A broker that restarted no longer knows this session.
      if (f.error().code() == static_cast<std::uint32_t>(Code::PROTOCOL_VIOLATION)) lose(st);
      if (wire::closes_session(static_cast<Code>(f.error().code()))) {
        ready = false;
        to_ack.clear();
        to_ack_count = 0;
      }
      session_error = st;
    } else if (f.has_directory_changed()) {
      broker_digest = f.directory_changed().directory_digest();
      (void)reload("the broker announced a new directory (generation " +
                   std::to_string(f.directory_changed().generation()) + ")");
    }
  }

  // Handles an event from the connection: a frame (stash) or bytes that did
  // not decode (kept as the session error).
  void absorb(Connection::Event& event) {
    if (!event) {
      session_error = event.status();
      return;
    }
    stash(*event);
  }

  // Handles every event the connection queued while waiting for an answer,
  // so that none is left behind between calls.
  void absorb_queued() {
    while (auto event = connection->take_event()) absorb(*event);
  }

  Status hello() {
    Status s = connection->say_hello(options.connect_timeout_ms);
    absorb_queued();  // frames that came before the WELCOME: the earlier generation's
    if (s) welcomed();
    return s;
  }

  // Re-establishes the session after a broker restart and re-subscribes.
  Status ensure_ready() {
    follow_link();
    if (ready) return Status::ok();
    Status s = hello();
    if (!s) return s;
    for (const bool session_only : {false, true}) {
      const auto& patterns = session_only ? session_patterns : durable_patterns;
      if (patterns.empty()) continue;
      auto answer = request(wire::make_subscribe(connection->next_request_id(), patterns, session_only));
      if (!answer) return answer.status();
    }
    return Status::ok();
  }

  // Sends a request and waits for its ACCEPTED/REJECTED/ERROR.
  Result<v1::Frame> request(const v1::Frame& frame) {
    const std::uint64_t id = wire::request_id_of(frame);
    const std::int64_t deadline = steady_now_ms() + options.request_timeout_ms;
    Status s = connection->start(frame);
    for (;;) {
      if (!s) return s;
      auto answer = connection->finish(id, static_cast<int>(std::max<std::int64_t>(1, deadline - steady_now_ms())));
      absorb_queued();
      if (!answer) {
        return Status::fail(Code::UNAVAILABLE, "broker did not answer " + std::string(wire::frame_type_name(frame)) +
                                                   " within " + std::to_string(options.request_timeout_ms) + " ms");
      }
      if (answer->has_error() && answer->error().code() == static_cast<std::uint32_t>(Code::PROTOCOL_VIOLATION) &&
          !frame.has_hello()) {
        // The broker restarted and forgot us: say HELLO again and retry.
        ready = false;
        Status again = ensure_ready();
        if (!again) return again;
        s = connection->start(frame);
        continue;
      }
      return answer;
    }
  }

  bool remember(const std::string& id) {
    if (!seen_ids.insert(id).second) return false;
    seen_order.push_back(id);
    if (seen_order.size() > kDedupeWindow) {
      seen_ids.erase(seen_order.front());
      seen_order.pop_front();
    }
    return true;
  }
};

// The internal free functions' way to the Impl (a friend of Session).
struct SessionAccess {
  static Session::Impl& impl(Session& session) { return *session.impl_; }
  static const Session::Impl& impl(const Session& session) { return *session.impl_; }
};

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
// A clean close says BYE, so that the broker frees the session's slot at
// once (docs/protocol.md 6.12) instead of after its idle timeout; the socket
// waits at most kByeLingerMs to send it (a broker that is gone costs no more).
constexpr int kByeLingerMs = 200;

Session::~Session() {
  if (impl_ && impl_->connection) {
    impl_->connection->send_last(wire::make_bye("session closed"), kByeLingerMs);
  }
}

const std::string& Session::node_id() const { return impl_->options.node_id; }
const identity::Directory& directory(const Session& session) { return *SessionAccess::impl(session).directory; }
const std::string& broker_id(const Session& session) { return SessionAccess::impl(session).broker_id; }

Result<std::unique_ptr<Session>> Session::connect(const SessionOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  auto dir = identity::Directory::load(options.directory, SystemClock::instance().now_seconds(), nullptr);
  if (!dir) return dir.status();
  impl->directory = std::move(dir).value();
  if (impl->directory->node(options.node_id) == nullptr) {
    return check_own_credential(*impl->directory, options, SystemClock::instance().now_seconds());
  }
  auto keys = crypto::read_node_keys(options.key_file);
  if (!keys) {
    const std::string kind = key_file_kind(options.key_file);
    if (!kind.empty() && kind.find("TLNODE1") == std::string::npos) {
      return Status::fail(Code::KEY_FILE, "key file " + options.key_file.string() + " is " + kind +
                                              ", not a node key file (TLNODE1): give the node's, PKI/keys/nodes/" +
                                              options.node_id + ".key");
    }
    return keys.status();
  }
  impl->keys = std::make_unique<crypto::NodeSecrets>(std::move(keys).value());
  if (!(impl->keys->signing.public_key() == impl->directory->node(options.node_id)->signing_key)) {
    return Status::fail(Code::KEY_FILE,
                        "key file " + options.key_file.string() + " does not hold " + options.node_id + "'s keys");
  }
  auto broker_key = broker_key_for(options, *impl->directory);
  if (!broker_key) return broker_key.status();
  ConnectionOptions connection;
  connection.broker_key_file = broker_key->source;
  connection.endpoint = options.endpoint;
  connection.client_name = options.client_name;
  connection.node_id = options.node_id;
  connection.connect_timeout_ms = options.connect_timeout_ms;
  connection.send_timeout_ms = options.connect_timeout_ms;
  auto opened = Connection::open(connection, broker_key->key, impl->keys->transport);
  if (!opened) return opened.status();
  impl->connection = std::move(opened).value();
  Status s = impl->connection->hello();
  impl->absorb_queued();
  if (!s) {
    // The broker's verdict first; the local directory says why when it can
    // (not yet valid, expired, revoked: with the date or the list, and what to do).
    if (impl->connection->handshake_refused()) {
      s.merge(check_own_credential(*impl->directory, options, SystemClock::instance().now_seconds()));
    }
    return s;
  }
  impl->welcomed();
  return std::unique_ptr<Session>(new Session(std::move(impl)));
}

Result<report::BuiltReport> build(Session& session, const Draft& draft) {
  return build(session, to_report_draft(draft));
}

Result<std::vector<report::BuiltReport>> build_batch(Session& session, std::vector<report::ReportDraft> drafts) {
  Session::Impl& impl = SessionAccess::impl(session);
  const std::int64_t now = SystemClock::instance().now_ms();
  for (auto& draft : drafts) {
    if (draft.created_at_ms == 0) draft.created_at_ms = now;
    if (draft.sequence == 0) {
      // Microseconds since the epoch keep sequences increasing across restarts.
      const auto now_us =
          std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
              .count();
      draft.sequence = std::max<std::uint64_t>(impl.last_sequence + 1, static_cast<std::uint64_t>(now_us));
      impl.last_sequence = draft.sequence;
    }
  }
  report::BuildOptions options;
  options.epochs = &impl.epochs;
  return report::build_batch(drafts, impl.options.node_id, impl.keys->signing, *impl.directory, options);
}

Result<report::BuiltReport> build(Session& session, report::ReportDraft draft) {
  auto batch = build_batch(session, {std::move(draft)});
  if (!batch) return batch.status();
  return std::move(batch->front());
}

Result<PublishOutcome> Session::publish(const Draft& draft) {
  auto built = build(*this, draft);
  if (!built) return built.status();
  return publish_bytes(built->bytes);
}

namespace {

// The verdict on `sent`: an ACCEPTED counts only with a receipt that
// verifies for the report sent, at its seq, from the session's broker.
PublishOutcome outcome_of(const v1::Frame& answer, ByteView sent, Session::Impl& impl) {
  PublishOutcome out;
  if (answer.has_accepted()) {
    const auto& a = answer.accepted();
    out.report_id = to_bytes(a.report_id());
    out.broker_seq = a.broker_seq();
    out.receipt = to_bytes(a.receipt());
    auto accepted =
        check_accepted(sent, a.broker_seq(), as_bytes(a.receipt()), impl.broker_id, *impl.directory, &impl.receipts);
    if (!accepted) {
      out.status = accepted.status();
      return out;
    }
    out.accepted = true;
    out.broker_id = accepted->broker_id;
    out.accepted_ms = accepted->accepted_ms;
  } else if (answer.has_rejected()) {
    out.status = wire::status_of(answer.rejected());
  } else {
    out.status = wire::status_of(answer.error());
  }
  return out;
}

}  // namespace

Result<std::vector<PublishOutcome>> Session::publish_batch(const std::vector<Draft>& drafts) {
  std::vector<report::ReportDraft> converted;
  converted.reserve(drafts.size());
  for (const auto& d : drafts) converted.push_back(to_report_draft(d));
  auto built = build_batch(*this, std::move(converted));
  if (!built) return built.status();
  return publish_built(*this, *built);
}

Result<std::vector<PublishOutcome>> publish_built(Session& session, const std::vector<report::BuiltReport>& built) {
  Session::Impl& impl = SessionAccess::impl(session);
  Status ready = impl.ensure_ready();
  if (!ready) return ready;
  // Pipelined: every PUBLISH is in flight before the first answer is read.
  std::vector<std::uint64_t> ids;
  ids.reserve(built.size());
  for (const auto& b : built) {
    const v1::Frame frame = wire::make_publish(impl.connection->next_request_id(), b.bytes);
    Status started = impl.connection->start(frame);
    if (!started) return started;
    ids.push_back(wire::request_id_of(frame));
  }
  const std::int64_t deadline = steady_now_ms() + impl.options.request_timeout_ms;
  std::vector<PublishOutcome> out;
  out.reserve(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const std::uint64_t id = ids[i];
    auto answer = impl.connection->finish(id, static_cast<int>(std::max<std::int64_t>(1, deadline - steady_now_ms())));
    impl.absorb_queued();
    if (!answer) {
      PublishOutcome lost;
      lost.status = Status::fail(Code::UNAVAILABLE, "broker did not answer PUBLISH within " +
                                                        std::to_string(impl.options.request_timeout_ms) + " ms");
      out.push_back(std::move(lost));
      continue;
    }
    out.push_back(outcome_of(*answer, built[i].bytes, impl));
  }
  return out;
}

Result<PublishOutcome> Session::publish_bytes(ByteView bytes) {
  Status ready = impl_->ensure_ready();
  if (!ready) return ready;
  auto answer = impl_->request(wire::make_publish(impl_->connection->next_request_id(), bytes));
  if (!answer) return answer.status();
  return outcome_of(*answer, bytes, *impl_);
}

namespace {

// An answer that is not `expected`: its refusal, or PROTOCOL_VIOLATION.
Status refusal_of(const v1::Frame& answer, std::string_view expected) {
  if (answer.has_rejected()) return wire::status_of(answer.rejected());
  if (answer.has_error()) return wire::status_of(answer.error());
  return Status::fail(Code::PROTOCOL_VIOLATION, "the broker answered " + std::string(wire::frame_type_name(answer)) +
                                                    " where " + std::string(expected) + " was due");
}

}  // namespace

Status Session::subscribe(const std::vector<std::string>& patterns, SubscriptionMode mode) {
  Status ready = impl_->ensure_ready();
  if (!ready) return ready;
  const bool session_only = mode == SubscriptionMode::kSessionOnly;
  auto answer = impl_->request(wire::make_subscribe(impl_->connection->next_request_id(), patterns, session_only));
  if (!answer) return answer.status();
  if (!answer->has_accepted()) return refusal_of(*answer, "ACCEPTED");
  auto& kept = session_only ? impl_->session_patterns : impl_->durable_patterns;
  for (const auto& p : patterns) {
    if (std::find(kept.begin(), kept.end(), p) == kept.end()) kept.push_back(p);
  }
  return Status::ok();
}

Status Session::unsubscribe(const std::vector<std::string>& patterns, SubscriptionMode mode) {
  Status ready = impl_->ensure_ready();
  if (!ready) return ready;
  const bool session_only = mode == SubscriptionMode::kSessionOnly;
  auto answer = impl_->request(wire::make_unsubscribe(impl_->connection->next_request_id(), patterns, session_only));
  if (!answer) return answer.status();
  if (!answer->has_accepted()) return refusal_of(*answer, "ACCEPTED");
  auto& kept = session_only ? impl_->session_patterns : impl_->durable_patterns;
  for (const auto& p : patterns) kept.erase(std::remove(kept.begin(), kept.end(), p), kept.end());
  return Status::ok();
}

Result<Subscriptions> Session::subscriptions() {
  Status ready = impl_->ensure_ready();
  if (!ready) return ready;
  auto answer = impl_->request(wire::make_list_subscriptions(impl_->connection->next_request_id()));
  if (!answer) return answer.status();
  if (!answer->has_subscription_list()) return refusal_of(*answer, "SUBSCRIPTION_LIST");
  return from_wire(answer->subscription_list());
}

Status Session::admin_reload() {
  Status ready = impl_->ensure_ready();
  if (!ready) return ready;
  auto answer = impl_->request(wire::make_admin(impl_->connection->next_request_id(), wire::kAdminReload));
  if (!answer) return answer.status();
  if (!answer->has_accepted()) return refusal_of(*answer, "ACCEPTED");
  return Status::ok();
}

Result<BrokerStatus> Session::status() {
  Status ready = impl_->ensure_ready();
  if (!ready) return ready;
  auto answer = impl_->request(wire::make_admin(impl_->connection->next_request_id(), wire::kAdminStatus));
  if (!answer) return answer.status();
  if (!answer->has_broker_status()) return refusal_of(*answer, "BROKER_STATUS");
  return from_wire(answer->broker_status());
}

Status Session::reload_directory(std::string_view why) { return impl_->reload(std::string(why)); }

std::string Session::directory_digest_hex() const { return hex_of(impl_->directory->digest()); }

std::optional<ConnectionEvent> Session::take_connection_event() {
  impl_->follow_link();
  if (impl_->events.empty()) return std::nullopt;
  ConnectionEvent e = std::move(impl_->events.front());
  impl_->events.pop_front();
  return e;
}

std::optional<Received> Session::receive(int timeout_ms) {
  const std::int64_t deadline = steady_now_ms() + timeout_ms;
  for (;;) {
    while (!impl_->deliveries.empty()) {
      auto [generation, d] = std::move(impl_->deliveries.front());
      impl_->deliveries.pop_front();
      if (d.report().empty() && !impl_->gaps.empty()) {  // a GAP (stash)
        if (impl_->deliveries.empty()) impl_->acknowledge();
        Received gap;
        gap.kind = ReceivedKind::kGap;
        gap.broker_seq = d.broker_seq();
        gap.writer = d.writer() == impl_->broker_id ? std::string() : d.writer();
        gap.gap = std::move(impl_->gaps.front());
        impl_->gaps.pop_front();
        return gap;
      }
      impl_->taken(generation, d);
      if (impl_->deliveries.empty()) {
        // Drained? What has already arrived is queued first: when more
        // copies wait, the receipt waits for them too (up to kAckEvery).
        for (int i = 0; i < kAckLookahead && impl_->deliveries.empty(); ++i) {
          auto event = impl_->connection->next_event(0);
          if (!event) break;
          impl_->absorb(*event);
        }
        if (impl_->deliveries.empty()) impl_->acknowledge();
      }
      // Another broker's report: its receipt is that broker's (6.14).
      const std::string& accepted_by = d.writer().empty() ? impl_->broker_id : d.writer();
      Received r = open_delivered(as_bytes(d.report()), d.broker_seq(), as_bytes(d.receipt()), accepted_by,
                                  *impl_->directory, impl_->options.node_id, impl_->keys->sealing, &impl_->roots,
                                  &impl_->unwraps, &impl_->receipts, as_bytes(d.path()));
      r.writer = d.writer() == impl_->broker_id ? std::string() : d.writer();
      if (r.verification.is_ok() && !impl_->remember(r.report_id_hex)) continue;  // duplicate
      return r;
    }
    const std::int64_t now = steady_now_ms();
    if (now >= deadline) return std::nullopt;
    impl_->follow_link();
    if (!impl_->ready) {
      if (!impl_->ensure_ready()) {
        // Refused or unreachable: retry at most every kRetryMs, not in a loop.
        auto event = impl_->connection->next_event(
            static_cast<int>(std::max<std::int64_t>(1, std::min(deadline - now, kRetryMs))));
        if (event) impl_->absorb(*event);
        continue;
      }
    } else if (impl_->idle_ms >= kPingIntervalMs) {
      impl_->last_ping_nonce = static_cast<std::uint64_t>(now);
      (void)impl_->connection->try_send(wire::make_ping(impl_->last_ping_nonce));
      impl_->idle_ms = 0;
    }
    const std::int64_t wait = std::max<std::int64_t>(1, std::min(deadline - now, kPingIntervalMs - impl_->idle_ms));
    auto event = impl_->connection->next_event(static_cast<int>(wait));
    if (event && event->is_ok()) {
      impl_->idle_ms = 0;
    } else {
      impl_->idle_ms += steady_now_ms() - now;
    }
    if (event) impl_->absorb(*event);
  }
}

std::optional<v1::Frame> send_raw(Session& session, ByteView frame_bytes, int timeout_ms) {
  Session::Impl& impl = SessionAccess::impl(session);
  if (!impl.connection->try_send(frame_bytes)) return std::nullopt;
  const std::int64_t deadline = steady_now_ms() + timeout_ms;
  while (steady_now_ms() < deadline) {
    auto event = impl.connection->next_event(static_cast<int>(std::max<std::int64_t>(1, deadline - steady_now_ms())));
    if (!event) continue;
    if (!event->is_ok()) {
      impl.session_error = event->status();
      continue;
    }
    v1::Frame& f = event->value();
    if (f.has_deliver()) {
      impl.deliveries.emplace_back(impl.generation, std::move(*f.mutable_deliver()));
      continue;
    }
    if (f.has_pong() && impl.last_ping_nonce != 0 && f.pong().nonce() == impl.last_ping_nonce) continue;
    return std::move(f);
  }
  return std::nullopt;
}

std::optional<Status> Session::take_session_error() {
  auto e = std::move(impl_->session_error);
  impl_->session_error.reset();
  return e;
}

}  // namespace tearline::client
