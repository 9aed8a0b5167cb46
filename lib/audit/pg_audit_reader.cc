#include "audit/pg_audit_reader.h"

#include <pqxx/pqxx>

#include <algorithm>
#include <cstdint>
#include <utility>

namespace tearline::audit {
namespace {

crypto::Digest digest_of(const pqxx::field& f) {
  crypto::Digest d{};
  if (f.is_null()) return d;
  const std::string b = pqxx::binarystring(f).str();
  std::copy_n(b.begin(), std::min(d.size(), b.size()), d.begin());
  return d;
}

std::int64_t big(std::uint64_t v) { return static_cast<std::int64_t>(std::min<std::uint64_t>(v, INT64_MAX)); }

class PgAuditReader final : public AuditReader {
 public:
  PgAuditReader(const std::string& conninfo, int writer_id)
      : conn_(with_default_settings(conninfo)), writer_(writer_id) {
    conn_.set_variable("application_name", conn_.quote(std::string("tearline-audit-read")));
  }

  Result<std::vector<AuditEntry>> entries(const Filter& f) override {
    return read<std::vector<AuditEntry>>([&](pqxx::transaction_base& tx) {
      // As the SQLite reader: the newest `limit` matching rows (0: all),
      // returned in index order; a node also matches the routing entries
      // with a clause about it.
      const pqxx::result rows = tx.exec_params(
          "SELECT * FROM (SELECT idx, time_ms, event, node, report, decision, detail, prev_hash, hash FROM audit"
          " WHERE writer_id = $1 AND ($2::text = '' OR node = $2 OR (event = 'routing' AND"
          " strpos(detail, ' | ' || $2 || ' ') > 0)) AND ($3::text = '' OR starts_with(lower(report), lower($3)))"
          " AND ($4::text = '' OR decision = $4) AND ($5::text = '' OR event = $5)"
          " AND ($6::bigint = 0 OR time_ms >= $6) AND ($7::bigint = 0 OR time_ms <= $7) AND idx > $8::bigint"
          " ORDER BY idx DESC LIMIT $9::bigint) newest ORDER BY idx",
          writer_, f.node, f.report, f.decision, f.event, f.since_ms, f.until_ms, big(f.after_index),
          f.limit == 0 ? INT64_MAX : big(f.limit));
      std::vector<AuditEntry> out;
      out.reserve(rows.size());
      for (const auto& row : rows) {
        AuditEntry e;
        e.index = static_cast<std::uint64_t>(row[0].as<std::int64_t>());
        e.time_ms = row[1].as<std::int64_t>();
        e.event = row[2].as<std::string>();
        e.node = row[3].as<std::string>();
        e.report = row[4].as<std::string>();
        e.decision = row[5].as<std::string>();
        e.detail = row[6].as<std::string>();
        e.prev_hash = digest_of(row[7]);
        e.hash = digest_of(row[8]);
        out.push_back(std::move(e));
      }
      return out;
    });
  }

  Result<std::vector<Checkpoint>> checkpoints() override {
    return read<std::vector<Checkpoint>>([&](pqxx::transaction_base& tx) {
      std::vector<Checkpoint> out;
      for (const auto& row : tx.exec_params("SELECT idx, time_ms, hash, signature FROM audit_checkpoints"
                                            " WHERE writer_id = $1 ORDER BY idx",
                                            writer_)) {
        Checkpoint c;
        c.index = static_cast<std::uint64_t>(row[0].as<std::int64_t>());
        c.time_ms = row[1].as<std::int64_t>();
        c.hash = digest_of(row[2]);
        const std::string sig = row[3].is_null() ? std::string() : pqxx::binarystring(row[3]).str();
        if (sig.size() == c.signature.size()) std::copy(sig.begin(), sig.end(), c.signature.begin());
        out.push_back(c);
      }
      return out;
    });
  }

  Result<std::vector<std::string>> distinct(Column column) override {
    return read<std::vector<std::string>>([&](pqxx::transaction_base& tx) {
      // Byte order, as SQLite sorts (not the database's collation).
      const char* sql = column == Column::kEvent
                            ? "SELECT DISTINCT event COLLATE \"C\" FROM audit WHERE writer_id = $1 ORDER BY 1"
                            : "SELECT DISTINCT decision COLLATE \"C\" FROM audit WHERE writer_id = $1 ORDER BY 1";
      std::vector<std::string> out;
      for (const auto& row : tx.exec_params(sql, writer_)) out.push_back(row[0].as<std::string>());
      return out;
    });
  }

