// `tearline audit verify|show|receipts`: reads a broker's audit log
// (read-only) from its database file. verify checks the hash chain and the
// signed checkpoints and names the first modified, inserted, deleted or
// reordered entry; with --pki it also verifies every delivery receipt the
// log keeps. receipts lists the delivery receipts that name one report.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <iostream>
#include <string>

#include "audit/audit.h"
#include "audit/audit_db.h"
#include "base/clock.h"
#include "base/files.h"
#include "base/time_format.h"
#include "cli/certs/audit_receipts.h"
#include "cli/common/commands.h"
#include "cli/common/print.h"
#include "tearline/v1/cli.pb.h"

namespace tearline::cli {
namespace {

crypto::VerifyKey audit_key_or_exit(const std::string& key_hex, const std::string& pki) {
  std::string hex = key_hex;
  if (hex.empty()) {
    const auto path = std::filesystem::path(pki) / "directory" / "broker-audit.pub";
    auto text = read_file(path, 1024);
    if (!text) throw CommandExit(kExitUsage, "audit: " + text.status().to_string());
    hex = to_string(*text);
    while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r' || hex.back() == ' ')) hex.pop_back();
  }
  Bytes raw;
  if (!from_hex(hex, &raw) || raw.size() != 32) {
    throw CommandExit(kExitUsage, "audit: the broker audit key must be 64 hex characters");
  }
  crypto::VerifyKey key;
  std::copy(raw.begin(), raw.end(), key.bytes.begin());
  return key;
}

identity::DirectoryPtr directory_or_exit(std::string_view command, const std::string& pki) {
  const auto path = std::filesystem::path(pki) / "directory";
  auto dir = identity::Directory::load(path, SystemClock::instance().now_seconds(), nullptr);
  if (!dir)
    throw CommandExit(exit_code_for(dir.status()), one_line(std::string(command) + ": " + dir.status().to_string()));
  return std::move(dir).value();
}

// "valid", or "invalid: CODE message; CODE message".
std::string verification_text(const Status& status) {
  if (status) return "valid";
  std::vector<std::string> reasons;
  reasons.reserve(status.reasons().size());
  for (const Reason& r : status.reasons()) reasons.push_back(std::string(code_name(r.code)) + " " + r.message);
  return one_line("invalid: " + join(reasons, "; "));
}

// Every "receipt" entry of the log verified with the directory of `pki`;
// prints one line per receipt that does not verify and the counts. False
// when any does not.
bool verify_receipts(const std::vector<audit::AuditEntry>& entries, const std::string& pki) {
  const identity::DirectoryPtr dir = directory_or_exit("audit verify", pki);
  std::size_t total = 0, invalid = 0;
  for (const auto& e : entries) {
    if (e.event != kReceiptEvent) continue;
    ++total;
    const ReceiptEntry checked = check_receipt_entry(e, *dir);
    if (checked.verification) continue;
    ++invalid;
    std::printf("RECEIPT_INVALID at entry %llu (node %s): %s\n", static_cast<unsigned long long>(e.index),
                printable(e.node).c_str(), verification_text(checked.verification).c_str());
  }
  if (invalid == 0) {
    std::printf("OK %zu delivery receipts, every one verifies with %s/directory\n", total, pki.c_str());
  } else {
    std::printf("%zu of %zu delivery receipts do not verify\n", invalid, total);
  }
  return invalid == 0;
}

struct ReceiptsArgs {
  std::string db, report, pki = "certs/demo";
  bool json = false;
};

std::vector<std::uint32_t> from_one(const google::protobuf::RepeatedField<std::uint32_t>& sections) {
  std::vector<std::uint32_t> out;
  out.reserve(static_cast<std::size_t>(sections.size()));
  for (std::uint32_t s : sections) out.push_back(s + 1);
  return out;
}

std::string numbers(const std::vector<std::uint32_t>& list) {
  std::vector<std::string> items;
  items.reserve(list.size());
  for (std::uint32_t n : list) items.push_back(std::to_string(n));
  return "[" + join(items, ", ") + "]";
}

// `audit receipts`: the delivery receipts naming report ids that start with
// the prefix. Exit 0 when each verifies, 1 when any does not, 2 bad input.
void run_receipts(const ReceiptsArgs& a) {
  constexpr std::string_view cmd = "audit receipts";
  std::string prefix = a.report;
  std::transform(prefix.begin(), prefix.end(), prefix.begin(), [](unsigned char c) { return std::tolower(c); });
  if (prefix.empty() || prefix.size() > 32 ||
      !std::all_of(prefix.begin(), prefix.end(), [](unsigned char c) { return std::isxdigit(c) != 0; })) {
    throw CommandExit(kExitUsage, std::string(cmd) + ": --report '" + one_line(a.report) +
                                      "' must be a report id, or a prefix of one: 1 to 32 hex characters");
  }
  audit::Filter filter;
  filter.event = std::string(kReceiptEvent);
  auto entries = audit::read_entries(a.db, filter);
  if (!entries) throw CommandExit(kExitUsage, std::string(cmd) + ": " + one_line(entries.status().to_string()));
  const identity::DirectoryPtr dir = directory_or_exit(cmd, a.pki);
  std::size_t listed = 0, invalid = 0;
  for (const auto& e : *entries) {
    const ReceiptEntry checked = check_receipt_entry(e, *dir);
    if (!checked.receipt) {
      // Unreadable: it names no report we can tell; the broker's own column may.
      if (e.report.rfind(prefix, 0) != 0) continue;
      ++listed;
      ++invalid;
      if (a.json) {
        tearline::v1::CliDeliveryReceipt r;
        r.set_audit_index(e.index);
        r.set_node(printable(e.node));
        r.set_report_id(e.report);
        r.set_recorded_ms(e.time_ms);
        r.set_recorded_at(format_utc_ms(e.time_ms));
        r.set_verification(verification_text(checked.verification));
        std::cout << to_json(r) << "\n";
      } else {
        std::cout << "entry " << e.index << " " << printable(e.node) << " recorded " << format_utc_ms(e.time_ms) << ": "
                  << verification_text(checked.verification) << "\n";
      }
      continue;
    }
    for (const auto& d : checked.receipt->entries()) {
      const std::string id = to_hex(as_bytes(d.report_id()));
      if (id.rfind(prefix, 0) != 0) continue;
      ++listed;
      if (!checked.verification) ++invalid;
      const std::vector<std::uint32_t> sections = from_one(d.sections());
      const std::string verification = verification_text(checked.verification);
      if (a.json) {
        tearline::v1::CliDeliveryReceipt r;
        r.set_audit_index(e.index);
        r.set_node(printable(checked.receipt->node_id()));
        r.set_broker_seq(d.broker_seq());
        r.set_report_id(id);
        for (std::uint32_t n : sections) r.add_sections(n);
        r.set_copy_hash(to_hex(as_bytes(d.copy_hash())));
        r.set_signed_ms(checked.receipt->signed_ms());
        r.set_signed_at(format_utc_ms(checked.receipt->signed_ms()));
        r.set_recorded_ms(e.time_ms);
        r.set_recorded_at(format_utc_ms(e.time_ms));
        r.set_verification(verification);
        std::cout << to_json(r) << "\n";
      } else {
        std::cout << printable(checked.receipt->node_id()) << " received report " << id << " seq " << d.broker_seq()
                  << ", sections " << numbers(sections) << "\n"
                  << "  signed " << format_utc_ms(checked.receipt->signed_ms()) << " (node clock), recorded "
                  << format_utc_ms(e.time_ms) << " (audit entry " << e.index << ")\n"
                  << "  receipt: " << verification << "\n";
      }
    }
  }
  if (!a.json) {
    std::cout << listed << " delivery receipt(s) name report " << prefix << (invalid == 0 ? "" : ", ")
              << (invalid == 0 ? "" : std::to_string(invalid) + " do not verify") << "\n";
  }
  std::cout.flush();
  if (invalid != 0) throw CommandExit(kExitFailure, "");
}

}  // namespace

void add_audit_command(CLI::App& app) {
  auto* audit = app.add_subcommand("audit", "Verify or inspect a broker's tamper-evident audit log");
  audit->require_subcommand(1);

  struct VerifyArgs {
    std::string db, pki = "certs/demo", key;
  };
  auto va = std::make_shared<VerifyArgs>();
  auto* verify = audit->add_subcommand("verify", "Check the hash chain and the signed checkpoints");
  verify->add_option("--db", va->db, "the broker's database (DATA_DIR/tearline.db)")->required();
  verify->add_option("--pki", va->pki,
                     "PKI folder holding directory/broker-audit.pub (default certs/demo); when given, every "
                     "delivery receipt of the log is also verified with its directory");
  verify->add_option("--key", va->key, "the broker's audit verify key, hex (instead of --pki)");
  verify->callback([va, verify] {
    const crypto::VerifyKey key = audit_key_or_exit(va->key, va->pki);
    auto entries = audit::read_entries(va->db);
    if (!entries) throw CommandExit(kExitUsage, "audit verify: " + entries.status().to_string());
    auto checkpoints = audit::read_checkpoints(va->db);
    if (!checkpoints) throw CommandExit(kExitUsage, "audit verify: " + checkpoints.status().to_string());
    const audit::VerifyResult r = audit::verify_chain(*entries, *checkpoints, key);
    if (!r.ok()) {
      std::printf("TAMPERED %s at entry %llu: %s\n", std::string(audit::tamper_name(r.tamper)).c_str(),
                  static_cast<unsigned long long>(r.at_index), r.message.c_str());
      throw CommandExit(kExitFailure, "");
    }
    std::printf("OK %zu entries, %zu signed checkpoints; entries 1..%llu are covered by a signed checkpoint\n",
                r.entries, r.checkpoints, static_cast<unsigned long long>(r.protected_up_to));
    if (verify->count("--pki") > 0 && !verify_receipts(*entries, va->pki)) throw CommandExit(kExitFailure, "");
  });

  auto f = std::make_shared<audit::Filter>();
  auto db = std::make_shared<std::string>();
  auto* show = audit->add_subcommand("show", "List audit entries, filtered");
  show->add_option("--db", *db, "the broker's database (DATA_DIR/tearline.db)")->required();
  show->add_option("--node", f->node, "only entries about this node (routing entries: those with a clause about it)");
  show->add_option("--report", f->report, "only entries about this report (hex id or a prefix)");
  show->add_option("--decision", f->decision,
                   "admitted, refused, accepted, rejected, routed, delivered, withheld, received, closed, ok, failed");
  show->add_option("--event", f->event,
                   "connection, session, publish, routing, delivery, withheld, receipt, reload, broker");
  show->add_option("--since", f->since_ms, "unix milliseconds, inclusive");
  show->add_option("--until", f->until_ms, "unix milliseconds, inclusive");
  show->callback([f, db] {
    auto entries = audit::read_entries(*db, *f);
    if (!entries) throw CommandExit(kExitUsage, "audit show: " + entries.status().to_string());
    for (const auto& e : *entries) {
      std::printf("%6llu %s %-10s %-9s %-24s %-12s %s\n", static_cast<unsigned long long>(e.index),
                  format_utc_ms(e.time_ms).c_str(), e.event.c_str(), e.decision.c_str(),
                  e.node.empty() ? "-" : e.node.c_str(), e.report.empty() ? "-" : e.report.substr(0, 12).c_str(),
                  e.detail.c_str());
    }
  });

  auto ra = std::make_shared<ReceiptsArgs>();
  auto* receipts = audit->add_subcommand(
      "receipts",
      "List the delivery receipts in the log that name a report: who received which sections and when, each "
      "verified offline with the directory. Exit 0 every one verifies, 1 any does not, 2 bad input");
  receipts->add_option("--db", ra->db, "the broker's database (DATA_DIR/tearline.db)")->required();
  receipts->add_option("--report", ra->report, "the report id, hex, or a prefix of it")->required();
  receipts->add_option("--pki", ra->pki, "PKI folder whose directory verifies the receipts (default certs/demo)");
  receipts->add_flag("--json", ra->json,
                     "One JSON object per receipt entry (proto/tearline/v1/cli.proto, CliDeliveryReceipt)");
  receipts->callback([ra] { run_receipts(*ra); });
}

}  // namespace tearline::cli
