// broker/delivery_ack: the refusals a partner's boundary broker names in its
// ACK (Ack.refused, docs/protocol.md 6.8) are taken only from a partner
// broker, each of an entry of the signed receipt, once, with 1 to 16
// reasons. Each defect case asserts RECEIPT_INVALID next to a control.
#include <catch2/catch.hpp>

#include "broker/delivery_ack.h"
#include "receipt/delivery.h"
#include "receipt_world.h"
#include "wire/frame.h"

using namespace tearline;
using namespace tearline::testing::receipts;

namespace {

constexpr std::int64_t kNowMs = kNow * 1000;

struct AckWorld {
  ReceiptWorld w;
  identity::DirectoryPtr directory = w.directory();
  broker::Session session;
  std::vector<receipt::DeliveredCopy> copies;

  AckWorld() {
    session.node_id = w.other_broker.id;  // the partner's broker, in this world a broker credential
    for (std::uint64_t seq : {4, 5}) {
      receipt::DeliveredCopy c;
      c.broker_seq = seq;
      c.copy_hash = digest_of("copy " + std::to_string(seq));
      c.report_id = std::string(16, static_cast<char>('a' + seq));
      copies.push_back(c);
      broker::StreamPlace::SentCopy& sent = session.unacked[seq];
      sent.hash = c.copy_hash;
      std::copy(c.report_id.begin(), c.report_id.end(), sent.report_id.begin());
    }
  }

  v1::Ack ack() const {
    const Bytes receipt =
        receipt::sign_delivery(w.other_broker.id, w.broker.id, w.other_broker.signing, kNowMs, copies);
    return wire::make_ack(5, receipt).ack();
  }

  Status check(const v1::Ack& a, bool partner_broker = true) const {
    auto r = broker::check_ack(session, a, w.broker.id, *directory, kNowMs, partner_broker);
    return r ? Status::ok() : r.status();
  }
};

v1::CopyRefusal refusal(std::uint64_t seq, const std::string& report_id, std::size_t reasons = 1) {
  Status why;
  for (std::size_t i = 0; i < reasons; ++i) why.add(Code::CROSSING_LOOP, "reason " + std::to_string(i));
  v1::CopyRefusal r = wire::make_copy_refusal(seq, report_id, why);
  // make_copy_refusal keeps 16 at most: put the rest back for the defect case.
  for (std::size_t i = static_cast<std::size_t>(r.reasons_size()); i < reasons; ++i) *r.add_reasons() = r.reasons(0);
  return r;
}

}  // namespace

TEST_CASE("delivery ack: a partner broker's ACK names the copies it refused, each an entry of its receipt, once") {
  AckWorld a;
  CHECK(a.check(a.ack()));
  CHECK(a.check(a.ack(), false));  // no refusal: any node's ACK

  v1::Ack one = a.ack();
  *one.add_refused() = refusal(4, a.copies[0].report_id);
  CHECK(a.check(one));
  // Only a partner agency's boundary broker says it refused a copy.
  CHECK(a.check(one, false).code() == Code::RECEIPT_INVALID);

  v1::Ack both = a.ack();
  *both.add_refused() = refusal(4, a.copies[0].report_id);
  *both.add_refused() = refusal(5, a.copies[1].report_id, wire::kMaxCopyRefusalReasons);
  CHECK(a.check(both));

  SECTION("a receipt entry with the hash of the copy sent but another report id") {
    AckWorld other;
    other.session.unacked[4].report_id.fill('z');
    CHECK(other.check(other.ack()).code() == Code::RECEIPT_INVALID);
  }
  SECTION("a reason's message longer than 256 bytes") {
    v1::Ack bad = a.ack();
    *bad.add_refused() = refusal(4, a.copies[0].report_id);
    bad.mutable_refused(0)->mutable_reasons(0)->set_message(std::string(wire::kMaxCopyRefusalMessageBytes + 1, 'x'));
    CHECK(a.check(bad).code() == Code::RECEIPT_INVALID);
  }
  SECTION("a seq that is no entry of the receipt") {
    v1::Ack bad = a.ack();
    *bad.add_refused() = refusal(6, a.copies[0].report_id);
    CHECK(a.check(bad).code() == Code::RECEIPT_INVALID);
  }
  SECTION("another report id than the entry's") {
    v1::Ack bad = a.ack();
    *bad.add_refused() = refusal(4, a.copies[1].report_id);
    CHECK(a.check(bad).code() == Code::RECEIPT_INVALID);
  }
  SECTION("a copy named twice") {
    v1::Ack bad = a.ack();
    *bad.add_refused() = refusal(4, a.copies[0].report_id);
    *bad.add_refused() = refusal(4, a.copies[0].report_id);
    CHECK(a.check(bad).code() == Code::RECEIPT_INVALID);
  }
  SECTION("no reason, or more than 16") {
    v1::Ack none = a.ack();
    *none.add_refused() = refusal(4, a.copies[0].report_id, 0);
    CHECK(a.check(none).code() == Code::RECEIPT_INVALID);
    v1::Ack many = a.ack();
    *many.add_refused() = refusal(4, a.copies[0].report_id, wire::kMaxCopyRefusalReasons + 1);
    REQUIRE(many.refused(0).reasons_size() == 17);
    CHECK(a.check(many).code() == Code::RECEIPT_INVALID);
  }
}

TEST_CASE("delivery ack: make_copy_refusal keeps the first 16 reasons, each cut to 256 bytes on a character") {
  Status why;
  for (int i = 0; i < 20; ++i) why.add(i == 0 ? Code::ORIGINATOR_INVALID : Code::CROSSING_LOOP, std::to_string(i));
  const v1::CopyRefusal r = wire::make_copy_refusal(9, std::string(16, 'x'), why);
  CHECK(r.broker_seq() == 9);
  CHECK(r.report_id() == std::string(16, 'x'));
  REQUIRE(r.reasons_size() == 16);
  const Status back = wire::status_from_proto(r.reasons());
  CHECK(back.code() == Code::ORIGINATOR_INVALID);
  CHECK(back.reasons().back().message == "15");

  // 255 bytes of 'a' then a two-byte character: cut before it, never inside.
  const std::string long_text = std::string(255, 'a') + "\xc3\xa9" + "rest";
  const v1::CopyRefusal cut =
      wire::make_copy_refusal(1, std::string(16, 'x'), Status::fail(Code::NO_PEERING, long_text));
  CHECK(cut.reasons(0).message() == std::string(255, 'a'));
  const v1::CopyRefusal whole =
      wire::make_copy_refusal(1, std::string(16, 'x'), Status::fail(Code::NO_PEERING, std::string(256, 'b')));
  CHECK(whole.reasons(0).message() == std::string(256, 'b'));
}
