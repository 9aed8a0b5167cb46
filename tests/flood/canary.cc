#include "flood/canary.h"

#include <chrono>
#include <stdexcept>

#include "base/clock.h"
#include "client/session_internal.h"
#include "flood/flood_world.h"
#include "flood/report_maker.h"
#include "receipt/delivery.h"
#include "wire/frame.h"

namespace tearline::flood {
namespace v1 = tearline::v1;

namespace {

constexpr int kSubscribeTimeoutMs = 10'000;
constexpr std::uint64_t kSubscribeRequest = 1;

// The report id of delivered report bytes (empty when they do not parse).
std::string report_id_of(const std::string& bytes) {
  v1::Report report;
  v1::ReportHeader header;
  if (!report.ParseFromString(bytes) || !header.ParseFromString(report.header())) return {};
  return header.report_id();
}

}  // namespace

std::int64_t now_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count();
}

Canary::Canary(const std::string& endpoint, const identity::PkiPaths& pki, int window, double rate,
               std::size_t report_bytes)
    : window_(window), rate_(rate), report_bytes_(report_bytes) {
  subscriber_ = connect_or_throw(endpoint, pki, kCanarySubscriber);
  publisher_ = connect_or_throw(endpoint, pki, kCanaryPublisher);
  if (!subscriber_->send(wire::encode_frame(wire::make_subscribe(kSubscribeRequest, {kCanaryTopic})))) {
    throw std::runtime_error("canary subscriber: cannot send SUBSCRIBE");
  }
  for (;;) {
    auto f = subscriber_->receive(kSubscribeTimeoutMs);
    if (!f) throw std::runtime_error("canary subscriber: SUBSCRIBE not answered");
    if (f->has_accepted()) break;
    if (f->has_rejected()) throw std::runtime_error("canary subscriber: " + wire::status_of(f->rejected()).to_string());
    if (f->has_error()) throw std::runtime_error("canary subscriber: " + wire::status_of(f->error()).to_string());
  }
}

Canary::~Canary() { stop(); }

void Canary::start() {
  stop_ = false;
  subscribing_ = std::thread([this] { subscribe_loop(); });
  publishing_ = std::thread([this] { publish_loop(); });
}

void Canary::stop() {
  stop_ = true;
  if (publishing_.joinable()) publishing_.join();
  if (subscribing_.joinable()) subscribing_.join();
}

std::vector<Delivery> Canary::deliveries() const {
  std::lock_guard lock(mu_);
  return deliveries_;
}

CanaryCounters Canary::counters() const {
  std::lock_guard lock(mu_);
  return counters_;
}

void Canary::publish_loop() {
  ReportMaker maker(*publisher_, kCanaryTopic, kCanarySubscriber, report_bytes_);
  std::uint64_t next_request = 1;
  int inflight = 0;
  const std::int64_t started = now_us();
  std::uint64_t paced = 0;  // reports the pace has allowed so far
  auto allowed = [&] {
    if (rate_ <= 0) return true;
    return static_cast<double>(paced) < static_cast<double>(now_us() - started) * rate_ / 1e6;
  };
  while (!stop_) {
    while (inflight < window_ && allowed()) {
      auto built = maker.next();
      if (!built) {
        std::lock_guard lock(mu_);
        counters_.errors["build: " + built.status().to_string()]++;
        return;
      }
      const Bytes frame = wire::encode_frame(wire::make_publish(next_request++, built->bytes));
      const std::string id = to_string(built->report_id);
      {
        std::lock_guard lock(mu_);
        sent_at_[id] = now_us();
      }
      if (!publisher_->send(frame)) {
        std::lock_guard lock(mu_);
        sent_at_.erase(id);
        break;
      }
      std::lock_guard lock(mu_);
      counters_.sent++;
      ++inflight;
      ++paced;
    }
    // Wait for an answer, or for the pace to allow the next report.
    auto f = publisher_->receive(inflight < window_ && rate_ > 0 ? 1 : 50);
    if (!f) continue;
    std::lock_guard lock(mu_);
    if (f->has_accepted()) {
      --inflight;
      counters_.accepted++;
    } else if (f->has_rejected()) {
      --inflight;
      counters_.rejected[code_text(f->rejected().code())]++;
    } else if (f->has_error()) {
      counters_.errors[code_text(f->error().code())]++;
      if (f->error().request_id() != wire::kNoRequestId) --inflight;
    }
  }
}

// An honest subscriber's ACK: one signed delivery receipt per copy
// (docs/protocol.md 6.8).
void Canary::ack(const v1::Deliver& d) {
  const Bytes signed_receipt = receipt::sign_delivery(subscriber_->node_id(), subscriber_->broker_id(),
                                                      subscriber_->keys().signing, SystemClock::instance().now_ms(),
                                                      {receipt::describe_copy(d.broker_seq(), as_bytes(d.report()))});
  (void)subscriber_->send(wire::encode_frame(wire::make_ack(d.broker_seq(), signed_receipt)));
}

void Canary::subscribe_loop() {
  while (!stop_) {
    auto f = subscriber_->receive(50);
    if (!f) continue;
    if (f->has_deliver()) {
      const std::int64_t at = now_us();
      const std::string id = report_id_of(f->deliver().report());
      ack(f->deliver());
      std::lock_guard lock(mu_);
      auto it = sent_at_.find(id);
      if (it != sent_at_.end()) {
        deliveries_.push_back(Delivery{it->second, at});
        sent_at_.erase(it);
      }
    } else if (f->has_error()) {
      std::lock_guard lock(mu_);
      counters_.errors["subscriber " + code_text(f->error().code())]++;
    }
  }
}

}  // namespace tearline::flood
