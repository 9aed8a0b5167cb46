// Baseline 3: the peer a user would pick instead: core NATS (Debian's
// nats-server, over TLS) through Debian's libnats, with Ed25519 signing at
// the publisher and verification at each subscriber.
//
// Equivalences (docs/performance.md): a message is
//   u32 magic | u32 pub | u64 seq | content (shape.size bytes) | Ed25519 signature (64)
// signed ahead of the start like tearline's reports are built ahead. Core
// NATS gives no verdict, so a message counts as accepted when published; the
// publishers' window (pub_loop.h) closes the loop on the subscribers'
// progress exactly as for tearline. Every subscriber subscribes to bench.>
// and receives every message; it verifies (and counts) those the plan
// entitles it to and drops the others after reading the header.
#include <nats/nats.h>
#include <sodium.h>

#include <cstdio>
#include <cstring>

#include "base/clock.h"
#include "bench/pub_loop.h"
#include "bench/sub_core.h"
#include "crypto/key_file.h"
#include "identity/directory.h"
#include "identity/pki.h"

namespace tearline::bench {
namespace {

constexpr std::uint32_t kMagic = 0x4e544221;  // "NTB!"
constexpr std::size_t kHeader = 16;

Result<natsConnection*> connect(const RoleArgs& args, bool send_asap) {
  natsOptions* opts = nullptr;
  natsConnection* conn = nullptr;
  natsStatus s = natsOptions_Create(&opts);
  if (s == NATS_OK) s = natsOptions_SetURL(opts, args.endpoint.c_str());
  if (s == NATS_OK) s = natsOptions_SetSecure(opts, true);
  if (s == NATS_OK) s = natsOptions_LoadCATrustedCertificates(opts, args.ca.c_str());
  if (s == NATS_OK && send_asap) s = natsOptions_SetSendAsap(opts, true);
  if (s == NATS_OK) s = natsConnection_Connect(&conn, opts);
  natsOptions_Destroy(opts);
  if (s != NATS_OK) {
    return Status::fail(Code::UNAVAILABLE, std::string("nats connect ") + args.endpoint + ": " + natsStatus_GetText(s) +
                                               " " + nats_GetLastError(nullptr));
  }
  return conn;
}

class NatsPub final : public PubTransport {
 public:
  NatsPub(natsConnection* conn, int index, std::vector<Bytes> pool, const crypto::SigningKey& key, std::size_t content,
          PubSummary& summary)
      : conn_(conn),
        index_(index),
        subject_("bench.p" + std::to_string(index)),
        pool_(std::move(pool)),
        key_(key),
        content_(content),
        summary_(summary) {}

  static Bytes message(int index, std::uint64_t seq, std::size_t content, const crypto::SigningKey& key) {
    Bytes m(kHeader + content + crypto_sign_BYTES, 0x5a);
    const auto p = static_cast<std::uint32_t>(index);
    std::memcpy(m.data(), &kMagic, 4);
    std::memcpy(m.data() + 4, &p, 4);
    std::memcpy(m.data() + 8, &seq, 8);
    crypto_sign_detached(m.data() + kHeader + content, nullptr, m.data(), kHeader + content, key.secret().data());
    return m;
  }

  Status send(std::uint64_t seq) override {
    Bytes inline_built;
    const Bytes* m = nullptr;
    if (seq <= pool_.size()) {
      m = &pool_[seq - 1];
    } else {
      summary_.built_inline++;
      inline_built = message(index_, seq, content_, key_);
      m = &inline_built;
    }
    const natsStatus s = natsConnection_Publish(conn_, subject_.c_str(), m->data(), static_cast<int>(m->size()));
    if (seq <= pool_.size()) Bytes().swap(pool_[seq - 1]);
    if (s != NATS_OK) return Status::fail(Code::UNAVAILABLE, std::string("nats publish: ") + natsStatus_GetText(s));
    return Status::ok();
  }
  void poll(const Verdict&) override {}
  int wait_fd() override { return -1; }
  bool pending_input() override { return false; }
  bool verdict_on_send() const override { return true; }

