// The raw-frame side of the protocol state tests (test_protocol_states, the
// protocol_states_*.cc files; protocol_states_test.cc says what they check).
//
// Frames travel over Wire, a CURVE DEALER of one demo node that says nothing
// until told to. The client Session cannot be used: it says HELLO as it
// connects (no NEW session), sends one part per message, and keeps DELIVERs
// and its own PINGs from its caller. What the broker sends is described in
// the words of the state table. Every helper asserts with Catch2 in the test
// that calls it.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "broker/config.h"
#include "client/connection.h"
#include "identity/pki.h"
#include "receipt/delivery.h"
#include "report/builder.h"
#include "support/broker_fixture.h"
#include "support/e2e_helpers.h"
#include "wire/frame.h"

namespace tearline::protocol_states {

namespace v1 = tearline::v1;
using testing::BrokerFixture;

inline constexpr int kWaitMs = 5000;  // for an answer that should come
inline constexpr int kQuietMs = 500;  // for "nothing": followed by a sentinel that must be answered
inline constexpr std::string_view kBrokerId = "tearline-broker";  // the demo roster's [broker]

// ---- Wire: raw frames to and from the broker ------------------------------------------

// One connection of a demo node: CURVE with the node's transport key, and
// nothing sent until the test sends it (the broker creates the session, in
// NEW, on the first message). Every frame the broker sends is returned,
// DELIVERs included.
class Wire {
 public:
  // tiny_buffers: the smallest receive queue and TCP buffer, so that a Wire
  // that does not read makes the broker queue frames soon (slow consumer).
  Wire(const BrokerFixture& fx, const std::string& node, bool tiny_buffers = false) {
    auto material = identity::load_node_material(fx.pki(), node, SystemClock::instance().now_seconds());
    INFO(material.status().to_string());
    REQUIRE(material);
    material_ = std::move(material).value();
    auto broker_key = client::read_broker_key(fx.pki().broker_public());
    REQUIRE(broker_key);
    client::ConnectionOptions options;
    options.endpoint = fx.endpoint();
    options.node_id = node;
    options.immediate = false;  // the first message creates the session: queue it before the handshake
    options.high_water_mark = 100000;
    if (tiny_buffers) {
      options.receive_high_water_mark = 1;
      options.receive_buffer_bytes = 4096;
    }
    auto connection = client::Connection::open(options, *broker_key, material_.keys->transport);
    INFO(connection.status().to_string());
    REQUIRE(connection);
    connection_ = std::move(connection).value();
  }

  const std::string& node() const { return material_.node_id; }
  const crypto::SigningKey& signing_key() const { return material_.keys->signing; }

  // An ACK of `delivered` (DELIVERs of this session, broker seq ascending)
  // with this node's signed delivery receipt for broker `broker_id`, as the
  // client library sends it.
  v1::Frame ack(const std::vector<v1::Deliver>& delivered, std::string_view broker_id = kBrokerId) const {
    std::vector<receipt::DeliveredCopy> copies;
    copies.reserve(delivered.size());
    for (const auto& d : delivered) copies.push_back(receipt::describe_copy(d.broker_seq(), as_bytes(d.report())));
    const Bytes signed_receipt = receipt::sign_delivery(material_.node_id, broker_id, material_.keys->signing,
                                                        SystemClock::instance().now_ms(), copies);
    return wire::make_ack(copies.back().broker_seq, signed_receipt);
  }

  // Queues one single-part message; false when the socket would block.
  bool try_send(const Bytes& bytes) { return connection_->try_send(bytes).is_ok(); }
  void send(const Bytes& bytes) { REQUIRE(try_send(bytes)); }
  void send(const v1::Frame& frame) { send(wire::encode_frame(frame)); }
  // One message of several parts.
  void send_parts(const std::vector<Bytes>& parts) { REQUIRE(connection_->try_send_parts(parts).is_ok()); }

  // The next frame within timeout_ms; nullopt when none came.
  std::optional<v1::Frame> next(int timeout_ms) {
    auto event = connection_->next_event(timeout_ms);
    if (!event) return std::nullopt;
    INFO("the broker sent bytes that do not decode: " << event->status().to_string());
    REQUIRE(*event);
    return std::move(*event).value();
  }

