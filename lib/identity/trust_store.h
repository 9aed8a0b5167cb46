// The trust store: the pinned authority public keys, one per agency, in a TOML
// file an operator reviews by hand:
//
//   [[authority]]
//   agency = "DIRAN"
//   country = "COL"
//   verify_key = "<64 hex chars: Ed25519 public key>"
//   partner = true      # optional: a partner agency of a peering
//
// A partner agency (docs/federation.md, "Directories across agencies") runs
// its own broker: its credentials are loaded so that nodes can seal to its
// nodes and verify their signatures, but its nodes never connect to this
// PKI's brokers (FOREIGN_NODE); `tearline certs import` pins it.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "base/result.h"
#include "identity/objects.h"

namespace tearline::identity {

class TrustStore final : public AuthorityLookup {
 public:
  // Fails with EMPTY_TRUST_STORE when the file has no authority, IO_ERROR when
  // unreadable, INVALID_FIELD (every bad entry listed) when malformed.
  static Result<TrustStore> load(const std::filesystem::path& path);
  static Result<TrustStore> parse(std::string_view toml_text, std::string_view source_name);
  // Renders the TOML form (authorities sorted by agency).
  std::string to_toml() const;

  // DUPLICATE_OBJECT for an agency already pinned; WEAK_KEY for a verify key
  // that cannot be right (crypto/key_checks.h): the whole trust store is then
  // refused, as for any other bad authority entry.
  Status add(Authority authority);
  const Authority* authority(std::string_view agency) const override;
  const std::map<std::string, Authority, std::less<>>& authorities() const { return authorities_; }
  bool empty() const { return authorities_.empty(); }

 private:
  std::map<std::string, Authority, std::less<>> authorities_;
};

// Rewrites the trust store file at `path` with exactly `partners` marked as
// partner agencies, every other authority an ordinary one (keys and
// countries unchanged). For a world in which one machine plays several
// agencies, each broker with its own view of one directory (the demo, the
// tests); an operator pins a real partner with `tearline certs import`.
// The load's or the write's failure.
Status set_partner_agencies(const std::filesystem::path& path, const std::vector<std::string>& partners);

}  // namespace tearline::identity
