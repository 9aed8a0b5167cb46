// RawCurvePeer: a CURVE client written on a bare TCP socket (ZMTP 3.0, RFC 23;
// CurveZMQ, RFC 26), for tests that need a peer libzmq cannot play: one that
// finishes the handshake up to INITIATE with any client key and then ignores
// whatever the broker answers, keeping its end open. With it a test sees
// whether the broker itself closes a refused connection (issue 16 point 7;
// broker/refusal_notice.h).
//
// Blocking calls with timeouts; one thread at a time.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace tearline::testing {

class RawCurvePeer {
 public:
  // Connects to 127.0.0.1:`port` and runs the handshake as far as sending
  // INITIATE with a fresh random client key, for the server key `server_key`
  // (32 bytes). Returns false (with why()) when the broker closed or failed
  // the handshake before that.
  bool open(std::uint16_t port, const std::array<std::uint8_t, 32>& server_key, int timeout_ms);
  // After open(): waits up to timeout_ms in all for the broker to close the
  // connection, reading (and keeping) whatever it sends first. True when the
  // broker closed it.
  bool closed_by_broker(int timeout_ms);
  // Whether the bytes the broker sent after INITIATE hold a ZMTP ERROR command.
  bool got_error() const;
  const std::string& why() const { return why_; }

  RawCurvePeer() = default;
  ~RawCurvePeer();
  RawCurvePeer(const RawCurvePeer&) = delete;
  RawCurvePeer& operator=(const RawCurvePeer&) = delete;

 private:
  bool send_all(const std::string& bytes);
  bool read_exact(std::size_t n, std::string& out, int timeout_ms);
  bool read_command(std::string& body, int timeout_ms);

  int fd_ = -1;
  std::string after_initiate_;
  std::string why_;
};

}  // namespace tearline::testing
