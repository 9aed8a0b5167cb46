#include "cli/demo/demo_outcome.h"

#include <algorithm>

namespace tearline::cli::demo {
namespace v1 = tearline::v1;

namespace {

const v1::DemoEvent* copy_of(const Observed& o, const std::string& report_id) {
  for (const auto& e : o.received) {
    if (e.report_id() == report_id) return &e;
  }
  return nullptr;
}

// What a node's copy of a report shows of one section.
std::string actual_of(const v1::DemoEvent* copy, std::size_t section, const std::string& text) {
  if (copy == nullptr) return "not received";
  if (copy->verification() != "valid") return "did not verify: " + copy->verification();
  if (section >= static_cast<std::size_t>(copy->sections_size())) return "section missing";
  const auto& s = copy->sections(static_cast<int>(section));
  if (s.status() == "withheld") return "torn off by the broker";
  if (s.status() != "opened") return s.status();
  return s.text() == text ? "delivered" : "text altered";
}

struct Tally {
  std::uint32_t delivered = 0, withheld = 0, mismatches = 0;
  std::vector<std::string> problems;

  void problem(std::string text) {
    ++mismatches;
    problems.push_back(std::move(text));
  }
};

void add_rows(const PlayedPublication& p, const std::map<std::string, Observed>& observed,
              const std::vector<v1::DemoNode>& nodes, v1::DemoPublication* pub, Tally* tally) {
  const PublicationPlan& plan = *p.plan;
  for (std::size_t i = 0; i < plan.sections.size(); ++i) {
    auto* row = pub->add_rows();
    row->set_id(plan.id + "." + std::to_string(i + 1));
    row->set_title(plan.sections[i].title);
    row->set_label(policy::describe(plan.sections[i].label));
    for (std::size_t n = 0; n < nodes.size(); ++n) {
      const ReadExpectation& e = p.reads[i][n];
      const std::string& id = nodes[n].id();
      auto* cell = row->add_cells();
      cell->set_node(id);
      cell->set_expected_delivered(e.delivered);
      for (const auto& reason : e.short_reasons) cell->add_short_reasons(reason);
      cell->set_denials(e.denials.to_string());
      const std::string actual = actual_of(copy_of(observed.at(id), p.report_id), i, plan.sections[i].text);
      cell->set_actual(actual);
      cell->set_delivered(actual == "delivered");
      cell->set_match(cell->delivered() == e.delivered);
      if (!cell->match()) {
        tally->problem(row->id() + " " + id + ": " + actual + ", the policy says " +
                       (e.delivered ? "delivered" : "withheld (" + e.denials.to_string() + ")"));
      } else if (e.delivered) {
        ++tally->delivered;
      } else {
        ++tally->withheld;
      }
    }
  }
}

// Groups the nodes that hold a copy by the way it came: the brokers on its
// path, then the node's own.
void add_routes(const PlayedPublication& p, const std::map<std::string, Observed>& observed,
                const std::vector<v1::DemoNode>& nodes, v1::DemoPublication* pub) {
  for (const auto& n : nodes) {
    const v1::DemoEvent* copy = copy_of(observed.at(n.id()), p.report_id);
    if (copy == nullptr) continue;
    std::vector<std::string> brokers(copy->path().begin(), copy->path().end());
    brokers.push_back(n.broker());
    v1::DemoRoute* route = nullptr;
    for (auto& r : *pub->mutable_routes()) {
      if (std::equal(r.brokers().begin(), r.brokers().end(), brokers.begin(), brokers.end())) route = &r;
    }
    if (route == nullptr) {
      route = pub->add_routes();
      for (auto& b : brokers) route->add_brokers(std::move(b));
    }
    route->add_nodes(n.id());
  }
}

}  // namespace

v1::DemoOutcome compare(const Played& played, const std::map<std::string, Observed>& observed,
                        const std::vector<v1::DemoNode>& nodes, const std::string& endpoint) {
  v1::DemoOutcome out;
  out.set_broker_endpoint(endpoint);
  for (const auto& n : nodes) *out.add_nodes() = n;
  Tally tally;
  for (const auto& p : played.problems) tally.problem(p);
  const auto& steps = scenario();
  for (std::size_t s = 0; s < steps.size(); ++s) {
    auto* step = out.add_steps();
    step->set_title(steps[s].title);
    if (s < played.events.size()) {
      for (const auto& e : played.events[s]) step->add_events(e);
    }
  }
  for (const auto& p : played.publications) {
    const PublicationPlan& plan = *p.plan;
    auto* pub = out.mutable_steps(static_cast<int>(p.step))->add_publications();
    pub->set_id(plan.id);
    pub->set_title(plan.title);
    pub->set_sender(plan.sender);
    pub->set_originator(plan.forged_originator.empty() ? plan.sender : plan.forged_originator);
    pub->set_topic(plan.topic);
    pub->set_report_id(p.report_id);
    pub->set_expected(p.expected);
    pub->set_verdict(p.verdict);
    pub->set_reasons(p.reasons);
    pub->set_match(p.verdict == p.expected);
    if (!pub->match()) {
      tally.problem("publication " + plan.id + ": the broker said " + p.verdict + ", the policy expected " +
                    p.expected);
    }
    if (p.verdict == "ACCEPTED") {
      add_rows(p, observed, nodes, pub, &tally);
      add_routes(p, observed, nodes, pub);
      continue;
    }
    for (const auto& n : nodes) {
      if (copy_of(observed.at(n.id()), p.report_id) != nullptr) {
        pub->add_received_by(n.id());
        tally.problem(n.id() + " received the rejected publication " + plan.id);
      }
    }
  }
  // Whatever a node received that the scenario did not publish, or that does not verify.
  for (const auto& n : nodes) {
    const Observed& o = observed.at(n.id());
    for (const auto& problem : o.problems) tally.problem(problem);
    std::map<std::string, int> copies;
    for (const auto& e : o.received) {
      if (++copies[e.report_id()] == 2) tally.problem(n.id() + " received report " + e.report_id() + " twice");
      if (e.verification() != "valid") {
        tally.problem(n.id() + " received a report that does not verify: " + e.verification());
        continue;
      }
      bool known = false;
      for (const auto& p : played.publications) known = known || p.report_id == e.report_id();
      if (!known) {
        tally.problem(n.id() + " received report " + e.report_id() + " on " + e.topic() +
                      ", which the scenario did not publish");
      }
    }
  }
  for (const auto& rev : played.revocations) {
    std::size_t later = 0, reached = 0;
    for (const auto& p : played.publications) {
      if (p.step < rev.step || p.verdict != "ACCEPTED") continue;
      ++later;
      reached += copy_of(observed.at(rev.node), p.report_id) != nullptr ? 1 : 0;
    }
    out.add_notes(rev.node + " was revoked mid-demo: the broker closed its session (SESSION_REVOKED), and " +
                  std::to_string(reached) + " of the " + std::to_string(later) +
                  " reports published after that reached it");
  }
  out.set_delivered(tally.delivered);
  out.set_withheld(tally.withheld);
  out.set_mismatches(tally.mismatches);
  out.set_ok(tally.mismatches == 0);
  for (auto& p : tally.problems) out.add_problems(std::move(p));
  return out;
}

}  // namespace tearline::cli::demo
