// The protocol's limits and the v1 broker's defaults for them, in one place
// (docs/protocol.md, "Constants and limits"; tests/unit/wire_test.cc checks
// both tables against these values). The broker's configuration
// (broker/config.h, [limits]) starts from these defaults; a broker announces
// the frame and subscription limits it actually uses in WELCOME.
//
// Hard limits of the formats themselves are defined beside their grammar and
// only referenced here by name: sections and recipients per report in
// report/format.h (kMaxSections, kMaxRecipients), topic length and depth in
// policy/topic.h (kMaxTopicLength, kMaxTopicDepth). A broker may lower those,
// never raise them. Header only, no dependencies: constants only.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tearline::wire {

// ---- Frames ---------------------------------------------------------------

// Application limit on one frame's bytes; larger frames get ERROR FRAME_TOO_LARGE.
inline constexpr std::size_t kDefaultMaxFrameBytes = std::size_t{1} << 20;  // 1 MiB
// The transport limit (ZMQ_MAXMSGSIZE) for an application limit: above it
// libzmq drops the connection without any reply, so it sits well above the
// application limit to leave room for a polite FRAME_TOO_LARGE.
constexpr std::int64_t transport_max_message_bytes(std::size_t max_frame_bytes) {
  return static_cast<std::int64_t>(2 * max_frame_bytes + (std::size_t{64} << 10));
}
inline constexpr std::int64_t kDefaultTransportMaxMessageBytes =
    transport_max_message_bytes(kDefaultMaxFrameBytes);  // 2,162,688

// ---- Subscriptions --------------------------------------------------------

inline constexpr std::size_t kDefaultMaxSubscriptions = 256;  // distinct patterns per node
inline constexpr std::size_t kMaxPatternsPerRequest = 64;     // per SUBSCRIBE

// ---- Sessions -------------------------------------------------------------

// After this many consecutive failed requests (see counts_toward_failure_limit)
// the broker sends ERROR TOO_MANY_FAILURES and closes the session.
inline constexpr int kMaxConsecutiveFailures = 16;
// After TOO_MANY_FAILURES the node's HELLOs are refused this long.
inline constexpr std::int64_t kDefaultFailureCooldownMs = 10'000;

// PUBLISH replay window: created_at_ms within +-300 s of the broker's clock.
inline constexpr std::int64_t kDefaultReplayWindowMs = 300'000;

// Keepalive: a client pings after this long without sending anything; the
// broker forgets a session that has sent no frame for kSessionTimeoutMs.
inline constexpr std::int64_t kClientPingIntervalMs = 20'000;
inline constexpr std::int64_t kSessionTimeoutMs = 60'000;
// ZMQ_HANDSHAKE_IVL of the broker's socket.
inline constexpr int kDefaultHandshakeTimeoutMs = 5'000;

// READY sessions at once; a HELLO beyond it gets ERROR BROKER_BUSY.
inline constexpr std::size_t kDefaultMaxConnections = 1024;

// ---- Flow control ---------------------------------------------------------

// A session with more frames queued in the broker than this (its socket could
// not take them) is closed with SLOW_CONSUMER; the same queue in bytes.
inline constexpr std::size_t kDefaultMaxPendingDeliveries = 10'000;
inline constexpr std::size_t kDefaultMaxPendingBytes = std::size_t{64} << 20;  // 64 MiB

// PUBLISH per second per node (a token bucket) and the bucket's size; a
// PUBLISH finding no token gets REJECTED RATE_LIMITED.
inline constexpr double kDefaultPublishRate = 500;
inline constexpr double kDefaultPublishBurst = 100;
// RATE_LIMITED answers to one node within 1 s before it is cut off
// (TOO_MANY_FAILURES and the cooldown); 0: never.
inline constexpr std::size_t kDefaultMaxRateLimited = 2000;
// PUBLISHes of one node being verified at once; beyond: REJECTED BROKER_BUSY.
inline constexpr std::size_t kDefaultMaxInflightPerNode = 32;

}  // namespace tearline::wire
