// The known-answer world of the report vectors (tests/vectors/report_v*.txt):
// keys from fixed seeds, a deterministic "random" source, one originator and
// one reader under a test authority.
#pragma once

#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <string>

#include "base/canonical_proto.h"
#include "crypto/hash.h"
#include "crypto/key_file.h"
#include "identity/directory.h"
#include "identity/objects.h"
#include "identity/trust_store.h"
#include "report/builder.h"

namespace tearline::testing::kat {
namespace v1 = tearline::v1;

inline Bytes seed(std::string_view name) {
  auto d = crypto::blake2b_256(as_bytes("tearline test seed " + std::string(name)));
  return Bytes(d.begin(), d.end());
}

// Deterministic "randomness": BLAKE2b-256("tearline test rng" || u64 counter), concatenated.
struct CountingRng {
  std::uint64_t counter = 0;
  void operator()(std::uint8_t* out, std::size_t n) {
    std::size_t done = 0;
    while (done < n) {
      ByteWriter w;
      w.raw(std::string_view("tearline test rng"));
      w.u64(counter++);
      auto d = crypto::blake2b_256(w.bytes());
      std::size_t take = std::min(n - done, d.size());
      std::copy(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(take), out + done);
      done += take;
    }
  }
};

inline constexpr std::int64_t kNow = 1780272000;  // 2026-06-01T00:00:00Z

struct World {
  crypto::SigningKey authority = crypto::SigningKey::from_seed(seed("authority KAT"));
  crypto::SigningKey signing = crypto::SigningKey::from_seed(seed("node signing"));
  crypto::SealingKey sealing = crypto::SealingKey::from_seed(seed("node sealing"));
  crypto::SealingKey reader = crypto::SealingKey::from_seed(seed("reader sealing"));
  identity::Authority agency{"KAT", "COL", authority.public_key()};

  v1::SignedObject credential() const {
    v1::CredentialBody b;
    b.set_format_version(1);
    b.set_node_id("kat-originator");
    b.set_agency("KAT");
    b.set_country("COL");
    b.set_clearance(v1::SECRET);
    b.add_roles("analyst");
    auto vk = signing.public_key();
    b.set_signing_key(vk.bytes.data(), 32);
    b.set_sealing_key(sealing.public_key().bytes.data(), 32);
    b.set_transport_key(sealing.public_key().bytes.data(), 32);  // any 32 bytes; not used here
    b.set_serial(1);
    b.set_not_before(kNow - 3600);
    b.set_not_after(kNow + 86400);
    return identity::sign_credential(b, agency, authority);
  }

  identity::DirectoryPtr directory() const {
    identity::TrustStore trust;
    REQUIRE(trust.add(agency).is_ok());
    identity::Directory::Sources src;
    src.credentials.emplace_back("kat.cred", serialize_canonical(credential()));
    identity::LoadReport report;
    auto d = identity::Directory::build(std::move(trust), src, kNow, &report);
    REQUIRE(report.rejected.empty());
    return d;
  }

  report::ReportDraft draft() const {
    report::ReportDraft d;
    d.topic = "intel.kat";
    d.created_at_ms = kNow * 1000;
    d.sequence = 1;
    d.sections.push_back({policy::Label{v1::SECRET, {"COL"}, {}, true}, to_bytes("section one: for COL only")});
    d.sections.push_back(
        {policy::Label{v1::CONFIDENTIAL, {"COL", "USA"}, {}, false}, to_bytes("section two: tear line")});
    return d;
  }
};

// A vector file: `name = hex` lines; '#' comments and empty lines skipped.
inline std::map<std::string, std::string> read_vector_file(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  std::map<std::string, std::string> kv;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto eq = line.find(" = ");
    REQUIRE(eq != std::string::npos);
    kv[line.substr(0, eq)] = line.substr(eq + 3);
  }
  return kv;
}

inline Bytes unhex(const std::string& s) {
  Bytes b;
  REQUIRE(from_hex(s, &b));
  return b;
}

}  // namespace tearline::testing::kat
