// The policy engine (lib/policy/decisions.h) over the demo world of
// certs/roster.toml: one table of read decisions and one of publish
// decisions, each row asserting allow/deny AND the exact set of reason codes,
// so that a rule that stops firing, or fires where it should not, fails a row.
//
// Topic permissions come from a policy written inline below (not from
// certs/policy.toml), with grants chosen so that every topic rule has a row
// that isolates it. Expired, not-yet-valid and revoked nodes, and a unit whose
// charter lacks a consent, live in modified copies of the demo PKI.
#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "base/codes.h"
#include "identity/pki.h"
#include "policy/decisions.h"
#include "policy/label.h"
#include "policy/topic_policy.h"
#include "support/demo_world.h"
#include "support/temp_dir.h"

using namespace tearline;
using namespace tearline::policy;
using tearline::testing::DemoWorld;
using tearline::testing::kDemoNow;
using tearline::testing::TempDir;
namespace fs = std::filesystem;
namespace v1 = tearline::v1;

namespace {

// ---- Time -----------------------------------------------------------------
// The demo PKI (credentials and the cucuta-jtf charter) is valid over
// [kDemoNow - 1h, kDemoNow + 365d).
constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kNow = kDemoNow;
constexpr std::int64_t kValidFrom = kDemoNow - 3600;
constexpr std::int64_t kValidUntil = kDemoNow + 365 * kDay;  // exclusive
constexpr std::int64_t kLater = kValidUntil + kDay;

// ---- The demo world's nodes -----------------------------------------------
const std::string kCommander = "diran-cucuta-commander";  // DIRAN COL TS, unit member
const std::string kAnalyst = "diran-cucuta-analyst";      // DIRAN COL S, unit member
const std::string kHq = "diran-bogota-hq";                // DIRAN COL S
const std::string kAgent = "dea-cucuta-agent";            // DEA USA S, embedded in the unit
const std::string kDeaAnalyst = "dea-bogota-analyst";     // DEA USA TS, not in the unit
const std::string kLabOps = "fudra-lab-ops";              // FUDRA COL C (military)
const std::string kLiaison = "fgr-liaison";               // FGR MEX C, role liaison
// Added in the altered world only.
const std::string kRetired = "diran-retired-analyst";  // DIRAN COL S, window ended 30 days ago
const std::string kRevoked = "dea-revoked-agent";      // DEA USA S, serial revoked by DEA
const std::string kFuture = "fudra-future-ops";        // FUDRA COL C, window starts in 30 days

const std::string kUnit = "cucuta-jtf";
const std::string kNoSuchUnit = "narino-jtf";  // no charter anywhere

// ---- Topics ---------------------------------------------------------------
const std::string kSeizures = "intel.seizures.cucuta";
const std::string kLabs = "intel.labs.narino";
const std::string kFinance = "intel.finance.laundering";
const std::string kLiaisonTopic = "intel.liaison.requests";
const std::string kHqTopic = "intel.hq.tasking";
const std::string kUnitOps = "unit.cucuta-jtf.ops";
const std::string kUnlisted = "ops.internal";  // no grant names it

// The grants of this test. Grant 3's deny_subscribe and grant 6 exist to
// isolate rules: an explicit deny, and a grant that cannot open a unit topic
// to a non-member.
constexpr const char* kPolicyToml = R"(
[[grant]]
to = ["any"]
subscribe = ["intel.>"]

[[grant]]
to = ["agency:DIRAN", "agency:FUDRA", "agency:DEA"]
publish = ["intel.>"]

[[grant]]
to = ["role:liaison"]
publish = ["intel.liaison.>"]
deny_subscribe = ["intel.finance.>"]

[[grant]]
to = ["agency:FUDRA", "agency:DEA", "agency:FGR"]
deny_publish = ["intel.hq.>"]

[[grant]]
to = ["unit:cucuta-jtf"]
publish = ["unit.cucuta-jtf.>"]
subscribe = ["unit.cucuta-jtf.>"]

[[grant]]
to = ["node:dea-bogota-analyst"]
subscribe = ["unit.cucuta-jtf.>"]
)";

const TopicPolicy& topics() {
  static const TopicPolicy policy = [] {
    auto p = TopicPolicy::parse(kPolicyToml, "policy_decisions_test");
    if (!p) throw std::runtime_error("test policy: " + p.status().to_string());
    return std::move(p).value();
  }();
  return policy;
}

// ---- Labels ---------------------------------------------------------------
constexpr bool kOrcon = true;
Label label(Classification c, std::vector<std::string> releasable_to, std::vector<std::string> units = {},
            bool orcon = false) {
  Label l;
  l.classification = c;
  l.releasable_to = std::move(releasable_to);
  l.units = std::move(units);
  l.orcon = orcon;
  return l;
}

// ---- Worlds ---------------------------------------------------------------
enum class World {
  kDemo,       // the shared demo world
  kAltered,    // demo + an expired, a revoked and a not-yet-valid node
  kNoConsent,  // demo, but the unit's only charter lacks DEA's signature
};

identity::DirectoryPtr load_directory(const identity::PkiPaths& pki, identity::LoadReport* report) {
  auto dir = identity::Directory::load(pki.directory(), kNow, report);
  if (!dir) throw std::runtime_error("directory: " + dir.status().to_string());
  return std::move(dir).value();
}

template <typename T>
T must(Result<T> r, const std::string& what) {
  if (!r) throw std::runtime_error(what + ": " + r.status().to_string());
  return std::move(r).value();
}

void must(const Status& s, const std::string& what) {
  if (!s) throw std::runtime_error(what + ": " + s.to_string());
}

