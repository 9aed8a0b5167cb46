// broker/router: who receives a report and what of it, with the one delivery
// decision (policy::decide_delivery), and the audit texts the broker has
// always written, checked against the rules they come from (label_admits,
// the topic policy). Sessions behind the head are left alone; sessions at
// the head move on even when nothing of theirs matches.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "broker/router.h"
#include "broker_test_reports.h"
#include "identity/pki.h"
#include "policy/decisions.h"
#include "receipt/delivery.h"
#include "report/verify.h"
#include "support/demo_world.h"
#include "support/temp_dir.h"
#include "wire/frame.h"

namespace tearline::broker {
namespace {

using test_reports::demo_trust;
using test_reports::label;
using test_reports::make_report;
using testing::DemoWorld;
using testing::kDemoNow;
namespace v1 = tearline::v1;

struct Line {
  std::string event, node, report, decision, detail;
  bool operator==(const Line&) const = default;
};

struct World {
  std::map<std::string, std::vector<Bytes>> sent;  // by routing id
  std::vector<Line> audit;
  SubscriptionIndex index;
  SessionTable sessions{[this](const std::string& id, const Bytes& b) {
                          sent[id].push_back(b);
                          return true;
                        },
                        nullptr, 1000, 1 << 24, nullptr};
  Router router{index, sessions, [this](std::string e, std::string n, std::string r, std::string d, std::string x) {
                  audit.push_back(Line{std::move(e), std::move(n), std::move(r), std::move(d), std::move(x)});
                }};
  TrustSnapshot trust = demo_trust();