  // A report of this node on `topic`, readable by `label`, signed and sealed.
  Bytes report(const std::string& topic, const policy::Label& label, const std::string& text) {
    report::ReportDraft draft = client::to_report_draft(testing::draft(topic, {{label, text}}));
    draft.created_at_ms = SystemClock::instance().now_ms();
    const auto now_us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    draft.sequence = last_sequence_ = std::max<std::uint64_t>(last_sequence_ + 1, static_cast<std::uint64_t>(now_us));
    auto built = report::build_report(draft, material_.node_id, material_.keys->signing, *material_.directory);
    INFO(built.status().to_string());
    REQUIRE(built);
    return built->bytes;
  }

 private:
  identity::NodeMaterial material_;
  std::uint64_t last_sequence_ = 0;
  std::unique_ptr<client::Connection> connection_;
};

// ---- what the broker sends, in the table's words ------------------------------------

// The name of a code number ("MALFORMED_FRAME"), or "code N".
std::string code_text(std::uint32_t number);

// "ERROR MALFORMED_FRAME / 0", "REJECTED TOPIC_INVALID / 3", "ACCEPTED / 3",
// "PONG 7", "DELIVER 12", "WELCOME", or "nothing".
std::string describe(const std::optional<v1::Frame>& f);

// Sends `frame` and describes the next frame the broker sends (within
// kWaitMs, or kQuietMs when nothing is expected).
std::string ask(Wire& w, const Bytes& frame, int wait_ms = kWaitMs);
std::string ask(Wire& w, const v1::Frame& frame, int wait_ms = kWaitMs);

// Bytes that do not decode as a frame.
extern const Bytes kGarbage;

Bytes hello();

// A HELLO of protocol version 2: answered ERROR UNSUPPORTED_VERSION in NEW
// and CLOSED, without a change of state.
Bytes hello_v2();

// The state of w's session, by a probe: "READY", "NEW", "CLOSED", or
// "unexpected ..." (the definition says how).
std::string state_of(Wire& w);

// ---- reaching a state ---------------------------------------------------------------

// A session in NEW (the probe's PING made the broker create it; the ZAP
// handshake is over when it answers).
std::unique_ptr<Wire> new_session(const BrokerFixture& fx, const std::string& node);
// A session after WELCOME (tiny_buffers: see Wire).
std::unique_ptr<Wire> ready_session(const BrokerFixture& fx, const std::string& node, bool tiny_buffers = false);
// Closes a READY session with TOO_MANY_FAILURES (bytes that do not decode).
void close_by_failures(Wire& w);
// A session in CLOSED, by close_by_failures.
std::unique_ptr<Wire> closed_session(const BrokerFixture& fx, const std::string& node);

using Limits = broker::Limits;
// A fixture configuration that changes only the broker's [limits].
BrokerFixture::Configure limits(void (*edit)(Limits&));

// A session in `state` ("NEW", "READY" or "CLOSED"). CLOSED is reached by
// failures: lower max_failures, and set failure_cooldown_ms to 0 where a
// HELLO must pass afterwards.
std::unique_ptr<Wire> session_in(const std::string& state, const BrokerFixture& fx, const std::string& node);

// Readable by the DEA and DIRAN nodes of the demo (SECRET, COL and USA);
// dea-bogota-analyst may publish on intel.>, everyone may subscribe to it.
extern const policy::Label kShared;
extern const std::string kPublisher;
extern const std::string kReader;

// Publishes one report on intel.finance and returns its broker_seq.
std::uint64_t publish(Wire& publisher, std::uint64_t request_id, const std::string& text);

// Sends `frame` on `w`, which does not read, until the broker closes the
// session as a slow consumer. Returns how many were sent.
std::size_t flood_until_closed(const BrokerFixture& fx, Wire& w, const Bytes& frame);

// Reads what the broker sent to a Wire that did not read: as long as it is
// `answer`, then the first other frame (or "nothing").
std::string first_after(Wire& w, const std::string& answer);

// Rows whose State cell is "NEW, READY": the input in each of those states.
void in_new_and_ready(const BrokerFixture::Configure& configure,
                      const std::function<void(Wire&, const std::string& state)>& check);

}  // namespace tearline::protocol_states
