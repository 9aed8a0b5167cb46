// The sending side of a boundary (docs/federation.md, "What crosses"): a
// real broker of DIRAN, the demo PKI with DEA made a partner agency, and a
// peering in effect between DIRAN's broker and DEA's boundary broker
// (dea-broker, here a client session with its own keys). dea-broker may hold
// a session only while a peering names it; it may subscribe only within the
// peering's topics and never publish; each report it receives carries only
// the sections the peering lets cross (the others as commitments, the
// originator's signature still verifying), and each torn-off section is in
// DIRAN's audit log with its code.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "audit/audit_db.h"
#include "base/canonical_proto.h"
#include "base/clock.h"
#include "base/files.h"
#include "crypto/key_file.h"
#include "federation/peering_files.h"
#include "identity/pki.h"
#include "identity/trust_store.h"
#include "receipt/acceptance.h"
#include "support/e2e_helpers.h"
#include "support/partners.h"

namespace tearline {
namespace {

namespace v1 = tearline::v1;
using testing::BrokerFixture;
using testing::label;
using Strings = std::vector<std::string>;

constexpr int kWaitMs = 5000;

std::int64_t now() { return SystemClock::instance().now_seconds(); }

// DIRAN to DEA: intel.routes.> and intel.finance.> up to SECRET,
// releasable to USA; nothing the other way.
federation::PeeringDraft draft_of(std::int64_t not_after) {
  federation::PeeringDraft d;
  d.peering_id = "diran-dea";
  d.first_agency = "DIRAN";
  d.first_broker = "tearline-broker";
  d.second_agency = "DEA";
  d.second_broker = "dea-broker";
  d.first_to_second.add_topics("intel.routes.>");
  d.first_to_second.add_topics("intel.finance.>");
  d.first_to_second.set_ceiling(v1::SECRET);
  d.first_to_second.add_releasable_to("USA");
  d.second_to_first.set_ceiling(v1::UNCLASSIFIED);
  d.not_before = now() - 60;
  d.not_after = not_after;
  return d;
}

// DIRAN signs the version; DEA too when `dea` (DEA's authority key is in
// the demo PKI: signed directly, as DEA would with its own PKI).
void sign(const BrokerFixture& fx, std::uint64_t version, bool dea) {
  REQUIRE(federation::cosign_peering_file(fx.pki(), "diran-dea", version, "DIRAN", now()));
  if (!dea) return;
  const auto path = federation::peering_file(fx.pki().directory(), "diran-dea", version);
  auto bytes = read_file(path);
  REQUIRE(bytes);
  v1::SignedObject obj;
  REQUIRE(obj.ParseFromArray(bytes->data(), static_cast<int>(bytes->size())));
  auto key = crypto::read_authority_key(fx.pki().authority_key("DEA"));
  REQUIRE(key);
  auto trust = identity::TrustStore::load(fx.pki().trust_store());
  REQUIRE(trust);
  federation::cosign_peering(&obj, *trust->authority("DEA"), *key);
  REQUIRE(write_file_atomic(path, serialize_canonical(obj), 0644));
}

// DEA's boundary broker (its credential carries the roles its agency gave
// it: an admin role among them administers nothing here), peering v1 signed
// by both, then DEA made a partner agency; the broker reloads.
void make_peering(BrokerFixture& fx, std::int64_t not_after) {
  const identity::PkiPaths& pki = fx.pki();
  REQUIRE(identity::issue_node(
      pki, {"dea-broker", "DEA", v1::UNCLASSIFIED, {"broker", "admin"}, now() - 60, now() + 86400, 0}));
  auto version = federation::create_peering_file(pki, draft_of(not_after), now());
  INFO(version.status().to_string());
  REQUIRE(version);
  sign(fx, *version, /*dea=*/true);
  testing::set_partner_agencies(pki.trust_store(), {"DEA"});
  fx.reload();
}

Strings statuses(const client::Received& r) {
  Strings out;
  for (const auto& s : r.sections) out.emplace_back(client::section_status_name(s.status));
  return out;
}

// The audit entries' details for `node` (route_live's "routing" clauses and
// route_to's own entries), after the broker stopped.
Strings audit_mentions(BrokerFixture& fx, const std::string& node) {
  fx.stop();
  auto entries = audit::read_entries(fx.database());
  REQUIRE(entries);
  Strings out;
  for (const auto& e : *entries) {
    if (e.node == node || e.detail.find("| " + node + " ") != std::string::npos) out.push_back(e.detail);
  }
  return out;
}

bool any_contains(const Strings& lines, const std::string& needle) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& l) { return l.find(needle) != std::string::npos; });
}

}  // namespace

