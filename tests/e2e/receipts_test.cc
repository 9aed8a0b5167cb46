// Receipts and revocation in time, end to end (issue 14): a real broker
// (BrokerFixture) and real sessions.
//
//   - the broker's acceptance receipt comes with ACCEPTED and with every
//     DELIVER (live and from the store) and verifies offline with the
//     directory alone;
//   - an ACK is the node's signed delivery receipt: a forged one, one naming
//     another broker, or one signed with another node's key closes that
//     session ERROR RECEIPT_INVALID while the broker goes on serving others;
//     a good one is kept in the audit log, whole;
//   - the revocation rule: a RETIRED originator's reports are still
//     delivered and valid; COMPROMISED at T, reports accepted before T are
//     delivered and valid, reports accepted at or after T are withheld by
//     the broker and refused by a client that sees one anyway
//     (ORIGINATOR_COMPROMISED); a forged or missing receipt never makes a
//     report valid.
//
// Non-delivery is proven with a sentinel published after the report that
// must not arrive: deliveries on one session come in broker order.
#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "crypto/key_file.h"
#include "protocol_states_wire.h"
#include "receipt/acceptance.h"
#include "receipt/delivery.h"
#include "support/broker_fixture.h"
#include "support/e2e_helpers.h"

namespace tearline {
namespace {

namespace v1 = tearline::v1;
using protocol_states::ask;
using protocol_states::describe;
using protocol_states::kBrokerId;
using protocol_states::kPublisher;
using protocol_states::kReader;
using protocol_states::kShared;
using protocol_states::ready_session;
using protocol_states::state_of;
using protocol_states::Wire;
using testing::BrokerFixture;
using testing::code_names;
using testing::draft;
using testing::must_connect;

constexpr int kWaitMs = 5000;

identity::DirectoryPtr load_directory(const BrokerFixture& fx) {
  auto dir = identity::Directory::load(fx.pki().directory(), SystemClock::instance().now_seconds(), nullptr);
  INFO(dir.status().to_string());
  REQUIRE(dir);
  return std::move(dir).value();
}

// A report built by `session` and published as it is: its bytes and verdict.
struct Published {
  report::BuiltReport built;
  client::PublishOutcome outcome;
};

Published publish_draft(client::Session& session, const std::string& topic, const std::string& text) {
  auto built = client::build(session, draft(topic, {{kShared, text}}));
  INFO(built.status().to_string());
  REQUIRE(built);
  auto outcome = session.publish_bytes(built->bytes);
  INFO(outcome.status().to_string());
  REQUIRE(outcome);
  INFO(outcome->status.to_string());
  REQUIRE(outcome->accepted);
  return Published{std::move(built).value(), std::move(outcome).value()};
}

// The next report `session` receives (REQUIREd within kWaitMs).
client::Received next_report(client::Session& session) {
  auto got = session.receive(kWaitMs);
  REQUIRE(got);
  return std::move(*got);
}

// The acceptance receipt of `p`, checked offline: a fresh directory, no cache.
receipt::Acceptance verify_offline(const BrokerFixture& fx, ByteView receipt_bytes, const report::BuiltReport& built,
                                   std::uint64_t seq) {
  auto directory = load_directory(fx);
  auto acceptance = receipt::verify_acceptance(receipt_bytes, receipt::report_digest(built.report), *directory,
                                               receipt::AcceptanceCheck{seq, kBrokerId, nullptr});
  INFO(acceptance.status().to_string());
  REQUIRE(acceptance);
  return *acceptance;
}

// A serialized receipt with one byte of its signature flipped.
template <typename Message>
Bytes with_flipped_signature(ByteView bytes) {
  Message m;
  REQUIRE(m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())));
  std::string sig = m.signature();
  REQUIRE_FALSE(sig.empty());
  sig[0] = static_cast<char>(sig[0] ^ 0x01);
  m.set_signature(sig);
  return to_bytes(m.SerializeAsString());
}

