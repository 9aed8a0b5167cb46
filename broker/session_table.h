// SessionTable: the broker's sessions, by ZeroMQ routing id
// (docs/protocol.md, "Session state machine").
//
// A session is NEW until its HELLO is answered WELCOME (READY); it is CLOSED
// after an ERROR that ends it (revoked, too many failures, slow consumer),
// where only a new HELLO matters. Each has a backlog: the frames the socket
// could not take yet (its pipe was full), sent first, in order, by flush().
// The SLOW_CONSUMER rule: when a backlog grows past
// `max_pending_deliveries` frames or `max_pending_bytes` bytes, it is
// dropped, the session is closed, and a single SLOW_CONSUMER error is queued
// in its place.
//
// The socket is behind a callback (TrySend), so that this table is tested
// without ZeroMQ. TrySend returns false when the peer's pipe is full; a
// peer that vanished counts as sent.
//
// The session bound (docs/protocol.md 6.12, admit_hello()): each node holds
// at most `max_sessions_per_node` READY sessions (a HELLO beyond it replaces
// the node's oldest); all nodes together at most `max_connections`, of which
// the last `reserve` free slots are kept for nodes that hold no session.
//
// Ownership and threads: owned by the broker's I/O thread, which alone calls
// it (and its callbacks run there); not thread-safe. Session references stay
// valid until take_timed_out() or forget() removes the session.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "crypto/hash.h"

namespace spdlog {
class logger;
}

namespace tearline::broker {

enum class SessionState { kNew, kReady, kClosed };

// A session-only subscription (Subscribe.session_only): it selects the
// reports committed after the heads when it was accepted: `after_seq` in
// this broker's stream, `after_streams` in other brokers' (a stream not
// named there: from its start).
struct SessionPattern {
  std::string pattern;
  std::uint64_t after_seq = 0;
  std::map<std::string, std::uint64_t, std::less<>> after_streams;
  // The head of `writer`'s stream (empty: this broker's) when accepted.
  std::uint64_t after(std::string_view writer) const {
    if (writer.empty()) return after_seq;
    auto it = after_streams.find(writer);
    return it == after_streams.end() ? 0 : it->second;
  }
};

// Seqs remembered in StreamPlace::sent_unattached at most; beyond, the
// oldest is forgotten (and could be sent once more if the session attaches).
inline constexpr std::size_t kMaxSentUnattached = 65536;

// A session's place in one stream of reports (docs/protocol.md 6.14): this
// broker's own, or another broker's sharing its store. Seqs are that
// stream's.
struct StreamPlace {
  std::uint64_t acked = 0;
  std::uint64_t delivered = 0;  // highest seq routed to this session (sent or judged)
  // Copies sent in this session and not yet acknowledged: seq -> the
  // copy's hash (receipt::copy_hash) and report id, which the node's
  // delivery receipt must name (broker/delivery_ack.h). Cleared by HELLO and
  // by close().
  struct SentCopy {
    crypto::Digest hash{};
    std::array<char, 16> report_id{};        // raw; all zero when not told (remember_delivery)
    bool names(std::string_view id) const {  // whether an ACK entry's report id is this copy's
      return id.size() == report_id.size() && std::equal(id.begin(), id.end(), report_id.begin());
    }
  };
  std::map<std::uint64_t, SentCopy> unacked;
  // Seqs sent while unattached: when the session attaches and catches up
  // from the node's cursor, these are not sent a second time.
  std::set<std::uint64_t> sent_unattached;
  // Held back at the report after `delivered`, whose originator's previous
  // report (Router::passed_prev) is in `waits_writer`'s stream at
  // `waits_seq`, not yet passed; 0: not held.
  std::string waits_writer;
  std::uint64_t waits_seq = 0;
};

// A session. Its place in this broker's own stream is the StreamPlace it
// derives from (s.delivered, s.acked, ...); its places in other brokers'
// streams are in `streams`, by writer (a writer not there: from its start).
struct Session : StreamPlace {
  std::string routing_id;
  std::string node_id;  // authenticated (ZAP User-Id)
  SessionState state = SessionState::kNew;
  int failures = 0;  // consecutive failed requests
  std::int64_t last_seen_ms = 0;
  std::deque<Bytes> backlog;  // frames the socket could not take yet
  std::size_t backlog_bytes = 0;
  std::int64_t hello_refused_ms = -1;  // last HELLO answered with the cooldown refusal
  std::uint64_t ready_serial = 0;      // order of its WELCOME among all sessions (mark_ready); 0: never
  // The subscription model (docs/protocol.md, "Subscriptions"). Attached:
  // the session sent a durable SUBSCRIBE; it receives the node's durable set
  // from the node's cursors on and its ACKs move them. Unattached, it
  // receives only what its session patterns select, live.
  bool attached = false;
  std::vector<SessionPattern> session_patterns;
  std::map<std::string, StreamPlace, std::less<>> streams;  // other brokers' streams, by writer

