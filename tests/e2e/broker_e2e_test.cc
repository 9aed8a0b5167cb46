// Black-box tests of the broker: a real broker on tcp://127.0.0.1:*, real
// client sessions of the demo world's nodes, exact assertions about who
// received what, section by section.
//
// Non-delivery is proven with a sentinel: after the message that must not
// arrive, a good report every subscriber may read is published; deliveries
// on one session come in broker order, so once a subscriber has received the
// sentinel, anything accepted before it would already have arrived.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "identity/pki.h"
#include "policy/label.h"
#include "report/verify.h"
#include "support/broker_fixture.h"
#include "support/e2e_helpers.h"
#include "support/temp_dir.h"
#include "tearline/client.h"
#include "wire/frame.h"

namespace tearline {
namespace {

namespace v1 = tearline::v1;
using client::Received;
using client::SectionStatus;
using client::Session;
using testing::BrokerFixture;
using testing::code_names;
using testing::codes;
using testing::draft;
using testing::error_code_of;
using testing::kEveryone;
using testing::label;
using testing::must_connect;
using testing::Section;

constexpr int kWaitMs = 5000;  // for anything that should arrive
constexpr std::int64_t kTenMinutesMs = std::int64_t{10} * 60 * 1000;

const std::vector<std::string> kDemoNodes = {
    "diran-cucuta-commander", "diran-cucuta-analyst", "diran-bogota-hq", "dea-cucuta-agent",
    "dea-bogota-analyst",     "fudra-lab-ops",        "fgr-liaison"};

// The codes of a rejected PUBLISH (fails the test if it was accepted or got no verdict).
std::vector<std::string> rejection(const Result<client::PublishOutcome>& outcome) {
  INFO("publish: " << outcome.status().to_string());
  REQUIRE(outcome);
  INFO("reasons: " << outcome->status.to_string());
  CHECK_FALSE(outcome->accepted);
  return code_names(outcome->status);
}

Bytes frame_bytes(const v1::Frame& frame) { return wire::encode_frame(frame); }

// ---- the world: a broker and one subscribed session per node ---------------------

// A broker and one session per node, each subscribed to "intel.>" and, when
// the topic policy lets it read anything there, "unit.>" (a pattern denied
// entirely is REJECTED TOPIC_READ_DENIED). Reports are compared rendered one per line, with report ids
// replaced by the names the test gave them:
//   cucuta-seizure from diran-cucuta-commander on unit.cucuta-jtf.seizures:
//     [withheld] [opened CONFIDENTIAL REL COL,USA UNITS cucuta-jtf "text"]
class World {
 public:
  explicit World(const std::vector<std::string>& nodes = kDemoNodes) {
    for (const auto& node : nodes) {
      sessions_[node] = must_connect(fx, node);
      Status subscribed = sessions_[node]->subscribe({"intel.>"});
      INFO(node << " subscribe: " << subscribed.to_string());
      REQUIRE(subscribed);
      Status units = sessions_[node]->subscribe({"unit.>"});
      INFO(node << " subscribe unit.>: " << units.to_string());
      REQUIRE((units.is_ok() || units.code() == Code::TOPIC_READ_DENIED));
    }
  }

  BrokerFixture fx;

  Session& at(const std::string& node) {
    auto it = sessions_.find(node);
    REQUIRE(it != sessions_.end());
    return *it->second;
  }
  // Removes the node from the subscribers checked by deliveries().
  std::unique_ptr<Session> take(const std::string& node) {
    auto session = std::move(sessions_.at(node));
    sessions_.erase(node);
    return session;
  }

  void name(const std::string& id_hex, const std::string& name) { names_[id_hex] = name; }
  std::string name_of(const std::string& id_hex) const {
    auto it = names_.find(id_hex);
    return it == names_.end() ? "unnamed:" + id_hex : it->second;
  }

