#include "audit/audit_db.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>

#include "audit/audit_reader.h"

namespace tearline::audit {
namespace {

Status sql_error(sqlite3* db, const std::string& what) {
  return Status::fail(Code::STORAGE_FAILED, what + ": " + (db ? sqlite3_errmsg(db) : "cannot open"));
}

struct Statement {
  sqlite3_stmt* stmt = nullptr;
  ~Statement() { sqlite3_finalize(stmt); }
};

void copy_digest(sqlite3_stmt* s, int col, crypto::Digest* out) {
  const void* p = sqlite3_column_blob(s, col);
  const int n = sqlite3_column_bytes(s, col);
  out->fill(0);
  if (p != nullptr) std::memcpy(out->data(), p, std::min<std::size_t>(static_cast<std::size_t>(n), out->size()));
}

std::string text(sqlite3_stmt* s, int col) {
  const unsigned char* p = sqlite3_column_text(s, col);
  return p ? std::string(reinterpret_cast<const char*>(p)) : std::string();
}

struct ReadOnly {
  sqlite3* db = nullptr;
  ~ReadOnly() { sqlite3_close(db); }
};

Status open_read_only(const std::filesystem::path& path, ReadOnly* out) {
  if (!std::filesystem::exists(path)) return Status::fail(Code::IO_ERROR, "no audit database at " + path.string());
  if (sqlite3_open_v2(path.c_str(), &out->db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    return sql_error(out->db, "cannot open " + path.string());
  }
  sqlite3_busy_timeout(out->db, 5000);
  return Status::ok();
}

}  // namespace

Status insert_entries(sqlite3* db, const std::vector<AuditEntry>& entries) {
  if (entries.empty()) return Status::ok();
  Statement st;
  if (sqlite3_prepare_v2(db,
                         "INSERT INTO audit(idx,time_ms,event,node,report,decision,detail,prev_hash,hash)"
                         " VALUES(?,?,?,?,?,?,?,?,?)",
                         -1, &st.stmt, nullptr) != SQLITE_OK) {
    return sql_error(db, "prepare audit insert");
  }
  for (const auto& e : entries) {
    sqlite3_bind_int64(st.stmt, 1, static_cast<sqlite3_int64>(e.index));
    sqlite3_bind_int64(st.stmt, 2, e.time_ms);
    sqlite3_bind_text(st.stmt, 3, e.event.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st.stmt, 4, e.node.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st.stmt, 5, e.report.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st.stmt, 6, e.decision.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st.stmt, 7, e.detail.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_blob(st.stmt, 8, e.prev_hash.data(), 32, SQLITE_TRANSIENT);
    sqlite3_bind_blob(st.stmt, 9, e.hash.data(), 32, SQLITE_TRANSIENT);
    const int rc = sqlite3_step(st.stmt);
    if (rc != SQLITE_DONE)
      return Status::fail(rc == SQLITE_FULL ? Code::STORAGE_FULL : Code::STORAGE_FAILED,
                          std::string("audit insert: ") + sqlite3_errmsg(db));
    sqlite3_reset(st.stmt);
  }
  return Status::ok();
}

Status insert_checkpoint(sqlite3* db, const Checkpoint& c) {
  Statement st;
  if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO audit_checkpoints(idx,time_ms,hash,signature) VALUES(?,?,?,?)", -1,
                         &st.stmt, nullptr) != SQLITE_OK) {
    return sql_error(db, "prepare checkpoint insert");
  }
  sqlite3_bind_int64(st.stmt, 1, static_cast<sqlite3_int64>(c.index));
  sqlite3_bind_int64(st.stmt, 2, c.time_ms);
  sqlite3_bind_blob(st.stmt, 3, c.hash.data(), 32, SQLITE_TRANSIENT);
  sqlite3_bind_blob(st.stmt, 4, c.signature.data(), 64, SQLITE_TRANSIENT);
  const int rc = sqlite3_step(st.stmt);
  if (rc != SQLITE_DONE)
    return Status::fail(rc == SQLITE_FULL ? Code::STORAGE_FULL : Code::STORAGE_FAILED,
                        std::string("checkpoint insert: ") + sqlite3_errmsg(db));
  return Status::ok();
}

Result<AuditEntry> last_entry(sqlite3* db) {
  Statement st;
  if (sqlite3_prepare_v2(db, "SELECT idx, hash FROM audit ORDER BY idx DESC LIMIT 1", -1, &st.stmt, nullptr) !=
      SQLITE_OK) {
    return sql_error(db, "prepare last audit entry");
  }
  AuditEntry e;
  if (sqlite3_step(st.stmt) == SQLITE_ROW) {
    e.index = static_cast<std::uint64_t>(sqlite3_column_int64(st.stmt, 0));
    copy_digest(st.stmt, 1, &e.hash);
  }
  return e;
}

Result<std::vector<AuditEntry>> read_entries(const std::filesystem::path& path, const Filter& f) {
  ReadOnly ro;
  Status s = open_read_only(path, &ro);
  if (!s) return s;
  Statement st;
  // The newest `limit` rows (?8 = -1: all of them), read back in index order.
  if (sqlite3_prepare_v2(ro.db,
                         "SELECT * FROM (SELECT idx,time_ms,event,node,report,decision,detail,prev_hash,hash FROM audit"
                         " WHERE (?1 = '' OR node = ?1 OR (event = 'routing' AND instr(detail, ' | ' || ?1 || ' ') > "
                         "0)) AND (?2 = '' OR report LIKE ?2 || '%')"
                         " AND (?3 = '' OR decision = ?3) AND (?4 = '' OR event = ?4)"
                         " AND (?5 = 0 OR time_ms >= ?5) AND (?6 = 0 OR time_ms <= ?6) AND idx > ?7"
                         " ORDER BY idx DESC LIMIT ?8) ORDER BY idx",
                         -1, &st.stmt, nullptr) != SQLITE_OK) {
    return sql_error(ro.db, "read audit log");
  }
  sqlite3_bind_text(st.stmt, 1, f.node.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st.stmt, 2, f.report.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st.stmt, 3, f.decision.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st.stmt, 4, f.event.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st.stmt, 5, f.since_ms);
  sqlite3_bind_int64(st.stmt, 6, f.until_ms);
  sqlite3_bind_int64(st.stmt, 7, static_cast<sqlite3_int64>(std::min<std::uint64_t>(f.after_index, INT64_MAX)));
  sqlite3_bind_int64(st.stmt, 8,
                     f.limit == 0 ? -1 : static_cast<sqlite3_int64>(std::min<std::uint64_t>(f.limit, INT64_MAX)));
  std::vector<AuditEntry> out;
  int rc;
  while ((rc = sqlite3_step(st.stmt)) == SQLITE_ROW) {
    AuditEntry e;
    e.index = static_cast<std::uint64_t>(sqlite3_column_int64(st.stmt, 0));
    e.time_ms = sqlite3_column_int64(st.stmt, 1);
    e.event = text(st.stmt, 2);
    e.node = text(st.stmt, 3);
    e.report = text(st.stmt, 4);
    e.decision = text(st.stmt, 5);
    e.detail = text(st.stmt, 6);
    copy_digest(st.stmt, 7, &e.prev_hash);
    copy_digest(st.stmt, 8, &e.hash);
    out.push_back(std::move(e));
  }
  if (rc != SQLITE_DONE) return sql_error(ro.db, "read audit log");
  return out;
}

Result<std::vector<Checkpoint>> read_checkpoints(const std::filesystem::path& path) {
  ReadOnly ro;
  Status s = open_read_only(path, &ro);
  if (!s) return s;
  Statement st;
  if (sqlite3_prepare_v2(ro.db, "SELECT idx,time_ms,hash,signature FROM audit_checkpoints ORDER BY idx", -1, &st.stmt,
                         nullptr) != SQLITE_OK) {
    return sql_error(ro.db, "read audit checkpoints");
  }
  std::vector<Checkpoint> out;
  while (sqlite3_step(st.stmt) == SQLITE_ROW) {
    Checkpoint c;
    c.index = static_cast<std::uint64_t>(sqlite3_column_int64(st.stmt, 0));
    c.time_ms = sqlite3_column_int64(st.stmt, 1);
    copy_digest(st.stmt, 2, &c.hash);
    const void* p = sqlite3_column_blob(st.stmt, 3);
    if (p != nullptr && sqlite3_column_bytes(st.stmt, 3) == 64) std::memcpy(c.signature.data(), p, 64);
    out.push_back(c);
  }
  return out;
}

Result<std::vector<std::string>> read_distinct(const std::filesystem::path& path, Column column) {
  ReadOnly ro;
  Status s = open_read_only(path, &ro);
  if (!s) return s;
  Statement st;
  const char* sql = column == Column::kEvent ? "SELECT DISTINCT event FROM audit ORDER BY event"
                                             : "SELECT DISTINCT decision FROM audit ORDER BY decision";
  if (sqlite3_prepare_v2(ro.db, sql, -1, &st.stmt, nullptr) != SQLITE_OK) return sql_error(ro.db, "read audit log");
  std::vector<std::string> out;
  int rc;
  while ((rc = sqlite3_step(st.stmt)) == SQLITE_ROW) out.push_back(text(st.stmt, 0));
  if (rc != SQLITE_DONE) return sql_error(ro.db, "read audit log");
  return out;
}

namespace {

class SqliteAuditReader final : public AuditReader {
 public:
  explicit SqliteAuditReader(std::filesystem::path db) : db_(std::move(db)) {}
  Result<std::vector<AuditEntry>> entries(const Filter& filter) override { return read_entries(db_, filter); }
  Result<std::vector<Checkpoint>> checkpoints() override { return read_checkpoints(db_); }
  Result<std::vector<std::string>> distinct(Column column) override { return read_distinct(db_, column); }

