// `tearline demo`: the Cucuta joint-unit scenario end to end, in one command.
//
// Processes: the demo (this process) starts tearline-broker and one
// `tearline demo-node` process per node (cli/demo/demo_node.h); each node process
// connects as its node, subscribes to ">" and prints what it receives. The
// demo plays the scenario (cli/demo/demo_scenario.h) by telling node processes
// what to publish, revokes a node mid-way and has the broker reload.
//
// Expectations are computed here, from the directory and the topic policy
// at publish time (decide_delivery per node, may_publish per report),
// independently of what arrived; the table compares them with what each
// node process printed. Exit 0 only if everything matches.
//
// Every wait is bounded; every child is stopped on every exit path
// (destructors, PR_SET_PDEATHSIG, and stdin EOF for node processes).
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <google/protobuf/util/json_util.h>

#include <chrono>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/text_table.h"
#include "base/time_format.h"
#include "cli/common/commands.h"
#include "cli/demo/demo_federation.h"
#include "cli/demo/demo_node.h"
#include "cli/demo/demo_outcome.h"
#include "cli/demo/demo_process.h"
#include "cli/demo/demo_scenario.h"
#include "cli/demo/demo_table.h"
#include "cli/demo/demo_world.h"
#include "cli/node/node_options.h"
#include "identity/pki.h"
#include "report/builder.h"

namespace tearline::cli {
namespace {
namespace fs = std::filesystem;
namespace v1 = tearline::v1;
using namespace std::chrono_literals;
using demo::NodeProcess;
using demo::PublicationPlan;

constexpr auto kReadyTimeout = 20s;    // every node connected and subscribed
constexpr auto kAnswerTimeout = 15s;   // a node's answer to one command (its session waits 5 s per request)
constexpr auto kDeliveryTimeout = 5s;  // the copies of one accepted report
constexpr auto kSessionCloseTimeout = 5s;
constexpr auto kSettle = 300ms;  // after the sentinel: anything stray would be here by now

struct DemoOptions {
  std::string pki = "certs/demo";
  std::string roster = "certs/roster.toml";
  std::string policy = "certs/policy.toml";
  std::string pg;                   // --pg CONNINFO
  std::string topology = "peered";  // demo::topology_name
  bool keep_running = false;
  bool json = false;
};

// Thrown out of any wait; ends the demo with kExitFailure after cleanup.
[[noreturn]] void fail(const std::string& message) { throw CommandExit(kExitFailure, message); }

std::int64_t now_seconds() { return SystemClock::instance().now_seconds(); }

v1::Label label_message(const policy::Label& l) {
  v1::Label m;
  m.set_classification(l.classification);
  for (const auto& c : l.releasable_to) m.add_releasable_to(c);
  for (const auto& u : l.units) m.add_units(u);
  m.set_orcon(l.orcon);
  return m;
}

std::string join(const std::vector<std::string>& items, const std::string& sep = ", ") {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : sep) + i;
  return out;
}

class Demo {
 public:
  Demo(const DemoOptions& options, std::ostream& progress) : options_(options), progress_(progress) {}

  int run() {
    setup();
    play();
    settle();
    const v1::DemoOutcome outcome = outcome_of();
    print(outcome);
    if (options_.keep_running) keep_running();
    return outcome.ok() ? kExitOk : kExitFailure;
  }

 private:
  // ---- setup ---------------------------------------------------------------

