#include "audit/chain_heads.h"

#include <algorithm>
#include <charconv>

#include "base/bytes.h"

namespace tearline::audit {
namespace {

constexpr std::string_view kSeparator = "; ";

std::optional<ChainHead> parse_one(std::string_view item) {
  const auto first = item.find(' ');
  if (first == std::string_view::npos || first == 0) return std::nullopt;
  const auto second = item.find(' ', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  ChainHead head;
  head.writer = std::string(item.substr(0, first));
  const std::string_view index = item.substr(first + 1, second - first - 1);
  const auto [end, ec] = std::from_chars(index.data(), index.data() + index.size(), head.index);
  if (ec != std::errc() || end != index.data() + index.size() || head.index == 0) return std::nullopt;
  Bytes raw;
  if (!from_hex(item.substr(second + 1), &raw) || raw.size() != head.hash.size()) return std::nullopt;
  std::copy(raw.begin(), raw.end(), head.hash.begin());
  return head;
}

}  // namespace

bool is_heads_entry(const AuditEntry& entry) { return entry.event == kHeadsEvent && entry.decision == kHeadsDecision; }

std::string heads_detail(std::vector<ChainHead> heads) {
  std::sort(heads.begin(), heads.end(), [](const ChainHead& a, const ChainHead& b) { return a.writer < b.writer; });
  std::string out;
  for (const auto& h : heads) {
    if (!out.empty()) out += kSeparator;
    out += h.writer + " " + std::to_string(h.index) + " " + to_hex(ByteView(h.hash.data(), h.hash.size()));
  }
  return out;
}

std::optional<std::vector<ChainHead>> parse_heads_detail(std::string_view detail) {
  std::vector<ChainHead> out;
  while (!detail.empty()) {
    const auto end = detail.find(kSeparator);
    auto head = parse_one(detail.substr(0, end));
    if (!head) return std::nullopt;
    out.push_back(std::move(*head));
    if (end == std::string_view::npos) break;
    detail.remove_prefix(end + kSeparator.size());
    if (detail.empty()) return std::nullopt;  // a trailing separator
  }
  if (out.empty()) return std::nullopt;
  return out;
}

HeadsResult verify_heads(const std::map<std::string, ChainRead>& chains) {
  HeadsResult r;
  auto fail = [&](Tamper t, const std::string& writer, std::uint64_t at, std::string message) {
    r.tamper = t;
    r.writer = writer;
    r.at_index = at;
    r.message = std::move(message);
    return r;
  };
  for (const auto& [by, chain] : chains) {
    for (const AuditEntry& e : *chain.entries) {
      if (e.index > chain.protected_up_to) break;
      if (!is_heads_entry(e)) continue;
      const std::string where = by + "'s entry " + std::to_string(e.index);
      auto named = parse_heads_detail(e.detail);
      if (!named) return fail(Tamper::kModified, by, e.index, where + " is a heads entry whose detail does not parse");
      ++r.heads_entries;
      for (const ChainHead& head : *named) {
        auto it = chains.find(head.writer);
        if (it == chains.end()) {
          return fail(Tamper::kDeleted, head.writer, 1,
                      "the store holds no audit log of " + head.writer + ", yet " + where +
                          " (signed) saw it reach entry " + std::to_string(head.index));
        }
        const auto& entries = *it->second.entries;
        const std::uint64_t last = entries.empty() ? 0 : entries.back().index;
        if (last < head.index) {
          return fail(Tamper::kDeleted, head.writer, last + 1,
                      head.writer + "'s log ends at entry " + std::to_string(last) + ", yet " + where +
                          " (signed) saw it reach entry " + std::to_string(head.index) + ": entries " +
                          std::to_string(last + 1) + ".." + std::to_string(head.index) + " were deleted");
        }
        // Each chain verified on its own: indexes are 1.. consecutive.
        const AuditEntry& there = entries[head.index - 1];
        if (there.index != head.index || there.hash != head.hash) {
          return fail(Tamper::kModified, head.writer, head.index,
                      head.writer + "'s entry " + std::to_string(head.index) + " is not the one " + where +
                          " (signed) saw there");
        }
        auto& covered = r.covered_up_to[head.writer];
        covered = std::max(covered, head.index);
      }
    }
  }
  return r;
}

}  // namespace tearline::audit
