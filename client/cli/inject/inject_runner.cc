#include "cli/inject/inject_runner.h"

#include "cli/inject/inject_runner_state.h"

namespace tearline::cli::inject {

Runner::Runner(const Scenario& scenario, NodeOptions options, std::map<std::string, std::string> serve)
    : state_(std::make_unique<State>(scenario, std::move(options), std::move(serve))) {}
Runner::~Runner() = default;

Status Runner::start() {
  State& s = *state_;
  Status dir = s.load_directory();
  if (!dir) return dir;
  std::string under_test;  // the broker's node id, which signs its ACKs to a partner
  if (!s.serve.empty()) {
    auto key = client::read_broker_key(s.options.directory_path() / "broker.pub");
    if (!key) return key.status();
    const identity::Credential* c = s.directory->node_by_transport_key(*key);
    if (c == nullptr) {
      return Status::fail(Code::UNKNOWN_NODE,
                          "no credential of the directory holds the key of directory/broker.pub: "
                          "the broker under test is not known, so --serve cannot check its ACKs");
    }
    under_test = c->node_id;
  }
  for (const auto& [broker, endpoint] : s.serve) {
    auto keys = crypto::read_broker_keys(identity::PkiPaths(s.options.pki).other_broker_key(broker));
    if (!keys) return keys.status();
    auto server = std::make_unique<PartnerServer>(broker, endpoint, std::move(keys).value(), s.directory, under_test,
                                                  s.timeout());
    if (Status bound = server->bind(); !bound) return bound;
    s.servers[broker] = std::move(server);
  }
  for (const identity::Credential* c : s.directory->nodes()) {
    if (c->has_role(identity::kBrokerRole)) continue;  // the broker's own credential: no node, no key file here
    if (!s.directory->check_node(c->node_id, now_ms() / 1000)) continue;
    if (is_partner_agency(*s.directory, c->agency)) continue;  // served by its own agency's broker (FOREIGN_NODE here)
    auto session = s.connect(c->node_id);
    if (!session) return session.status();
    Status subscribed = (*session)->subscribe({">"});
    if (!subscribed) return subscribed;
    s.held[c->node_id] = std::move(session).value();
  }
  if (Status linked = s.partners.open(*s.directory); !linked) return linked;
  // Subscriptions are durable, per node: a session resumes after what its
  // node acknowledged before, so reports from before the run may arrive
  // first. A first sentinel drains them (and proves the sentinel works).
  auto drained = s.collect();
  if (!drained) return drained.status();
  if (!drained->sentinel) return drained->sentinel;
  if (!drained->problems.empty()) return Status::fail(Code::UNAVAILABLE, drained->problems.front());
  return Status::ok();
}

Result<CaseResult> Runner::run(std::size_t index) {
  State& s = *state_;
  const Case& c = s.scenario.cases.at(index);
  s.pending_problems.clear();
  s.serve_links();
  Result<Verdict> verdict = Status::fail(Code::INVALID_FIELD, "unknown fault kind");
  const Sent* report = nullptr;
  switch (fault_kind(c.fault)) {
    case FaultKind::kReport:
      verdict = s.send_report(c, index);
      report = s.sent_by(index);
      break;
    case FaultKind::kReplay:
      verdict = s.send_replay(c);
      report = s.sent_by(c.replay_of);
      break;
    case FaultKind::kRawFrame: verdict = s.send_garbage(c); break;
    case FaultKind::kAck:
      verdict = s.send_ack_fault(c, index);
      report = s.sent_by(index);
      break;
    case FaultKind::kFromPartner:
      verdict = s.send_from_partner(c, index);
      report = s.sent_by(index);
      break;
    case FaultKind::kConnection:
      verdict = c.fault == Fault::kRevokedNode ? s.connect_revoked(c) : s.connect_unknown_key(c);
      break;
    case FaultKind::kPartner: {
      const PartnerLinks::Reload reload = [&s] { return s.admin_reload(); };
      verdict = c.fault == Fault::kPartnerSubscribe  ? s.partners.subscribe(c)
                : c.fault == Fault::kOneSidedPeering ? s.partners.widen_one_sided(c, reload)
                                                     : s.partners.revoke(c, reload);
    } break;
  }
  if (!verdict) return verdict.status();
  auto deliveries = s.collect();
  if (!deliveries) return deliveries.status();
  CaseResult r;
  r.name = c.name;
  if (report != nullptr) r.report_id_hex = report->report_id_hex;
  r.expected = c.expect;
  r.got = verdict->got;
  r.reasons = verdict->reasons;
  r.delivery_problems = s.compare(c, report, *deliveries);
  return r;
}

}  // namespace tearline::cli::inject