  void setup() {
    auto exe = demo::self_executable();
    if (!exe) fail(exe.status().to_string());
    exe_ = *exe;
    auto broker = demo::find_broker_binary();
    if (!broker) fail(broker.status().to_string());
    const auto topology = demo::topology_from_name(options_.topology);
    if (!topology) fail("unknown topology " + options_.topology);
    auto world =
        demo::World::create(exe_, {options_.pki, options_.roster, options_.policy, options_.pg, *topology}, progress_);
    if (!world) fail(world.status().to_string());
    world_ = std::move(world).value();
    auto topics = policy::TopicPolicy::load(world_->policy());
    if (!topics) fail(topics.status().to_string());
    topics_ = std::move(topics).value();
    reload_directory();
    for (const auto& n : demo::scenario_nodes()) {
      Status valid = dir_->check_node(n.id, now_seconds());
      if (!valid) {
        fail("node " + n.id + " of the demo is not usable in " + options_.pki + " (" + valid.to_string() +
             "); regenerate the PKI with `tearline certs demo --force --out " + options_.pki + "`");
      }
    }
    Status started = world_->start_brokers(*broker);
    if (!started) fail(started.to_string());
    for (int i = 0; i < world_->brokers(); ++i) {
      const demo::BrokerSlot& b = world_->broker(i);
      progress_ << "demo: tearline-broker (" << broker->string() << ")"
                << (i == 0 ? "" : " as " + b.id + " (" + b.agency + "'s)") << " listening on " << b.endpoint
                << (!b.pg    ? ""
                    : i == 0 ? ", its store in PostgreSQL"
                             : ", the same store")
                << "\n";
    }
    if (world_->federated()) progress_ << "demo: every broker's links to its peers are subscribed\n";
    progress_ << "demo: live view of " << world_->broker(0).id << "'s routing: " << world_->broker(0).live_view
              << (options_.keep_running ? "" : " (open it with --keep-running to watch after the table)") << "\n";
    for (const auto& n : demo::scenario_nodes()) {
      const identity::Credential* cred = dir_->node(n.id);
      const int at = world_->broker_for(cred != nullptr ? cred->agency : "");
      broker_of_[n.id] = world_->broker(at).id;
      auto p = NodeProcess::start(exe_, n.id, world_->broker(at).directory, world_->node_key(n.id),
                                  world_->endpoint_of(at), world_->node_log(n.id), world_->broker_id_of(at));
      if (!p) fail(p.status().to_string());
      nodes_[n.id] = std::move(p).value();
    }
    const bool all_ready = wait_until(
        [&] {
          for (const auto& [id, p] : nodes_) {
            if (!p->ready()) return false;
          }
          return true;
        },
        kReadyTimeout);
    if (!all_ready) {
      std::string missing;
      for (const auto& [id, p] : nodes_) {
        if (!p->ready()) missing += "\n  " + id + ":\n" + demo::tail_of_file(p->log(), 5);
      }
      fail("node processes not ready within 20 s:" + missing);
    }
    progress_ << "demo: " << nodes_.size() << " node processes connected and subscribed to \">\"";
    for (int i = 1; i < world_->brokers(); ++i) {
      progress_ << ", " << world_->broker(i).agency << "'s to " << world_->broker(i).id;
    }
    progress_ << "\n";
  }

  void reload_directory() {
    identity::LoadReport report;
    auto dir = identity::Directory::load(world_->directory(), now_seconds(), &report);
    if (!dir) fail(dir.status().to_string());
    dir_ = std::move(dir).value();
  }

  // ---- waiting ---------------------------------------------------------------

  NodeProcess& node(const std::string& id) {
    auto it = nodes_.find(id);
    if (it == nodes_.end()) fail("the scenario names an unknown node " + id);
    return *it->second;
  }

  // Reads node output for up to `timeout_ms`.
  void pump(int timeout_ms) {
    std::vector<pollfd> fds;
    for (const auto& [id, p] : nodes_) {
      if (p->stdout_fd() >= 0) fds.push_back(pollfd{p->stdout_fd(), POLLIN, 0});
    }
    if (timeout_ms > 0) (void)::poll(fds.data(), fds.size(), timeout_ms);
    for (auto& [id, p] : nodes_) p->pump();
  }

  void check_alive() {
    if (demo::InterruptGuard::interrupted()) fail("interrupted");
    if (!world_->broker_running()) {
      std::string logs;
      for (int i = 0; i < world_->brokers(); ++i) logs += demo::tail_of_file(world_->broker_log(i));
      fail("tearline-broker ended unexpectedly:\n" + logs);
    }
    for (auto& [id, p] : nodes_) {
      if (const auto failure = p->failure()) fail("node " + id + " failed: " + failure->reasons());
      if (p->exited()) fail("node process " + id + " ended unexpectedly:\n" + demo::tail_of_file(p->log()));
    }
  }