// The audit entries of the broker's database (stopped broker): event, node, decision, detail.
struct Entry {
  std::string event, node, report, decision, detail;
};
std::vector<Entry> audit_entries(const BrokerFixture& fx) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(fx.database().c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT event, node, report, decision, detail FROM audit ORDER BY idx", -1, &q,
                             nullptr) == SQLITE_OK);
  auto text = [q](int i) {
    const unsigned char* p = sqlite3_column_text(q, i);
    return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p));
  };
  std::vector<Entry> out;
  while (sqlite3_step(q) == SQLITE_ROW) out.push_back(Entry{text(0), text(1), text(2), text(3), text(4)});
  sqlite3_finalize(q);
  sqlite3_close(db);
  return out;
}

// A broker whose credential is missing from the directory does not start,
// and a reload that would lose it is refused (the broker keeps serving).
TEST_CASE("receipts: a broker without its own credential in the directory refuses to start", "[e2e][receipt]") {
  BrokerFixture fx;
  auto reader = must_connect(fx, kReader);
  REQUIRE(reader->subscribe({"intel.>"}));
  // Connected before: a client that loads the directory without the
  // broker's credential could not verify its receipts.
  auto publisher = must_connect(fx, kPublisher);
  const std::filesystem::path credential = fx.pki().credential(kBrokerId);
  REQUIRE(std::filesystem::remove(credential));
  CHECK_THROWS(fx.reload());  // refused: the last good state stays
  const auto served = publish_draft(*publisher, "intel.finance", "still served");
  CHECK(served.outcome.broker_id == kBrokerId);
  CHECK(next_report(*reader).broker_seq == served.outcome.broker_seq);
  reader.reset();
  publisher.reset();
  fx.stop();

  broker::Config config;
  config.endpoint = "tcp://127.0.0.1:*";
  config.key_file = fx.pki().broker_key();
  config.directory = fx.pki().directory();
  config.policy = std::filesystem::path(TEARLINE_SOURCE_DIR) / "certs" / "policy.toml";
  config.data_dir = fx.root() / "other-data";
  auto created = broker::Broker::create(config);
  REQUIRE_FALSE(created);
  CHECK(created.code() == Code::UNKNOWN_NODE);
  CHECK(created.status().to_string().find("tearline certs broker") != std::string::npos);
}

TEST_CASE("receipts: ACCEPTED and every DELIVER carry the broker's receipt, which verifies offline", "[e2e][receipt]") {
  BrokerFixture fx;
  auto reader = must_connect(fx, kReader);
  REQUIRE(reader->subscribe({"intel.>"}));
  {
    auto late = must_connect(fx, "diran-bogota-hq");  // durable: its cursor is set now, then it goes away
    REQUIRE(late->subscribe({"intel.>"}));
  }
  auto publisher = must_connect(fx, kPublisher);
  CHECK(client::broker_id(*publisher) == kBrokerId);

  const Published p = publish_draft(*publisher, "intel.finance", "receipted");
  CHECK(p.outcome.broker_id == kBrokerId);
  CHECK(p.outcome.accepted_ms > 0);
  const receipt::Acceptance offline = verify_offline(fx, p.outcome.receipt, p.built, p.outcome.broker_seq);
  CHECK(offline.broker_id == kBrokerId);
  CHECK(offline.seq == p.outcome.broker_seq);
  CHECK(offline.accepted_ms == p.outcome.accepted_ms);

  const client::Received live = next_report(*reader);
  INFO(live.verification.to_string());
  CHECK(live.verification.is_ok());
  CHECK(live.broker_seq == p.outcome.broker_seq);
  CHECK(live.receipt == p.outcome.receipt);
  CHECK(live.accepted_ms == p.outcome.accepted_ms);

  // From the store: the receipt written with the report.
  auto late = must_connect(fx, "diran-bogota-hq");
  REQUIRE(late->subscribe({"intel.>"}));  // attaches: catch-up from the cursor
  const client::Received stored = next_report(*late);
  INFO(stored.verification.to_string());
  CHECK(stored.verification.is_ok());
  CHECK(stored.broker_seq == p.outcome.broker_seq);
  CHECK(stored.receipt == p.outcome.receipt);
  CHECK(stored.accepted_ms == p.outcome.accepted_ms);

  // And after a restart, from the store of the new broker process.
  reader.reset();
  late.reset();
  publisher.reset();
  fx.restart();
  publisher = must_connect(fx, kPublisher);
  auto again = must_connect(fx, "diran-cucuta-analyst");
  REQUIRE(again->subscribe({"intel.>"}));
  const Published q = publish_draft(*publisher, "intel.finance", "after the restart");
  verify_offline(fx, q.outcome.receipt, q.built, q.outcome.broker_seq);
  const client::Received after = next_report(*again);
  CHECK(after.verification.is_ok());
  CHECK(after.receipt == q.outcome.receipt);
}

