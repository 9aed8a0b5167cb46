#include "flood/attackers.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "flood/canary.h"
#include "flood/flood_world.h"
#include "flood/report_maker.h"
#include "wire/frame.h"

namespace tearline::flood {
namespace v1 = tearline::v1;

namespace {

constexpr std::size_t kBadSignaturePool = 64;

report::BuiltReport must_build(ReportMaker& maker) {
  auto built = maker.next();
  if (!built) throw std::runtime_error("cannot build a report: " + built.status().to_string());
  return std::move(built).value();
}

// A node that keeps up to `window` PUBLISH frames in flight; next_frame()
// chooses what to send. When the broker closes the session, it says HELLO
// until it is admitted again.
class PublishFlood : public Attack {
 public:
  PublishFlood(const FloodTarget& target, std::string node, int window)
      : Attack(target.nice), node_id_(std::move(node)), target_(target), window_(window) {}

 protected:
  virtual const Bytes& next_frame() = 0;

  void connect() { node_ = connect_or_throw(target_.endpoint, *target_.pki, node_id_); }

  void run() override {
    int inflight = 0;
    while (!stop_) {
      while (inflight < window_ && !stop_) {
        if (!node_->send(next_frame())) break;
        ++inflight;
        std::lock_guard lock(mu_);
        counters_.sent++;
      }
      auto f = node_->receive(inflight >= window_ ? 10 : 0);
      while (f && !stop_) {
        if (handle(*f, &inflight)) break;
        f = node_->receive(0);
      }
    }
  }

  std::string node_id_;
  std::unique_ptr<RawNode> node_;

 private:
  // True when the session was closed and has just been re-admitted.
  bool handle(const v1::Frame& f, int* inflight) {
    if (f.has_accepted()) {
      --*inflight;
      std::lock_guard lock(mu_);
      counters_.accepted++;
    } else if (f.has_rejected()) {
      --*inflight;
      std::lock_guard lock(mu_);
      counters_.rejected[code_text(f.rejected().code())]++;
    } else if (f.has_error()) {
      if (wire::closes_session(static_cast<Code>(f.error().code()))) {
        {
          std::lock_guard lock(mu_);
          counters_.sessions_closed++;
        }
        readmit();
        *inflight = 0;  // whatever was in flight is ignored by a closed session
        return true;
      }
      if (f.error().request_id() != wire::kNoRequestId) --*inflight;
    }
    return false;
  }

  void readmit() {
    while (!stop_) {
      Status s = node_->hello(1000);
      if (s) return;
      std::lock_guard lock(mu_);
      counters_.hello_refused++;
    }
  }

  FloodTarget target_;
  int window_;
};

class ValidFlood final : public PublishFlood {
 public:
  ValidFlood(const FloodTarget& target, int window, std::size_t bytes)
      : PublishFlood(target, target.valid_flooder, window), bytes_(bytes) {}
  std::string name() const override { return "valid-report flood"; }

 protected:
  void setup() override {
    connect();
    maker_ = std::make_unique<ReportMaker>(*node_, kAttackTopic, "", bytes_);
  }

  const Bytes& next_frame() override {
    auto report = maker_->next_resigned();
    if (!report) throw std::runtime_error("cannot build a report: " + report.status().to_string());
    frame_ = wire::encode_frame(wire::make_publish(++request_, *report));
    return frame_;
  }

 private:
  std::size_t bytes_;
  std::unique_ptr<ReportMaker> maker_;
  std::uint64_t request_ = 0;
  Bytes frame_;
};

class BadSignatureFlood final : public PublishFlood {
 public:
  BadSignatureFlood(const FloodTarget& target, int window, std::size_t bytes)
      : PublishFlood(target, target.bad_signature_flooder, window), bytes_(bytes) {}
  std::string name() const override { return "bad-signature flood"; }

 protected:
  void setup() override {
    connect();
    ReportMaker maker(*node_, kAttackTopic, "", bytes_);
    for (std::size_t i = 0; i < kBadSignaturePool; ++i) {
      report::BuiltReport built = must_build(maker);
      built.report.mutable_signature()->back() ^= 0x01;
      pool_.push_back(wire::encode_frame(wire::make_publish(i + 1, as_bytes(built.report.SerializeAsString()))));
    }
  }

  const Bytes& next_frame() override { return pool_[next_++ % pool_.size()]; }

 private:
  std::size_t bytes_;
  std::vector<Bytes> pool_;
  std::size_t next_ = 0;
};

class StalledHandshakes final : public Attack {
 public:
  StalledHandshakes(const FloodTarget& target, int connections)
      : Attack(target.nice), port_(target.port), connections_(connections) {}
  std::string name() const override { return "stalled handshakes"; }

 protected:
  void setup() override {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < static_cast<rlim_t>(connections_) + 256) {
      throw std::runtime_error("the file descriptor limit (" + std::to_string(limit.rlim_cur) + ") is too low for " +
                               std::to_string(connections_) + " connections");
    }
  }

