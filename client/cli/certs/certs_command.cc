// `tearline certs`: issue and inspect the PKI of the trust model
// (docs/trust-model.md). Each subcommand is a thin shell over lib/identity:
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
using certs::load_trust;
using certs::now_seconds;
using certs::parse_number;
using certs::path_exists;
using certs::require_id;
using certs::usage;
using identity::PkiPaths;

constexpr std::uint64_t kDefaultDays = 365;
constexpr std::uint64_t kMaxDays = 3650;
// Objects issued here start an hour early, as generate_from_roster's do, so a
// verifier whose clock is slightly behind does not see NOT_YET_VALID.
constexpr std::int64_t kClockSkewSeconds = 3600;
constexpr std::int64_t kSecondsPerDay = 86400;

struct Window {
  std::int64_t not_before, not_after;
};
Window window_from_now(std::string_view command, const std::string& days_text) {
  const auto days = static_cast<std::int64_t>(parse_number(command, "--days", days_text, 1, kMaxDays));
  const std::int64_t now = now_seconds();
  return {now - kClockSkewSeconds, now + days * kSecondsPerDay};
}

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
  if (!path_exists(pki.charter(unit, version))) {
    const std::uint64_t latest = identity::latest_charter_version(pki.directory(), unit);
    fail(command,
         Status::fail(Code::INVALID_FIELD, "charter " + unit + " v" + std::to_string(version) + " does not exist in " +
                                               pki.directory().string() + "; " +
                                               (latest == 0 ? "unit " + unit + " has no charter (certs charter create)"
                                                            : "the latest version is v" + std::to_string(latest))));
  }
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

constexpr std::string_view kReloadReminder =
    "  the broker reads the directory at start: run `tearline admin reload` (a node with the admin role) or send "
    "it SIGHUP\n";

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

// ---- certs revoke ------------------------------------------------------------

struct RevokeOptions {
  std::string pki, agency, reason, compromised_at;
  std::vector<std::string> serials, nodes, charters;
};

// --compromised-at: RFC 3339 UTC to the second ("2026-03-01T12:00:00Z") or
// unix seconds; a revocation time is whole seconds (identity.proto).
std::int64_t parse_compromised_at(std::string_view command, const std::string& text) {
  const std::string what = "--compromised-at '" + text + "' ";
  if (!text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return static_cast<std::int64_t>(parse_number(command, "--compromised-at", text, 1, INT64_MAX / 1000));
  }
  auto ms = parse_utc_ms(text);
  if (!ms) usage(command, what + "must be a UTC time like 2026-03-01T12:00:00Z, or unix seconds");
  if (*ms <= 0 || *ms % 1000 != 0) usage(command, what + "must be a whole second after 1970-01-01T00:00:00Z");
  return *ms / 1000;
}

// The node's credential file, verified; UNKNOWN_NODE when it has none.
identity::Credential credential_of_node(std::string_view cmd, const PkiPaths& pki, const std::string& node) {
  require_id(cmd, "node", node);
  if (!path_exists(pki.credential(node))) {
    fail(cmd, Status::fail(Code::UNKNOWN_NODE,
                           "node " + node + " has no credential in " + (pki.directory() / "credentials").string()));
  }
  auto cred = identity::read_credential(pki, node);
  if (!cred) fail(cmd, cred.status());
  return std::move(cred).value();
}

// The serials --node names: each node's credential (verified), which must be
// the revoking agency's.
std::vector<std::string> serials_of_nodes(std::string_view cmd, const PkiPaths& pki, const std::string& agency,
                                          const std::vector<std::string>& nodes) {
  std::vector<std::string> out;
  for (const auto& node : nodes) {
    const identity::Credential cred = credential_of_node(cmd, pki, node);
    if (cred.agency != agency) {
      usage(cmd, "node " + node + "'s credential is issued by " + cred.agency + ", not " + agency + " (give --agency " +
                     cred.agency + ")");
    }
    out.push_back(std::to_string(cred.serial));
  }
  return out;
}

// INVALID_FIELD (exit 2: an argument that names nothing) for a serial that
// is neither one of the agency's credentials in the folder nor already on
// its list (a listed serial may take a new reason).
void require_known_serials(std::string_view cmd, const PkiPaths& pki, const std::string& agency,
                           const std::vector<identity::CredentialRevocation>& credentials) {
  const auto issued = identity::credential_serials(pki, agency);
  std::set<std::uint64_t> listed;
  if (auto bytes = read_file(pki.revocation_list(agency), 1u << 20)) {
    if (auto list = identity::verify_revocation_list(*bytes, load_trust(cmd, pki))) {
      for (const auto& [serial, why] : list->revoked) listed.insert(serial);
    }
  }
  for (const auto& c : credentials) {
    if (issued.count(c.serial) != 0 || listed.count(c.serial) != 0) continue;
    std::vector<std::string> known;
    for (const auto& [serial, node] : issued) known.push_back(std::to_string(serial) + " (" + node + ")");
    fail(cmd, Status::fail(Code::INVALID_FIELD, "serial " + std::to_string(c.serial) + " names no credential of " +
                                                    agency + " in " + pki.directory().string() + "; " + agency +
                                                    "'s serials: " + join(known, ", ", "none")));
  }
}

