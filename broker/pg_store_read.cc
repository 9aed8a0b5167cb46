// PgStore's reads: one statement each on the read connection, any thread
// (pg_store.h).
#include <algorithm>
#include <cstdint>
#include <optional>
#include <utility>

#include "broker/pg_store_internal.h"

namespace tearline::broker {

Status PgStore::read(const std::function<void(pqxx::transaction_base&)>& query) {
  MutexLock lock(reader_mu_);
  // Twice at most: a read changes nothing, so one that found its connection
  // lost (a server restart, an idle connection ended) runs again on a new one.
  for (int attempt = 0;; ++attempt) {
    try {
      if (!reader_) reader_ = pg::connect_reader(conninfo_);
      pqxx::nontransaction tx(reader_->conn);
      query(tx);
      return Status::ok();
    } catch (const pqxx::broken_connection& e) {
      reader_.reset();
      if (attempt > 0) return Status::fail(Code::STORAGE_FAILED, "store read: " + pg::message_of(e));
    } catch (const std::exception& e) {
      return failure(e, "read");
    }
  }
}

namespace pg {

std::unique_ptr<PgStore::Connection> connect_reader(const std::string& conninfo) {
  auto c = connect(conninfo, PgStore::kReadApplicationName);
  pqxx::nontransaction(c->conn).exec(std::string("SET lock_timeout = '") + kReadLockTimeout + "'");
  return c;
}

// The rows of the prepared statement "read_after", as StoredReports.
std::vector<StoredReport> stored_reports(const pqxx::result& rows) {
  std::vector<StoredReport> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    StoredReport r;
    r.seq = static_cast<std::uint64_t>(row[0].as<std::int64_t>());
    r.report_id = pg::bytes_of(row[1]);
    r.originator = row[2].as<std::string>();
    r.source.originator = r.originator;
    r.source.agency = row[3].as<std::string>();
    r.source.country = row[4].as<std::string>();
    r.topic = row[5].as<std::string>();
    r.sequence = static_cast<std::uint64_t>(row[6].as<std::int64_t>());
    r.accepted_ms = row[7].as<std::int64_t>();
    const std::string bytes = pg::bytes_of(row[8]);
    r.bytes.assign(bytes.begin(), bytes.end());
    const std::string receipt = pg::bytes_of(row[9]);
    r.receipt.assign(receipt.begin(), receipt.end());
    const std::string path = pg::bytes_of(row[12]);
    r.path.assign(path.begin(), path.end());
    if (!row[10].is_null() && !row[11].is_null()) {
      r.prev = StreamPosition{row[11].as<std::string>(), static_cast<std::uint64_t>(row[10].as<std::int64_t>())};
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace pg

Result<std::vector<StoredReport>> PgStore::read_after(std::uint64_t after, std::size_t limit) {
  std::vector<StoredReport> out;
  Status s = read([&](pqxx::transaction_base& tx) {
    out = pg::stored_reports(tx.exec_prepared("read_after", writer_id_, pg::big(after),
                                              static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX))));
  });
  if (!s) return s;
  return out;
}

Result<std::map<std::string, std::uint64_t>> PgStore::heads() {
  std::map<std::string, std::uint64_t> out;
  Status s = read([&](pqxx::transaction_base& tx) {
    out.clear();
    for (const auto& row : tx.exec_prepared("stream_heads")) {
      out[row[1].as<std::string>()] = static_cast<std::uint64_t>(row[2].as<std::int64_t>());
    }
  });
  if (!s) return s;
  return out;
}

Result<std::vector<audit::ChainHead>> PgStore::audit_heads() {
  std::vector<audit::ChainHead> out;
  Status s = read([&](pqxx::transaction_base& tx) {
    out.clear();
    for (const auto& row : tx.exec_prepared("audit_heads", writer_id_, std::string(audit::kHeadsEvent),
                                            std::string(audit::kHeadsDecision))) {
      audit::ChainHead head;
      head.writer = row[0].as<std::string>();
      head.index = static_cast<std::uint64_t>(row[1].as<std::int64_t>());
      const std::string hash = pg::bytes_of(row[2]);
      if (hash.size() != head.hash.size()) continue;  // not a hash: verify says so, not the reader
      std::copy(hash.begin(), hash.end(), head.hash.begin());
      head.heads_entry = row[3].as<bool>();
      out.push_back(std::move(head));
    }
  });
  if (!s) return s;
  return out;
}

Result<std::optional<NodeClaim>> PgStore::claim_node(const std::string& node) {
  NodeClaim claim;
  // The claim is one statement (autocommit); a retry after a lost
  // connection claims again, which only raises the fence once more.
  Status s = read([&](pqxx::transaction_base& tx) {
    claim = NodeClaim{};
    claim.fence = static_cast<std::uint64_t>(tx.exec_prepared("claim_node", node, writer_id_)[0][0].as<std::int64_t>());
    for (const auto& row : tx.exec_prepared("node_patterns", node)) claim.patterns.push_back(row[0].as<std::string>());
    for (const auto& row : tx.exec_prepared("node_cursors", node)) {
      const auto acked = static_cast<std::uint64_t>(row[2].as<std::int64_t>());
      if (row[0].as<int>() == writer_id_) {
        claim.cursor = acked;
      } else if (!row[1].is_null()) {
        claim.stream_cursors[row[1].as<std::string>()] = acked;
      }
    }
  });
  if (!s) return s;
  return std::optional<NodeClaim>(std::move(claim));
}

Result<std::vector<StoredReport>> PgStore::read_stream(const std::string& writer, std::uint64_t after,
                                                       std::size_t limit) {
  std::vector<StoredReport> out;
  const bool own = writer == options_.writer;
  Status s = read([&](pqxx::transaction_base& tx) {
    out = pg::stored_reports(tx.exec_prepared("read_stream", writer, pg::big(after),
                                              static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX))));
  });
  if (!s) return s;
  if (!own) {
    for (auto& r : out) r.writer = writer;
  }
  return out;
}

