// `tearline audit verify|show`: reads a broker's audit log (read-only) from
// its database file. verify checks the hash chain and the signed checkpoints
// and names the first modified, inserted, deleted or reordered entry.
#include <cstdio>
#include <string>

#include "audit/audit.h"
#include "audit/audit_db.h"
#include "base/files.h"
#include "base/time_format.h"
#include "cli/common/commands.h"

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
  verify->add_option("--pki", va->pki, "PKI folder holding directory/broker-audit.pub (default certs/demo)");
  verify->add_option("--key", va->key, "the broker's audit verify key, hex (instead of --pki)");
  verify->callback([va] {
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
  });

  auto f = std::make_shared<audit::Filter>();
  auto db = std::make_shared<std::string>();
  auto* show = audit->add_subcommand("show", "List audit entries, filtered");
  show->add_option("--db", *db, "the broker's database (DATA_DIR/tearline.db)")->required();
  show->add_option("--node", f->node, "only entries about this node (routing entries: those with a clause about it)");
  show->add_option("--report", f->report, "only entries about this report (hex id or a prefix)");
  show->add_option("--decision", f->decision,
                   "admitted, refused, accepted, rejected, routed, delivered, withheld, closed, ok, failed");
  show->add_option("--event", f->event, "connection, session, publish, routing, delivery, withheld, reload, broker");
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
}

}  // namespace tearline::cli
