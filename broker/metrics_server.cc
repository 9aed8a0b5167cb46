#include "broker/metrics_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstring>

#include "base/bytes.h"
#include "broker/live_events.h"
#include "broker/live_page.h"
#include "crypto/hash.h"

namespace tearline::broker {

namespace {

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

}  // namespace

bool parse_listen(const std::string& listen, std::string* host, int* port, bool* loopback) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  std::string h = listen.substr(0, colon);
  const std::string p = listen.substr(colon + 1);
  if (!all_digits(p) || p.size() > 5) return false;
  const int n = std::stoi(p);
  if (n > 65535) return false;
  bool local = false;
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') {
    h = h.substr(1, h.size() - 2);
    in6_addr a{};
    if (::inet_pton(AF_INET6, h.c_str(), &a) != 1) return false;
    local = IN6_IS_ADDR_LOOPBACK(&a);
  } else if (h == "localhost") {
    h = "127.0.0.1";  // not whatever /etc/hosts says
    local = true;
  } else {
    // a.b.c.d, each part 0..255 in digits.
    int parts = 0;
    for (std::size_t at = 0;; ++parts) {
      const auto dot = h.find('.', at);
      const std::string part = h.substr(at, dot == std::string::npos ? std::string::npos : dot - at);
      if (!all_digits(part) || part.size() > 3 || std::stoi(part) > 255) return false;
      if (part.size() > 1 && part[0] == '0') return false;  // no leading zero (read as octal elsewhere)
      if (dot == std::string::npos) break;
      at = dot + 1;
    }
    if (parts != 3) return false;  // counted from 0: four parts
    local = h.rfind("127.", 0) == 0;
  }
  *host = h;
  *port = n;
  *loopback = local;
  return true;
}

Result<std::string> read_token_file(const std::filesystem::path& path) {
  const std::string name = path.string();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
  if (fd < 0)
    return Status::fail(Code::KEY_FILE, "cannot open metrics token file " + name + ": " + std::strerror(errno));
  struct stat st {};
  const bool stated = ::fstat(fd, &st) == 0;
  std::string text(4096, '\0');
  const ssize_t n = stated && S_ISREG(st.st_mode) ? ::read(fd, text.data(), text.size()) : -1;
  ::close(fd);
  if (!stated || !S_ISREG(st.st_mode) || n < 0) {
    return Status::fail(Code::KEY_FILE, "metrics token file " + name + " is not a readable regular file");
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return Status::fail(Code::KEY_FILE, "metrics token file " + name +
                                            " is group- or world-accessible; a secret must not be (chmod 600)");
  }
  text.resize(static_cast<std::size_t>(n));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  // Characters that pass through a URL's query unchanged (the page's ?token=).
  const bool plain = std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '~' || c == '-';
  });
  if (text.size() < 32 || text.size() > 256 || !plain) {
    return Status::fail(Code::KEY_FILE, "metrics token file " + name +
                                            " must hold one line of 32 to 256 characters of A-Z a-z 0-9 . _ ~ - "
                                            "(e.g. `openssl rand -hex 32`)");
  }
  return text;
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::bind(const std::string& listen, Render render,
                                                           std::shared_ptr<spdlog::logger> log, LiveEvents* live,
                                                           std::string token) {
  std::string host;
  int port = 0;
  bool loopback = false;
  if (!parse_listen(listen, &host, &port, &loopback) || (!loopback && token.empty())) {
    return Status::fail(Code::INVALID_FIELD,
                        "metrics_listen " + listen + " is not HOST:PORT with a loopback host (or a token for another)");
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
      res.set_header("Cache-Control", "no-store");  // it may have been asked for with ?token=
      res.set_header("Referrer-Policy", "no-referrer");
      res.set_header("X-Content-Type-Options", "nosniff");
      // The page runs only its own inline script and style and talks only to
      // this endpoint; it cannot be framed, post a form or change its base.
      res.set_header("Content-Security-Policy",
                     "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; "
                     "base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
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
  m->token_ = std::move(token);
  // Without a token, a request must name this address as its Host: a web
  // page elsewhere that rebinds a name of its own to 127.0.0.1 cannot read
  // the endpoint. With one, it must carry the token.
  s.set_pre_routing_handler([self = m.get()](const httplib::Request& req, httplib::Response& res) {
    if (!self->token_.empty()) {
      // ?token= only where a browser cannot send a header: the page and its stream.
      const std::string header = req.get_header_value("Authorization");
      const bool in_query = req.path == "/live" || req.path == "/events";
      const std::string given = header.rfind("Bearer ", 0) == 0 ? header.substr(7)
                                : in_query                      ? req.get_param_value("token")
                                                                : std::string();
      if (crypto::equal_ct(as_bytes(given), as_bytes(self->token_))) return httplib::Server::HandlerResponse::Unhandled;
      res.status = 401;
      res.set_header("WWW-Authenticate", "Bearer");
      res.set_content("the metrics_token_file's token is required (Authorization: Bearer, or ?token=)\n", "text/plain");
      return httplib::Server::HandlerResponse::Handled;
    }
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
  // Last-Event-ID "EPOCH-ID" of this run resumes after ID; one of another
  // run (the broker restarted) starts anew; ?after=ID resumes in this run.
  std::uint64_t after = 0;
  std::string from = req.get_param_value("after");
  if (req.has_header("Last-Event-ID")) {
    const std::string last = req.get_header_value("Last-Event-ID");
    const std::string mine = std::to_string(live_->epoch()) + "-";
    from = last.rfind(mine, 0) == 0 ? last.substr(mine.size()) : "";
  }
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
          out += "id: " + std::to_string(live_->epoch()) + "-" + std::to_string(e.id) + "\nevent: " + e.type +
                 "\ndata: " + e.data + "\n\n";
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
