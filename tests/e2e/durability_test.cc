// Black-box durability tests: a real broker on tcp://127.0.0.1:*, stopped and
// restarted on the same PKI, data_dir and port, with real client sessions.
//
//   (a) a node offline across a broker restart gets exactly its entitled
//       reports on reconnect, in order, each once; a node online across the
//       restart loses nothing either;
//   (b) a node revoked while offline is refused; a node removed from a unit
//       while offline gets no unit-scoped section of reports accepted while
//       it was still a member (policy is re-checked at delivery);
//   (c) replay protection survives a restart;
//   (d) a full store: every ACCEPTED report is stored and delivered, no
//       STORAGE_FULL one is, and the broker keeps delivering;
//   (e) after each run the audit log verifies against the broker's audit key,
//       holds the expected decisions, and no section text is anywhere in the
//       data directory.
//
// Non-delivery is proven with a sentinel published after the reports that
// must not arrive: deliveries on one session come in broker order.
#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "audit/audit.h"
#include "audit/audit_db.h"
#include "base/clock.h"
#include "base/files.h"
#include "crypto/key_file.h"
#include "identity/pki.h"
#include "policy/label.h"
#include "report/builder.h"
#include "report/verify.h"
#include "support/broker_fixture.h"
#include "support/e2e_helpers.h"
#include "tearline/client.h"

namespace tearline {
namespace {

namespace v1 = tearline::v1;
using client::Received;
using client::SectionStatus;
using client::Session;
using testing::BrokerFixture;
using testing::code_names;
using testing::draft;
using testing::kEveryone;
using testing::label;
using testing::must_connect;
using testing::Section;

constexpr int kWaitMs = 5000;

// Publishes exact bytes, retrying while the broker is unreachable (just
// restarted: the session's connection comes back within a second). Safe to
// retry: an UNAVAILABLE here means the PUBLISH never reached a broker.
client::PublishOutcome publish_bytes(Session& s, ByteView bytes) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    auto outcome = s.publish_bytes(bytes);
    if (outcome) return *outcome;
    INFO(s.node_id() << " publishing: " << outcome.status().to_string());
    REQUIRE(outcome.code() == Code::UNAVAILABLE);
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

// The published texts, by report id, to render deliveries and to grep the
// data directory for plaintext.
class Reports {
 public:
  // Builds, publishes (retrying), requires ACCEPTED; returns the report id (hex).
  std::string publish(Session& s, const std::string& name, const std::string& topic,
                      const std::vector<Section>& sections) {
    auto built = client::build(s, draft(topic, sections));
    INFO(built.status().to_string());
    REQUIRE(built);
    const auto outcome = publish_bytes(s, built->bytes);
    INFO(s.node_id() << " publishing " << name << ": " << outcome.status.to_string());
    REQUIRE(outcome.accepted);
    std::string id = to_hex(outcome.report_id);
    names_[id] = name;
    for (const auto& sec : sections) texts_.push_back(sec.text);
    return id;
  }

  std::string render(const Received& r) const {
    auto it = names_.find(r.report_id_hex);
    std::string out = it == names_.end() ? "unnamed:" + r.report_id_hex : it->second;
    if (!r.verification) out += " NOT VERIFIED " + r.verification.to_string();
    for (const auto& s : r.sections) out += " [" + std::string(client::section_status_name(s.status)) + "]";
    return out;
  }

  // Everything `s` receives up to and including the report named `last`.
  std::vector<std::string> receive_until(Session& s, const std::string& last) const {
    std::vector<std::string> got;
    for (;;) {
      auto r = s.receive(kWaitMs);
      INFO(s.node_id() << " waiting for " << last << " after " << got.size() << " reports");
      REQUIRE(r);
      got.push_back(render(*r));
      if (got.back().rfind(last + " ", 0) == 0) return got;
    }
  }

  // A text of a report published some other way, for the plaintext grep.
  void add_text(const std::string& text) { texts_.push_back(text); }
  const std::vector<std::string>& texts() const { return texts_; }

