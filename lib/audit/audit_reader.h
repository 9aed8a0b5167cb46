// Read access to a broker's audit log, whichever store holds it: the SQLite
// database (sqlite_audit_reader, here) or PostgreSQL (pg_audit_reader,
// lib/audit/pg_audit_reader.h). `tearline audit verify|show|receipts` and
// the start-up anchor check (audit/anchor.h) read through it, so both work
// on either store.
//
// Each call is one read of committed data; a reader holds no state between
// calls but its connection. STORAGE_FAILED (IO_ERROR for a missing SQLite
// file) when the log cannot be read, with a message naming the store. Not
// thread-safe: one thread per reader.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "audit/audit.h"
#include "audit/audit_db.h"
#include "base/result.h"

namespace tearline::audit {

class AuditReader {
 public:
  virtual ~AuditReader() = default;
  // The matching entries, in index order (Filter: audit_db.h).
  virtual Result<std::vector<AuditEntry>> entries(const Filter& filter) = 0;
  // Every signed checkpoint, in index order.
  virtual Result<std::vector<Checkpoint>> checkpoints() = 0;
  // The distinct values of a column, sorted.
  virtual Result<std::vector<std::string>> distinct(Column column) = 0;
  // The highest entry index; 0 when the log is empty.
  virtual Result<std::uint64_t> last_index() = 0;
  // The hash of entry `index`; nullopt when there is no such entry.
  virtual Result<std::optional<crypto::Digest>> hash_at(std::uint64_t index) = 0;
};

// The audit log of the SQLite database at `db`, opened read-only at each
// call (a missing file: IO_ERROR at the first call).
std::unique_ptr<AuditReader> sqlite_audit_reader(const std::filesystem::path& db);

}  // namespace tearline::audit
