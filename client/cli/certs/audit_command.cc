// `tearline audit verify|show|receipts`: reads a broker's audit log
// (read-only) from its store: the SQLite file (--db) or PostgreSQL (--pg),
// cli/certs/audit_store.h. receipts (here) lists the delivery receipts that
// name one report; verify (audit_verify.cc) checks the log; show
// (audit_show.cc) lists entries, filtered, and follows new ones.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <iostream>
#include <string>

#include "audit/anchor.h"
#include "audit/audit.h"
#include "audit/audit_db.h"
#include "base/clock.h"
#include "base/files.h"
#include "base/time_format.h"
#include "cli/certs/audit_receipts.h"
#include "cli/certs/audit_show.h"
#include "cli/certs/audit_store.h"
#include "cli/certs/audit_verify.h"
#include "cli/common/commands.h"
#include "cli/common/print.h"
#include "tearline/v1/cli.pb.h"
#include "tearline/v1/cli_admin.pb.h"

namespace tearline::cli {
namespace {

struct ReceiptsArgs {
  AuditStoreArgs store;
  std::string report, pki = "certs/demo";
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
  auto entries = open_audit_or_exit(cmd, a.store)->entries(filter);
  if (!entries) {
    throw CommandExit(kExitUsage, std::string(cmd) + ": " + one_line(entries.status().to_string()),
                      entries.status().code());
  }
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

  add_audit_verify(*audit);
  add_audit_show(*audit);

  auto ra = std::make_shared<ReceiptsArgs>();
  auto* receipts = audit->add_subcommand(
      "receipts",
      "List the delivery receipts in the log that name a report: who received which sections and when, each "
      "verified offline with the directory. Exit 0 every one verifies, 1 any does not, 2 bad input");
  add_audit_store_options(*receipts, &ra->store);
  receipts->add_option("--report", ra->report, "the report id, hex, or a prefix of it")->required();
  receipts->add_option("--pki", ra->pki, "PKI folder whose directory verifies the receipts (default certs/demo)");
  receipts->add_flag("--json", ra->json,
                     "One JSON object per receipt entry (proto/tearline/v1/cli.proto, CliDeliveryReceipt)");
  receipts->callback([ra] { run_receipts(*ra); });
}

}  // namespace tearline::cli
