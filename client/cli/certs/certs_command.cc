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
#include "cli/common/commands.h"
#include "identity/countries.h"
#include "identity/directory.h"
#include "identity/pki.h"
#include "identity/roster.h"

namespace tearline::cli {
namespace {
namespace fs = std::filesystem;
namespace v1 = tearline::v1;
using identity::PkiPaths;

constexpr std::uint64_t kDefaultDays = 365;
constexpr std::uint64_t kMaxDays = 3650;
// Objects issued here start an hour early, as generate_from_roster's do, so a
// verifier whose clock is slightly behind does not see NOT_YET_VALID.
constexpr std::int64_t kClockSkewSeconds = 3600;
constexpr std::int64_t kSecondsPerDay = 86400;

std::int64_t now_seconds() { return SystemClock::instance().now_seconds(); }

// Messages can quote parser output; the error must stay on one line.
std::string one_line(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

[[noreturn]] void fail(std::string_view command, const Status& status) {
  throw CommandExit(exit_code_for(status.code()), one_line(std::string(command) + ": " + status.to_string()));
}

[[noreturn]] void usage(std::string_view command, const std::string& message) {
  throw CommandExit(kExitUsage, one_line(std::string(command) + ": " + message));
}

void require_id(std::string_view command, std::string_view what, const std::string& id) {
  if (!identity::is_valid_id(id)) {
    usage(command, std::string(what) + " '" + id +
                       "' is not a valid id (1-64 characters of A-Z a-z 0-9 _ - ., not starting with '.')");
  }
}

// A decimal number in [min, max]; no sign, no other base.
std::uint64_t parse_number(std::string_view command, std::string_view what, std::string_view text, std::uint64_t min,
                           std::uint64_t max) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    usage(command, std::string(what) + " '" + std::string(text) + "' must be a number from " + std::to_string(min) +
                       " to " + std::to_string(max));
  }
  return value;
}

struct Window {
  std::int64_t not_before, not_after;
};
Window window_from_now(std::string_view command, const std::string& days_text) {
  const auto days = static_cast<std::int64_t>(parse_number(command, "--days", days_text, 1, kMaxDays));
  const std::int64_t now = now_seconds();
  return {now - kClockSkewSeconds, now + days * kSecondsPerDay};
}

std::string join(const std::vector<std::string>& items, std::string_view sep = ", ") {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += sep;
    out += item;
  }
  return out;
}

