#include "broker/zap_handler.h"

#include <cstring>
#include <vector>

#include "crypto/keys.h"
#include "wire/frame.h"

namespace tearline::broker {
namespace {

// Not a ZAP status code (RFC 27 allows 200, 300, 400, 500): libzmq 4.3.4
// fails the handshake as a protocol error (ZMQ_PROTOCOL_ERROR_ZAP_INVALID_
// STATUS_CODE) and closes the connection at once, sending nothing. A valid
// 300 closes it only when the reply is read before INITIATE's processing
// ends; otherwise the connection, like one told 400, waits for
// ZMQ_HANDSHAKE_IVL (zap_client.cpp, stream_engine_base.cpp).
constexpr const char* kCloseAtOnce = "000";

}  // namespace

ZapHandler::ZapHandler(zmq::context_t& context, const TrustState& trust, const Clock& clock, DecisionHook hook)
    : socket_(context, zmq::socket_type::rep), trust_(trust), clock_(clock), hook_(std::move(hook)) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.set(zmq::sockopt::rcvtimeo, 100);
  socket_.bind("inproc://zeromq.zap.01");
  thread_ = std::thread([this] { run(); });
}

ZapHandler::~ZapHandler() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void ZapHandler::run() {
  while (!stop_) {
    std::vector<zmq::message_t> request;
    zmq::recv_result_t got;
    try {
      got = zmq::recv_multipart(socket_, std::back_inserter(request));
    } catch (const zmq::error_t&) {
      return;  // context terminated
    }
    if (!got) continue;  // timeout: check stop_
    // version, request id, domain, address, routing id, mechanism, credentials...
    std::string status = "400", text = "refused", user_id;
    std::string who = "unknown key";
    if (request.size() >= 6 && request[0].to_string() == "1.0") {
      const std::string domain = request[2].to_string();
      const std::string mechanism = request[5].to_string();
      if (domain != wire::kZapDomain) {
        text = "domain '" + domain + "' is not tearline's";
      } else if (mechanism != "CURVE" || request.size() != 7 || request[6].size() != 32) {
        text = "only CURVE is accepted";
      } else {
        crypto::TransportPublicKey key;
        std::memcpy(key.bytes.data(), request[6].data(), 32);
        who = "key " + crypto::to_z85(key);
        TrustSnapshotPtr snap = trust_.current();
        const identity::Credential* node = snap ? snap->directory->node_by_transport_key(key) : nullptr;
        if (node == nullptr) {
          text = "transport key is not in any credential";
        } else {
          who = node->node_id;
          Status valid = snap->check_session_node(node->node_id, clock_.now_seconds());
          if (valid) {
            status = "200";
            text = "OK";
            user_id = node->node_id;
          } else {
            text = valid.to_string();
          }
        }
      }
    } else {
      text = "malformed ZAP request";
    }
    const std::string address = request.size() > 3 ? request[3].to_string() : std::string();
    if (hook_) hook_(who, address, status == "200", text);
    // Beyond the budget of ERRORs, close at once (refusal_notice.h). The
    // text and User-Id frames go empty: libzmq 4.3.4 closes only the first
    // frame of a reply it rejects (zap_client.cpp: close_and_return(msg, -1)
    // picks the one-message overload), so a frame too long to be stored in
    // the message itself (over 33 bytes) would leak with each such reply.
    if (status != "200" && !notices_.tell(address, clock_.steady_ms())) {
      status = kCloseAtOnce;
      text.clear();
      user_id.clear();
    }
    std::vector<zmq::const_buffer> reply;
    const std::string version = "1.0";
    const std::string request_id = request.size() > 1 ? request[1].to_string() : std::string();
    reply.emplace_back(zmq::buffer(version));
    reply.emplace_back(zmq::buffer(request_id));
    reply.emplace_back(zmq::buffer(status));
    reply.emplace_back(zmq::buffer(text));
    reply.emplace_back(zmq::buffer(user_id));
    reply.emplace_back(nullptr, 0);
    try {
      zmq::send_multipart(socket_, reply);
    } catch (const zmq::error_t&) {
      return;
    }
  }
}

}  // namespace tearline::broker
