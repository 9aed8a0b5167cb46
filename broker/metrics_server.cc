#include "broker/metrics_server.h"

#include <httplib.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <csignal>

#include "broker/live_events.h"
#include "broker/live_page.h"

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
                                                           std::shared_ptr<spdlog::logger> log, LiveEvents* live) {
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
  s.new_task_queue = [] { return new httplib::ThreadPool(kMaxEventStreams + 1); };
  s.set_keep_alive_max_count(1);
  s.set_read_timeout(2, 0);
  s.set_write_timeout(2, 0);
  s.Get("/metrics", [render = std::move(render)](const httplib::Request&, httplib::Response& res) {
    res.set_content(render(), "text/plain; version=0.0.4; charset=utf-8");
  });
  if (live != nullptr) {
    MetricsServer* self = m.get();
    s.Get("/events", [self](const httplib::Request& req, httplib::Response& res) { self->stream_events(req, res); });
    s.Get("/live", [](const httplib::Request&, httplib::Response& res) {
      res.set_header("Cache-Control", "no-cache");
      // The page runs only its own script and talks only to this endpoint.
      res.set_header("Content-Security-Policy",
                     "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'");
      res.set_content(std::string(kLivePage), "text/html; charset=utf-8");
    });
  }
  if (port == 0) {
    port = s.bind_to_any_port(host);
    if (port < 0) return Status::fail(Code::IO_ERROR, "cannot listen for metrics at " + listen);
  } else if (!s.bind_to_port(host, port)) {
    return Status::fail(Code::IO_ERROR, "cannot listen for metrics at " + listen + " (is the port in use?)");
  }
  m->address_ = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
  // A request must name this address as its Host: a web page elsewhere
  // that rebinds a name of its own to 127.0.0.1 cannot read the endpoint.
  s.set_pre_routing_handler([self = m.get()](const httplib::Request& req, httplib::Response& res) {
    const std::string asked = req.get_header_value("Host");
    const std::string bound_port = self->address_.substr(self->address_.rfind(':'));
    if (asked == self->address_ || asked == "localhost" + bound_port) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    res.status = 403;
    res.set_content("Host must be " + self->address_ + "\n", "text/plain");
    return httplib::Server::HandlerResponse::Handled;
  });
  m->live_ = live;  // only once bound: a server that failed to bind never closes it
  return m;
}

void MetricsServer::serve() {
  if (thread_.joinable()) return;
  // A reader that resets its connection must not kill the broker: httplib
  // sends without MSG_NOSIGNAL (the broker's own sockets, ZeroMQ's, never
  // raise SIGPIPE). Process-wide, once.
  std::signal(SIGPIPE, SIG_IGN);
  thread_ = std::thread([this] {
    const bool clean = server_->listen_after_bind();
    if (!stopping_ && log_) {
      log_->error("event=metrics_stopped address={} reason=\"{}\"", address_,
                  clean ? "the server stopped" : "accepting connections failed");
    }
    done_ = true;
  });
}

// Server-sent events from the id after Last-Event-ID (or ?after=N; a new
// reader: the ring's history), a comment line every 15 s of quiet.
void MetricsServer::stream_events(const httplib::Request& req, httplib::Response& res) {
  if (streams_.fetch_add(1) >= kMaxEventStreams) {
    streams_.fetch_sub(1);
    res.status = 503;
    res.set_content("too many event streams; retry later\n", "text/plain");
    return;
  }
  std::uint64_t after = 0;
  const std::string from =
      req.has_header("Last-Event-ID") ? req.get_header_value("Last-Event-ID") : req.get_param_value("after");
  if (all_digits(from) && from.size() < 20) after = std::stoull(from);
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream",
      [this, after, quiet_ms = std::int64_t{0}](std::size_t, httplib::DataSink& sink) mutable {
        constexpr int kWaitMs = 500;
        if (!sink.is_writable()) return false;  // the reader left: its slot is free at once
        const auto events = live_->after(after, 256, kWaitMs);
        if (stopping_ || live_->closed()) {
          sink.done();
          return true;
        }
        std::string out;
        for (const auto& e : events) {
          out += "id: " + std::to_string(e.id) + "\nevent: " + e.type + "\ndata: " + e.data + "\n\n";
          after = e.id;
        }
        quiet_ms = events.empty() ? quiet_ms + kWaitMs : 0;
        if (quiet_ms >= 15'000) {
          out = ": quiet\n\n";
          quiet_ms = 0;
        }
        return out.empty() || sink.write(out.data(), out.size());
      },
      [this](bool) { streams_.fetch_sub(1); });
}

MetricsServer::~MetricsServer() {
  stopping_ = true;
  if (live_ != nullptr) live_->close();
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