 private:
  std::map<std::string, std::string> names_;
  std::vector<std::string> texts_;
};

// After receive() the session has sent its ACK; a request/answer round trip
// on the same connection proves the broker has read it, and the answer comes
// after the group commit that made the cursor durable. (Destroying a Session
// right after receive() may drop the ACK: linger 0. The node would then get
// that report again from its next session: at least once.)
void flush_acks(Session& s) { REQUIRE(s.subscribe({"intel.>"})); }

// ---- (e) the audit log -------------------------------------------------------------

crypto::VerifyKey audit_key(const BrokerFixture& fx) {
  auto text = read_file(fx.pki().broker_audit_public(), 1024);
  REQUIRE(text);
  std::string hex = to_string(*text);
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r')) hex.pop_back();
  Bytes raw;
  REQUIRE(from_hex(hex, &raw));
  auto key = crypto::VerifyKey::from(raw, "broker audit key");
  REQUIRE(key);
  return *key;
}

struct AuditLog {
  std::vector<audit::AuditEntry> entries;
  audit::VerifyResult verified;

  // The decisions about one node: entries of its own (catch-up, sessions,
  // publishing) and the clauses naming it in "routing" entries (live
  // delivery: one entry per report, " | NODE delivered ..." / " | NODE
  // withheld ..."), each as an entry with that event, decision and detail.
  std::vector<audit::AuditEntry> decisions() const {
    std::vector<audit::AuditEntry> out;
    for (const auto& e : entries) {
      if (e.event != "routing") {
        out.push_back(e);
        continue;
      }
      std::size_t at = e.detail.find(" | ");
      while (at != std::string::npos) {
        const std::size_t next = e.detail.find(" | ", at + 3);
        const std::string clause = e.detail.substr(at + 3, next == std::string::npos ? next : next - at - 3);
        const std::size_t sp1 = clause.find(' ');
        const std::size_t sp2 = clause.find(' ', sp1 + 1);
        audit::AuditEntry d = e;
        d.node = clause.substr(0, sp1);
        d.decision = clause.substr(sp1 + 1, sp2 - sp1 - 1);
        d.event = d.decision == "delivered" ? "delivery" : "withheld";
        d.detail = clause.substr(sp2 + 1);
        out.push_back(d);
        at = next;
      }
    }
    return out;
  }
  std::size_t count(const std::string& event, const std::string& decision, const std::string& node = "") const {
    const auto all = decisions();
    return static_cast<std::size_t>(std::count_if(all.begin(), all.end(), [&](const audit::AuditEntry& e) {
      return e.event == event && e.decision == decision && (node.empty() || e.node == node);
    }));
  }
  std::optional<audit::AuditEntry> find(const std::string& event, const std::string& node,
                                        const std::string& report) const {
    for (const auto& e : decisions()) {
      if (e.event == event && e.node == node && e.report == report) return e;
    }
    return std::nullopt;
  }
};

// Stops the broker (a clean stop writes a final checkpoint), verifies the
// chain and checks that no section text is in any file of the data directory.
AuditLog stop_and_check_audit(BrokerFixture& fx, const Reports& reports) {
  fx.stop();
  AuditLog log;
  auto entries = audit::read_entries(fx.database());
  INFO(entries.status().to_string());
  REQUIRE(entries);
  auto checkpoints = audit::read_checkpoints(fx.database());
  REQUIRE(checkpoints);
  log.entries = *entries;
  log.verified = audit::verify_chain(*entries, *checkpoints, audit_key(fx));
  INFO(log.verified.message);
  CHECK(log.verified.ok());
  CHECK(log.verified.entries > 0);
  CHECK(log.verified.protected_up_to == log.verified.entries);  // the shutdown checkpoint covers it all

  for (const auto& file : std::filesystem::directory_iterator(fx.data_dir())) {
    std::ifstream in(file.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (const auto& text : reports.texts()) {
      INFO(file.path().filename().string() << " must not hold the plaintext \"" << text << "\"");
      CHECK(bytes.find(text) == std::string::npos);
    }
  }
  return log;
}

std::set<std::string> stored_report_ids(const BrokerFixture& fx) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(fx.database().c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT report_id FROM reports", -1, &q, nullptr) == SQLITE_OK);
  std::set<std::string> ids;
  while (sqlite3_step(q) == SQLITE_ROW) {
    ids.insert(to_hex(ByteView(static_cast<const std::uint8_t*>(sqlite3_column_blob(q, 0)),
                               static_cast<std::size_t>(sqlite3_column_bytes(q, 0)))));
  }
  sqlite3_finalize(q);
  sqlite3_close(db);
  return ids;
}

}  // namespace

// ---- (a) ---------------------------------------------------------------------------

TEST_CASE("durability: a node offline across a broker restart gets exactly its entitled reports, in order, once",
          "[e2e][durability]") {
  BrokerFixture fx;
  Reports reports;
  auto hq = must_connect(fx, "diran-bogota-hq");
  auto fudra = must_connect(fx, "fudra-lab-ops");
  // Online throughout: its session survives the restart (re-HELLO, re-subscribe).
  auto liaison = must_connect(fx, "fgr-liaison");
  REQUIRE(liaison->subscribe({"intel.>"}));
  // The node that goes offline: DEA, SECRET, USA.
  auto agent = must_connect(fx, "dea-cucuta-agent");
  REQUIRE(agent->subscribe({"intel.>"}));

  reports.publish(*hq, "p0", "intel.seizures", {{kEveryone, "p0: 300 kg seized at Buenaventura"}});
  CHECK(reports.receive_until(*agent, "p0") == std::vector<std::string>{"p0 [opened]"});
  flush_acks(*agent);
  agent.reset();  // offline

  // While it is offline, on the first broker...
  reports.publish(*hq, "p1", "intel.seizures", {{kEveryone, "p1: go-fast boat intercepted off Tumaco"}});
  reports.publish(*fudra, "p2-col-only", "intel.labs",
                  {{label(v1::CONFIDENTIAL, {"COL"}), "p2: lab destroyed near Tibu, COL eyes only"}});
  reports.publish(*hq, "p3-col-secret", "intel.routes",
                  {{label(v1::SECRET, {"COL"}), "p3: police informant on the Catatumbo route"}});
  reports.publish(*hq, "p4-partial", "intel.finance",
                  {{label(v1::SECRET, {"COL", "USA"}), "p4: cash courier on flight AV 204"},
                   {label(v1::SECRET, {"COL"}), "p4: the courier's DIRAN handler"}});
  reports.publish(*hq, "p5", "intel.hq.assessments", {{kEveryone, "p5: HQ assessment of the Pacific routes"}});

  fx.restart();

  // ...and on the restarted one.
  reports.publish(*hq, "p6", "intel.seizures", {{kEveryone, "p6: 2 t seized in Cartagena container"}});
  reports.publish(*fudra, "p7-col-only", "intel.labs",
                  {{label(v1::CONFIDENTIAL, {"COL"}), "p7: second lab near Tibu, COL eyes only"}});
  reports.publish(*hq, "p8", "intel.routes",
                  {{label(v1::SECRET, {"COL", "USA"}), "p8: new border crossing at Paraguachon"}});

  // The stored pattern again: the session attaches to the node's mailbox.
  auto back = must_connect(fx, "dea-cucuta-agent");
  REQUIRE(back->subscribe({"intel.>"}));
  reports.publish(*hq, "sentinel", "intel.sentinel", {{kEveryone, "sentinel text one"}});
  CHECK(reports.receive_until(*back, "sentinel") ==
        std::vector<std::string>{"p1 [opened]", "p4-partial [opened] [withheld]", "p5 [opened]", "p6 [opened]",
                                 "p8 [opened]", "sentinel [opened]"});
  CHECK_FALSE(back->receive(300));

  INFO("the node online across the restart: its everyone-readable reports, each once");
  CHECK(reports.receive_until(*liaison, "sentinel") ==
        std::vector<std::string>{"p0 [opened]", "p1 [opened]", "p5 [opened]", "p6 [opened]", "sentinel [opened]"});
  CHECK_FALSE(liaison->receive(300));

  const AuditLog log = stop_and_check_audit(fx, reports);
  CHECK(log.count("publish", "accepted") == 10);
  CHECK(log.count("delivery", "delivered", "dea-cucuta-agent") >= 7);  // p0, then 6 after reconnecting
  CHECK(log.count("withheld", "withheld", "dea-cucuta-agent") >= 4);   // p2, p3, p4 section 2, p7
  CHECK(log.count("broker", "stopped") == 2);
  CHECK(log.count("session", "admitted", "dea-cucuta-agent") == 2);
}

// ---- (b) ---------------------------------------------------------------------------

TEST_CASE("durability: a node revoked while offline is refused after the restart and gets nothing",
          "[e2e][durability]") {
  BrokerFixture fx;
  Reports reports;
  auto hq = must_connect(fx, "diran-bogota-hq");
  auto watcher = must_connect(fx, "diran-cucuta-analyst");
  REQUIRE(watcher->subscribe({"intel.>"}));
  auto dea = must_connect(fx, "dea-bogota-analyst");
  REQUIRE(dea->subscribe({"intel.>"}));
  reports.publish(*hq, "r0", "intel.finance", {{kEveryone, "r0: front company in Monterrey"}});
  CHECK(reports.receive_until(*dea, "r0") == std::vector<std::string>{"r0 [opened]"});
  flush_acks(*dea);
  dea.reset();

  fx.stop();
  fx.revoke("DEA", "dea-bogota-analyst");
  fx.start();

  reports.publish(*hq, "r1", "intel.finance", {{kEveryone, "r1: wire transfers to Panama"}});
  auto refused = fx.connect("dea-bogota-analyst");
  INFO(refused.status().to_string());
  REQUIRE_FALSE(refused);
  CHECK(code_names(refused.status()) == (std::vector<std::string>{"HANDSHAKE_REFUSED", "REVOKED"}));
  reports.publish(*hq, "sentinel", "intel.sentinel", {{kEveryone, "sentinel text two"}});
  CHECK(reports.receive_until(*watcher, "sentinel") ==
        std::vector<std::string>{"r0 [opened]", "r1 [opened]", "sentinel [opened]"});

  const AuditLog log = stop_and_check_audit(fx, reports);
  CHECK(log.count("connection", "refused") >= 1);
  CHECK(log.count("delivery", "delivered", "dea-bogota-analyst") == 1);  // r0 only
  CHECK(log.count("session", "admitted", "dea-bogota-analyst") == 1);
}

TEST_CASE("durability: a node removed from its unit while offline gets no unit-scoped section on reconnect",
          "[e2e][durability]") {
  BrokerFixture fx;
  Reports reports;
  auto commander = must_connect(fx, "diran-cucuta-commander");
  REQUIRE(commander->subscribe({"intel.>", "unit.>"}));
  auto agent = must_connect(fx, "dea-cucuta-agent");
  REQUIRE(agent->subscribe({"intel.>", "unit.>"}));
  reports.publish(*commander, "u0", "intel.seizures", {{kEveryone, "u0: checkpoint at La Parada"}});
  CHECK(reports.receive_until(*agent, "u0") == std::vector<std::string>{"u0 [opened]"});
  flush_acks(*agent);
  agent.reset();

  // Published and sealed to the agent while it is still a unit member.
  const Section unit_only{label(v1::CONFIDENTIAL, {"COL", "USA"}, {"cucuta-jtf"}),
                          "u1: informant CUCUTA-7 meets Friday"};
  const Section tear_line{label(v1::CONFIDENTIAL, {"COL", "USA"}), "u1: 1.2 t of cocaine seized in Cucuta"};
  const std::string u1 = reports.publish(*commander, "u1", "intel.seizures", {unit_only, tear_line});
  reports.publish(*commander, "u2-unit-topic", "unit.cucuta-jtf.ops",
                  {{label(v1::CONFIDENTIAL, {"COL", "USA"}, {"cucuta-jtf"}), "u2: raid planned in Villa del Rosario"}});

  // Charter v2 of cucuta-jtf without the DEA agent, in force from now.
  const std::int64_t now = SystemClock::instance().now_seconds();
  auto v2 =
      identity::create_charter(fx.pki(), "cucuta-jtf", "DIRAN", {"diran-cucuta-commander", "diran-cucuta-analyst"},
                               now - 60, now + std::int64_t{30} * 86400);
  INFO(v2.status().to_string());
  REQUIRE(v2);
  REQUIRE(*v2 == 2);
  REQUIRE(identity::cosign_charter_file(fx.pki(), "cucuta-jtf", *v2, "DIRAN"));
  fx.reload();

  // "unit.>" is now denied the agent entirely (REJECTED); "intel.>" attaches.
  auto back = must_connect(fx, "dea-cucuta-agent");
  CHECK(back->subscribe({"unit.>"}).code() == Code::TOPIC_READ_DENIED);
  REQUIRE(back->subscribe({"intel.>"}));
  reports.publish(*commander, "sentinel", "intel.sentinel", {{kEveryone, "sentinel text three"}});
  CHECK(reports.receive_until(*back, "sentinel") ==
        std::vector<std::string>{"u1 [withheld] [opened]", "sentinel [opened]"});
  CHECK(reports.receive_until(*commander, "sentinel") ==
        std::vector<std::string>{"u0 [opened]", "u1 [opened] [opened]", "u2-unit-topic [opened]", "sentinel [opened]"});

  const AuditLog log = stop_and_check_audit(fx, reports);
  const auto withheld = log.find("withheld", "dea-cucuta-agent", u1);
  REQUIRE(withheld.has_value());
  CHECK(withheld->detail.rfind("section 1: ", 0) == 0);
  CHECK(log.count("reload", "ok") == 1);
}

// ---- (c) ---------------------------------------------------------------------------

TEST_CASE("durability: replay protection survives a restart", "[e2e][durability]") {
  BrokerFixture fx;
  Reports reports;
  auto hq = must_connect(fx, "diran-bogota-hq");
  auto built = client::build(*hq, draft("intel.seizures", {{kEveryone, "c1: published once"}}));
  REQUIRE(built);
  v1::ReportHeader header;
  REQUIRE(header.ParseFromString(built->report.header()));
  const auto first = publish_bytes(*hq, built->bytes);
  INFO(first.status.to_string());
  REQUIRE(first.accepted);

  fx.restart();

  const auto again = publish_bytes(*hq, built->bytes);
  CHECK_FALSE(again.accepted);
  CHECK(code_names(again.status) == std::vector<std::string>{"REPLAYED_REPORT", "SEQUENCE_REGRESSION"});

  client::Draft lower = draft("intel.seizures", {{kEveryone, "c2: a lower sequence"}});
  lower.sequence = header.sequence() - 1;
  auto lower_built = client::build(*hq, lower);
  REQUIRE(lower_built);
  const auto regressed = publish_bytes(*hq, lower_built->bytes);
  CHECK_FALSE(regressed.accepted);
  CHECK(code_names(regressed.status) == std::vector<std::string>{"SEQUENCE_REGRESSION"});

  INFO("a new report is accepted, with the broker seq continuing after the restart");
  auto fresh = client::build(*hq, draft("intel.seizures", {{kEveryone, "c3: a new report"}}));
  REQUIRE(fresh);
  const auto accepted = publish_bytes(*hq, fresh->bytes);
  REQUIRE(accepted.accepted);
  CHECK(accepted.broker_seq == first.broker_seq + 1);

  reports.publish(*hq, "marker", "intel.seizures", {{kEveryone, "c4: marker"}});
  for (const char* text : {"c1: published once", "c2: a lower sequence", "c3: a new report"}) reports.add_text(text);
  const AuditLog log = stop_and_check_audit(fx, reports);
  CHECK(log.count("publish", "rejected", "diran-bogota-hq") == 2);
  CHECK(log.count("publish", "accepted", "diran-bogota-hq") == 3);
}

TEST_CASE(
    "durability: a report reusing the id of one accepted longer ago than ids stay in memory is refused "
    "REPLAYED_REPORT by the store; the others are accepted",
    "[e2e][durability]") {
  BrokerFixture fx([](broker::Config& c) { c.replay_memory_ms = 1; });
  Reports reports;
  auto hq = must_connect(fx, "diran-bogota-hq");
  auto dea = must_connect(fx, "dea-bogota-analyst");
  auto reader = must_connect(fx, "fgr-liaison");
  REQUIRE(reader->subscribe({"intel.>"}));

  // The same randomness, so the same report id, from two different nodes.
  auto same_random = [](std::uint8_t* out, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>(0x5a ^ i);
  };
  identity::LoadReport ignored;
  auto directory = identity::Directory::load(fx.pki().directory(), SystemClock::instance().now_seconds(), &ignored);
  REQUIRE(directory);
  auto build_as = [&](const std::string& node, const std::string& text) {
    auto keys = crypto::read_node_keys(fx.pki().node_key(node));
    REQUIRE(keys);
    report::ReportDraft d = client::to_report_draft(draft("intel.seizures", {{kEveryone, text}}));
    d.created_at_ms = SystemClock::instance().now_ms();
    d.sequence = static_cast<std::uint64_t>(d.created_at_ms);
    auto built = report::build_report(d, node, keys->signing, **directory, same_random);
    REQUIRE(built);
    return std::move(built).value();
  };
  const auto original = build_as("diran-bogota-hq", "r1: the original");
  const auto reused = build_as("dea-bogota-analyst", "r2: another report with the same id");
  REQUIRE(original.report_id == reused.report_id);

  const auto first = publish_bytes(*hq, original.bytes);
  INFO(first.status.to_string());
  REQUIRE(first.accepted);
  reports.add_text("r1: the original");
  // Housekeeping (every 250 ms) forgets the id; only the store knows it now.
  std::this_thread::sleep_for(std::chrono::milliseconds(700));

  const auto clash = publish_bytes(*dea, reused.bytes);
  CHECK_FALSE(clash.accepted);
  CHECK(code_names(clash.status) == std::vector<std::string>{"REPLAYED_REPORT"});
  // The original's own bytes again, the id long forgotten in memory: still
  // REPLAYED_REPORT (a publisher re-sending after a lost answer relies on it).
  const auto resent = publish_bytes(*hq, original.bytes);
  CHECK_FALSE(resent.accepted);
  CHECK(code_names(resent.status) == std::vector<std::string>{"REPLAYED_REPORT", "SEQUENCE_REGRESSION"});
  reports.add_text("r2: another report with the same id");
  const std::string after = reports.publish(*dea, "after", "intel.seizures", {{kEveryone, "r3: accepted after"}});

  auto got = reader->receive(kWaitMs);
  REQUIRE(got);
  CHECK(got->report_id_hex == to_hex(original.report_id));
  got = reader->receive(kWaitMs);
  REQUIRE(got);
  CHECK(got->report_id_hex == after);
  CHECK(got->broker_seq == first.broker_seq + 1);  // the refused report took no seq
  CHECK_FALSE(reader->receive(500));

  const AuditLog log = stop_and_check_audit(fx, reports);
  CHECK(log.count("publish", "rejected", "dea-bogota-analyst") == 1);
  CHECK(log.count("publish", "accepted", "dea-bogota-analyst") == 1);
  CHECK(log.count("publish", "rejected", "diran-bogota-hq") == 1);
}

// ---- (d) ---------------------------------------------------------------------------

TEST_CASE("durability: a full store refuses with STORAGE_FULL, delivers every accepted report and only those",
          "[e2e][durability]") {
  broker::StorageLimits storage;
  storage.max_bytes = 1 << 20;
  BrokerFixture fx(storage);
  Reports reports;
  auto hq = must_connect(fx, "diran-bogota-hq");
  auto online = must_connect(fx, "diran-cucuta-analyst");
  REQUIRE(online->subscribe({"intel.>"}));
  auto offline = must_connect(fx, "dea-bogota-analyst");
  REQUIRE(offline->subscribe({"intel.>"}));
  offline.reset();

  std::vector<std::string> accepted, refused;
  int consecutive_full = 0;
  for (int n = 0; n < 40 && consecutive_full < 3; ++n) {
    const std::string text =
        "d" + std::to_string(n) + ": " + std::string(std::size_t{150} * 1024, static_cast<char>('a' + n % 26));
    auto built = client::build(*hq, draft("intel.flood", {{kEveryone, text}}));
    REQUIRE(built);
    const auto outcome = publish_bytes(*hq, built->bytes);
    const std::string id = to_hex(built->report_id);
    if (outcome.accepted) {
      accepted.push_back(id);
      consecutive_full = 0;
    } else {
      INFO("report " << n << ": " << outcome.status.to_string());
      CHECK(code_names(outcome.status) == std::vector<std::string>{"STORAGE_FULL"});
      refused.push_back(id);
      ++consecutive_full;
    }
  }
  INFO(accepted.size() << " accepted, " << refused.size() << " refused");
  REQUIRE(accepted.size() >= 2);
  REQUIRE(refused.size() >= 3);

  // A small report may still fit; whatever its verdict, the rule holds.
  auto small = client::build(*hq, draft("intel.flood", {{kEveryone, "d-small: a short one"}}));
  REQUIRE(small);
  const auto small_outcome = publish_bytes(*hq, small->bytes);
  if (small_outcome.accepted) {
    accepted.push_back(to_hex(small->report_id));
  } else {
    CHECK(code_names(small_outcome.status) == std::vector<std::string>{"STORAGE_FULL"});
    refused.push_back(to_hex(small->report_id));
  }

  auto receive_all = [&](Session& s) {
    std::vector<std::string> got;
    while (got.size() < accepted.size()) {
      auto r = s.receive(kWaitMs);
      if (!r) break;
      CHECK(r->verification);
      got.push_back(r->report_id_hex);
    }
    // Nothing more arrives: the refused reports came before the last accepted
    // one (or are the last publish, given a second to show up).
    auto extra = s.receive(1000);
    CHECK_FALSE(extra);
    return got;
  };
  INFO("the online subscriber: live deliveries");
  CHECK(receive_all(*online) == accepted);
  INFO("the offline subscriber catches up from the full store");
  auto back = must_connect(fx, "dea-bogota-analyst");
  REQUIRE(back->subscribe({"intel.>"}));  // attaches: catch-up from the node's cursor
  CHECK(receive_all(*back) == accepted);

  fx.stop();
  const std::set<std::string> stored = stored_report_ids(fx);
  CHECK(stored == std::set<std::string>(accepted.begin(), accepted.end()));
  for (const auto& id : refused) CHECK(stored.count(id) == 0);

  INFO("the audit chain that did fit verifies");
  auto entries = audit::read_entries(fx.database());
  REQUIRE(entries);
  auto checkpoints = audit::read_checkpoints(fx.database());
  REQUIRE(checkpoints);
  const auto verified = audit::verify_chain(*entries, *checkpoints, audit_key(fx));
  INFO(verified.message);
  CHECK(verified.ok());
}

}  // namespace tearline
