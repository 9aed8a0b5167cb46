#include "broker/store_check.h"

#include <sqlite3.h>

#include <array>
#include <cstring>
#include <fstream>
#include <string>
#include <system_error>

#include "base/bytes.h"
#include "base/files.h"

namespace tearline::broker::store_check {

namespace {

namespace fs = std::filesystem;

constexpr std::size_t kHeaderBytes = 100;

fs::path record_of(const fs::path& db) { return fs::path(db.string() + ".clean-stop"); }

// The first 100 bytes, or fewer when the file is shorter.
std::string header_of(const fs::path& db) {
  std::ifstream in(db, std::ios::binary);
  std::array<char, kHeaderBytes> buf{};
  in.read(buf.data(), buf.size());
  return std::string(buf.data(), static_cast<std::size_t>(in.gcount()));
}

// "size=<bytes> header=<hex>": what the record holds and is compared with.
std::string fingerprint(const fs::path& db) {
  std::error_code ec;
  const auto size = fs::file_size(db, ec);
  if (ec) return "";
  return "size=" + std::to_string(size) + " header=" + to_hex(as_bytes(header_of(db))) + "\n";
}

Status damaged(const fs::path& db, const std::string& what) {
  return Status::fail(Code::STORAGE_DAMAGED, "store " + db.string() + " is damaged: " + what + "; " + kDamageAdvice);
}

}  // namespace

Status check_header(const fs::path& db) {
  std::error_code ec;
  const auto size = fs::file_size(db, ec);
  if (ec || size == 0) return Status::ok();  // new: SQLite writes the header
  const std::string h = header_of(db);
  if (h.size() < kHeaderBytes) return damaged(db, "shorter than the 100-byte database header");
  const auto byte = [&h](std::size_t i) { return static_cast<unsigned>(static_cast<unsigned char>(h[i])); };
  if (std::memcmp(h.data(), "SQLite format 3", 16) != 0) {
    return damaged(db, "the header does not begin with \"SQLite format 3\" (not a database, or its header is damaged)");
  }
  const unsigned page = byte(16) << 8 | byte(17);
  const bool page_ok = page == 1 || (page >= 512 && page <= 32768 && (page & (page - 1)) == 0);
  if (!page_ok) return damaged(db, "the header's page size " + std::to_string(page) + " is impossible");
  if (byte(18) < 1 || byte(18) > 2 || byte(19) < 1 || byte(19) > 2) {
    return damaged(db, "the header's file format versions " + std::to_string(byte(18)) + "/" +
                           std::to_string(byte(19)) + " are neither 1 nor 2");
  }
  if (byte(21) != 64 || byte(22) != 32 || byte(23) != 32) {
    return damaged(db, "the header's payload fractions are not 64/32/32");
  }
  return Status::ok();
}

bool take_clean_stop(const fs::path& db) {
  const fs::path record = record_of(db);
  auto held = read_file(record, 4096);
  if (!held) return false;
  std::error_code ec;
  fs::remove(record, ec);
  // Best effort: a removal lost in a crash still fails the fingerprint
  // check whenever the file changed after the record was written.
  (void)sync_directory(record.parent_path());
  const std::string was(held->begin(), held->end());
  return !was.empty() && was == fingerprint(db);
}

void mark_clean_stop(const fs::path& db) {
  const std::string now = fingerprint(db);
  if (now.empty()) return;
  (void)write_file_atomic(record_of(db), as_bytes(now), 0600);
}

Status quick_check(sqlite3* db, const fs::path& path) {
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v2(db, "PRAGMA quick_check(1)", -1, &s, nullptr);
  std::string first;
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
      const unsigned char* t = sqlite3_column_text(s, 0);
      first = t ? reinterpret_cast<const char*>(t) : "";
    }
  }
  if (rc != SQLITE_ROW) first = std::string("quick_check failed: ") + sqlite3_errmsg(db);
  sqlite3_finalize(s);
  if (rc == SQLITE_ROW && first == "ok") return Status::ok();
  for (char& c : first) {
    if (c == '\n') c = ' ';
  }
  return damaged(path, "PRAGMA quick_check: " + first);
}

}  // namespace tearline::broker::store_check
