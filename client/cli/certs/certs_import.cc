// `tearline certs import`: a partner agency's published directory into this
// PKI's (federation/partner_import.h, docs/federation.md). Like ssh's first
// connection, the partner's authority is pinned only with the key and
// country its operator read out of band (--verify-key, --country); later
// imports refuse a changed key or country without them. --json prints CliImport (proto/tearline/v1/cli_admin.proto).
// Exit 1 when one of the partner's objects was refused (listed), after the
// rest was imported.
#include <algorithm>
#include <iostream>
#include <memory>
#include <string>

#include "cli/certs/certs_args.h"
#include "cli/certs/certs_json.h"
#include "cli/common/print.h"
#include "federation/partner_import.h"

namespace tearline::cli::certs {
namespace {

namespace v1 = tearline::v1;
constexpr std::string_view kImportCommand = "certs import";

struct ImportOptions {
  std::string pki, from, agency, verify_key, country;
  bool json = false;
};

void add_import_list(const std::vector<std::string>& items, google::protobuf::RepeatedPtrField<std::string>* out) {
  for (const auto& i : items) out->Add(std::string(i));
}

void run_import(const ImportOptions& o) {
  require_id(kImportCommand, "agency", o.agency);
  federation::ImportRequest request;
  request.from = o.from;
  // The partner's published folder: its PKI root or its directory/ itself.
  if (!path_exists(request.from / "trust.toml") && path_exists(request.from / "directory" / "trust.toml")) {
    request.from /= "directory";
  }
  request.agency = o.agency;
  if (!o.verify_key.empty()) {
    Bytes key;
    if (!from_hex(o.verify_key, &key) || key.size() != 32) {
      usage(kImportCommand, "--verify-key must be 64 hex characters (the partner authority's Ed25519 public key)");
    }
    crypto::VerifyKey k;
    std::copy(key.begin(), key.end(), k.bytes.begin());
    request.verify_key = k;
  }
  if (!o.country.empty()) request.country = o.country;
  const identity::PkiPaths pki(o.pki);
  auto done = federation::import_partner(pki, request, now_seconds());
  if (!done) fail(kImportCommand, done.status());
  const federation::ImportSummary& sum = *done;

  v1::CliImport out;
  out.set_agency(o.agency);
  out.set_country(sum.country);
  out.set_verify_key(to_hex(sum.verify_key.view()));
  out.set_pinned(sum.pinned);
  add_import_list(sum.credentials_added, out.mutable_credentials_added());
  add_import_list(sum.credentials_updated, out.mutable_credentials_updated());
  add_import_list(sum.credentials_removed, out.mutable_credentials_removed());
  add_import_list(sum.charters, out.mutable_charters());
  out.set_revocation_list(sum.revocation_list);
  out.set_revocation_list_updated(sum.revocation_list_updated);
  add_import_list(sum.peerings, out.mutable_peerings());
  add_import_list(sum.skipped, out.mutable_skipped());
  for (const auto& issue : sum.refused) {
    auto* i = out.add_refused();
    i->set_object(issue.object);
    i->mutable_reason()->set_code(static_cast<std::uint32_t>(issue.reason.code));
    i->mutable_reason()->set_name(std::string(code_name(issue.reason.code)));
    i->mutable_reason()->set_message(issue.reason.message);
  }
  if (o.json) {
    std::cout << to_json(out) << "\n";
  } else {
    std::cout << "imported partner " << o.agency << " (" << sum.country << ") from " << request.from.string() << "\n"
              << "  authority key " << out.verify_key() << ", country " << sum.country
              << (sum.pinned ? " (pinned now, partner = true)" : " (pinned)") << "\n"
              << "  credentials: added [" << join(sum.credentials_added) << "], updated ["
              << join(sum.credentials_updated) << "], removed [" << join(sum.credentials_removed) << "]\n"
              << "  revocation list " << sum.revocation_list << (sum.revocation_list_updated ? " (new)" : "") << "\n"
              << "  charters [" << join(sum.charters) << "], peerings [" << join(sum.peerings) << "]\n";
    if (!sum.skipped.empty()) {
      std::cout << "  " << sum.skipped.size() << " object(s) of other agencies left out (not " << o.agency
                << "'s to give)\n";
    }
    for (const auto& r : out.refused()) {
      std::cout << "  refused " << r.object() << ": " << r.reason().name() << ": " << r.reason().message() << "\n";
    }
    std::cout << kReloadReminder;
  }
  if (!sum.refused.empty()) {
    throw CommandExit(kExitFailure,
                      std::string(kImportCommand) + ": " + std::to_string(sum.refused.size()) + " object(s) of " +
                          o.agency + " refused (listed " + (o.json ? "in \"refused\"" : "above") + ")",
                      sum.refused.front().reason.code);
  }
}

}  // namespace

void add_import(CLI::App& certs) {
  auto o = std::make_shared<ImportOptions>();
  auto* sub = certs.add_subcommand("import",
                                   "Import a partner agency's published directory: pin its authority (partner), "
                                   "mirror its credentials, take its revocation list, the charters it hosts and "
                                   "the peerings with it (docs/federation.md)");
  sub->add_option("--pki", o->pki, kPkiHelp)->type_name("DIR")->required();
  sub->add_option("--from", o->from, "The partner's published directory (its PKI's directory/ folder)")
      ->type_name("DIR")
      ->required();
  sub->add_option("--agency", o->agency, "The partner agency")->required();
  sub->add_option("--verify-key", o->verify_key,
                  "The partner authority's key (64 hex) as its operator told you out of band: needed to pin it "
                  "the first time and to accept a new key")
      ->type_name("HEX");
  sub->add_option("--country", o->country,
                  "The partner's country (ISO3) as its operator told you: needed to pin it the first time and to "
                  "accept a change (releasability to its nodes follows it)")
      ->type_name("ISO3");
  sub->add_flag("--json", o->json, "One JSON object (CliImport in proto/tearline/v1/cli_admin.proto)");
  sub->callback([o] { run_import(*o); });
}

}  // namespace tearline::cli::certs
