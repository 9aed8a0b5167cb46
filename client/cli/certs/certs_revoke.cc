// `tearline certs revoke`: issues the agency's next revocation list, with
// everything its current list revokes plus the credentials (--serial, --node)
// charters (--charter) and peerings (--peering) named. Refuses, before anything is written, a
// revoke naming nothing and a serial that names no credential of the agency
// (exit 2, cli/common/exit_codes.h: an argument naming nothing is bad input,
// like an unknown --node).
#include <algorithm>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/canonical_proto.h"
#include "base/files.h"
#include "base/time_format.h"
#include "cli/certs/certs_args.h"
#include "cli/common/print.h"
#include "federation/peering_files.h"
#include "identity/pki.h"

namespace tearline::cli::certs {
namespace {

using identity::PkiPaths;

struct RevokeOptions {
  std::string pki, agency, reason, compromised_at;
  std::vector<std::string> serials, nodes, charters, peerings;
};

// --peering ID:VERSION: the version's file must exist and name `agency` as a
// party (another agency's list does not count for a peering: revoked_up_to).
std::pair<std::string, std::uint64_t> peering_to_revoke(std::string_view cmd, const PkiPaths& pki,
                                                        const std::string& agency, const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) usage(cmd, "--peering '" + text + "' must be ID:VERSION");
  const std::string id = text.substr(0, colon);
  require_id(cmd, "peering id", id);
  const std::uint64_t version =
      parse_number(cmd, "peering version", std::string_view(text).substr(colon + 1), 1, UINT64_MAX);
  // Our copy of the version, or else a partner's copy of it (<id>.v<N>+<AGENCY>).
  auto file = federation::peering_file(pki.directory(), id, version);
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    for (const auto& e : std::filesystem::directory_iterator(file.parent_path(), ec)) {
      const std::string name = e.path().filename().string();
      if (name.rfind(id + ".v" + std::to_string(version) + "+", 0) == 0) file = e.path();
    }
  }
  auto bytes = read_file(file, 1u << 20);
  if (!bytes) {
    const std::uint64_t latest = federation::latest_peering_version(pki.directory(), id);
    fail(cmd,
         Status::fail(Code::INVALID_FIELD, "peering " + id + " v" + std::to_string(version) + " does not exist in " +
                                               pki.directory().string() + "; " +
                                               (latest == 0 ? "there is no version of " + id
                                                            : "the latest version is v" + std::to_string(latest))));
  }
  tearline::v1::SignedObject obj;
  tearline::v1::PeeringBody body;
  Status parsed = parse_strict(*bytes, &obj, file.filename().string());
  if (parsed) parsed = parse_strict(as_bytes(obj.body()), &body, file.filename().string());
  if (!parsed) fail(cmd, parsed);
  if (body.first().agency() != agency && body.second().agency() != agency) {
    refuse(cmd, Code::WRONG_AUTHORITY,
           agency + " is not a party of peering " + id + " (parties: " + body.first().agency() + ", " +
               body.second().agency() + "): only a party's revocation list ends it");
  }
  return {id, version};
}

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
    known.reserve(issued.size());
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
  if (!credentials_named && o.charters.empty() && o.peerings.empty()) {
    usage(cmd,
          "name what to revoke: --node ID or --serial N (with --reason), --charter UNIT:VERSION or --peering "
          "ID:VERSION");
  }
  std::string agency = o.agency;
  if (agency.empty()) {
    if (o.nodes.empty()) usage(cmd, "give --agency: the agency whose revocation list is issued");
    agency = credential_of_node(cmd, pki, o.nodes.front()).agency;
  }
  require_id(cmd, "agency", agency);
  // The trust store outlives the pointer into it.
  const identity::TrustStore trust = load_trust(cmd, pki);
  if (const identity::Authority* a = trust.authority(agency); a != nullptr && a->partner) {
    refuse(cmd, Code::WRONG_AUTHORITY,
           agency + " is a partner agency here: it revokes with its own PKI, and its list comes with certs import");
  }
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
    const std::uint64_t version =
        parse_number(cmd, "charter version", std::string_view(c).substr(colon + 1), 1, UINT64_MAX);
    require_charter_file(cmd, pki, unit, version);
    charters.emplace_back(unit, version);
  }
  std::vector<std::pair<std::string, std::uint64_t>> peerings;
  peerings.reserve(o.peerings.size());
  for (const auto& p : o.peerings) peerings.push_back(peering_to_revoke(cmd, pki, agency, p));
  require_known_serials(cmd, pki, agency, credentials);
  auto number = identity::revoke(pki, agency, credentials, charters, now, peerings);
  if (!number) fail(cmd, number.status());
  std::cout << *number << "\n"
            << agency << " revocation list " << *number << " issued; newly revoked: " << credentials.size()
            << " serial(s), " << charters.size() << " charter(s), " << peerings.size() << " peering(s)\n";
  // What the list changes: the peering's state judged again now.
  auto dir = identity::Directory::load(pki.directory(), now, nullptr);
  const federation::PeeringSet set = dir ? federation::load_peerings(pki.directory(), **dir) : federation::PeeringSet{};
  for (const auto& [id, version] : peerings) {
    std::cout << "  peering " << id << ": every version up to v" << version << " is void; ";
    const federation::PeeringVerdict* v = set.find(id);
    if (v != nullptr && v->in_effect) {
      std::cout << "v" << v->in_effect->version << ", a later version, is still in effect (revoke up to it to end "
                << "the peering)\n";
    } else {
      std::cout << "no version is in effect now: a new one needs both agencies' signatures\n";
    }
  }
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

}  // namespace

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
  sub->add_option("--peering", o->peerings,
                  "Peering version to end, as ID:VERSION: every version up to it is void (repeatable; the agency "
                  "must be a party)")
      ->type_name("ID:VERSION");
  sub->callback([o] { run_revoke(*o); });
}

}  // namespace tearline::cli::certs