std::optional<SourceRecord> PgStore::find_source(const std::string& report_id) {
  std::string originator, agency, country, bytes;
  bool found = false;
  Status s = read([&](pqxx::transaction_base& tx) {
    const auto rows = tx.exec_prepared("find_source", pg::blob(report_id));
    found = !rows.empty();
    if (!found) return;
    originator = rows[0][0].as<std::string>();
    agency = rows[0][1].as<std::string>();
    country = rows[0][2].as<std::string>();
    bytes = pg::bytes_of(rows[0][3]);
  });
  if (!s || !found) return std::nullopt;
  // Parsed outside the read: the connection is not held for it.
  return stored_source(originator, agency, country, bytes);
}

Result<bool> PgStore::has_report(const std::string& report_id) {
  bool has = false;
  Status s =
      read([&](pqxx::transaction_base& tx) { has = !tx.exec_prepared("has_report", pg::blob(report_id)).empty(); });
  if (!s) return s;
  return has;
}

void PgStore::measure_footprint() {
  if (!reader_mu_.try_lock()) return;
  std::optional<std::uint64_t> total;
  if (reader_ && reader_->conn.is_open()) {
    try {
      // Open: starting the statement does not connect again (libpqxx
      // reconnects only a closed connection); one lost meanwhile fails it,
      // and the next read() connects anew.
      pqxx::nontransaction tx(reader_->conn);
      total = static_cast<std::uint64_t>(
          tx.exec("SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c"
                  " WHERE c.relkind = 'r' AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = "
                  "current_schema())"
                  " AND c.relname IN"
                  " ('reports', 'originators', 'subscriptions', 'cursors', 'audit', 'audit_checkpoints', 'writers',"
                  " 'schema_version', 'node_claims')")[0][0]
              .as<std::int64_t>());
    } catch (const std::exception&) {
      // Ignored: not measured this time; the next commit tries again.
    }
  }
  reader_mu_.unlock();
  if (total) footprint_ = *total;
}

}  // namespace tearline::broker
