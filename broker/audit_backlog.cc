#include "broker/audit_backlog.h"

#include <algorithm>
#include <utility>

#include "base/time_format.h"

namespace tearline::broker {

namespace {

// "STORAGE_FULL" of "STORAGE_FULL: the store is full; ..." (Status::to_string).
std::string leading_code(const std::string& detail) {
  const auto colon = detail.find(':');
  return colon == std::string::npos ? detail : detail.substr(0, colon);
}

}  // namespace

void AuditBacklog::count(Key key, std::int64_t first_ms, std::int64_t last_ms, std::uint64_t n) {
  auto [it, fresh] = tallies_.try_emplace(std::move(key), Tally{n, first_ms, last_ms});
  if (fresh) return;
  it->second.count += n;
  it->second.first_ms = std::min(it->second.first_ms, first_ms);
  it->second.last_ms = std::max(it->second.last_ms, last_ms);
}

void AuditBacklog::keep(AuditEvent e) {
  if (is_refusal(e)) {
    count(Key{e.event, e.node, e.decision, leading_code(e.detail)}, e.time_ms, e.time_ms, 1);
  } else if (held_.size() < kMaxHeld) {
    held_.push_back(std::move(e));
  } else {
    count(Key{e.event, e.node, e.decision, ""}, e.time_ms, e.time_ms, 1);
  }
}

std::uint64_t AuditBacklog::refusals(const std::string& node, const std::string& code) const {
  auto it = tallies_.find(Key{"publish", node, "rejected", code});
  return it == tallies_.end() ? 0 : it->second.count;
}

AuditBacklog::Taken AuditBacklog::take() {
  Taken t;
  t.held = std::exchange(held_, {});
  t.tallies = std::exchange(tallies_, {});
  return t;
}

void AuditBacklog::put_back(Taken taken) {
  std::vector<AuditEvent> since = std::exchange(held_, std::move(taken.held));
  for (auto& e : since) keep(std::move(e));
  for (auto& [key, t] : taken.tallies) count(key, t.first_ms, t.last_ms, t.count);
}

std::vector<AuditEvent> AuditBacklog::entries(const Taken& taken) {
  std::vector<AuditEvent> out;
  out.reserve(taken.held.size() + taken.tallies.size());
  for (const auto& e : taken.held) out.push_back(e);
  for (const auto& [key, t] : taken.tallies) {
    const auto& [event, node, decision, code] = key;
    const std::string span = " between " + format_utc_ms(t.first_ms) + " and " + format_utc_ms(t.last_ms);
    std::string detail = code.empty() ? std::to_string(t.count) + " x " + event + " " + decision + span +
                                            " (not recorded one by one: the store could not write)"
                                      : std::to_string(t.count) + " x " + code + span +
                                            " (one entry for them: the store could not write)";
    out.push_back(AuditEvent{t.last_ms, event, node, "", decision, std::move(detail)});
  }
  return out;
}

}  // namespace tearline::broker