  Result<std::uint64_t> last_index() override {
    ReadOnly ro;
    Statement st;
    if (Status s = prepare("SELECT COALESCE(MAX(idx), 0) FROM audit", &ro, &st); !s) return s;
    if (sqlite3_step(st.stmt) != SQLITE_ROW) return sql_error(ro.db, "read the audit log in " + db_.string());
    return static_cast<std::uint64_t>(sqlite3_column_int64(st.stmt, 0));
  }

  Result<std::optional<crypto::Digest>> hash_at(std::uint64_t index) override {
    ReadOnly ro;
    Statement st;
    if (Status s = prepare("SELECT hash FROM audit WHERE idx = ?", &ro, &st); !s) return s;
    sqlite3_bind_int64(st.stmt, 1, static_cast<sqlite3_int64>(std::min<std::uint64_t>(index, INT64_MAX)));
    const int rc = sqlite3_step(st.stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return sql_error(ro.db, "read the audit log in " + db_.string());
    // A hash of another length is no entry's hash: none.
    if (rc == SQLITE_DONE || sqlite3_column_bytes(st.stmt, 0) != 32) return std::optional<crypto::Digest>();
    crypto::Digest d{};
    copy_digest(st.stmt, 0, &d);
    return std::optional<crypto::Digest>(d);
  }

 private:
  // Opens the database read-only into *ro and prepares `sql` into *st.
  Status prepare(const char* sql, ReadOnly* ro, Statement* st) const {
    if (Status s = open_read_only(db_, ro); !s) return s;
    if (sqlite3_prepare_v2(ro->db, sql, -1, &st->stmt, nullptr) != SQLITE_OK) {
      return sql_error(ro->db, "read the audit log in " + db_.string());
    }
    return Status::ok();
  }

  std::filesystem::path db_;
};

}  // namespace

std::unique_ptr<AuditReader> sqlite_audit_reader(const std::filesystem::path& db) {
  return std::make_unique<SqliteAuditReader>(db);
}

}  // namespace tearline::audit