TEST_CASE("boundary: a partner's broker receives only what the peering lets cross, torn off and audited", "[e2e]") {
  BrokerFixture fx;
  {
    INFO("before any peering, a partner's broker is only a node of a partner agency");
    REQUIRE(identity::issue_node(
        fx.pki(), {"dea-stray-broker", "DEA", v1::UNCLASSIFIED, {"broker"}, now() - 60, now() + 86400, 0}));
    fx.reload();
    CHECK(fx.connect("dea-stray-broker"));  // DEA is not a partner yet: served as any DEA node
  }
  const std::int64_t until = now() + 86400;
  make_peering(fx, until);
  {
    INFO("a DEA broker no peering names is a partner's node: FOREIGN_NODE");
    auto stray = fx.connect("dea-stray-broker");
    REQUIRE_FALSE(stray);
    CHECK(stray.status().code() == Code::HANDSHAKE_REFUSED);
  }
  auto peer = fx.connect("dea-broker");
  INFO((peer ? std::string() : peer.status().to_string()));
  REQUIRE(peer);
  std::unique_ptr<client::Session> dea_broker = std::move(peer).value();
  for (const char* wider : {"ops.>", "intel.>", ">"}) {
    INFO(wider);
    const Status outside = dea_broker->subscribe({wider});
    CHECK(testing::code_names(outside) == Strings{"PEERING_TOPIC"});
    CHECK(outside.to_string().find("is not within the topics peering diran-dea v1 lets cross to DEA") !=
          std::string::npos);
  }
  const std::vector<std::string> patterns = {"intel.routes.>", "intel.finance.>"};
  REQUIRE(dea_broker->subscribe(patterns));
  {
    auto published = dea_broker->publish(testing::draft("intel.routes.north", {{testing::kEveryone, "x"}}));
    REQUIRE(published);
    CHECK_FALSE(published->accepted);
    CHECK(testing::code_names(published->status) == Strings{"NOT_AUTHORIZED"});
    auto status = dea_broker->status();
    REQUIRE_FALSE(status);
    CHECK(testing::code_names(status.status()) == Strings{"NOT_AUTHORIZED"});
    CHECK(status.status().to_string().find("does not administer this broker") != std::string::npos);
  }

  auto commander = testing::must_connect(fx, "diran-cucuta-commander");
  const testing::Section crosses{label(v1::SECRET, {"COL", "USA"}), "route via Tibu, Thursday"};
  const testing::Section colombia_only{label(v1::SECRET, {"COL"}), "informant: the driver's cousin"};
  const testing::Section too_high{label(v1::TOP_SECRET, {"COL", "USA"}), "wiretap transcript"};
  auto sent = commander->publish(testing::draft("intel.routes.north", {crosses, colombia_only, too_high}));
  REQUIRE(sent);
  REQUIRE(sent->accepted);
  auto got = dea_broker->receive(kWaitMs);
  REQUIRE(got);
  INFO(got->verification.to_string());
  CHECK(got->verification);  // the originator's signature verifies over the torn copy
  CHECK(got->report_id_hex == to_hex(sent->report_id));
  CHECK(statuses(*got) == Strings{"not addressed", "withheld", "withheld"});
  {
    INFO("a partner's broker is no witness of acceptance here: a receipt it signs does not verify");
    v1::Report copy;
    REQUIRE(copy.ParseFromArray(got->raw.data(), static_cast<int>(got->raw.size())));
    const crypto::Digest digest = receipt::report_digest(copy);
    auto keys = crypto::read_node_keys(fx.pki().node_key("dea-broker"));
    REQUIRE(keys);
    const auto forged = receipt::sign_acceptance("dea-broker", keys->signing, 1, {digest}, 1000);
    auto dir = identity::Directory::load(fx.pki().directory(), now(), nullptr);
    REQUIRE(dir);
    auto verdict = receipt::verify_acceptance(forged.front(), digest, **dir);
    REQUIRE_FALSE(verdict);
    CHECK(verdict.status().to_string().find("'dea-broker' is a broker of partner agency DEA") != std::string::npos);
    CHECK(receipt::verify_acceptance(got->receipt, digest, **dir));
  }
  {
    INFO("a co-tenant agency's report does not cross a peering DIRAN signed");
    auto fudra = testing::must_connect(fx, "fudra-lab-ops");
    auto theirs =
        fudra->publish(testing::draft("intel.routes.lab", {{label(v1::CONFIDENTIAL, {"COL", "USA"}), "lab"}}));
    REQUIRE(theirs);
    REQUIRE(theirs->accepted);
  }
  {
    INFO("a unit section crosses while a member of theirs may read it; once revoked, the catch-up leaves it home");
    const testing::Section unit_only{label(v1::SECRET, {"COL", "USA"}, {"cucuta-jtf"}), "the safe house"};
    auto live = commander->publish(testing::draft("intel.routes.unit", {unit_only}));
    REQUIRE(live);
    REQUIRE(live->accepted);
    auto crossed = dea_broker->receive(kWaitMs);
    REQUIRE(crossed);
    CHECK(crossed->report_id_hex == to_hex(live->report_id));
    CHECK(statuses(*crossed) == Strings{"not addressed"});
    dea_broker.reset();  // the link goes down
    auto later = commander->publish(testing::draft("intel.routes.unit", {unit_only}));
    REQUIRE(later);
    REQUIRE(later->accepted);
    fx.revoke("DEA", "dea-cucuta-agent");
    auto again = fx.connect("dea-broker");
    REQUIRE(again);
    dea_broker = std::move(again).value();
    REQUIRE(dea_broker->subscribe(patterns));
    CHECK_FALSE(dea_broker->receive(1500));
  }
  {
    INFO("narrowed by DIRAN alone while the link is up: intel.finance.> no longer crosses");
    federation::PeeringDraft narrower = draft_of(until);
    narrower.first_to_second.clear_topics();
    narrower.first_to_second.add_topics("intel.routes.>");
    narrower.not_before = now() - 30;
    narrower.version = 2;
    REQUIRE(federation::create_peering_file(fx.pki(), narrower, now()));
    sign(fx, 2, /*dea=*/false);
    fx.reload();
    auto finance = commander->publish(testing::draft("intel.finance.cash", {crosses}));
    REQUIRE(finance);
    REQUIRE(finance->accepted);
    CHECK_FALSE(dea_broker->receive(1500));
  }

  const Strings audit = audit_mentions(fx, "dea-broker");
  CHECK(any_contains(audit,
                     "dea-broker withheld section 2: COUNTRY_NOT_RELEASABLE: not releasable to USA, which "
                     "peering diran-dea v1 requires towards DEA"));
  CHECK(any_contains(audit,
                     "dea-broker withheld section 3: ABOVE_PEERING_CEILING: TOP_SECRET is above the ceiling "
                     "SECRET of peering diran-dea v1 towards DEA"));
  CHECK(any_contains(audit, "dea-broker delivered sections 1"));
  CHECK(any_contains(audit,
                     "dea-broker withheld all sections: NO_PEERING: its originator is a node of FUDRA, not of "
                     "DIRAN: peering diran-dea v1 carries DIRAN's reports only"));
  CHECK(any_contains(audit, "section 1: NOT_ADDRESSED: sealed to no node of DEA whom its label admits now"));
  CHECK(any_contains(audit,
                     "dea-broker withheld all sections: PEERING_TOPIC: topic intel.finance.cash is not among the "
                     "topics peering diran-dea v2 lets cross to DEA (intel.routes.>)"));
}

TEST_CASE("boundary: a peering outside its window admits no partner broker", "[e2e]") {
  BrokerFixture fx;
  make_peering(fx, now() + 5);
  auto linked = fx.connect("dea-broker");
  REQUIRE(linked);
  // Past its end, housekeeping closes the session and the next handshake
  // is refused.
  std::optional<Status> closed;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(12);
  while (!closed && std::chrono::steady_clock::now() < until) {
    CHECK_FALSE((*linked)->receive(100));
    closed = (*linked)->take_session_error();
  }
  REQUIRE(closed);
  CHECK(code_name(closed->code()) == "SESSION_REVOKED");
  CHECK(closed->has(Code::FOREIGN_NODE));
  CHECK(closed->to_string().find("is the partner broker of a peering that is not valid now (diran-dea v1 valid") !=
        std::string::npos);
  auto late = fx.connect("dea-broker");
  REQUIRE_FALSE(late);
  CHECK(late.status().code() == Code::HANDSHAKE_REFUSED);
}

}  // namespace tearline
