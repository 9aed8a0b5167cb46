#include "broker/metrics_server.h"

#include <httplib.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>

namespace tearline::broker {

namespace {

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

}  // namespace

bool parse_loopback_listen(const std::string& listen, std::string* host, int* port) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  std::string h = listen.substr(0, colon);
  const std::string p = listen.substr(colon + 1);
  if (!all_digits(p) || p.size() > 5) return false;
  const int n = std::stoi(p);
  if (n > 65535) return false;
  if (h == "[::1]") {
    h = "::1";
  } else if (h == "localhost") {
    h = "127.0.0.1";  // not whatever /etc/hosts says
  } else {
    // 127.a.b.c, each part 0..255 in digits.
    if (h.rfind("127.", 0) != 0) return false;
    int parts = 0;
    for (std::size_t at = 0;; ++parts) {
      const auto dot = h.find('.', at);
      const std::string part = h.substr(at, dot == std::string::npos ? std::string::npos : dot - at);
      if (!all_digits(part) || part.size() > 3 || std::stoi(part) > 255) return false;
      if (dot == std::string::npos) break;
      at = dot + 1;
    }
    if (parts != 3) return false;  // counted from 0: four parts
  }
  *host = h;
  *port = n;
  return true;
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::bind(const std::string& listen, Render render,
                                                           std::shared_ptr<spdlog::logger> log) {
  std::string host;
  int port = 0;
  if (!parse_loopback_listen(listen, &host, &port)) {
    return Status::fail(Code::INVALID_FIELD, "metrics_listen " + listen + " is not HOST:PORT with a loopback host");
  }
  std::unique_ptr<MetricsServer> m(new MetricsServer());
  m->log_ = std::move(log);
  m->server_ = std::make_unique<httplib::Server>();
  httplib::Server& s = *m->server_;
  // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, with which a
  // second broker configured with the same port would share it silently.
  s.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  s.new_task_queue = [] { return new httplib::ThreadPool(1); };
  s.set_keep_alive_max_count(1);
  s.set_read_timeout(2, 0);
  s.set_write_timeout(2, 0);
  s.Get("/metrics", [render = std::move(render)](const httplib::Request&, httplib::Response& res) {
    res.set_content(render(), "text/plain; version=0.0.4; charset=utf-8");
  });
  if (port == 0) {
    port = s.bind_to_any_port(host);
    if (port < 0) return Status::fail(Code::IO_ERROR, "cannot listen for metrics at " + listen);
  } else if (!s.bind_to_port(host, port)) {
    return Status::fail(Code::IO_ERROR, "cannot listen for metrics at " + listen + " (is the port in use?)");
  }
  m->address_ = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
  return m;
}

void MetricsServer::serve() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] {
    const bool clean = server_->listen_after_bind();
    if (!stopping_ && log_) {
      log_->error("event=metrics_stopped address={} reason=\"{}\"", address_,
                  clean ? "the server stopped" : "accepting connections failed");
    }
    done_ = true;
  });
}

MetricsServer::~MetricsServer() {
  stopping_ = true;
  if (!thread_.joinable()) return;
  // stop() is lost when it comes before the accept loop runs: ask until the
  // thread has left it.
  while (!done_) {
    server_->stop();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  thread_.join();
}

}  // namespace tearline::broker
