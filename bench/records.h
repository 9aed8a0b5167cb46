// What each publisher and subscriber process writes when it ends, read back
// by the driver: a summary and one fixed-size record per report (publisher)
// or per delivery (subscriber). Raw host-endian structs: writer and reader
// are the same binary on the same machine.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "base/result.h"

namespace tearline::bench {

enum class Outcome : std::int32_t { kPending = 0, kAccepted = 1, kRejected = 2, kLost = 3 };

struct PubRecord {
  std::uint64_t seq = 0;
  std::int64_t t_sched = 0;  // when it was due (paced) or sent (closed loop)
  std::int64_t t_send = 0;
  std::int64_t t_done = 0;  // ACCEPTED (tearline), relay ack (raw), send (nats: no verdict)
  Outcome outcome = Outcome::kPending;
  std::int32_t code = 0;  // the REJECTED/ERROR code
};

struct PubSummary {
  std::uint64_t prebuilt = 0;        // reports built before the start
  std::uint64_t built_inline = 0;    // built while sending (the pool ran out)
  std::int64_t build_ns = 0;         // time spent building the pool (wall)
  std::uint64_t stalled = 0;         // reports given up on (not complete within the stall timeout)
  std::uint64_t window_full_ns = 0;  // paced: time a due report waited for window space
  std::uint64_t errors = 0;          // ERROR frames
  // Building while sending (tearline: one signed batch per send
  // opportunity; nats: one message at a time), over the whole run.
  std::uint64_t batches = 0;        // builds (tearline: signed batches)
  std::uint64_t batch_reports = 0;  // reports they held
  std::int64_t build_cpu_ns = 0;    // the publisher thread's CPU time spent in them
  std::uint64_t epoch_reused = 0;   // tearline: sections sealed under an existing content-key epoch
  std::uint64_t epoch_started = 0;  // tearline: sections that started a new epoch
};

struct SubRecord {
  std::uint32_t pub = 0;
  std::uint32_t sections = 0;  // sections opened
  std::uint64_t seq = 0;
  std::int64_t t_recv = 0;  // after verify + open + checks
};

struct SubSummary {
  std::uint64_t received = 0;
  std::uint64_t violations = 0;        // a section it is not entitled to was present or opened
  std::uint64_t missing_sections = 0;  // an entitled section was withheld
  std::uint64_t verify_failures = 0;
  std::uint64_t open_failures = 0;  // sealed to it but would not open, or wrong plaintext
  std::uint64_t duplicates = 0;     // not above the last sequence seen from that publisher
  std::uint64_t unexpected = 0;     // a report it is not entitled to at all
  std::uint64_t errors = 0;         // ERROR frames (e.g. SLOW_CONSUMER)
  std::int32_t last_error = 0;
  std::int32_t stalled = 0;  // it stopped reading on purpose
  // tearline: the process's report::RootCache and report::UnwrapCache.
  std::uint64_t root_hits = 0;
  std::uint64_t root_verifies = 0;
  std::uint64_t unwrap_hits = 0;
  std::uint64_t unwrap_opens = 0;
};

Status write_pub_records(const std::filesystem::path& file, const PubSummary& summary,
                         const std::vector<PubRecord>& records);
Status write_sub_records(const std::filesystem::path& file, const SubSummary& summary,
                         const std::vector<SubRecord>& records);
Status read_pub_records(const std::filesystem::path& file, PubSummary* summary, std::vector<PubRecord>* records);
Status read_sub_records(const std::filesystem::path& file, SubSummary* summary, std::vector<SubRecord>* records);

}  // namespace tearline::bench