  // Publishes, requires ACCEPTED, and names the report.
  std::string publish(const std::string& node, const std::string& name, const client::Draft& d) {
    auto outcome = at(node).publish(d);
    INFO(node << " publishing " << name << ": " << outcome.status().to_string());
    REQUIRE(outcome);
    INFO("reasons: " << outcome->status.to_string());
    REQUIRE(outcome->accepted);
    std::string id = to_hex(outcome->report_id);
    names_[id] = name;
    return id;
  }
  std::string publish_bytes(const std::string& node, const std::string& name, ByteView bytes) {
    auto outcome = at(node).publish_bytes(bytes);
    INFO(node << " publishing " << name << ": " << outcome.status().to_string());
    REQUIRE(outcome);
    INFO("reasons: " << outcome->status.to_string());
    REQUIRE(outcome->accepted);
    std::string id = to_hex(outcome->report_id);
    names_[id] = name;
    return id;
  }

  std::string render(const Received& r) const {
    std::string out = name_of(r.report_id_hex) + " from " + r.originator + " on " + r.topic + ":";
    if (!r.verification) out += " NOT VERIFIED " + r.verification.to_string();
    for (const auto& s : r.sections) {
      out += " [" + std::string(client::section_status_name(s.status));
      if (s.status == SectionStatus::kOpened) {
        out += " " + (s.label ? policy::describe(client::to_policy(*s.label)) : std::string("(no label)")) + " \"" +
               s.text + "\"";
      }
      out += "]";
    }
    return out;
  }

  // Publishes a sentinel every node may read, then reads every subscriber up
  // to it. Returns, per node, what arrived before the sentinel, rendered.
  std::map<std::string, std::vector<std::string>> deliveries() {
    const std::string sentinel = publish("diran-bogota-hq", "sentinel-" + std::to_string(++sentinels_),
                                         draft("intel.sentinel", {{kEveryone, "sentinel"}}));
    std::map<std::string, std::vector<std::string>> out;
    for (auto& [node, session] : sessions_) {
      auto& got = out[node];
      for (;;) {
        auto r = session->receive(kWaitMs);
        INFO(node << " waiting for " << name_of(sentinel) << " after " << got.size() << " reports");
        REQUIRE(r);
        if (r->report_id_hex == sentinel) break;
        got.push_back(render(*r));
      }
    }
    return out;
  }

  // deliveries() compared with `expected` (nodes not listed: nothing).
  void expect_deliveries(const std::map<std::string, std::vector<std::string>>& expected) {
    auto got = deliveries();
    for (const auto& [node, lines] : got) {
      auto it = expected.find(node);
      const std::vector<std::string> want = it == expected.end() ? std::vector<std::string>{} : it->second;
      INFO("subscriber " << node);
      CHECK(lines == want);
    }
    for (const auto& [node, lines] : expected) {
      INFO("expected subscriber " << node);
      CHECK(got.count(node) == 1);
    }
  }

  // expect_deliveries() for reports whose every section `nodes` open.
  void expect_opened_by(const std::vector<std::string>& nodes, const std::string& id, const std::string& originator,
                        const std::string& topic, const std::vector<Section>& sections) {
    std::map<std::string, std::vector<std::string>> expected;
    for (const auto& node : nodes) expected[node] = {opened_line(id, originator, topic, sections)};
    expect_deliveries(expected);
  }

  std::string opened_line(const std::string& id, const std::string& originator, const std::string& topic,
                          const std::vector<Section>& sections) const {
    std::string out = name_of(id) + " from " + originator + " on " + topic + ":";
    for (const auto& s : sections) out += " [opened " + policy::describe(s.label) + " \"" + s.text + "\"]";
    return out;
  }