  void run() override {
    std::vector<Conn> conns(static_cast<std::size_t>(connections_));
    std::vector<pollfd> fds(conns.size());
    for (std::size_t i = 0; i < conns.size(); ++i) open(conns[i], fds[i], i % 2 == 1);
    std::int64_t lifetime_sum_us = 0;
    while (!stop_) {
      if (::poll(fds.data(), fds.size(), 100) <= 0) continue;
      for (std::size_t i = 0; i < conns.size(); ++i) {
        if (fds[i].revents == 0) continue;
        Conn& c = conns[i];
        bool closed = (fds[i].revents & (POLLERR | POLLHUP)) != 0;
        if (!closed && (fds[i].revents & POLLOUT)) {
          fds[i].events = POLLIN;
          // The first 10 bytes of a ZMTP 3 greeting (signature and major
          // version), then silence.
          static const std::uint8_t kPartialGreeting[] = {0xff, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x7f};
          if (c.partial) closed = ::send(c.fd, kPartialGreeting, sizeof kPartialGreeting, MSG_NOSIGNAL) < 0;
        }
        if (!closed && (fds[i].revents & POLLIN)) {
          char buf[512];
          const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);  // the broker's greeting, then EOF
          closed = n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR);
        }
        if (closed) {
          lifetime_sum_us += now_us() - c.opened_us;
          ::close(c.fd);
          {
            std::lock_guard lock(mu_);
            counters_.sessions_closed++;
            counters_.mean_lifetime_ms =
                static_cast<double>(lifetime_sum_us) / 1000.0 / static_cast<double>(counters_.sessions_closed);
          }
          open(c, fds[i], c.partial);
        }
      }
    }
    for (auto& c : conns) {
      if (c.fd >= 0) ::close(c.fd);
    }
  }

 private:
  struct Conn {
    int fd = -1;
    std::int64_t opened_us = 0;
    bool partial = false;
  };

  void open(Conn& c, pollfd& p, bool partial) {
    c = Conn{};
    c.partial = partial;
    c.opened_us = now_us();
    c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    p = pollfd{c.fd, POLLOUT, 0};
    if (c.fd < 0) {
      p.fd = -1;  // ignored by poll; the next close of another one retries nothing
      return;
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port_));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const int rc = ::connect(c.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    std::lock_guard lock(mu_);
    if (rc != 0 && errno != EINPROGRESS) {
      counters_.rejected["connect: " + std::string(std::strerror(errno))]++;
      return;  // poll reports the error; the connection is reopened then
    }
    counters_.sent++;
  }

  int port_;
  int connections_;
};

}  // namespace

std::uint64_t AttackCounters::rejected_with(const std::string& code) const {
  auto it = rejected.find(code);
  return it == rejected.end() ? 0 : it->second;
}

std::uint64_t AttackCounters::rejected_total() const {
  std::uint64_t n = 0;
  for (const auto& [code, count] : rejected) n += count;
  return n;
}

Attack::~Attack() { stop(); }

void Attack::prepare() {
  thread_ = std::thread([this] { thread_main(); });
  std::unique_lock lock(state_mu_);
  state_cv_.wait(lock, [&] { return ready_; });
  if (!setup_error_.empty()) {
    const std::string why = setup_error_;
    lock.unlock();
    stop();
    throw std::runtime_error(name() + ": " + why);
  }
}

void Attack::thread_main() {
  // Linux: a nice value is per thread, and threads created from this one
  // (the libzmq I/O thread of its connection) inherit it.
  if (nice_ != 0) (void)setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), nice_);
  std::string error;
  try {
    setup();
  } catch (const std::exception& e) {
    error = e.what();
  }
  {
    std::lock_guard lock(state_mu_);
    setup_error_ = error;
    ready_ = true;
  }
  state_cv_.notify_all();
  if (!error.empty()) return;
  {
    std::unique_lock lock(state_mu_);
    state_cv_.wait(lock, [&] { return go_ || stop_; });
  }
  if (stop_) return;
  try {
    run();
  } catch (const std::exception& e) {
    std::lock_guard lock(mu_);
    counters_.rejected[std::string("attack failed: ") + e.what()]++;
  }
}

void Attack::start() {
  std::lock_guard lock(state_mu_);
  go_ = true;
  state_cv_.notify_all();
}

void Attack::stop() {
  {
    std::lock_guard lock(state_mu_);
    stop_ = true;
    state_cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

AttackCounters Attack::counters() const {
  std::lock_guard lock(mu_);
  return counters_;
}

std::unique_ptr<Attack> make_valid_flood(const FloodTarget& target, int window, std::size_t report_bytes) {
  return std::make_unique<ValidFlood>(target, window, report_bytes);
}

std::unique_ptr<Attack> make_bad_signature_flood(const FloodTarget& target, int window, std::size_t report_bytes) {
  return std::make_unique<BadSignatureFlood>(target, window, report_bytes);
}

std::unique_ptr<Attack> make_stalled_handshakes(const FloodTarget& target, int connections) {
  return std::make_unique<StalledHandshakes>(target, connections);
}

}  // namespace tearline::flood