// Demo PKI plus three DIRAN/DEA/FUDRA nodes whose credentials are not valid
// now, each for one reason.
class AlteredWorld {
 public:
  AlteredWorld() : dir_("tearline-policy-altered") {
    const identity::PkiPaths pki(dir_.path() / "pki");
    DemoWorld::generate_into(pki.root());
    must(
        identity::issue_node(pki, {kRetired, "DIRAN", v1::SECRET, {"analyst"}, kNow - 400 * kDay, kNow - 30 * kDay, 0}),
        "issue " + kRetired);
    must(identity::issue_node(
             pki, {kFuture, "FUDRA", v1::CONFIDENTIAL, {"operations"}, kNow + 30 * kDay, kNow + 400 * kDay, 0}),
         "issue " + kFuture);
    const auto revoked =
        must(identity::issue_node(pki, {kRevoked, "DEA", v1::SECRET, {"agent"}, kValidFrom, kValidUntil, 0}),
             "issue " + kRevoked);
    must(identity::revoke(pki, "DEA", {{revoked.serial}}, {}, kNow), "revoke " + kRevoked);
    directory_ = load_directory(pki, &report_);
    if (!report_.rejected.empty()) throw std::runtime_error("altered world rejected " + report_.rejected[0].object);
  }
  const identity::Directory& directory() const { return *directory_; }

 private:
  TempDir dir_;
  identity::LoadReport report_;
  identity::DirectoryPtr directory_;
};

// Replaces the unit's charter with one (same members) that only the host
// agency, DIRAN, has signed. Returns the new charter's version.
std::uint64_t recharter_without_dea(const identity::PkiPaths& pki) {
  fs::remove(pki.charter(kUnit, 1));
  const auto version =
      must(identity::create_charter(pki, kUnit, "DIRAN", {kCommander, kAnalyst, kAgent}, kValidFrom, kValidUntil),
           "create charter");
  must(identity::cosign_charter_file(pki, kUnit, version, "DIRAN"), "cosign DIRAN");
  return version;
}

class NoConsentWorld {
 public:
  NoConsentWorld() : dir_("tearline-policy-noconsent") {
    const identity::PkiPaths pki(dir_.path() / "pki");
    DemoWorld::generate_into(pki.root());
    recharter_without_dea(pki);
    directory_ = load_directory(pki, &report_);
  }
  const identity::Directory& directory() const { return *directory_; }
  const identity::LoadReport& report() const { return report_; }

 private:
  TempDir dir_;
  identity::LoadReport report_;
  identity::DirectoryPtr directory_;
};

const AlteredWorld& altered_world() {
  static const AlteredWorld world;
  return world;
}

const NoConsentWorld& no_consent_world() {
  static const NoConsentWorld world;
  return world;
}

const identity::Directory& directory(World w) {
  switch (w) {
    case World::kDemo: return *DemoWorld::get().directory();
    case World::kAltered: return altered_world().directory();
    case World::kNoConsent: return no_consent_world().directory();
  }
  throw std::logic_error("unknown world");
}

const char* world_name(World w) {
  switch (w) {
    case World::kDemo: return "demo";
    case World::kAltered: return "altered";
    case World::kNoConsent: return "no-consent";
  }
  return "?";
}

// ---- Comparing codes ------------------------------------------------------
// As names, so that a failing comparison prints readably.
std::set<std::string> names(const std::set<Code>& codes) {
  std::set<std::string> out;
  for (Code c : codes) out.emplace(code_name(c));
  return out;
}

std::set<std::string> names(const Status& s) {
  std::set<std::string> out;
  for (const auto& r : s.reasons()) out.emplace(code_name(r.code));
  return out;
}

bool every_reason_explained(const Status& s) {
  for (const auto& r : s.reasons()) {
    if (r.message.empty()) return false;
  }
  return true;
}

bool has_ground(const Decision& d, const std::string& ground) {
  for (const auto& g : d.grounds) {
    if (g == ground) return true;
  }
  return false;
}

// Common codes, short.
constexpr Code kClearance = Code::CLEARANCE_BELOW;
constexpr Code kCountry = Code::COUNTRY_NOT_RELEASABLE;
constexpr Code kNotMember = Code::NOT_UNIT_MEMBER;
constexpr Code kReadDenied = Code::TOPIC_READ_DENIED;
constexpr Code kWriteDenied = Code::TOPIC_WRITE_DENIED;
constexpr Code kLooser = Code::DERIVED_LABEL_LOOSER;

const std::set<Code> kAllowed = {};

}  // namespace

// ---------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------

