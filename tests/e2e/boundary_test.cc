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

namespace tearline {
namespace {

namespace v1 = tearline::v1;
using testing::BrokerFixture;
using testing::label;
using Strings = std::vector<std::string>;

constexpr int kWaitMs = 5000;

std::int64_t now() { return SystemClock::instance().now_seconds(); }

// DEA's boundary broker, a partner agency, and the peering: intel.routes.>
// and intel.finance.> may cross from DIRAN to DEA up to SECRET, releasable
// to USA; nothing the other way.
void make_peering(BrokerFixture& fx, std::int64_t not_after) {
  const identity::PkiPaths& pki = fx.pki();
  REQUIRE(identity::issue_node(pki, {"dea-broker", "DEA", v1::UNCLASSIFIED, {"broker"}, now() - 60, now() + 86400, 0}));
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
  auto version = federation::create_peering_file(pki, d, now());
  INFO(version.status().to_string());
  REQUIRE(version);
  // Both sign while both are this PKI's agencies; then DEA becomes a partner.
  REQUIRE(federation::cosign_peering_file(pki, "diran-dea", *version, "DIRAN", now()));
  REQUIRE(federation::cosign_peering_file(pki, "diran-dea", *version, "DEA", now()));
  auto trust = identity::TrustStore::load(pki.trust_store());
  REQUIRE(trust);
  identity::TrustStore next;
  for (auto [id, a] : trust->authorities()) {
    a.partner = id == "DEA";
    REQUIRE(next.add(a));
  }
  const std::string text = next.to_toml();
  REQUIRE(write_file_atomic(pki.trust_store(), as_bytes(text), 0644));
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
  make_peering(fx, now() + 86400);
  {
    INFO("a DEA broker no peering names is a partner's node: FOREIGN_NODE");
    auto stray = fx.connect("dea-stray-broker");
    REQUIRE_FALSE(stray);
    CHECK(stray.status().code() == Code::HANDSHAKE_REFUSED);
  }
  auto peer = fx.connect("dea-broker");
  INFO((peer ? std::string() : peer.status().to_string()));
  REQUIRE(peer);
  client::Session& dea_broker = **peer;
  {
    const Status outside = dea_broker.subscribe({"ops.>"});
    CHECK(testing::code_names(outside) == Strings{"PEERING_TOPIC"});
    CHECK(outside.to_string().find("meets no topic peering diran-dea v1 lets cross to DEA") != std::string::npos);
  }
  REQUIRE(dea_broker.subscribe({"intel.>"}));
  {
    auto published = dea_broker.publish(testing::draft("intel.routes.north", {{testing::kEveryone, "x"}}));
    REQUIRE(published);
    CHECK_FALSE(published->accepted);
    CHECK(testing::code_names(published->status) == Strings{"NOT_AUTHORIZED"});
  }

  auto commander = testing::must_connect(fx, "diran-cucuta-commander");
  const testing::Section crosses{label(v1::SECRET, {"COL", "USA"}), "route via Tibu, Thursday"};
  const testing::Section colombia_only{label(v1::SECRET, {"COL"}), "informant: the driver's cousin"};
  const testing::Section too_high{label(v1::TOP_SECRET, {"COL", "USA"}), "wiretap transcript"};
  auto sent = commander->publish(testing::draft("intel.routes.north", {crosses, colombia_only, too_high}));
  REQUIRE(sent);
  REQUIRE(sent->accepted);
  auto got = dea_broker.receive(kWaitMs);
  REQUIRE(got);
  INFO(got->verification.to_string());
  CHECK(got->verification);  // the originator's signature verifies over the torn copy
  CHECK(got->report_id_hex == to_hex(sent->report_id));
  CHECK(statuses(*got) == Strings{"not addressed", "withheld", "withheld"});

  // A topic the peering does not name, though dea-broker's pattern matches it.
  auto finance = commander->publish(testing::draft("intel.hq.budget", {crosses}));
  REQUIRE(finance);
  REQUIRE(finance->accepted);
  CHECK_FALSE(dea_broker.receive(500));

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
    auto genuine = receipt::verify_acceptance(got->receipt, digest, **dir);
    CHECK(genuine);
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
                     "dea-broker withheld all sections: PEERING_TOPIC: topic intel.hq.budget is not among the "
                     "topics peering diran-dea v1 lets cross to DEA (intel.routes.>, intel.finance.>)"));
}

TEST_CASE("boundary: a peering outside its window admits no partner broker", "[e2e]") {
  BrokerFixture fx;
  make_peering(fx, now() + 2);
  auto linked = fx.connect("dea-broker");
  REQUIRE(linked);
  // Past its end, housekeeping closes the session and the next handshake
  // is refused.
  std::optional<Status> closed;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!closed && std::chrono::steady_clock::now() < until) {
    CHECK_FALSE((*linked)->receive(100));
    closed = (*linked)->take_session_error();
  }
  REQUIRE(closed);
  CHECK(code_name(closed->code()) == "SESSION_REVOKED");
  CHECK(closed->has(Code::FOREIGN_NODE));
  CHECK(closed->to_string().find("is the partner broker of peering diran-dea, which is not valid now") !=
        std::string::npos);
  auto late = fx.connect("dea-broker");
  REQUIRE_FALSE(late);
  CHECK(late.status().code() == Code::HANDSHAKE_REFUSED);
}

}  // namespace tearline
