// Baseline 2 and the single-core costs the rest is compared with, measured
// in the driver process on one core, in CPU time (CLOCK_THREAD_CPUTIME_ID):
//   verify      crypto_sign_verify_detached over 1 KiB (the one cost a
//               secure broker cannot avoid per report)
//   sign        crypto_sign_detached over 1 KiB
//   verify_payload  crypto_sign_verify_detached over the shape's report size
//   build       report::build_report_to of one report of the run's shape
//               (seal + wrap to every recipient + sign: one report alone)
//   batch_build per report, full batches of 64 with content-key epochs (the
//               least a publisher pays per report; the run's own batches are
//               what its load gives, pub_loop.h)
//   verify_report  report::verify_report of that report (broker, subscriber)
//   open        report::open_sections for one of its receivers
#pragma once

#include <cstddef>

#include "base/result.h"
#include "bench/plan.h"
#include "bench/world.h"

namespace tearline::bench {

struct CryptoRates {
  double verify_per_s = 0;
  double verify_us = 0;
  double sign_us = 0;
  double verify_payload_us = 0;  // Ed25519 verify over shape.size bytes (what a NATS subscriber verifies)
  double build_us = 0;
  double batch_build_us = 0;  // per report, in full batches of 64 with epochs
  double verify_report_us = 0;
  double open_us = 0;
  std::size_t report_bytes = 0;
  std::size_t frame_bytes = 0;
  double receivers_per_report = 0;  // average over the plan
};

Result<CryptoRates> measure_crypto(const World& world, const Shape& shape, double verify_seconds);

}  // namespace tearline::bench
