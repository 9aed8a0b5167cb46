#include "broker/live_events.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <utility>

#include "identity/objects.h"

namespace tearline::broker {

std::string json_quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(static_cast<unsigned char>(c)));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

namespace {

std::string strings(const std::vector<std::string>& list) {
  std::string out = "[";
  for (std::size_t i = 0; i < list.size(); ++i) out += (i == 0 ? "" : ",") + json_quote(list[i]);
  return out + "]";
}

std::string codes(const Status& why) {
  std::vector<std::string> names;
  names.reserve(why.reasons().size());
  for (const auto& r : why.reasons()) {
    std::string name(code_name(r.code));
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(std::move(name));
  }
  return strings(names);
}

}  // namespace

void LiveEvents::add(std::string_view type, std::string data) {
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    ring_.push_back(Event{next_id_++, std::string(type), std::move(data)});
    if (ring_.size() > kCapacity) ring_.pop_front();
    wake = waiting_ > 0;
  }
  if (wake) cv_.notify_all();
}

void LiveEvents::report(std::uint64_t seq, std::string_view report_hex, std::string_view topic,
                        std::string_view originator, const std::vector<const policy::Label*>& labels) {
  std::string sections = "[";
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] == nullptr) {  // torn off upstream: only its commitment is here
      sections += i == 0 ? "null" : ",null";
      continue;
    }
    const policy::Label& l = *labels[i];
    fmt::format_to(std::back_inserter(sections),
                   "{}{{\"classification\":{},\"releasable_to\":{},\"units\":{},\"orcon\":{}}}", i == 0 ? "" : ",",
                   json_quote(identity::classification_name(l.classification)), strings(l.releasable_to),
                   strings(l.units), l.orcon ? "true" : "false");
  }
  sections += "]";
  add("report", fmt::format(R"({{"seq":{},"report":{},"topic":{},"originator":{},"sections":{}}})", seq,
                            json_quote(report_hex), json_quote(topic), json_quote(originator), sections));
}

void LiveEvents::delivery(std::uint64_t seq, std::string_view report_hex, std::string_view node,
                          const policy::DeliveryDecision& d) {
  std::string delivered = "[", withheld = "[";
  for (std::size_t i = 0; i < d.sections.size(); ++i) {
    if (d.sections[i].allowed()) {
      fmt::format_to(std::back_inserter(delivered), "{}{}", delivered.size() == 1 ? "" : ",", i + 1);
    } else {
      fmt::format_to(std::back_inserter(withheld), "{}{{\"section\":{},\"codes\":{}}}", withheld.size() == 1 ? "" : ",",
                     i + 1, codes(d.sections[i].denials));
    }
  }
  add("delivery", fmt::format(R"({{"seq":{},"report":{},"node":{},"delivered":{}],"withheld":{}]}})", seq,
                              json_quote(report_hex), json_quote(node), delivered, withheld));
}

void LiveEvents::rejected(std::string_view report_hex, std::string_view node, const Status& why) {
  add("rejected",
      fmt::format(R"({{"report":{},"node":{},"codes":{}}})", json_quote(report_hex), json_quote(node), codes(why)));
}

void LiveEvents::session(std::string_view node, bool ready, std::string_view reason) {
  add("session", fmt::format(R"({{"node":{},"state":"{}","reason":{}}})", json_quote(node), ready ? "ready" : "closed",
                             json_quote(reason)));
}

void LiveEvents::reload(std::uint64_t generation, const std::vector<std::string>& ended) {
  add("reload", fmt::format(R"({{"generation":{},"ended":{}}})", generation, strings(ended)));
}

std::vector<LiveEvents::Event> LiveEvents::after(std::uint64_t after, std::size_t max, int wait_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  // An id this run never gave (a reader of a broker that restarted): a new reader.
  if (after >= next_id_) after = 0;
  ++waiting_;
  cv_.wait_for(lock, std::chrono::milliseconds(wait_ms),
               [&] { return closed_ || (!ring_.empty() && ring_.back().id > after); });
  --waiting_;
  std::vector<Event> out;
  if (closed_ || ring_.empty()) return out;
  // Ids have no gap: the first one wanted is found by its offset.
  const std::uint64_t first = ring_.front().id;
  for (std::size_t i = after < first ? 0 : static_cast<std::size_t>(after + 1 - first);
       i < ring_.size() && out.size() < max; ++i) {
    out.push_back(ring_[i]);
  }
  return out;
}

void LiveEvents::close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

bool LiveEvents::closed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return closed_;
}

}  // namespace tearline::broker
