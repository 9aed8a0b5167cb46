#include "receipt/acceptance.h"

#include <algorithm>

#include "base/canonical_proto.h"
#include "crypto/merkle.h"
#include "crypto/signing.h"
#include "report/batch.h"

namespace tearline::receipt {

namespace v1 = tearline::v1;

crypto::Digest report_digest(const v1::Report& report) { return report::batch_leaf(report); }

crypto::Digest receipt_leaf(std::uint64_t seq, const crypto::Digest& report_digest) {
  ByteWriter w;
  w.tag(kReceiptLeafTag);
  w.u64(seq);
  w.raw(ByteView(report_digest.data(), report_digest.size()));
  return crypto::blake2b_256(w.bytes());
}

Bytes acceptance_statement(std::string_view broker_id, std::uint64_t first_seq, std::uint32_t leaf_count,
                           std::int64_t accepted_ms, const crypto::Digest& root) {
  ByteWriter w;
  w.field(broker_id);
  w.u64(first_seq);
  w.u32(leaf_count);
  w.u64(static_cast<std::uint64_t>(accepted_ms));
  w.raw(ByteView(root.data(), root.size()));
  return w.take();
}

std::vector<Bytes> sign_acceptance(std::string_view broker_id, const crypto::SigningKey& key, std::uint64_t first_seq,
                                   const std::vector<crypto::Digest>& digests, std::int64_t accepted_ms) {
  std::vector<Bytes> out;
  out.reserve(digests.size());
  for (std::size_t start = 0; start < digests.size(); start += kMaxReceiptLeaves) {
    const std::size_t n = std::min<std::size_t>(kMaxReceiptLeaves, digests.size() - start);
    const std::uint64_t run_first = first_seq + start;
    std::vector<crypto::Digest> leaves;
    leaves.reserve(n);
    for (std::size_t i = 0; i < n; ++i) leaves.push_back(receipt_leaf(run_first + i, digests[start + i]));
    const crypto::MerkleTree tree(kReceiptNodeTag, std::move(leaves));
    const crypto::Digest& root = tree.root();
    const auto count = static_cast<std::uint32_t>(n);
    const crypto::Signature sig = crypto::sign(key, crypto::tags::kAcceptanceBatch,
                                               acceptance_statement(broker_id, run_first, count, accepted_ms, root));
    v1::AcceptanceReceipt r;
    r.set_format_version(kReceiptFormatVersion);
    r.set_broker_id(std::string(broker_id));
    r.set_first_seq(run_first);
    r.set_leaf_count(count);
    r.set_accepted_ms(accepted_ms);
    r.set_root(root.data(), root.size());
    r.set_signature(sig.data(), sig.size());
    for (std::size_t i = 0; i < n; ++i) {
      r.set_leaf_index(static_cast<std::uint32_t>(i));
      r.clear_path();
      for (const auto& p : tree.path(i)) r.add_path(p.data(), p.size());
      Bytes bytes(r.ByteSizeLong());
      r.SerializeToArray(bytes.data(), static_cast<int>(bytes.size()));
      out.push_back(std::move(bytes));
    }
  }
  return out;
}

Result<v1::AcceptanceReceipt> parse_acceptance(ByteView receipt) {
  v1::AcceptanceReceipt r;
  if (receipt.empty()) return Status::fail(Code::RECEIPT_INVALID, "no acceptance receipt");
  if (receipt.size() > static_cast<std::size_t>(INT32_MAX) ||
      !r.ParseFromArray(receipt.data(), static_cast<int>(receipt.size()))) {
    return Status::fail(Code::RECEIPT_INVALID, "the acceptance receipt does not parse");
  }
  if (!r.GetReflection()->GetUnknownFields(r).empty()) {
    return Status::fail(Code::RECEIPT_INVALID, "the acceptance receipt has unknown fields");
  }
  return r;
}

namespace {

Status invalid(const std::string& why) { return Status::fail(Code::RECEIPT_INVALID, "acceptance receipt: " + why); }

}  // namespace

Result<Acceptance> verify_acceptance(ByteView receipt, const crypto::Digest& report_digest,
                                     const identity::Directory& directory, const AcceptanceCheck& check) {
  auto parsed = parse_acceptance(receipt);
  if (!parsed) return parsed.status();
  const v1::AcceptanceReceipt& r = *parsed;
  if (r.format_version() != kReceiptFormatVersion) {
    return invalid("format version " + std::to_string(r.format_version()) + " is not supported (1)");
  }
  if (r.leaf_count() == 0 || r.leaf_count() > kMaxReceiptLeaves || r.leaf_index() >= r.leaf_count()) {
    return invalid("leaf index " + std::to_string(r.leaf_index()) + " of " + std::to_string(r.leaf_count()) +
                   " is out of bounds");
  }
  if (r.root().size() != crypto::Digest{}.size() || r.signature().size() != crypto::Signature{}.size()) {
    return invalid("root must be 32 bytes and signature 64");
  }
  const std::uint64_t seq = r.first_seq() + r.leaf_index();
  if (seq < r.first_seq()) return invalid("broker seq overflows");
  if (check.seq.has_value() && seq != *check.seq) {
    return invalid("it is for broker seq " + std::to_string(seq) + ", not " + std::to_string(*check.seq));
  }
  if (!check.broker_id.empty() && r.broker_id() != check.broker_id) {
    return invalid("signed by broker " + r.broker_id() + ", not by " + std::string(check.broker_id) +
                   " which delivered it");
  }
  const identity::Credential* broker = directory.node(r.broker_id());
  if (broker == nullptr || !broker->has_role(identity::kBrokerRole)) {
    return invalid("'" + r.broker_id() + "' is not a broker in the directory (a credential with role broker)");
  }
  // A partner agency's broker (docs/federation.md) accepts nothing here:
  // it is no witness of when a report reached this agency's brokers.
  const identity::Authority* issuer = directory.trust().authority(broker->agency);
  if (issuer != nullptr && issuer->partner && !(check.partner_broker && !check.broker_id.empty())) {
    return invalid("'" + r.broker_id() + "' is a broker of partner agency " + broker->agency +
                   ", not one of this directory's brokers");
  }
  Status standing = directory.check_signer(r.broker_id(), r.accepted_ms() / 1000, r.accepted_ms());
  if (!standing) {
    Status st;
    for (const auto& reason : standing.reasons())
      st.add(Code::RECEIPT_INVALID, "acceptance receipt: " + reason.message);
    return st;
  }
  std::vector<ByteView> path;
  path.reserve(static_cast<std::size_t>(r.path_size()));
  for (const auto& p : r.path()) path.push_back(as_bytes(p));
  const auto root = crypto::merkle_root_from_path(kReceiptNodeTag, receipt_leaf(seq, report_digest), r.leaf_index(),
                                                  r.leaf_count(), kMaxReceiptLeaves, path);
  if (!root.has_value() || !std::equal(root->begin(), root->end(), as_bytes(r.root()).begin())) {
    return invalid("it does not cover this report at broker seq " + std::to_string(seq) +
                   " (its path does not lead to the signed root)");
  }
  const Bytes statement = acceptance_statement(r.broker_id(), r.first_seq(), r.leaf_count(), r.accepted_ms(), *root);
  const bool signed_by =
      check.cache != nullptr
          ? check.cache->check(r.broker_id(), broker->signing_key, statement, as_bytes(r.signature()),
                               crypto::tags::kAcceptanceBatch)
          : crypto::verify(broker->signing_key, crypto::tags::kAcceptanceBatch, statement, as_bytes(r.signature()));
  if (!signed_by) return invalid("the signature does not verify under broker " + r.broker_id() + "'s signing key");
  return Acceptance{r.broker_id(), seq, r.accepted_ms()};
}

Result<std::vector<Acceptance>> verify_path(ByteView path, const crypto::Digest& report_digest,
                                            const identity::Directory& directory, const PathCheck& path_check) {
  std::vector<Acceptance> hops;
  if (path.empty()) return hops;
  v1::CrossingPath parsed;
  if (Status s = parse_canonical(path, &parsed, "path"); !s) {
    return Status::fail(Code::RECEIPT_INVALID, "the report's path: " + s.reasons().front().message);
  }
  if (parsed.receipts_size() == 0 || static_cast<std::size_t>(parsed.receipts_size()) > kMaxPathHops) {
    return Status::fail(Code::RECEIPT_INVALID, "the report's path names " + std::to_string(parsed.receipts_size()) +
                                                   " brokers; 1 to " + std::to_string(kMaxPathHops) + " are allowed");
  }
  for (int i = 0; i < parsed.receipts_size(); ++i) {
    const std::string hop = "path hop " + std::to_string(i + 1) + ": ";
    const ByteView bytes = as_bytes(parsed.receipts(i));
    auto stamp = parse_acceptance(bytes);
    if (!stamp) return Status::fail(Code::RECEIPT_INVALID, hop + stamp.status().reasons().front().message);
    AcceptanceCheck check;
    check.broker_id = stamp->broker_id();
    check.cache = path_check.cache;
    check.partner_broker = true;
    auto verified = verify_acceptance(bytes, report_digest, directory, check);
    if (!verified) return Status::fail(Code::RECEIPT_INVALID, hop + verified.status().reasons().front().message);
    const identity::Credential* broker = directory.node(verified->broker_id);  // there: it verified
    const std::string agency = broker != nullptr ? broker->agency : std::string();
    if (i == 0 && !path_check.originator_agency.empty() && agency != path_check.originator_agency) {
      return Status::fail(Code::RECEIPT_INVALID, hop + verified->broker_id + " is a broker of " + agency +
                                                     ", not of the originator's agency " +
                                                     std::string(path_check.originator_agency));
    }
    if (!path_check.home_agency.empty() && agency == path_check.home_agency) {
      return Status::fail(Code::RECEIPT_INVALID, hop + verified->broker_id + " is a broker of " + agency +
                                                     ", this directory's own agency: a report of another agency "
                                                     "never passed through it before");
    }
    if (!hops.empty() && verified->accepted_ms < hops.back().accepted_ms) {
      return Status::fail(Code::RECEIPT_INVALID, hop + "accepted before the hop it follows");
    }
    if (path_check.delivered_ms && verified->accepted_ms > *path_check.delivered_ms) {
      return Status::fail(Code::RECEIPT_INVALID, hop + "accepted after the broker that delivered it");
    }
    const bool twice =
        std::any_of(hops.begin(), hops.end(), [&](const Acceptance& h) { return h.broker_id == verified->broker_id; });
    if (twice) return Status::fail(Code::RECEIPT_INVALID, hop + verified->broker_id + " is on the path twice");
    hops.push_back(std::move(verified).value());
  }
  return hops;
}

}  // namespace tearline::receipt
