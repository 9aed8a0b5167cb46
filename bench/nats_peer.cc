// Baseline 3: the peer a user would pick instead: core NATS (Debian's
// nats-server, over TLS) through Debian's libnats, in two variants.
//
// Sign + verify (the "nats" row), a message is
//   u32 magic | u32 pub | u64 seq | content (shape.size bytes) | Ed25519 signature (64)
// and each entitled subscriber verifies the signature.
//
// Same guarantees as tearline's end-to-end sealing (`--sealed`, the
// "nats-sealed" row), a message is
//   u32 magic | u32 pub | u64 seq | u32 n | n x (u32 subscriber, crypto_box_seal(content key) (80))
//   | nonce (24) | XChaCha20-Poly1305(content, AD = everything before the nonce) | Ed25519 signature (64)
// with a fresh content key per message sealed to the X25519 sealing key (from
// the directory) of every subscriber the plan entitles to it, the signature
// covering all of it; each entitled subscriber verifies, opens its wrap,
// decrypts and checks the content's section tag. Neither variant is durable.
//
// Both build inside the measured interval (one message per report,
// pub_loop.h prepare()), or ahead with `run --prebuilt`. Core NATS gives no
// verdict, so a message counts as accepted when published; the publishers'
// window (pub_loop.h) closes the loop on the subscribers' progress exactly as
// for tearline. Every subscriber subscribes to bench.> and receives every
// message; it processes (and counts) those the plan entitles it to and drops
// the others after reading the header.
#include <nats/nats.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>

#include "base/clock.h"
#include "bench/pub_loop.h"
#include "bench/report_factory.h"
#include "bench/sub_core.h"
#include "crypto/key_file.h"
#include "identity/directory.h"
#include "identity/pki.h"

namespace tearline::bench {
namespace {

constexpr std::uint32_t kMagic = 0x4e544221;        // "NTB!"
constexpr std::uint32_t kMagicSealed = 0x4e545321;  // "NTS!"
constexpr std::size_t kHeader = 16;
constexpr std::size_t kWrapBytes = 4 + crypto_box_SEALBYTES + crypto_aead_xchacha20poly1305_ietf_KEYBYTES;
constexpr std::size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;

// Builds one publisher's messages (either variant).
class NatsMessages {
 public:
  NatsMessages(const RoleArgs& args, const crypto::SigningKey& key, std::vector<crypto::SealingPublicKey> subscribers)
      : shape_(args.shape),
        index_(args.index),
        sealed_(args.sealed),
        key_(key),
        subscribers_(std::move(subscribers)),
        content_(args.shape.size, 0x5a) {}

  Bytes build(std::uint64_t seq) const { return sealed_ ? build_sealed(seq) : build_signed(seq); }

 private:
  void header(Bytes& m, std::uint32_t magic, std::uint64_t seq) const {
    const auto p = static_cast<std::uint32_t>(index_);
    std::memcpy(m.data(), &magic, 4);
    std::memcpy(m.data() + 4, &p, 4);
    std::memcpy(m.data() + 8, &seq, 8);
  }
  void sign(Bytes& m) const {
    const std::size_t body = m.size() - crypto_sign_BYTES;
    crypto_sign_detached(m.data() + body, nullptr, m.data(), body, key_.secret().data());
  }
  Bytes build_signed(std::uint64_t seq) const {
    Bytes m(kHeader + content_.size() + crypto_sign_BYTES, 0x5a);
    header(m, kMagic, seq);
    sign(m);
    return m;
  }
  Bytes build_sealed(std::uint64_t seq) const {
    const std::vector<int> to = receivers(shape_, index_, seq);
    const std::size_t ad = kHeader + 4 + to.size() * kWrapBytes;
    Bytes m(ad + kNonce + content_.size() + kTag + crypto_sign_BYTES);
    header(m, kMagicSealed, seq);
    const auto n = static_cast<std::uint32_t>(to.size());
    std::memcpy(m.data() + kHeader, &n, 4);
    std::array<std::uint8_t, crypto_aead_xchacha20poly1305_ietf_KEYBYTES> content_key{};
    crypto_aead_xchacha20poly1305_ietf_keygen(content_key.data());
    std::uint8_t* w = m.data() + kHeader + 4;
    for (int j : to) {
      const auto sub = static_cast<std::uint32_t>(j);
      std::memcpy(w, &sub, 4);
      crypto_box_seal(w + 4, content_key.data(), content_key.size(),
                      subscribers_[static_cast<std::size_t>(j)].bytes.data());
      w += kWrapBytes;
    }
    std::uint8_t* nonce = m.data() + ad;
    randombytes_buf(nonce, kNonce);
    Bytes plain = content_;
    const auto tag = section_tag(index_, seq, 0);
    std::memcpy(plain.data(), tag.data(), std::min(tag.size(), plain.size()));
    crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + kNonce, nullptr, plain.data(), plain.size(), m.data(), ad,
                                               nullptr, nonce, content_key.data());
    sodium_memzero(content_key.data(), content_key.size());
    sign(m);
    return m;
  }