TEST_CASE("may_read: every rule, alone and together, with the exact reasons") {
  struct Case {
    std::string what;
    World world;
    std::string node;
    Label label;
    std::string originator_country;
    std::string topic;
    std::int64_t t;
    bool allowed;
    std::set<Code> codes;
  };
  const auto D = World::kDemo;
  const auto A = World::kAltered;
  const auto N = World::kNoConsent;
  const auto U = v1::UNCLASSIFIED;
  const auto R = v1::RESTRICTED;
  const auto C = v1::CONFIDENTIAL;
  const auto S = v1::SECRET;
  const auto TS = v1::TOP_SECRET;
  const auto UNSET = v1::CLASSIFICATION_UNSET;

  // One decision per row, its columns kept on one line.
  // clang-format off
  const std::vector<Case> cases = {
      // Allowed: every rule holds (each guards against a rule firing wrongly).
      {"TS node reads TS COL", D, kCommander, label(TS, {"COL"}), "COL", kSeizures, kNow, true, kAllowed},
      {"clearance equal to the classification suffices", D, kAnalyst, label(S, {"COL", "USA"}), "COL", kSeizures, kNow, true, kAllowed},
      {"DEA analyst reads a section released to USA", D, kDeaAnalyst, label(S, {"COL", "USA"}), "COL", kSeizures, kNow, true, kAllowed},
      {"embedded DEA agent reads a section released to USA", D, kAgent, label(S, {"COL", "USA"}), "COL", kSeizures, kNow, true, kAllowed},
      {"CONFIDENTIAL army node reads CONFIDENTIAL COL", D, kLabOps, label(C, {"COL"}), "COL", kSeizures, kNow, true, kAllowed},
      {"RESTRICTED is below CONFIDENTIAL", D, kLabOps, label(R, {"COL"}), "COL", kSeizures, kNow, true, kAllowed},
      {"ORCON does not restrict reading", D, kAgent, label(S, {"COL", "USA"}, {}, kOrcon), "COL", kSeizures, kNow, true, kAllowed},

      // CLEARANCE_BELOW alone.
      {"SECRET analyst vs TOP_SECRET", D, kAnalyst, label(TS, {"COL"}), "COL", kSeizures, kNow, false, {kClearance}},
      {"CONFIDENTIAL army node vs SECRET", D, kLabOps, label(S, {"COL"}), "COL", kSeizures, kNow, false, {kClearance}},
      {"SECRET DEA agent vs TOP_SECRET released to USA", D, kAgent, label(TS, {"COL", "USA"}), "COL", kSeizures, kNow, false, {kClearance}},
      {"CONFIDENTIAL liaison vs SECRET released to MEX", D, kLiaison, label(S, {"COL", "MEX"}), "COL", kSeizures, kNow, false, {kClearance}},

      // COUNTRY_NOT_RELEASABLE alone.
      {"DEA analyst vs COL-only", D, kDeaAnalyst, label(S, {"COL"}), "COL", kSeizures, kNow, false, {kCountry}},
      {"MEX liaison vs COL,USA", D, kLiaison, label(C, {"COL", "USA"}), "COL", kSeizures, kNow, false, {kCountry}},
      {"COL army node vs USA-only", D, kLabOps, label(C, {"USA"}), "USA", kSeizures, kNow, false, {kCountry}},

      // Empty releasable-to: the originator's country only.
      {"empty REL from COL: COL node reads", D, kHq, label(S, {}), "COL", kSeizures, kNow, true, kAllowed},
      {"empty REL from COL: USA node does not", D, kDeaAnalyst, label(S, {}), "COL", kSeizures, kNow, false, {kCountry}},
      {"empty REL from USA: USA node reads", D, kDeaAnalyst, label(S, {}), "USA", kSeizures, kNow, true, kAllowed},
      {"empty REL from USA: COL node does not", D, kHq, label(S, {}), "USA", kSeizures, kNow, false, {kCountry}},
      {"empty REL from COL: MEX liaison does not, even UNCLASSIFIED", D, kLiaison, label(U, {}), "COL", kSeizures, kNow, false, {kCountry}},

      // Units: membership through the charter in force.
      {"unit section REL COL,USA: embedded DEA agent reads", D, kAgent, label(S, {"COL", "USA"}, {kUnit}), "COL", kSeizures, kNow, true, kAllowed},
      {"unit section REL COL,USA: DEA analyst outside the unit does not", D, kDeaAnalyst, label(S, {"COL", "USA"}, {kUnit}), "COL", kSeizures, kNow, false, {kNotMember}},
      {"unit section: DIRAN unit analyst reads", D, kAnalyst, label(S, {"COL"}, {kUnit}), "COL", kSeizures, kNow, true, kAllowed},
      {"unit section: DIRAN HQ outside the unit does not", D, kHq, label(S, {"COL"}, {kUnit}), "COL", kSeizures, kNow, false, {kNotMember}},
      {"unit section: army node outside the unit does not", D, kLabOps, label(C, {"COL"}, {kUnit}), "COL", kSeizures, kNow, false, {kNotMember}},
      {"unit with no charter: nobody is a member", D, kCommander, label(TS, {"COL"}, {kNoSuchUnit}), "COL", kSeizures, kNow, false, {kNotMember}},
      {"two units: membership of one suffices", D, kCommander, label(TS, {"COL"}, {kUnit, kNoSuchUnit}), "COL", kSeizures, kNow, true, kAllowed},

      // Host country vs home country: the unit does not make the DEA agent Colombian.
      {"COL-only unit section: DEA agent inside the unit does not read", D, kAgent, label(S, {"COL"}, {kUnit}), "COL", kSeizures, kNow, false, {kCountry}},
      {"COL-only section: DEA agent does not read", D, kAgent, label(S, {"COL"}), "COL", kSeizures, kNow, false, {kCountry}},
      {"COL-only section: DIRAN HQ reads", D, kHq, label(S, {"COL"}), "COL", kSeizures, kNow, true, kAllowed},
      {"COL-only section: FUDRA reads", D, kLabOps, label(C, {"COL"}), "COL", kSeizures, kNow, true, kAllowed},

      // The FGR liaison: only sections released to MEX.
      {"liaison reads REL COL,MEX", D, kLiaison, label(C, {"COL", "MEX"}), "COL", kSeizures, kNow, true, kAllowed},
      {"liaison reads REL COL,MEX,USA", D, kLiaison, label(C, {"COL", "MEX", "USA"}), "COL", kSeizures, kNow, true, kAllowed},
      {"liaison does not read REL COL", D, kLiaison, label(C, {"COL"}), "COL", kSeizures, kNow, false, {kCountry}},

      // Topics.
      {"no grant names the topic", D, kCommander, label(U, {"COL"}), "COL", kUnlisted, kNow, false, {kReadDenied}},
      {"explicit deny_subscribe for the liaison role", D, kLiaison, label(C, {"COL", "MEX"}), "COL", kFinance, kNow, false, {kReadDenied}},
      {"the deny applies to the liaison role only", D, kHq, label(C, {"COL"}), "COL", kFinance, kNow, true, kAllowed},
      {"unit topic: member reads", D, kAgent, label(S, {"COL", "USA"}, {kUnit}), "COL", kUnitOps, kNow, true, kAllowed},
      {"unit topic: a grant cannot open it to a non-member", D, kDeaAnalyst, label(S, {"COL", "USA"}), "COL", kUnitOps, kNow, false, {kNotMember}},
      {"unit topic: non-member without any grant", D, kHq, label(S, {"COL"}), "COL", kUnitOps, kNow, false, {kNotMember, kReadDenied}},
      {"malformed topic", D, kCommander, label(U, {"COL"}), "COL", "Intel.Seizures", kNow, false, {Code::TOPIC_INVALID}},

      // Validity in time (demo credentials: [kValidFrom, kValidUntil)).
      {"first second of the window", D, kCommander, label(U, {"COL"}), "COL", kSeizures, kValidFrom, true, kAllowed},
      {"one second before the window", D, kCommander, label(U, {"COL"}), "COL", kSeizures, kValidFrom - 1, false, {Code::NOT_YET_VALID}},
      {"last second of the window", D, kCommander, label(U, {"COL"}), "COL", kSeizures, kValidUntil - 1, true, kAllowed},
      {"end of the window is exclusive", D, kCommander, label(U, {"COL"}), "COL", kSeizures, kValidUntil, false, {Code::EXPIRED}},
      {"after expiry the charter is gone too", D, kAgent, label(S, {"COL", "USA"}, {kUnit}), "COL", kSeizures, kLater, false, {Code::EXPIRED, kNotMember}},

      // Nodes whose credentials are not valid now (altered world).
      {"credential issued with a past window", A, kRetired, label(S, {"COL"}), "COL", kSeizures, kNow, false, {Code::EXPIRED}},
      {"credential revoked by its agency", A, kRevoked, label(S, {"COL", "USA"}), "COL", kSeizures, kNow, false, {Code::REVOKED}},
      {"credential issued for a future window", A, kFuture, label(C, {"COL"}), "COL", kSeizures, kNow, false, {Code::NOT_YET_VALID}},
      {"revocation names a serial, not the agency", A, kAgent, label(S, {"COL", "USA"}), "COL", kSeizures, kNow, true, kAllowed},
      {"expired and failing the label rules", A, kRetired, label(TS, {"USA"}), "COL", kSeizures, kNow, false, {Code::EXPIRED, kClearance, kCountry}},
      {"revoked and no topic permission", A, kRevoked, label(S, {"COL", "USA"}), "COL", kUnlisted, kNow, false, {Code::REVOKED, kReadDenied}},
      {"revoked and expired", A, kRevoked, label(S, {"COL", "USA"}), "COL", kSeizures, kLater, false, {Code::REVOKED, Code::EXPIRED}},

      // Unknown nodes: nothing else can be judged.
      {"unknown node", D, "no-such-node", label(U, {"COL"}), "COL", kSeizures, kNow, false, {Code::UNKNOWN_NODE}},
      {"unknown node, everything else wrong too", D, "no-such-node", label(TS, {"USA"}, {kUnit}), "COL", kUnlisted, kLater, false, {Code::UNKNOWN_NODE}},

      // Several rules failing together: every reason is reported.
      {"liaison: clearance, country, unit and topic", D, kLiaison, label(S, {"COL"}, {kUnit}), "COL", kUnlisted, kNow, false, {kClearance, kCountry, kNotMember, kReadDenied}},
      {"DEA analyst: country and unit (twice: label and topic)", D, kDeaAnalyst, label(TS, {"COL"}, {kUnit}), "COL", kUnitOps, kNow, false, {kCountry, kNotMember}},
      {"army node: five reasons at once", D, kLabOps, label(TS, {"USA"}, {kUnit}), "COL", kUnlisted, kLater, false, {Code::EXPIRED, kClearance, kCountry, kNotMember, kReadDenied}},
      {"DEA agent in the unit: clearance and country", D, kAgent, label(TS, {"COL"}, {kUnit}), "COL", kSeizures, kNow, false, {kClearance, kCountry}},

      // A label without classification is never read as the lowest.
      {"unset classification", D, kCommander, label(UNSET, {"COL"}), "COL", kSeizures, kNow, false, {Code::LABEL_INVALID}},
      {"unset classification, and country", D, kLiaison, label(UNSET, {"COL"}), "COL", kSeizures, kNow, false, {Code::LABEL_INVALID, kCountry}},

      // The unit's only charter lacks DEA's consent (no-consent world).
      {"charter without DEA consent: agent not a member", N, kAgent, label(S, {"COL", "USA"}, {kUnit}), "COL", kSeizures, kNow, false, {kNotMember}},
      {"charter without DEA consent: unit topic closed, unit grant gone", N, kAgent, label(S, {"COL", "USA"}), "COL", kUnitOps, kNow, false, {kNotMember, kReadDenied}},
      {"charter without DEA consent: agent's own credential still good", N, kAgent, label(S, {"COL", "USA"}), "COL", kSeizures, kNow, true, kAllowed},
      {"charter not in force for anyone: DIRAN members out too", N, kCommander, label(TS, {"COL"}, {kUnit}), "COL", kSeizures, kNow, false, {kNotMember}},

      // docs/policy.md worked example: the Cucuta seizure report by
      // diran-cucuta-analyst. Section 1 (informant): SECRET REL COL.
      // Section 2 (tear-line): CONFIDENTIAL REL COL,USA.
      {"example s1: commander", D, kCommander, label(S, {"COL"}), "COL", kSeizures, kNow, true, kAllowed},
      {"example s1: originator", D, kAnalyst, label(S, {"COL"}), "COL", kSeizures, kNow, true, kAllowed},
      {"example s1: DIRAN HQ", D, kHq, label(S, {"COL"}), "COL", kSeizures, kNow, true, kAllowed},
      {"example s1: FUDRA", D, kLabOps, label(S, {"COL"}), "COL", kSeizures, kNow, false, {kClearance}},
      {"example s1: DEA agent", D, kAgent, label(S, {"COL"}), "COL", kSeizures, kNow, false, {kCountry}},
      {"example s1: DEA analyst", D, kDeaAnalyst, label(S, {"COL"}), "COL", kSeizures, kNow, false, {kCountry}},
      {"example s1: FGR liaison", D, kLiaison, label(S, {"COL"}), "COL", kSeizures, kNow, false, {kClearance, kCountry}},
      {"example s2: commander", D, kCommander, label(C, {"COL", "USA"}), "COL", kSeizures, kNow, true, kAllowed},
      {"example s2: originator", D, kAnalyst, label(C, {"COL", "USA"}), "COL", kSeizures, kNow, true, kAllowed},
      {"example s2: DIRAN HQ", D, kHq, label(C, {"COL", "USA"}), "COL", kSeizures, kNow, true, kAllowed},
      {"example s2: FUDRA", D, kLabOps, label(C, {"COL", "USA"}), "COL", kSeizures, kNow, true, kAllowed},
      {"example s2: DEA agent", D, kAgent, label(C, {"COL", "USA"}), "COL", kSeizures, kNow, true, kAllowed},
      {"example s2: DEA analyst", D, kDeaAnalyst, label(C, {"COL", "USA"}), "COL", kSeizures, kNow, true, kAllowed},
      {"example s2: FGR liaison", D, kLiaison, label(C, {"COL", "USA"}), "COL", kSeizures, kNow, false, {kCountry}},
  };
  // clang-format on
  REQUIRE(cases.size() >= 60);

  for (const auto& c : cases) {
    const Decision d = may_read(directory(c.world), topics(), c.node, c.label, c.originator_country, c.topic, c.t);
    INFO(c.what << " [" << world_name(c.world) << "] " << c.node << " reads '" << describe(c.label) << "' from "
                << c.originator_country << " on " << c.topic << " at " << c.t);
    INFO("reasons: " << d.denials.to_string());
    CHECK(c.allowed == c.codes.empty());  // the row itself is consistent
    CHECK(d.allowed() == c.allowed);
    CHECK(names(d.denials) == names(c.codes));
    CHECK(every_reason_explained(d.denials));
  }
}

