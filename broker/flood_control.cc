#include "broker/flood_control.h"

#include <algorithm>

namespace tearline::broker {

FloodControl::Answer FloodControl::admit(const std::string& node, std::int64_t now_ms) {
  Node& n = nodes_[node];
  if (n.tokens < 0) {
    n.tokens = limits_.publish_burst;
    n.refilled_ms = now_ms;
  }
  if (now_ms > n.refilled_ms) {  // (refilled_ms may lie ahead: the end of a cooldown)
    n.tokens = std::min(limits_.publish_burst,
                        n.tokens + static_cast<double>(now_ms - n.refilled_ms) * limits_.publish_rate / 1000.0);
    n.refilled_ms = now_ms;
  }
  if (n.tokens < 1) {
    return {
        Verdict::kRateLimited,
        Status::fail(Code::RATE_LIMITED, node + " exceeds " + std::to_string(static_cast<int>(limits_.publish_rate)) +
                                             " PUBLISH per second; slow down")};
  }
  if (n.inflight >= limits_.max_inflight_per_node) {
    return {Verdict::kBusy, Status::fail(Code::BROKER_BUSY, node + " already has " + std::to_string(n.inflight) +
                                                                " reports being verified")};
  }
  n.tokens -= 1;
  return {};
}

void FloodControl::started(const std::string& node) { ++nodes_[node].inflight; }

void FloodControl::finished(const std::string& node) {
  Node& n = nodes_[node];
  if (n.inflight > 0) --n.inflight;
}

std::size_t FloodControl::inflight(const std::string& node) const {
  auto it = nodes_.find(node);
  return it == nodes_.end() ? 0 : it->second.inflight;
}

Status FloodControl::rate_limited(const std::string& node, bool session_ready, std::int64_t now_ms,
                                  std::size_t* refused) {
  Node& n = nodes_[node];
  if (now_ms - n.limited_since_ms >= 1000) {
    n.limited_since_ms = now_ms;
    n.limited = 0;
  }
  ++n.limited;
  if (refused != nullptr) *refused = n.limited;
  if (n.limited <= limits_.max_rate_limited || limits_.max_rate_limited == 0 || !session_ready) return Status::ok();
  n.cooldown_until_ms = now_ms + limits_.failure_cooldown_ms;
  // No burst credit on return: the bucket refills from the end of the
  // cooldown.
  n.tokens = 0;
  n.refilled_ms = n.cooldown_until_ms;
  return Status::fail(Code::TOO_MANY_FAILURES,
                      "more than " + std::to_string(limits_.max_rate_limited) +
                          " PUBLISH refused RATE_LIMITED within one second; session closed, HELLO refused for " +
                          std::to_string(limits_.failure_cooldown_ms) + " ms");
}

void FloodControl::start_cooldown(const std::string& node, std::int64_t now_ms) {
  nodes_[node].cooldown_until_ms = now_ms + limits_.failure_cooldown_ms;
}

Status FloodControl::hello_refusal(const std::string& node, std::int64_t now_ms) const {
  auto it = nodes_.find(node);
  if (it == nodes_.end()) return Status::ok();
  const std::int64_t left = it->second.cooldown_until_ms - now_ms;
  if (left <= 0) return Status::ok();
  return Status::fail(Code::TOO_MANY_FAILURES,
                      node + " failed too often; HELLO is refused for " + std::to_string(left) + " ms more");
}

}  // namespace tearline::broker