TEST_CASE("receipts: the reports of one publish batch verify with their receipts, each at its own seq",
          "[e2e][receipt]") {
  BrokerFixture fx;
  auto reader = must_connect(fx, kReader);
  REQUIRE(reader->subscribe({"intel.>"}));
  auto publisher = must_connect(fx, kPublisher);
  std::vector<client::Draft> drafts;
  drafts.reserve(3);
  for (int i = 0; i < 3; ++i) drafts.push_back(draft("intel.finance", {{kShared, "batch " + std::to_string(i)}}));
  auto outcomes = publisher->publish_batch(drafts);
  REQUIRE(outcomes);
  REQUIRE(outcomes->size() == 3);
  for (const auto& o : *outcomes) {
    INFO(o.status.to_string());
    REQUIRE(o.accepted);
    CHECK(o.broker_id == kBrokerId);
  }
  for (std::size_t i = 0; i < 3; ++i) {
    const client::Received got = next_report(*reader);
    INFO(got.verification.to_string());
    CHECK(got.verification.is_ok());
    CHECK(got.receipt == (*outcomes)[i].receipt);
    CHECK(got.broker_seq == (*outcomes)[i].broker_seq);
  }
}

// A forged ACK, an ACK naming another broker, an ACK signed with another
// node's key: each is a bad frame (ERROR RECEIPT_INVALID; the session stays
// READY and the cursor does not move); another session is served on.
TEST_CASE("receipts: an ACK whose delivery receipt fails is ERROR RECEIPT_INVALID and moves nothing",
          "[e2e][receipt]") {
  enum class Fault {
    kFlippedSignature,
    kOtherBroker,
    kOtherNodesKey,
    kMissing,
    kWrongSeq,
    kNotSent,
    kOtherStreamsReceipt,
    kOtherStream
  };
  const auto [fault, expected] = GENERATE(table<Fault, std::string>({
      {Fault::kFlippedSignature, "the signature does not verify"},
      {Fault::kOtherBroker, "names broker other-broker"},
      {Fault::kOtherNodesKey, "the signature does not verify"},
      {Fault::kMissing, "missing"},
      {Fault::kWrongSeq, "is not its last entry's seq"},
      {Fault::kNotSent, "is not a copy this session was sent"},
      // docs/protocol.md 6.14: the receipt covers the stream the ACK names.
      {Fault::kOtherStreamsReceipt, "covers the stream of broker-2, but the ACK names that of tearline-broker"},
      {Fault::kOtherStream, " of broker-2's stream is not a copy this session was sent"},
  }));
  BrokerFixture fx;
  auto publisher = ready_session(fx, kPublisher);
  auto w = ready_session(fx, kReader);
  auto other = must_connect(fx, "diran-bogota-hq");
  REQUIRE(other->subscribe({"intel.>"}));
  CHECK(ask(*w, wire::make_subscribe(1, {"intel.>"})) == "ACCEPTED / 1");
  const std::uint64_t seq = protocol_states::publish(*publisher, 1, "to acknowledge");
  auto delivered = w->next(kWaitMs);
  REQUIRE(describe(delivered) == "DELIVER " + std::to_string(seq));
  const v1::Deliver& d = delivered->deliver();
  CHECK(next_report(*other).broker_seq == seq);

  v1::Frame ack = w->ack({d});
  const std::vector<receipt::DeliveredCopy> copies = {receipt::describe_copy(d.broker_seq(), as_bytes(d.report()))};
  const std::int64_t now = SystemClock::instance().now_ms();
  switch (fault) {
    case Fault::kFlippedSignature:
      ack.mutable_ack()->set_receipt(
          to_string(with_flipped_signature<v1::DeliveryReceipt>(as_bytes(ack.ack().receipt()))));
      break;
    case Fault::kOtherBroker: ack = w->ack({d}, "other-broker"); break;
    case Fault::kOtherNodesKey: {
      auto material = identity::load_node_material(fx.pki(), kPublisher, SystemClock::instance().now_seconds());
      REQUIRE(material);
      ack.mutable_ack()->set_receipt(
          to_string(receipt::sign_delivery(kReader, kBrokerId, material->keys->signing, now, copies)));
      break;
    }
    case Fault::kMissing: ack = wire::make_ack(seq); break;
    case Fault::kWrongSeq: ack.mutable_ack()->set_broker_seq(seq + 1); break;
    case Fault::kNotSent: {
      std::vector<receipt::DeliveredCopy> unsent = copies;
      unsent[0].broker_seq = seq + 7;
      ack = wire::make_ack(seq + 7, receipt::sign_delivery(kReader, kBrokerId, w->signing_key(), now, unsent));
      break;
    }
    case Fault::kOtherStreamsReceipt:
      ack = wire::make_ack(seq, receipt::sign_delivery(kReader, kBrokerId, w->signing_key(), now, copies, "broker-2"));
      break;
    case Fault::kOtherStream:
      ack = wire::make_ack(seq, receipt::sign_delivery(kReader, kBrokerId, w->signing_key(), now, copies, "broker-2"),
                           "broker-2");
      break;
  }
  w->send(ack);
  auto error = w->next(kWaitMs);
  REQUIRE(error);
  REQUIRE(error->has_error());
  CHECK(protocol_states::code_text(error->error().code()) == "RECEIPT_INVALID");
  const Status reasons = wire::status_of(error->error());
  INFO(reasons.to_string());
  CHECK(reasons.to_string().find(expected) != std::string::npos);
  CHECK(state_of(*w) == "READY");

  // The broker serves everyone else: the next report reaches the other session.
  const std::uint64_t next = protocol_states::publish(*publisher, 2, "served on");
  CHECK(next_report(*other).broker_seq == next);
  CHECK(state_of(*publisher) == "READY");
}