TEST_CASE("a charter missing a consent is rejected at load and makes no one a member") {
  const auto& report = no_consent_world().report();
  bool missing_dea = false;
  for (const auto& issue : report.rejected) {
    if (issue.reason.code == Code::MISSING_CONSENT && issue.reason.message.find("DEA") != std::string::npos) {
      missing_dea = true;
    }
  }
  CHECK(missing_dea);
  CHECK(no_consent_world().directory().units_of(kAgent, kNow).empty());
}

TEST_CASE("the same charter, once DEA co-signs it, admits the embedded agent again") {
  TempDir dir("tearline-policy-consent");
  const identity::PkiPaths pki(dir.path() / "pki");
  DemoWorld::generate_into(pki.root());
  const std::uint64_t version = recharter_without_dea(pki);
  const Label unit_section = label(v1::SECRET, {"COL", "USA"}, {kUnit});

  identity::LoadReport before_report;
  const auto before = load_directory(pki, &before_report);
  const Decision denied = may_read(*before, topics(), kAgent, unit_section, "COL", kSeizures, kNow);
  CHECK(names(denied.denials) == names({kNotMember}));

  REQUIRE(identity::cosign_charter_file(pki, kUnit, version, "DEA").is_ok());
  identity::LoadReport after_report;
  const auto after = load_directory(pki, &after_report);
  CHECK(after_report.rejected.empty());
  const Decision admitted = may_read(*after, topics(), kAgent, unit_section, "COL", kSeizures, kNow);
  INFO(admitted.denials.to_string());
  CHECK(admitted.allowed());
}