void run_revoke(const RevokeOptions& o) {
  constexpr std::string_view cmd = "certs revoke";
  const PkiPaths pki(o.pki);
  identity::RevocationReason reason = identity::RevocationReason::kCompromised;
  if (o.reason == "retired") {
    reason = identity::RevocationReason::kRetired;
  } else if (o.reason != "compromised" && !o.reason.empty()) {
    usage(cmd, "--reason '" + o.reason +
                   "' must be retired (past signatures stand) or compromised (signatures from --compromised-at on "
                   "are void)");
  }
  const bool credentials_named = !o.serials.empty() || !o.nodes.empty();
  if (credentials_named && o.reason.empty()) {
    usage(cmd,
          std::string(o.serials.empty() ? "--node" : "--serial") + " needs --reason retired or --reason compromised");
  }
  if (!credentials_named && !o.reason.empty()) {
    usage(cmd, "--reason applies to --serial or --node: give the credentials it revokes");
  }
  if (!o.compromised_at.empty() && (!credentials_named || reason != identity::RevocationReason::kCompromised)) {
    usage(cmd, "--compromised-at goes with --serial N --reason compromised (a retired key's signatures stand)");
  }
  if (!credentials_named && o.charters.empty()) {
    usage(cmd, "name what to revoke: --node ID or --serial N (with --reason), or --charter UNIT:VERSION");
  }
  std::string agency = o.agency;
  if (agency.empty()) {
    if (o.nodes.empty()) usage(cmd, "give --agency: the agency whose revocation list is issued");
    agency = credential_of_node(cmd, pki, o.nodes.front()).agency;
  }
  require_id(cmd, "agency", agency);
  std::vector<std::string> serial_texts = o.serials;
  const std::int64_t now = now_seconds();
  const std::int64_t since = o.compromised_at.empty() ? now : parse_compromised_at(cmd, o.compromised_at);
  for (const auto& s : serials_of_nodes(cmd, pki, agency, o.nodes)) serial_texts.push_back(s);
  std::vector<identity::CredentialRevocation> credentials;
  credentials.reserve(serial_texts.size());
  for (const auto& s : serial_texts) {
    const std::uint64_t serial = parse_number(cmd, "--serial", s, 1, UINT64_MAX);
    credentials.push_back({serial, reason, reason == identity::RevocationReason::kCompromised ? since : 0});
  }
  std::vector<std::pair<std::string, std::uint64_t>> charters;
  charters.reserve(o.charters.size());
  for (const auto& c : o.charters) {
    const auto colon = c.rfind(':');
    if (colon == std::string::npos) usage(cmd, "--charter '" + c + "' must be UNIT:VERSION");
    const std::string unit = c.substr(0, colon);
    require_id(cmd, "unit", unit);
    charters.emplace_back(unit,
                          parse_number(cmd, "charter version", std::string_view(c).substr(colon + 1), 1, UINT64_MAX));
  }
  require_known_serials(cmd, pki, agency, credentials);
  auto number = identity::revoke(pki, agency, credentials, charters, now);
  if (!number) fail(cmd, number.status());
  std::cout << *number << "\n"
            << agency << " revocation list " << *number << " issued; newly revoked: " << credentials.size()
            << " serial(s), " << charters.size() << " charter(s)\n";
  if (!credentials.empty()) {
    std::cout << "  serial(s) " << join(serial_texts) << ": " << identity::revocation_reason_name(reason);
    if (reason == identity::RevocationReason::kCompromised) {
      std::cout << " at " << format_utc_seconds(since) << " (reports accepted from then on are void)";
    } else {
      std::cout << " (signatures made before stand)";
    }
    std::cout << "\n";
  }
  std::cout << kReloadReminder;
}

// ---- certs broker ------------------------------------------------------------

struct BrokerOptions {
  std::string pki, id = "tearline-broker", agency, days = std::to_string(kDefaultDays);
  bool force = false;
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

void add_revoke(CLI::App& certs) {
  auto o = std::make_shared<RevokeOptions>();
  auto* sub = certs.add_subcommand("revoke",
                                   "Issue the agency's next revocation list (everything already revoked "
                                   "plus the given items) and print its number");
  sub->add_option("--pki", o->pki, kPkiHelp)->type_name("DIR")->required();
  sub->add_option("--agency", o->agency, "The revoking agency (default with --node: the node's issuer)");
  sub->add_option("--serial", o->serials, "Credential serial of this agency to revoke (repeatable; needs --reason)")
      ->type_name("N");
  sub->add_option("--node", o->nodes, "Revoke this node's current credential (repeatable; needs --reason)")
      ->type_name("ID");
  sub->add_option(
         "--reason", o->reason,
         "Why the --serial/--node credentials are revoked: retired (their past signatures stand) or compromised "
         "(signatures from --compromised-at on are void)")
      ->type_name("retired|compromised");
  sub->add_option("--compromised-at", o->compromised_at,
                  "With --reason compromised: from when its signatures are void, as 2026-03-01T12:00:00Z or unix "
                  "seconds (default: now)")
      ->type_name("TIME");
  sub->add_option("--charter", o->charters, "Charter version to withdraw consent from, as UNIT:VERSION (repeatable)")
      ->type_name("UNIT:VERSION");
  sub->callback([o] { run_revoke(*o); });
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
  add_revoke(*certs);
  add_broker(*certs);
  certs::add_show(*certs);
  certs::add_inspect(*certs);
}

}  // namespace tearline::cli
