#include "federation/checkpoints.h"

#include <algorithm>
#include <tuple>

#include "crypto/signing.h"
#include "identity/objects.h"

namespace tearline::federation {

tearline::v1::AuditCheckpoint checkpoint_message(const std::string& broker_id, const audit::Checkpoint& c) {
  tearline::v1::AuditCheckpoint m;
  m.set_broker_id(broker_id);
  m.set_index(c.index);
  m.set_hash(c.hash.data(), c.hash.size());
  m.set_time_ms(c.time_ms);
  m.set_signature(c.signature.data(), c.signature.size());
  return m;
}

Result<audit::Checkpoint> check_peer_checkpoint(const tearline::v1::AuditCheckpoint& m, std::string_view peer,
                                                const identity::Directory& directory) {
  const std::string who = "the audit checkpoint of " + std::string(peer);
  if (m.broker_id() != peer) {
    return Status::fail(Code::WRONG_AUTHORITY, who + " names " + m.broker_id() + " as its broker");
  }
  const identity::Credential* c = directory.node(peer);
  if (c == nullptr || !c->has_role(identity::kBrokerRole)) {
    return Status::fail(Code::UNKNOWN_NODE,
                        who + ": no broker credential of " + std::string(peer) + " in this directory");
  }
  Status bad;
  if (m.index() == 0) bad.add(Code::INVALID_FIELD, who + ": index 0 names no entry");
  if (m.hash().size() != std::tuple_size_v<crypto::Digest>) {
    bad.add(Code::INVALID_FIELD, who + ": a hash of " + std::to_string(m.hash().size()) + " bytes, not 32");
  }
  if (m.signature().size() != crypto::kSignatureBytes) {
    bad.add(Code::INVALID_FIELD, who + ": a signature of " + std::to_string(m.signature().size()) + " bytes, not 64");
  }
  if (!bad) return bad;
  audit::Checkpoint out;
  out.index = m.index();
  std::copy(m.hash().begin(), m.hash().end(), out.hash.begin());
  out.time_ms = m.time_ms();
  std::copy(m.signature().begin(), m.signature().end(), out.signature.begin());
  if (!crypto::verify(c->signing_key, crypto::tags::kAuditCheckpoint,
                      audit::checkpoint_payload(out.index, out.hash, out.time_ms),
                      ByteView(out.signature.data(), out.signature.size()))) {
    return Status::fail(Code::BAD_SIGNATURE, who + " (entry " + std::to_string(out.index) +
                                                 ") does not verify under its credential's signing key");
  }
  return out;
}

}  // namespace tearline::federation
