// `tearline certs`: issue and inspect the PKI of the trust model
// (docs/trust-model.md): demo, init-authority, issue, charter, broker here;
// revoke, show and inspect in certs_revoke.cc, certs_show.cc and
// certs_inspect.cc. Each subcommand is a thin shell over lib/identity:
// it validates its arguments, calls one issuing function, and prints what it
// did. Every failure ends in CommandExit with one line naming the reason codes
// (cli/common/exit_codes.h: kExitUsage for bad arguments or input files, kExitFailure otherwise).
#include <algorithm>
#include <charconv>
#include <filesystem>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/canonical_proto.h"
#include "base/clock.h"
#include "base/files.h"
#include "base/time_format.h"
#include "cli/certs/certs_args.h"
#include "cli/common/commands.h"
#include "cli/common/print.h"
#include "identity/countries.h"
#include "identity/directory.h"
#include "identity/pki.h"
#include "identity/roster.h"

namespace tearline::cli {
namespace {
namespace fs = std::filesystem;
namespace v1 = tearline::v1;
using certs::fail;
using certs::kPkiHelp;
using certs::kReloadReminder;
using certs::load_trust;
using certs::now_seconds;
using certs::parse_number;
using certs::path_exists;
using certs::require_id;
using certs::usage;
using identity::PkiPaths;

using certs::kDefaultDays;
using certs::Window;
using certs::window_from_now;

// A charter file as found on disk: who must sign it and who has.
struct CharterFile {
  std::vector<std::string> required;  // host plus member agencies, sorted
  std::set<std::string> signed_by;

