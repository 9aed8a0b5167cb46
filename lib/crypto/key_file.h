// Secret key files. Layout: an 8-byte magic naming the kind, then the raw
// secret bytes (docs/trust-model.md, "Key files"). Written with mode 0600;
// refused at load when group- or world-accessible, or of the wrong size.
// Secrets are read straight into sodium_malloc memory.
#pragma once

#include <filesystem>

#include "base/result.h"
#include "crypto/keys.h"

namespace tearline::crypto {

// An authority: "TLAUTH1\n" || Ed25519 secret (64).
Status write_authority_key(const std::filesystem::path& path, const SigningKey& key);
Result<SigningKey> read_authority_key(const std::filesystem::path& path);

// A node: "TLNODE1\n" || Ed25519 secret (64) || X25519 sealing secret (32) ||
// CURVE transport secret (32).
struct NodeSecrets {
  SigningKey signing;
  SealingKey sealing;
  TransportKey transport;
};
Status write_node_keys(const std::filesystem::path& path, const NodeSecrets& keys);
Result<NodeSecrets> read_node_keys(const std::filesystem::path& path);

// The broker: "TLBRKR1\n" || CURVE transport secret (32) || Ed25519 audit secret (64).
struct BrokerSecrets {
  TransportKey transport;
  SigningKey audit;
};
Status write_broker_keys(const std::filesystem::path& path, const BrokerSecrets& keys);
Result<BrokerSecrets> read_broker_keys(const std::filesystem::path& path);

}  // namespace tearline::crypto
