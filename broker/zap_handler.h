// The ZAP handler (RFC 27): the one component that decides who may connect.
// It runs on its own thread, bound to inproc://zeromq.zap.01 in the broker's
// ZeroMQ context BEFORE the ROUTER socket binds, so no handshake can complete
// without it. Fail-closed: it admits a CURVE client only in domain "tearline"
// and only when its transport key belongs to a credential that is valid and
// unrevoked now; the reply's User-Id is that node's id, the only identity the
// broker ever uses. A refusal is a ZAP 400 (libzmq sends the client an ERROR
// naming the reason) within its address's budget of ERRORs; beyond it the
// reply makes libzmq close the connection at once (refusal_notice.h).
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "base/clock.h"
#include "broker/refusal_notice.h"
#include "broker/trust_state.h"

namespace tearline::broker {

class ZapHandler {
 public:
  // `on_decision(node_or_key, address, admitted, reason)` is called for each
  // handshake (for logs, counters and the audit trail); `address` is the
  // ZAP request's address frame (the peer's IP address). It runs on the
  // handler's thread and must be cheap: a refused-handshake flood calls it
  // at the flood's rate.
  using DecisionHook =
      std::function<void(const std::string& who, const std::string& address, bool admitted, const std::string& reason)>;

  ZapHandler(zmq::context_t& context, const TrustState& trust, const Clock& clock, DecisionHook hook);
  ~ZapHandler();  // stops the thread
  ZapHandler(const ZapHandler&) = delete;
  ZapHandler& operator=(const ZapHandler&) = delete;

 private:
  void run();

  zmq::socket_t socket_;
  const TrustState& trust_;
  const Clock& clock_;
  DecisionHook hook_;
  RefusalNotices notices_;  // the handler's thread alone
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace tearline::broker
