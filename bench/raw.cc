// Baseline 1: the same processes and fan-out over ZeroMQ CURVE DEALER/ROUTER
// with nothing else: no ZAP, no verification, no policy, no store. The relay
// (`tearline-bench raw-relay`) forwards each message to the subscribers the
// plan entitles to it (the deliveries tearline would make) and answers the
// publisher at once; subscribers (`raw-sub`) record and do no crypto of their
// own. Messages carry the size of the tearline PUBLISH frame of the same
// shape.
//
//   sub/pub -> relay   'H' u32 role (0 sub, 1 pub) u32 index     relay -> 'W'
//   pub -> relay       'P' u32 pub u64 seq filler...             relay -> pub 'A' u64 seq
//   relay -> sub       the publisher's message as is
#include <csignal>
#include <cstdio>
#include <cstring>
#include <map>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "bench/pub_loop.h"
#include "bench/sub_core.h"
#include "bench/tearline_node.h"
#include "crypto/key_file.h"
#include "identity/pki.h"

namespace tearline::bench {
namespace {

constexpr std::size_t kHeader = 1 + 4 + 8;

volatile std::sig_atomic_t g_stop = 0;
void on_term(int) { g_stop = 1; }

template <typename T>
T load_at(const void* data, std::size_t offset) {
  T v;
  std::memcpy(&v, static_cast<const char*>(data) + offset, sizeof v);
  return v;
}

Status hello(TearlineNode& node, std::uint32_t role, std::uint32_t index) {
  Bytes msg(9, 'H');
  std::memcpy(msg.data() + 1, &role, 4);
  std::memcpy(msg.data() + 5, &index, 4);
  Status sent = node.send_bytes(msg);
  if (!sent) return sent;
  if (!node.connection->receive_bytes(10000, [](ByteView) {})) {
    return Status::fail(Code::UNAVAILABLE, "the relay did not answer");
  }
  return Status::ok();
}

class RawPub final : public PubTransport {
 public:
  RawPub(TearlineNode& node, int index, std::size_t bytes) : node_(node), buf_(std::max(bytes, kHeader), 0) {
    buf_[0] = 'P';
    const auto p = static_cast<std::uint32_t>(index);
    std::memcpy(buf_.data() + 1, &p, 4);
  }
  Status prepare(std::uint64_t /*first_seq*/, std::size_t /*count*/, std::size_t /*ahead*/) override {
    return Status::ok();
  }
  Status send(std::uint64_t seq) override {
    std::memcpy(buf_.data() + 5, &seq, 8);
    return node_.send_bytes(buf_);
  }
  void poll(const Verdict& verdict) override {
    while (node_.connection->receive_bytes(0, [&](ByteView m) {
      if (m.size() == 9 && m[0] == 'A') verdict(load_at<std::uint64_t>(m.data(), 1), Outcome::kAccepted, 0);
    })) {
    }
  }
  int wait_fd() override { return node_.fd(); }
  bool pending_input() override { return node_.readable(); }