  Session& session(const std::string& rid, const std::string& node, std::uint64_t delivered,
                   SessionState state = SessionState::kReady) {
    Session& s = *sessions.attach(rid, node, 0);
    s.state = state;
    s.delivered = delivered;
    s.attached = true;  // its node's durable set applies (Router::wants)
    return s;
  }
};

// The DELIVER frame's report bytes.
Bytes delivered_report(const Bytes& frame) {
  auto f = wire::decode_frame(frame, 1 << 24);
  REQUIRE(f);
  REQUIRE(f->has_deliver());
  return to_bytes(f->deliver().report());
}

std::uint64_t delivered_seq(const Bytes& frame) {
  auto f = wire::decode_frame(frame, 1 << 24);
  REQUIRE(f);
  return f->deliver().broker_seq();
}

TEST_CASE("router: live routing judges the matching sessions at the head", "[broker][router]") {
  World w;
  REQUIRE(w.index.insert("dea-cucuta-agent", "intel.>"));
  REQUIRE(w.index.insert("diran-cucuta-commander", "intel.seizures.*"));
  REQUIRE(w.index.insert("dea-bogota-analyst", "ops.>"));
  const auto secret_col_usa = label(v1::SECRET, {"COL", "USA"});
  const auto secret_col = label(v1::SECRET, {"COL"});
  auto rep = make_report("intel.seizures.cucuta", "diran-bogota-hq", 1, {secret_col_usa, secret_col});
  const std::string hex = rep.parsed->report_id_hex();

  w.session("r-agent", "dea-cucuta-agent", 4);
  w.session("r-cmd", "diran-cucuta-commander", 4);
  w.session("r-analyst", "dea-bogota-analyst", 4);
  w.session("r-behind", "dea-cucuta-agent", 2);
  w.session("r-new", "dea-cucuta-agent", 4, SessionState::kNew);

  Routable r{5, rep.parsed.get(), "COL", &rep.bytes};
  CHECK(w.router.subscribers(r) == std::vector<std::string>{"dea-cucuta-agent", "diran-cucuta-commander"});
  CHECK(w.router.route_live(r, w.trust, kDemoNow) == 2);

  // The commander reads both sections: the exact bytes.
  REQUIRE(w.sent["r-cmd"].size() == 1);
  CHECK(delivered_seq(w.sent["r-cmd"][0]) == 5);
  CHECK(delivered_report(w.sent["r-cmd"][0]) == rep.bytes);
  // The agent reads section 1 only: a copy torn down to it.
  REQUIRE(w.sent["r-agent"].size() == 1);
  const std::string torn = report::redact(rep.parsed->report, {true, false}).SerializeAsString();
  CHECK(delivered_report(w.sent["r-agent"][0]) == to_bytes(torn));
  // Not subscribed to the topic: nothing sent, yet it is at the head.
  CHECK(w.sent.count("r-analyst") == 0);
  CHECK(w.sessions.find("r-analyst")->delivered == 5);
  // Behind, or not READY: left alone.
  CHECK(w.sent.count("r-behind") == 0);
  CHECK(w.sessions.find("r-behind")->delivered == 2);
  CHECK(w.sent.count("r-new") == 0);
  CHECK(w.sessions.find("r-new")->delivered == 4);

  // The audit, with the reasons the label rules give.
  const auto& dir = *w.trust.directory;
  const std::string refused =
      policy::label_admits(dir, "dea-cucuta-agent", secret_col, "COL", kDemoNow).denials.to_string();
  REQUIRE(refused.find("COUNTRY_NOT_RELEASABLE") != std::string::npos);
  // One entry for the report, a clause per decision, whatever the number of sessions.
  const std::vector<Line> expected = {
      {"routing", "", hex, "routed",
       "seq 5 | dea-cucuta-agent withheld section 2: " + refused +
           " | dea-cucuta-agent delivered sections 1 | diran-cucuta-commander delivered sections 1,2"},
  };
  CHECK(w.audit == expected);
}

TEST_CASE("router: a section the label admits but not sealed to the node is withheld NOT_ADDRESSED",
          "[broker][router]") {
  World w;
  REQUIRE(w.index.insert("diran-cucuta-commander", ">"));
  auto rep =
      make_report("intel.seizures", "diran-bogota-hq", 1, {label(v1::SECRET, {"COL"}), label(v1::SECRET, {"COL"})});
  // As if the commander were added after the report was sealed.
  auto unsealed = std::make_shared<report::VerifiedReport>(*rep.parsed);
  auto& first = unsealed->sections[0].recipients;
  first.erase(std::remove(first.begin(), first.end(), "diran-cucuta-commander"), first.end());
  w.session("r-cmd", "diran-cucuta-commander", 8);
  Routable r{9, unsealed.get(), "COL", &rep.bytes};
  CHECK(w.router.route_live(r, w.trust, kDemoNow) == 1);
  const std::string hex = rep.parsed->report_id_hex();
  const std::vector<Line> expected = {
      {"routing", "", hex, "routed",
       "seq 9 | diran-cucuta-commander withheld section 1: NOT_ADDRESSED: not sealed to the node"
       " | diran-cucuta-commander delivered sections 2"},
  };
  CHECK(w.audit == expected);
  REQUIRE(w.sent["r-cmd"].size() == 1);
  const std::string torn = report::redact(unsealed->report, {false, true}).SerializeAsString();
  CHECK(delivered_report(w.sent["r-cmd"][0]) == to_bytes(torn));
}

TEST_CASE("router: a topic the node may not read withholds all sections in one entry", "[broker][router]") {
  World w;
  REQUIRE(w.index.insert("dea-cucuta-agent", "intel.>"));
  auto rep = make_report("intel.hq.tasking", "diran-bogota-hq", 1, {label(v1::SECRET, {"COL", "USA"})});
  Session& s = w.session("r-agent", "dea-cucuta-agent", 0);
  Routable r{1, rep.parsed.get(), "COL", &rep.bytes};
  CHECK_FALSE(w.router.route_to(s, r, w.router.subscribers(r), w.trust, kDemoNow));
  CHECK(s.delivered == 1);
  CHECK(w.sent.empty());
  const Status topic =
      w.trust.topics.check(*w.trust.directory, "dea-cucuta-agent", "intel.hq.tasking", policy::Access::kRead, kDemoNow);
  REQUIRE_FALSE(topic.is_ok());
  const std::vector<Line> expected = {
      {"withheld", "dea-cucuta-agent", rep.parsed->report_id_hex(), "withheld", "all sections: " + topic.to_string()}};
  CHECK(w.audit == expected);
}

TEST_CASE("router: live routing writes one entry per report, with a clause per decision, or none", "[broker][router]") {
  World w;
  REQUIRE(w.index.insert("dea-cucuta-agent", "intel.>"));
  REQUIRE(w.index.insert("ghost-node", ">"));
  auto rep = make_report("intel.hq.tasking", "diran-bogota-hq", 1, {label(v1::SECRET, {"COL", "USA"})});
  w.session("r-agent", "dea-cucuta-agent", 0);
  w.session("r-agent-2", "dea-cucuta-agent", 0);
  w.session("r-ghost", "ghost-node", 0);
  Routable r{1, rep.parsed.get(), "COL", &rep.bytes};
  CHECK(w.router.route_live(r, w.trust, kDemoNow) == 0);
  const Status topic =
      w.trust.topics.check(*w.trust.directory, "dea-cucuta-agent", "intel.hq.tasking", policy::Access::kRead, kDemoNow);
  const std::string clause = " | dea-cucuta-agent withheld all sections: " + topic.to_string();
  // Two sessions of the agent, two clauses; the ghost's invalid credential none.
  const std::vector<Line> expected = {
      {"routing", "", rep.parsed->report_id_hex(), "routed", "seq 1" + clause + clause}};
  CHECK(w.audit == expected);

  // A report no session's node subscribed to: no entry at all.
  World quiet;
  quiet.session("r-agent", "dea-cucuta-agent", 0);
  CHECK(quiet.router.route_live(r, quiet.trust, kDemoNow) == 0);
  CHECK(quiet.audit.empty());
  CHECK(quiet.sessions.find("r-agent")->delivered == 1);
}

TEST_CASE("router: a node whose credential is not valid gets nothing and no audit entry", "[broker][router]") {
  World w;
  REQUIRE(w.index.insert("ghost-node", ">"));
  auto rep = make_report("intel.seizures", "diran-bogota-hq", 1, {label(v1::SECRET, {"COL"})});
  Session& s = w.session("r-ghost", "ghost-node", 0);
  Routable r{1, rep.parsed.get(), "COL", &rep.bytes};
  CHECK_FALSE(w.router.route_to(s, r, w.router.subscribers(r), w.trust, kDemoNow));
  CHECK(s.delivered == 1);
  CHECK(w.sent.empty());
  CHECK(w.audit.empty());
  CHECK_FALSE(Router::judge(w.trust, "ghost-node", r, kDemoNow).credential.is_ok());
}

}  // namespace
}  // namespace tearline::broker

