#include "support/raw_curve_peer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace tearline::testing {
namespace {

constexpr std::size_t kGreetingBytes = 64;

std::string greeting() {
  std::string g(kGreetingBytes, '\0');
  g[0] = '\xFF';
  g[9] = '\x7F';
  g[10] = 3;  // ZMTP 3.0
  std::memcpy(&g[12], "CURVE", 5);
  return g;  // as-server 0, filler zeros
}

void put_u64(std::uint8_t* out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) out[i] = static_cast<std::uint8_t>(v & 0xFF);
}

// A ZMTP command frame: flags 0x04 (short) or 0x06 (long), size, body.
std::string command_frame(const std::string& body) {
  std::string frame;
  if (body.size() <= 255) {
    frame.push_back('\x04');
    frame.push_back(static_cast<char>(body.size()));
  } else {
    std::uint8_t size[8];
    put_u64(size, body.size());
    frame.push_back('\x06');
    frame.append(reinterpret_cast<const char*>(size), 8);
  }
  return frame + body;
}

const std::uint8_t* u8(const std::string& s) { return reinterpret_cast<const std::uint8_t*>(s.data()); }

}  // namespace

RawCurvePeer::~RawCurvePeer() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawCurvePeer::send_all(const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

bool RawCurvePeer::read_exact(std::size_t n, std::string& out, int timeout_ms) {
  out.clear();
  while (out.size() < n) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    char buf[512];
    const ssize_t got = ::recv(fd_, buf, std::min(sizeof buf, n - out.size()), 0);
    if (got <= 0) return false;
    out.append(buf, static_cast<std::size_t>(got));
  }
  return true;
}

bool RawCurvePeer::read_command(std::string& body, int timeout_ms) {
  std::string head;
  if (!read_exact(2, head, timeout_ms)) return false;
  std::size_t size = static_cast<std::uint8_t>(head[1]);
  if (head[0] == '\x06') {
    std::string rest;
    if (!read_exact(7, rest, timeout_ms)) return false;
    size = 0;
    for (char c : head.substr(1) + rest) size = (size << 8) | static_cast<std::uint8_t>(c);
  } else if (head[0] != '\x04') {
    return false;
  }
  return read_exact(size, body, timeout_ms);
}

bool RawCurvePeer::open(std::uint16_t port, const std::array<std::uint8_t, 32>& server_key, int timeout_ms) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    why_ = "connect failed";
    return false;
  }
  std::string peer_greeting;
  if (!send_all(greeting()) || !read_exact(kGreetingBytes, peer_greeting, timeout_ms)) {
    why_ = "no greeting";
    return false;
  }
  // The long-term key C (unknown to the broker) and the short-term key C'.
  std::uint8_t c_pub[32], c_sec[32], cs_pub[32], cs_sec[32];
  crypto_box_keypair(c_pub, c_sec);
  crypto_box_keypair(cs_pub, cs_sec);

  // HELLO: version, 72 bytes of padding, C', short nonce, Box[64 zeros](C'->S).
  std::uint8_t nonce[24], zeros[64] = {}, hello_box[80];
  std::memcpy(nonce, "CurveZMQHELLO---", 16);
  put_u64(nonce + 16, 1);
  if (crypto_box_easy(hello_box, zeros, sizeof zeros, nonce, server_key.data(), cs_sec) != 0) {
    why_ = "the server key is not a valid X25519 key";
    return false;
  }
  std::string hello("\x05HELLO\x01\x00", 8);
  hello.append(72, '\0');
  hello.append(reinterpret_cast<const char*>(cs_pub), 32);
  hello.append(reinterpret_cast<const char*>(nonce + 16), 8);
  hello.append(reinterpret_cast<const char*>(hello_box), 80);
  std::string welcome;
  if (!send_all(command_frame(hello)) || !read_command(welcome, timeout_ms) || welcome.size() != 168 ||
      welcome.compare(0, 8, "\x07WELCOME") != 0) {
    why_ = "no WELCOME";
    return false;
  }
  // WELCOME: long nonce, Box[S' + cookie](S->C').
  std::uint8_t welcome_nonce[24], welcome_plain[128];
  std::memcpy(welcome_nonce, "WELCOME-", 8);
  std::memcpy(welcome_nonce + 8, u8(welcome) + 8, 16);
  if (crypto_box_open_easy(welcome_plain, u8(welcome) + 24, 144, welcome_nonce, server_key.data(), cs_sec) != 0) {
    why_ = "WELCOME does not open";
    return false;
  }
  const std::uint8_t* ss_pub = welcome_plain;
  const std::uint8_t* cookie = welcome_plain + 32;

  // INITIATE: cookie, short nonce, Box[C + vouch nonce + vouch + metadata](C'->S'),
  // the vouch being Box[C' + S](C->S').
  std::uint8_t vouch_nonce[24], vouch_plain[64], vouch_box[80];
  std::memcpy(vouch_nonce, "VOUCH---", 8);
  randombytes_buf(vouch_nonce + 8, 16);
  std::memcpy(vouch_plain, cs_pub, 32);
  std::memcpy(vouch_plain + 32, server_key.data(), 32);
  if (crypto_box_easy(vouch_box, vouch_plain, sizeof vouch_plain, vouch_nonce, ss_pub, c_sec) != 0) {
    why_ = "the server's short-term key is not a valid X25519 key";
    return false;
  }
  std::string plain(reinterpret_cast<const char*>(c_pub), 32);
  plain.append(reinterpret_cast<const char*>(vouch_nonce + 8), 16);
  plain.append(reinterpret_cast<const char*>(vouch_box), 80);
  plain.append(
      std::string("\x0bSocket-Type\x00\x00\x00\x06"
                  "DEALER",
                  22));
  std::string initiate_box(plain.size() + crypto_box_MACBYTES, '\0');
  std::uint8_t initiate_nonce[24];
  std::memcpy(initiate_nonce, "CurveZMQINITIATE", 16);
  put_u64(initiate_nonce + 16, 2);
  if (crypto_box_easy(reinterpret_cast<std::uint8_t*>(initiate_box.data()), u8(plain), plain.size(), initiate_nonce,
                      ss_pub, cs_sec) != 0) {
    why_ = "the server's short-term key is not a valid X25519 key";
    return false;
  }
  std::string initiate("\x08INITIATE", 9);
  initiate.append(reinterpret_cast<const char*>(cookie), 96);
  initiate.append(reinterpret_cast<const char*>(initiate_nonce + 16), 8);
  initiate += initiate_box;
  if (!send_all(command_frame(initiate))) {
    why_ = "INITIATE not sent";
    return false;
  }
  return true;
}

bool RawCurvePeer::closed_by_broker(int timeout_ms) {
  for (;;) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    char buf[512];
    const ssize_t got = ::recv(fd_, buf, sizeof buf, 0);
    if (got <= 0) return true;  // EOF or reset: the broker closed its end
    after_initiate_.append(buf, static_cast<std::size_t>(got));
  }
}

bool RawCurvePeer::got_error() const {
  // A short command frame whose body starts with the name ERROR.
  return after_initiate_.size() >= 8 && after_initiate_[0] == '\x04' &&
         after_initiate_.compare(2, 6,
                                 "\x05"
                                 "ERROR") == 0;
}

}  // namespace tearline::testing
