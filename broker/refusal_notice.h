// RefusalNotices: which refused CURVE handshakes are told why (issue 16
// point 7; docs/reliability.md, "Floods and session churn").
//
// libzmq 4.3.4 answers a ZAP reply 400 with a ZMTP ERROR that names the
// reason, and then keeps the connection until the peer closes it or
// ZMQ_HANDSHAKE_IVL passes (stream_engine_base.cpp: after the ERROR nothing
// closes the engine). A libzmq client closes as soon as it reads the ERROR;
// a peer that ignores it holds one of the broker's descriptors for
// handshake_timeout_ms. The ZAP handler can instead have libzmq close the
// connection at once, without an ERROR (zap_handler.cc, kCloseAtOnce).
//
// So each source address has a budget of ERRORs, a token bucket of `burst`
// refilled at `per_second`, and all addresses together share one more, of
// `total_burst` refilled at `total_per_second`: a refusal within both is told
// why, any other is closed at once. A node refused now and then still reads
// why; a flood holds at most total_burst + total_per_second x
// handshake_timeout_ms / 1000 descriptors in refused connections, whatever
// its rate and however many addresses it comes from (burst + per_second x
// that time from one address).
//
// Memory is bounded by `max_addresses`. When that many addresses are
// tracked, those whose buckets are full again are forgotten (a scan at
// most every 250 ms); if none is, a new address is closed at once without
// an ERROR.
//
// Times are a monotonic clock's milliseconds (Clock::steady_ms). Not
// thread-safe: the ZAP handler's thread alone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

namespace tearline::broker {

class RefusalNotices {
 public:
  static constexpr double kBurst = 32;
  static constexpr double kPerSecond = 4;
  static constexpr double kTotalBurst = 128;
  static constexpr double kTotalPerSecond = 32;
  static constexpr std::size_t kMaxAddresses = 4096;

  RefusalNotices(double burst = kBurst, double per_second = kPerSecond, std::size_t max_addresses = kMaxAddresses,
                 double total_burst = kTotalBurst, double total_per_second = kTotalPerSecond);

  // True: tell this refusal from `address` why (ZAP 400, ERROR); false:
  // close it at once. Takes a token from the address's bucket and from the
  // shared one when it answers true.
  bool tell(const std::string& address, std::int64_t steady_ms);
  std::size_t tracked() const { return buckets_.size(); }

 private:
  struct Bucket {
    double tokens = 0;
    std::int64_t at_ms = 0;  // when `tokens` was computed
  };
  static double refilled(const Bucket& b, std::int64_t steady_ms, double burst, double per_ms);
  void forget_full(std::int64_t steady_ms);

  static constexpr std::int64_t kScanIntervalMs = 250;
  const double burst_, per_ms_;
  const std::size_t max_addresses_;
  const double total_burst_, total_per_ms_;
  Bucket total_;
  std::unordered_map<std::string, Bucket> buckets_;
  std::optional<std::int64_t> scanned_ms_;  // the last forget_full() scan
};

}  // namespace tearline::broker
