// The SQLite store's start-up check (docs/reliability.md, section 7): is
// the database file damaged? Used by SqliteStore::open and ~SqliteStore.
//
// The clean-stop record: when the store closes cleanly (both connections
// closed, never halted), it writes "<db>.clean-stop" holding the file's size
// and its 100-byte header. At the next open that record is read and removed
// (fsynced) before anything else; when it is missing (the last stop was a
// crash, a kill, a power cut, or the store had halted) or no longer matches
// the file (changed at rest), PRAGMA quick_check runs before the store
// serves. A damaged header is refused at every open, record or not.
//
// Every damage found is STORAGE_DAMAGED naming the file, what is wrong and
// what to do. Pure functions of the file system; any thread, one store each.
#pragma once

#include <filesystem>

#include "base/result.h"

struct sqlite3;

namespace tearline::broker::store_check {

// The file's 100-byte header, when the file is not empty: the magic string,
// a page size SQLite can write, file format versions 1 or 2, payload
// fractions 64/32/32. STORAGE_DAMAGED naming the first field that is wrong.
Status check_header(const std::filesystem::path& db);

// Reads and removes the clean-stop record; true when it was there and still
// matches the file's size and header.
bool take_clean_stop(const std::filesystem::path& db);

// Writes the clean-stop record for the (closed) file; best effort.
void mark_clean_stop(const std::filesystem::path& db);

// PRAGMA quick_check on `db`: STORAGE_DAMAGED with its first finding.
Status quick_check(sqlite3* db, const std::filesystem::path& path);

// The reason every damage carries: what to do.
inline constexpr const char* kDamageAdvice = "restore the data dir from a backup (docs/reliability.md, section 7)";

}  // namespace tearline::broker::store_check