  // Pumps until `done` or `limit`; false on timeout. Throws on interrupt or
  // when a child died.
  bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      pump(0);
      if (done()) return true;
      check_alive();
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pump(static_cast<int>(std::min<std::int64_t>(left.count(), 100)));
    }
  }

  const v1::DemoEvent& command(const std::string& node_id, const v1::DemoCommand& c, const std::string& what) {
    NodeProcess& p = node(node_id);
    const std::uint64_t id = p.send(c);
    if (id == 0) fail("node process " + node_id + " is gone (" + what + ")");
    if (!wait_until([&] { return p.answer(id) != nullptr; }, kAnswerTimeout)) {
      fail(node_id + " did not answer " + what + " within 15 s:\n" + demo::tail_of_file(p.log()));
    }
    return *p.answer(id);
  }

  // ---- the scenario ------------------------------------------------------------

  void play() {
    const auto& steps = demo::scenario();
    played_.events.resize(steps.size());
    for (std::size_t s = 0; s < steps.size(); ++s) {
      if (const auto& revocation = steps[s].revocation; revocation.has_value()) revoke(s, *revocation);
      for (const auto& plan : steps[s].publications) publish(s, plan);
    }
  }

  const demo::PlayedPublication* played_publication(const std::string& plan_id) const {
    for (const auto& r : played_.publications) {
      if (r.plan->id == plan_id) return &r;
    }
    return nullptr;
  }

  std::string country_of(const std::string& node_id) const {
    const identity::Credential* c = dir_->node(node_id);
    return c == nullptr ? "" : c->country;
  }

  void publish(std::size_t step, const PublicationPlan& plan) {
    reload_directory();  // revocations so far count
    const std::int64_t t = now_seconds();
    demo::PlayedPublication r;
    r.step = step;
    r.plan = &plan;
    const std::string originator = plan.forged_originator.empty() ? plan.sender : plan.forged_originator;
    const std::string originator_country = country_of(originator);

    v1::DemoCommand c;
    std::vector<policy::SourceSection> sources;
    if (!plan.cites.empty()) {
      const demo::PlayedPublication* cited = played_publication(plan.cites);
      if (cited == nullptr || cited->report_id.empty()) fail("publication " + plan.id + " cites an unknown report");
      const identity::Credential* o = dir_->node(cited->plan->sender);
      for (std::uint32_t i = 0; i < cited->plan->sections.size(); ++i) {
        sources.push_back(policy::SourceSection{cited->report_id, i, cited->plan->sections[i].label, o->node_id,
                                                o->agency, o->country});
      }
      c.add_sources()->set_report_id(cited->report_id);
    }
    const Code expected = demo::expect_publish(*dir_, topics_, plan, sources, t);
    r.expected = expected == Code::OK ? "ACCEPTED" : std::string(code_name(expected));
    r.reads = demo::expect_reads(*dir_, topics_, plan, originator_country, t);

    if (plan.forged_originator.empty()) {
      c.set_kind(v1::DemoCommand::PUBLISH);
      c.set_topic(plan.topic);
      for (const auto& section : plan.sections) {
        auto* s = c.add_sections();
        *s->mutable_label() = label_message(section.label);
        s->set_text(section.text);
      }
    } else {
      auto bytes = forge(plan, &r.report_id);
      c.set_kind(v1::DemoCommand::PUBLISH_BYTES);
      c.set_report(std::string(as_chars(bytes)));
    }
    const v1::DemoEvent& answer = command(plan.sender, c, "publication " + plan.id);
    if (r.report_id.empty()) r.report_id = answer.report_id();
    r.verdict = answer.accepted() ? "ACCEPTED" : answer.code();
    r.reasons = answer.reasons();
    progress_ << "demo: " << plan.id << " " << plan.title << ": " << r.verdict
              << (r.verdict == r.expected ? "" : " (the policy expected " + r.expected + ")") << "\n";
    played_.publications.push_back(std::move(r));
    if (answer.accepted()) await_copies(played_.publications.back());
  }

  // A report naming `plan.forged_originator` as originator, sealed as that
  // node would seal it, but signed with a fresh key that is not its own.
  Bytes forge(const PublicationPlan& plan, std::string* report_id) {
    report::ReportDraft draft;
    draft.topic = plan.topic;
    for (const auto& s : plan.sections) draft.sections.push_back({s.label, to_bytes(s.text)});
    draft.created_at_ms = SystemClock::instance().now_ms();
    draft.sequence = static_cast<std::uint64_t>(draft.created_at_ms) * 1000;
    const crypto::SigningKey impostor = crypto::SigningKey::generate();
    auto built = report::build_report(draft, plan.forged_originator, impostor, *dir_);
    if (!built) fail("cannot build the forged report: " + built.status().to_string());
    *report_id = to_hex(built->report_id);
    return built->bytes;
  }

  // Waits (bounded) until every node the policy admits to a section of the
  // report has printed its copy.
  void await_copies(const demo::PlayedPublication& r) {
    const auto& nodes = demo::scenario_nodes();
    (void)wait_until(
        [&] {
          for (std::size_t n = 0; n < nodes.size(); ++n) {
            bool expects = false;
            for (const auto& section : r.reads) expects = expects || section[n].delivered;
            if (expects && node(nodes[n].id).received_report(r.report_id) == nullptr) return false;
          }
          return true;
        },
        kDeliveryTimeout);
  }

  void revoke(std::size_t step, const demo::RevocationPlan& plan) {
    reload_directory();
    const identity::Credential* cred = dir_->node(plan.node);
    if (cred == nullptr) fail("cannot revoke unknown node " + plan.node);
    // The drill: the liaison's key is reported compromised now, so its
    // signatures from this moment on are void (docs/trust-model.md,
    // "Revocation in time"); it published nothing before.
    const std::int64_t now = now_seconds();
    const identity::CredentialRevocation revocation{cred->serial, identity::RevocationReason::kCompromised, now};
    auto number = identity::revoke(world_->revocation_pki(), cred->agency, {revocation}, {}, now);
    if (!number) fail("cannot revoke " + plan.node + ": " + number.status().to_string());
    if (Status shared = world_->share_revocations(); !shared) fail(shared.to_string());
    auto& events = played_.events[step];
    events.push_back(cred->agency + " revokes " + plan.node + "'s credential (serial " + std::to_string(cred->serial) +
                     ", revocation list " + std::to_string(*number) + ", signed with the " + cred->agency +
                     " authority key) as compromised from " + format_utc_seconds(now) +
                     ": its signatures from then on are void");
    progress_ << "demo: " << events.back() << "\n";
    v1::DemoCommand c;
    c.set_kind(v1::DemoCommand::RELOAD);
    const v1::DemoEvent& answer = command(plan.reload_by, c, "ADMIN reload");
    events.push_back(plan.reload_by + " (role admin) asks the broker to reload: " +
                     (answer.accepted() ? std::string("ACCEPTED") : "REJECTED " + answer.reasons()));
    if (!answer.accepted()) played_.problems.push_back("the broker refused the reload: " + answer.reasons());
    if (world_->brokers() > 1) {
      if (Status reloaded = world_->reload_other_brokers(); !reloaded) {
        played_.problems.push_back(reloaded.to_string());
      }
      std::vector<std::string> others;
      for (int i = 1; i < world_->brokers(); ++i) others.push_back(world_->broker(i).id);
      events.push_back(join(others, " and ") + (others.size() == 1 ? " is" : " are") + " told to reload too (SIGHUP)" +
                       (world_->federated() ? ", having imported " + cred->agency + "'s new revocation list" : "") +
                       ", as " + (others.size() == 1 ? "its operator" : "their operators") + " would");
    }
    NodeProcess& revoked = node(plan.node);
    wait_until([&] { return revoked.session_closed().has_value(); }, kSessionCloseTimeout);
    const auto closed = revoked.session_closed();
    if (closed && closed->code() == "SESSION_REVOKED") {
      events.push_back("the broker closed " + plan.node + "'s session: SESSION_REVOKED (" + closed->reasons() + ")");
      played_.revocations.push_back({step, plan.node});
    } else {
      const std::string what = closed ? "with " + closed->code() : "within 5 s";
      events.push_back("!! " + plan.node + "'s session was not closed with SESSION_REVOKED (" + what + ")");
      played_.problems.push_back(plan.node + "'s session was not closed with SESSION_REVOKED (" + what + ")");
    }
    progress_ << "demo: " << events.back() << "\n";
  }

  // After the sentinel (the last publication) reached every node: a short
  // grace for anything that should not arrive at all.
  void settle() {
    const auto until = std::chrono::steady_clock::now() + kSettle;
    while (std::chrono::steady_clock::now() < until) {
      check_alive();
      pump(50);
    }
  }

  // ---- the outcome -------------------------------------------------------------

  v1::DemoOutcome outcome_of() {
    std::vector<v1::DemoNode> infos;
    std::map<std::string, demo::Observed> observed;
    for (const auto& n : demo::scenario_nodes()) {
      v1::DemoNode info;
      info.set_id(n.id);
      info.set_short_name(n.short_name);
      info.set_broker(broker_of_[n.id]);
      if (const identity::Credential* c = dir_->node(n.id)) {
        info.set_agency(c->agency);
        info.set_country(c->country);
        info.set_clearance(std::string(identity::classification_name(c->clearance)));
        for (const auto& u : dir_->units_of(n.id, now_seconds())) info.add_units(u);
      }
      infos.push_back(std::move(info));
      NodeProcess& p = node(n.id);
      observed[n.id] = demo::Observed{p.received(), p.problems()};
    }
    v1::DemoOutcome outcome = demo::compare(played_, observed, infos, world_->endpoint());
    // A refused crossing is a loop, a forged path or a policy mismatch between
    // two brokers: none belongs to the scenario.
    for (int i = 0; i < world_->brokers(); ++i) {
      for (const auto& line : demo::lines_with(world_->broker_log(i), "event=crossing_refused")) {
        outcome.add_problems(world_->broker(i).id + " refused a crossing: " + line);
        outcome.set_mismatches(outcome.mismatches() + 1);
        outcome.set_ok(false);
      }
    }
    return outcome;
  }

  void print(const v1::DemoOutcome& outcome) {
    if (options_.json) {
      google::protobuf::util::JsonPrintOptions o;
      o.preserve_proto_field_names = true;
      o.add_whitespace = true;
      o.always_print_primitive_fields = true;
      std::string text;
      (void)google::protobuf::util::MessageToJsonString(outcome, &text, o);
      std::cout << text << std::flush;
      return;
    }
    std::string brokers;
    switch (world_->topology()) {
      case demo::Topology::kSingle: brokers = "one broker (" + outcome.broker_endpoint() + ")"; break;
      case demo::Topology::kCluster:
        brokers = "two brokers sharing one store (" + outcome.broker_endpoint() + "; " + world_->endpoint_of(1) +
                  " as " + world_->broker(1).id + ", for " + world_->broker(1).agency + "'s nodes)";
        break;
      case demo::Topology::kPeered:
      case demo::Topology::kTriangle: {
        std::vector<std::string> each;
        each.reserve(static_cast<std::size_t>(world_->brokers()));
        for (int i = 0; i < world_->brokers(); ++i) {
          each.push_back(world_->broker(i).agency + "'s " + world_->broker(i).id + " (" + world_->endpoint_of(i) + ")");
        }
        brokers = std::to_string(world_->brokers()) + " agencies' brokers, each pair peered: " + join(each, ", ");
        break;
      }
    }
    std::cout << "tearline demo: " << brokers << " and " << outcome.nodes_size()
              << " agency nodes, each its own process, subscribed to \">\".\n"
              << "Each cell: what the node received of a report section, as the policy decided it at publish time\n"
              << "(may_read: clearance, releasable-to country, unit membership, topic, credential).\n\n";
    const TextTable nodes({{Align::kLeft, 16}, {Align::kLeft, 24}, {}}, "", "  ");  // fixed widths
    for (const auto& n : outcome.nodes()) {
      std::string units = n.units_size() == 0 ? "" : "  unit " + join({n.units().begin(), n.units().end()});
      std::cout << nodes.row({n.short_name(), n.id(), n.agency() + " " + n.country() + " " + n.clearance() + units});
    }
    std::cout << "\n" << demo::render_table(outcome) << "\n" << demo::render_summary(outcome) << std::flush;
  }

  // Leaves everything running and prints what the nodes receive until Ctrl-C.
  void keep_running() {
    std::cout << "\nThe brokers and the node processes keep running; Ctrl-C stops them.\n";
    for (int i = 0; i < world_->brokers(); ++i) {
      std::cout << "  broker     " << world_->endpoint_of(i) << " as " << world_->broker(i).id << " (log "
                << world_->broker_log(i).string() << ", directory " << world_->broker(i).directory.string() << ")\n";
    }
    std::cout << "  directory  " << world_->directory().string() << " (with the revocation)\n";
    if (!options_.pg.empty()) {
      // The connection string is not printed: it may hold a password.
      std::cout << "  audit      " << exe_.string() << " audit verify --pg CONNINFO --pki " << world_->root().string()
                << " (CONNINFO: the --pg given; every broker's log)\n";
    }
    std::cout << "  node keys  " << (fs::path(options_.pki) / "keys" / "nodes").string() << "/<node>.key\n"
              << "Try, from another terminal:\n"
              << "  " << exe_.string() << " publish --pki " << options_.pki << " --broker " << world_->endpoint()
              << " --node diran-cucuta-analyst --topic unit.cucuta-jtf.seizures --classification CONFIDENTIAL"
              << " --rel COL,USA --unit cucuta-jtf --text 'second truck expected Thursday'\n"
              << "Reports the nodes receive from now on:\n"
              << std::flush;
    for (auto& [id, p] : nodes_) (void)p->take_new_received();
    while (!demo::InterruptGuard::interrupted() && world_->broker_running()) {
      pump(200);
      for (auto& [id, p] : nodes_) {
        for (const auto& e : p->take_new_received()) {
          if (options_.json) {
            std::cout << demo::to_json_line(e) << '\n' << std::flush;
            continue;
          }
          std::vector<std::string> sections;
          for (const auto& s : e.sections()) sections.push_back(std::to_string(s.index()) + " " + s.status());
          const std::string via =
              e.path().empty() ? std::string() : " (via " + join({e.path().begin(), e.path().end()}, " > ") + ")";
          std::cout << "  " << id << " received " << e.report_id().substr(0, 8) << " from " << e.originator() << via
                    << " on " << e.topic() << ": " << join(sections) << '\n'
                    << std::flush;
        }
      }
    }
  }

  DemoOptions options_;
  std::ostream& progress_;
  fs::path exe_;
  std::unique_ptr<demo::World> world_;  // declared before nodes_: destroyed after them
  std::map<std::string, std::unique_ptr<NodeProcess>> nodes_;
  identity::DirectoryPtr dir_;
  policy::TopicPolicy topics_;
  demo::Played played_;
  std::map<std::string, std::string> broker_of_;  // node id -> the id of the broker it speaks to
};

