// The child processes of a run: `tearline-bench <role> ...`, re-executed by
// the driver. Every role reads the run's control block and writes its
// records into the run folder (pub-<i>.rec, sub-<j>.rec) before it exits.
// Each returns the process exit code (0 = ran to the end).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "bench/plan.h"

namespace tearline::bench {

struct RoleArgs {
  std::filesystem::path run_dir;
  std::filesystem::path pki;
  std::string endpoint;   // tcp://127.0.0.1:PORT (tearline, raw) or tls://127.0.0.1:PORT (nats)
  std::string broker_id;  // tearline: the broker's id when not the PKI's first (its key from its credential)
  int index = 0;          // publisher or subscriber index
  Shape shape;
  std::uint64_t pool = 0;         // publishers: reports built ahead of the start
  double rate = 0;                // publishers: reports/s, 0 = closed loop
  std::size_t payload_bytes = 0;  // raw: message size
  std::filesystem::path ca;       // nats: the server's certificate
  bool sealed = false;            // nats: the same-guarantees variant (nats_peer.cc)
  // tearline publishers: reports built by an earlier run of the same cell,
  // reused while recent (created-at must stay within the broker's window);
  // the pool is extended and written back when it falls short.
  std::filesystem::path pool_file;
};

std::filesystem::path control_file(const std::filesystem::path& run_dir);
std::filesystem::path pub_records_file(const std::filesystem::path& run_dir, int pub);
std::filesystem::path sub_records_file(const std::filesystem::path& run_dir, int sub);

int tearline_pub_main(const RoleArgs& args);
int tearline_sub_main(const RoleArgs& args);
int raw_relay_main(const RoleArgs& args);
int raw_pub_main(const RoleArgs& args);
int raw_sub_main(const RoleArgs& args);
int nats_pub_main(const RoleArgs& args);
int nats_sub_main(const RoleArgs& args);

}  // namespace tearline::bench
