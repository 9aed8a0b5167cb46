#include "broker/delivery_ack.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>

#include "receipt/delivery.h"
#include "wire/frame.h"

namespace tearline::broker {
namespace v1 = tearline::v1;

Result<v1::DeliveryReceipt> check_ack(const Session& s, const v1::Ack& ack, std::string_view broker_id,
                                      const identity::Directory& directory, std::int64_t now_ms, bool partner_broker) {
  auto parsed = receipt::parse_delivery(as_bytes(ack.receipt()));
  if (!parsed) return parsed.status();
  const v1::DeliveryReceipt& r = *parsed;
  Status problems;
  auto bad = [&](const std::string& why) { problems.add(Code::RECEIPT_INVALID, "delivery receipt: " + why); };
  if (r.node_id() != s.node_id) bad("signed as " + r.node_id() + ", but the session is " + s.node_id + "'s");
  if (r.broker_id() != broker_id) {
    bad("names broker " + r.broker_id() + ", but this broker is " + std::string(broker_id));
  }
  // The stream acknowledged (docs/protocol.md 6.14): this broker's own
  // unless the ACK names another writer; the receipt must cover that one.
  const bool own = ack.writer().empty() || ack.writer() == broker_id;
  if (own ? !r.writer().empty() : r.writer() != ack.writer()) {
    bad("covers the stream of " + (r.writer().empty() ? r.broker_id() : r.writer()) + ", but the ACK names that of " +
        (own ? std::string(broker_id) : ack.writer()));
  }
  const std::map<std::uint64_t, StreamPlace::SentCopy> none;
  auto place = own ? s.streams.end() : s.streams.find(ack.writer());
  const auto& unacked = own ? s.unacked : place == s.streams.end() ? none : place->second.unacked;
  const std::string stream = own ? "" : " of " + ack.writer() + "'s stream";
  const auto& last = r.entries(r.entries_size() - 1);
  if (ack.broker_seq() != last.broker_seq()) {
    bad("ACK broker_seq " + std::to_string(ack.broker_seq()) + " is not its last entry's seq " +
        std::to_string(last.broker_seq()));
  }
  for (const auto& e : r.entries()) {
    auto sent = unacked.find(e.broker_seq());
    if (sent == unacked.end()) {
      bad("seq " + std::to_string(e.broker_seq()) + stream +
          " is not a copy this session was sent and has not acknowledged");
    } else if (!std::equal(sent->second.hash.begin(), sent->second.hash.end(), as_bytes(e.copy_hash()).begin())) {
      bad("seq " + std::to_string(e.broker_seq()) + ": the copy hash is not that of the copy sent");
    } else if (sent->second.report_id != StreamPlace::SentCopy{}.report_id && !sent->second.names(e.report_id())) {
      bad("seq " + std::to_string(e.broker_seq()) + ": the report id is not that of the copy sent");
    }
  }
  // Refusals (docs/protocol.md 6.8): a partner broker's, each of an entry.
  if (ack.refused_size() > 0 && !partner_broker) {
    bad("refused is for a partner agency's boundary broker; " + s.node_id + " is not one");
  }
  std::set<std::uint64_t> refused;
  for (const auto& x : ack.refused()) {
    const std::string seq = "refused seq " + std::to_string(x.broker_seq());
    auto entry = std::find_if(r.entries().begin(), r.entries().end(),
                              [&](const auto& e) { return e.broker_seq() == x.broker_seq(); });
    if (entry == r.entries().end()) {
      bad(seq + " is not an entry of the receipt");
    } else if (entry->report_id() != x.report_id()) {
      bad(seq + ": the report id is not that entry's");
    }
    if (!refused.insert(x.broker_seq()).second) bad(seq + " is named twice");
    if (x.reasons_size() < 1 || static_cast<std::size_t>(x.reasons_size()) > wire::kMaxCopyRefusalReasons) {
      bad(seq + " has " + std::to_string(x.reasons_size()) + " reasons (1 to " +
          std::to_string(wire::kMaxCopyRefusalReasons) + ")");
    }
    for (const auto& reason : x.reasons()) {
      if (reason.message().size() > wire::kMaxCopyRefusalMessageBytes) {
        bad(seq + " has a reason of " + std::to_string(reason.message().size()) + " bytes (at most " +
            std::to_string(wire::kMaxCopyRefusalMessageBytes) + ")");
      }
    }
  }
  // The signature last, and only on a receipt that could be right: a
  // malformed or misdirected ACK costs no verify.
  if (problems.is_ok()) problems.merge(receipt::verify_delivery(r, directory, now_ms));
  if (!problems) return problems;
  return parsed;
}

}  // namespace tearline::broker