 private:
  std::map<std::string, std::unique_ptr<Session>> sessions_;
  std::map<std::string, std::string> names_;
  int sentinels_ = 0;
};

std::string withheld() { return " [withheld]"; }
std::string opened(const Section& s) { return " [opened " + policy::describe(s.label) + " \"" + s.text + "\"]"; }

// ---- 1. the delivery matrix --------------------------------------------------------

TEST_CASE("e2e: the demo world's delivery matrix, node by node and section by section", "[e2e]") {
  World w;

  // (a) The Cucuta seizure: an informant section for DIRAN members of the
  // unit only, and a tear line the embedded DEA agent may read.
  const Section informant{label(v1::SECRET, {"COL"}, {"cucuta-jtf"}),
                          "Informant CUCUTA-7: the load crosses at Puerto Santander on Friday"};
  const Section tearline{label(v1::CONFIDENTIAL, {"COL", "USA"}, {"cucuta-jtf"}),
                         "1.2 t of cocaine seized in Cucuta; two arrests"};
  (void)w.publish("diran-cucuta-commander", "cucuta-seizure", draft("unit.cucuta-jtf.seizures", {informant, tearline}));
  const std::string a_line = "cucuta-seizure from diran-cucuta-commander on unit.cucuta-jtf.seizures:";

  // (b) A DEA Bogota financial lead for everyone cleared CONFIDENTIAL in COL, MEX, USA.
  const Section lead{label(v1::CONFIDENTIAL, {"COL", "MEX", "USA"}),
                     "Front company Inversiones Catatumbo SAS moves cash through Monterrey"};
  const std::string b = w.publish("dea-bogota-analyst", "finance-lead", draft("intel.finance", {lead}));
  const std::string b_line = w.opened_line(b, "dea-bogota-analyst", "intel.finance", {lead});

  // (c) A military lab report for Colombians only.
  const Section lab{label(v1::CONFIDENTIAL, {"COL"}), "Lab destroyed near Tibu: 300 kg of base"};
  const std::string c = w.publish("fudra-lab-ops", "lab-report", draft("intel.labs", {lab}));
  const std::string c_line = w.opened_line(c, "fudra-lab-ops", "intel.labs", {lab});

  // (d) A SECRET route report: the CONFIDENTIAL nodes are not cleared for it.
  const Section route{label(v1::SECRET, {"COL", "MEX", "USA"}), "Go-fast boats leave Tumaco for Oaxaca on new moons"};
  const std::string d = w.publish("diran-bogota-hq", "route-report", draft("intel.routes", {route}));
  const std::string d_line = w.opened_line(d, "diran-bogota-hq", "intel.routes", {route});

  w.expect_deliveries({
      {"diran-cucuta-commander", {a_line + opened(informant) + opened(tearline), b_line, c_line, d_line}},
      {"diran-cucuta-analyst", {a_line + opened(informant) + opened(tearline), b_line, c_line, d_line}},
      {"diran-bogota-hq", {b_line, c_line, d_line}},
      {"dea-cucuta-agent", {a_line + withheld() + opened(tearline), b_line, d_line}},
      {"dea-bogota-analyst", {b_line, d_line}},
      {"fudra-lab-ops", {b_line, c_line}},
      {"fgr-liaison", {b_line}},
  });
  const auto stats = w.fx.stats();
  CHECK(stats.accepted == 5);  // a, b, c, d and the sentinel
  CHECK(stats.rejected == 0);
}

// ---- 2. admission and revocation ---------------------------------------------------------

TEST_CASE("e2e: unknown, revoked and expired nodes are refused; a node revoked while connected is cut off", "[e2e]") {
  World w({"diran-cucuta-commander", "diran-cucuta-analyst", "diran-bogota-hq", "dea-cucuta-agent",
           "dea-bogota-analyst", "fgr-liaison"});
  const std::int64_t now = SystemClock::instance().now_seconds();

  {
    INFO(
        "a transport key in no credential of the broker's directory: a rogue 'DEA' authority issues "
        "dea-bogota-analyst in another PKI");
    testing::TempDir other_dir("tearline-e2e-rogue");
    identity::PkiPaths other(other_dir.path() / "pki");
    REQUIRE(identity::init_authority(other, "DEA", "USA"));
    auto rogue = identity::issue_node(
        other, {"dea-bogota-analyst", "DEA", v1::TOP_SECRET, {"analyst"}, now - 3600, now + 3600, 0});
    INFO(rogue.status().to_string());
    REQUIRE(rogue);
    std::filesystem::copy_file(w.fx.pki().broker_public(), other.broker_public(),
                               std::filesystem::copy_options::overwrite_existing);
    client::SessionOptions options = w.fx.options("dea-bogota-analyst");
    options.directory = other.directory();
    options.key_file = other.node_key("dea-bogota-analyst");
    auto refused = Session::connect(options);
    INFO(refused.status().to_string());
    REQUIRE_FALSE(refused);
    CHECK(code_names(refused.status()) == codes({Code::HANDSHAKE_REFUSED}));
  }
  {
    INFO("revoked before connecting");
    w.fx.revoke("FUDRA", "fudra-lab-ops");
    auto refused = w.fx.connect("fudra-lab-ops");
    INFO(refused.status().to_string());
    REQUIRE_FALSE(refused);
    CHECK(code_names(refused.status()) == codes({Code::HANDSHAKE_REFUSED, Code::REVOKED}));
  }
  {
    INFO("expired: a credential whose window ended an hour ago");
    auto expired = identity::issue_node(w.fx.pki(),
                                        {"dea-expired-agent", "DEA", v1::SECRET, {"agent"}, now - 7200, now - 3600, 0});
    INFO(expired.status().to_string());
    REQUIRE(expired);
    w.fx.reload();
    auto refused = w.fx.connect("dea-expired-agent");
    INFO(refused.status().to_string());
    REQUIRE_FALSE(refused);
    CHECK(code_names(refused.status()) == codes({Code::HANDSHAKE_REFUSED, Code::EXPIRED}));
  }

  // Revoked while connected: ERROR SESSION_REVOKED (because REVOKED) within
  // a second of the reload, then nothing more.
  std::unique_ptr<Session> agent = w.take("dea-cucuta-agent");
  w.fx.revoke("DEA", "dea-cucuta-agent");
  const auto reloaded = std::chrono::steady_clock::now();
  std::optional<Status> error;
  while (!error && std::chrono::steady_clock::now() - reloaded < std::chrono::seconds(1)) {
    auto r = agent->receive(50);
    REQUIRE_FALSE(r);
    error = agent->take_session_error();
  }
  REQUIRE(error);
  CHECK(code_name(error->code()) == "SESSION_REVOKED");
  CHECK(error->has(Code::REVOKED));

  // A report only the DEA nodes may read, then the sentinel (which the
  // agent could read too, and which the publisher, holding the directory it
  // loaded before the revocation, sealed to it).
  const Section dea_only{label(v1::SECRET, {"USA"}), "DEA eyes only: wire transfers to Panama"};
  const std::string id = w.publish("dea-bogota-analyst", "dea-only", draft("intel.finance", {dea_only}));
  w.expect_deliveries({{"dea-bogota-analyst", {w.opened_line(id, "dea-bogota-analyst", "intel.finance", {dea_only})}}});
  CHECK_FALSE(agent->receive(500));
  auto again = w.fx.connect("dea-cucuta-agent");
  REQUIRE_FALSE(again);
  CHECK(code_names(again.status()) == codes({Code::HANDSHAKE_REFUSED, Code::REVOKED}));
}

// ---- 3 and 4. PUBLISH faults, then still serving ---------------------------------------

TEST_CASE("e2e: each PUBLISH fault is rejected with its own code and delivered to no one", "[e2e]") {
  World w;
  Session& hq = w.at("diran-bogota-hq");
  Session& dea = w.at("dea-bogota-analyst");
  Session& fgr = w.at("fgr-liaison");
  const std::int64_t now_ms = SystemClock::instance().now_ms();
  const std::vector<std::string> cleared_col_usa = {"diran-cucuta-commander", "diran-cucuta-analyst", "diran-bogota-hq",
                                                    "dea-cucuta-agent",       "dea-bogota-analyst",   "fudra-lab-ops"};
  const std::vector<std::string> secret_col_usa = {"diran-cucuta-commander", "diran-cucuta-analyst", "diran-bogota-hq",
                                                   "dea-cucuta-agent", "dea-bogota-analyst"};

  {
    INFO("forged signature: one bit of the signature flipped");
    auto built = client::build(hq, draft("intel.seizures", {{kEveryone, "forged"}}));
    REQUIRE(built);
    Bytes bytes = built->bytes;
    const std::string& signature = built->report.signature();
    REQUIRE(signature.size() == 64);
    auto at = std::search(bytes.begin(), bytes.end(), signature.begin(), signature.end(),
                          [](std::uint8_t a, char b) { return a == static_cast<std::uint8_t>(b); });
    REQUIRE(at != bytes.end());
    at[63] ^= 0x01;
    CHECK(rejection(hq.publish_bytes(bytes)) == codes({Code::REPORT_SIGNATURE}));
    w.expect_deliveries({});
  }
  {
    INFO("originator mismatch: dea-bogota-analyst's signed report sent on diran-bogota-hq's session");
    auto built = client::build(dea, draft("intel.finance", {{kEveryone, "not mine"}}));
    REQUIRE(built);
    CHECK(rejection(hq.publish_bytes(built->bytes)) == codes({Code::ORIGINATOR_MISMATCH}));
    w.expect_deliveries({});
  }
  {
    INFO("replay: the same bytes twice");
    const Section s{kEveryone, "published once"};
    auto built = client::build(hq, draft("intel.seizures", {s}));
    REQUIRE(built);
    const std::string id = w.publish_bytes("diran-bogota-hq", "once", built->bytes);
    CHECK(rejection(hq.publish_bytes(built->bytes)) == codes({Code::REPLAYED_REPORT, Code::SEQUENCE_REGRESSION}));
    w.expect_opened_by(kDemoNodes, id, "diran-bogota-hq", "intel.seizures", {s});
  }
  {
    INFO("created-at ten minutes in the past, then ten minutes in the future");
    client::Draft stale = draft("intel.seizures", {{kEveryone, "stale"}});
    stale.created_at_ms = now_ms - kTenMinutesMs;
    CHECK(rejection(hq.publish(stale)) == codes({Code::STALE_REPORT}));
    client::Draft future = draft("intel.seizures", {{kEveryone, "future"}});
    future.created_at_ms = SystemClock::instance().now_ms() + kTenMinutesMs;
    CHECK(rejection(hq.publish(future)) == codes({Code::FUTURE_REPORT}));
    w.expect_deliveries({});
  }
  {
    INFO("sequence going back by one");
    const Section s{kEveryone, "sequence S"};
    auto built = client::build(hq, draft("intel.seizures", {s}));
    REQUIRE(built);
    v1::ReportHeader header;
    REQUIRE(header.ParseFromString(built->report.header()));
    const std::string id = w.publish_bytes("diran-bogota-hq", "sequence-s", built->bytes);
    client::Draft back = draft("intel.seizures", {{kEveryone, "sequence S-1"}});
    back.sequence = header.sequence() - 1;
    CHECK(rejection(hq.publish(back)) == codes({Code::SEQUENCE_REGRESSION}));
    w.expect_opened_by(kDemoNodes, id, "diran-bogota-hq", "intel.seizures", {s});
  }
  {
    INFO("clearance: fgr-liaison (CONFIDENTIAL) publishing SECRET on its liaison channel");
    CHECK(rejection(fgr.publish(draft("intel.liaison.x", {{label(v1::SECRET, {"MEX", "USA"}), "too high"}}))) ==
          codes({Code::CLEARANCE_BELOW}));
    w.expect_deliveries({});
  }
  {
    INFO("releasable-to without the originator's country: DEA releasing to COL only");
    CHECK(rejection(dea.publish(draft("intel.finance", {{label(v1::CONFIDENTIAL, {"COL"}), "no USA"}}))) ==
          codes({Code::ORIGINATOR_COUNTRY_MISSING}));
    w.expect_deliveries({});
  }
  {
    INFO("a unit the originator is not in: dea-bogota-analyst naming cucuta-jtf");
    CHECK(rejection(dea.publish(draft("intel.finance", {{label(v1::CONFIDENTIAL, {"COL", "USA"}, {"cucuta-jtf"}),
                                                         "not my unit"}}))) == codes({Code::UNIT_NOT_HELD}));
    w.expect_deliveries({});
  }
  {
    INFO("ORCON: DIRAN's ORCON report re-disseminated by DEA, label otherwise as strict");
    const Section orcon{label(v1::CONFIDENTIAL, {"COL", "USA"}, {}, true), "ORCON: DIRAN source network"};
    const std::string src = w.publish("diran-bogota-hq", "orcon-source", draft("intel.seizures", {orcon}));
    w.expect_opened_by(cleared_col_usa, src, "diran-bogota-hq", "intel.seizures", {orcon});
    client::Draft derived = draft("intel.seizures", {{orcon.label, "DEA re-dissemination"}});
    Bytes src_id;
    REQUIRE(from_hex(src, &src_id));
    derived.sources.push_back(client::Source{src_id, {}});
    CHECK(rejection(dea.publish(derived)) == codes({Code::ORCON_VIOLATION}));
    w.expect_deliveries({});
  }
  {
    INFO("derived report looser than its source: CONFIDENTIAL from a SECRET source");
    const Section secret{label(v1::SECRET, {"COL", "USA"}), "SECRET source"};
    const std::string src = w.publish("dea-bogota-analyst", "secret-source", draft("intel.routes", {secret}));
    w.expect_opened_by(secret_col_usa, src, "dea-bogota-analyst", "intel.routes", {secret});
    client::Draft derived = draft("intel.routes", {{label(v1::CONFIDENTIAL, {"COL", "USA"}), "downgraded"}});
    Bytes src_id;
    REQUIRE(from_hex(src, &src_id));
    derived.sources.push_back(client::Source{src_id, {}});
    CHECK(rejection(hq.publish(derived)) == codes({Code::DERIVED_LABEL_LOOSER}));
    w.expect_deliveries({});
  }
  {
    INFO("unknown source");
    client::Draft derived = draft("intel.finance", {{label(v1::CONFIDENTIAL, {"COL", "USA"}), "from nowhere"}});
    derived.sources.push_back(client::Source{Bytes(16, 0x5a), {}});
    CHECK(rejection(dea.publish(derived)) == codes({Code::UNKNOWN_SOURCE}));
    w.expect_deliveries({});
  }
  {
    INFO("topic without write permission: fgr-liaison on intel.seizures");
    CHECK(rejection(fgr.publish(draft("intel.seizures", {{kEveryone, "not my topic"}}))) ==
          codes({Code::TOPIC_WRITE_DENIED}));
    w.expect_deliveries({});
  }
  {
    INFO("oversize frame: a well-formed PUBLISH of about 1.4 MiB");
    const std::string big(std::size_t{700} * 1024, 'x');
    auto built = client::build(dea, draft("intel.finance", {{kEveryone, big}, {kEveryone, big}}));
    REQUIRE(built);
    const Bytes frame = frame_bytes(wire::make_publish(4242, built->bytes));
    REQUIRE(frame.size() > (std::size_t{1} << 20));
    REQUIRE(frame.size() < (std::size_t{2} << 20));
    auto answer = client::send_raw(dea, frame, kWaitMs);
    CHECK(error_code_of(answer) == "FRAME_TOO_LARGE");
    if (answer && answer->has_error()) CHECK(answer->error().request_id() == 0);
    w.expect_deliveries({});
  }
  {
    INFO("garbage bytes");
    const Bytes garbage = to_bytes("\xde\xad\xbe\xef not a tearline frame");
    auto answer = client::send_raw(dea, garbage, kWaitMs);
    CHECK(error_code_of(answer) == "MALFORMED_FRAME");
    w.expect_deliveries({});
  }
  {
    INFO("well-formed frames of the wrong direction: WELCOME, and DELIVER carrying a good report");
    auto answer =
        client::send_raw(dea, frame_bytes(wire::make_welcome("dea-bogota-analyst", 0, 1 << 20, 256)), kWaitMs);
    CHECK(error_code_of(answer) == "UNEXPECTED_FRAME");
    auto built = client::build(dea, draft("intel.finance", {{kEveryone, "smuggled in a DELIVER"}}));
    REQUIRE(built);
    answer = client::send_raw(dea, frame_bytes(wire::make_deliver(77, built->bytes)), kWaitMs);
    CHECK(error_code_of(answer) == "UNEXPECTED_FRAME");
    w.expect_deliveries({});
  }
  CHECK(w.fx.stats().rejected == 13);  // every rejected PUBLISH above (frame errors are not PUBLISH verdicts)

  // 4. The broker still serves: a good report reaches exactly the nodes entitled to it.
  const Section after{label(v1::SECRET, {"COL", "USA"}), "After the storm: cash courier on flight AV 204"};
  const std::string id = w.publish("dea-bogota-analyst", "still-serving", draft("intel.finance", {after}));
  w.expect_opened_by(secret_col_usa, id, "dea-bogota-analyst", "intel.finance", {after});
}

// ---- 5. repeated failures ---------------------------------------------------------

TEST_CASE("e2e: 16 consecutive bad frames close the session; a new HELLO re-admits it", "[e2e]") {
  World w;
  std::unique_ptr<Session> offender = must_connect(w.fx, "fgr-liaison");
  const Bytes garbage = to_bytes("\xff\xff\xff\xff garbage");
  const Bytes ping = frame_bytes(wire::make_ping(7));

  for (int i = 1; i <= 15; ++i) {
    INFO("bad frame " << i);
    CHECK(error_code_of(client::send_raw(*offender, garbage, kWaitMs)) == "MALFORMED_FRAME");
  }
  auto pong = client::send_raw(*offender, ping, kWaitMs);  // still READY after 15
  REQUIRE(pong);
  CHECK(pong->has_pong());
  // The 16th is answered, then the session closes.
  CHECK(error_code_of(client::send_raw(*offender, garbage, kWaitMs)) == "MALFORMED_FRAME");
  CHECK(error_code_of(client::send_raw(*offender, ping, kWaitMs)) == "TOO_MANY_FAILURES");

  // CLOSED: a good PUBLISH gets no answer at all and is delivered to no one.
  const Section s{kEveryone, "Liaison request: extradition file 2024-117"};
  auto built = client::build(*offender, draft("intel.liaison.requests", {s}));
  REQUIRE(built);
  CHECK_FALSE(client::send_raw(*offender, frame_bytes(wire::make_publish(99, built->bytes)), 1500));
  w.expect_deliveries({});

  // A HELLO during the cooldown (failure_cooldown_ms, 10 s by default) is refused...
  CHECK(error_code_of(client::send_raw(*offender, frame_bytes(wire::make_hello("e2e-test")), kWaitMs)) ==
        "TOO_MANY_FAILURES");
  std::this_thread::sleep_for(std::chrono::milliseconds(10'100));
  // ...after it, a new HELLO opens a fresh session, and the same report is then accepted.
  auto welcome = client::send_raw(*offender, frame_bytes(wire::make_hello("e2e-test")), kWaitMs);
  REQUIRE(welcome);
  REQUIRE(welcome->has_welcome());
  CHECK(welcome->welcome().node_id() == "fgr-liaison");
  auto outcome = offender->publish_bytes(built->bytes);
  REQUIRE(outcome);
  INFO(outcome->status.to_string());
  REQUIRE(outcome->accepted);
  w.name(to_hex(outcome->report_id), "liaison-request");
  w.expect_opened_by(kDemoNodes, to_hex(outcome->report_id), "fgr-liaison", "intel.liaison.requests", {s});
}

// ---- 6. admin reload ------------------------------------------------------------------

TEST_CASE("e2e: ADMIN reload needs the admin role", "[e2e]") {
  BrokerFixture fx;
  auto liaison = must_connect(fx, "fgr-liaison");
  auto commander = must_connect(fx, "diran-cucuta-commander");
  const auto before = fx.stats().reloads;

  Status refused = liaison->admin_reload();
  CHECK(code_names(refused) == codes({Code::NOT_AUTHORIZED}));
  CHECK(fx.stats().reloads == before);

  Status accepted = commander->admin_reload();
  INFO(accepted.to_string());
  CHECK(accepted);
  CHECK(fx.stats().reloads == before + 1);
}

// ---- 7. a dead subscriber does not stall the others -------------------------------------

TEST_CASE("e2e: a subscriber that never reads does not stall the others", "[e2e]") {
  constexpr int kReports = 2000;
  // One publisher sends the 2000 as fast as it can: above the default
  // per-node publish_rate, which is not what this test is about.
  BrokerFixture fx([](broker::Config& c) {
    c.limits.publish_rate = 1e6;
    c.limits.publish_burst = 1e6;
  });
  auto publisher = must_connect(fx, "diran-bogota-hq");
  auto dead = must_connect(fx, "dea-cucuta-agent");
  REQUIRE(dead->subscribe({"intel.>"}));
  const std::vector<std::string> readers = {"diran-cucuta-analyst", "dea-bogota-analyst", "fudra-lab-ops"};
  std::vector<std::unique_ptr<Session>> sessions;
  for (const auto& node : readers) {
    sessions.push_back(must_connect(fx, node));
    REQUIRE(sessions.back()->subscribe({"intel.>"}));
  }

  // Each reader reads on its own thread until it has every report or waits
  // kWaitMs for the next one in vain.
  struct Got {
    std::vector<std::string> ids;
    int failed = 0;  // not verified, or a section not opened
  };
  std::vector<Got> got(readers.size());
  std::vector<std::thread> threads;
  threads.reserve(readers.size());
  for (std::size_t i = 0; i < readers.size(); ++i) {
    threads.emplace_back([&, i] {
      while (got[i].ids.size() < kReports) {
        auto r = sessions[i]->receive(kWaitMs);
        if (!r) return;
        got[i].ids.push_back(r->report_id_hex);
        if (!r->verification || r->sections.size() != 1 || r->sections[0].status != SectionStatus::kOpened) {
          got[i].failed++;
        }
      }
    });
  }

  const std::string payload(4096, 'p');
  std::vector<std::string> published;
  for (int n = 0; n < kReports; ++n) {
    auto outcome = publisher->publish(draft("intel.flood", {{label(v1::CONFIDENTIAL, {"COL", "USA"}), payload}}));
    if (!outcome || !outcome->accepted) {
      INFO("report " << n << ": " << outcome.status().to_string() << (outcome ? outcome->status.to_string() : ""));
      FAIL_CHECK("publish failed");
      break;
    }
    published.push_back(to_hex(outcome->report_id));
  }
  for (auto& t : threads) t.join();

  REQUIRE(published.size() == kReports);
  for (std::size_t i = 0; i < readers.size(); ++i) {
    INFO("reader " << readers[i]);
    CHECK(got[i].ids == published);
    CHECK(got[i].failed == 0);
  }
  // The dead subscriber was only queued for: it gets every report once it reads.
  std::vector<std::string> late;
  while (late.size() < kReports) {
    auto r = dead->receive(kWaitMs);
    if (!r) break;
    late.push_back(r->report_id_hex);
  }
  CHECK(late == published);
  CHECK_FALSE(dead->take_session_error());
}

}  // namespace
}  // namespace tearline
