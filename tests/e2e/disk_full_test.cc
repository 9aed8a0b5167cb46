// Issue 16, points 1 and 5: a broker whose data_dir is on a small tmpfs
// (8 MiB, mounted by the test; we run as root) fills it, answers thousands
// of STORAGE_FULL, and accepts again within 2 s once space is freed; the
// audit log then accounts for every refusal (aggregated entries
// "N x STORAGE_FULL between T1 and T2" plus single ones).
//
// When the tmpfs cannot be mounted (not root, no CAP_SYS_ADMIN), the test
// prints why and exits with 77, which ctest reports as skipped.
#include <catch2/catch.hpp>

#include <sqlite3.h>
#include <sys/mount.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "support/broker_fixture.h"
#include "support/e2e_helpers.h"
#include "support/temp_dir.h"
#include "tearline/client.h"

namespace tearline {
namespace {

using testing::BrokerFixture;
using testing::code_names;
using testing::draft;
using testing::kEveryone;
using testing::must_connect;

constexpr int kSkip = 77;  // SKIP_RETURN_CODE in tests/e2e/CMakeLists.txt

// An 8 MiB tmpfs on a fresh folder, unmounted at the end.
class SmallDisk {
 public:
  SmallDisk() : dir_("tearline-diskfull") {
    if (::mount("tmpfs", dir_.path().c_str(), "tmpfs", 0, "size=8m,mode=0700") != 0) {
      std::fprintf(stderr,
                   "\n*** SKIPPED disk_full: cannot mount a tmpfs on %s (%s); this test needs root "
                   "(CAP_SYS_ADMIN) ***\n\n",
                   dir_.path().c_str(), std::strerror(errno));
      std::exit(kSkip);
    }
  }
  ~SmallDisk() { ::umount2(dir_.path().c_str(), MNT_DETACH); }
  SmallDisk(const SmallDisk&) = delete;
  SmallDisk& operator=(const SmallDisk&) = delete;
  std::filesystem::path path() const { return dir_.path(); }

 private:
  testing::TempDir dir_;
};

// The publish's verdict, retrying a moment while the broker is unreachable.
std::vector<client::PublishOutcome> publish_all(client::Session& s, const std::vector<client::Draft>& drafts) {
  auto out = s.publish_batch(drafts);
  INFO(out.status().to_string());
  REQUIRE(out);
  return *out;
}

std::vector<client::Draft> small_drafts(int first, int n) {
  std::vector<client::Draft> out;
  out.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) out.push_back(draft("intel.flood", {{kEveryone, "small " + std::to_string(first + i)}}));
  return out;
}

bool is_full(const client::PublishOutcome& o) {
  return !o.accepted && code_names(o.status) == std::vector<std::string>{"STORAGE_FULL"};
}

TEST_CASE("disk full: after 5000 STORAGE_FULL answers, freeing space brings ACCEPTED back within 2 s",
          "[e2e][storage][diskfull]") {
  SmallDisk disk;
  const auto data = disk.path() / "data";
  std::filesystem::create_directories(data);
  const auto filler = disk.path() / "filler";
  {
    std::ofstream f(filler, std::ios::binary);
    const std::string mib(std::size_t{1} << 20, 'f');
    f << mib << mib;  // 2 MiB, freed later
  }
  BrokerFixture fx([&](broker::Config& c) {
    c.data_dir = data;
    c.limits.publish_rate = 1e6;
    c.limits.publish_burst = 1e6;
    c.limits.max_failures = 100000;
    c.limits.max_rate_limited = 0;
  });
  auto hq = must_connect(fx, "diran-bogota-hq");

  // Fill the disk: large reports until refused, then small ones until refused.
  int full_in_a_row = 0, refused_filling = 0;
  for (int n = 0; n < 200 && full_in_a_row < 2; ++n) {
    const auto out = publish_all(*hq, {draft("intel.flood", {{kEveryone, std::string(std::size_t{100} * 1024, 'a')}})});
    INFO(out[0].status.to_string());
    REQUIRE((out[0].accepted || is_full(out[0])));
    full_in_a_row = is_full(out[0]) ? full_in_a_row + 1 : 0;
    refused_filling += is_full(out[0]) ? 1 : 0;
  }
  REQUIRE(full_in_a_row == 2);

  // Thousands of refusals, pipelined 32 at a time.
  constexpr int kRefusals = 5000;
  int refused = 0, accepted = 0, next = 0;
  while (refused < kRefusals) {
    for (const auto& o : publish_all(*hq, small_drafts(next, 32))) {
      INFO(o.status.to_string());
      REQUIRE((o.accepted || is_full(o)));
      refused += o.accepted ? 0 : 1;
      accepted += o.accepted ? 1 : 0;
    }
    next += 32;
    REQUIRE(next < 4 * kRefusals);  // the disk is full: nearly everything is refused
  }
  INFO(refused << " refused, " << accepted << " accepted while full");

  // Space is freed: ACCEPTED again within 2 s, and it stays so.
  std::filesystem::remove(filler);
  const auto freed = std::chrono::steady_clock::now();
  bool back = false;
  int refused_after = 0;
  double waited_ms = 0;
  while (!back) {
    const auto out = publish_all(*hq, small_drafts(next++, 1));
    waited_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - freed).count();
    back = out[0].accepted;
    if (!back) {
      INFO(out[0].status.to_string());
      REQUIRE(is_full(out[0]));
      ++refused_after;
      REQUIRE(waited_ms < 2000);
    }
  }
  INFO("accepted again " << waited_ms << " ms after the space was freed");
  std::printf("disk_full: %d STORAGE_FULL, %d ACCEPTED while full; ACCEPTED again %.1f ms after freeing 2 MiB\n",
              refused, accepted, waited_ms);
  for (int i = 0; i < 10; ++i) {
    const auto out = publish_all(*hq, small_drafts(next, 32));
    next += 32;
    for (const auto& o : out) {
      INFO(o.status.to_string());
      CHECK(o.accepted);
    }
  }
  hq.reset();
  fx.stop();

  // The audit log accounts for every refusal: single entries count 1, the
  // aggregated ones count N.
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(fx.database().c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  REQUIRE(sqlite3_prepare_v2(db,
                             "SELECT detail FROM audit WHERE event = 'publish' AND decision = 'rejected'"
                             " AND detail LIKE '%STORAGE_FULL%'",
                             -1, &q, nullptr) == SQLITE_OK);
  long counted = 0, aggregated_entries = 0;
  const std::regex aggregate("^([0-9]+) x STORAGE_FULL between .*");
  while (sqlite3_step(q) == SQLITE_ROW) {
    const std::string detail = reinterpret_cast<const char*>(sqlite3_column_text(q, 0));
    std::smatch m;
    if (std::regex_match(detail, m, aggregate)) {
      counted += std::stol(m[1].str());
      ++aggregated_entries;
    } else {
      ++counted;
    }
  }
  sqlite3_finalize(q);
  sqlite3_close(db);
  // Every refusal, the large ones of the filling phase and those after the
  // space was freed included, each once.
  std::printf("disk_full: audit log: %ld STORAGE_FULL refusals counted in %ld aggregated entries and single ones\n",
              counted, aggregated_entries);
  CHECK(counted == refused + refused_filling + refused_after);
  CHECK(aggregated_entries >= 1);
  CHECK(aggregated_entries < 100);
}

}  // namespace
}  // namespace tearline
