// Broker::Impl::open_store: the last step of start-up. Locks the data_dir
// (StoreLock), opens the store the configuration names (SQLite in the
// data_dir, or PostgreSQL), checks it against the audit anchor and restores
// what it recovered: replay memory, sources, durable subscriptions and
// cursors, the broker seq and the audit chain.
#include "audit/anchor.h"
#include "audit/pg_audit_reader.h"
#include "broker/broker_impl.h"
#include "broker/pg_store.h"
#include "broker/sqlite_store.h"
#include "receipt/acceptance.h"

namespace tearline::broker {

Status Broker::Impl::open_store() {
  auto locked = StoreLock::acquire(config.data_dir);
  if (!locked) return locked.status();
  store_lock.emplace(std::move(locked).value());

  StoreOptions so;
  so.path = config.data_dir / "tearline.db";
  so.retention_seconds = config.storage.retention_seconds;
  so.retention_bytes = config.storage.retention_bytes;
  so.max_bytes = config.storage.max_bytes;
  so.writer = broker_id;  // this broker's stream in a store several brokers share
  store_writer = so.writer;
  so.writer_key = audit_key->public_key();
  RecoveredState state;
  const bool on_pg = config.storage.backend == StoreBackend::kPostgresql;
  auto opened = on_pg ? PgStore::open(config.storage.conninfo, so, clock.now_ms(), config.replay_memory_ms, &state)
                      : SqliteStore::open(so, clock.now_ms(), config.replay_memory_ms, &state);
  if (!opened) return opened.status();
  store = std::move(opened).value();
  // The anchor in the data_dir holds this broker's checkpoints whichever
  // store it writes: a PostgreSQL store restored from an older backup, or a
  // standby promoted without the last commits, is found short the same way.
  std::unique_ptr<audit::AuditReader> audit_log;
  if (on_pg) {
    auto reader = audit::pg_audit_reader(config.storage.conninfo, static_cast<PgStore&>(*store).writer_id());
    if (!reader) return reader.status();
    audit_log = std::move(reader).value();
  } else {
    audit_log = audit::sqlite_audit_reader(so.path);
  }
  std::string lost;  // set when --accept-loss accepted a truncation (audited below)
  Status anchored = audit::check_anchor(config.data_dir, *audit_log, audit_key->public_key(), config.accept_loss,
                                        clock.now_ms(), &lost);
  audit_log.reset();
  if (!anchored) {
    store->leave_as_found();  // the evidence of the loss stays as it is
    return anchored;
  }
  for (const auto& [originator, seq] : state.sequences) replay.restore_sequence(originator, seq);
  // Accepted times (wall) become steady times, the replay memory's clock.
  for (const auto& [id, when] : state.recent_ids) replay.restore_id(id, clock.steady_ms() - (clock.now_ms() - when));
  for (auto& [id, record] : state.sources) sources.add(id, std::move(record));
  Store* st = store.get();
  sources.set_fallback([st](const std::string& id) { return st->find_source(id); });
  for (const auto& [node, patterns] : state.subscriptions) subscriptions.set(node, patterns);
  node_cursors = std::move(state.cursors);
  node_stream_cursors = std::move(state.stream_cursors);
  commits = std::make_unique<GroupCommit>(config.storage, replay, *audit_key, broker_id, log);
  commits->restore(state.last_seq, audit::ChainWriter(state.last_audit.index, state.last_audit.hash),
                   state.last_checkpoint, clock.steady_ms(), state.last_checkpoint_ms);
  if (!lost.empty()) {
    log->warn("event=storage_truncation_accepted reason=\"{}\"", lost);
    audit_event("storage", "", "", "lost", lost);
    record_accepted_loss = true;  // written and anchored before serving (Broker::create)
  }
  GroupCommit& group = *commits;
  catch_up = std::make_unique<CatchUp>(
      *store, routing, sessions, config.limits, log,
      [&group](std::uint64_t seq, const report::VerifiedReport& r, std::int64_t accepted_ms) {
        return group.receipt_for_stored(seq, receipt::report_digest(r.report), accepted_ms);
      },
      CatchUpChecks{&roots, [this](auto... a) { audit_event(std::move(a)...); }, &counters.damaged_records});
  catch_up->set_own_writer(store_writer);
  log->info("event=store_recovered store={} seq={} originators={} durable_nodes={} audit_entries={}",
            on_pg ? "postgresql" : "sqlite", state.last_seq, state.sequences.size(), node_cursors.size(),
            state.last_audit.index);
  return Status::ok();
}

}  // namespace tearline::broker
