// `tearline audit verify` (audit_verify.h).
#include "cli/certs/audit_verify.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "audit/anchor.h"
#include "audit/audit.h"
#include "audit/chain_heads.h"
#include "audit/pg_audit_reader.h"
#include "base/files.h"
#include "cli/certs/audit_receipts.h"
#include "cli/certs/audit_store.h"
#include "cli/common/commands.h"
#include "cli/common/exit_codes.h"
#include "cli/common/print.h"
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

// The --pki directory, loaded at the first use (exit 2 when it does not
// load), then kept for the run.
class DirectoryOnce {
 public:
  explicit DirectoryOnce(std::string pki) : pki_(std::move(pki)) {}
  const identity::Directory& get() {
    if (!dir_) dir_ = directory_or_exit("audit verify", pki_);
    return *dir_;
  }
  const std::string& pki() const { return pki_; }

 private:
  std::string pki_;
  identity::DirectoryPtr dir_;
};

// Every "receipt" entry of the log verified with the --pki directory; the
// ones that do not verify go into verdict->invalid_receipts.
void verify_receipts(const std::vector<audit::AuditEntry>& entries, DirectoryOnce& directory,
                     tearline::v1::CliAuditVerdict* verdict) {
  const identity::Directory& dir = directory.get();
  verdict->set_receipts_checked(true);
  for (const auto& e : entries) {
    if (e.event != kReceiptEvent) continue;
    verdict->set_receipts(verdict->receipts() + 1);
    const ReceiptEntry checked = check_receipt_entry(e, dir);
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
  const std::string of = v.writer().empty() ? "" : v.writer() + ": ";
  if (v.verdict() != "OK") {
    std::printf("%sTAMPERED %s at entry %llu: %s\n", of.c_str(), v.tamper().c_str(),
                static_cast<unsigned long long>(v.at_index()), v.message().c_str());
    return;
  }
  std::printf("%sOK %llu entries, %llu signed checkpoints; entries 1..%llu are covered by a signed checkpoint\n",
              of.c_str(), static_cast<unsigned long long>(v.entries()),
              static_cast<unsigned long long>(v.checkpoints()), static_cast<unsigned long long>(v.protected_up_to()));
  if (!v.receipts_checked()) return;
  for (const auto& bad : v.invalid_receipts()) {
    std::printf("%sRECEIPT_INVALID at entry %llu (node %s): %s\n", of.c_str(),
                static_cast<unsigned long long>(bad.audit_index()), bad.node().c_str(), bad.verification().c_str());
  }
  if (v.invalid_receipts_size() == 0) {
    std::printf("%sOK %llu delivery receipts, every one verifies with %s/directory\n", of.c_str(),
                static_cast<unsigned long long>(v.receipts()), pki.c_str());
  } else {
    std::printf("%s%d of %llu delivery receipts do not verify\n", of.c_str(), v.invalid_receipts_size(),
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

// The signing key (audit key) of the broker credential `broker` in the
// --pki directory; exit 2 when there is none. `named`: how the user named it;
// `instead`: how to give the key instead.
crypto::VerifyKey broker_key_or_exit(DirectoryOnce& directory, const std::string& broker, const std::string& named,
                                     const std::string& instead) {
  const identity::Credential* cred = directory.get().node(broker);
  if (cred == nullptr || !cred->has_role("broker")) {
    throw CommandExit(kExitUsage, one_line("audit verify: " + named + ": no broker credential of that id in " +
                                           directory.pki() + "/directory; give its audit key with " + instead));
  }
  return cred->signing_key;
}

// An unreadable log is bad input (exit 2), whatever the store's code.
std::vector<audit::AuditEntry> entries_or_exit(audit::AuditReader& log) {
  auto entries = log.entries({});
  if (!entries)
    throw CommandExit(kExitUsage, one_line("audit verify: " + entries.status().to_string()), entries.status().code());
  return std::move(entries).value();
}

std::vector<audit::Checkpoint> checkpoints_or_exit(audit::AuditReader& log) {
  auto checkpoints = log.checkpoints();
  if (!checkpoints) {
    throw CommandExit(kExitUsage, one_line("audit verify: " + checkpoints.status().to_string()),
                      checkpoints.status().code());
  }
  return std::move(checkpoints).value();
}

tearline::v1::CliAuditVerdict verdict_of(const std::vector<audit::AuditEntry>& entries,
                                         const std::vector<audit::Checkpoint>& checkpoints,
                                         const crypto::VerifyKey& key) {
  const audit::VerifyResult r = audit::verify_chain(entries, checkpoints, key);
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
  return v;
}

// The writers of the PostgreSQL store: exit 2 when the string does not
// parse or the store cannot be read, 3 when PostgreSQL cannot be reached.
std::vector<audit::PgWriter> writers_or_exit(const std::string& conninfo) {
  auto writers = audit::pg_writers(conninfo);
  if (!writers) {
    throw CommandExit(writers.status().code() == Code::STORAGE_FAILED ? kExitUsage : exit_code_for(writers.status()),
                      one_line("audit verify: " + writers.status().to_string()), writers.status().code());
  }
  return std::move(writers).value();
}

std::string writer_name(const audit::PgWriter& w) {
  return w.broker.empty() ? "writer " + std::to_string(w.id) + " (unnamed)" : w.broker;
}

void print_chains(const tearline::v1::CliAuditChains& out, const std::string& pki) {
  for (const auto& v : out.chains()) print_verdict(v, pki);
  if (out.verdict() == "OK") {
    std::vector<std::string> covered;
    for (const auto& v : out.chains()) {
      auto it = out.covered_up_to().find(v.writer());
      if (it != out.covered_up_to().end()) covered.push_back(v.writer() + " 1.." + std::to_string(it->second));
    }
    std::printf("OK %llu signed heads entries: every log holds what the other brokers signed of it%s%s%s\n",
                static_cast<unsigned long long>(out.heads_entries()), covered.empty() ? "" : " (",
                join(covered, ", ").c_str(), covered.empty() ? "" : ")");
  } else if (!out.tamper().empty()) {
    std::printf("TAMPERED %s at entry %llu of %s: %s\n", out.tamper().c_str(),
                static_cast<unsigned long long>(out.at_index()), out.writer().c_str(), out.message().c_str());
  } else {
    std::printf("heads entries not checked: %s\n", out.message().c_str());
  }
}

// A failed heads check into either verdict message (CliAuditVerdict,
// CliAuditChains: the same fields).
template <typename Verdict>
void set_heads_failure(const audit::HeadsResult& heads, Verdict* v) {
  v->set_verdict("TAMPERED");
  v->set_writer(heads.writer);
  v->set_tamper(std::string(audit::tamper_name(heads.tamper)));
  v->set_at_index(heads.at_index);
  v->set_message(heads.message);
}

// Prints the verdict (one JSON object with --json), then exits 1 when it is
// not OK or a receipt did not verify; returns when all is well.
template <typename Verdict, typename Print>
void print_or_exit(const Verdict& v, bool json, bool receipts_bad, Print print) {
  if (json) {
    std::cout << to_json(v) << "\n";
  } else {
    print(v);
  }
  std::cout.flush();
  std::fflush(stdout);
  if (v.verdict() != "OK") throw CommandExit(kExitFailure, "");  // the verdict on stdout says where
  if (receipts_bad) throw CommandExit(kExitFailure, "", Code::RECEIPT_INVALID);
}

// A store's only log whose signed heads entries name other brokers' logs:
// the store must hold them still (their rows deleted, writer and all, the
// store would pass for one broker's).
void check_heads_alone(const std::string& broker, const std::vector<audit::AuditEntry>& entries,
                       tearline::v1::CliAuditVerdict* v) {
  const audit::HeadsResult heads = audit::verify_heads({{broker, audit::ChainRead{&entries, v->protected_up_to()}}});
  if (!heads.ok()) set_heads_failure(heads, v);
}

// Every broker's log of a store several share, then the heads entries.
// Exit 0 all verify, 1 any does not (or a receipt), 2 bad input.
void run_verify_chains(const VerifyArgs& a, const std::vector<audit::PgWriter>& writers, bool check_receipts) {
  std::vector<std::string> names;
  names.reserve(writers.size());
  for (const auto& w : writers) names.push_back(writer_name(w));
  const std::string several =
      "the PostgreSQL store holds the audit logs of several brokers (" + join(names, ", ") + ")";
  if (!a.key.empty())
    throw CommandExit(kExitUsage, "audit verify: --key is one broker's key: " + several + "; name it with --writer");
  if (!a.anchor.empty()) {
    throw CommandExit(kExitUsage,
                      "audit verify: --anchor is one broker's anchor: " + several + "; name it with --writer");
  }
  tearline::v1::CliAuditChains out;
  DirectoryOnce directory(a.pki);
  std::map<std::string, std::vector<audit::AuditEntry>> logs;
  std::map<std::string, audit::ChainRead> reads;
  bool all_ok = true;
  bool receipts_ok = true;
  for (const auto& w : writers) {
    auto reader = audit::pg_audit_reader(a.store.pg, w.id);
    if (!reader) {
      throw CommandExit(exit_code_for(reader.status()), one_line("audit verify: " + reader.status().to_string()),
                        reader.status().code());
    }
    auto& entries = logs[writer_name(w)] = entries_or_exit(**reader);
    const auto checkpoints = checkpoints_or_exit(**reader);
    // An empty log needs no key (a broker registered that never wrote).
    const crypto::VerifyKey key = entries.empty() && checkpoints.empty() ? crypto::VerifyKey{}
                                  : w.broker.empty()
                                      ? audit_key_or_exit("", a.pki)
                                      : broker_key_or_exit(directory, w.broker, "broker " + w.broker,
                                                           "--key and --writer, or a --pki that holds it");
    tearline::v1::CliAuditVerdict v = verdict_of(entries, checkpoints, key);
    v.set_writer(writer_name(w));
    if (check_receipts && v.verdict() == "OK") verify_receipts(entries, directory, &v);
    all_ok = all_ok && v.verdict() == "OK";
    receipts_ok = receipts_ok && v.invalid_receipts_size() == 0;
    if (!w.broker.empty()) reads[w.broker] = audit::ChainRead{&entries, v.protected_up_to()};
    *out.add_chains() = std::move(v);
  }
  if (all_ok) {
    const audit::HeadsResult heads = audit::verify_heads(reads);
    out.set_heads_entries(heads.heads_entries);
    for (const auto& [writer, up_to] : heads.covered_up_to) (*out.mutable_covered_up_to())[writer] = up_to;
    out.set_verdict("OK");
    if (!heads.ok()) set_heads_failure(heads, &out);
  } else {
    out.set_verdict("TAMPERED");
    out.set_message("a log does not verify on its own");
  }
  print_or_exit(out, a.json, !receipts_ok, [&](const auto& chains) { print_chains(chains, a.pki); });
}

// The key the chain's checkpoints are signed with: --key; else, for a
// chain picked with --writer, that broker's credential's signing key (its
// audit key) in the --pki directory; else the PKI's broker-audit.pub.
crypto::VerifyKey chain_key_or_exit(const VerifyArgs& a, DirectoryOnce& directory) {
  if (!a.key.empty() || a.store.writer.empty()) return audit_key_or_exit(a.key, a.pki);
  return broker_key_or_exit(directory, a.store.writer, "--writer " + a.store.writer, "--key");
}

// `audit verify`: exit 0 the chain (and with --pki every receipt) verifies,
// 1 it does not, 2 bad input.
void run_verify(const VerifyArgs& a, bool check_receipts) {
  std::string only_broker;  // a PostgreSQL store's only writer, read without --writer
  if (!a.store.pg.empty() && a.store.writer.empty()) {
    const auto writers = writers_or_exit(a.store.pg);
    if (writers.size() > 1) return run_verify_chains(a, writers, check_receipts);
    if (!writers.empty()) only_broker = writers.front().broker;
  }
  DirectoryOnce directory(a.pki);
  const crypto::VerifyKey key = chain_key_or_exit(a, directory);
  const auto log = open_audit_or_exit("audit verify", a.store);
  const auto entries = entries_or_exit(*log);
  const auto checkpoints = checkpoints_or_exit(*log);
  tearline::v1::CliAuditVerdict v = verdict_of(entries, checkpoints, key);
  if (v.verdict() == "OK" && !only_broker.empty()) check_heads_alone(only_broker, entries, &v);
  if (v.verdict() == "OK" && !a.anchor.empty()) check_anchor_or_exit(a, *log, key, &v);
  if (check_receipts && v.verdict() == "OK") verify_receipts(entries, directory, &v);
  print_or_exit(v, a.json, v.invalid_receipts_size() != 0, [&](const auto& verdict) { print_verdict(verdict, a.pki); });
}

}  // namespace

void add_audit_verify(CLI::App& audit) {
  auto va = std::make_shared<VerifyArgs>();
  auto* verify = audit.add_subcommand(
      "verify",
      "Check the hash chain and the signed checkpoints (and with --anchor that the store does not end before "
      "the anchored checkpoint); on a PostgreSQL store several brokers share, without --writer, every broker's log "
      "and the heads entries that hold each to what the others signed. Exit 0 verified, 1 tampered, truncated (or "
      "a receipt does not verify), 2 bad input");
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
  verify->add_flag(
      "--json", va->json,
      "one JSON object (proto/tearline/v1/cli_admin.proto: CliAuditVerdict; CliAuditChains for every broker's log)");
  verify->callback([va, verify] { run_verify(*va, verify->count("--pki") > 0); });
}

}  // namespace tearline::cli
