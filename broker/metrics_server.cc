#include "broker/metrics_server.h"

#include <httplib.h>

#include <charconv>
#include <chrono>

namespace tearline::broker {

bool parse_loopback_listen(const std::string& listen, std::string* host, int* port) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size()) return false;
  std::string h = listen.substr(0, colon);
  const std::string p = listen.substr(colon + 1);
  int n = -1;
  const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), n);
  if (ec != std::errc() || end != p.data() + p.size() || n < 0 || n > 65535) return false;
  if (h == "[::1]") {
    h = "::1";
  } else if (h != "localhost") {
    // 127.a.b.c, each part a number 0..255.
    int parts = 0;
    std::size_t at = 0;
    bool ok = h.rfind("127.", 0) == 0;
    while (ok && at <= h.size()) {
      const auto dot = h.find('.', at);
      const std::string part = h.substr(at, dot == std::string::npos ? std::string::npos : dot - at);
      int v = -1;
      const auto [e, err] = std::from_chars(part.data(), part.data() + part.size(), v);
      ok = !part.empty() && err == std::errc() && e == part.data() + part.size() && v >= 0 && v <= 255;
      ++parts;
      if (dot == std::string::npos) break;
      at = dot + 1;
    }
    if (!ok || parts != 4) return false;
  }
  *host = h;
  *port = n;
  return true;
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(const std::string& listen, Render render) {
  std::string host;
  int port = 0;
  if (!parse_loopback_listen(listen, &host, &port)) {
    return Status::fail(Code::INVALID_FIELD, "metrics_listen " + listen + " is not HOST:PORT with a loopback host");
  }
  std::unique_ptr<MetricsServer> m(new MetricsServer());
  m->server_ = std::make_unique<httplib::Server>();
  m->server_->Get("/metrics", [render = std::move(render)](const httplib::Request&, httplib::Response& res) {
    res.set_content(render(), "text/plain; version=0.0.4; charset=utf-8");
  });
  if (port == 0) {
    port = m->server_->bind_to_any_port(host);
    if (port < 0) return Status::fail(Code::IO_ERROR, "cannot listen for metrics at " + listen);
  } else if (!m->server_->bind_to_port(host, port)) {
    return Status::fail(Code::IO_ERROR, "cannot listen for metrics at " + listen + " (in use?)");
  }
  m->address_ = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
  httplib::Server* server = m->server_.get();
  m->thread_ = std::thread([server] { server->listen_after_bind(); });
  // Running before it is handed out: a stop() before the loop starts would
  // be lost, and the destructor would wait for ever.
  for (int i = 0; i < 2000 && !server->is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (!server->is_running())
    return Status::fail(Code::IO_ERROR, "the metrics endpoint at " + listen + " did not start");
  return m;
}

MetricsServer::~MetricsServer() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace tearline::broker
