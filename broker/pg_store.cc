// PgStore: connecting, the schema and its migrations, and recovery at open
// (pg_store.h). Commits and retention: pg_store_write.cc; reads:
// pg_store_read.cc.
#include "broker/pg_store.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <utility>

#include "broker/pg_schema.h"
#include "broker/pg_store_internal.h"
#include "crypto/signing.h"
#include "tearline/v1/receipt.pb.h"

namespace tearline::broker {
namespace pg {

std::unique_ptr<PgStore::Connection> connect(const std::string& conninfo, const char* application_name) {
  auto c = std::make_unique<PgStore::Connection>(conninfo);
  // set_variable: libpqxx sets it again should it ever reconnect by itself.
  c->conn.set_variable("application_name", c->conn.quote(std::string(application_name)));
  // The store's statements, parsed once per connection.
  c->conn.prepare("insert_report",
                  "INSERT INTO reports(writer_id, seq, report_id, originator, agency, country, topic, sequence,"
                  " accepted_ms, bytes, receipt, prev_writer, prev_seq, path)"
                  " VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
                  " ON CONFLICT (report_id) DO NOTHING RETURNING seq");
  // Locks the originator's row (made when new) for the batch's transaction
  // and returns where its last report is.
  c->conn.prepare("lock_originator",
                  "INSERT INTO originators(node, last_sequence) VALUES($1, 0) ON CONFLICT (node) DO UPDATE"
                  " SET node = EXCLUDED.node RETURNING last_sequence, last_writer, last_seq,"
                  " (SELECT broker_id FROM writers WHERE writer_id = originators.last_writer)");
  c->conn.prepare("set_originator",
                  "UPDATE originators SET last_sequence = $2, last_writer = $3, last_seq = $4 WHERE node = $1");
  c->conn.prepare("advance_writer",
                  "INSERT INTO writers(writer_id, last_seq, report_bytes) VALUES($1, $2, $3) ON CONFLICT (writer_id)"
                  " DO UPDATE SET last_seq = GREATEST(writers.last_seq, EXCLUDED.last_seq),"
                  " report_bytes = writers.report_bytes + EXCLUDED.report_bytes RETURNING report_bytes");
  c->conn.prepare("clear_subscriptions", "DELETE FROM subscriptions WHERE node = $1");
  c->conn.prepare("lock_claim", "SELECT holder, fence FROM node_claims WHERE node = $1 FOR SHARE");
  c->conn.prepare("claim_node",
                  "INSERT INTO node_claims(node, holder, fence) VALUES($1, $2, 1) ON CONFLICT (node)"
                  " DO UPDATE SET holder = EXCLUDED.holder, fence = CASE WHEN node_claims.holder = EXCLUDED.holder"
                  " THEN node_claims.fence ELSE node_claims.fence + 1 END RETURNING fence");
  c->conn.prepare("node_patterns", "SELECT pattern FROM subscriptions WHERE node = $1 ORDER BY position, pattern");
  c->conn.prepare("node_cursors",
                  "SELECT c.writer_id, w.broker_id, c.acked FROM cursors c JOIN writers w USING (writer_id)"
                  " WHERE c.node = $1 ORDER BY c.writer_id");
  c->conn.prepare("insert_subscription",
                  "INSERT INTO subscriptions(node, pattern, position) VALUES($1, $2, $3) ON CONFLICT DO NOTHING");
  c->conn.prepare("set_cursor",
                  "INSERT INTO cursors(node, writer_id, acked) VALUES($1, $2, $3) ON CONFLICT (node, writer_id)"
                  " DO UPDATE SET acked = EXCLUDED.acked");
  c->conn.prepare("set_stream_cursor",
                  "INSERT INTO cursors(node, writer_id, acked) SELECT $1, writer_id, $3 FROM writers"
                  " WHERE broker_id = $2 ON CONFLICT (node, writer_id) DO UPDATE SET acked = EXCLUDED.acked"
                  " RETURNING writer_id");
  c->conn.prepare("notify", "SELECT pg_notify($1, $2)");
  c->conn.prepare("insert_audit",
                  "INSERT INTO audit(writer_id, idx, time_ms, event, node, report, decision, detail, prev_hash, hash)"
                  " VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)");
  c->conn.prepare("insert_checkpoint",
                  "INSERT INTO audit_checkpoints(writer_id, idx, time_ms, hash, signature) VALUES($1, $2, $3, $4, $5)"
                  " ON CONFLICT (writer_id, idx) DO UPDATE SET time_ms = EXCLUDED.time_ms, hash = EXCLUDED.hash,"
                  " signature = EXCLUDED.signature");
  c->conn.prepare(
      "read_after",
      "SELECT seq, report_id, originator, agency, country, topic, sequence, accepted_ms, bytes, receipt, prev_seq,"
      " (SELECT broker_id FROM writers WHERE writer_id = reports.prev_writer), path"
      " FROM reports WHERE writer_id = $1 AND seq > $2 ORDER BY seq LIMIT $3");
  c->conn.prepare("stream_heads", "SELECT writer_id, broker_id, last_seq FROM writers WHERE broker_id IS NOT NULL");
  // One backward step of the audit primary key per writer.
  c->conn.prepare("audit_heads",
                  "SELECT w.broker_id, a.idx, a.hash, a.event = $2 AND a.decision = $3 FROM writers w"
                  " CROSS JOIN LATERAL (SELECT idx, hash, event, decision FROM audit"
                  " WHERE audit.writer_id = w.writer_id ORDER BY idx DESC LIMIT 1) a"
                  " WHERE w.broker_id IS NOT NULL AND w.writer_id <> $1 ORDER BY w.broker_id");
  c->conn.prepare(
      "read_stream",
      "SELECT seq, report_id, originator, agency, country, topic, sequence, accepted_ms, bytes, receipt, prev_seq,"
      " (SELECT broker_id FROM writers WHERE writer_id = reports.prev_writer), path"
      " FROM reports WHERE writer_id = (SELECT writer_id FROM writers WHERE broker_id = $1) AND seq > $2"
      " ORDER BY seq LIMIT $3");
  c->conn.prepare("find_source", "SELECT originator, agency, country, bytes FROM reports WHERE report_id = $1");
  c->conn.prepare("has_report", "SELECT 1 FROM reports WHERE report_id = $1");
  return c;
}

namespace {

// The session that holds writer `writer_id`'s lock in this database: its
// pid and a description; pid 0 when none is listed (it just ended).
std::pair<int, std::string> lock_holder(pqxx::transaction_base& tx, int writer_id) {
  const pqxx::result holder = tx.exec_params(
      "SELECT a.pid, COALESCE(host(a.client_addr), 'a local socket'),"
      " COALESCE(to_char(a.backend_start, 'YYYY-MM-DD\"T\"HH24:MI:SSOF'), 'an unknown time')"
      " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted"
      " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
      " AND l.classid = $1::oid AND l.objid = $2::oid AND l.objsubid = 2",
      PgStore::kWriterLockClass, writer_id);
  if (holder.empty()) return {0, "another session"};
  return {holder[0][0].as<int>(), "the session of server pid " + holder[0][0].as<std::string>() + " (from " +
                                      holder[0][1].as<std::string>() + ", since " + holder[0][2].as<std::string>() +
                                      ")"};
}

bool try_lock(pqxx::transaction_base& tx, int writer_id) {
  return tx.exec_params("SELECT pg_try_advisory_lock($1, $2)", PgStore::kWriterLockClass, writer_id)[0][0].as<bool>();
}

}  // namespace

Result<int> take_writer_lock(PgStore::Connection& c, const WriterLock& expect) {
  const int w = expect.writer_id;
  pqxx::nontransaction tx(c.conn);
  bool locked = try_lock(tx, w);
  if (!locked && expect.previous_pid != 0) {
    // This store's own lost session may still hold it: a connection that
    // died without a word lingers on the server until its keepalive gives
    // up. End it (waiting up to 5 s for it to exit) and try once more.
    auto [pid, who] = lock_holder(tx, w);
    if (pid == expect.previous_pid) {
      tx.exec_params("SELECT pg_terminate_backend($1, 5000)", pid);
      locked = try_lock(tx, w);
    }
  }
  if (!locked) {
    return Status::fail(Code::STORAGE_FAILED,
                        "writer " + std::to_string(w) + " of the PostgreSQL store is held by " +
                            lock_holder(tx, w).second +
                            ": another broker with the same id writes this store; stop it, or give "
                            "this broker an id of its own (tearline certs broker --additional)");
  }
  if (expect.last_seq) {
    // Nobody may have written as this writer since this store last did:
    // neither reports (last_seq) nor audit entries (the highest idx).
    const pqxx::result row = tx.exec_params(
        "SELECT COALESCE((SELECT last_seq FROM writers WHERE writer_id = $1), 0),"
        " COALESCE((SELECT MAX(idx) FROM audit WHERE writer_id = $1), 0)",
        w);
    const auto seq = static_cast<std::uint64_t>(row[0][0].as<std::int64_t>());
    const auto idx = static_cast<std::uint64_t>(row[0][1].as<std::int64_t>());
    if (seq != *expect.last_seq || idx != expect.last_audit) {
      tx.exec_params("SELECT pg_advisory_unlock($1, $2)", PgStore::kWriterLockClass, w);
      return Status::fail(Code::STORAGE_FAILED,
                          "writer " + std::to_string(w) + " of the PostgreSQL store wrote up to seq " +
                              std::to_string(seq) + " and audit entry " + std::to_string(idx) +
                              " while this broker, which had written up to seq " + std::to_string(*expect.last_seq) +
                              " and audit entry " + std::to_string(expect.last_audit) + ", was disconnected");
    }
  }
  return c.conn.backendpid();
}

pqxx::binarystring blob(const void* data, std::size_t size) {
  // An empty vector's data() may be null, which memcpy must not be given.
  return size == 0 ? pqxx::binarystring(std::string()) : pqxx::binarystring(data, size);
}

std::string bytes_of(const pqxx::field& f) { return f.is_null() ? std::string() : pqxx::binarystring(f).str(); }

std::string message_of(const std::exception& e) { return audit::pg_message(e); }

std::string sqlstate_of(const std::exception& e) {
  const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e);
  return sql != nullptr ? sql->sqlstate() : std::string();
}

bool is_damage(const std::exception& e) {
  const std::string state = sqlstate_of(e);
  return state == "XX001" || state == "XX002";
}

}  // namespace pg

