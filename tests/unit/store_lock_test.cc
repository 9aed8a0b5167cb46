// broker/store_lock.h: one broker per data_dir. flock locks belong to an
// open file description, so two acquire() calls in one process contend as
// two brokers would.
#include <unistd.h>
#include <catch2/catch.hpp>

#include <fstream>
#include <optional>
#include <string>

#include "broker/store_lock.h"
#include "support/temp_dir.h"

namespace tearline::broker {
namespace {

std::string file_text(const std::filesystem::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST_CASE("store lock: the first holder writes its PID; a second is refused naming it; released on destruction",
          "[broker][store_lock]") {
  testing::TempDir dir;
  const auto data_dir = dir.path() / "data";  // created by acquire()
  const std::string pid = std::to_string(::getpid());
  {
    auto first = StoreLock::acquire(data_dir);
    INFO(first.status().to_string());
    REQUIRE(first);
    CHECK(file_text(data_dir / kStoreLockFile) == pid + "\n");

    auto second = StoreLock::acquire(data_dir);
    REQUIRE_FALSE(second);
    CHECK(second.status().code() == Code::IO_ERROR);
    CHECK(second.status().reasons()[0].message == "data_dir " + data_dir.string() +
                                                      " is in use by another broker (PID " + pid +
                                                      "); stop it or choose another data_dir");
    // Moving the lock keeps it held.
    std::optional<StoreLock> moved;
    moved.emplace(std::move(first).value());
    CHECK_FALSE(StoreLock::acquire(data_dir));
  }
  auto again = StoreLock::acquire(data_dir);
  CHECK(again);
}

TEST_CASE("store lock: a stale file left by a dead broker locks nothing", "[broker][store_lock]") {
  testing::TempDir dir;
  std::filesystem::create_directories(dir.path() / "data");
  std::ofstream(dir.path() / "data" / kStoreLockFile) << "999999\n";
  auto lock = StoreLock::acquire(dir.path() / "data");
  REQUIRE(lock);
  CHECK(file_text(dir.path() / "data" / kStoreLockFile) == std::to_string(::getpid()) + "\n");
}

}  // namespace
}  // namespace tearline::broker