 private:
  natsConnection* conn_;
  int index_;
  std::string subject_;
  std::vector<Bytes> pool_;
  const crypto::SigningKey& key_;
  std::size_t content_;
  PubSummary& summary_;
};

}  // namespace

int nats_pub_main(const RoleArgs& args) {
  auto control = Control::open(control_file(args.run_dir));
  if (!control) return 1;
  auto fail = [&](const Status& s) {
    std::fprintf(stderr, "nats pub %d: %s\n", args.index, s.to_string().c_str());
    (*control)->abort.store(1);
    return 1;
  };
  auto keys = crypto::read_node_keys(identity::PkiPaths(args.pki).node_key(publisher_node(args.index)));
  if (!keys) return fail(keys.status());
  PubSummary summary;
  std::vector<Bytes> pool;
  pool.reserve(args.pool);
  const std::int64_t t0 = mono_ns();
  for (std::uint64_t seq = 1; seq <= args.pool; ++seq)
    pool.push_back(NatsPub::message(args.index, seq, args.shape.size, keys->signing));
  summary.build_ns = mono_ns() - t0;
  summary.prebuilt = args.pool;
  auto conn = connect(args, args.rate > 0);
  if (!conn) return fail(conn.status());
  const int fifo = open_notify_fifo(notify_fifo(args.run_dir, args.index));
  (*control)->ready_pubs.fetch_add(1);
  NatsPub transport(*conn, args.index, std::move(pool), keys->signing, args.shape.size, summary);
  Status ran = run_publisher(args, **control, fifo, transport, summary);
  natsConnection_FlushTimeout(*conn, 5000);
  natsConnection_Destroy(*conn);
  return ran ? 0 : fail(ran);
}

int nats_sub_main(const RoleArgs& args) {
  auto core = SubCore::open(args);
  if (!core) return 1;
  auto fail = [&](const Status& s) {
    std::fprintf(stderr, "nats sub %d: %s\n", args.index, s.to_string().c_str());
    (*core)->control().abort.store(1);
    return 1;
  };
  auto dir = identity::Directory::load(identity::PkiPaths(args.pki).directory(), SystemClock::instance().now_seconds(),
                                       nullptr);
  if (!dir) return fail(dir.status());
  std::vector<crypto::VerifyKey> pub_keys;
  for (int p = 0; p < args.shape.publishers; ++p) {
    const identity::Credential* c = (*dir)->node(publisher_node(p));
    if (c == nullptr) return fail(Status::fail(Code::UNKNOWN_NODE, publisher_node(p)));
    pub_keys.push_back(c->signing_key);
  }
  auto conn = connect(args, false);
  if (!conn) return fail(conn.status());
  natsSubscription* sub = nullptr;
  natsStatus ns = natsConnection_SubscribeSync(&sub, *conn, "bench.>");
  if (ns == NATS_OK) ns = natsConnection_FlushTimeout(*conn, 5000);  // the subscription is in place
  if (ns != NATS_OK)
    return fail(Status::fail(Code::UNAVAILABLE, std::string("nats subscribe: ") + natsStatus_GetText(ns)));
  (*core)->ready();
  auto& sum = (*core)->summary();
  while (!(*core)->over()) {
    natsMsg* msg = nullptr;
    ns = natsSubscription_NextMsg(&msg, sub, 20);
    if (ns == NATS_TIMEOUT) continue;
    if (ns != NATS_OK) {
      sum.errors++;
      sum.last_error = static_cast<std::int32_t>(ns);
      continue;
    }
    const auto* data = reinterpret_cast<const std::uint8_t*>(natsMsg_GetData(msg));
    const auto len = static_cast<std::size_t>(natsMsg_GetDataLength(msg));
    std::uint32_t magic = 0, p = 0;
    std::uint64_t seq = 0;
    if (len >= kHeader + crypto_sign_BYTES) {
      std::memcpy(&magic, data, 4);
      std::memcpy(&p, data + 4, 4);
      std::memcpy(&seq, data + 8, 8);
    }
    const int pub = static_cast<int>(p);
    if (magic != kMagic || pub >= args.shape.publishers) {
      sum.unexpected++;
    } else if (!receives(args.shape, pub, seq, args.index)) {
      // Not entitled: a NATS subscriber gets it anyway and drops it here.
    } else if (crypto_sign_verify_detached(data + len - crypto_sign_BYTES, data, len - crypto_sign_BYTES,
                                           pub_keys[static_cast<std::size_t>(pub)].bytes.data()) != 0) {
      sum.verify_failures++;
    } else if ((*core)->fresh(pub, seq)) {
      (*core)->delivered(pub, seq, 1);
    }
    natsMsg_Destroy(msg);
  }
  natsSubscription_Destroy(sub);
  natsConnection_Destroy(*conn);
  return (*core)->finish();
}

}  // namespace tearline::bench