  Shape shape_;
  int index_;
  bool sealed_;
  const crypto::SigningKey& key_;
  std::vector<crypto::SealingPublicKey> subscribers_;  // by subscriber index
  Bytes content_;
};

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
  NatsPub(natsConnection* conn, int index, std::vector<Bytes> pool, const NatsMessages& messages, PubSummary& summary)
      : conn_(conn),
        subject_("bench.p" + std::to_string(index)),
        ready_(std::move(pool)),
        messages_(messages),
        summary_(summary) {}

  Status prepare(std::uint64_t first_seq, std::size_t count, std::size_t ahead) override {
    const ReadyReports::Build need = ready_.to_build(first_seq, count, ahead);
    if (need.count == 0) return Status::ok();
    const std::int64_t t0 = thread_cpu_ns();
    for (std::uint64_t seq = need.first; seq < need.first + need.count; ++seq) ready_.add(messages_.build(seq));
    summary_.build_cpu_ns += thread_cpu_ns() - t0;
    summary_.batches += need.count;  // one message per build
    summary_.batch_reports += need.count;
    summary_.built_inline += need.count;
    return Status::ok();
  }

  Status send(std::uint64_t seq) override {
    auto m = ready_.take(seq);
    if (!m) return m.status();
    const natsStatus s = natsConnection_Publish(conn_, subject_.c_str(), m->data(), static_cast<int>(m->size()));
    if (s != NATS_OK) return Status::fail(Code::UNAVAILABLE, std::string("nats publish: ") + natsStatus_GetText(s));
    return Status::ok();
  }
  void poll(const Verdict& /*verdict*/) override {}
  int wait_fd() override { return -1; }
  bool pending_input() override { return false; }
  bool verdict_on_send() const override { return true; }

 private:
  natsConnection* conn_;
  std::string subject_;
  ReadyReports ready_;
  const NatsMessages& messages_;
  PubSummary& summary_;
};

Result<identity::DirectoryPtr> load_directory(const RoleArgs& args) {
  return identity::Directory::load(identity::PkiPaths(args.pki).directory(), SystemClock::instance().now_seconds(),
                                   nullptr);
}

