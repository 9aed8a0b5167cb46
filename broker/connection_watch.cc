#include "broker/connection_watch.h"

#include <zmq.h>

#include <cstdint>
#include <cstring>
#include <zmq_addon.hpp>

namespace tearline::broker {

ConnectionWatch::ConnectionWatch(zmq::context_t& context, zmq::socket_t& router, const std::string& name)
    : monitor_(context, zmq::socket_type::pair) {
  const std::string endpoint = "inproc://" + name;
  if (zmq_socket_monitor(router.handle(), endpoint.c_str(), ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED) != 0) {
    throw zmq::error_t();
  }
  monitor_.set(zmq::sockopt::linger, 0);
  // Room for the events of a few seconds of a flood (two per connection)
  // between two turns of the I/O loop, which reads them every turn.
  monitor_.set(zmq::sockopt::rcvhwm, 100000);
  monitor_.connect(endpoint);
}

void ConnectionWatch::end(int fd) {
  auto it = by_fd_.find(fd);
  if (it == by_fd_.end()) return;
  for (auto& id : it->second) {
    tied_.erase(id);
    dropped_.push_back(std::move(id));
  }
  by_fd_.erase(it);
}

void ConnectionWatch::drain() {
  for (;;) {
    std::vector<zmq::message_t> event;
    if (!zmq::recv_multipart(monitor_, std::back_inserter(event), zmq::recv_flags::dontwait)) return;
    if (event.empty() || event[0].size() < 6) continue;
    std::uint16_t kind = 0;
    std::int32_t fd = 0;
    std::memcpy(&kind, event[0].data(), sizeof kind);
    std::memcpy(&fd, static_cast<const char*>(event[0].data()) + 2, sizeof fd);
    end(fd);  // ACCEPTED: a new connection on fd, so fd's previous one is gone
    if (kind == ZMQ_EVENT_ACCEPTED) by_fd_[fd];
  }
}

void ConnectionWatch::seen(const std::string& routing_id, int fd) {
  if (fd < 0 || tied_.count(routing_id) != 0) return;
  drain();
  by_fd_[fd].push_back(routing_id);
  tied_.insert(routing_id);
}

std::vector<std::string> ConnectionWatch::take_dropped() {
  drain();
  std::vector<std::string> out;
  out.swap(dropped_);
  return out;
}

}  // namespace tearline::broker