  // Its place in `writer`'s stream (empty: this broker's own), made when new.
  StreamPlace& place(std::string_view writer) {
    if (writer.empty()) return *this;
    auto it = streams.find(writer);
    if (it == streams.end()) it = streams.emplace(std::string(writer), StreamPlace{}).first;
    return it->second;
  }
  // Whether its place in a stream is held back (StreamPlace::waits_seq).
  bool held(const StreamPlace& p) const { return p.waits_seq != 0 && delivered_in(p.waits_writer) < p.waits_seq; }
  // Where it is in `writer`'s stream, without making a place (0: not there).
  std::uint64_t delivered_in(std::string_view writer) const {
    if (writer.empty()) return delivered;
    auto it = streams.find(writer);
    return it == streams.end() ? 0 : it->second.delivered;
  }
  bool ready() const { return state == SessionState::kReady; }
};

// During a cooldown, HELLOs on one connection are answered at most this often
// (a refused node that retries at once would otherwise make the broker answer
// as fast as it can send).
inline constexpr std::int64_t kCooldownAnswerIntervalMs = 1000;

// Unacknowledged copies a session may hold beyond max_pending_deliveries
// (SessionTable::remember_delivery): what the sockets' queues hold between
// the broker's backlog and the node's reading.
inline constexpr std::size_t kUnackedSlack = 8192;

// The session bound's settings (broker/config.h: max_connections,
// max_sessions_per_node, reserved_sessions).
struct SessionBound {
  std::size_t max_sessions = 1024;  // READY sessions of all nodes
  std::size_t per_node = 8;         // READY sessions of one node
  std::size_t reserved = 64;        // slots only a node holding no session may take
  // The reserve in force: at most a quarter of max_sessions, so that a small
  // broker still admits a second session of a node.
  std::size_t effective_reserve() const { return std::min(reserved, max_sessions / 4); }
};

// What admit_hello() decided for a HELLO.
struct HelloAdmission {
  enum class Verdict {
    kAdmit,          // a free slot
    kReplaceOldest,  // the node is at its bound: `replaced` (its oldest READY session) makes room
    kBusy,           // every slot is taken (BROKER_BUSY)
    kReserved,       // only reserved slots are free and the node already holds a session (BROKER_BUSY)
  };
  Verdict verdict = Verdict::kAdmit;
  Session* replaced = nullptr;
};

class SessionTable {
 public:
  using TrySend = std::function<bool(const std::string& routing_id, const Bytes& frame)>;
  // Called after the table closed a session by itself (SLOW_CONSUMER), so
  // that the owner releases what the session held.
  using OnClosed = std::function<void(Session&)>;

  SessionTable(TrySend try_send, OnClosed on_slow_consumer, std::size_t max_pending_deliveries,
               std::size_t max_pending_bytes, std::shared_ptr<spdlog::logger> log);

  // The session of `routing_id`; nullptr when unknown.
  Session* find(const std::string& routing_id);
  // The session of `routing_id`, made NEW for `node` when unknown, its
  // last_seen_ms set to `now_ms`; nullptr (nothing changed) when the
  // routing id belongs to a session of another node.
  Session* attach(const std::string& routing_id, const std::string& node, std::int64_t now_ms);

  enum class Sent { kSent, kQueued, kClosedSlowConsumer };
  // Sends `frame`, or queues it behind the session's backlog. May close the
  // session SLOW_CONSUMER (then the frame is dropped with the backlog).
  Sent send(Session& s, Bytes frame);
  // Remembers that `s` was sent the copy of `seq` in `writer`'s stream
  // (empty: this broker's) whose hash is `hash`, for its ACK. Bounded: beyond max_pending_deliveries + kUnackedSlack
  // copies the oldest is forgotten (an ACK naming it later fails; a node that follows the protocol acknowledges long
  // before: at most 64 copies after it took them, and the pipes between hold far fewer).
  // `report_id`: the copy's, 16 raw bytes (empty: an ACK's entry may name any).
  void remember_delivery(Session& s, std::string_view writer, std::uint64_t seq, const crypto::Digest& hash,
                         std::string_view report_id = {}) const;
  // Sends what the backlogs hold, in order, while the pipes take it.
  void flush();
  bool any_backlog() const;

  // Drops the backlog and closes the session (the caller sends the ERROR).
  static void close(Session& s);
  // Counts a request's outcome: OK resets the failure run; a failure whose
  // code counts (wire::counts_toward_failure_limit) extends it. True when
  // the run reached `max_failures` on a READY session: the caller closes it
  // TOO_MANY_FAILURES.
  static bool count_outcome(Session& s, const Status& outcome, int max_failures);
  // Whether a HELLO refused for a cooldown is answered now (at most once per
  // kCooldownAnswerIntervalMs per session); records the answer when so.
  static bool may_answer_cooldown(Session& s, std::int64_t now_ms);

  // Whether a HELLO on `s` (not READY) may make it READY under `bound`
  // (the rule in the header comment). Changes nothing.
  HelloAdmission admit_hello(const Session& s, const SessionBound& bound);
  // Makes `s` READY, the newest of its node's sessions.
  void mark_ready(Session& s);
  // Removes the session of `routing_id` (BYE, replaced, its connection
  // dropped); false when unknown. References to it become invalid.
  bool forget(const std::string& routing_id);

  std::size_t ready_count() const;
  std::size_t ready_count_of(const std::string& node) const;
  std::size_t size() const { return sessions_.size(); }
  // Removes and returns the sessions not heard from for longer than
  // `timeout_ms`.
  std::vector<Session> take_timed_out(std::int64_t now_ms, std::int64_t timeout_ms);

  using Map = std::map<std::string, Session>;
  Map::iterator begin() { return sessions_.begin(); }
  Map::iterator end() { return sessions_.end(); }
  Map::const_iterator begin() const { return sessions_.begin(); }
  Map::const_iterator end() const { return sessions_.end(); }

 private:
  TrySend try_send_;
  OnClosed on_slow_consumer_;
  const std::size_t max_pending_deliveries_;
  const std::size_t max_pending_bytes_;
  std::shared_ptr<spdlog::logger> log_;
  Map sessions_;
  std::uint64_t next_ready_serial_ = 1;
};

}  // namespace tearline::broker