namespace tearline::broker {
namespace {

// The demo trust with `node`'s credential revoked COMPROMISED at `at`.
TrustSnapshot trust_with_compromised(const testing::TempDir& dir, const std::string& agency, const std::string& node,
                                     std::int64_t at) {
  const identity::PkiPaths pki(dir.path() / "pki");
  DemoWorld::generate_into(pki.root());
  auto before = identity::Directory::load(pki.directory(), kDemoNow, nullptr);
  REQUIRE(before);
  const identity::Credential* cred = (*before)->node(node);
  REQUIRE(cred != nullptr);
  REQUIRE(identity::revoke(pki, agency,
                           {identity::CredentialRevocation{cred->serial, identity::RevocationReason::kCompromised, at}},
                           {}, kDemoNow));
  auto after = identity::Directory::load(pki.directory(), kDemoNow, nullptr);
  REQUIRE(after);
  TrustSnapshot t = demo_trust();
  t.directory = std::move(after).value();
  return t;
}

TEST_CASE("router: a report whose originator was compromised at or before its acceptance goes to nobody",
          "[broker][router][revocation]") {
  const testing::TempDir dir("tearline-router-revoked");
  World w;
  w.trust = trust_with_compromised(dir, "DIRAN", "diran-bogota-hq", kDemoNow);
  REQUIRE(w.index.insert("dea-cucuta-agent", "intel.>"));
  auto rep = make_report("intel.seizures", "diran-bogota-hq", 1, {label(v1::SECRET, {"COL", "USA"})});
  const std::string hex = rep.parsed->report_id_hex();
  Session& agent = w.session("r-agent", "dea-cucuta-agent", 4);
  const Bytes receipt_bytes{0x0a, 0x01, 0x02};

  // Accepted at T: withheld from all, one entry; the session moves on.
  Routable late{5, rep.parsed.get(), "COL", &rep.bytes, receipt_bytes, kDemoNow * 1000};
  CHECK_FALSE(Router::standing(w.trust, late).is_ok());
  CHECK(w.router.route_live(late, w.trust, kDemoNow) == 0);
  CHECK(w.sent["r-agent"].empty());
  CHECK(agent.delivered == 5);
  CHECK(agent.unacked.empty());
  REQUIRE(w.audit.size() == 1);
  CHECK(w.audit[0].event == "withheld");
  CHECK(w.audit[0].node.empty());
  CHECK(w.audit[0].report == hex);
  CHECK(w.audit[0].decision == "withheld");
  CHECK(w.audit[0].detail.rfind("seq 5 all nodes: ", 0) == 0);
  CHECK(w.audit[0].detail.find("ORIGINATOR_COMPROMISED") != std::string::npos);

  // Accepted a millisecond before T: delivered, with its receipt, and the
  // copy's hash remembered for the node's ACK.
  Routable early{6, rep.parsed.get(), "COL", &rep.bytes, receipt_bytes, kDemoNow * 1000 - 1};
  CHECK(Router::standing(w.trust, early).is_ok());
  CHECK(w.router.route_live(early, w.trust, kDemoNow) == 1);
  REQUIRE(w.sent["r-agent"].size() == 1);
  auto f = wire::decode_frame(w.sent["r-agent"][0], 1 << 24);
  REQUIRE(f);
  CHECK(f->deliver().broker_seq() == 6);
  CHECK(to_bytes(f->deliver().receipt()) == receipt_bytes);
  REQUIRE(agent.unacked.count(6) == 1);
  CHECK(agent.unacked.at(6).hash == receipt::copy_hash(as_bytes(f->deliver().report())));
  auto delivered = report::parse_report_structure(as_bytes(f->deliver().report()));
  REQUIRE(delivered);
  CHECK(agent.unacked.at(6).names(delivered->header.report_id()));  // an ACK must name this id
}

TEST_CASE("router: an unattached session receives only what its session patterns select, each seq once",
          "[broker][router]") {
  World w;
  REQUIRE(w.index.insert("dea-cucuta-agent", "intel.>"));
  const auto shared = label(v1::SECRET, {"COL", "USA"});
  auto rep5 = make_report("intel.seizures.cucuta", "diran-bogota-hq", 1, {shared});
  auto rep6 = make_report("intel.routes", "diran-bogota-hq", 2, {shared});
  auto rep7 = make_report("intel.seizures.cucuta", "diran-bogota-hq", 3, {shared});
  Routable r5{5, rep5.parsed.get(), "COL", &rep5.bytes};
  Routable r6{6, rep6.parsed.get(), "COL", &rep6.bytes};
  Routable r7{7, rep7.parsed.get(), "COL", &rep7.bytes};

  Session& s = w.session("r-agent", "dea-cucuta-agent", 4);
  s.attached = false;
  // Accepted when the head was 5: report 5 is older than the pattern.
  s.session_patterns.push_back(SessionPattern{"intel.seizures.>", 5, {}});
  CHECK(w.router.route_live(r5, w.trust, kDemoNow) == 0);  // the durable set does not apply, the pattern is newer
  CHECK(w.router.route_live(r6, w.trust, kDemoNow) == 0);  // the pattern does not match
  CHECK(w.router.route_live(r7, w.trust, kDemoNow) == 1);
  CHECK(s.sent_unattached == std::set<std::uint64_t>{7});

  // Attached and rewound (catch-up): 5 and 6 by the durable set, 7 not again.
  s.attached = true;
  s.delivered = 4;
  const std::vector<std::string> matched{"dea-cucuta-agent"};
  CHECK(w.router.route_to(s, r5, matched, w.trust, kDemoNow));
  CHECK(w.router.route_to(s, r6, matched, w.trust, kDemoNow));
  CHECK_FALSE(w.router.route_to(s, r7, matched, w.trust, kDemoNow));
  CHECK(s.sent_unattached.empty());
  CHECK(s.delivered == 7);
  std::vector<std::uint64_t> seqs;
  for (const auto& f : w.sent["r-agent"]) seqs.push_back(delivered_seq(f));
  CHECK(seqs == std::vector<std::uint64_t>{7, 5, 6});
}

}  // namespace
}  // namespace tearline::broker