 private:
  TearlineNode& node_;
  Bytes buf_;
};

}  // namespace

int raw_relay_main(const RoleArgs& args) {
  std::signal(SIGTERM, on_term);
  std::signal(SIGINT, on_term);
  auto keys = crypto::read_broker_keys(identity::PkiPaths(args.pki).broker_key());
  if (!keys) {
    std::fprintf(stderr, "relay: %s\n", keys.status().to_string().c_str());
    return 1;
  }
  zmq::context_t ctx(1);
  zmq::socket_t router(ctx, zmq::socket_type::router);
  router.set(zmq::sockopt::linger, 0);
  router.set(zmq::sockopt::curve_server, 1);
  router.set(zmq::sockopt::curve_secretkey, zmq::buffer(keys->transport.secret().data(), 32));
  router.set(zmq::sockopt::maxmsgsize, std::int64_t{64} << 20);
  router.set(zmq::sockopt::sndhwm, 0);  // the publishers' window bounds what is in flight
  router.set(zmq::sockopt::rcvhwm, 0);
  router.bind(args.endpoint);
  std::vector<std::string> subs(static_cast<std::size_t>(args.shape.subscribers));
  const char welcome = 'W';
  while (!g_stop) {
    std::vector<zmq::message_t> parts;
    zmq::pollitem_t item{router.handle(), 0, ZMQ_POLLIN, 0};
    try {
      if (zmq::poll(&item, 1, std::chrono::milliseconds(100)) <= 0) continue;
      if (!zmq::recv_multipart(router, std::back_inserter(parts), zmq::recv_flags::dontwait)) continue;
    } catch (const zmq::error_t&) {
      continue;  // EINTR on SIGTERM
    }
    if (parts.size() != 2 || parts[1].size() < 1) continue;
    const char kind = static_cast<const char*>(parts[1].data())[0];
    if (kind == 'H' && parts[1].size() == 9) {
      const auto role = load_at<std::uint32_t>(parts[1].data(), 1);
      const auto index = load_at<std::uint32_t>(parts[1].data(), 5);
      if (role == 0 && index < subs.size()) subs[index] = parts[0].to_string();
      router.send(parts[0], zmq::send_flags::sndmore);
      router.send(zmq::buffer(&welcome, 1), zmq::send_flags::none);
    } else if (kind == 'P' && parts[1].size() >= kHeader) {
      const auto pub = static_cast<int>(load_at<std::uint32_t>(parts[1].data(), 1));
      const auto seq = load_at<std::uint64_t>(parts[1].data(), 5);
      char ack[9] = {'A'};
      std::memcpy(ack + 1, &seq, 8);
      router.send(zmq::buffer(parts[0].data(), parts[0].size()), zmq::send_flags::sndmore);
      router.send(zmq::buffer(ack, sizeof ack), zmq::send_flags::none);
      for (int j : receivers(args.shape, pub, seq)) {
        const std::string& id = subs[static_cast<std::size_t>(j)];
        if (id.empty()) continue;
        router.send(zmq::buffer(id), zmq::send_flags::sndmore);
        router.send(zmq::buffer(parts[1].data(), parts[1].size()), zmq::send_flags::none);
      }
    }
  }
  return 0;
}

int raw_pub_main(const RoleArgs& args) {
  auto control = Control::open(control_file(args.run_dir));
  if (!control) return 1;
  auto fail = [&](const Status& s) {
    std::fprintf(stderr, "raw pub %d: %s\n", args.index, s.to_string().c_str());
    (*control)->abort.store(1);
    return 1;
  };
  auto node = TearlineNode::load(args.pki, publisher_node(args.index));
  if (!node) return fail(node.status());
  Status s = (*node)->open_socket(args.endpoint);
  if (s) s = hello(**node, 1, static_cast<std::uint32_t>(args.index));
  if (!s) return fail(s);
  const int fifo = open_notify_fifo(notify_fifo(args.run_dir, args.index));
  (*control)->ready_pubs.fetch_add(1);
  RawPub transport(**node, args.index, args.payload_bytes);
  PubSummary summary;
  Status ran = run_publisher(args, **control, fifo, transport, summary);
  return ran ? 0 : fail(ran);
}

int raw_sub_main(const RoleArgs& args) {
  auto core = SubCore::open(args);
  if (!core) return 1;
  auto node = TearlineNode::load(args.pki, subscriber_node(args.index));
  Status s = node ? (*node)->open_socket(args.endpoint) : node.status();
  if (s) s = hello(**node, 0, static_cast<std::uint32_t>(args.index));
  if (!s) {
    std::fprintf(stderr, "raw sub %d: %s\n", args.index, s.to_string().c_str());
    (*core)->control().abort.store(1);
    return 1;
  }
  (*core)->ready();
  client::Connection& connection = *(*node)->connection;
  auto take = [&](ByteView m) {
    if (m.size() < kHeader || m[0] != 'P') return;
    const auto pub = static_cast<int>(load_at<std::uint32_t>(m.data(), 1));
    const auto seq = load_at<std::uint64_t>(m.data(), 5);
    if (pub < 0 || pub >= args.shape.publishers) {
      (*core)->summary().unexpected++;
      return;
    }
    if ((*core)->fresh(pub, seq)) (*core)->delivered(pub, seq, 0);
  };
  while (!(*core)->over()) {
    if (!connection.receive_bytes(20, take)) continue;
    while (connection.receive_bytes(0, take)) {
    }
  }
  return (*core)->finish();
}

}  // namespace tearline::bench
