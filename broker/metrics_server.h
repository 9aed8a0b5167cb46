// MetricsServer: the broker's HTTP endpoint (docs/observability.md), with
// cpp-httplib: GET /metrics answers the Prometheus text format (version
// 0.0.4) that `render` returns; a path it does not serve is 404. Without a
// token it listens on a loopback address only (config: metrics_listen) and
// answers only requests whose Host is that address (403 otherwise: no DNS
// rebinding): anyone on the broker's machine may read it. With a token
// (config: metrics_token_file) it may listen on any address, and every
// request must carry the token (`Authorization: Bearer TOKEN`, or
// `?token=TOKEN` for a browser's page and event stream; 401 otherwise).
// The event stream and page below tell topics, originators, labels and who
// received what (never a section's text).
//
// With `live` set it also serves GET /events, the live event stream
// (broker/live_events.h) as server-sent events, to at most
// kMaxEventStreams readers at once (503 beyond), and GET /live, the page
// that draws it (broker/live_page.html, embedded at build time).
//
// Two steps, so that a broker whose port is taken fails before it opens
// its store: bind() takes the port (refused when another process holds
// it: no SO_REUSEPORT), serve() starts the thread that accepts, with
// kMaxEventStreams + 1 workers and no keep-alive beyond a request; a stop
// closes the streams, so it never waits on a scraper or a reader.
//
// Threads: bind(), serve() and the destructor on the owner's thread;
// `render` runs on the worker and must be thread-safe (Metrics::render is).
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "base/result.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib
namespace spdlog {
class logger;
}

namespace tearline::broker {

class LiveEvents;

class MetricsServer {
 public:
  using Render = std::function<std::string()>;
  static constexpr int kMaxEventStreams = 3;

  // Takes `listen` ("HOST:PORT"; port 0: any free one). INVALID_FIELD for
  // a host that is not loopback without a `token`; IO_ERROR when it cannot
  // bind. `live` (null: no /events) must outlive the server; the server
  // closes it when it stops. `token`: empty, or what every request must carry.
  static Result<std::unique_ptr<MetricsServer>> bind(const std::string& listen, Render render,
                                                     std::shared_ptr<spdlog::logger> log = nullptr,
                                                     LiveEvents* live = nullptr, std::string token = {});
  // Starts answering. A server that stops by itself (accept failing) logs
  // event=metrics_stopped.
  void serve();
  ~MetricsServer();  // stops serving and joins the thread
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // "HOST:PORT" as bound (the port resolved).
  const std::string& address() const { return address_; }

 private:
  MetricsServer() = default;
  void stream_events(const httplib::Request& req, httplib::Response& res);
  std::unique_ptr<httplib::Server> server_;
  std::shared_ptr<spdlog::logger> log_;
  std::thread thread_;
  LiveEvents* live_ = nullptr;
  std::atomic<bool> stopping_{false}, done_{false};
  std::atomic<int> streams_{0};
  std::string address_;
  std::string token_;
};

// Whether `listen` is HOST:PORT with a port 0..65535 in digits and HOST an
// IPv4 address, an IPv6 address in brackets, or localhost (taken as
// 127.0.0.1); the host to bind, the port, and whether the host is loopback
// (127.0.0.0/8, ::1) when it is.
bool parse_listen(const std::string& listen, std::string* host, int* port, bool* loopback);

// The token of a metrics_token_file: one line of 32 to 256 printable
// characters (no space), the file readable by its owner only (as a key
// file); KEY_FILE with the reason otherwise.
Result<std::string> read_token_file(const std::filesystem::path& path);

}  // namespace tearline::broker
