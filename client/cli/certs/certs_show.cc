// `tearline certs show`: loads the directory now and prints every authority
// and its revocation list, every node and broker (status now), every unit
// (the charter in force, or the latest version and why it is not), and every
// rejected object and warning. --json prints one CliDirectory object
// (proto/tearline/v1/cli_admin.proto). Exit 1 when any object is rejected.
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/time_format.h"
#include "cli/certs/certs_args.h"
#include "cli/certs/certs_json.h"
#include "cli/common/print.h"
#include "identity/directory.h"

namespace tearline::cli::certs {
namespace {

namespace fs = std::filesystem;
namespace v1 = tearline::v1;
constexpr std::string_view kCommand = "certs show";

struct ShowOptions {
  std::string pki;
  bool json = false;
};

// The directory's credentials: the nodes, and the brokers' (role broker:
// they sign receipts and read no section), shown apart.
struct Split {
  std::vector<const identity::Credential*> nodes, brokers;
};
Split split_brokers(const std::vector<const identity::Credential*>& all) {
  Split out;
  for (const identity::Credential* c : all) (c->has_role(identity::kBrokerRole) ? out.brokers : out.nodes).push_back(c);
  return out;
}

v1::CliCredential node_message(const identity::Directory& dir, const identity::Credential& c, std::int64_t now) {
  v1::CliCredential out = credential_message(c);
  for (const auto& unit : dir.units_of(c.node_id, now)) out.add_units(unit);
  const Status status = dir.check_node(c.node_id, now);
  out.set_status(status ? "VALID" : reasons_text(status));
  return out;
}

// Why the latest charter file of `unit` is not the one in force: its load
// issue when it was rejected, else its state now.
std::string why_not_in_force(const identity::LoadReport& report, const std::string& unit, std::uint64_t version) {
  const std::string file = unit + ".v" + std::to_string(version) + ".charter";
  for (const auto& issue : report.rejected) {
    if (issue.object == file) return std::string(code_name(issue.reason.code)) + ": " + issue.reason.message;
  }
  return "not loaded";
}

// The unit's charter in force, or the latest loaded version and why not;
// `note` says when a later file exists that is not in force.
v1::CliCharter unit_message(const identity::Directory& dir, const fs::path& dir_path,
                            const identity::LoadReport& report, const std::string& unit, std::int64_t now,
                            std::string* note) {
  const std::uint64_t latest_file = identity::latest_charter_version(dir_path, unit);
  auto in_force = dir.charter_in_force(unit, now);
  v1::CliCharter out;
  if (!in_force) {
    out.set_unit_id(unit);
    out.set_version(latest_file);
    out.set_status("NOT IN FORCE: latest version v" + std::to_string(latest_file) + ": " +
                   reasons_text(in_force.status()));
    return out;
  }
  const identity::Charter& c = **in_force;
  const auto signers = c.required_signers();
  out = charter_message(c, std::set<std::string>(signers.begin(), signers.end()));
  out.set_status("IN_FORCE");
  if (latest_file > c.version) {
    *note = "latest version v" + std::to_string(latest_file) +
            " is not in force: " + why_not_in_force(report, unit, latest_file);
  }
  return out;
}

void print_node(const v1::CliCredential& c) {
  std::vector<std::string> roles(c.roles().begin(), c.roles().end());
  std::vector<std::string> units(c.units().begin(), c.units().end());
  std::cout << "  " << c.node_id() << "\n"
            << "    agency " << c.agency() << " (" << c.country() << "), clearance "
            << identity::classification_name(c.clearance()) << ", roles [" << join(roles) << "], serial " << c.serial()
            << "\n"
            << "    units in force: [" << join(units) << "]\n";
  if (c.status() == "VALID") {
    std::cout << "    status: VALID from " << c.not_before_at() << " until " << c.not_after_at() << "\n";
  } else {
    std::cout << "    status: " << c.status() << " (window " << c.not_before_at() << " .. " << c.not_after_at()
              << ")\n";
  }
}

void print_unit(const v1::CliCharter& c, const std::string& note) {
  if (c.status() != "IN_FORCE") {
    std::cout << "  " << c.unit_id() << ": " << c.status() << "\n";
    return;
  }
  std::vector<std::string> members;
  members.reserve(static_cast<std::size_t>(c.members_size()));
  for (const auto& m : c.members()) members.push_back(m.node_id() + " (" + m.agency() + ")");
  std::cout << "  " << c.unit_id() << " v" << c.version() << ", host " << c.host_agency() << ", in force until "
            << c.not_after_at() << "\n"
            << "    members: " << join(members) << "\n";
  if (!note.empty()) std::cout << "    " << note << "\n";
}

void print_list(const v1::CliRevocationList& rl) {
  std::vector<std::string> serials, charters;
  for (const auto& r : rl.revoked_credentials()) {
    serials.push_back(std::to_string(r.serial()) + " " + r.reason() +
                      (r.compromised_at_text().empty() ? "" : " at " + r.compromised_at_text()));
  }
  for (const auto& c : rl.revoked_charters()) charters.push_back(c.unit_id() + ":" + std::to_string(c.version()));
  std::cout << "    revocation list " << rl.number();
  if (rl.issued_at() != 0) std::cout << " issued " << rl.issued_at_text();
  std::cout << ": serials [" << join(serials) << "], charters [" << join(charters) << "]";
  std::vector<std::string> peerings;
  for (const auto& p : rl.revoked_peerings())
    peerings.push_back(p.peering_id() + " up to v" + std::to_string(p.version()));
  if (!peerings.empty()) std::cout << ", peerings [" << join(peerings) << "]";
  std::cout << "\n";
}

void add_issues(const std::vector<identity::LoadIssue>& issues,
                google::protobuf::RepeatedPtrField<v1::CliLoadIssue>* out) {
  for (const auto& issue : issues) {
    auto* i = out->Add();
    i->set_object(issue.object);
    i->mutable_reason()->set_code(static_cast<std::uint32_t>(issue.reason.code));
    i->mutable_reason()->set_name(std::string(code_name(issue.reason.code)));
    i->mutable_reason()->set_message(issue.reason.message);
  }
}

void print_issues(std::string_view title, const google::protobuf::RepeatedPtrField<v1::CliLoadIssue>& issues) {
  std::cout << title << " (" << issues.size() << "):\n";
  for (const auto& issue : issues) {
    std::cout << "  " << issue.object() << ": " << issue.reason().name() << ": " << issue.reason().message() << "\n";
  }
}

void run_show(const ShowOptions& o) {
  // --pki is a PKI root; a bare public directory (what a broker holds) works too.
  const identity::PkiPaths pki(o.pki);
  fs::path dir_path = pki.directory();
  if (!path_exists(pki.trust_store()) && path_exists(fs::path(o.pki) / "trust.toml")) dir_path = o.pki;
  const std::int64_t now = now_seconds();
  identity::LoadReport report;
  auto loaded = identity::Directory::load(dir_path, now, &report);
  if (!loaded) fail(kCommand, loaded.status());
  const identity::Directory& dir = **loaded;

  v1::CliDirectory out;
  out.set_directory(dir_path.string());
  out.set_at(now);
  out.set_at_text(format_utc_seconds(now));
  out.set_digest(to_hex(ByteView(dir.digest().data(), dir.digest().size())));
  for (const auto& [agency, a] : dir.trust().authorities()) {
    auto* m = out.add_authorities();
    m->set_agency(agency);
    m->set_country(a.country);
    m->set_verify_key(to_hex(a.verify_key.view()));
    m->set_partner(a.partner);
    if (const identity::RevocationList* rl = dir.revocation_list(agency)) {
      *m->mutable_revocation_list() = revocation_list_message(*rl);
    }
  }
  const Split split = split_brokers(dir.nodes());
  for (const identity::Credential* c : split.nodes) *out.add_nodes() = node_message(dir, *c, now);
  for (const identity::Credential* c : split.brokers) *out.add_brokers() = node_message(dir, *c, now);
  std::vector<std::string> notes;
  for (const auto& unit : dir.unit_ids()) {
    notes.emplace_back();
    *out.add_units() = unit_message(dir, dir_path, report, unit, now, &notes.back());
  }
  add_issues(report.rejected, out.mutable_rejected());
  add_issues(report.warnings, out.mutable_warnings());

  if (o.json) {
    std::cout << to_json(out) << "\n";
  } else {
    std::cout << "directory " << out.directory() << " at " << out.at_text() << "\n";
    std::cout << "authorities (" << out.authorities_size() << "):\n";
    for (const auto& a : out.authorities()) {
      std::cout << "  " << a.agency() << " (" << a.country() << ") key " << a.verify_key()
                << (a.partner() ? ", partner agency (its nodes use its own broker)" : "") << "\n";
      if (a.has_revocation_list()) {
        print_list(a.revocation_list());
      } else {
        std::cout << "    no revocation list\n";
      }
    }
    std::cout << "nodes (" << out.nodes_size() << "):\n";
    for (const auto& c : out.nodes()) print_node(c);
    std::cout << "brokers (" << out.brokers_size() << "):\n";
    for (const auto& c : out.brokers()) print_node(c);
    std::cout << "units (" << out.units_size() << "):\n";
    for (int i = 0; i < out.units_size(); ++i) print_unit(out.units(i), notes[static_cast<std::size_t>(i)]);
    print_issues("rejected objects", out.rejected());
    print_issues("warnings", out.warnings());
  }
  if (!report.rejected.empty()) {
    const auto& first = report.rejected.front();
    throw CommandExit(kExitFailure,
                      std::string(kCommand) + ": " + std::to_string(report.rejected.size()) +
                          " object(s) rejected (listed " + (o.json ? "in \"rejected\"" : "above") + ")",
                      first.reason.code);
  }
}

}  // namespace

void add_show(CLI::App& certs) {
  auto o = std::make_shared<ShowOptions>();
  auto* sub = certs.add_subcommand("show",
                                   "Load and verify the directory; print every authority, node (status now), "
                                   "unit and rejected object. Exits 1 if any object is rejected");
  sub->add_option("--pki", o->pki, "PKI folder, or a public directory folder holding trust.toml")->required();
  sub->add_flag("--json", o->json, "One JSON object (CliDirectory in proto/tearline/v1/cli_admin.proto)");
  sub->callback([o] { run_show(*o); });
}

}  // namespace tearline::cli::certs