TEST_CASE("grounds name every rule that held for an allow") {
  const auto& dir = *DemoWorld::get().directory();
  const Decision d = may_read(dir, topics(), kAgent, label(v1::SECRET, {"COL", "USA"}, {kUnit}), "COL", kUnitOps, kNow);
  REQUIRE(d.allowed());
  CHECK(d.grounds == std::vector<std::string>{"credential valid", "clearance SECRET >= SECRET",
                                              "country USA in releasable-to COL,USA", "member of unit cucuta-jtf",
                                              "read permission on unit.cucuta-jtf.ops"});

  PublishRequest request;
  request.originator = kAgent;
  request.topic = kUnitOps;
  request.sections = {label(v1::SECRET, {"COL", "USA"}, {kUnit})};
  const Decision p = may_publish(dir, topics(), request, kNow);
  REQUIRE(p.allowed());
  CHECK(has_ground(p, "write permission on unit.cucuta-jtf.ops"));
  CHECK(has_ground(p, "every section within the originator's clearance, country and units"));
}

TEST_CASE("grounds do not claim a rule that failed") {
  const Decision d =
      may_read(altered_world().directory(), topics(), kRetired, label(v1::SECRET, {"COL"}), "COL", kSeizures, kNow);
  REQUIRE(!d.allowed());
  CHECK_FALSE(has_ground(d, "credential valid"));
  CHECK(has_ground(d, "clearance SECRET >= SECRET"));  // the label rules still say what held
}

TEST_CASE("label_admits is the label rules only: sealing admits what the topic then withholds") {
  const auto& dir = *DemoWorld::get().directory();
  const Label mex = label(v1::CONFIDENTIAL, {"COL", "MEX"});
  CHECK(label_admits(dir, kLiaison, mex, "COL", kNow).allowed());
  const Decision read = may_read(dir, topics(), kLiaison, mex, "COL", kFinance, kNow);
  CHECK(names(read.denials) == names({kReadDenied}));
  // And the label rules alone still carry every reason.
  const Decision sealed = label_admits(dir, kLiaison, label(v1::SECRET, {"COL"}, {kUnit}), "COL", kNow);
  CHECK(names(sealed.denials) == names({kClearance, kCountry, kNotMember}));
}

// ---------------------------------------------------------------------------
// Publishing
// ---------------------------------------------------------------------------