// Opens a sealed message's body (signature already verified and removed) for
// subscriber `sub`: its wrap, then the content, whose section tag must name
// (pub, seq). False when anything is missing or does not open.
bool open_sealed(ByteView body, int sub, const crypto::SealingPublicKey& public_key, const crypto::SealingKey& key,
                 int pub, std::uint64_t seq, Bytes& plain) {
  if (body.size() < kHeader + 4) return false;
  std::uint32_t n = 0;
  std::memcpy(&n, body.data() + kHeader, 4);
  const std::size_t ad = kHeader + 4 + std::size_t{n} * kWrapBytes;
  if (n > static_cast<std::uint32_t>(kMaxSubscribers) || body.size() < ad + kNonce + kTag) return false;
  const std::uint8_t* wrap = nullptr;
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::uint8_t* w = body.data() + kHeader + 4 + i * kWrapBytes;
    std::uint32_t who = 0;
    std::memcpy(&who, w, 4);
    if (who == static_cast<std::uint32_t>(sub)) wrap = w + 4;
  }
  if (wrap == nullptr) return false;
  std::array<std::uint8_t, crypto_aead_xchacha20poly1305_ietf_KEYBYTES> content_key{};
  if (crypto_box_seal_open(content_key.data(), wrap, crypto_box_SEALBYTES + content_key.size(), public_key.bytes.data(),
                           key.secret().data()) != 0) {
    return false;
  }
  const std::uint8_t* nonce = body.data() + ad;
  const std::size_t cipher = body.size() - ad - kNonce;
  plain.resize(cipher - kTag);
  const bool opened = crypto_aead_xchacha20poly1305_ietf_decrypt(plain.data(), nullptr, nullptr, nonce + kNonce, cipher,
                                                                 body.data(), ad, nonce, content_key.data()) == 0;
  sodium_memzero(content_key.data(), content_key.size());
  const auto tag = section_tag(pub, seq, 0);
  return opened && plain.size() >= tag.size() && std::memcmp(plain.data(), tag.data(), tag.size()) == 0;
}

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
  auto dir = load_directory(args);
  if (!dir) return fail(dir.status());
  std::vector<crypto::SealingPublicKey> subscribers;
  for (int j = 0; j < args.shape.subscribers; ++j) {
    const identity::Credential* c = (*dir)->node(subscriber_node(j));
    if (c == nullptr) return fail(Status::fail(Code::UNKNOWN_NODE, subscriber_node(j)));
    subscribers.push_back(c->sealing_key);
  }
  const NatsMessages messages(args, keys->signing, std::move(subscribers));
  PubSummary summary;
  std::vector<Bytes> pool;
  pool.reserve(args.pool);
  const std::int64_t t0 = mono_ns();
  for (std::uint64_t seq = 1; seq <= args.pool; ++seq) pool.push_back(messages.build(seq));
  summary.build_ns = mono_ns() - t0;
  summary.prebuilt = args.pool;
  auto conn = connect(args, args.rate > 0);
  if (!conn) return fail(conn.status());
  const int fifo = open_notify_fifo(notify_fifo(args.run_dir, args.index));
  (*control)->ready_pubs.fetch_add(1);
  NatsPub transport(*conn, args.index, std::move(pool), messages, summary);
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
  auto dir = load_directory(args);
  if (!dir) return fail(dir.status());
  auto keys = crypto::read_node_keys(identity::PkiPaths(args.pki).node_key(subscriber_node(args.index)));
  if (!keys) return fail(keys.status());
  const identity::Credential* self = (*dir)->node(subscriber_node(args.index));
  if (self == nullptr) return fail(Status::fail(Code::UNKNOWN_NODE, subscriber_node(args.index)));
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
  Bytes plain;
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
    if (magic != (args.sealed ? kMagicSealed : kMagic) || pub >= args.shape.publishers) {
      sum.unexpected++;
    } else if (!receives(args.shape, pub, seq, args.index)) {
      // Not entitled: a NATS subscriber gets it anyway and drops it here.
    } else if (crypto_sign_verify_detached(data + len - crypto_sign_BYTES, data, len - crypto_sign_BYTES,
                                           pub_keys[static_cast<std::size_t>(pub)].bytes.data()) != 0) {
      sum.verify_failures++;
    } else if (!args.sealed) {
      if ((*core)->fresh(pub, seq)) (*core)->delivered(pub, seq, 1);
    } else if ((*core)->fresh(pub, seq)) {
      if (open_sealed(ByteView(data, len - crypto_sign_BYTES), args.index, self->sealing_key, keys->sealing, pub, seq,
                      plain)) {
        (*core)->delivered(pub, seq, 1);
      } else {
        sum.open_failures++;
      }
    }
    natsMsg_Destroy(msg);
  }
  natsSubscription_Destroy(sub);
  natsConnection_Destroy(*conn);
  return (*core)->finish();
}

}  // namespace tearline::bench
