// Broker::Impl: the group commit's glue (building a batch for the
// StoreWriter, acting on what GroupCommit::finish returns) and the periodic
// work: reload, closing sessions no longer valid, session timeouts,
// replay-memory expiry, retention.
#include <algorithm>
#include <optional>
#include <string>

#include "base/time_format.h"
#include "broker/broker_identity.h"
#include "broker/broker_impl.h"

namespace tearline::broker {

namespace {

std::string short_hex(const std::string& raw) { return to_hex(as_bytes(raw)).substr(0, 12); }

}  // namespace

// One batch at a time is written by the StoreWriter thread. While it is in
// flight the I/O thread keeps receiving, verifying and staging; the next
// batch is built from what accumulated as soon as the previous one is
// written. Collects the writer's result, if any, then starts the next batch
// if due.
void Broker::Impl::commit() {
  if (commits->in_flight()) {
    auto written = writer->take();
    if (!written) return;
    finish_commit(std::move(*written));
  }
  // Between two batches the write connection is free: retention runs
  // here when due, so that steady load cannot starve it.
  apply_retention_if_due();
  start_commit();
}

void Broker::Impl::take_zap_events() {
  MutexLock lock(zap_events_mu);
  for (auto& e : zap_events) commits->audit(std::move(e));
  zap_events.clear();
  if (zap_events_dropped > 0) {
    commits->audit(AuditEvent{clock.now_ms(), "connection", "", "", "refused",
                              std::to_string(zap_events_dropped) + " more handshakes not recorded one by one"});
    zap_events_dropped = 0;
  }
}

void Broker::Impl::start_commit() {
  take_zap_events();
  take_refusals(false);
  auto batch = commits->build(clock.now_ms(), clock.steady_ms(), node_cursors, node_stream_cursors, node_fences);
  if (batch) writer->submit(std::move(*batch));
}

// Answers and routes what the written (or failed) batch settled.
CommitOutcome::Kind Broker::Impl::finish_commit(StoreWriter::Written written) {
  metrics.commit_seconds.observe(written.seconds);  // failed attempts too: often the slowest
  if (written.status) {
    if (!written.batch.reports.empty()) {
      metrics.commit_reports.observe(static_cast<double>(written.batch.reports.size()));
    }
    metrics.audit_entries += written.batch.audit.size();
  }
  CommitOutcome out = commits->finish(std::move(written), clock.steady_ms());
  for (const auto& [node, fence] : out.fenced) lost_claim(node, fence);
  if (out.kind == CommitOutcome::Kind::kWritten) {
    for (const auto& p : out.replies) {
      Session* s = sessions.find(p.routing_id);
      const bool fenced = !p.node.empty() && std::any_of(out.fenced.begin(), out.fenced.end(),
                                                         [&](const auto& f) { return f.first == p.node; });
      if (s != nullptr && s->ready() && fenced) {
        reject(*s, p.request_id,
               Status::fail(Code::SESSION_REPLACED,
                            p.node + "'s mailbox was taken over by another broker sharing the store before this "
                                     "change was written; nothing changed: send it again"));
        continue;
      }
      if (s != nullptr && s->ready()) {
        send(*s, wire::make_accepted(p.request_id));
        note_outcome(*s, Status::ok());
      }
    }
    // Sessions already at the head before this batch receive it live; the
    // others are catching up from the store and will read it there.
    TrustSnapshotPtr snap = trust.current();
    for (auto& c : out.committed) {
      const Staged& st = c.staged;
      const auto& rep = *st.result.report;
      sources.add(rep.header.report_id(), std::move(c.source));
      counters.accepted++;
      log->debug("event=publish_accepted node={} report={} topic={} seq={} sections={}", st.result.node_id,
                 short_hex(rep.header.report_id()), rep.header.topic(), st.seq, rep.sections.size());
      if (st.result.arrival) {
        arrival_settled(*st.result.arrival, rep.report_id_hex(), nullptr);
      } else if (Session* s = sessions.find(st.result.routing_id); s != nullptr && s->ready()) {
        send(*s, wire::make_accepted(st.result.request_id, as_bytes(rep.header.report_id()), st.seq, c.receipt));
      }
      Routable r{st.seq, &rep, rep.originator.country, &st.result.raw, c.receipt, c.accepted_ms};
      r.path = ByteView(st.result.path);
      if (c.prev) {  // its originator's previous report (Router::passed_prev)
        r.prev_writer = c.prev->writer == store_writer ? std::string_view() : std::string_view(c.prev->writer);
        r.prev_seq = c.prev->seq;
      }
      if (live_on) {
        std::vector<const policy::Label*> labels;
        labels.reserve(rep.sections.size());
        for (const auto& sec : rep.sections) labels.push_back(sec.label ? &*sec.label : nullptr);
        live_events.report(st.seq, rep.report_id_hex(), rep.header.topic(), rep.header.originator(), labels);
      }
      counters.delivered += routing.route_live(r, *snap, clock.now_seconds());
    }
  }
  for (const auto& r : out.refused) reject_publish(r);
  if (out.kind == CommitOutcome::Kind::kFailed) {
    for (const auto& p : out.replies) {
      if (Session* s = sessions.find(p.routing_id)) reject(*s, p.request_id, out.failure);
    }
  }
  return out.kind;
}

// Blocks until everything pending is written (clean shutdown). Finishing a
// batch routes its reports, which adds audit events; so this writes batches
// until nothing is left (a few rounds), each with a signed checkpoint over
// everything written so far.
void Broker::Impl::commit_and_wait() {
  if (commits->in_flight()) finish_commit(writer->wait());
  for (int round = 0; round < 4; ++round) {
    commits->force();
    start_commit();
    if (!commits->in_flight()) return;
    const CommitOutcome::Kind finished = finish_commit(writer->wait());
    if (finished == CommitOutcome::Kind::kFailed) return;
    if (finished == CommitOutcome::Kind::kWritten && commits->idle()) return;
  }
}

// Deletes what retention allows, at most once a minute (steady time), only
// while no batch is in flight (the write connection is the writer's then).
// The cutoff compares accepted_ms, a wall time, so it takes the wall clock.
void Broker::Impl::apply_retention_if_due() {
  const std::int64_t steady = clock.steady_ms();
  if (steady < next_retention_ms || writer->busy()) return;
  next_retention_ms = steady + 60'000;
  std::vector<std::string> removed_ids;
  auto removed = store->apply_retention(clock.now_ms(), &removed_ids);
  sources.remove(removed_ids);
  if (!removed) {
    log->error("event=retention_failed reason=\"{}\"", removed.status().to_string());
  } else if (*removed > 0) {
    log->info("event=retention removed={}", *removed);
  }
}

// Finds the broker's own credential in a directory being loaded (its id
// in pending_broker_id, taken when the whole load succeeds). A directory
// without it is refused (at start, the broker does not start; on reload,
// the last good state stays).
TrustState::Accept Broker::Impl::own_identity_check() {
  return [this](const identity::Directory& directory) -> Result<std::string> {
    auto id = find_broker_identity(directory, transport_key, audit_key->public_key());
    if (!id) return id.status();
    pending_broker_id = *id;
    return id;
  };
}

Status Broker::Impl::reload(const std::string& why) {
  const std::array<std::uint8_t, 32> previous_digest = trust.current()->directory->digest();
  const TrustSnapshotPtr before = trust.current();
  identity::LoadReport report;
  Status s = trust.reload(clock.now_seconds(), &report, own_identity_check());
  for (const auto& issue : report.rejected) {
    log->warn("event=directory_rejected object={} code={} reason=\"{}\"", issue.object, code_name(issue.reason.code),
              issue.reason.message);
  }
  if (!s) {
    counters.failed_reloads++;
    log->error("event=reload_failed why=\"{}\" reasons=\"{}\" (keeping the last good state)", why, s.to_string());
    audit_event("reload", "", "", "failed", why + ": " + s.to_string());
    return s;
  }
  broker_id = pending_broker_id;
  commits->set_broker_id(broker_id);
  counters.reloads++;
  if (live_on) {
    // The nodes this reload ended (revoked, or gone from the directory).
    const std::int64_t now_s = clock.now_seconds();
    std::vector<std::string> ended;
    for (const identity::Credential* c : before->directory->nodes()) {
      if (before->directory->check_node(c->node_id, now_s) &&
          !trust.current()->directory->check_node(c->node_id, now_s)) {
        ended.push_back(c->node_id);
      }
    }
    live_events.reload(trust.current()->generation, ended);
  }
  log->info("event=reloaded why=\"{}\" generation={} nodes={}", why, trust.current()->generation,
            trust.current()->directory->nodes().size());
  audit_event("reload", "", "", "ok", why + ": generation " + std::to_string(trust.current()->generation));
  log_peerings();
  enforce_validity();
  announce_directory(previous_digest);
  return s;
}

void Broker::Impl::log_peerings() {
  TrustSnapshotPtr snap = trust.current();
  for (const auto& [peer, links] : snap->peers) {
    for (const PeerLink& link : links) {
      log->info("event=peering_linked peer={} agency={} peering={} version={} valid_from={} valid_until={}", peer,
                link.them().agency, link.peering.peering_id, link.peering.version,
                format_utc_seconds(link.peering.not_before), format_utc_seconds(link.peering.not_after));
    }
  }
  for (const auto& issue : snap->peering_issues) log->warn("event=peering_not_used reason=\"{}\"", issue);
}

// Closes the sessions of nodes no longer valid; they receive nothing more.
void Broker::Impl::enforce_validity() {
  TrustSnapshotPtr snap = trust.current();
  const std::int64_t now = clock.now_seconds();
  for (auto& [id, s] : sessions) {
    if (!s.ready()) continue;
    Status valid = snap->check_session_node(s.node_id, now);
    if (valid) continue;
    log->warn("event=session_revoked node={} reasons=\"{}\"", s.node_id, valid.to_string());
    close_session(s, Code::SESSION_REVOKED, valid);
  }
}

// A step of the wall clock changes report times, validity checks and audit
// times, never a timer (they run on steady time); it is said once, here.
void Broker::Impl::watch_wall_clock() {
  const std::optional<std::int64_t> step = wall_watch.observe(clock);
  if (!step) return;
  counters.wall_clock_steps++;
  log->warn("event=wall_clock_step delta_ms={}", *step);
  audit_event("clock", "", "", "stepped",
              "the wall clock moved " + std::to_string(*step) + " ms beyond the steady clock (delta_ms=" +
                  std::to_string(*step) + "); timers are unaffected, times recorded from now on follow the new clock");
}

void Broker::Impl::housekeeping() {
  const std::int64_t now = clock.steady_ms();
  watch_wall_clock();
  if (reload_requested.exchange(false)) (void)reload("SIGHUP");
  enforce_validity();
  // Ids of reports not yet written stay remembered however long the write
  // takes: the store cannot answer for them yet.
  replay.expire(std::min(now, commits->oldest_pending_ms(now)));
  for (const Session& gone : sessions.take_timed_out(now, config.limits.session_timeout_ms)) {
    log->info("event=session_timeout node={}", gone.node_id);
    if (live_on && gone.ready()) live_events.session(gone.node_id, false, "timeout");
    cancel_queued_jobs(gone);
  }
  apply_retention_if_due();
  read_other_chains();
  publish_gauges();
}

void Broker::Impl::read_other_chains() {
  const std::int64_t now = clock.steady_ms();
  // No other writer known (feed->heads()): nothing to read.
  if (!feed || feed->heads().empty() || now < next_chains_read_ms) return;
  next_chains_read_ms = now + 1000;
  auto heads = store->audit_heads();
  if (!heads) {
    if (!chains_read_failing) log->error("event=audit_heads_failed reason=\"{}\"", heads.status().to_string());
    chains_read_failing = true;
    // A read that fails may have waited for a connection (connect_timeout
    // per host) on this thread: not again for a while.
    next_chains_read_ms = now + 10'000;
    return;
  }
  if (chains_read_failing) log->info("event=audit_heads_resumed chains={}", heads->size());
  chains_read_failing = false;
  commits->other_chains(std::move(heads).value());
}

}  // namespace tearline::broker
