// `tearline certs peering create|cosign|show`: the peering agreements of
// docs/federation.md as files of a PKI's directory (federation/peering_files.h).
// create writes an unsigned version; each agency signs its own copy with its
// own PKI (cosign), and the copies meet through `tearline certs import`;
// show judges every peering now. --json on show prints CliPeerings
// (proto/tearline/v1/cli_admin.proto).
#include <algorithm>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "base/time_format.h"
#include "cli/certs/certs_args.h"
#include "cli/certs/certs_json.h"
#include "cli/common/print.h"
#include "crypto/keys.h"
#include "federation/peering_files.h"
#include "identity/countries.h"
#include "identity/directory.h"

namespace tearline::cli::certs {
namespace {

namespace fs = std::filesystem;
namespace v1 = tearline::v1;

// ---- create --------------------------------------------------------------------

struct DirectionOptions {
  std::vector<std::string> topics, releasable_to;
  std::string ceiling;
  bool transit = false;
};

struct PeeringCreateOptions {
  std::string pki, id, first, first_broker, second, second_broker, days = std::to_string(kDefaultDays), version,
                                                                   not_before;
  DirectionOptions first_to_second, second_to_first;
};

// RFC 3339 UTC to the second or unix seconds.
std::int64_t parse_time(std::string_view cmd, const std::string& flag, const std::string& text) {
  if (!text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return static_cast<std::int64_t>(parse_number(cmd, flag, text, 1, INT64_MAX / 1000));
  }
  auto ms = parse_utc_ms(text);
  if (!ms || *ms <= 0 || *ms % 1000 != 0) {
    usage(cmd, flag + " '" + text + "' must be a UTC time like 2027-01-01T00:00:00Z, or unix seconds");
  }
  return *ms / 1000;
}

v1::PeeringDirection direction_terms(std::string_view cmd, const std::string& flag, const DirectionOptions& d) {
  v1::PeeringDirection out;
  for (const auto& t : d.topics) out.add_topics(t);
  for (const auto& c : d.releasable_to) out.add_releasable_to(c);
  out.set_transit(d.transit);
  if (d.ceiling.empty()) {
    // Nothing crosses this way: the lowest ceiling, which any version narrows to.
    if (!d.topics.empty()) usage(cmd, "--" + flag + "-topic needs --" + flag + "-ceiling (the highest classification)");
    out.set_ceiling(v1::UNCLASSIFIED);
    return out;
  }
  auto ceiling = identity::classification_from_name(d.ceiling);
  if (!ceiling) {
    usage(cmd, "--" + flag + "-ceiling '" + d.ceiling +
                   "' is not one of UNCLASSIFIED, RESTRICTED, CONFIDENTIAL, SECRET, TOP_SECRET");
  }
  out.set_ceiling(*ceiling);
  return out;
}

void run_peering_create(const PeeringCreateOptions& o) {
  constexpr std::string_view cmd = "certs peering create";
  require_id(cmd, "peering id", o.id);
  for (const auto* id : {&o.first, &o.first_broker, &o.second, &o.second_broker}) require_id(cmd, "id", *id);
  if (o.first == o.second) usage(cmd, "--first and --second must be two agencies");
  federation::PeeringDraft draft;
  draft.peering_id = o.id;
  draft.first_agency = o.first;
  draft.first_broker = o.first_broker;
  draft.second_agency = o.second;
  draft.second_broker = o.second_broker;
  draft.first_to_second = direction_terms(cmd, "first-to-second", o.first_to_second);
  draft.second_to_first = direction_terms(cmd, "second-to-first", o.second_to_first);
  Window w = window_from_now(cmd, o.days);
  if (!o.not_before.empty()) {
    // A renewal starts where the running peering ends (docs/federation.md):
    // windows that overlap would leave both unused.
    const std::int64_t from = parse_time(cmd, "--not-before", o.not_before);
    w = Window{from, from + (w.not_after - w.not_before - 3600)};
  }
  draft.not_before = w.not_before;
  draft.not_after = w.not_after;
  if (!o.version.empty()) draft.version = parse_number(cmd, "--version", o.version, 1, UINT64_MAX);
  const identity::PkiPaths pki(o.pki);
  auto version = federation::create_peering_file(pki, draft, now_seconds());
  if (!version) fail(cmd, version.status());
  std::cout << *version << "\n"
            << "peering " << o.id << " v" << *version << " between " << o.first << " (" << o.first_broker << ") and "
            << o.second << " (" << o.second_broker << ") written to "
            << federation::peering_file(pki.directory(), o.id, *version).string() << ", valid until "
            << format_utc_seconds(w.not_after) << "\n"
            << "  it takes effect once both agencies sign it: each signs with its own PKI (certs peering cosign --id "
            << o.id << " --version " << *version << " --agency ...),\n"
            << "  and the signed copies meet through certs import of the other's directory\n";
}

// ---- cosign --------------------------------------------------------------------

struct PeeringCosignOptions {
  std::string pki, id, version, agency;
};

v1::CliPeeringVersion version_message(const federation::Peering& p);
void print_peering_version(const v1::CliPeeringVersion& v, std::string_view indent);

// The version's file as found now: its terms and the signatures it carries.
const federation::PeeringFile* file_now(const federation::PeeringSet& set, const identity::PkiPaths& pki,
                                        const std::string& id, std::uint64_t version) {
  const std::string name = federation::peering_file(pki.directory(), id, version).filename().string();
  for (const auto& f : set.files) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

void run_peering_cosign(const PeeringCosignOptions& o) {
  constexpr std::string_view cmd = "certs peering cosign";
  require_id(cmd, "peering id", o.id);
  require_id(cmd, "agency", o.agency);
  const std::uint64_t version = parse_number(cmd, "--version", o.version, 1, UINT64_MAX);
  const identity::PkiPaths pki(o.pki);
  const fs::path file = federation::peering_file(pki.directory(), o.id, version);
  if (!path_exists(file)) {
    const std::uint64_t latest = federation::latest_peering_version(pki.directory(), o.id);
    fail(cmd, Status::fail(Code::INVALID_FIELD,
                           "peering " + o.id + " v" + std::to_string(version) + " does not exist in " +
                               pki.directory().string() + "; " +
                               (latest == 0 ? "there is no version of " + o.id + " (certs peering create)"
                                            : "the latest version is v" + std::to_string(latest))));
  }
  Status s = federation::cosign_peering_file(pki, o.id, version, o.agency, now_seconds());
  if (!s) fail(cmd, s);
  auto dir = identity::Directory::load(pki.directory(), now_seconds(), nullptr);
  if (!dir) fail(cmd, dir.status());
  const federation::PeeringSet set = federation::load_peerings(pki.directory(), **dir);
  const federation::PeeringFile* now = file_now(set, pki, o.id, version);
  const std::vector<std::string> signers = now != nullptr ? now->signatures : std::vector<std::string>{};
  std::cout << "peering " << o.id << " v" << version << " signed by " << o.agency << " (" << file.string()
            << "); it carries the signatures of " << join(signers) << "\n";
  // What was signed, so that the operator sees the terms it consented to.
  if (now != nullptr && now->terms) print_peering_version(version_message(*now->terms), "  ");
  if (signers.size() < 2) {
    std::cout << "  the other agency signs its copy with its own PKI once it imported this directory "
                 "(certs import), and its signed copy comes back the same way\n";
  }
  std::cout << kReloadReminder;
}

// ---- show ----------------------------------------------------------------------

struct PeeringShowOptions {
  std::string pki, id;
  bool json = false;
};

v1::CliPeeringParty party_message(const federation::PeeringParty& p) {
  v1::CliPeeringParty out;
  out.set_agency(p.agency);
  out.set_broker_id(p.broker_id);
  out.set_signing_key(to_hex(p.signing_key.view()));
  out.set_transport_key(crypto::to_z85(p.transport_key));
  return out;
}

void add_peering_direction(const federation::PeeringDirection& d, const std::string& from, const std::string& to,
                           v1::CliPeeringVersion* out) {
  auto* m = out->add_directions();
  m->set_from_agency(from);
  m->set_to_agency(to);
  for (const auto& t : d.topics) m->add_topics(t);
  m->set_ceiling(d.ceiling);
  for (const auto& c : d.releasable_to) m->add_releasable_to(c);
  m->set_transit(d.transit);
}

v1::CliPeeringVersion version_message(const federation::Peering& p) {
  v1::CliPeeringVersion out;
  out.set_peering_id(p.peering_id);
  out.set_version(p.version);
  *out.mutable_first() = party_message(p.first);
  *out.mutable_second() = party_message(p.second);
  add_peering_direction(p.first_to_second, p.first.agency, p.second.agency, &out);
  add_peering_direction(p.second_to_first, p.second.agency, p.first.agency, &out);
  out.set_not_before(p.not_before);
  out.set_not_before_at(format_utc_seconds(p.not_before));
  out.set_not_after(p.not_after);
  out.set_not_after_at(format_utc_seconds(p.not_after));
  for (const auto& a : p.signed_by) out.add_signed_by(a);
  for (const auto* a : {&p.first.agency, &p.second.agency}) {
    if (std::find(p.signed_by.begin(), p.signed_by.end(), *a) == p.signed_by.end()) out.add_missing(*a);
  }
  return out;
}

v1::CliPeering peering_message(const federation::PeeringVerdict& v, std::int64_t now) {
  v1::CliPeering out;
  out.set_peering_id(v.key.peering_id);
  for (const auto& a : v.key.agencies) out.add_agencies(a);
  out.set_revoked_up_to(v.revoked_up_to);
  for (const auto& p : v.versions) *out.add_versions() = version_message(p);
  if (v.in_effect) {
    *out.mutable_in_effect() = version_message(*v.in_effect);
    add_reasons(v.why, out.mutable_passed_over());
    if (v.in_effect->valid_at(now)) {
      out.set_status("IN_EFFECT");
    } else {
      out.set_status("OUTSIDE_WINDOW: v" + std::to_string(v.in_effect->version) + " is valid from " +
                     format_utc_seconds(v.in_effect->not_before) + " until " +
                     format_utc_seconds(v.in_effect->not_after));
    }
  } else {
    out.set_status("NOT_IN_EFFECT: " + reasons_text(v.why));
  }
  return out;
}

// A file's verdict; an unsigned draft awaits its parties and is no error.
v1::CliPeeringFile peering_file_message(const federation::PeeringFile& f, bool* rejected) {
  v1::CliPeeringFile out;
  out.set_file(f.name);
  if (f.terms) {
    out.set_peering_id(f.terms->peering_id);
    out.set_version(f.terms->version);
  }
  for (const auto& a : f.signatures) out.add_signatures(a);
  if (f.terms) {
    for (const auto* a : {&f.terms->first.agency, &f.terms->second.agency}) {
      if (std::find(f.signatures.begin(), f.signatures.end(), *a) == f.signatures.end()) out.add_awaiting(*a);
    }
  }
  const bool draft = f.terms && f.signatures.empty();
  if (!f.verified && !draft) {
    add_reasons(f.verified, out.mutable_reasons());
    *rejected = true;
  }
  return out;
}

void print_peering_version(const v1::CliPeeringVersion& v, std::string_view indent) {
  std::cout << indent << "parties: " << v.first().agency() << " (broker " << v.first().broker_id() << "), "
            << v.second().agency() << " (broker " << v.second().broker_id() << ")\n";
  for (const auto& d : v.directions()) {
    std::vector<std::string> topics(d.topics().begin(), d.topics().end());
    std::vector<std::string> to(d.releasable_to().begin(), d.releasable_to().end());
    std::cout << indent << d.from_agency() << " -> " << d.to_agency() << ": ";
    if (topics.empty()) {
      std::cout << "nothing crosses\n";
      continue;
    }
    std::cout << "topics [" << join(topics) << "], ceiling " << identity::classification_name(d.ceiling())
              << ", releasable to [" << join(to) << "], transit " << (d.transit() ? "allowed" : "no") << "\n";
  }
  std::cout << indent << "valid " << v.not_before_at() << " .. " << v.not_after_at() << "\n";
}

void run_peering_show(const PeeringShowOptions& o) {
  constexpr std::string_view cmd = "certs peering show";
  const identity::PkiPaths pki(o.pki);
  fs::path dir_path = pki.directory();
  if (!path_exists(pki.trust_store()) && path_exists(fs::path(o.pki) / "trust.toml")) dir_path = o.pki;
  const std::int64_t now = now_seconds();
  auto dir = identity::Directory::load(dir_path, now, nullptr);
  if (!dir) fail(cmd, dir.status());
  const federation::PeeringSet set = federation::load_peerings(dir_path, **dir);

  v1::CliPeerings out;
  out.set_directory(dir_path.string());
  out.set_at(now);
  out.set_at_text(format_utc_seconds(now));
  for (const auto& v : set.peerings) {
    if (o.id.empty() || v.key.peering_id == o.id) *out.add_peerings() = peering_message(v, now);
  }
  bool rejected = false;
  for (const auto& f : set.files) {
    if (!o.id.empty() && !(f.terms && f.terms->peering_id == o.id)) continue;
    *out.add_files() = peering_file_message(f, &rejected);
  }
  if (o.json) {
    std::cout << to_json(out) << "\n";
  } else {
    std::cout << "peerings of " << out.directory() << " at " << out.at_text() << " (" << out.peerings_size() << "):\n";
    for (const auto& p : out.peerings()) {
      std::vector<std::string> agencies(p.agencies().begin(), p.agencies().end());
      std::cout << "  " << p.peering_id() << " between " << join(agencies, " and ") << ": ";
      if (p.has_in_effect()) {
        std::cout << "v" << p.in_effect().version() << " " << p.status() << "\n";
        print_peering_version(p.in_effect(), "    ");
        for (const auto& r : p.passed_over())
          std::cout << "    passed over: " << r.name() << ": " << r.message() << "\n";
      } else {
        std::cout << p.status() << "\n";
      }
    }
    std::cout << "files (" << out.files_size() << "):\n";
    for (const auto& f : out.files()) {
      std::vector<std::string> sigs(f.signatures().begin(), f.signatures().end());
      std::vector<std::string> awaiting(f.awaiting().begin(), f.awaiting().end());
      std::cout << "  " << f.file() << ": signed by [" << join(sigs) << "]";
      if (!awaiting.empty()) std::cout << ", awaiting " << join(awaiting);
      std::cout << "\n";
      for (const auto& r : f.reasons()) std::cout << "    " << r.name() << ": " << r.message() << "\n";
    }
  }
  if (!o.id.empty()) {
    const federation::PeeringVerdict* v = set.find(o.id);
    if (v == nullptr) {
      throw CommandExit(kExitFailure,
                        std::string(cmd) + ": no verified version of peering " + o.id + " in " + dir_path.string(),
                        Code::NO_PEERING);
    }
    if (!v->in_effect || !v->in_effect->valid_at(now)) {
      throw CommandExit(kExitFailure, std::string(cmd) + ": peering " + o.id + " is not in effect now",
                        Code::NO_PEERING);
    }
  }
  if (rejected) {
    throw CommandExit(
        kExitFailure,
        std::string(cmd) + ": a peering file does not verify (listed " + (o.json ? "in \"files\"" : "above") + ")",
        Code::BAD_SIGNATURE);
  }
}

void add_peering_direction_options(CLI::App* sub, const std::string& flag, DirectionOptions* d,
                                   const std::string& from_to) {
  sub->add_option("--" + flag + "-topic", d->topics, "A topic pattern that may cross " + from_to + " (repeatable)");
  sub->add_option("--" + flag + "-ceiling", d->ceiling,
                  "The highest classification of a section crossing " + from_to + " (needed with topics)");
  sub->add_option("--" + flag + "-releasable", d->releasable_to,
                  "A country (ISO3) a section crossing " + from_to + " must be releasable to (repeatable)");
  sub->add_flag("--" + flag + "-transit", d->transit, "The receiver may pass what crosses " + from_to + " on");
}

}  // namespace

void add_peering(CLI::App& certs) {
  auto* peering = certs.add_subcommand("peering", "Create, co-sign and show peering agreements (docs/federation.md)");
  peering->require_subcommand(1);

  auto c = std::make_shared<PeeringCreateOptions>();
  auto* create = peering->add_subcommand("create",
                                         "Write a new peering version (unsigned) between two agencies' boundary "
                                         "brokers and print its version; it takes effect once both agencies sign");
  create->add_option("--pki", c->pki, kPkiHelp)->type_name("DIR")->required();
  create->add_option("--id", c->id, "Peering id")->required();
  create->add_option("--first", c->first, "The first agency")->required();
  create->add_option("--first-broker", c->first_broker, "The first agency's boundary broker (its credential's id)")
      ->required();
  create->add_option("--second", c->second, "The second agency (a partner: certs import first)")->required();
  create->add_option("--second-broker", c->second_broker, "The second agency's boundary broker")->required();
  add_peering_direction_options(create, "first-to-second", &c->first_to_second, "from the first agency to the second");
  add_peering_direction_options(create, "second-to-first", &c->second_to_first, "from the second agency to the first");
  create->add_option("--days", c->days, "Validity in days (1-3650)")->type_name("DAYS")->capture_default_str();
  create->add_option("--version", c->version, "The version (default: one more than the latest)")->type_name("N");
  create
      ->add_option("--not-before", c->not_before,
                   "Start of its window (default: an hour ago), as 2027-01-01T00:00:00Z or unix seconds: a renewal "
                   "under a new id starts where the running one ends; it lasts --days from then")
      ->type_name("TIME");
  create->callback([c] { run_peering_create(*c); });

  auto s = std::make_shared<PeeringCosignOptions>();
  auto* cosign = peering->add_subcommand("cosign",
                                         "Add an agency's signature to a peering version with its authority key "
                                         "in this PKI");
  cosign->add_option("--pki", s->pki, kPkiHelp)->type_name("DIR")->required();
  cosign->add_option("--id", s->id, "Peering id")->required();
  cosign->add_option("--version", s->version, "Peering version")->type_name("N")->required();
  cosign->add_option("--agency", s->agency, "The signing agency (one of the two parties)")->required();
  cosign->callback([s] { run_peering_cosign(*s); });

  auto o = std::make_shared<PeeringShowOptions>();
  auto* show = peering->add_subcommand("show",
                                       "Judge every peering now: the version in effect and why the others are "
                                       "not. Exit 1 when --id names a peering not in effect or a file does not "
                                       "verify");
  show->add_option("--pki", o->pki, "PKI folder, or a public directory folder holding trust.toml")->required();
  show->add_option("--id", o->id, "Only this peering");
  show->add_flag("--json", o->json, "One JSON object (CliPeerings in proto/tearline/v1/cli_admin.proto)");
  show->callback([o] { run_peering_show(*o); });
}

}  // namespace tearline::cli::certs
