// The audit log's tables in the broker's SQLite database, shared by the
// broker (which writes them inside its store transactions) and by
// `tearline audit verify|show` (which reads them, read-only).
//
//   audit(idx INTEGER PRIMARY KEY, time_ms, event, node, report, decision,
//         detail, prev_hash BLOB(32), hash BLOB(32))
//   audit_checkpoints(idx INTEGER PRIMARY KEY, time_ms, hash BLOB(32),
//                     signature BLOB(64))
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "audit/audit.h"
#include "base/result.h"

struct sqlite3;

namespace tearline::audit {

inline constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS audit(idx INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL, event TEXT NOT NULL,"
    " node TEXT NOT NULL, report TEXT NOT NULL, decision TEXT NOT NULL, detail TEXT NOT NULL,"
    " prev_hash BLOB NOT NULL, hash BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS audit_checkpoints(idx INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL,"
    " hash BLOB NOT NULL, signature BLOB NOT NULL);";

// Inserts entries / a checkpoint with `db` (inside the caller's transaction).
Status insert_entries(sqlite3* db, const std::vector<AuditEntry>& entries);
Status insert_checkpoint(sqlite3* db, const Checkpoint& checkpoint);
// The last entry (index 0 and zero hash when the log is empty).
Result<AuditEntry> last_entry(sqlite3* db);

// node: entries whose node is this one, and "routing" entries with a clause
// about it (" | NODE ..."); the others: equal (report: a prefix of the id).
struct Filter {
  std::string node, report, decision, event;
  std::int64_t since_ms = 0, until_ms = 0;  // 0: unbounded
  std::uint64_t after_index = 0;            // only entries with a greater index (audit show --follow)
  std::uint64_t limit = 0;                  // > 0: only the last `limit` matching entries
};

// Opens the database read-only and reads the matching entries, in index order.
Result<std::vector<AuditEntry>> read_entries(const std::filesystem::path& db_path, const Filter& filter = {});
Result<std::vector<Checkpoint>> read_checkpoints(const std::filesystem::path& db_path);

enum class Column { kEvent, kDecision };
// The distinct values of the column in the log, sorted (read-only).
Result<std::vector<std::string>> read_distinct(const std::filesystem::path& db_path, Column column);

}  // namespace tearline::audit