TEST_CASE("receipts: a good ACK moves the cursor and is kept whole in the audit log", "[e2e][receipt]") {
  BrokerFixture fx;
  auto reader = must_connect(fx, kReader);
  REQUIRE(reader->subscribe({"intel.>"}));
  auto publisher = must_connect(fx, kPublisher);
  std::vector<Published> published;
  published.reserve(3);
  for (int i = 0; i < 3; ++i)
    published.push_back(publish_draft(*publisher, "intel.finance", "acked " + std::to_string(i)));
  for (const auto& p : published) CHECK(next_report(*reader).broker_seq == p.outcome.broker_seq);
  // The receipts were sent with the reading (the queue drained); a request
  // answered after them proves the broker has read them.
  CHECK(reader->subscribe({"intel.other"}));
  CHECK_FALSE(reader->take_session_error());
  reader.reset();
  // Resumes after the cursor the ACKs moved: nothing is delivered again.
  auto back = must_connect(fx, kReader);
  CHECK(back->subscribe({"intel.other"}));  // attaches: catch-up from the cursor
  const Published sentinel = publish_draft(*publisher, "intel.finance", "sentinel");
  CHECK(next_report(*back).broker_seq == sentinel.outcome.broker_seq);
  back.reset();
  publisher.reset();
  fx.stop();

  auto directory = load_directory(fx);
  std::vector<std::uint64_t> acknowledged;
  for (const auto& e : audit_entries(fx)) {
    if (e.event != "receipt") continue;
    CHECK(e.node == kReader);
    CHECK(e.decision == "received");
    Bytes bytes;
    REQUIRE(from_hex(e.detail, &bytes));
    auto parsed = receipt::parse_delivery(bytes);
    REQUIRE(parsed);
    CHECK(receipt::verify_delivery(*parsed, *directory, SystemClock::instance().now_ms()).is_ok());
    CHECK(parsed->broker_id() == kBrokerId);
    CHECK(e.report == to_hex(as_bytes(parsed->entries(0).report_id())));
    for (const auto& entry : parsed->entries()) acknowledged.push_back(entry.broker_seq());
  }
  std::vector<std::uint64_t> expected;
  expected.reserve(published.size() + 1);
  for (const auto& p : published) expected.push_back(p.outcome.broker_seq);
  expected.push_back(sentinel.outcome.broker_seq);
  CHECK(acknowledged == expected);
}

