#include "base/ports.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <utility>

namespace tearline {

namespace {

// Where the kernel picks the source ports of outgoing connections
// (net.ipv4.ip_local_port_range); Linux's default when it cannot be read.
std::pair<int, int> ephemeral_range() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 32768, high = 60999;
  if (!(in >> low >> high) || low < 1 || high < low) return {32768, 60999};
  return {low, high};
}

// Binds `port` on 127.0.0.1 (0: the kernel's choice) and returns the port
// bound, or -1 with errno set.
int try_bind(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  socklen_t len = sizeof addr;
  int bound = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    bound = static_cast<int>(ntohs(addr.sin_port));
  }
  const int saved = errno;
  ::close(fd);
  errno = saved;
  return bound;
}

}  // namespace

Result<int> free_loopback_port() {
  // Below the ephemeral range when there is room: a client that connects
  // while nothing listens on a port inside it can be given that very port
  // as its source, and connect to itself (TCP simultaneous open).
  const auto [low, high] = ephemeral_range();
  if (low > 10100) {
    std::mt19937 rng(std::random_device{}());
    std::uniform_int_distribution<int> pick(10000, low - 1);
    for (int attempt = 0; attempt < 64; ++attempt) {
      if (const int port = try_bind(pick(rng)); port > 0) return port;
    }
  }
  if (const int port = try_bind(0); port > 0) return port;
  return Status::fail(Code::IO_ERROR, std::string("cannot find a free port: ") + std::strerror(errno));
}

}  // namespace tearline
