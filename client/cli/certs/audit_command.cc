// `tearline audit verify|show|receipts`: reads a broker's audit log
// (read-only) from its store: the SQLite file (--db) or PostgreSQL (--pg),
// cli/certs/audit_store.h. verify checks the hash chain and the
// signed checkpoints and names the first modified, inserted, deleted or
// reordered entry; with --pki it also verifies every delivery receipt the
// log keeps. receipts lists the delivery receipts that name one report;
// show (audit_show.cc) lists entries, filtered, and follows new ones.
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
#include "cli/common/commands.h"
#include "cli/common/print.h"
#include "tearline/v1/cli.pb.h"
#include "tearline/v1/cli_admin.pb.h"

namespace tearline::cli {
namespace {

crypto::VerifyKey audit_key_or_exit(const std::string& key_hex, const std::string& pki) {
  std::string hex = key_hex;
  if (hex.empty()) {
    const auto path = std::filesystem::path(pki) / "directory" / "broker-audit.pub";
    auto text = read_file(path, 1024);
    if (!text) throw CommandExit(kExitUsage, one_line("audit: " + text.status().to_string()), text.status().code());
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
  if (!dir) throw CommandExit(dir.status(), std::string(command) + ": ");
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
// the ones that do not verify go into verdict->invalid_receipts.
void verify_receipts(const std::vector<audit::AuditEntry>& entries, const std::string& pki,
                     tearline::v1::CliAuditVerdict* verdict) {
  const identity::DirectoryPtr dir = directory_or_exit("audit verify", pki);
  verdict->set_receipts_checked(true);
  for (const auto& e : entries) {
    if (e.event != kReceiptEvent) continue;
    verdict->set_receipts(verdict->receipts() + 1);
    const ReceiptEntry checked = check_receipt_entry(e, *dir);
    if (checked.verification) continue;
    auto* bad = verdict->add_invalid_receipts();
    bad->set_audit_index(e.index);
    bad->set_node(printable(e.node));
    bad->set_verification(verification_text(checked.verification));
  }
}

void print_verdict(const tearline::v1::CliAuditVerdict& v, const std::string& pki) {
  if (v.verdict() == "TRUNCATED") {
    std::printf("%s\n", v.anchor_message().c_str());
    return;
  }
  if (v.verdict() != "OK") {
    std::printf("TAMPERED %s at entry %llu: %s\n", v.tamper().c_str(), static_cast<unsigned long long>(v.at_index()),
                v.message().c_str());
    return;
  }
  std::printf("OK %llu entries, %llu signed checkpoints; entries 1..%llu are covered by a signed checkpoint\n",
              static_cast<unsigned long long>(v.entries()), static_cast<unsigned long long>(v.checkpoints()),
              static_cast<unsigned long long>(v.protected_up_to()));
  if (!v.receipts_checked()) return;
  for (const auto& bad : v.invalid_receipts()) {
    std::printf("RECEIPT_INVALID at entry %llu (node %s): %s\n", static_cast<unsigned long long>(bad.audit_index()),
                bad.node().c_str(), bad.verification().c_str());
  }
  if (v.invalid_receipts_size() == 0) {
    std::printf("OK %llu delivery receipts, every one verifies with %s/directory\n",
                static_cast<unsigned long long>(v.receipts()), pki.c_str());
  } else {
    std::printf("%d of %llu delivery receipts do not verify\n", v.invalid_receipts_size(),
                static_cast<unsigned long long>(v.receipts()));
  }
}

struct VerifyArgs {
  AuditStoreArgs store;
  std::string pki = "certs/demo", key, anchor;
  bool json = false;
};

// --anchor: the store compared with the newest anchor checkpoint that
// verifies (DATA_DIR/audit.anchor, a line of it, or the broker's
// event=checkpoint_anchored log line): TRUNCATED when the store ends before it.
void check_anchor_or_exit(const VerifyArgs& a, audit::AuditReader& log, const crypto::VerifyKey& key,
                          tearline::v1::CliAuditVerdict* v) {
  const auto anchor = audit::newest_anchor(a.anchor, key);
  if (!anchor) {
    throw CommandExit(kExitUsage, one_line("audit verify: --anchor " + a.anchor +
                                           ": no checkpoint line that verifies with the broker's audit key"));
  }
  auto check = audit::compare_with_anchor(log, *anchor);
  if (!check)
    throw CommandExit(kExitUsage, one_line("audit verify: " + check.status().to_string()), check.status().code());
  v->set_anchor_index(anchor->index);
  if (!check->truncated) return;
  v->set_verdict("TRUNCATED");
  v->set_anchor_message(check->message);
}

// The key the chain's checkpoints are signed with: --key; else, for a
// chain picked with --writer, that broker's credential's signing key (its
// audit key) in the --pki directory; else the PKI's broker-audit.pub.
crypto::VerifyKey chain_key_or_exit(const VerifyArgs& a) {
  if (!a.key.empty() || a.store.writer.empty()) return audit_key_or_exit(a.key, a.pki);
  const identity::DirectoryPtr dir = directory_or_exit("audit verify", a.pki);
  const identity::Credential* broker = dir->node(a.store.writer);
  if (broker == nullptr || !broker->has_role("broker")) {
    throw CommandExit(kExitUsage, one_line("audit verify: --writer " + a.store.writer + ": no broker credential of " +
                                           "that id in " + a.pki + "/directory; give its audit key with --key"));
  }
  return broker->signing_key;
}

// `audit verify`: exit 0 the chain (and with --pki every receipt) verifies,
// 1 it does not, 2 bad input.
void run_verify(const VerifyArgs& a, bool check_receipts) {
  const crypto::VerifyKey key = chain_key_or_exit(a);
  const auto log = open_audit_or_exit("audit verify", a.store);
  auto entries = log->entries({});
  // An unreadable database is bad input (exit 2), whatever SQLite's code.
  if (!entries)
    throw CommandExit(kExitUsage, one_line("audit verify: " + entries.status().to_string()), entries.status().code());
  auto checkpoints = log->checkpoints();
  if (!checkpoints) {
    throw CommandExit(kExitUsage, one_line("audit verify: " + checkpoints.status().to_string()),
                      checkpoints.status().code());
  }
  const audit::VerifyResult r = audit::verify_chain(*entries, *checkpoints, key);
  tearline::v1::CliAuditVerdict v;
  v.set_verdict(r.ok() ? "OK" : "TAMPERED");
  if (!r.ok()) {
    v.set_tamper(std::string(audit::tamper_name(r.tamper)));
    v.set_at_index(r.at_index);
  }
  v.set_message(r.message);
  v.set_entries(r.entries);
  v.set_checkpoints(r.checkpoints);
  v.set_protected_up_to(r.protected_up_to);
  if (r.ok() && !a.anchor.empty()) check_anchor_or_exit(a, *log, key, &v);
  if (r.ok() && check_receipts && v.verdict() == "OK") verify_receipts(*entries, a.pki, &v);
  if (a.json) {
    std::cout << to_json(v) << "\n";
  } else {
    print_verdict(v, a.pki);
  }
  std::cout.flush();
  std::fflush(stdout);
  if (v.verdict() != "OK") throw CommandExit(kExitFailure, "");  // the verdict on stdout says where
  if (v.invalid_receipts_size() != 0) throw CommandExit(kExitFailure, "", Code::RECEIPT_INVALID);
}

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

  auto va = std::make_shared<VerifyArgs>();
  auto* verify = audit->add_subcommand(
      "verify",
      "Check the hash chain and the signed checkpoints (and with --anchor that the store does not end before "
      "the anchored checkpoint). Exit 0 verified, 1 tampered, truncated (or a receipt does not verify), 2 bad "
      "input");
  add_audit_store_options(*verify, &va->store);
  verify->add_option("--pki", va->pki,
                     "PKI folder holding directory/broker-audit.pub (default certs/demo); when given, every "
                     "delivery receipt of the log is also verified with its directory");
  verify->add_option("--key", va->key, "the broker's audit verify key, hex (instead of --pki)");
  verify
      ->add_option("--anchor", va->anchor,
                   "the broker's anchor file (DATA_DIR/audit.anchor) or one checkpoint line of it (or of its "
                   "event=checkpoint_anchored log line): TRUNCATED, exit 1, when the store ends before that "
                   "checkpoint")
      ->type_name("FILE|LINE");
  verify->add_flag("--json", va->json, "one JSON object (CliAuditVerdict in proto/tearline/v1/cli_admin.proto)");
  verify->callback([va, verify] { run_verify(*va, verify->count("--pki") > 0); });

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