bool path_exists(const fs::path& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

identity::TrustStore load_trust(std::string_view command, const PkiPaths& pki) {
  auto trust = identity::TrustStore::load(pki.trust_store());
  if (!trust) fail(command, trust.status());
  return std::move(trust).value();
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
  std::cout << "generated the PKI of " << o.roster << " in " << o.out << "\n"
            << "  agencies: " << agencies.size() << " (" << join(agencies) << ")\n"
            << "  nodes:    " << (*dir)->nodes().size() << "\n"
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
  auto cred = identity::issue_node(pki, req);
  if (!cred) fail(cmd, cred.status());
  std::cout << "issued credential of " << cred->node_id << ": agency " << cred->agency << " (" << cred->country
            << "), clearance " << identity::classification_name(cred->clearance) << ", roles [" << join(cred->roles)
            << "], serial " << cred->serial << "\n"
            << "  valid from " << format_utc_seconds(cred->not_before) << " until "
            << format_utc_seconds(cred->not_after) << "\n"
            << "  credential: " << pki.credential(cred->node_id).string() << "\n"
            << "  node keys:  " << pki.node_key(cred->node_id).string() << " (mode 0600)\n";
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
  std::string pki, agency;
  std::vector<std::string> serials, charters;
};

void run_revoke(const RevokeOptions& o) {
  constexpr std::string_view cmd = "certs revoke";
  require_id(cmd, "agency", o.agency);
  // `{serial}` alone: COMPROMISED from the list's issue time (identity/pki.h).
  std::vector<identity::CredentialRevocation> serials;
  serials.reserve(o.serials.size());
  for (const auto& s : o.serials) serials.push_back({parse_number(cmd, "--serial", s, 1, UINT64_MAX)});
  std::vector<std::pair<std::string, std::uint64_t>> charters;
  for (const auto& c : o.charters) {
    const auto colon = c.rfind(':');
    if (colon == std::string::npos) usage(cmd, "--charter '" + c + "' must be UNIT:VERSION");
    const std::string unit = c.substr(0, colon);
    require_id(cmd, "unit", unit);
    charters.emplace_back(unit,
                          parse_number(cmd, "charter version", std::string_view(c).substr(colon + 1), 1, UINT64_MAX));
  }
  auto number = identity::revoke(PkiPaths(o.pki), o.agency, serials, charters, now_seconds());
  if (!number) fail(cmd, number.status());
  std::cout << *number << "\n"
            << o.agency << " revocation list " << *number << " issued; newly revoked: " << serials.size()
            << " serial(s), " << charters.size() << " charter(s)\n";
}

// ---- certs broker ------------------------------------------------------------

struct BrokerOptions {
  std::string pki;
  bool force = false;
};

void run_broker(const BrokerOptions& o) {
  constexpr std::string_view cmd = "certs broker";
  const PkiPaths pki(o.pki);
  if (path_exists(pki.broker_key()) && !o.force) {
    usage(cmd, "broker keys already exist in " + pki.broker_key().string() +
                   "; use --force to replace them (nodes must then be given the new broker.pub)");
  }
  Status s = identity::init_broker(pki, {"tearline-broker", "DIRAN", now_seconds() - 3600, now_seconds() + 365 * 86400});  // TODO(cli helper): --id, --agency
  if (!s) fail(cmd, s);
  auto pub = read_file(pki.broker_public());
  if (!pub) fail(cmd, pub.status());
  std::string z85 = to_string(*pub);
  while (!z85.empty() && (z85.back() == '\n' || z85.back() == '\r')) z85.pop_back();
  std::cout << "broker keys written to " << pki.broker_key().string() << " (mode 0600)\n"
            << "  transport public key (Z85): " << one_line(z85) << "\n"
            << "  published in " << pki.broker_public().string() << "\n";
}

// ---- certs show --------------------------------------------------------------

struct ShowOptions {
  std::string pki;
};

void print_node(const identity::Directory& dir, const identity::Credential& c, std::int64_t now) {
  std::cout << "  " << c.node_id << "\n"
            << "    agency " << c.agency << " (" << c.country << "), clearance "
            << identity::classification_name(c.clearance) << ", roles [" << join(c.roles) << "], serial " << c.serial
            << "\n"
            << "    units in force: [" << join(dir.units_of(c.node_id, now)) << "]\n";
  Status status = dir.check_node(c.node_id, now);
  if (status) {
    std::cout << "    status: VALID from " << format_utc_seconds(c.not_before) << " until "
              << format_utc_seconds(c.not_after) << "\n";
  } else {
    std::cout << "    status: " << status.to_string() << " (window " << format_utc_seconds(c.not_before) << " .. "
              << format_utc_seconds(c.not_after) << ")\n";
  }
}

void print_unit(const identity::Directory& dir, const std::string& unit, std::int64_t now) {
  auto charter = dir.charter_in_force(unit, now);
  if (!charter) {
    std::cout << "  " << unit << ": NOT IN FORCE: " << charter.status().to_string() << "\n";
    return;
  }
  const identity::Charter& c = **charter;
  std::vector<std::string> members;
  members.reserve(c.members.size());
  for (const auto& m : c.members) members.push_back(m.node_id + " (" + m.agency + ")");
  std::cout << "  " << unit << " v" << c.version << ", host " << c.host_agency << ", in force until "
            << format_utc_seconds(c.not_after) << "\n"
            << "    members: " << join(members) << "\n";
}

void print_issues(std::string_view title, const std::vector<identity::LoadIssue>& issues) {
  std::cout << title << " (" << issues.size() << "):\n";
  for (const auto& issue : issues) {
    std::cout << "  " << issue.object << ": " << code_name(issue.reason.code) << ": " << issue.reason.message << "\n";
  }
}

void run_show(const ShowOptions& o) {
  constexpr std::string_view cmd = "certs show";
  // --pki is a PKI root; a bare public directory (what a broker holds) works too.
  const PkiPaths pki(o.pki);
  fs::path dir_path = pki.directory();
  if (!path_exists(pki.trust_store()) && path_exists(fs::path(o.pki) / "trust.toml")) dir_path = o.pki;
  const std::int64_t now = now_seconds();
  identity::LoadReport report;
  auto loaded = identity::Directory::load(dir_path, now, &report);
  if (!loaded) fail(cmd, loaded.status());
  const identity::Directory& dir = **loaded;

  std::cout << "directory " << dir_path.string() << " at " << format_utc_seconds(now) << "\n";
  std::cout << "authorities (" << dir.trust().authorities().size() << "):\n";
  for (const auto& [agency, a] : dir.trust().authorities()) {
    std::cout << "  " << agency << " (" << a.country << ") key " << to_hex(a.verify_key.view()) << "\n";
    const identity::RevocationList* rl = dir.revocation_list(agency);
    if (rl == nullptr) {
      std::cout << "    no revocation list\n";
    } else {
      std::vector<std::string> serials, charters;
      for (const auto& [serial, why] : rl->revoked) {
        std::string entry = std::to_string(serial) + " " + std::string(identity::revocation_reason_name(why.reason));
        if (why.reason == identity::RevocationReason::kCompromised) entry += " at " + format_utc_seconds(why.compromised_at);
        serials.push_back(entry);
      }
      for (const auto& [unit, version] : rl->revoked_charters) charters.push_back(unit + ":" + std::to_string(version));
      std::cout << "    revocation list " << rl->number;
      if (rl->issued_at != 0) std::cout << " issued " << format_utc_seconds(rl->issued_at);
      std::cout << ": serials [" << join(serials) << "], charters [" << join(charters) << "]\n";
    }
  }
  const auto nodes = dir.nodes();
  std::cout << "nodes (" << nodes.size() << "):\n";
  for (const identity::Credential* c : nodes) print_node(dir, *c, now);
  const auto units = dir.unit_ids();
  std::cout << "units (" << units.size() << "):\n";
  for (const auto& unit : units) print_unit(dir, unit, now);
  print_issues("rejected objects", report.rejected);
  print_issues("warnings", report.warnings);
  if (!report.rejected.empty()) {
    throw CommandExit(kExitFailure, std::string(cmd) + ": " + std::to_string(report.rejected.size()) +
                                        " object(s) rejected (listed above)");
  }
}

// ---- registration ------------------------------------------------------------

constexpr const char* kPkiHelp = "PKI folder (holds directory/ and keys/)";

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
                                   "(serial: one more than the agency's highest)");
  sub->add_option("--pki", o->pki, kPkiHelp)->type_name("DIR")->required();
  sub->add_option("--node", o->node, "Node id")->required();
  sub->add_option("--agency", o->agency, "The node's home agency (must have an authority)")->required();
  sub->add_option("--clearance", o->clearance, "UNCLASSIFIED, RESTRICTED, CONFIDENTIAL, SECRET or TOP_SECRET")
      ->required();
  sub->add_option("--role", o->roles, "A role of the node (repeatable)");
  sub->add_option("--days", o->days, "Validity in days (1-3650)")->type_name("DAYS")->capture_default_str();
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
  sub->add_option("--agency", o->agency, "The revoking agency")->required();
  sub->add_option("--serial", o->serials, "Credential serial of this agency to revoke (repeatable)")->type_name("N");
  sub->add_option("--charter", o->charters, "Charter version to withdraw consent from, as UNIT:VERSION (repeatable)")
      ->type_name("UNIT:VERSION");
  sub->callback([o] { run_revoke(*o); });
}

void add_broker(CLI::App& certs) {
  auto o = std::make_shared<BrokerOptions>();
  auto* sub = certs.add_subcommand("broker",
                                   "Generate the broker's transport and audit keys and publish "
                                   "directory/broker.pub");
  sub->add_option("--pki", o->pki, kPkiHelp)->type_name("DIR")->required();
  sub->add_flag("--force", o->force, "Replace existing broker keys");
  sub->callback([o] { run_broker(*o); });
}

void add_show(CLI::App& certs) {
  auto o = std::make_shared<ShowOptions>();
  auto* sub = certs.add_subcommand("show",
                                   "Load and verify the directory; print every authority, node (status now), "
                                   "unit and rejected object. Exits 1 if any object is rejected");
  sub->add_option("--pki", o->pki, "PKI folder, or a public directory folder holding trust.toml")->required();
  sub->callback([o] { run_show(*o); });
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
  add_show(*certs);
}

}  // namespace tearline::cli
