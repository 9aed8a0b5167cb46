#include "crypto/key_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "base/files.h"

namespace tearline::crypto {
namespace {

constexpr std::size_t kMagicBytes = 8;
constexpr char kAuthorityMagic[] = "TLAUTH1\n";
constexpr char kNodeMagic[] = "TLNODE1\n";
constexpr char kBrokerMagic[] = "TLBRKR1\n";

// Writes magic || parts with mode 0600, atomically. The assembled buffer is
// sodium memory and wiped.
Status write_secret(const std::filesystem::path& path, const char* magic, std::initializer_list<ByteView> parts) {
  std::size_t total = kMagicBytes;
  for (auto p : parts) total += p.size();
  auto* buf = static_cast<std::uint8_t*>(secure_alloc(total));
  std::memcpy(buf, magic, kMagicBytes);
  std::size_t at = kMagicBytes;
  for (auto p : parts) {
    std::memcpy(buf + at, p.data(), p.size());
    at += p.size();
  }
  Status s = write_file_atomic(path, ByteView(buf, total), 0600);
  secure_free(buf);
  return s;
}

// Reads exactly magic || payload_size bytes into sodium memory after checking
// the file's mode. On success *out owns the payload (caller frees with secure_free).
Status read_secret(const std::filesystem::path& path, const char* magic, std::size_t payload_size, std::uint8_t** out) {
  const std::string name = path.string();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::fail(Code::KEY_FILE, "cannot open key file " + name + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::fail(Code::KEY_FILE, "key file " + name + " is not a regular file");
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Status::fail(Code::KEY_FILE, "key file " + name + " has mode " + mode +
                                            "; secret keys must not be group- or world-accessible (chmod 600)");
  }
  const std::size_t total = kMagicBytes + payload_size;
  if (static_cast<std::size_t>(st.st_size) != total) {
    ::close(fd);
    return Status::fail(Code::KEY_FILE, "key file " + name + " has " + std::to_string(st.st_size) +
                                            " bytes, expected " + std::to_string(total));
  }
  auto* buf = static_cast<std::uint8_t*>(secure_alloc(total));
  std::size_t got = 0;
  while (got < total) {
    ssize_t n = ::read(fd, buf + got, total - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (got != total || std::memcmp(buf, magic, kMagicBytes) != 0) {
    secure_free(buf);
    return Status::fail(Code::KEY_FILE,
                        "key file " + name + " is not a " + std::string(magic, kMagicBytes - 1) + " key file");
  }
  *out = buf;
  return Status::ok();
}

}  // namespace

Status write_authority_key(const std::filesystem::path& path, const SigningKey& key) {
  return write_secret(path, kAuthorityMagic, {key.secret().view()});
}

Result<SigningKey> read_authority_key(const std::filesystem::path& path) {
  std::uint8_t* buf = nullptr;
  Status s = read_secret(path, kAuthorityMagic, 64, &buf);
  if (!s) return s;
  auto key = SigningKey::from_secret(ByteView(buf + kMagicBytes, 64));
  secure_free(buf);
  return key;
}

Status write_node_keys(const std::filesystem::path& path, const NodeSecrets& keys) {
  return write_secret(path, kNodeMagic,
                      {keys.signing.secret().view(), keys.sealing.secret().view(), keys.transport.secret().view()});
}

Result<NodeSecrets> read_node_keys(const std::filesystem::path& path) {
  std::uint8_t* buf = nullptr;
  Status s = read_secret(path, kNodeMagic, 64 + 32 + 32, &buf);
  if (!s) return s;
  const std::uint8_t* p = buf + kMagicBytes;
  auto signing = SigningKey::from_secret(ByteView(p, 64));
  auto sealing = SealingKey::from_secret(ByteView(p + 64, 32));
  auto transport = TransportKey::from_secret(ByteView(p + 96, 32));
  secure_free(buf);
  if (!signing || !sealing || !transport)
    return Status::fail(Code::KEY_FILE, "node key file " + path.string() + " is corrupt");
  return NodeSecrets{std::move(signing).value(), std::move(sealing).value(), std::move(transport).value()};
}

Status write_broker_keys(const std::filesystem::path& path, const BrokerSecrets& keys) {
  return write_secret(path, kBrokerMagic, {keys.transport.secret().view(), keys.audit.secret().view()});
}

Result<BrokerSecrets> read_broker_keys(const std::filesystem::path& path) {
  std::uint8_t* buf = nullptr;
  Status s = read_secret(path, kBrokerMagic, 32 + 64, &buf);
  if (!s) return s;
  const std::uint8_t* p = buf + kMagicBytes;
  auto transport = TransportKey::from_secret(ByteView(p, 32));
  auto audit = SigningKey::from_secret(ByteView(p + 32, 64));
  secure_free(buf);
  if (!transport || !audit) return Status::fail(Code::KEY_FILE, "broker key file " + path.string() + " is corrupt");
  return BrokerSecrets{std::move(transport).value(), std::move(audit).value()};
}

}  // namespace tearline::crypto
