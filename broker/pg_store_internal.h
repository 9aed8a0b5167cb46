// What the files of the PostgreSQL store (pg_store.cc, pg_store_write.cc,
// pg_store_read.cc) share: a connection with its prepared statements, and
// conversions between tearline's types and libpqxx's. Not for other code.
//
// Names here live in namespace pg (not file-local): the broker library is
// compiled as unity sources, where file-local names must not collide.
#pragma once

#include <pqxx/pqxx>

#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "audit/pg_conninfo.h"
#include "broker/pg_store.h"

namespace tearline::broker {

// Opened with audit::with_default_settings (connection and keepalive
// timeouts, audit/pg_conninfo.h) unless the conninfo sets its own.
struct PgStore::Connection {
  explicit Connection(const std::string& conninfo) : conn(audit::with_default_settings(conninfo)) {}
  pqxx::connection conn;
};

namespace pg {

// Connects, names the session `application_name` and prepares every
// statement of the store. Throws what libpqxx throws.
std::unique_ptr<PgStore::Connection> connect(const std::string& conninfo, const char* application_name);
// The read connection: connect() with lock_timeout = kReadLockTimeout, so
// that claim_node, its only statement that takes a row lock, waits at most
// that long for a batch holding the node's claim row (then STORAGE_FAILED).
inline constexpr const char* kReadLockTimeout = "500ms";
std::unique_ptr<PgStore::Connection> connect_reader(const std::string& conninfo);

// What take_writer_lock expects to find.
struct WriterLock {
  int writer_id = 0;
  // Set when taking the lock again after a lost session: the writer's
  // last_seq and highest audit idx must still be these (nobody wrote as this
  // writer meanwhile).
  std::optional<std::uint64_t> last_seq;
  std::uint64_t last_audit = 0;
  // The server pid of this store's previous write session (0: none): if it
  // still holds the lock (a dead connection the server has not noticed), it
  // is ended and the lock taken.
  int previous_pid = 0;
};

// Takes writer `expect.writer_id`'s lock on `c` (pg_store.h, "One writer"): a
// session advisory lock, held until the session ends. Returns the session's
// server pid. STORAGE_FAILED naming the session that holds it (pid, address,
// since when) when another does; STORAGE_FAILED too when the expectations
// do not hold (the lock is then released again). Throws what libpqxx throws.
Result<int> take_writer_lock(PgStore::Connection& c, const WriterLock& expect);

// The rows of the prepared statement "read_after" (one writer's reports in
// seq order), as StoredReports without their writer.
std::vector<StoredReport> stored_reports(const pqxx::result& rows);

// A bytea parameter (binary format: no escaping, any bytes).
pqxx::binarystring blob(const void* data, std::size_t size);
inline pqxx::binarystring blob(const std::string& s) { return blob(s.data(), s.size()); }
// A bytea column's bytes.
std::string bytes_of(const pqxx::field& f);
// A uint64 as the bigint PostgreSQL stores (the store's seqs and sequences
// stay below 2^63, as with SQLite's INTEGER).
inline std::int64_t big(std::uint64_t v) { return static_cast<std::int64_t>(v); }

// The server's or libpqxx's message, on one line (line breaks become spaces).
std::string message_of(const std::exception& e);
// SQLSTATE of a server error ("" when none).
std::string sqlstate_of(const std::exception& e);
// The server reports damaged data: XX001 data_corrupted, XX002 index_corrupted.
bool is_damage(const std::exception& e);

}  // namespace pg
}  // namespace tearline::broker