// Children inherit fds 0-2; make sure they are open so that pipes never land there.
void ensure_standard_fds() {
  for (;;) {
    const int fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd < 0) return;
    if (fd > 2) {
      ::close(fd);
      return;
    }
    ::fcntl(fd, F_SETFD, 0);
  }
}

int run_demo(const DemoOptions& options) {
  ensure_standard_fds();
  demo::InterruptGuard guard;
  Demo d(options, std::cerr);
  return d.run();
}

}  // namespace

void add_demo_command(CLI::App& app) {
  auto o = std::make_shared<DemoOptions>();
  auto* cmd = app.add_subcommand(
      "demo",
      "Play the Cucuta joint-unit scenario: the agencies' brokers, peered, and seven agency nodes, each its own "
      "process; print who received what, and by which path, next to what the policy says, and exit 0 only if they "
      "agree");
  cmd->add_option("--pki", o->pki, "PKI folder; generated with `tearline certs demo` when missing")
      ->capture_default_str();
  cmd->add_option("--roster", o->roster, "roster to generate a missing PKI from")->capture_default_str();
  cmd->add_option("--policy", o->policy, "topic policy for the broker and the expectations")->capture_default_str();
  cmd->add_option("--pg", o->pg,
                  "keep the first broker's store in this PostgreSQL database (a libpq connection string; an empty "
                  "database: `make demo-pg` starts a private server and makes one); further agencies' brokers keep "
                  "theirs in SQLite")
      ->type_name("CONNINFO");
  cmd->add_option("--topology", o->topology,
                  "peered: DIRAN's broker (also serving FUDRA's and FGR's nodes) and DEA's, peered; triangle: FGR's "
                  "nodes on FGR's own broker too, each pair peered; single: one broker for every node; cluster: two "
                  "brokers on one --pg store (`make demo-cluster`). The routing table is the same in each")
      ->capture_default_str()
      ->check(CLI::IsMember({"peered", "triangle", "single", "cluster"}));
  cmd->add_flag("--keep-running", o->keep_running,
                "after the table, leave the broker and nodes running and print what they receive until Ctrl-C");
  cmd->add_flag("--json", o->json, "print the outcome as JSON (tearline.v1.DemoOutcome) instead of the table");
  cmd->callback([o] {
    // Checked before anything starts (World::create says the same).
    if (o->topology == "cluster" && o->pg.empty()) {
      throw CommandExit(kExitUsage,
                        "INVALID_FIELD: --topology cluster runs two brokers on one store, which needs PostgreSQL: give "
                        "--pg CONNINFO (`make demo-cluster` starts a private server and does)");
    }
    const int code = run_demo(*o);
    if (code != kExitOk) throw CommandExit(code, "");
  });

  // One node of the demo, as a process of its own (started by `demo`).
  auto n = std::make_shared<NodeOptions>();
  auto* node = app.add_subcommand("demo-node", "");
  node->group("");  // hidden from --help
  n->add_to(node);
  node->callback([n] {
    const int code = demo::run_node(*n);
    if (code != kExitOk) throw CommandExit(code, "");
  });
}

}  // namespace tearline::cli
