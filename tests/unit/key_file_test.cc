// lib/crypto/key_file: secret key files are written 0600 and refused when
// group- or world-accessible, of the wrong kind, or of the wrong size.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include "base/files.h"
#include "crypto/key_file.h"
#include "crypto/signing.h"
#include "support/temp_dir.h"

using namespace tearline;
using namespace tearline::crypto;
namespace fs = std::filesystem;

namespace {

unsigned mode_of(const fs::path& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

void set_mode(const fs::path& path, unsigned mode) { REQUIRE(::chmod(path.c_str(), mode) == 0); }

Bytes read_all(const fs::path& path) {
  auto bytes = read_file(path);
  REQUIRE(bytes);
  return *bytes;
}

void write_raw(const fs::path& path, const Bytes& bytes, unsigned mode) {
  REQUIRE(write_file_atomic(path, bytes, mode));
  set_mode(path, mode);
}

NodeSecrets fresh_node() { return {SigningKey::generate(), SealingKey::generate(), TransportKey::generate()}; }

}  // namespace

TEST_CASE("key files are written with mode 0600 and the documented layout") {
  testing::TempDir dir;
  const SigningKey authority = SigningKey::generate();
  const NodeSecrets node = fresh_node();
  const BrokerSecrets broker{TransportKey::generate(), SigningKey::generate()};
  REQUIRE(write_authority_key(dir.path() / "a.key", authority));
  REQUIRE(write_node_keys(dir.path() / "n.key", node));
  REQUIRE(write_broker_keys(dir.path() / "b.key", broker));

  CHECK(mode_of(dir.path() / "a.key") == 0600);
  CHECK(mode_of(dir.path() / "n.key") == 0600);
  CHECK(mode_of(dir.path() / "b.key") == 0600);

  const Bytes a = read_all(dir.path() / "a.key");
  REQUIRE(a.size() == 8 + 64);
  CHECK(to_string(ByteView(a.data(), 8)) == "TLAUTH1\n");
  CHECK(Bytes(a.begin() + 8, a.end()) == Bytes(authority.secret().view().begin(), authority.secret().view().end()));

  const Bytes n = read_all(dir.path() / "n.key");
  REQUIRE(n.size() == 8 + 64 + 32 + 32);
  CHECK(to_string(ByteView(n.data(), 8)) == "TLNODE1\n");
  CHECK(to_hex(ByteView(n.data() + 8 + 32, 32)) == to_hex(node.signing.public_key().view()));  // seed || pk
  CHECK(to_hex(ByteView(n.data() + 72, 32)) == to_hex(node.sealing.secret().view()));
  CHECK(to_hex(ByteView(n.data() + 104, 32)) == to_hex(node.transport.secret().view()));

  const Bytes b = read_all(dir.path() / "b.key");
  REQUIRE(b.size() == 8 + 32 + 64);
  CHECK(to_string(ByteView(b.data(), 8)) == "TLBRKR1\n");
  CHECK(to_hex(ByteView(b.data() + 8, 32)) == to_hex(broker.transport.secret().view()));
}

TEST_CASE("key files round-trip") {
  testing::TempDir dir;
  const SigningKey authority = SigningKey::generate();
  REQUIRE(write_authority_key(dir.path() / "a.key", authority));
  auto a = read_authority_key(dir.path() / "a.key");
  REQUIRE(a);
  CHECK(a->public_key() == authority.public_key());
  // The key read back signs what the original verifies.
  const Bytes msg = to_bytes("m");
  CHECK(verify(authority.public_key(), tags::kCredential, msg, sign(*a, tags::kCredential, msg)));

  const NodeSecrets node = fresh_node();
  REQUIRE(write_node_keys(dir.path() / "n.key", node));
  auto n = read_node_keys(dir.path() / "n.key");
  REQUIRE(n);
  CHECK(n->signing.public_key() == node.signing.public_key());
  CHECK(n->sealing.public_key() == node.sealing.public_key());
  CHECK(n->transport.public_key() == node.transport.public_key());

  const BrokerSecrets broker{TransportKey::generate(), SigningKey::generate()};
  REQUIRE(write_broker_keys(dir.path() / "b.key", broker));
  auto b = read_broker_keys(dir.path() / "b.key");
  REQUIRE(b);
  CHECK(b->transport.public_key() == broker.transport.public_key());
  CHECK(b->audit.public_key() == broker.audit.public_key());
}

TEST_CASE("a secret key file accessible to group or others is refused") {
  struct Row {
    unsigned mode;
    bool accepted;
  };
  const Row rows[] = {
      {0600, true},  {0400, true},  {0700, true},                                 // owner only
      {0644, false}, {0640, false}, {0604, false}, {0660, false}, {0606, false},  // readable by others
      {0620, false}, {0602, false}, {0610, false}, {0601, false}, {0666, false},  // any other bit
  };
  testing::TempDir dir;
  const fs::path a = dir.path() / "a.key", n = dir.path() / "n.key", b = dir.path() / "b.key";
  REQUIRE(write_authority_key(a, SigningKey::generate()));
  REQUIRE(write_node_keys(n, fresh_node()));
  REQUIRE(write_broker_keys(b, BrokerSecrets{TransportKey::generate(), SigningKey::generate()}));
  for (const Row& row : rows) {
    INFO("mode " << std::oct << row.mode);
    set_mode(a, row.mode);
    set_mode(n, row.mode);
    set_mode(b, row.mode);
    auto ra = read_authority_key(a);
    auto rn = read_node_keys(n);
    auto rb = read_broker_keys(b);
    if (row.accepted) {
      CHECK(ra.is_ok());
      CHECK(rn.is_ok());
      CHECK(rb.is_ok());
    } else {
      CHECK(ra.code() == Code::KEY_FILE);
      CHECK(rn.code() == Code::KEY_FILE);
      CHECK(rb.code() == Code::KEY_FILE);
      CHECK_THAT(ra.status().to_string(), Catch::Contains("has mode"));
    }
  }
}

TEST_CASE("a key file of the wrong kind, size or shape is refused") {
  testing::TempDir dir;
  const fs::path a = dir.path() / "a.key", n = dir.path() / "n.key", b = dir.path() / "b.key";
  REQUIRE(write_authority_key(a, SigningKey::generate()));
  REQUIRE(write_node_keys(n, fresh_node()));
  REQUIRE(write_broker_keys(b, BrokerSecrets{TransportKey::generate(), SigningKey::generate()}));
  const Bytes good = read_all(a);

  SECTION("another kind's file (magic and size differ)") {
    CHECK(read_authority_key(n).code() == Code::KEY_FILE);
    CHECK(read_node_keys(a).code() == Code::KEY_FILE);
    CHECK(read_broker_keys(n).code() == Code::KEY_FILE);
  }
  SECTION("right size, wrong magic") {
    for (std::size_t at : {std::size_t{0}, std::size_t{6}, std::size_t{7}}) {
      Bytes bad = good;
      bad[at] ^= 0x01;
      write_raw(a, bad, 0600);
      INFO("magic byte " << at);
      CHECK(read_authority_key(a).code() == Code::KEY_FILE);
    }
  }
  SECTION("truncated or extended") {
    write_raw(a, Bytes(good.begin(), good.end() - 1), 0600);
    CHECK(read_authority_key(a).code() == Code::KEY_FILE);
    Bytes longer = good;
    longer.push_back(0);
    write_raw(a, longer, 0600);
    CHECK(read_authority_key(a).code() == Code::KEY_FILE);
    write_raw(a, Bytes(), 0600);
    CHECK(read_authority_key(a).code() == Code::KEY_FILE);
  }
  SECTION("missing file") { CHECK(read_authority_key(dir.path() / "none.key").code() == Code::KEY_FILE); }
  SECTION("a directory") {
    fs::create_directory(dir.path() / "d.key");
    set_mode(dir.path() / "d.key", 0700);
    CHECK(read_authority_key(dir.path() / "d.key").code() == Code::KEY_FILE);
  }
}

TEST_CASE("writing a key file replaces a loose-mode file with a 0600 one") {
  testing::TempDir dir;
  const fs::path a = dir.path() / "a.key";
  write_raw(a, to_bytes("old"), 0644);
  REQUIRE(write_authority_key(a, SigningKey::generate()));
  CHECK(mode_of(a) == 0600);
  CHECK(read_authority_key(a).is_ok());
}
