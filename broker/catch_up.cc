#include "broker/catch_up.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "base/time_format.h"
#include "wire/frame.h"

namespace tearline::broker {

CatchUp::CatchUp(Store& store, Router& router, SessionTable& sessions, const Limits& limits,
                 std::shared_ptr<spdlog::logger> log, LateReceipt late_receipt, CatchUpChecks checks)
    : store_(store),
      router_(router),
      sessions_(sessions),
      max_pending_deliveries_(limits.max_pending_deliveries),
      max_pending_bytes_(limits.max_pending_bytes),
      log_(log ? std::move(log) : spdlog::default_logger()),
      late_receipt_(std::move(late_receipt)),
      checks_(std::move(checks)) {}

bool CatchUp::behind_in(std::string_view writer, std::uint64_t head) const {
  return std::any_of(sessions_.begin(), sessions_.end(), [&](const auto& kv) {
    const Session& s = kv.second;
    if (!s.ready() || s.delivered_in(writer) >= head) return false;
    if (writer.empty()) return !s.held(s);
    auto place = s.streams.find(writer);
    return place == s.streams.end() || !s.held(place->second);  // no place yet: from its start
  });
}

namespace {

// A stored row parsed and re-checked once per read, with the nodes its topic
// matches.
struct ParsedRow {
  // The verified report; for a damaged row, its header only when that still
  // parses (to route the GAP), else nullopt.
  std::optional<report::VerifiedReport> report;
  std::vector<std::string> matched;
  Status standing;          // the revocation rule (Router::standing); not OK: withheld from all
  Status damaged;           // not OK: the row failed its re-check (a GAP instead)
  bool superseded = false;  // `damaged` is a signature under a key the originator held before (not damage)
  Bytes late_receipt;       // signed now for a row stored without a receipt
};

// The header of stored bytes that do not verify, when it still parses.
std::optional<report::VerifiedReport> header_only(ByteView bytes) {
  tearline::v1::Report r;
  report::VerifiedReport out;
  if (!r.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return std::nullopt;
  if (!out.header.ParseFromString(r.header()) || out.header.topic().empty()) return std::nullopt;
  return out;
}

Status gap_status(const std::string& writer, std::uint64_t seq, const ParsedRow& p) {
  const std::string which = writer.empty() ? std::to_string(seq) : std::to_string(seq) + " of " + writer + "'s stream";
  if (p.superseded) {
    return Status::fail(Code::ORIGINATOR_INVALID, "stored report " + which + " cannot be verified: " +
                                                      p.damaged.reasons().front().message + "; it cannot be delivered");
  }
  return Status::fail(Code::STORAGE_DAMAGED, "stored report " + which + " failed the broker's re-check: " +
                                                 p.damaged.to_string() + "; it cannot be delivered");
}

// A signature that fails on a row accepted before the originator's current
// credential became valid was made with the key that credential replaced
// (`tearline certs issue --replace`): the directory holds one credential per
// node, so that key is gone and the report cannot be verified by anyone. It
// is not evidence of damage (nor can damage to it be told apart).
std::optional<Status> signed_with_replaced_key(const Status& failed, const std::string& originator,
                                               const identity::Directory& directory, std::int64_t accepted_ms) {
  if (!failed.has(Code::REPORT_SIGNATURE)) return std::nullopt;
  const identity::Credential* now = directory.node(originator);
  if (now == nullptr || now->not_before * 1000 <= accepted_ms) return std::nullopt;
  return Status::fail(Code::ORIGINATOR_INVALID,
                      "it was accepted at " + format_utc_ms(accepted_ms) + ", before " + now->node_id +
                          "'s current credential (serial " + std::to_string(now->serial) + ") became valid at " +
                          format_utc_seconds(now->not_before) +
                          ", and its signature does not verify under that credential's key: it was signed with "
                          "the key that credential replaced, which the directory no longer holds");
}

ByteView receipt_of(const StoredReport& row, const ParsedRow& p) {
  return row.receipt.empty() ? ByteView(p.late_receipt) : ByteView(row.receipt);
}

}  // namespace

void CatchUp::report_unverifiable(const std::string& writer, std::uint64_t seq, const std::string& report_hex,
                                  const std::string& originator, const Status& why) {
  if (!unverifiable_.emplace(writer, seq).second) return;
  log_->warn("event=stored_report_unverifiable seq={} report={} originator={} reason=\"{}\"{}", seq, report_hex,
             originator, why.to_string(), writer.empty() ? "" : " writer=" + writer);
  if (checks_.audit) {
    checks_.audit("withheld", originator, report_hex, "withheld", place_label(writer, seq) + ": " + why.to_string());
  }
}

void CatchUp::report_damaged(const std::string& writer, std::uint64_t seq, const std::string& report_hex,
                             const Status& why) {
  if (!reported_.emplace(writer, seq).second) return;
  log_->error("event=stored_record_damaged seq={} report={} reason=\"{}\"{}", seq, report_hex, why.to_string(),
              writer.empty() ? "" : " writer=" + writer);
  if (checks_.audit) {
    checks_.audit("storage", "", report_hex == "unreadable" ? "" : report_hex, "damaged",
                  place_label(writer, seq) + ": " + why.to_string());
  }
  if (checks_.damaged != nullptr) ++*checks_.damaged;
}

std::size_t CatchUp::run_stream(const std::string& writer, std::uint64_t head, const TrustSnapshot& trust,
                                std::int64_t now_s) {
  struct Waiting {
    Session* s;
    StreamPlace* place;  // the session's place in this stream
    std::size_t limit;   // reports this round
  };
  std::vector<Waiting> waiting;
  for (auto& [id, s] : sessions_) {
    if (!s.ready() || s.delivered_in(writer) >= head || s.backlog.size() > kCatchUpBacklogLimit ||
        s.backlog_bytes > max_pending_bytes_ / 4) {
      continue;
    }
    StreamPlace& place = s.place(writer);
    if (s.held(place)) continue;
    place.waits_seq = 0;
    const std::size_t room =
        max_pending_deliveries_ > s.backlog.size() ? max_pending_deliveries_ - s.backlog.size() : 0;
    if (room == 0) continue;
    waiting.push_back(Waiting{&s, &place, std::min(kCatchUpBatch, room)});
  }

  std::size_t sent = 0;
  while (!waiting.empty()) {
    std::uint64_t from = waiting.front().place->delivered;
    for (const auto& w : waiting) from = std::min(from, w.place->delivered);
    ++reads_;
    auto rows =
        writer.empty() ? store_.read_after(from, kCatchUpBatch) : store_.read_stream(writer, from, kCatchUpBatch);
    if (!rows) {
      if (failing_.insert(writer).second) {  // once per run of failures
        log_->error("event=catch_up_failed sessions={} reason=\"{}\"{}", waiting.size(), rows.status().to_string(),
                    writer.empty() ? "" : " writer=" + writer);
      }
      return sent;
    }
    if (failing_.erase(writer) > 0) {
      log_->info("event=catch_up_resumed{}", writer.empty() ? "" : " writer=" + writer);
    }
    // A short batch holds every stored row after `from`.
    const bool complete = rows->size() < kCatchUpBatch;
    const std::uint64_t last = rows->empty() ? from : rows->back().seq;
    std::vector<std::optional<ParsedRow>> parsed(rows->size());
    // Parses and re-checks a row, routes nothing.
    auto recheck = [&](const StoredReport& row, const TrustSnapshot& snapshot) {
      ParsedRow p;
      report::VerifyOptions options;
      options.roots = checks_.roots;
      options.accepted_ms = row.accepted_ms;
      auto r = report::parse_report_structure(row.bytes, options);
      if (!r) {
        p.damaged = r.status();
      } else {
        p.report = std::move(r).value();
        Routable probe{row.seq, &*p.report, row.source.country, &row.bytes, {}, row.accepted_ms, writer};
        probe.path = ByteView(row.path);  // a crossed report is judged at its earliest acceptance, as live
        p.standing = Router::standing(snapshot, probe);
        if (!p.standing) {
          // Withheld for its originator's standing, unless its signature
          // fails too: then it is damaged, and reported as such below.
          Status sig = report::verify_signature_only(*p.report, *snapshot.directory, options.roots);
          if (sig.is_ok() || !sig.has(Code::REPORT_SIGNATURE)) {
            router_.withhold_from_all(probe, p.standing);  // once per read of the row
            return p;
          }
          p.damaged = sig;
        } else {
          // The signature, as at ingress minus its clock checks (the
          // revocation rule above is verify_parsed's own, so it passes).
          report::VerifiedReport header;
          header.header = p.report->header;
          auto v = report::verify_parsed(std::move(*p.report), *snapshot.directory, options);
          if (v) {
            p.report = std::move(v).value();
          } else {
            p.damaged = v.status();
            if (auto why = signed_with_replaced_key(p.damaged, header.header.originator(), *snapshot.directory,
                                                    row.accepted_ms)) {
              p.damaged = *why;
              p.superseded = true;
            }
            p.report = std::move(header);
          }
        }
      }
      if (p.superseded) {
        report_unverifiable(writer, row.seq, p.report->report_id_hex(), p.report->header.originator(), p.damaged);
        p.matched = router_.subscribers(Routable{row.seq, &*p.report, row.source.country, &row.bytes});
        return p;
      }
      if (!p.damaged.is_ok()) {
        if (!p.report) p.report = header_only(row.bytes);
        report_damaged(writer, row.seq, p.report ? p.report->report_id_hex() : "unreadable", p.damaged);
        if (p.report) p.matched = router_.subscribers(Routable{row.seq, &*p.report, row.source.country, &row.bytes});
        return p;
      }
      // Late receipts are this broker's to sign, for its own stream only.
      if (row.receipt.empty() && late_receipt_ && writer.empty())
        p.late_receipt = late_receipt_(row.seq, *p.report, row.accepted_ms);
      p.matched = router_.subscribers(
          Routable{row.seq, &*p.report, row.source.country, &row.bytes, receipt_of(row, p), row.accepted_ms});
      return p;
    };
    auto parsed_row = [&](std::size_t i) -> const ParsedRow& {
      if (!parsed[i]) parsed[i] = recheck((*rows)[i], trust);
      return *parsed[i];
    };

    std::vector<Waiting> later;
    for (const auto& w : waiting) {
      Session& s = *w.s;
      StreamPlace& place = *w.place;
      if (!complete && place.delivered >= last) {  // beyond this batch: the next read
        later.push_back(w);
        continue;
      }
      auto it = std::upper_bound(rows->begin(), rows->end(), place.delivered,
                                 [](std::uint64_t seq, const StoredReport& row) { return seq < row.seq; });
      if (it == rows->end()) {
        place.delivered = head;  // retention removed what was left
        continue;
      }
      for (std::size_t n = 0; it != rows->end() && n < w.limit; ++it, ++n) {
        if (it->seq > head) break;
        const ParsedRow& p = parsed_row(static_cast<std::size_t>(it - rows->begin()));
        if (!p.damaged.is_ok()) {
          place.delivered = it->seq;
          // A partner's broker is told of no damaged row: its reasons name
          // originators and topics the peering may not carry.
          if (trust.is_partner_node(s.node_id)) continue;
          if (!p.report ||
              Router::wants(s, Routable{it->seq, &*p.report, it->source.country, &it->bytes, {}, 0, writer},
                            p.matched)) {
            sessions_.send(s, wire::encode_frame(wire::make_gap(it->seq, gap_status(writer, it->seq, p), writer)));
            if (!s.ready()) break;
          }
          continue;
        }
        if (!p.report || !p.standing) {
          place.delivered = it->seq;
          continue;
        }
        // Rows before this one that are not stored (retention deleted
        // them) are passed: a prev among them is passed with them.
        if (it->seq > place.delivered + 1) place.delivered = it->seq - 1;
        Routable r{it->seq, &*p.report, it->source.country, &it->bytes, receipt_of(*it, p), it->accepted_ms, writer};
        r.path = ByteView(it->path);
        if (it->prev) {
          r.prev_writer = it->prev->writer == own_writer_ ? std::string_view() : std::string_view(it->prev->writer);
          r.prev_seq = it->prev->seq;
        }
        if (!Router::passed_prev(s, r)) {  // held here until the other stream gets there
          place.waits_writer = std::string(r.prev_writer);
          place.waits_seq = r.prev_seq;
          break;
        }
        sent += router_.route_to(s, r, p.matched, trust, now_s) ? 1 : 0;
        if (!s.ready() || s.backlog_bytes > max_pending_bytes_ / 4) break;
      }
    }
    waiting = std::move(later);
  }
  return sent;
}

}  // namespace tearline::broker
