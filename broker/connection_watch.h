// ConnectionWatch: which sessions' connections dropped, from a socket monitor
// on the broker's ROUTER (issue 16 point 9; docs/reliability.md, "Floods and
// session churn"), so that a session whose client went away without BYE is
// forgotten at once instead of holding its slot until session_timeout_ms.
//
// Why a monitor: ZMQ_ROUTER_NOTIFY (97) is a draft option that Debian's
// libzmq 4.3.4 is built without (zmq_setsockopt answers EINVAL). The
// monitor's ZMQ_EVENT_ACCEPTED and ZMQ_EVENT_DISCONNECTED carry the
// connection's descriptor, and every message the ROUTER delivers carries
// the descriptor it came from (zmq_msg_get ZMQ_SRCFD), so a routing id is
// tied to its connection's descriptor by its first message (seen()).
//
// Descriptors are reused at once, so the order matters. libzmq emits
// DISCONNECTED(fd) before it closes fd, and ACCEPTED(fd) before any byte of
// that connection can be read: events are read (drain) before a routing id
// is tied to a descriptor, so an id is always tied to its own connection or,
// if that one is already gone, to a newer one on the same descriptor (then
// it is forgotten late, at that one's end, or by its timeout; never early).
// Each descriptor holds one record: an ACCEPTED(fd) ends whatever record fd
// had, so memory is bounded by the descriptors open, whatever a flood does.
//
// Ownership and threads: the broker's I/O thread alone; the monitor socket
// lives in the broker's context and is closed before the ROUTER.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>
#include <zmq.hpp>

namespace tearline::broker {

class ConnectionWatch {
 public:
  // Starts monitoring `router` over inproc://`name`. Throws zmq::error_t.
  ConnectionWatch(zmq::context_t& context, zmq::socket_t& router, const std::string& name);

  // Ties `routing_id` to the connection of descriptor `fd` (ZMQ_SRCFD of
  // its message); once per routing id, cheap afterwards.
  void seen(const std::string& routing_id, int fd);
  // The routing ids whose connections dropped since the last call.
  std::vector<std::string> take_dropped();
  // Connections (descriptors) currently tracked.
  std::size_t tracked() const { return by_fd_.size(); }

 private:
  void drain();
  void end(int fd);

  zmq::socket_t monitor_;
  std::map<int, std::vector<std::string>> by_fd_;  // routing ids seen per open connection
  std::set<std::string> tied_;                     // routing ids in by_fd_
  std::vector<std::string> dropped_;
};

}  // namespace tearline::broker
