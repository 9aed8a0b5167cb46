#include "bench/crypto_rates.h"

#include <sodium.h>

#include "base/clock.h"
#include "bench/control.h"
#include "bench/pub_loop.h"
#include "bench/report_factory.h"
#include "crypto/key_file.h"
#include "identity/pki.h"
#include "report/verify.h"
#include "wire/frame.h"

namespace tearline::bench {
namespace {

// Runs `op` repeatedly for about `seconds` of this thread's CPU time;
// returns CPU microseconds per call. CPU time, not wall time: other work on
// the machine delays the loop but does not change what one call costs.
template <typename Op>
double time_per_call(double seconds, Op op, int min_calls = 3) {
  const std::int64_t t0 = thread_cpu_ns();
  const auto limit = static_cast<std::int64_t>(seconds * 1e9);
  std::int64_t calls = 0;
  std::int64_t now = t0;
  while (calls < min_calls || now - t0 < limit) {
    op();
    ++calls;
    if ((calls & 15) == 0 || calls < 16) now = thread_cpu_ns();
  }
  now = thread_cpu_ns();
  return static_cast<double>(now - t0) / 1e3 / static_cast<double>(calls);
}

}  // namespace

Result<CryptoRates> measure_crypto(const World& world, const Shape& shape, double verify_seconds) {
  if (sodium_init() < 0) return Status::fail(Code::IO_ERROR, "sodium_init failed");
  CryptoRates r;
  {
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES], sig[crypto_sign_BYTES];
    std::vector<unsigned char> msg(1024);
    randombytes_buf(msg.data(), msg.size());
    crypto_sign_keypair(pk, sk);
    r.sign_us = time_per_call(0.3, [&] { crypto_sign_detached(sig, nullptr, msg.data(), msg.size(), sk); });
    int bad = 0;
    r.verify_us = time_per_call(
        verify_seconds, [&] { bad += crypto_sign_verify_detached(sig, msg.data(), msg.size(), pk) != 0 ? 1 : 0; });
    if (bad != 0) return Status::fail(Code::IO_ERROR, "the verify baseline failed to verify");
    r.verify_per_s = 1e6 / r.verify_us;
    std::vector<unsigned char> payload(shape.size + 16);
    randombytes_buf(payload.data(), payload.size());
    crypto_sign_detached(sig, nullptr, payload.data(), payload.size(), sk);
    r.verify_payload_us = time_per_call(
        0.2, [&] { bad += crypto_sign_verify_detached(sig, payload.data(), payload.size(), pk) != 0 ? 1 : 0; });
    if (bad != 0) return Status::fail(Code::IO_ERROR, "the verify baseline failed to verify");
  }
  identity::PkiPaths pki(world.pki);
  auto dir = identity::Directory::load(pki.directory(), SystemClock::instance().now_seconds(), nullptr);
  if (!dir) return dir.status();
  auto pub_keys = crypto::read_node_keys(pki.node_key(publisher_node(0)));
  if (!pub_keys) return pub_keys.status();
  const std::vector<int> rx = receivers(shape, 0, 1);
  if (rx.empty()) return Status::fail(Code::IO_ERROR, "report 1 has no receiver");
  auto sub_keys = crypto::read_node_keys(pki.node_key(subscriber_node(rx.front())));
  if (!sub_keys) return sub_keys.status();

  ReportFactory factory(shape, 0, **dir, pub_keys->signing);
  std::uint64_t seq = 1;
  Status failed;
  Bytes sample;
  r.build_us = time_per_call(0.4, [&] {
    auto b = factory.report(seq++);
    if (!b)
      failed = b.status();
    else
      sample = std::move(b).value();
  });
  if (!failed) return failed;
  {
    // What a publisher pays per report when every batch is full: one
    // signature per kMaxBuildBatch reports, content keys reused.
    ReportFactory batcher(shape, 0, **dir, pub_keys->signing);
    std::uint64_t next = 1;
    r.batch_build_us = time_per_call(0.4,
                                     [&] {
                                       auto frames = batcher.publish_frames(next, kMaxBuildBatch);
                                       next += kMaxBuildBatch;
                                       if (!frames) failed = frames.status();
                                     }) /
                       static_cast<double>(kMaxBuildBatch);
    if (!failed) return failed;
  }
  auto first = factory.report(1);  // the one sealed to rx.front()
  if (!first) return first.status();
  sample = std::move(first).value();
  r.report_bytes = sample.size();
  r.frame_bytes = wire::encode_frame(wire::make_publish(1, sample)).size();
  r.verify_report_us = time_per_call(0.4, [&] {
    auto v = report::verify_report(sample, **dir);
    if (!v) failed = v.status();
  });
  if (!failed) return failed;
  auto verified = report::verify_report(sample, **dir);
  const std::string node = subscriber_node(rx.front());
  r.open_us = time_per_call(0.4, [&] { (void)report::open_sections(*verified, node, sub_keys->sealing); });
  double total = 0;
  for (std::uint64_t s = 1; s <= 256; ++s) total += static_cast<double>(receivers(shape, 0, s).size());
  r.receivers_per_report = total / 256.0;
  return r;
}

}  // namespace tearline::bench