TEST_CASE("receipts: a RETIRED originator's reports are still delivered from the store and valid",
          "[e2e][receipt][revocation]") {
  BrokerFixture fx;
  {
    auto reader = must_connect(fx, kReader);
    REQUIRE(reader->subscribe({"intel.>"}));
  }
  auto publisher = must_connect(fx, kPublisher);
  const Published p = publish_draft(*publisher, "intel.finance", "before retirement");
  publisher.reset();
  fx.revoke("DEA", kPublisher, identity::RevocationReason::kRetired);

  auto reader = must_connect(fx, kReader);
  REQUIRE(reader->subscribe({"intel.>"}));  // attaches: catches up from the store
  const client::Received got = next_report(*reader);
  INFO(got.verification.to_string());
  CHECK(got.verification.is_ok());
  CHECK(got.broker_seq == p.outcome.broker_seq);
  CHECK(got.accepted_ms == p.outcome.accepted_ms);
  REQUIRE(got.sections.size() == 1);
  CHECK(got.sections[0].text == "before retirement");
}

TEST_CASE("receipts: COMPROMISED at T, reports accepted before T stand, those accepted at or after T do not",
          "[e2e][receipt][revocation]") {
  BrokerFixture fx;
  {
    auto reader = must_connect(fx, kReader);
    REQUIRE(reader->subscribe({"intel.>"}));
  }
  auto publisher = must_connect(fx, kPublisher);
  const Published before = publish_draft(*publisher, "intel.finance", "accepted before T");
  // T: the first whole second after `before` was accepted; `after` is
  // accepted at or after it.
  const std::int64_t t = before.outcome.accepted_ms / 1000 + 1;
  while (SystemClock::instance().now_ms() < t * 1000) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const Published after = publish_draft(*publisher, "intel.finance", "accepted after T");
  REQUIRE(after.outcome.accepted_ms >= t * 1000);
  publisher.reset();
  fx.revoke("DEA", kPublisher, identity::RevocationReason::kCompromised, t);

  auto hq = must_connect(fx, "diran-bogota-hq");
  const Published sentinel = publish_draft(*hq, "intel.finance", "sentinel");
  auto reader = must_connect(fx, kReader);
  REQUIRE(reader->subscribe({"intel.>"}));  // attaches: catches up from the store
  const client::Received first = next_report(*reader);
  INFO(first.verification.to_string());
  CHECK(first.verification.is_ok());
  CHECK(first.broker_seq == before.outcome.broker_seq);
  // `after` is withheld by the broker: the sentinel comes next.
  CHECK(next_report(*reader).broker_seq == sentinel.outcome.broker_seq);

  // A client that sees `after` anyway (with its genuine receipt) refuses it.
  auto keys = crypto::read_node_keys(fx.pki().node_key(kReader));
  REQUIRE(keys);
  const crypto::SealingKey& sealing = keys->sealing;
  auto directory = load_directory(fx);
  const client::Received seen = client::open_delivered(after.built.bytes, after.outcome.broker_seq,
                                                       after.outcome.receipt, kBrokerId, *directory, kReader, sealing);
  CHECK(code_names(seen.verification) == testing::codes({Code::ORIGINATOR_COMPROMISED}));
  CHECK(seen.sections.empty());
  // And `before` stands for it with its receipt, but not without one.
  const client::Received stands = client::open_delivered(
      before.built.bytes, before.outcome.broker_seq, before.outcome.receipt, kBrokerId, *directory, kReader, sealing);
  CHECK(stands.verification.is_ok());
  const client::Received unwitnessed = client::open_delivered(before.built.bytes, before.outcome.broker_seq, {},
                                                              kBrokerId, *directory, kReader, sealing);
  CHECK(code_names(unwitnessed.verification) == testing::codes({Code::RECEIPT_INVALID, Code::ORIGINATOR_COMPROMISED}));
  CHECK(unwitnessed.sections.empty());

  hq.reset();
  reader.reset();
  fx.stop();
  std::size_t withheld = 0;
  for (const auto& e : audit_entries(fx)) {
    if (e.event != "withheld" || e.node != "") continue;
    ++withheld;
    CHECK(e.decision == "withheld");
    CHECK(e.report == to_hex(after.built.report_id));
    CHECK(e.detail.find("ORIGINATOR_COMPROMISED") != std::string::npos);
  }
  CHECK(withheld == 1);
}