TEST_CASE("may_publish: every rule, derived reports, and several failures at once") {
  struct Case {
    std::string what;
    World world;
    std::string originator;
    std::string topic;
    std::vector<Label> sections;
    std::vector<SourceSection> sources;
    std::int64_t t;
    bool allowed;
    std::set<Code> codes;
  };
  const auto D = World::kDemo;
  const auto A = World::kAltered;
  const auto N = World::kNoConsent;
  const auto C = v1::CONFIDENTIAL;
  const auto S = v1::SECRET;
  const auto TS = v1::TOP_SECRET;
  const auto UNSET = v1::CLASSIFICATION_UNSET;
  const std::vector<SourceSection> none;

  auto source = [](const std::string& originator, const std::string& agency, const std::string& country, Label l) {
    SourceSection s;
    s.report_id_hex = "5eed0f1ce0a1b2c3d4e5f60718293a4b";
    s.index = 0;
    s.label = std::move(l);
    s.originator = originator;
    s.originator_agency = agency;
    s.originator_country = country;
    return s;
  };
  // Cited source sections.
  const auto unit_src = source(kAnalyst, "DIRAN", "COL", label(S, {"COL", "USA"}, {kUnit}));
  const auto orcon_col_src = source(kCommander, "DIRAN", "COL", label(S, {"COL"}, {}, kOrcon));
  const auto orcon_src = source(kCommander, "DIRAN", "COL", label(S, {"COL", "USA"}, {}, kOrcon));
  const auto usa_only_src = source(kDeaAnalyst, "DEA", "USA", label(C, {}));  // empty REL: USA only
  const auto wide_src = source(kHq, "DIRAN", "COL", label(C, {"COL", "MEX", "USA"}));
  const auto shared_src = source(kHq, "DIRAN", "COL", label(S, {"COL", "USA"}));
  // docs/policy.md worked example: section 2 of the Cucuta seizure report,
  // plain and as if DIRAN had marked it ORCON.
  const auto tearline_src = source(kAnalyst, "DIRAN", "COL", label(C, {"COL", "USA"}));
  const auto tearline_orcon_src = source(kAnalyst, "DIRAN", "COL", label(C, {"COL", "USA"}, {}, kOrcon));
  const std::string kRoutes = "intel.routes.venezuela";
  const auto U = v1::UNCLASSIFIED;

  // One decision per row, its columns kept on one line.
  // clang-format off
  const std::vector<Case> cases = {
      // Allowed.
      {"DIRAN analyst, SECRET REL COL,USA", D, kAnalyst, kSeizures, {label(S, {"COL", "USA"})}, none, kNow, true, kAllowed},
      {"DIRAN commander on headquarters topic", D, kCommander, kHqTopic, {label(TS, {"COL"})}, none, kNow, true, kAllowed},
      {"liaison publishes CONFIDENTIAL on the liaison channel", D, kLiaison, kLiaisonTopic, {label(C, {"COL", "MEX"})}, none, kNow, true, kAllowed},
      {"DEA analyst, empty REL (USA only)", D, kDeaAnalyst, kSeizures, {label(S, {})}, none, kNow, true, kAllowed},
      {"DEA analyst, REL COL,USA", D, kDeaAnalyst, kSeizures, {label(S, {"COL", "USA"})}, none, kNow, true, kAllowed},
      {"embedded agent labels the unit on a unit topic", D, kAgent, kUnitOps, {label(S, {"COL", "USA"}, {kUnit})}, none, kNow, true, kAllowed},
      {"DIRAN HQ on headquarters topic", D, kHq, kHqTopic, {label(S, {"COL"})}, none, kNow, true, kAllowed},
      {"FUDRA on labs", D, kLabOps, kLabs, {label(C, {"COL"})}, none, kNow, true, kAllowed},

      // One rule failing.
      {"liaison publishing SECRET", D, kLiaison, kLiaisonTopic, {label(S, {"COL", "MEX"})}, none, kNow, false, {kClearance}},
      {"DEA node releasing to COL only", D, kDeaAnalyst, kSeizures, {label(S, {"COL"})}, none, kNow, false, {Code::ORIGINATOR_COUNTRY_MISSING}},
      {"DEA analyst labelling unit cucuta-jtf", D, kDeaAnalyst, kSeizures, {label(S, {"COL", "USA"}, {kUnit})}, none, kNow, false, {Code::UNIT_NOT_HELD}},
      {"every unit named must be held (reading needs one)", D, kCommander, kSeizures, {label(TS, {"COL"}, {kUnit, kNoSuchUnit})}, none, kNow, false, {Code::UNIT_NOT_HELD}},
      {"liaison outside the liaison channel", D, kLiaison, kSeizures, {label(C, {"COL", "MEX"})}, none, kNow, false, {kWriteDenied}},
      {"DEA on headquarters topic: explicit deny", D, kDeaAnalyst, kHqTopic, {label(S, {"COL", "USA"})}, none, kNow, false, {kWriteDenied}},
      {"no grant names the topic", D, kAnalyst, kUnlisted, {label(S, {"COL"})}, none, kNow, false, {kWriteDenied}},
      {"malformed topic", D, kAnalyst, "intel..seizures", {label(S, {"COL"})}, none, kNow, false, {Code::TOPIC_INVALID}},
      {"unset classification", D, kAnalyst, kSeizures, {label(UNSET, {"COL"})}, none, kNow, false, {Code::LABEL_INVALID}},
      {"releasable-to not sorted", D, kAnalyst, kSeizures, {label(S, {"USA", "COL"})}, none, kNow, false, {Code::LABEL_INVALID}},
      {"releasable-to duplicated", D, kAnalyst, kSeizures, {label(S, {"COL", "COL"})}, none, kNow, false, {Code::LABEL_INVALID}},
      {"releasable-to not an upper-case ISO code", D, kAnalyst, kSeizures, {label(S, {"COL", "col"})}, none, kNow, false, {Code::LABEL_INVALID}},
      {"no section", D, kAnalyst, kSeizures, {}, none, kNow, false, {Code::TOO_MANY_SECTIONS}},
      {"unknown originator", D, "no-such-node", kSeizures, {label(S, {"COL"})}, none, kNow, false, {Code::UNKNOWN_NODE}},
      {"expired originator", D, kAnalyst, kSeizures, {label(S, {"COL"})}, none, kValidUntil, false, {Code::EXPIRED}},
      {"not yet valid originator", D, kAnalyst, kSeizures, {label(S, {"COL"})}, none, kValidFrom - 1, false, {Code::NOT_YET_VALID}},
      {"revoked originator", A, kRevoked, kSeizures, {label(S, {"COL", "USA"})}, none, kNow, false, {Code::REVOKED}},
      {"originator issued with a past window", A, kRetired, kSeizures, {label(S, {"COL"})}, none, kNow, false, {Code::EXPIRED}},

      // Several publish failures at once.
      {"liaison: clearance, country, unit, topic", D, kLiaison, kSeizures, {label(S, {"USA"}, {kUnit})}, none, kNow, false, {kClearance, Code::ORIGINATOR_COUNTRY_MISSING, Code::UNIT_NOT_HELD, kWriteDenied}},
      {"second section fails alone", D, kAnalyst, kSeizures, {label(S, {"COL", "USA"}), label(TS, {"COL"})}, none, kNow, false, {kClearance}},
      {"two sections, different failures", D, kDeaAnalyst, kSeizures, {label(S, {"COL"}), label(S, {"USA"}, {kUnit})}, none, kNow, false, {Code::ORIGINATOR_COUNTRY_MISSING, Code::UNIT_NOT_HELD}},
      {"invalid unit id: invalid and not held", D, kAnalyst, kSeizures, {label(S, {"COL"}, {"Cucuta JTF"})}, none, kNow, false, {Code::LABEL_INVALID, Code::UNIT_NOT_HELD}},
      {"expired: unit charter expired too", D, kAnalyst, kSeizures, {label(S, {"COL"}, {kUnit})}, none, kLater, false, {Code::EXPIRED, Code::UNIT_NOT_HELD}},
      {"non-member on a unit topic", D, kDeaAnalyst, kUnitOps, {label(S, {"COL", "USA"})}, none, kNow, false, {kNotMember, kWriteDenied}},
      {"charter without DEA consent: agent holds no unit", N, kAgent, kUnitOps, {label(S, {"COL", "USA"}, {kUnit})}, none, kNow, false, {Code::UNIT_NOT_HELD, kNotMember, kWriteDenied}},

      // Derived reports: each section at least as restrictive as each source.
      {"derived: higher classification", D, kCommander, kSeizures, {label(TS, {"COL", "USA"}, {kUnit})}, {unit_src}, kNow, true, kAllowed},
      {"derived: same label", D, kCommander, kSeizures, {label(S, {"COL", "USA"}, {kUnit})}, {unit_src}, kNow, true, kAllowed},
      {"derived: narrower releasable-to", D, kCommander, kSeizures, {label(S, {"COL"}, {kUnit})}, {unit_src}, kNow, true, kAllowed},
      {"derived: lower classification", D, kCommander, kSeizures, {label(C, {"COL", "USA"}, {kUnit})}, {unit_src}, kNow, false, {kLooser}},
      {"derived: wider releasable-to", D, kCommander, kSeizures, {label(S, {"COL", "MEX", "USA"}, {kUnit})}, {unit_src}, kNow, false, {kLooser}},
      {"derived: dropped units", D, kCommander, kSeizures, {label(S, {"COL", "USA"})}, {unit_src}, kNow, false, {kLooser}},
      {"derived: units not a subset (and not held)", D, kCommander, kSeizures, {label(S, {"COL", "USA"}, {kUnit, kNoSuchUnit})}, {unit_src}, kNow, false, {kLooser, Code::UNIT_NOT_HELD}},
      {"derived: adding units to a source without units", D, kCommander, kSeizures, {label(C, {"COL"}, {kUnit})}, {wide_src}, kNow, true, kAllowed},
      {"derived: ORCON kept by the source's agency", D, kAnalyst, kSeizures, {label(S, {"COL"}, {}, kOrcon)}, {orcon_col_src}, kNow, true, kAllowed},
      {"derived: dropped ORCON", D, kHq, kSeizures, {label(S, {"COL"})}, {orcon_col_src}, kNow, false, {kLooser}},
      {"derived: DEA re-disseminates DIRAN ORCON", D, kAgent, kSeizures, {label(S, {"COL", "USA"}, {}, kOrcon)}, {orcon_src}, kNow, false, {Code::ORCON_VIOLATION}},
      {"derived: DIRAN may re-disseminate DIRAN ORCON", D, kAnalyst, kSeizures, {label(S, {"COL", "USA"}, {}, kOrcon)}, {orcon_src}, kNow, true, kAllowed},
      {"derived: DEA re-disseminates DIRAN ORCON and drops it", D, kAgent, kSeizures, {label(S, {"COL", "USA"})}, {orcon_src}, kNow, false, {Code::ORCON_VIOLATION, kLooser}},
      {"derived: source empty REL is USA only, derived empty too", D, kDeaAnalyst, kSeizures, {label(C, {})}, {usa_only_src}, kNow, true, kAllowed},
      {"derived: source empty REL is USA only, derived REL USA", D, kDeaAnalyst, kSeizures, {label(C, {"USA"})}, {usa_only_src}, kNow, true, kAllowed},
      {"derived: source empty REL is USA only, derived adds COL", D, kDeaAnalyst, kSeizures, {label(C, {"COL", "USA"})}, {usa_only_src}, kNow, false, {kLooser}},
      {"derived: COL node from a USA-only source", D, kAnalyst, kSeizures, {label(C, {"COL"})}, {usa_only_src}, kNow, false, {kLooser}},
      {"derived: derived empty REL is the deriver's country", D, kDeaAnalyst, kSeizures, {label(S, {})}, {shared_src}, kNow, true, kAllowed},
      {"derived: within both sources", D, kCommander, kSeizures, {label(S, {"COL", "USA"}, {kUnit})}, {unit_src, wide_src}, kNow, true, kAllowed},
      {"derived: within one source, not the other", D, kCommander, kSeizures, {label(S, {"COL", "MEX", "USA"}, {kUnit})}, {unit_src, wide_src}, kNow, false, {kLooser}},
      {"derived: every section is checked", D, kCommander, kSeizures, {label(S, {"COL", "USA"}, {kUnit}), label(C, {"COL", "USA"}, {kUnit})}, {unit_src}, kNow, false, {kLooser}},
      {"derived: unset classification is invalid and looser", D, kAnalyst, kSeizures, {label(UNSET, {"COL", "USA"}, {kUnit})}, {unit_src}, kNow, false, {Code::LABEL_INVALID, kLooser}},
      {"derived: five failures at once", D, kDeaAnalyst, kHqTopic, {label(C, {"COL"}, {kUnit})}, {orcon_src}, kNow, false, {Code::ORCON_VIOLATION, kLooser, Code::ORIGINATOR_COUNTRY_MISSING, Code::UNIT_NOT_HELD, kWriteDenied}},

      // docs/policy.md worked example: the DEA analyst's assessment citing
      // the tear-line section.
      {"example: same label", D, kDeaAnalyst, kRoutes, {label(C, {"COL", "USA"})}, {tearline_src}, kNow, true, kAllowed},
      {"example: stricter on both counts", D, kDeaAnalyst, kRoutes, {label(S, {"USA"})}, {tearline_src}, kNow, true, kAllowed},
      {"example: empty REL is USA", D, kDeaAnalyst, kRoutes, {label(C, {})}, {tearline_src}, kNow, true, kAllowed},
      {"example: adds MEX", D, kDeaAnalyst, kRoutes, {label(C, {"MEX", "USA"})}, {tearline_src}, kNow, false, {kLooser}},
      {"example: lower classification", D, kDeaAnalyst, kRoutes, {label(U, {"COL", "USA"})}, {tearline_src}, kNow, false, {kLooser}},
      {"example: omits its own country", D, kDeaAnalyst, kRoutes, {label(C, {"COL"})}, {tearline_src}, kNow, false, {Code::ORIGINATOR_COUNTRY_MISSING}},
      {"example ORCON: DIRAN HQ keeps ORCON", D, kHq, kRoutes, {label(C, {"COL", "USA"}, {}, kOrcon)}, {tearline_orcon_src}, kNow, true, kAllowed},
      {"example ORCON: DIRAN HQ drops ORCON", D, kHq, kRoutes, {label(C, {"COL", "USA"})}, {tearline_orcon_src}, kNow, false, {kLooser}},
      {"example ORCON: DEA analyst, whatever the label", D, kDeaAnalyst, kRoutes, {label(C, {"COL", "USA"}, {}, kOrcon)}, {tearline_orcon_src}, kNow, false, {Code::ORCON_VIOLATION}},
  };
  // clang-format on
  REQUIRE(cases.size() >= 40);

  for (const auto& c : cases) {
    PublishRequest request;
    request.originator = c.originator;
    request.topic = c.topic;
    request.sections = c.sections;
    request.sources = c.sources;
    const Decision d = may_publish(directory(c.world), topics(), request, c.t);
    std::string labels;
    for (const auto& l : c.sections) labels += "[" + describe(l) + "]";
    INFO(c.what << " [" << world_name(c.world) << "] " << c.originator << " publishes " << labels << " on " << c.topic
                << " citing " << c.sources.size() << " source(s) at " << c.t);
    INFO("reasons: " << d.denials.to_string());
    CHECK(c.allowed == c.codes.empty());
    CHECK(d.allowed() == c.allowed);
    CHECK(names(d.denials) == names(c.codes));
    CHECK(every_reason_explained(d.denials));
  }
}

