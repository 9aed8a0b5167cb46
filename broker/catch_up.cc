#include "broker/catch_up.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <vector>

namespace tearline::broker {

CatchUp::CatchUp(Store& store, Router& router, SessionTable& sessions, const Limits& limits,
                 std::shared_ptr<spdlog::logger> log, LateReceipt late_receipt)
    : store_(store),
      router_(router),
      sessions_(sessions),
      max_pending_deliveries_(limits.max_pending_deliveries),
      max_pending_bytes_(limits.max_pending_bytes),
      log_(log ? std::move(log) : spdlog::default_logger()),
      late_receipt_(std::move(late_receipt)) {}

bool CatchUp::behind(std::uint64_t head) const {
  return std::any_of(sessions_.begin(), sessions_.end(),
                     [&](const auto& kv) { return kv.second.ready() && kv.second.delivered < head; });
}

namespace {

// A stored row parsed once per read, with the nodes its topic matches.
struct ParsedRow {
  std::optional<report::VerifiedReport> report;  // nullopt: does not parse
  std::vector<std::string> matched;
  Status standing;     // the revocation rule (Router::standing); not OK: withheld from all
  Bytes late_receipt;  // signed now for a row stored without a receipt
};

ByteView receipt_of(const StoredReport& row, const ParsedRow& p) {
  return row.receipt.empty() ? ByteView(p.late_receipt) : ByteView(row.receipt);
}

}  // namespace

std::size_t CatchUp::run(std::uint64_t head, const TrustSnapshot& trust, std::int64_t now_s) {
  struct Waiting {
    Session* s;
    std::size_t limit;  // reports this round
  };
  std::vector<Waiting> waiting;
  for (auto& [id, s] : sessions_) {
    if (!s.ready() || s.delivered >= head || s.backlog.size() > kCatchUpBacklogLimit ||
        s.backlog_bytes > max_pending_bytes_ / 4) {
      continue;
    }
    const std::size_t room =
        max_pending_deliveries_ > s.backlog.size() ? max_pending_deliveries_ - s.backlog.size() : 0;
    if (room == 0) continue;
    waiting.push_back(Waiting{&s, std::min(kCatchUpBatch, room)});
  }

  std::size_t sent = 0;
  while (!waiting.empty()) {
    std::uint64_t from = waiting.front().s->delivered;
    for (const auto& w : waiting) from = std::min(from, w.s->delivered);
    ++reads_;
    auto rows = store_.read_after(from, kCatchUpBatch);
    if (!rows) {
      for (const auto& w : waiting) {
        log_->error("event=catch_up_failed node={} reason=\"{}\"", w.s->node_id, rows.status().to_string());
      }
      return sent;
    }
    // A short batch holds every stored row after `from`.
    const bool complete = rows->size() < kCatchUpBatch;
    const std::uint64_t last = rows->empty() ? from : rows->back().seq;
    std::vector<std::optional<ParsedRow>> parsed(rows->size());
    auto parsed_row = [&](std::size_t i) -> const ParsedRow& {
      if (!parsed[i]) {
        ParsedRow p;
        auto r = report::parse_report_structure((*rows)[i].bytes);
        if (r) {
          p.report = std::move(r).value();
          const StoredReport& row = (*rows)[i];
          if (row.receipt.empty() && late_receipt_) p.late_receipt = late_receipt_(row.seq, *p.report, row.accepted_ms);
          Routable probe{row.seq, &*p.report, row.source.country, &row.bytes, receipt_of(row, p), row.accepted_ms};
          p.standing = Router::standing(trust, probe);
          if (p.standing) {
            p.matched = router_.subscribers(probe);
          } else {
            router_.withhold_from_all(probe, p.standing);  // once per read of the row
          }
        }
        parsed[i] = std::move(p);
      }
      return *parsed[i];
    };

    std::vector<Waiting> later;
    for (const auto& w : waiting) {
      Session& s = *w.s;
      if (!complete && s.delivered >= last) {  // beyond this batch: the next read
        later.push_back(w);
        continue;
      }
      auto it = std::upper_bound(rows->begin(), rows->end(), s.delivered,
                                 [](std::uint64_t seq, const StoredReport& row) { return seq < row.seq; });
      if (it == rows->end()) {
        s.delivered = head;  // retention removed what was left
        continue;
      }
      for (std::size_t n = 0; it != rows->end() && n < w.limit; ++it, ++n) {
        if (it->seq > head) break;
        const ParsedRow& p = parsed_row(static_cast<std::size_t>(it - rows->begin()));
        if (!p.report || !p.standing) {
          s.delivered = it->seq;
          continue;
        }
        Routable r{it->seq, &*p.report, it->source.country, &it->bytes, receipt_of(*it, p), it->accepted_ms};
        sent += router_.route_to(s, r, p.matched, trust, now_s) ? 1 : 0;
        if (!s.ready() || s.backlog_bytes > max_pending_bytes_ / 4) break;
      }
    }
    waiting = std::move(later);
  }
  return sent;
}

}  // namespace tearline::broker