TEST_CASE("receipts: a forged or missing receipt never makes a report valid", "[e2e][receipt]") {
  BrokerFixture fx;
  auto publisher = must_connect(fx, kPublisher);
  const Published a = publish_draft(*publisher, "intel.finance", "report a");
  const Published b = publish_draft(*publisher, "intel.finance", "report b");
  auto directory = load_directory(fx);
  auto keys = crypto::read_node_keys(fx.pki().node_key(kReader));
  REQUIRE(keys);
  auto open = [&](const Published& p, ByteView receipt_bytes, std::uint64_t seq, std::string_view broker) {
    return client::open_delivered(p.built.bytes, seq, receipt_bytes, broker, *directory, kReader, keys->sealing);
  };
  const std::uint64_t seq = a.outcome.broker_seq;
  const client::Received genuine = open(a, a.outcome.receipt, seq, kBrokerId);
  INFO(genuine.verification.to_string());
  CHECK(genuine.verification.is_ok());
  REQUIRE(genuine.sections.size() == 1);
  CHECK(genuine.sections[0].status == client::SectionStatus::kOpened);

  const auto refused = testing::codes({Code::RECEIPT_INVALID});
  SECTION("missing") { CHECK(code_names(open(a, {}, seq, kBrokerId).verification) == refused); }
  SECTION("forged signature") {
    const Bytes forged = with_flipped_signature<v1::AcceptanceReceipt>(a.outcome.receipt);
    CHECK(code_names(open(a, forged, seq, kBrokerId).verification) == refused);
  }
  SECTION("another report's receipt") {
    CHECK(code_names(open(a, b.outcome.receipt, b.outcome.broker_seq, kBrokerId).verification) == refused);
  }
  SECTION("another seq") { CHECK(code_names(open(a, a.outcome.receipt, seq + 1, kBrokerId).verification) == refused); }
  SECTION("from another broker than the one that delivered it") {
    CHECK(code_names(open(a, a.outcome.receipt, seq, "other-broker").verification) == refused);
  }
  SECTION("signed by a node that is not a broker") {
    v1::AcceptanceReceipt r;
    REQUIRE(r.ParseFromArray(a.outcome.receipt.data(), static_cast<int>(a.outcome.receipt.size())));
    r.set_broker_id(kPublisher);
    const Bytes renamed = to_bytes(r.SerializeAsString());
    CHECK(code_names(open(a, renamed, seq, "").verification) == refused);
  }
  SECTION("an ACCEPTED with a bad receipt is not accepted") {
    // What publish() checks, on the bytes it sent.
    auto bad = client::check_accepted(a.built.bytes, seq, b.outcome.receipt, kBrokerId, *directory);
    CHECK(code_names(bad.status()) == refused);
    auto good = client::check_accepted(a.built.bytes, seq, a.outcome.receipt, kBrokerId, *directory);
    CHECK(good.is_ok());
  }
}

}  // namespace
}  // namespace tearline