namespace {

// Whether the broker `name`, whose audit key is `key`, may take the unnamed
// writer 1 of a store made by schema 1 (one broker, nameless), by the
// evidence writer 1 holds: its newest audit checkpoint, signed with its
// broker's audit key; else its newest report's receipt, which names its
// broker; else, holding neither a report nor an audit entry, nothing is
// owned and the first broker may take it while no other writer exists.
bool may_claim_unnamed(pqxx::transaction_base& tx, const std::string& name,
                       const std::optional<crypto::VerifyKey>& key) {
  if (tx.exec("SELECT 1 FROM writers WHERE writer_id = 1 AND broker_id IS NULL").empty()) return false;
  const pqxx::result checkpoint = tx.exec(
      "SELECT idx, hash, time_ms, signature FROM audit_checkpoints WHERE writer_id = 1 ORDER BY idx DESC LIMIT 1");
  if (!checkpoint.empty()) {
    if (!key) return false;
    crypto::Digest hash{};
    const std::string h = pg::bytes_of(checkpoint[0][1]);
    const std::string signature = pg::bytes_of(checkpoint[0][3]);
    if (h.size() != hash.size()) return false;
    std::copy(h.begin(), h.end(), hash.begin());
    return crypto::verify(*key, crypto::tags::kAuditCheckpoint,
                          audit::checkpoint_payload(static_cast<std::uint64_t>(checkpoint[0][0].as<std::int64_t>()),
                                                    hash, checkpoint[0][2].as<std::int64_t>()),
                          as_bytes(signature));
  }
  const pqxx::result newest = tx.exec("SELECT receipt FROM reports WHERE writer_id = 1 ORDER BY seq DESC LIMIT 1");
  const std::string bytes = newest.empty() ? std::string() : pg::bytes_of(newest[0][0]);
  if (!bytes.empty()) {
    tearline::v1::AcceptanceReceipt receipt;
    return receipt.ParseFromString(bytes) && receipt.broker_id() == name;
  }
  return newest.empty() && tx.exec("SELECT 1 FROM audit WHERE writer_id = 1 LIMIT 1").empty() &&
         tx.exec("SELECT COUNT(*) FROM writers")[0][0].as<std::int64_t>() == 1;
}

// Creates or migrates the schema (pg_schema.h), then finds this broker's
// writer (`name`), registering it when new; one transaction. Returns the
// writer id.
Result<int> migrate_schema(pqxx::connection& conn, const std::string& name,
                           const std::optional<crypto::VerifyKey>& key) {
  pqxx::work tx(conn);
  // Two brokers opening one new store at once would both create the tables
  // (and both register as the next writer id).
  tx.exec("SELECT pg_advisory_xact_lock(7171717017)");
  tx.exec("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)");
  const int version = tx.exec("SELECT COALESCE(MAX(version), 0) FROM schema_version")[0][0].as<int>();
  if (version > kPgSchemaVersion) {
    return Status::fail(Code::STORAGE_FAILED, "the PostgreSQL store has schema version " + std::to_string(version) +
                                                  ", made by a newer tearline (this one knows up to version " +
                                                  std::to_string(kPgSchemaVersion) + "); it is left as it is");
  }
  // Writer 1's lock, for the length of this transaction's decisions: a
  // broker of an older tearline that still writes the store holds it, and
  // neither the migration nor a claim of writer 1 may happen under it.
  const bool writer_1_free =
      tx.exec_params("SELECT pg_try_advisory_xact_lock($1, 1)", PgStore::kWriterLockClass)[0][0].as<bool>();
  if (version == 1 && !writer_1_free) {
    return Status::fail(Code::STORAGE_FAILED,
                        "the PostgreSQL store (schema version 1) is written by a broker of an older tearline (it "
                        "holds writer 1): stop that broker, then start this one, which upgrades the store");
  }
  // Brokers of schema 2 write nodes' rows without claims: the store gains
  // them (version 3) only while none of its writers is held.
  if (version == 2 && tx.exec_params("SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = $1 AND granted "
                                     "AND pid <> pg_backend_pid() AND "
                                     "database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                                     PgStore::kWriterLockClass)
                              .size() > 0) {
    return Status::fail(Code::STORAGE_FAILED,
                        "the PostgreSQL store (schema version 2) is written by brokers of an older tearline: stop "
                        "them all, then start this one, which upgrades the store");
  }
  for (int v = version + 1; v <= kPgSchemaVersion; ++v) tx.exec(kPgMigrations[v - 1]);
  if (version < kPgSchemaVersion) {
    tx.exec("DELETE FROM schema_version");
    tx.exec_params("INSERT INTO schema_version(version) VALUES($1)", kPgSchemaVersion);
  }
  int writer = 0;
  if (const pqxx::result mine = tx.exec_params("SELECT writer_id FROM writers WHERE broker_id = $1", name);
      !mine.empty()) {
    writer = mine[0][0].as<int>();
  } else if (writer_1_free && may_claim_unnamed(tx, name, key)) {
    const pqxx::result claimed = tx.exec_params(
        "UPDATE writers SET broker_id = $1 WHERE writer_id = 1 AND broker_id IS NULL RETURNING writer_id", name);
    if (!claimed.empty()) writer = 1;
  }
  if (writer == 0) {
    writer = tx.exec_params(
                   "INSERT INTO writers(writer_id, broker_id) SELECT COALESCE(MAX(writer_id), 0) + 1, $1 FROM writers"
                   " RETURNING writer_id",
                   name)[0][0]
                 .as<int>();
  }
  tx.commit();
  return writer;
}

void copy_digest(const pqxx::field& f, std::uint8_t* out, std::size_t size) {
  const std::string b = pg::bytes_of(f);
  std::fill(out, out + size, std::uint8_t{0});
  std::copy_n(b.begin(), std::min(size, b.size()), out);
}

// What SqliteStore::open recovers, read in one snapshot.
RecoveredState recover_state(pqxx::connection& conn, int w, std::int64_t now_ms, std::int64_t recent_window_ms) {
  pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(conn);
  RecoveredState st;
  st.last_seq = static_cast<std::uint64_t>(
      tx.exec_params("SELECT GREATEST((SELECT COALESCE(MAX(seq), 0) FROM reports WHERE writer_id = $1),"
                     " (SELECT COALESCE(MAX(last_seq), 0) FROM writers WHERE writer_id = $1))",
                     w)[0][0]
          .as<std::int64_t>());
  for (const auto& row :
       tx.exec_params("SELECT report_id, accepted_ms FROM reports WHERE accepted_ms >= $1 ORDER BY seq, writer_id",
                      now_ms - recent_window_ms)) {
    st.recent_ids.emplace_back(pg::bytes_of(row[0]), row[1].as<std::int64_t>());
  }
  // The most recent sources only: older ones are looked up on demand.
  for (const auto& row : tx.exec_params("SELECT report_id, originator, agency, country, bytes FROM reports"
                                        " ORDER BY seq DESC, writer_id DESC LIMIT $1",
                                        static_cast<std::int64_t>(SourceIndex::kDefaultCapacity))) {
    st.sources.emplace_back(pg::bytes_of(row[0]), stored_source(row[1].as<std::string>(), row[2].as<std::string>(),
                                                                row[3].as<std::string>(), pg::bytes_of(row[4])));
  }
  std::reverse(st.sources.begin(), st.sources.end());
  for (const auto& row : tx.exec("SELECT node, last_sequence FROM originators")) {
    st.sequences[row[0].as<std::string>()] = static_cast<std::uint64_t>(row[1].as<std::int64_t>());
  }
  for (const auto& row : tx.exec("SELECT node, pattern FROM subscriptions ORDER BY node, position")) {
    st.subscriptions[row[0].as<std::string>()].push_back(row[1].as<std::string>());
  }
  for (const auto& row : tx.exec_params("SELECT node, acked FROM cursors WHERE writer_id = $1", w)) {
    st.cursors[row[0].as<std::string>()] = static_cast<std::uint64_t>(row[1].as<std::int64_t>());
  }
  // Cursors in other writers' streams; an unnamed writer's cannot be set.
  for (const auto& row : tx.exec_params("SELECT c.node, w.broker_id, c.acked FROM cursors c JOIN writers w"
                                        " ON w.writer_id = c.writer_id WHERE c.writer_id <> $1 AND w.broker_id"
                                        " IS NOT NULL",
                                        w)) {
    st.stream_cursors[row[0].as<std::string>()][row[1].as<std::string>()] =
        static_cast<std::uint64_t>(row[2].as<std::int64_t>());
  }
  const pqxx::result audit =
      tx.exec_params("SELECT idx, hash FROM audit WHERE writer_id = $1 ORDER BY idx DESC LIMIT 1", w);
  if (!audit.empty()) {
    st.last_audit.index = static_cast<std::uint64_t>(audit[0][0].as<std::int64_t>());
    copy_digest(audit[0][1], st.last_audit.hash.data(), st.last_audit.hash.size());
  }
  const pqxx::result checkpoint =
      tx.exec_params("SELECT idx, time_ms FROM audit_checkpoints WHERE writer_id = $1 ORDER BY idx DESC LIMIT 1", w);
  if (!checkpoint.empty()) {
    st.last_checkpoint = static_cast<std::uint64_t>(checkpoint[0][0].as<std::int64_t>());
    st.last_checkpoint_ms = checkpoint[0][1].as<std::int64_t>();
  }
  tx.commit();
  return st;
}

}  // namespace

PgStore::PgStore() = default;
PgStore::~PgStore() = default;

Result<std::unique_ptr<Store>> PgStore::open(const std::string& conninfo, const StoreOptions& options,
                                             std::int64_t now_ms, std::int64_t recent_window_ms,
                                             RecoveredState* state) {
  if (options.writer.empty() || options.writer.size() > kMaxWriterNameBytes) {
    return Status::fail(Code::STORAGE_FAILED, "the PostgreSQL store's writer name must be 1 to " +
                                                  std::to_string(kMaxWriterNameBytes) + " bytes (the broker's id)");
  }
  std::unique_ptr<PgStore> store(new PgStore());
  store->conninfo_ = conninfo;
  store->options_ = options;
  RecoveredState st;
  try {
    store->writer_ = pg::connect(conninfo, kWriteApplicationName);
    auto registered = migrate_schema(store->writer_->conn, options.writer, options.writer_key);
    if (!registered) return registered.status();
    const int writer = *registered;
    store->writer_id_ = writer;
    // A broker restarted after a crash may find its previous session still
    // ending on the server, holding the lock: wait for it a little.
    const auto deadline = std::chrono::steady_clock::now() + kWriterLockWait;
    auto locked = pg::take_writer_lock(*store->writer_, pg::WriterLock{writer, std::nullopt, 0, 0});
    while (!locked && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      locked = pg::take_writer_lock(*store->writer_, pg::WriterLock{writer, std::nullopt, 0, 0});
    }
    if (!locked) return locked.status();
    store->writer_pid_ = *locked;
    // Once the lock is held, nobody else writes as this writer: the count
    // max_bytes and retention_bytes use is made true again, and the writer's
    // state recovered.
    pqxx::nontransaction(store->writer_->conn)
        .exec_params(
            "UPDATE writers SET report_bytes = (SELECT COALESCE(SUM(octet_length(bytes)), 0) FROM reports"
            " WHERE writer_id = $1) WHERE writer_id = $1",
            writer);
    st = recover_state(store->writer_->conn, writer, now_ms, recent_window_ms);
    store->committed_seq_ = st.last_seq;
    store->committed_audit_ = st.last_audit.index;
    MutexLock lock(store->reader_mu_);
    store->reader_ = pg::connect_reader(conninfo);
  } catch (const std::exception& e) {
    if (pg::is_damage(e)) {
      return Status::fail(Code::STORAGE_DAMAGED,
                          "the PostgreSQL store reports damaged data as it opens: " + pg::message_of(e));
    }
    return Status::fail(Code::STORAGE_FAILED, "cannot open the PostgreSQL store: " + pg::message_of(e));
  }
  store->measure_footprint();
  *state = std::move(st);
  return std::unique_ptr<Store>(std::move(store));
}

Status PgStore::failure(const std::exception& e, const std::string& what) {
  const std::string msg = pg::message_of(e);
  if (pg::is_damage(e)) {
    halt_.halt("the PostgreSQL store reports damaged data (" + what + ": " + msg +
               "): it accepts nothing more; stop the broker and have the database checked and restored");
    return Status::fail(Code::STORAGE_HALTED, halt_reason());
  }
  if (pg::sqlstate_of(e) == "53100") return Status::fail(Code::STORAGE_FULL, "store " + what + ": " + msg);
  return Status::fail(Code::STORAGE_FAILED, "store " + what + ": " + msg);
}

}  // namespace tearline::broker