TEST_CASE("publish reasons say which section and which source") {
  PublishRequest request;
  request.originator = kAnalyst;
  request.topic = kSeizures;
  request.sections = {label(v1::SECRET, {"COL", "USA"}), label(v1::TOP_SECRET, {"COL"})};
  const Decision d = may_publish(*DemoWorld::get().directory(), topics(), request, kNow);
  REQUIRE(d.denials.reasons().size() == 1);
  CHECK(d.denials.reasons()[0].message.find("section 2: ") == 0);

  request.sections = {label(v1::SECRET, {"COL", "USA"}), label(v1::SECRET, {"USA", "COL"})};
  const Decision invalid = may_publish(*DemoWorld::get().directory(), topics(), request, kNow);
  REQUIRE(invalid.denials.reasons().size() == 1);
  CHECK(invalid.denials.reasons()[0].code == Code::LABEL_INVALID);
  CHECK(invalid.denials.reasons()[0].message.find("section 2: ") == 0);

  SourceSection src;
  src.report_id_hex = "5eed0f1ce0a1b2c3";
  src.index = 2;
  src.label = label(v1::SECRET, {"COL", "USA"}, {}, kOrcon);
  src.originator = kCommander;
  src.originator_agency = "DIRAN";
  src.originator_country = "COL";
  request.originator = kAgent;
  request.sections = {label(v1::SECRET, {"COL", "USA"}, {}, kOrcon)};
  request.sources = {src};
  const Decision o = may_publish(*DemoWorld::get().directory(), topics(), request, kNow);
  REQUIRE(o.denials.reasons().size() == 1);
  CHECK(o.denials.reasons()[0].message.find("source 5eed0f1c section 3") != std::string::npos);
  CHECK(o.denials.reasons()[0].message.find("ORCON of DIRAN") != std::string::npos);
}