  Result<std::uint64_t> last_index() override {
    return read<std::uint64_t>([&](pqxx::transaction_base& tx) {
      return static_cast<std::uint64_t>(
          tx.exec_params("SELECT COALESCE(MAX(idx), 0) FROM audit WHERE writer_id = $1", writer_)[0][0]
              .as<std::int64_t>());
    });
  }

  Result<std::optional<crypto::Digest>> hash_at(std::uint64_t index) override {
    return read<std::optional<crypto::Digest>>([&](pqxx::transaction_base& tx) {
      const pqxx::result r =
          tx.exec_params("SELECT hash FROM audit WHERE writer_id = $1 AND idx = $2::bigint", writer_, big(index));
      // A hash of another length is no entry's hash: none.
      if (r.empty() || r[0][0].is_null() || pqxx::binarystring(r[0][0]).size() != crypto::Digest().size()) {
        return std::optional<crypto::Digest>();
      }
      return std::optional<crypto::Digest>(digest_of(r[0][0]));
    });
  }

 private:
  template <typename T, typename F>
  Result<T> read(F&& query) {
    try {
      pqxx::read_transaction tx(conn_);
      T out = query(tx);
      tx.commit();
      return out;
    } catch (const std::exception& e) {
      return Status::fail(Code::STORAGE_FAILED, "cannot read the audit log in PostgreSQL: " + pg_message(e));
    }
  }

  pqxx::connection conn_;
  int writer_;
};

}  // namespace

std::string pg_message(const std::exception& e) {
  // One line: libpq's messages run over several ("...failed: ...\n\tIs the
  // server running...?\n"); each line break and its indent become one space.
  std::string m;
  bool breaking = false;
  for (const char c : std::string(e.what())) {
    if (c == '\n' || c == '\r' || (breaking && (c == '\t' || c == ' '))) {
      breaking = true;
      continue;
    }
    if (breaking && !m.empty()) m += ' ';
    breaking = false;
    m += c;
  }
  return m.empty() ? std::string("the connection to PostgreSQL was lost") : m;
}

Result<std::unique_ptr<AuditReader>> pg_audit_reader(const std::string& conninfo, int writer_id) {
  Status parsed = check_conninfo(conninfo);
  if (!parsed) return parsed;
  try {
    return std::unique_ptr<AuditReader>(std::make_unique<PgAuditReader>(conninfo, writer_id));
  } catch (const std::exception& e) {
    return Status::fail(Code::UNAVAILABLE, "cannot connect to the PostgreSQL store: " + pg_message(e));
  }
}

Result<std::vector<PgWriter>> pg_writers(const std::string& conninfo) {
  Status parsed = check_conninfo(conninfo);
  if (!parsed) return parsed;
  std::vector<PgWriter> writers;
  try {
    pqxx::connection conn(with_default_settings(conninfo));
    try {
      pqxx::read_transaction tx(conn);
      for (const auto& row : tx.exec("SELECT writer_id, COALESCE(broker_id, '') FROM writers ORDER BY writer_id")) {
        writers.push_back(PgWriter{row[0].as<int>(), row[1].as<std::string>()});
      }
    } catch (const pqxx::sql_error& e) {
      // 42P01: no store here yet (the reads say so); 42703: a store made
      // before writers had names (schema 1), whose one writer is kPgWriterId.
      if (e.sqlstate() != "42P01" && e.sqlstate() != "42703") throw;
    }
  } catch (const pqxx::broken_connection& e) {
    return Status::fail(Code::UNAVAILABLE, "cannot connect to the PostgreSQL store: " + pg_message(e));
  } catch (const std::exception& e) {
    return Status::fail(Code::STORAGE_FAILED, "cannot read the PostgreSQL store's writers: " + pg_message(e));
  }
  return writers;
}

Result<int> pg_writer_id(const std::string& conninfo, const std::string& broker) {
  auto read = pg_writers(conninfo);
  if (!read) return read.status();
  const std::vector<PgWriter>& writers = *read;
  std::string names;
  for (const auto& [id, name] : writers) {
    if (!broker.empty() && name == broker) return id;
    names += (names.empty() ? "" : ", ") + (name.empty() ? "writer " + std::to_string(id) + " (unnamed)" : name);
  }
  if (broker.empty() && writers.size() <= 1) return writers.empty() ? kPgWriterId : writers.front().id;
  if (broker.empty()) {
    return Status::fail(Code::INVALID_FIELD, "the PostgreSQL store holds the audit logs of several brokers (" + names +
                                                 "): name one with --writer");
  }
  return Status::fail(Code::INVALID_FIELD, "no broker " + broker + " writes an audit log in the PostgreSQL store (" +
                                               (names.empty() ? std::string("it has none yet") : "it holds " + names) +
                                               ")");
}

}  // namespace tearline::audit
