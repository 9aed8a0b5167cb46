#include "broker/stream_feed.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace tearline::broker {

StreamFeed::StreamFeed(Store& store, std::string own_writer, zmq::context_t& context,
                       const std::string& notify_endpoint, std::shared_ptr<spdlog::logger> log)
    : store_(store),
      own_writer_(std::move(own_writer)),
      log_(log ? std::move(log) : spdlog::default_logger()),
      watch_(store.watch()),
      notify_(context, zmq::socket_type::push) {
  if (!watch_) return;  // one writer: nothing to follow
  notify_.set(zmq::sockopt::linger, 0);
  notify_.set(zmq::sockopt::sndhwm, 1);
  notify_.connect(notify_endpoint);
  thread_ = std::thread([this] { run(); });
}

StreamFeed::~StreamFeed() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void StreamFeed::run() {
  while (!stop_) {
    if (!watch_->wait(kWaitMs)) continue;
    woken_ = true;
    try {
      notify_.send(zmq::const_buffer(nullptr, 0), zmq::send_flags::dontwait);
    } catch (const zmq::error_t&) {
      // Ignored: the context is closing, or a poke is already queued; the flag stays up.
    }
  }
}

bool StreamFeed::refresh(std::int64_t steady_ms) {
  if (!watch_) return false;
  if (!woken_.exchange(false) && steady_ms < next_read_ms_) return false;
  next_read_ms_ = steady_ms + kRereadMs;
  auto read = store_.heads();
  if (!read) {
    if (!failing_) log_->error("event=stream_heads_failed reason=\"{}\"", read.status().to_string());
    failing_ = true;
    next_read_ms_ = steady_ms + kWaitMs;  // sooner than usual, never in a loop
    return false;
  }
  if (failing_) log_->info("event=stream_heads_resumed writers={}", read->size());
  failing_ = false;
  bool moved = false;
  for (const auto& [writer, head] : *read) {
    if (writer == own_writer_) continue;
    auto [it, added] = heads_.emplace(writer, head);
    if (added) {
      log_->info("event=stream_found writer={} head={}", writer, head);
      moved = true;
    } else if (it->second != head) {
      it->second = std::max(it->second, head);
      moved = true;
    }
  }
  return moved;
}

}  // namespace tearline::broker
