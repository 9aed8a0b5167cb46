// lib/audit/anchor: the anchor file stays bounded (rewritten with its newest
// lines past 1 MiB) and is read from its end; the newest verifying line wins.
// The start-up comparison with the store is tested end to end by
// audit_anchor_cli (tests/cli/audit_anchor_test.sh).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "audit/anchor.h"
#include "audit/audit.h"
#include "crypto/keys.h"
#include "support/temp_dir.h"

namespace tearline::audit {
namespace {

constexpr std::int64_t kAnchorT0 = 1780272000000;
constexpr std::uintmax_t kMiB = std::uintmax_t{1} << 20;

Checkpoint checkpoint_at(std::uint64_t index, const crypto::SigningKey& key) {
  AuditEntry last;
  last.index = index;
  last.hash.fill(static_cast<std::uint8_t>(index));
  return sign_checkpoint(last, kAnchorT0 + static_cast<std::int64_t>(index), key);
}

TEST_CASE("audit anchor: the file never grows past 1 MiB and keeps the newest checkpoint", "[audit][anchor]") {
  testing::TempDir dir;
  const auto key = crypto::SigningKey::generate();
  const auto path = anchor_path(dir.path());
  const std::size_t line_bytes = anchor_line(checkpoint_at(1, key)).size() + 1;
  const std::uint64_t lines = kMiB / line_bytes + 100;  // enough to pass 1 MiB once
  std::uintmax_t largest = 0;
  int compactions = 0;
  for (std::uint64_t i = 1; i <= lines; ++i) {
    REQUIRE(append_anchor(path, {checkpoint_at(i, key)}));
    largest = std::max(largest, std::filesystem::file_size(path));
    auto compacted = compact_anchor(path, {checkpoint_at(i, key)});
    REQUIRE(compacted);
    compactions += *compacted ? 1 : 0;
  }
  CHECK(compactions == 1);
  CHECK(largest <= kMiB + line_bytes);
  CHECK(std::filesystem::file_size(path) < kMiB / 4);  // rewritten once, then appended to
  CHECK((std::filesystem::status(path).permissions() & std::filesystem::perms::others_read) ==
        std::filesystem::perms::none);
  std::size_t skipped = 0;
  const auto newest = newest_anchor(path, key.public_key(), &skipped);
  REQUIRE(newest);
  CHECK(newest->index == lines);
  CHECK(skipped == 0);
}

TEST_CASE("audit anchor: read from the end; a damaged last line falls back to the one before", "[audit][anchor]") {
  testing::TempDir dir;
  const auto key = crypto::SigningKey::generate();
  const auto path = anchor_path(dir.path());
  {
    std::ofstream out(path);
    for (int i = 0; i < 40000; ++i) out << "not an anchor line, from an old and large file\n";  // ~1.9 MB
    out << anchor_line(checkpoint_at(7, key)) << "\n";
    std::string damaged = anchor_line(checkpoint_at(8, key));
    damaged[damaged.size() - 1] = damaged.back() == '0' ? '1' : '0';  // a signature digit
    out << damaged << "\n";
  }
  std::size_t skipped = 0;
  const auto newest = newest_anchor(path, key.public_key(), &skipped);
  REQUIRE(newest);
  CHECK(newest->index == 7);
  CHECK(skipped == 1);  // the damaged line; the lines before the newest verifying one are not read
  // Only the last 64 KiB are read: with no verifying line there, none is found.
  {
    std::ofstream out(path, std::ios::app);
    for (int i = 0; i < 2000; ++i) out << "not an anchor line, from an old and large file\n";
  }
  skipped = 0;
  CHECK_FALSE(newest_anchor(path, key.public_key(), &skipped));
  CHECK(skipped > 1000);
  CHECK(skipped < 2000);
}

TEST_CASE("audit anchor: a tail that begins exactly at a line keeps that line", "[audit][anchor]") {
  testing::TempDir dir;
  const auto key = crypto::SigningKey::generate();
  const auto path = anchor_path(dir.path());
  const std::string line = anchor_line(checkpoint_at(9, key)) + "\n";
  {
    // The last 64 KiB: the verifying line, then one filler line up to
    // exactly 64 KiB in all; a line before them.
    const std::size_t filler = (std::size_t{64} << 10) - line.size();
    std::ofstream out(path);
    out << std::string(63, 'x') << "\n" << line << std::string(filler - 1, 'y') << "\n";
  }
  std::size_t skipped = 0;
  const auto newest = newest_anchor(path, key.public_key(), &skipped);
  REQUIRE(newest);
  CHECK(newest->index == 9);
}

}  // namespace
}  // namespace tearline::audit
