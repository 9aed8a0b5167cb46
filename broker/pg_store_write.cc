// PgStore's write path: one transaction per batch, and retention
// (pg_store.h states the codes and the rule for a COMMIT whose outcome is
// unknown).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "broker/pg_store_internal.h"

namespace tearline::broker {

Status PgStore::begin_write(std::unique_ptr<pqxx::dbtransaction>* tx) {
  // Twice at most: a connection the server ended while idle is found out
  // only when used, and at BEGIN nothing of the batch was sent yet.
  for (int attempt = 0;; ++attempt) {
    try {
      if (!writer_) {
        auto fresh = pg::connect(conninfo_, kWriteApplicationName);
        // The writer lock went with the lost session: take it again, and
        // make sure nobody wrote as this writer in between.
        auto relocked = pg::take_writer_lock(*fresh, {writer_id_, committed_seq_, committed_audit_, writer_pid_});
        if (!relocked) {
          halt_.halt(relocked.status().reasons().front().message +
                     "; this broker accepts nothing more: stop one of the two brokers");
          return Status::fail(Code::STORAGE_HALTED, halt_reason());
        }
        writer_pid_ = *relocked;
        writer_ = std::move(fresh);
      }
      *tx = std::make_unique<pqxx::work>(writer_->conn);
      // libpqxx 6.4 may have reconnected by itself at BEGIN, in a session
      // that does not hold the writer lock: then start over, as after a
      // lost session.
      if (writer_->conn.backendpid() == writer_pid_) return Status::ok();
      tx->reset();
      writer_.reset();
      if (attempt > 0) return Status::fail(Code::STORAGE_FAILED, "store: the write session changed twice at BEGIN");
      continue;
    } catch (const pqxx::broken_connection& e) {
      writer_.reset();
      if (attempt > 0)
        return Status::fail(Code::STORAGE_FAILED, "store: cannot reach PostgreSQL: " + pg::message_of(e));
    } catch (const std::exception& e) {
      writer_.reset();
      return failure(e, "begin");
    }
  }
}

Status PgStore::write_batch(pqxx::transaction_base& tx, const Batch& batch, std::string* clashing_id,
                            std::vector<std::optional<StreamPosition>>* prevs, std::vector<std::string>* fenced) {
  // Rows that another broker's batch may write too are written in one
  // order that every broker follows (originators, report ids, patterns and
  // cursors by key), so that two batches never wait for each other in a
  // cycle on them. (A cycle through other rows, should one arise, ends in
  // PostgreSQL's deadlock error: STORAGE_FAILED, nothing written.)
  //
  // Each originator of the batch: its row locked, and where its last report
  // is. Its sequence is checked under that lock: a report of it that
  // another writer committed first is seen here.
  struct Origin {
    std::uint64_t last_sequence = 0;
    std::optional<StreamPosition> last;
    std::optional<int> last_writer;
  };
  std::map<std::string, Origin> origins;
  for (const auto& r : batch.reports) origins.try_emplace(r.originator);
  for (auto& [node, o] : origins) {
    const pqxx::row row = tx.exec_prepared("lock_originator", node)[0];
    o.last_sequence = static_cast<std::uint64_t>(row[0].as<std::int64_t>());
    if (!row[1].is_null()) o.last_writer = row[1].as<int>();
    if (!row[1].is_null() && !row[2].is_null()) {
      // The name only for the record (a writer is never deleted).
      const std::string name = row[3].is_null() ? "writer " + row[1].as<std::string>() : row[3].as<std::string>();
      o.last = StreamPosition{name, static_cast<std::uint64_t>(row[2].as<std::int64_t>())};
    }
  }
  // In batch order: each report's check and its originator's previous report.
  std::vector<std::optional<StreamPosition>> prev_of;
  std::vector<std::optional<int>> prev_writer_of;
  prev_of.reserve(batch.reports.size());
  prev_writer_of.reserve(batch.reports.size());
  std::uint64_t last_seq = 0;
  std::int64_t added_bytes = 0;
  for (const auto& r : batch.reports) {
    Origin& o = origins[r.originator];
    // Against this writer's own reports the broker's ReplayGuard is the
    // judge (store.h: the stored sequence stays the highest); against
    // another writer's, only the store can be.
    if (r.sequence <= o.last_sequence && o.last_writer && *o.last_writer != writer_id_) {
      // An exact copy of a stored report repeats its sequence too: that
      // one is a replay.
      const bool stored = !tx.exec_prepared("has_report", pg::blob(r.report_id)).empty();
      if (clashing_id != nullptr) *clashing_id = r.report_id;
      if (stored) {
        return Status::fail(Code::REPLAYED_REPORT, "report " + to_hex(as_bytes(r.report_id)) + " was accepted before");
      }
      return Status::fail(Code::SEQUENCE_REGRESSION,
                          "sequence " + std::to_string(r.sequence) + " of " + r.originator +
                              " is not above its last accepted sequence " + std::to_string(o.last_sequence) +
                              (o.last ? " (accepted by " + o.last->writer + ")" : std::string()));
    }
    prev_of.push_back(o.last);
    prev_writer_of.push_back(o.last_writer);
    o.last_sequence = std::max(o.last_sequence, r.sequence);
    o.last = StreamPosition{options_.writer, r.seq};
    o.last_writer = writer_id_;
    last_seq = std::max(last_seq, r.seq);
    added_bytes += static_cast<std::int64_t>(r.bytes.size());
  }
  // The reports, in report id order (each names its own seq).
  std::vector<std::size_t> by_id(batch.reports.size());
  for (std::size_t i = 0; i < by_id.size(); ++i) by_id[i] = i;
  std::sort(by_id.begin(), by_id.end(),
            [&](std::size_t x, std::size_t y) { return batch.reports[x].report_id < batch.reports[y].report_id; });
  for (const std::size_t i : by_id) {
    const StoredReport& r = batch.reports[i];
    const pqxx::result inserted = tx.exec_prepared(
        "insert_report", writer_id_, pg::big(r.seq), pg::blob(r.report_id), r.originator, r.source.agency,
        r.source.country, r.topic, pg::big(r.sequence), r.accepted_ms, pg::blob(r.bytes.data(), r.bytes.size()),
        pg::blob(r.receipt.data(), r.receipt.size()), prev_writer_of[i],
        prev_of[i] ? std::optional<std::int64_t>(pg::big(prev_of[i]->seq)) : std::nullopt,
        pg::blob(r.path.data(), r.path.size()));
    if (inserted.empty()) {
      // ON CONFLICT (report_id) DO NOTHING: the id is stored already (or
      // earlier in this batch). The batch fails naming it, so that the
      // broker refuses that report and writes the others in its next batch.
      if (clashing_id != nullptr) *clashing_id = r.report_id;
      return Status::fail(Code::REPLAYED_REPORT, "report " + to_hex(as_bytes(r.report_id)) + " was accepted before");
    }
  }
  for (const auto& [node, o] : origins) {
    tx.exec_prepared("set_originator", node, pg::big(o.last_sequence), o.last_writer,
                     o.last ? std::optional<std::int64_t>(pg::big(o.last->seq)) : std::nullopt);
  }
  // Once per batch, not per report: the writer's last seq and its reports' bytes.
  if (!batch.reports.empty()) {
    const auto held =
        tx.exec_prepared("advance_writer", writer_id_, pg::big(last_seq), added_bytes)[0][0].as<std::int64_t>();
    if (static_cast<std::uint64_t>(held) > options_.max_bytes) {
      return Status::fail(Code::STORAGE_FULL, "store full: its reports would hold " + std::to_string(held) +
                                                  " bytes, more than max_bytes (" + std::to_string(options_.max_bytes) +
                                                  ")");
    }
  }
  // Claims (pg_store.h): each fenced node's claim row locked, in node
  // order; a node whose claim moved on has none of its rows written.
  std::set<std::string> fenced_out;
  for (const auto& [node, fence] : batch.fences) {
    const pqxx::result claim = tx.exec_prepared("lock_claim", node);
    if (claim.empty() || claim[0][0].as<int>() != writer_id_ ||
        static_cast<std::uint64_t>(claim[0][1].as<std::int64_t>()) != fence) {
      fenced_out.insert(node);
    }
  }
  if (fenced != nullptr) fenced->assign(fenced_out.begin(), fenced_out.end());
  for (const auto& [node, patterns] : batch.subscriptions) {
    if (fenced_out.count(node) != 0) continue;
    tx.exec_prepared("clear_subscriptions", node);
    // Inserted in pattern order; `position` keeps the list's own order.
    std::map<std::string, int> sorted;
    int position = 0;
    for (const auto& p : patterns) sorted.try_emplace(p, position++);
    for (const auto& [p, at] : sorted) tx.exec_prepared("insert_subscription", node, p, at);
  }
  // Every cursor row, this writer's and the other writers', in (node,
  // writer name) order.
  std::map<std::pair<std::string, std::string>, std::uint64_t> cursors(batch.stream_cursors.begin(),
                                                                       batch.stream_cursors.end());
  if (std::any_of(cursors.begin(), cursors.end(), [&](const auto& c) { return c.first.second == options_.writer; })) {
    return Status::fail(Code::STORAGE_FAILED,
                        "store: a cursor in this broker's own stream belongs in "
                        "Batch::cursors, not stream_cursors; nothing of the batch was written");
  }
  for (const auto& [node, acked] : batch.cursors) cursors[{node, options_.writer}] = acked;
  for (const auto& [key, acked] : cursors) {
    const auto& [node, writer] = key;
    if (fenced_out.count(node) != 0) continue;
    if (writer == options_.writer) {
      tx.exec_prepared("set_cursor", node, writer_id_, pg::big(acked));
    } else if (tx.exec_prepared("set_stream_cursor", node, writer, pg::big(acked)).empty()) {
      return Status::fail(Code::STORAGE_FAILED, "store: no writer \"" + writer +
                                                    "\" in the PostgreSQL store, so no cursor in its stream; nothing "
                                                    "of the batch was written");
    }
  }
  if (prevs != nullptr) *prevs = std::move(prev_of);
  for (const auto& e : batch.audit) {
    tx.exec_prepared("insert_audit", writer_id_, pg::big(e.index), e.time_ms, e.event, e.node, e.report, e.decision,
                     e.detail, pg::blob(e.prev_hash.data(), e.prev_hash.size()),
                     pg::blob(e.hash.data(), e.hash.size()));
  }
  for (const auto& c : batch.checkpoints) {
    tx.exec_prepared("insert_checkpoint", writer_id_, pg::big(c.index), c.time_ms,
                     pg::blob(c.hash.data(), c.hash.size()), pg::blob(c.signature.data(), c.signature.size()));
  }
  return Status::ok();
}

void PgStore::notify_watchers() {
  // Not in the batch's transaction: a NOTIFY takes a lock that PostgreSQL
  // holds through the COMMIT (and its wait for a synchronous standby), which
  // would make every broker's commits wait for each other's. Here it is a
  // short transaction of its own that waits for no flush.
  try {
    pqxx::work n(writer_->conn);
    n.exec("SET LOCAL synchronous_commit = off");
    n.exec_prepared("notify", std::string(kNotifyChannel), std::to_string(writer_id_));
    n.commit();
  } catch (const pqxx::broken_connection&) {
    writer_.reset();  // the next commit connects anew; the hint is lost
  } catch (const std::exception&) {
    // Ignored: a hint only; lost, the watchers' readers find the batch by the heads.
  }
}

Status PgStore::commit(const Batch& batch, std::string* clashing_id, std::vector<std::optional<StreamPosition>>* prevs,
                       std::vector<std::string>* fenced) {
  if (fenced != nullptr) fenced->clear();
  if (halt_.halted()) return Status::fail(Code::STORAGE_HALTED, halt_reason());
  if (batch.empty()) return Status::ok();
  std::unique_ptr<pqxx::dbtransaction> tx;
  Status begun = begin_write(&tx);
  if (!begun) return begun;
  bool committing = false;
  try {
    Status written = write_batch(*tx, batch, clashing_id, prevs, fenced);
    if (!written) {
      tx->abort();
      return written;
    }
    if (fail_syncs_.load() > 0) {
      fail_syncs_.fetch_sub(1);
      tx->abort();
      halt_.halt("the store halted after a failed sync (injected); restart the broker");
      return Status::fail(Code::STORAGE_HALTED, "store: sync failed (injected); the store halts");
    }
    committing = true;
    tx->commit();
    committing = false;
    if (!batch.reports.empty()) notify_watchers();
    for (const auto& r : batch.reports) committed_seq_ = std::max(committed_seq_, r.seq);
    for (const auto& e : batch.audit) committed_audit_ = std::max(committed_audit_, e.index);
  } catch (const std::exception& e) {
    const bool lost = dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr ||
                      dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr;
    tx.reset();  // rolls back what is still open
    if (lost) writer_.reset();
    if (lost && committing) {
      // Never retried: the batch may have committed (PostgreSQL, or its
      // standby, may hold it) or not, and only a restart can read which.
      halt_.halt("the connection to PostgreSQL was lost during COMMIT (" + pg::message_of(e) +
                 "): whether the batch committed is unknown; restart the broker, it recovers what did commit");
      return Status::fail(Code::STORAGE_HALTED, halt_reason());
    }
    if (lost) {
      return Status::fail(Code::STORAGE_FAILED, "store: the connection to PostgreSQL was lost before COMMIT (" +
                                                    pg::message_of(e) + "): nothing of the batch was written");
    }
    return failure(e, "write");
  }
  // The batch's outcome is settled; the answers wait for this at most for
  // one catalog query, once a second, and never for the I/O thread's reads.
  if (const auto now = std::chrono::steady_clock::now(); now - footprint_at_ >= kFootprintEvery) {
    footprint_at_ = now;
    measure_footprint();
  }
  return Status::ok();
}

Result<std::size_t> PgStore::apply_retention(std::int64_t now_ms, std::vector<std::string>* removed_ids) {
  if (halt_.halted()) return std::size_t{0};
  std::unique_ptr<pqxx::dbtransaction> tx;
  Status begun = begin_write(&tx);
  if (!begun) return begun;
  std::vector<std::string> removed;
  try {
    std::int64_t removed_bytes = 0;
    // Runs a DELETE ... RETURNING seq, report_id, octet_length(bytes), in seq order.
    auto collect = [&](const pqxx::result& rows) {
      for (const auto& row : rows) {
        removed.push_back(pg::bytes_of(row[0]));
        removed_bytes += row[1].as<std::int64_t>();
      }
      return rows.size();
    };
    collect(
        tx->exec_params("WITH d AS (DELETE FROM reports WHERE writer_id = $1 AND accepted_ms < $2"
                        " RETURNING seq, report_id, octet_length(bytes) AS n) SELECT report_id, n FROM d ORDER BY seq",
                        writer_id_, now_ms - options_.retention_seconds * 1000));
    // Oldest first, and only as many as the excess: the shortest run of
    // oldest reports whose bytes reach it. The audit log is kept whole.
    std::int64_t held =
        tx->exec_params("SELECT report_bytes FROM writers WHERE writer_id = $1", writer_id_)[0][0].as<std::int64_t>() -
        removed_bytes;
    while (held > static_cast<std::int64_t>(std::min<std::uint64_t>(options_.retention_bytes, INT64_MAX))) {
      const std::int64_t before = removed_bytes;
      const std::size_t deleted = collect(tx->exec_params(
          "WITH cut AS (SELECT COALESCE((SELECT seq FROM (SELECT seq, SUM(octet_length(bytes)) OVER (ORDER BY seq)"
          " AS upto FROM reports WHERE writer_id = $1) r WHERE upto >= $2 ORDER BY seq LIMIT 1),"
          " (SELECT MAX(seq) FROM reports WHERE writer_id = $1)) AS seq),"
          " d AS (DELETE FROM reports WHERE writer_id = $1 AND seq <= (SELECT seq FROM cut)"
          " RETURNING seq, report_id, octet_length(bytes) AS n) SELECT report_id, n FROM d ORDER BY seq",
          writer_id_, held - static_cast<std::int64_t>(options_.retention_bytes)));
      if (deleted == 0) break;
      held -= removed_bytes - before;
    }
    tx->exec_params("UPDATE writers SET report_bytes = report_bytes - $2 WHERE writer_id = $1", writer_id_,
                    removed_bytes);
    tx->commit();
  } catch (const std::exception& e) {
    const bool lost = dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr ||
                      dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr;
    tx.reset();
    if (lost) writer_.reset();
    // Deleting is idempotent: whatever a lost COMMIT did, the next pass
    // deletes what is still due, and the count moved with the rows.
    return failure(e, "retention");
  }
  if (removed_ids != nullptr) removed_ids->insert(removed_ids->end(), removed.begin(), removed.end());
  return removed.size();
}

}  // namespace tearline::broker
