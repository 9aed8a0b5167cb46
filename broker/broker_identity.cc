#include "broker/broker_identity.h"

namespace tearline::broker {

Result<std::string> find_broker_identity(const identity::Directory& directory,
                                         const crypto::TransportPublicKey& transport, const crypto::VerifyKey& audit) {
  const std::string fix = "; issue the broker's credential with `tearline certs broker` (or regenerate the PKI)";
  const identity::Credential* own = directory.node_by_transport_key(transport);
  if (own == nullptr) {
    return Status::fail(Code::UNKNOWN_NODE,
                        "the directory holds no credential for this broker's CURVE key (role broker)" + fix);
  }
  Status s;
  if (!own->has_role(identity::kBrokerRole)) {
    s.add(Code::UNKNOWN_NODE, "the credential of " + own->node_id + " holds this broker's CURVE key but lacks role " +
                                  std::string(identity::kBrokerRole) + fix);
  }
  if (!(own->signing_key == audit)) {
    s.add(Code::UNKNOWN_NODE, "the signing key of " + own->node_id +
                                  "'s credential is not this broker's audit key: its receipts would not verify" + fix);
  }
  if (!s) return s;
  return own->node_id;
}

}  // namespace tearline::broker
