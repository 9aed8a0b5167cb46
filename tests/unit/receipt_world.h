// The world of the receipt tests (lib/receipt): the known-answer authority
// of report_kat_world.h, a broker credential (role broker), an originator
// and a reader, every key from a fixed seed; directories built with or
// without a revocation list of that authority.
#pragma once

#include <optional>
#include <vector>

#include "identity/directory.h"
#include "identity/objects.h"
#include "report_kat_world.h"

namespace tearline::testing::receipts {
namespace v1 = tearline::v1;
using kat::kNow;
using kat::seed;

struct Node {
  std::string id;
  std::vector<std::string> roles;
  std::uint64_t serial;
  crypto::SigningKey signing;
};

struct ReceiptWorld {
  crypto::SigningKey authority = crypto::SigningKey::from_seed(seed("authority KAT"));
  identity::Authority agency{"KAT", "COL", authority.public_key()};
  Node broker{"kat-broker", {"broker"}, 10, crypto::SigningKey::from_seed(seed("broker signing"))};
  Node other_broker{"kat-broker-2", {"broker"}, 11, crypto::SigningKey::from_seed(seed("other broker signing"))};
  Node reader{"kat-reader", {"analyst"}, 12, crypto::SigningKey::from_seed(seed("reader signing"))};

  v1::SignedObject credential(const Node& n) const {
    v1::CredentialBody b;
    b.set_format_version(1);
    b.set_node_id(n.id);
    b.set_agency("KAT");
    b.set_country("COL");
    b.set_clearance(v1::SECRET);
    for (const auto& r : n.roles) b.add_roles(r);
    auto vk = n.signing.public_key();
    b.set_signing_key(vk.bytes.data(), 32);
    b.set_sealing_key(vk.bytes.data(), 32);    // any 32 bytes; not used here
    b.set_transport_key(vk.bytes.data(), 32);  // idem
    b.set_serial(n.serial);
    b.set_not_before(kNow - 3600);
    b.set_not_after(kNow + 86400);
    return identity::sign_credential(b, agency, authority);
  }

  // `revoked`: entries of a KAT revocation list (none: no list).
  identity::DirectoryPtr directory(const std::vector<v1::RevokedCredential>& revoked = {},
                                   const std::vector<std::uint64_t>& legacy = {}) const {
    identity::TrustStore trust;
    REQUIRE(trust.add(agency).is_ok());
    identity::Directory::Sources src;
    for (const Node* n : {&broker, &other_broker, &reader}) {
      src.credentials.emplace_back(n->id + ".cred", serialize_canonical(credential(*n)));
    }
    if (!revoked.empty() || !legacy.empty()) {
      v1::RevocationListBody body;
      body.set_format_version(1);
      body.set_agency("KAT");
      body.set_number(1);
      body.set_issued_at(kNow);
      for (const auto& r : revoked) *body.add_revoked_credentials() = r;
      for (auto s : legacy) body.add_revoked_serials(s);
      src.revocation_lists.emplace_back("KAT.crl",
                                        serialize_canonical(identity::sign_revocation_list(body, agency, authority)));
    }
    identity::LoadReport report;
    auto d = identity::Directory::build(std::move(trust), src, kNow, &report);
    REQUIRE(report.rejected.empty());
    return d;
  }
};

inline v1::RevokedCredential revoked(std::uint64_t serial, v1::RevocationReason reason, std::int64_t at = 0) {
  v1::RevokedCredential r;
  r.set_serial(serial);
  r.set_reason(reason);
  r.set_compromised_at(at);
  return r;
}

inline crypto::Digest digest_of(std::string_view what) { return crypto::blake2b_256(as_bytes(std::string(what))); }

}  // namespace tearline::testing::receipts
