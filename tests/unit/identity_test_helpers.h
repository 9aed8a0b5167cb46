// Helpers shared by the lib/identity tests (test_identity: the
// identity_*_test.cc files). Each case names the check it covers and asserts
// the exact reason code; each has a control showing the same object passes
// when the covered defect is absent, so removing the check fails it.
//
// Read-only cases use the shared DemoWorld; cases that change a PKI generate
// their own into a TempDir (FreshWorld). Header-only: each helper asserts
// with Catch2 in the test that calls it.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <optional>

#include "base/canonical_proto.h"
#include "base/files.h"
#include "crypto/key_file.h"
#include "crypto/signing.h"
#include "identity/directory.h"
#include "identity/pki.h"
#include "support/demo_world.h"
#include "support/temp_dir.h"

namespace tearline::identity_test {

using identity::Directory;
using identity::LoadReport;
using identity::PkiPaths;
using testing::DemoWorld;
using testing::kDemoNow;
using testing::TempDir;
namespace fs = std::filesystem;
namespace v1 = tearline::v1;
namespace tags = crypto::tags;

inline constexpr std::int64_t kDay = 86400;

inline const DemoWorld& world() { return DemoWorld::get(); }
inline const identity::TrustStore& demo_trust() { return world().directory()->trust(); }

inline Bytes read_bytes(const fs::path& path) {
  auto bytes = read_file(path);
  REQUIRE(bytes);
  return std::move(bytes).value();
}

inline void write_bytes(const fs::path& path, ByteView bytes) { REQUIRE(write_file_atomic(path, bytes, 0644)); }

inline v1::SignedObject envelope(ByteView bytes) {
  v1::SignedObject obj;
  REQUIRE(obj.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())));
  return obj;
}

inline Bytes body_of(const fs::path& path) {
  const v1::SignedObject obj = envelope(read_bytes(path));
  return to_bytes(obj.body());
}

// The demo authorities' secret keys, read once.
inline const crypto::SigningKey& key_of(std::string_view agency) {
  static const auto keys = [] {
    std::map<std::string, crypto::SigningKey, std::less<>> out;
    for (const auto& a : world().roster().agencies) {
      auto key = crypto::read_authority_key(world().pki().authority_key(a.id));
      if (!key) throw std::runtime_error(key.status().to_string());
      out.emplace(a.id, std::move(key).value());
    }
    return out;
  }();
  return keys.at(std::string(agency));
}

struct Signer {
  std::string agency;  // the name put in the Signature
  const crypto::SigningKey* key;
  std::string_view tag;
};

// A SignedObject over exactly `body`, signed by each signer as given.
inline Bytes make_signed(ByteView body, const std::vector<Signer>& signers) {
  v1::SignedObject obj;
  obj.set_body(body.data(), body.size());
  for (const auto& s : signers) {
    const crypto::Signature sig = crypto::sign(*s.key, s.tag, body);
    auto* p = obj.add_signatures();
    p->set_agency(s.agency);
    p->set_signature(sig.data(), sig.size());
  }
  return serialize_canonical(obj);
}

enum class Kind { kCredential, kCharter, kRevocationList };

inline Status verify_as(Kind kind, ByteView bytes, const identity::AuthorityLookup& trust) {
  switch (kind) {
    case Kind::kCredential: return identity::verify_credential(bytes, trust).status();
    case Kind::kCharter: return identity::verify_charter(bytes, trust).status();
    case Kind::kRevocationList: return identity::verify_revocation_list(bytes, trust).status();
  }
  return Status::fail(Code::INVALID_FIELD, "unknown kind");
}

// Builds a Directory from one object; the code of its first rejection, OK if
// it was not rejected.
inline Code first_rejection(Kind kind, const Bytes& bytes) {
  Directory::Sources sources;
  auto& list = kind == Kind::kCredential ? sources.credentials
               : kind == Kind::kCharter  ? sources.charters
                                         : sources.revocation_lists;
  list.emplace_back("object", bytes);
  LoadReport report;
  auto dir = Directory::build(demo_trust(), sources, kDemoNow, &report);
  REQUIRE(dir != nullptr);
  return report.rejected.empty() ? Code::OK : report.rejected.front().reason.code;
}

inline std::size_t find_in(const Bytes& hay, ByteView needle, std::size_t from = 0) {
  auto it = std::search(hay.begin() + static_cast<std::ptrdiff_t>(from), hay.end(), needle.begin(), needle.end());
  REQUIRE(it != hay.end());
  return static_cast<std::size_t>(it - hay.begin());
}

inline bool has_issue(const std::vector<identity::LoadIssue>& issues, std::string_view object, Code code,
                      std::string_view mentions = {}) {
  return std::any_of(issues.begin(), issues.end(), [&](const identity::LoadIssue& i) {
    return i.object == object && i.reason.code == code && i.reason.message.find(mentions) != std::string::npos;
  });
}

inline identity::DirectoryPtr load(const PkiPaths& pki, LoadReport* report, const Directory* previous = nullptr) {
  auto dir = Directory::load(pki.directory(), kDemoNow, report, previous);
  REQUIRE(dir);
  return std::move(dir).value();
}

inline std::uint64_t serial_of(const Directory& dir, std::string_view node) {
  const identity::Credential* c = dir.node(node);
  REQUIRE(c != nullptr);
  return c->serial;
}

// A private demo PKI for a test that changes it.
struct FreshWorld {
  TempDir dir{"tearline-identity"};
  PkiPaths pki{dir.path() / "pki"};
  FreshWorld() { DemoWorld::generate_into(pki.root()); }
};

}  // namespace tearline::identity_test
