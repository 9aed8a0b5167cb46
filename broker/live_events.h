// LiveEvents: the broker's routing decisions as they happen, for whoever
// watches the endpoint's event stream (GET /events, docs/observability.md,
// "The live event stream"). Metadata only: report ids, topics, labels,
// node ids, codes; never a section's body, a key or a key wrap.
//
// A bounded ring of the last kCapacity events, numbered from 1 without a
// gap; a reader asks for the events after the last id it saw (a new reader:
// after 0, so it gets the ring's history) and waits for the next ones.
// Each event is one JSON object (the type's fields below) under an SSE
// event type:
//   report    {"seq","report","topic","originator","sections":[label...]}
//             label: {"classification","releasable_to":[...],"units":[...],"orcon"};
//             null for a section torn off upstream (its label never reached us)
//   delivery  {"seq","report","node","delivered":[n...],"withheld":[{"section","codes":[...]}]}
//   rejected  {"report","node","codes":[...]}     (a PUBLISH refused; report "" when unknown)
//   session   {"node","state":"ready"|"closed","reason"}  (reason: "" for ready;
//             a closing code's name, "timeout", or "gone": BYE or disconnect)
//   reload    {"generation","ended":[node...]}  (nodes valid before it and not after:
//             revoked, or gone from the directory)
//
// Threads: add() on the broker's I/O thread; after() on the endpoint's
// workers; close() from the owner at stop (it wakes every reader).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "policy/delivery.h"
#include "policy/label.h"

namespace tearline::broker {

class LiveEvents {
 public:
  static constexpr std::size_t kCapacity = 4096;

  struct Event {
    std::uint64_t id = 0;
    std::string type;  // report, delivery, rejected, session, reload
    std::string data;  // one JSON object, one line
  };

  // `labels`: one per section, null for one torn off upstream.
  void report(std::uint64_t seq, std::string_view report_hex, std::string_view topic, std::string_view originator,
              const std::vector<const policy::Label*>& labels);
  // `d` for the sections the node was judged on (section numbers 1-based).
  void delivery(std::uint64_t seq, std::string_view report_hex, std::string_view node,
                const policy::DeliveryDecision& d);
  void rejected(std::string_view report_hex, std::string_view node, const Status& why);
  void session(std::string_view node, bool ready, std::string_view reason = {});
  void reload(std::uint64_t generation, const std::vector<std::string>& ended = {});

  // The events with id > `after`, at most `max`, waiting up to `wait_ms` for
  // one when there is none yet; empty after the wait, or once closed.
  // Events that left the ring are gone: the first returned may be above
  // after + 1. An `after` this run never reached (the reader saw a broker
  // that has restarted since) is read as 0.
  std::vector<Event> after(std::uint64_t after, std::size_t max, int wait_ms);
  void close();
  bool closed() const;
  // This run's mark (its start, unix ms): an SSE id is "EPOCH-ID", so that
  // a reader of an earlier run is told apart.
  std::int64_t epoch() const { return epoch_; }

 private:
  void add(std::string_view type, std::string data);

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Event> ring_;
  std::uint64_t next_id_ = 1;
  int waiting_ = 0;  // readers in after(): add() wakes only when there are some
  const std::int64_t epoch_ =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  bool closed_ = false;
};

// `text` as a JSON string, quotes included (control characters escaped).
std::string json_quote(std::string_view text);

}  // namespace tearline::broker
