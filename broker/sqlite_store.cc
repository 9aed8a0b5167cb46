#include "broker/sqlite_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <map>
#include <system_error>

#include "audit/audit_db.h"
#include "broker/store_check.h"

namespace tearline::broker {
namespace {

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS reports(seq INTEGER PRIMARY KEY, report_id BLOB NOT NULL UNIQUE,"
    " originator TEXT NOT NULL, agency TEXT NOT NULL, country TEXT NOT NULL, topic TEXT NOT NULL,"
    " sequence INTEGER NOT NULL, accepted_ms INTEGER NOT NULL, bytes BLOB NOT NULL,"
    " receipt BLOB NOT NULL DEFAULT x'', path BLOB NOT NULL DEFAULT x'');"
    "CREATE INDEX IF NOT EXISTS reports_by_time ON reports(accepted_ms);"
    "CREATE TABLE IF NOT EXISTS originators(node TEXT PRIMARY KEY, last_sequence INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS subscriptions(node TEXT NOT NULL, pattern TEXT NOT NULL,"
    " PRIMARY KEY(node, pattern));"
    "CREATE TABLE IF NOT EXISTS cursors(node TEXT PRIMARY KEY, acked INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);";

struct Stmt {
  sqlite3_stmt* s = nullptr;
  Stmt(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &s, nullptr); }
  ~Stmt() { sqlite3_finalize(s); }
  explicit operator bool() const { return s != nullptr; }
};

bool is_damage(int rc) { return (rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB; }

Code code_for(int rc) {
  if ((rc & 0xff) == SQLITE_FULL) return Code::STORAGE_FULL;
  return is_damage(rc) ? Code::STORAGE_DAMAGED : Code::STORAGE_FAILED;
}

std::string col_text(sqlite3_stmt* s, int i) {
  const unsigned char* p = sqlite3_column_text(s, i);
  return p ? std::string(reinterpret_cast<const char*>(p)) : std::string();
}

std::string col_blob(sqlite3_stmt* s, int i) {
  const void* p = sqlite3_column_blob(s, i);
  return p ? std::string(static_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(s, i)))
           : std::string();
}

// Adds reports.`column` (an empty blob by default) to a database made before
// it: receipt (its reports keep an empty receipt, which no client accepts)
// and path (its reports were all published to this broker).
Status add_blob_column(sqlite3* db, const std::string& column) {
  bool has = false;
  {
    Stmt q(db, "SELECT 1 FROM pragma_table_info('reports') WHERE name = ?");
    if (!q) return Status::fail(Code::STORAGE_FAILED, std::string("store migration: ") + sqlite3_errmsg(db));
    sqlite3_bind_text(q.s, 1, column.c_str(), -1, SQLITE_STATIC);
    has = sqlite3_step(q.s) == SQLITE_ROW;
  }
  if (has) return Status::ok();
  char* err = nullptr;
  const std::string sql = "ALTER TABLE reports ADD COLUMN " + column + " BLOB NOT NULL DEFAULT x''";
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status::ok();
  std::string msg = err ? err : sqlite3_errmsg(db);
  sqlite3_free(err);
  return Status::fail(code_for(rc), "store migration: " + msg);
}

}  // namespace

SqliteStore::~SqliteStore() {
  bool closed = false;
  {
    MutexLock lock(reader_mu_);
    if (leave_as_found_ && reader_ != nullptr) sqlite3_db_config(reader_, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
    closed = sqlite3_close(reader_) == SQLITE_OK;
  }
  // The last connection to close would otherwise copy the WAL into the
  // database and delete it.
  if (leave_as_found_ && db_ != nullptr) sqlite3_db_config(db_, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  closed = sqlite3_close(db_) == SQLITE_OK && closed;
  // A clean stop: the next open need not check the file (store_check.h).
  if (closed && opened_ && !halt_.halted() && !leave_as_found_) store_check::mark_clean_stop(options_.path);
}

std::uint64_t SqliteStore::footprint_bytes() {
  std::uint64_t total = 0;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(options_.path.string() + suffix, ec);
    if (!ec) total += size;  // a file that does not exist counts 0
  }
  return total;
}

Status SqliteStore::unless_damaged(int rc, const std::string& what, Status otherwise) {
  if (!is_damage(rc)) return otherwise;
  halt_.halt("the store " + options_.path.string() + " is damaged (" + what +
             "): it accepts nothing more and writes nothing more into the file; stop the broker and " +
             store_check::kDamageAdvice + ", or restart it to check the file (it refuses to start if it is damaged)");
  return Status::fail(Code::STORAGE_HALTED, halt_reason());
}

Status SqliteStore::exec(const char* sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    return Status::fail(code_for(rc), "store: " + msg);
  }
  return Status::ok();
}

Result<std::unique_ptr<Store>> SqliteStore::open(const StoreOptions& options, std::int64_t now_ms,
                                                 std::int64_t recent_window_ms, RecoveredState* state) {
  // The record goes first: a refused open leaves none, so the next one checks.
  const bool clean_stop = store_check::take_clean_stop(options.path);
  Status header = store_check::check_header(options.path);
  if (!header) return header;
  std::error_code size_error;
  const bool existed = std::filesystem::file_size(options.path, size_error) > 0 && !size_error;
  std::unique_ptr<SqliteStore> store(new SqliteStore());
  store->options_ = options;
  const int opened =
      sqlite3_open_v2(options.path.c_str(), &store->db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (opened != SQLITE_OK) {
    return Status::fail(is_damage(opened) ? Code::STORAGE_DAMAGED : Code::STORAGE_FAILED,
                        "cannot open store " + options.path.string() + ": " +
                            (store->db_ ? sqlite3_errmsg(store->db_) : "out of memory"));
  }
  sqlite3_busy_timeout(store->db_, 5000);
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=OFF"}) {
    Status s = store->exec(pragma);
    if (s.has(Code::STORAGE_DAMAGED)) {
      return Status::fail(Code::STORAGE_DAMAGED, "store " + options.path.string() + " is damaged: SQLite says \"" +
                                                     sqlite3_errmsg(store->db_) + "\" as it opens; " +
                                                     store_check::kDamageAdvice);
    }
    if (!s) return s;
  }
  // After a stop that was not clean, the file is checked before it serves.
  if (existed && !clean_stop) {
    Status checked = store_check::quick_check(store->db_, options.path);
    if (!checked) return checked;
  }
  // The hard cap: SQLite refuses to grow past max_page_count (SQLITE_FULL).
  const std::string cap =
      "PRAGMA max_page_count=" + std::to_string(std::max<std::uint64_t>(options.max_bytes / 4096, 64));
  Status s = store->exec("PRAGMA page_size=4096");
  if (s) s = store->exec(cap.c_str());
  if (s) s = store->exec(kSchema);
  if (s) s = add_blob_column(store->db_, "receipt");
  if (s) s = add_blob_column(store->db_, "path");
  if (s) s = store->exec(audit::kSchema);
  if (!s) return s;

  RecoveredState st;
  {
    Stmt last(store->db_, "SELECT COALESCE(MAX(seq), 0) FROM reports");
    if (last && sqlite3_step(last.s) == SQLITE_ROW)
      st.last_seq = static_cast<std::uint64_t>(sqlite3_column_int64(last.s, 0));
    Stmt recent(store->db_, "SELECT report_id, accepted_ms FROM reports WHERE accepted_ms >= ? ORDER BY seq");
    sqlite3_bind_int64(recent.s, 1, now_ms - recent_window_ms);
    while (recent && sqlite3_step(recent.s) == SQLITE_ROW) {
      st.recent_ids.emplace_back(col_blob(recent.s, 0), sqlite3_column_int64(recent.s, 1));
    }
    // The most recent sources only: older ones are looked up on demand.
    Stmt q(store->db_, "SELECT report_id, originator, agency, country, bytes FROM reports ORDER BY seq DESC LIMIT ?");
    sqlite3_bind_int64(q.s, 1, static_cast<sqlite3_int64>(SourceIndex::kDefaultCapacity));
    while (q && sqlite3_step(q.s) == SQLITE_ROW) {
      st.sources.emplace_back(col_blob(q.s, 0),
                              stored_source(col_text(q.s, 1), col_text(q.s, 2), col_text(q.s, 3), col_blob(q.s, 4)));
    }
    std::reverse(st.sources.begin(), st.sources.end());
    Stmt meta(store->db_, "SELECT value FROM meta WHERE key='last_seq'");
    if (meta && sqlite3_step(meta.s) == SQLITE_ROW) {
      st.last_seq = std::max(st.last_seq, static_cast<std::uint64_t>(sqlite3_column_int64(meta.s, 0)));
    }
  }
  {
    Stmt q(store->db_, "SELECT node, last_sequence FROM originators");
    while (q && sqlite3_step(q.s) == SQLITE_ROW)
      st.sequences[col_text(q.s, 0)] = static_cast<std::uint64_t>(sqlite3_column_int64(q.s, 1));
  }
  {
    Stmt q(store->db_, "SELECT node, pattern FROM subscriptions ORDER BY node, rowid");
    while (q && sqlite3_step(q.s) == SQLITE_ROW) st.subscriptions[col_text(q.s, 0)].push_back(col_text(q.s, 1));
  }
  {
    Stmt q(store->db_, "SELECT node, acked FROM cursors");
    while (q && sqlite3_step(q.s) == SQLITE_ROW)
      st.cursors[col_text(q.s, 0)] = static_cast<std::uint64_t>(sqlite3_column_int64(q.s, 1));
  }
  auto last = audit::last_entry(store->db_);
  if (!last) return last.status();
  st.last_audit = *last;
  {
    Stmt q(store->db_, "SELECT idx, time_ms FROM audit_checkpoints ORDER BY idx DESC LIMIT 1");
    if (q && sqlite3_step(q.s) == SQLITE_ROW) {
      st.last_checkpoint = static_cast<std::uint64_t>(sqlite3_column_int64(q.s, 0));
      st.last_checkpoint_ms = sqlite3_column_int64(q.s, 1);
    }
  }
  {
    MutexLock lock(store->reader_mu_);
    if (sqlite3_open_v2(options.path.c_str(), &store->reader_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      return Status::fail(Code::STORAGE_FAILED,
                          "cannot open store " + options.path.string() +
                              " for reading: " + (store->reader_ ? sqlite3_errmsg(store->reader_) : "out of memory"));
    }
    sqlite3_busy_timeout(store->reader_, 5000);
  }
  *state = std::move(st);
  store->opened_ = true;
  return std::unique_ptr<Store>(std::move(store));
}

Status SqliteStore::commit(const Batch& batch, std::string* clashing_id,
                           std::vector<std::optional<StreamPosition>>* prevs, std::vector<std::string>* fenced) {
  if (prevs != nullptr) prevs->assign(batch.reports.size(), std::nullopt);
  if (fenced != nullptr) fenced->clear();
  if (halt_.halted()) return Status::fail(Code::STORAGE_HALTED, halt_reason());
  if (batch.empty()) return Status::ok();
  if (!batch.stream_cursors.empty()) {
    return Status::fail(Code::STORAGE_FAILED,
                        "store: a SQLite store has one writer, so no cursor in another writer's stream; nothing of the "
                        "batch was written");
  }
  Status s = exec("BEGIN IMMEDIATE");
  if (!s) return unless_damaged(sqlite3_errcode(db_), s.to_string(), s);
  auto fail = [&](Status why) {
    const int rc = sqlite3_errcode(db_);
    const std::string what = std::string("write: ") + sqlite3_errmsg(db_);
    (void)exec("ROLLBACK");
    return unless_damaged(rc, what, std::move(why));
  };
  {
    Stmt ins(db_,
             "INSERT INTO reports(seq, report_id, originator, agency, country, topic, sequence, accepted_ms, bytes,"
             " receipt, path) VALUES(?,?,?,?,?,?,?,?,?,?,?)");
    Stmt seq(db_,
             "INSERT INTO originators(node, last_sequence) VALUES(?,?) ON CONFLICT(node) DO UPDATE SET"
             " last_sequence = MAX(last_sequence, excluded.last_sequence)");
    Stmt meta(db_,
              "INSERT INTO meta(key, value) VALUES('last_seq', ?) ON CONFLICT(key) DO UPDATE SET"
              " value = MAX(value, excluded.value)");
    if (!ins || !seq || !meta)
      return fail(Status::fail(Code::STORAGE_FAILED, std::string("store: ") + sqlite3_errmsg(db_)));
    std::map<std::string, std::uint64_t> highest_sequence;
    std::uint64_t last_seq = 0;
    for (const auto& r : batch.reports) {
      sqlite3_bind_int64(ins.s, 1, static_cast<sqlite3_int64>(r.seq));
      sqlite3_bind_blob(ins.s, 2, r.report_id.data(), static_cast<int>(r.report_id.size()), SQLITE_STATIC);
      sqlite3_bind_text(ins.s, 3, r.originator.c_str(), -1, SQLITE_STATIC);
      sqlite3_bind_text(ins.s, 4, r.source.agency.c_str(), -1, SQLITE_STATIC);
      sqlite3_bind_text(ins.s, 5, r.source.country.c_str(), -1, SQLITE_STATIC);
      sqlite3_bind_text(ins.s, 6, r.topic.c_str(), -1, SQLITE_STATIC);
      sqlite3_bind_int64(ins.s, 7, static_cast<sqlite3_int64>(r.sequence));
      sqlite3_bind_int64(ins.s, 8, r.accepted_ms);
      sqlite3_bind_blob(ins.s, 9, r.bytes.data(), static_cast<int>(r.bytes.size()), SQLITE_STATIC);
      // A zero-length blob, never NULL (the column is NOT NULL).
      sqlite3_bind_blob(ins.s, 10, r.receipt.empty() ? "" : static_cast<const void*>(r.receipt.data()),
                        static_cast<int>(r.receipt.size()), SQLITE_STATIC);
      sqlite3_bind_blob(ins.s, 11, r.path.empty() ? "" : static_cast<const void*>(r.path.data()),
                        static_cast<int>(r.path.size()), SQLITE_STATIC);
      int rc = sqlite3_step(ins.s);
      const int extended = sqlite3_extended_errcode(db_);
      sqlite3_reset(ins.s);
      if (rc != SQLITE_DONE && extended == SQLITE_CONSTRAINT_UNIQUE) {
        // Report ids are unique for good: the broker remembers recent ids in
        // memory, and the store's UNIQUE index is the authority for older
        // ones. The clash fails the batch, naming the id, so that the broker
        // refuses that report and writes the others in its next batch.
        if (clashing_id != nullptr) *clashing_id = r.report_id;
        return fail(
            Status::fail(Code::REPLAYED_REPORT, "report " + to_hex(as_bytes(r.report_id)) + " was accepted before"));
      }
      if (rc != SQLITE_DONE)
        return fail(Status::fail(code_for(rc), std::string("store report: ") + sqlite3_errmsg(db_)));
      auto& highest = highest_sequence[r.originator];
      highest = std::max(highest, r.sequence);
      last_seq = std::max(last_seq, r.seq);
    }
    // Once per batch, not per report: each originator's highest sequence and the last seq.
    for (const auto& [originator, sequence] : highest_sequence) {
      sqlite3_bind_text(seq.s, 1, originator.c_str(), -1, SQLITE_STATIC);
      sqlite3_bind_int64(seq.s, 2, static_cast<sqlite3_int64>(sequence));
      const int rc = sqlite3_step(seq.s);
      sqlite3_reset(seq.s);
      if (rc != SQLITE_DONE)
        return fail(Status::fail(code_for(rc), std::string("store sequence: ") + sqlite3_errmsg(db_)));
    }
    if (!batch.reports.empty()) {
      sqlite3_bind_int64(meta.s, 1, static_cast<sqlite3_int64>(last_seq));
      const int rc = sqlite3_step(meta.s);
      sqlite3_reset(meta.s);
      if (rc != SQLITE_DONE) return fail(Status::fail(code_for(rc), std::string("store meta: ") + sqlite3_errmsg(db_)));
    }
  }
  for (const auto& [node, patterns] : batch.subscriptions) {
    Stmt del(db_, "DELETE FROM subscriptions WHERE node = ?");
    sqlite3_bind_text(del.s, 1, node.c_str(), -1, SQLITE_STATIC);
    if (sqlite3_step(del.s) != SQLITE_DONE) return fail(Status::fail(Code::STORAGE_FAILED, sqlite3_errmsg(db_)));
    Stmt ins(db_, "INSERT OR IGNORE INTO subscriptions(node, pattern) VALUES(?,?)");
    for (const auto& p : patterns) {
      sqlite3_bind_text(ins.s, 1, node.c_str(), -1, SQLITE_STATIC);
      sqlite3_bind_text(ins.s, 2, p.c_str(), -1, SQLITE_STATIC);
      const int rc = sqlite3_step(ins.s);
      sqlite3_reset(ins.s);
      if (rc != SQLITE_DONE)
        return fail(Status::fail(code_for(rc), std::string("store subscription: ") + sqlite3_errmsg(db_)));
    }
  }
  {
    Stmt cur(db_,
             "INSERT INTO cursors(node, acked) VALUES(?,?) ON CONFLICT(node) DO UPDATE SET acked = excluded.acked");
    for (const auto& [node, acked] : batch.cursors) {
      sqlite3_bind_text(cur.s, 1, node.c_str(), -1, SQLITE_STATIC);
      sqlite3_bind_int64(cur.s, 2, static_cast<sqlite3_int64>(acked));
      const int rc = sqlite3_step(cur.s);
      sqlite3_reset(cur.s);
      if (rc != SQLITE_DONE)
        return fail(Status::fail(code_for(rc), std::string("store cursor: ") + sqlite3_errmsg(db_)));
    }
  }
  s = audit::insert_entries(db_, batch.audit);
  if (!s) return fail(s);
  for (const auto& c : batch.checkpoints) {
    s = audit::insert_checkpoint(db_, c);
    if (!s) return fail(s);
  }
  if (fail_syncs_.load() > 0) {
    fail_syncs_.fetch_sub(1);
    halt_.halt("the store halted after a failed sync (injected); restart the broker");
    return fail(Status::fail(Code::STORAGE_HALTED, "store: sync failed (injected); the store halts"));
  }
  const int rc = sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    const std::string msg = sqlite3_errmsg(db_);
    (void)exec("ROLLBACK");
    if ((rc & 0xff) == SQLITE_IOERR) {
      halt_.halt("the store halted after a failed sync (" + msg + "); restart the broker");
      return Status::fail(Code::STORAGE_HALTED, "store: commit failed (" + msg + "); the store halts");
    }
    if (is_damage(rc)) return unless_damaged(rc, "commit: " + msg, Status::ok());
    return Status::fail(code_for(rc), "store: commit failed: " + msg);
  }
  return Status::ok();
}

Status SqliteStore::read_failure(int rc) {
  const std::string msg = sqlite3_errmsg(reader_);
  return unless_damaged(rc, "read: " + msg, Status::fail(Code::STORAGE_FAILED, "store read: " + msg));
}

Result<std::vector<StoredReport>> SqliteStore::read_after(std::uint64_t after, std::size_t limit) {
  MutexLock lock(reader_mu_);
  Stmt q(reader_,
         "SELECT seq, report_id, originator, agency, country, topic, sequence, accepted_ms, bytes, receipt, path"
         " FROM reports WHERE seq > ? ORDER BY seq LIMIT ?");
  if (!q) return read_failure(sqlite3_errcode(reader_));
  sqlite3_bind_int64(q.s, 1, static_cast<sqlite3_int64>(after));
  sqlite3_bind_int64(q.s, 2, static_cast<sqlite3_int64>(limit));
  std::vector<StoredReport> out;
  int rc;
  while ((rc = sqlite3_step(q.s)) == SQLITE_ROW) {
    StoredReport r;
    r.seq = static_cast<std::uint64_t>(sqlite3_column_int64(q.s, 0));
    r.report_id = col_blob(q.s, 1);
    r.originator = col_text(q.s, 2);
    r.source.originator = r.originator;
    r.source.agency = col_text(q.s, 3);
    r.source.country = col_text(q.s, 4);
    r.topic = col_text(q.s, 5);
    r.sequence = static_cast<std::uint64_t>(sqlite3_column_int64(q.s, 6));
    r.accepted_ms = sqlite3_column_int64(q.s, 7);
    const std::string b = col_blob(q.s, 8);
    r.bytes.assign(b.begin(), b.end());
    const std::string receipt = col_blob(q.s, 9);
    r.receipt.assign(receipt.begin(), receipt.end());
    const std::string path = col_blob(q.s, 10);
    r.path.assign(path.begin(), path.end());
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return read_failure(rc);
  return out;
}

Result<std::vector<StoredReport>> SqliteStore::read_stream(const std::string& writer, std::uint64_t after,
                                                           std::size_t limit) {
  if (writer != options_.writer) return std::vector<StoredReport>{};
  return read_after(after, limit);
}

Result<std::map<std::string, std::uint64_t>> SqliteStore::heads() {
  MutexLock lock(reader_mu_);
  // As open() recovers it: retention may have deleted the newest report.
  Stmt q(reader_,
         "SELECT MAX(COALESCE((SELECT MAX(seq) FROM reports), 0),"
         " COALESCE((SELECT value FROM meta WHERE key = 'last_seq'), 0))");
  if (!q) return read_failure(sqlite3_errcode(reader_));
  const int rc = sqlite3_step(q.s);
  if (rc != SQLITE_ROW) return read_failure(rc);
  return std::map<std::string, std::uint64_t>{
      {options_.writer, static_cast<std::uint64_t>(sqlite3_column_int64(q.s, 0))}};
}

std::optional<SourceRecord> SqliteStore::find_source(const std::string& report_id) {
  std::string originator, agency, country, bytes;
  {
    // Only the read holds the connection; parsing the report does not.
    MutexLock lock(reader_mu_);
    Stmt q(reader_, "SELECT originator, agency, country, bytes FROM reports WHERE report_id = ?");
    if (!q) {
      (void)read_failure(sqlite3_errcode(reader_));
      return std::nullopt;
    }
    sqlite3_bind_blob(q.s, 1, report_id.data(), static_cast<int>(report_id.size()), SQLITE_STATIC);
    const int rc = sqlite3_step(q.s);
    if (rc != SQLITE_ROW) {
      (void)read_failure(rc);
      return std::nullopt;
    }
    originator = col_text(q.s, 0);
    agency = col_text(q.s, 1);
    country = col_text(q.s, 2);
    bytes = col_blob(q.s, 3);
  }
  return stored_source(originator, agency, country, bytes);
}

Result<bool> SqliteStore::has_report(const std::string& report_id) {
  MutexLock lock(reader_mu_);
  Stmt q(reader_, "SELECT 1 FROM reports WHERE report_id = ?");
  if (!q) return read_failure(sqlite3_errcode(reader_));
  sqlite3_bind_blob(q.s, 1, report_id.data(), static_cast<int>(report_id.size()), SQLITE_STATIC);
  const int rc = sqlite3_step(q.s);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return read_failure(rc);
}

Result<std::size_t> SqliteStore::apply_retention(std::int64_t now_ms, std::vector<std::string>* removed_ids) {
  if (halt_.halted()) return std::size_t{0};
  std::size_t deleted = 0;
  // Runs a DELETE ... RETURNING report_id; counts and collects the ids.
  auto run_delete = [&](Stmt& del) -> Status {
    int rc;
    while ((rc = sqlite3_step(del.s)) == SQLITE_ROW) {
      ++deleted;
      if (removed_ids != nullptr) removed_ids->push_back(col_blob(del.s, 0));
    }
    if (rc != SQLITE_DONE) {
      return unless_damaged(rc, std::string("retention: ") + sqlite3_errmsg(db_),
                            Status::fail(Code::STORAGE_FAILED, std::string("store retention: ") + sqlite3_errmsg(db_)));
    }
    return Status::ok();
  };
  {
    Stmt del(db_, "DELETE FROM reports WHERE accepted_ms < ? RETURNING report_id");
    if (!del) return Status::fail(Code::STORAGE_FAILED, std::string("store retention: ") + sqlite3_errmsg(db_));
    sqlite3_bind_int64(del.s, 1, now_ms - options_.retention_seconds * 1000);
    Status s = run_delete(del);
    if (!s) return s;
  }
  // Oldest first, and only as many as the excess: the shortest run of oldest
  // reports whose bytes reach it (at least one per pass; page overhead may
  // need another pass).
  // retention_bytes bounds the reports' own bytes: the audit log is kept
  // whole (max_bytes caps the database as a whole).
  auto reports_bytes = [this]() -> std::uint64_t {
    Stmt q(db_, "SELECT COALESCE(SUM(LENGTH(bytes)), 0) FROM reports");
    if (!q || sqlite3_step(q.s) != SQLITE_ROW) return 0;
    return static_cast<std::uint64_t>(sqlite3_column_int64(q.s, 0));
  };
  for (std::uint64_t size = reports_bytes(); size > options_.retention_bytes; size = reports_bytes()) {
    Stmt del(db_,
             "DELETE FROM reports WHERE seq <= COALESCE("
             "(SELECT seq FROM (SELECT seq, SUM(LENGTH(bytes)) OVER (ORDER BY seq) AS upto FROM reports)"
             " WHERE upto >= ? ORDER BY seq LIMIT 1), (SELECT MAX(seq) FROM reports)) RETURNING report_id");
    if (!del) return Status::fail(Code::STORAGE_FAILED, std::string("store retention: ") + sqlite3_errmsg(db_));
    sqlite3_bind_int64(del.s, 1, static_cast<sqlite3_int64>(size - options_.retention_bytes));
    const std::size_t before = deleted;
    Status s = run_delete(del);
    if (!s) return s;
    if (deleted == before) break;
  }
  return deleted;
}

}  // namespace tearline::broker
