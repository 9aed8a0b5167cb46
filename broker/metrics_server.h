// MetricsServer: the broker's HTTP endpoint (docs/observability.md), with
// cpp-httplib on a thread of its own: GET /metrics answers the Prometheus
// text format (version 0.0.4) that `render` returns; any other path is 404.
// It listens on a loopback address only (config: metrics_listen), so it
// needs no authentication; nothing it serves is secret beyond the counts.
//
// Threads: start() and the destructor on the owner's thread; `render` runs
// on the HTTP thread and must be thread-safe (Metrics::render is).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "base/result.h"

namespace httplib {
class Server;
}

namespace tearline::broker {

class MetricsServer {
 public:
  using Render = std::function<std::string()>;

  // Binds `listen` ("HOST:PORT", a loopback host; port 0: any free one) and
  // serves. IO_ERROR when it cannot bind.
  static Result<std::unique_ptr<MetricsServer>> start(const std::string& listen, Render render);
  ~MetricsServer();  // stops serving and joins the thread
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // "HOST:PORT" as bound (the port resolved).
  const std::string& address() const { return address_; }

 private:
  MetricsServer() = default;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::string address_;
};

// Whether `listen` is HOST:PORT with a loopback HOST (127.0.0.0/8, ::1 in
// brackets, localhost) and a port 0..65535; the host and port when it is.
bool parse_loopback_listen(const std::string& listen, std::string* host, int* port);

}  // namespace tearline::broker