  std::vector<std::string> missing() const {
    std::vector<std::string> out;
    for (const auto& a : required) {
      if (signed_by.count(a) == 0) out.push_back(a);
    }
    return out;
  }
};

CharterFile read_charter_file(std::string_view command, const PkiPaths& pki, const std::string& unit,
                              std::uint64_t version) {
  certs::require_charter_file(command, pki, unit, version);
  auto bytes = read_file(pki.charter(unit, version), 1u << 20);
  if (!bytes) fail(command, bytes.status());
  v1::SignedObject obj;
  v1::CharterBody body;
  Status s = parse_strict(*bytes, &obj, "charter");
  if (s) s = parse_canonical(as_bytes(obj.body()), &body, "charter body");
  if (!s) fail(command, s);
  identity::Charter charter;
  charter.host_agency = body.host_agency();
  for (const auto& m : body.members()) charter.members.push_back({m.node_id(), m.agency()});
  CharterFile out{charter.required_signers(), {}};
  for (const auto& sig : obj.signatures()) out.signed_by.insert(sig.agency());
  return out;
}

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

// ---- certs demo --------------------------------------------------------------

struct DemoOptions {
  std::string roster = "certs/roster.toml";
  std::string out = "certs/demo";
  bool force = false;
};

void remove_pki(std::string_view command, const PkiPaths& pki) {
  // Only the two folders of the PKI layout: --out may hold other files.
  for (const auto& d : {pki.directory(), pki.keys()}) {
    std::error_code ec;
    fs::remove_all(d, ec);
    if (ec) usage(command, "cannot remove " + d.string() + ": " + ec.message());
  }
}

void run_demo(const DemoOptions& o) {
  constexpr std::string_view cmd = "certs demo";
  const PkiPaths pki(o.out);
  const bool exists = path_exists(pki.trust_store());
  if (exists && !o.force) {
    std::cout << "a PKI already exists in " << o.out << " (" << pki.trust_store().string()
              << "); left untouched. Use --force to regenerate it.\n";
    return;
  }
  auto roster = identity::load_roster(o.roster);  // before removing anything
  if (!roster) fail(cmd, roster.status());
  if (exists) {
    remove_pki(cmd, pki);
    std::cout << "removed the PKI in " << o.out << "\n";
  }
  const std::int64_t now = now_seconds();
  Status s = identity::generate_from_roster(*roster, pki, now);
  if (!s) {
    remove_pki(cmd, pki);  // a half-made PKI would later pass for a whole one
    fail(cmd, s);
  }
  identity::LoadReport report;
  auto dir = identity::Directory::load(pki.directory(), now, &report);
  if (!dir) fail(cmd, dir.status());

  std::vector<std::string> agencies, units;
  for (const auto& [id, a] : (*dir)->trust().authorities()) agencies.push_back(id);
  for (const auto& u : (*dir)->unit_ids()) units.push_back(u);
  const Split split = split_brokers((*dir)->nodes());
  std::vector<std::string> brokers;
  brokers.reserve(split.brokers.size());
  for (const identity::Credential* b : split.brokers) brokers.push_back(b->node_id + " (issued by " + b->agency + ")");
  std::cout << "generated the PKI of " << o.roster << " in " << o.out << "\n"
            << "  agencies: " << agencies.size() << " (" << join(agencies) << ")\n"
            << "  nodes:    " << split.nodes.size() << "\n"
            << "  broker:   " << join(brokers) << "\n"
            << "  units:    " << units.size() << " (" << join(units) << ")\n"
            << "  rejected objects: " << report.rejected.size() << "\n"
            << "  public directory: " << pki.directory().string() << "\n"
            << "  secret keys:      " << pki.keys().string() << " (never commit or share)\n";
  for (const auto& issue : report.rejected) {
    std::cout << "  rejected " << issue.object << ": " << to_string(issue.reason) << "\n";
  }
  if (!report.rejected.empty()) {
    throw CommandExit(kExitFailure, std::string(cmd) + ": the generated directory rejected " +
                                        std::to_string(report.rejected.size()) + " object(s)");
  }
}

// ---- certs init-authority ----------------------------------------------------

struct AuthorityOptions {
  std::string pki, agency, country;
};

void run_init_authority(const AuthorityOptions& o) {
  constexpr std::string_view cmd = "certs init-authority";
  require_id(cmd, "agency", o.agency);
  if (!identity::is_known_country(o.country)) {
    usage(cmd, "country '" + o.country + "' is not an ISO 3166-1 alpha-3 code (e.g. COL, USA)");
  }
  const PkiPaths pki(o.pki);
  if (path_exists(pki.trust_store()) && load_trust(cmd, pki).authority(o.agency) != nullptr) {
    fail(cmd, Status::fail(Code::DUPLICATE_OBJECT,
                           "agency " + o.agency + " already has an authority in " + pki.trust_store().string()));
  }
  Status s = identity::init_authority(pki, o.agency, o.country);
  if (!s) fail(cmd, s);
  const auto trust = load_trust(cmd, pki);
  std::cout << "authority " << o.agency << " (" << o.country << ") created\n"
            << "  verify key: " << to_hex(trust.authority(o.agency)->verify_key.view()) << " (pinned in "
            << pki.trust_store().string() << ")\n"
            << "  secret key: " << pki.authority_key(o.agency).string() << " (mode 0600)\n"
            << "  revocation list 1 (empty): " << pki.revocation_list(o.agency).string() << "\n";
}

// ---- certs issue -------------------------------------------------------------

struct IssueOptions {
  std::string pki, node, agency, clearance, days = std::to_string(kDefaultDays);
  std::vector<std::string> roles;
  bool replace = false;
};

void run_issue(const IssueOptions& o) {
  constexpr std::string_view cmd = "certs issue";
  require_id(cmd, "node", o.node);
  require_id(cmd, "agency", o.agency);
  for (const auto& r : o.roles) require_id(cmd, "role", r);
  auto clearance = identity::classification_from_name(o.clearance);
  if (!clearance) {
    usage(cmd,
          "clearance '" + o.clearance + "' is not one of UNCLASSIFIED, RESTRICTED, CONFIDENTIAL, SECRET, TOP_SECRET");
  }
  const Window w = window_from_now(cmd, o.days);
  const PkiPaths pki(o.pki);
  identity::IssueRequest req{o.node, o.agency, *clearance, o.roles, w.not_before, w.not_after, 0};
  const bool exists = path_exists(pki.credential(o.node));
  if (exists && !o.replace) {
    certs::refuse(cmd, Code::DUPLICATE_OBJECT,
                  "node " + o.node + " already has a credential (" + pki.credential(o.node).string() +
                      "); give --replace to issue a new one and revoke the old serial (reason retired)");
  }
  if (!exists && o.replace) {
    usage(cmd, "--replace: node " + o.node + " has no credential in " + pki.directory().string() + " to replace");
  }
  identity::Credential cred;
  std::string revoked;
  if (exists) {
    auto reissued = identity::reissue_node(pki, req, now_seconds());
    if (!reissued) fail(cmd, reissued.status());
    cred = reissued->credential;
    revoked = "  revoked the old serial " + std::to_string(reissued->retired_serial) + " (retired: its past " +
              "signatures stand) in " + reissued->retired_agency + " revocation list " +
              std::to_string(reissued->revocation_list) + "\n";
  } else {
    auto issued = identity::issue_node(pki, req);
    if (!issued) fail(cmd, issued.status());
    cred = std::move(issued).value();
  }
  std::cout << "issued credential of " << cred.node_id << ": agency " << cred.agency << " (" << cred.country
            << "), clearance " << identity::classification_name(cred.clearance) << ", roles [" << join(cred.roles)
            << "], serial " << cred.serial << "\n"
            << "  valid from " << format_utc_seconds(cred.not_before) << " until " << format_utc_seconds(cred.not_after)
            << "\n"
            << "  credential: " << pki.credential(cred.node_id).string() << "\n"
            << "  node keys:  " << pki.node_key(cred.node_id).string() << " (mode 0600)\n"
            << revoked << kReloadReminder;
}

// ---- certs charter create / cosign -------------------------------------------

struct CharterCreateOptions {
  std::string pki, unit, host, days = std::to_string(kDefaultDays);
  std::vector<std::string> members;
};

void run_charter_create(const CharterCreateOptions& o) {
  constexpr std::string_view cmd = "certs charter create";
  require_id(cmd, "unit", o.unit);
  require_id(cmd, "host agency", o.host);
  std::set<std::string> seen;
  for (const auto& m : o.members) {
    require_id(cmd, "member", m);
    if (!seen.insert(m).second) usage(cmd, "member " + m + " is listed twice");
  }
  const PkiPaths pki(o.pki);
  const auto trust = load_trust(cmd, pki);
  if (trust.authority(o.host) == nullptr) {
    fail(cmd, Status::fail(Code::UNKNOWN_AUTHORITY,
                           "host agency " + o.host + " has no authority in " + pki.trust_store().string()));
  }
  const Window w = window_from_now(cmd, o.days);
  auto version = identity::create_charter(pki, o.unit, o.host, o.members, w.not_before, w.not_after);
  if (!version) fail(cmd, version.status());
  const CharterFile file = read_charter_file(cmd, pki, o.unit, *version);
  std::cout << *version << "\n"
            << "charter " << o.unit << " v" << *version << " written to " << pki.charter(o.unit, *version).string()
            << ", valid until " << format_utc_seconds(w.not_after) << "\n"
            << "  it takes effect once signed by: " << join(file.required) << " (certs charter cosign --unit " << o.unit
            << " --version " << *version << " --agency ...)\n";
}

struct CharterCosignOptions {
  std::string pki, unit, version, agency;
};

void run_charter_cosign(const CharterCosignOptions& o) {
  constexpr std::string_view cmd = "certs charter cosign";
  require_id(cmd, "unit", o.unit);
  require_id(cmd, "agency", o.agency);
  const std::uint64_t version = parse_number(cmd, "--version", o.version, 1, UINT64_MAX);
  const PkiPaths pki(o.pki);
  const CharterFile before = read_charter_file(cmd, pki, o.unit, version);
  if (std::find(before.required.begin(), before.required.end(), o.agency) == before.required.end()) {
    fail(cmd, Status::fail(Code::WRONG_AUTHORITY, o.agency + " is neither the host nor a member agency of " + o.unit +
                                                      " v" + std::to_string(version) +
                                                      " (parties: " + join(before.required) + ")"));
  }
  Status s = identity::cosign_charter_file(pki, o.unit, version, o.agency);
  if (!s) fail(cmd, s);
  const auto missing = read_charter_file(cmd, pki, o.unit, version).missing();
  std::cout << "charter " << o.unit << " v" << version << " signed by " << o.agency << "; ";
  if (missing.empty()) {
    std::cout << "it now carries every required signature\n";
  } else {
    std::cout << "still missing: " << join(missing) << "\n";
  }
}

// ---- certs broker ------------------------------------------------------------

struct BrokerOptions {
  std::string pki, id = "tearline-broker", agency, days = std::to_string(kDefaultDays);
  bool force = false;
  bool additional = false;  // a further broker (keys/brokers/ID.key), beside the first
};

void run_broker(const BrokerOptions& o) {
  constexpr std::string_view cmd = "certs broker";
  require_id(cmd, "broker id", o.id);
  const Window w = window_from_now(cmd, o.days);
  const PkiPaths pki(o.pki);
  std::string agency = o.agency;
  if (agency.empty()) {
    const auto trust = load_trust(cmd, pki);
    if (trust.authorities().size() != 1) {
      usage(cmd, "give --agency: the agency that issues the broker's credential (the PKI has " +
                     std::to_string(trust.authorities().size()) + " authorities)");
    }
    agency = trust.authorities().begin()->first;
  }
  require_id(cmd, "agency", agency);
  if (o.additional) {
    if (!path_exists(pki.broker_key())) {
      usage(cmd, "--additional adds a broker beside the PKI's first, and " + pki.broker_key().string() +
                     " does not exist: make the first without --additional");
    }
    if (path_exists(pki.credential(o.id)) && !o.force) {
      usage(cmd, "a credential of " + o.id + " already exists in " + pki.credential(o.id).string() +
                     "; choose another --id or use --force to replace its keys");
    }
    Status s = identity::init_broker(pki, {o.id, agency, w.not_before, w.not_after}, /*first=*/false);
    if (!s) fail(cmd, s);
    std::cout << "broker keys of " << o.id << " written to " << pki.other_broker_key(o.id).string() << " (mode 0600)\n"
              << "  credential of " << o.id << " (role broker, issued by " << agency << "), valid until "
              << format_utc_seconds(w.not_after) << ": " << pki.credential(o.id).string() << "\n"
              << "  nodes reach it with --broker-id " << o.id << " (its CURVE key is in its credential)\n";
    return;
  }
  if (path_exists(pki.broker_key()) && !o.force) {
    usage(cmd, "broker keys already exist in " + pki.broker_key().string() +
                   "; use --force to replace them (nodes must then be given the new broker.pub)");
  }
  if (path_exists(pki.credential(o.id)) && !o.force) {
    usage(cmd, "a credential of " + o.id + " already exists in " + pki.credential(o.id).string() +
                   "; choose another --id or use --force");
  }
  Status s = identity::init_broker(pki, {o.id, agency, w.not_before, w.not_after});
  if (!s) fail(cmd, s);
  auto pub = read_file(pki.broker_public());
  if (!pub) fail(cmd, pub.status());
  std::string z85 = to_string(*pub);
  while (!z85.empty() && (z85.back() == '\n' || z85.back() == '\r')) z85.pop_back();
  std::cout << "broker keys written to " << pki.broker_key().string() << " (mode 0600)\n"
            << "  transport public key (Z85): " << one_line(z85) << "\n"
            << "  published in " << pki.broker_public().string() << "\n"
            << "  credential of " << o.id << " (role broker, issued by " << agency << "), valid until "
            << format_utc_seconds(w.not_after) << ": " << pki.credential(o.id).string() << "\n";
}

// ---- registration ------------------------------------------------------------

void add_demo(CLI::App& certs) {
  auto o = std::make_shared<DemoOptions>();
  auto* sub = certs.add_subcommand("demo",
                                   "Generate the whole demo PKI of a roster: authorities, node credentials "
                                   "and keys, co-signed unit charters, revocation lists, broker keys");
  sub->add_option("--roster", o->roster, "Roster TOML describing agencies, nodes and units")->capture_default_str();
  sub->add_option("--out", o->out, "Folder to generate the PKI into")->capture_default_str();
  sub->add_flag("--force", o->force, "Remove an existing PKI in --out and generate a new one");
  sub->callback([o] { run_demo(*o); });
}

void add_init_authority(CLI::App& certs) {
  auto o = std::make_shared<AuthorityOptions>();
  auto* sub = certs.add_subcommand("init-authority",
                                   "Create an agency authority: a signing key in keys/authorities/, "
                                   "its public key pinned in directory/trust.toml");
  sub->add_option("--pki", o->pki, kPkiHelp)->type_name("DIR")->required();
  sub->add_option("--agency", o->agency, "Agency id, e.g. DIRAN")->required();
  sub->add_option("--country", o->country, "ISO 3166-1 alpha-3 country code, e.g. COL")->required();
  sub->callback([o] { run_init_authority(*o); });
}

void add_issue(CLI::App& certs) {
  auto o = std::make_shared<IssueOptions>();
  auto* sub = certs.add_subcommand("issue",
                                   "Generate a node's keys and a credential signed by its agency "
                                   "(serial: one more than the agency's highest). Refuses a node that has a "
                                   "credential unless --replace");
  sub->add_option("--pki", o->pki, kPkiHelp)->type_name("DIR")->required();
  sub->add_option("--node", o->node, "Node id")->required();
  sub->add_option("--agency", o->agency, "The node's home agency (must have an authority)")->required();
  sub->add_option("--clearance", o->clearance, "UNCLASSIFIED, RESTRICTED, CONFIDENTIAL, SECRET or TOP_SECRET")
      ->required();
  sub->add_option("--role", o->roles, "A role of the node (repeatable)");
  sub->add_option("--days", o->days, "Validity in days (1-3650)")->type_name("DAYS")->capture_default_str();
  sub->add_flag("--replace", o->replace,
                "Re-issue a node that has a credential: new keys and serial, and the old serial revoked (retired) "
                "in the same step");
  sub->callback([o] { run_issue(*o); });
}

void add_charter(CLI::App& certs) {
  auto* charter = certs.add_subcommand("charter", "Create and co-sign joint-unit charters");
  charter->require_subcommand(1);

  auto c = std::make_shared<CharterCreateOptions>();
  auto* create = charter->add_subcommand("create", "Write a new charter version (unsigned) and print its version");
  create->add_option("--pki", c->pki, kPkiHelp)->type_name("DIR")->required();
  create->add_option("--unit", c->unit, "Unit id")->required();
  create->add_option("--host", c->host, "Host agency")->required();
  create->add_option("--member", c->members, "Member node ids (each must have a credential)")->required();
  create->add_option("--days", c->days, "Validity in days (1-3650)")->type_name("DAYS")->capture_default_str();
  create->callback([c] { run_charter_create(*c); });

  auto s = std::make_shared<CharterCosignOptions>();
  auto* cosign = charter->add_subcommand("cosign",
                                         "Add an agency's consent (signature) to a charter; it takes effect "
                                         "once the host and every member's agency have signed");
  cosign->add_option("--pki", s->pki, kPkiHelp)->type_name("DIR")->required();
  cosign->add_option("--unit", s->unit, "Unit id")->required();
  cosign->add_option("--version", s->version, "Charter version")->type_name("N")->required();
  cosign->add_option("--agency", s->agency, "The signing agency (host or a member's agency)")->required();
  cosign->callback([s] { run_charter_cosign(*s); });
}

void add_broker(CLI::App& certs) {
  auto o = std::make_shared<BrokerOptions>();
  auto* sub = certs.add_subcommand("broker",
                                   "Generate the broker's transport and audit keys, publish directory/broker.pub, "
                                   "and issue the broker's credential (role broker: it signs acceptance receipts)");
  sub->add_option("--pki", o->pki, kPkiHelp)->type_name("DIR")->required();
  sub->add_option("--id", o->id, "The broker's id in the directory")->capture_default_str();
  sub->add_option("--agency", o->agency,
                  "The agency that issues the broker's credential (default: the PKI's only authority)");
  sub->add_option("--days", o->days, "Validity in days (1-3650)")->type_name("DAYS")->capture_default_str();
  sub->add_flag("--force", o->force, "Replace existing broker keys and credential");
  sub->add_flag("--additional", o->additional,
                "Add a further broker beside the PKI's first (brokers sharing one store): keys in "
                "keys/brokers/ID.key, its CURVE key only in its credential (nodes use --broker-id ID)");
  sub->callback([o] { run_broker(*o); });
}

}  // namespace

void add_certs_command(CLI::App& app) {
  CLI::App* certs = app.add_subcommand("certs", "Issue and inspect the PKI of the trust model (docs/trust-model.md)");
  certs->require_subcommand(1);
  add_demo(*certs);
  add_init_authority(*certs);
  add_issue(*certs);
  add_charter(*certs);
  certs::add_revoke(*certs);
  add_broker(*certs);
  certs::add_show(*certs);
  certs::add_inspect(*certs);
  certs::add_peering(*certs);
  certs::add_import(*certs);
}

}  // namespace tearline::cli
