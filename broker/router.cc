#include "broker/router.h"

#include <algorithm>

#include "federation/crossing.h"

#include "policy/topic.h"
#include "receipt/delivery.h"
#include "tearline/v1/receipt.pb.h"
#include "wire/frame.h"

namespace tearline::broker {

std::string place_label(std::string_view writer, std::uint64_t seq) {
  std::string out;
  if (!writer.empty()) out.append(writer).append(" ");
  return out.append("seq ").append(std::to_string(seq));
}

Router::Router(const SubscriptionIndex& subscriptions, SessionTable& sessions, Audit audit)
    : subscriptions_(subscriptions), sessions_(sessions), audit_(std::move(audit)) {}

std::vector<std::string> Router::subscribers(const Routable& r) const {
  return subscriptions_.match(r.report->header.topic());
}

namespace {

// The earliest acceptance of `r`: its first hop's when it crossed from
// another agency's broker (that receipt verified when it arrived, and is
// stored with it), else this broker's own.
std::int64_t earliest_acceptance(const Routable& r) {
  if (r.path.empty()) return r.accepted_ms;
  tearline::v1::CrossingPath path;
  tearline::v1::AcceptanceReceipt first;
  if (!path.ParseFromArray(r.path.data(), static_cast<int>(r.path.size())) || path.receipts_size() == 0 ||
      !first.ParseFromString(path.receipts(0))) {
    return r.accepted_ms;
  }
  return std::min(r.accepted_ms, first.accepted_ms());
}

// The brokers `r` passed through before this one (its stored path), by
// node id, the originator's first; empty when it was published here.
std::vector<std::string> path_brokers(const Routable& r) {
  std::vector<std::string> out;
  if (r.path.empty()) return out;
  tearline::v1::CrossingPath path;
  if (!path.ParseFromArray(r.path.data(), static_cast<int>(r.path.size()))) return out;
  for (const auto& bytes : path.receipts()) {
    tearline::v1::AcceptanceReceipt hop;
    out.push_back(hop.ParseFromString(bytes) ? hop.broker_id() : std::string());
  }
  return out;
}

// Whether our peerings with `agency` valid now let what crosses from it be
// passed on: at least one, and each with `transit` towards us.
bool transit_from(const TrustSnapshot& trust, const std::string& agency, std::int64_t now_s) {
  bool any = false;
  for (const auto& [broker, links] : trust.peers) {
    for (const PeerLink& link : links) {
      if (link.them().agency != agency || !link.peering.valid_at(now_s)) continue;
      if (!link.to_us().transit) return false;
      any = true;
    }
  }
  return any;
}

}  // namespace

Status Router::standing(const TrustSnapshot& trust, const Routable& r) {
  const auto& header = r.report->header;
  return trust.directory->check_signer(header.originator(), header.created_at_ms() / 1000, earliest_acceptance(r));
}

void Router::withhold_from_all(const Routable& r, const Status& why) {
  audit_("withheld", "", r.report->report_id_hex(), "withheld", r.place_label() + " all nodes: " + why.to_string());
}

std::size_t Router::route_live(const Routable& r, const TrustSnapshot& trust, std::int64_t now_s) {
  Status stands = standing(trust, r);
  if (!stands) {
    for (auto& [id, s] : sessions_) {
      if (s.ready() && s.delivered == r.seq - 1 && passed_prev(s, r)) s.delivered = r.seq;
    }
    withhold_from_all(r, stands);
    return 0;
  }
  const std::vector<std::string> matched = subscribers(r);
  std::size_t sent = 0;
  std::string clauses;
  for (auto& [id, s] : sessions_) {
    if (s.ready() && s.delivered == r.seq - 1 && passed_prev(s, r))
      sent += judge_and_send(s, r, matched, trust, now_s, &clauses) ? 1 : 0;
  }
  if (!clauses.empty()) {
    audit_("routing", "", r.report->report_id_hex(), "routed", r.place_label() + clauses);
  }
  return sent;
}

bool Router::route_to(Session& s, const Routable& r, const std::vector<std::string>& matched,
                      const TrustSnapshot& trust, std::int64_t now_s) {
  return judge_and_send(s, r, matched, trust, now_s, nullptr);
}

bool Router::judge_and_send(Session& s, const Routable& r, const std::vector<std::string>& matched,
                            const TrustSnapshot& trust, std::int64_t now_s, std::string* clauses) {
  StreamPlace& place = s.place(r.writer);
  place.delivered = r.seq;
  if (!wants(s, r, matched)) return false;
  const policy::DeliveryDecision d = judge(trust, s.node_id, r, now_s);
  if (!d.credential) return false;  // the session is closed at the next housekeeping
  // One decision: a clause of route_live's entry, or an entry of its own.
  auto record = [&](std::string_view event, std::string_view decision, std::string detail) {
    if (clauses != nullptr) {
      clauses->append(" | ").append(s.node_id).append(" ").append(decision).append(" ").append(detail);
    } else {
      audit_(std::string(event), s.node_id, r.report->report_id_hex(), std::string(decision), std::move(detail));
    }
  };
  auto count = [&](const Status& why, std::size_t sections) {
    if (withheld_counter_ == nullptr) return;
    for (const auto& reason : why.reasons()) withheld_counter_->add(reason.code, sections);
  };
  if (!d.topic) {
    record("withheld", "withheld", "all sections: " + d.topic.to_string());
    count(d.topic, r.report->sections.size());
    if (live_ != nullptr) live_->delivery(r.seq, r.report->report_id_hex(), s.node_id, d);
    return false;
  }
  for (std::size_t i = 0; i < d.sections.size(); ++i) {
    if (d.sections[i].allowed()) continue;
    record("withheld", "withheld", "section " + std::to_string(i + 1) + ": " + d.sections[i].denials.to_string());
    count(d.sections[i].denials, 1);
  }
  if (!d.any_delivered()) {
    if (live_ != nullptr) live_->delivery(r.seq, r.report->report_id_hex(), s.node_id, d);
    return false;
  }
  crypto::Digest copy_hash{};
  Bytes frame = deliver_frame(r, d, &copy_hash);
  // Before sending: a send that closes the session (SLOW_CONSUMER) forgets it.
  sessions_.remember_delivery(s, r.writer, r.seq, copy_hash, r.report->header.report_id());
  if (!s.attached) {
    place.sent_unattached.insert(r.seq);
    if (place.sent_unattached.size() > kMaxSentUnattached) place.sent_unattached.erase(place.sent_unattached.begin());
  }
  sessions_.send(s, std::move(frame));
  // Told once sent: a send that closed the session (SLOW_CONSUMER) dropped
  // the copy, and the session's closing is told instead.
  if (live_ != nullptr && s.ready()) live_->delivery(r.seq, r.report->report_id_hex(), s.node_id, d);
  if (clauses != nullptr) {
    record("delivery", "delivered", "sections " + d.delivered_list());
  } else {
    record("delivery", "delivered", r.place_label() + " sections " + d.delivered_list());
  }
  return true;
}

bool Router::wants(Session& s, const Routable& r, const std::vector<std::string>& matched) {
  // Sent already in this session, before it attached: not twice.
  if (s.place(r.writer).sent_unattached.erase(r.seq) > 0) return false;
  if (s.attached && std::binary_search(matched.begin(), matched.end(), s.node_id)) return true;
  const std::string& topic = r.report->header.topic();
  return std::any_of(s.session_patterns.begin(), s.session_patterns.end(), [&](const SessionPattern& p) {
    return r.seq > p.after(r.writer) && policy::topic_matches(p.pattern, topic);
  });
}

namespace {

// A report that arrived over a peering may carry sections torn off
// upstream (only their commitments crossed): they are withheld from every
// node, and the policy judges the others. `present` holds the indexes of
// the sections the report carries sealed; `d` decided those, in order.
policy::DeliveryDecision with_torn_sections(policy::DeliveryDecision d, const std::vector<std::size_t>& present,
                                            std::size_t total) {
  if (present.size() == total || !d.credential) return d;
  std::vector<policy::Decision> all(total);
  for (std::size_t i = 0; i < total; ++i) {
    all[i].denials.add(Code::TORN_UPSTREAM,
                       "section " + std::to_string(i + 1) + " was torn off before the report reached this broker");
  }
  for (std::size_t k = 0; k < present.size() && k < d.sections.size(); ++k) all[present[k]] = std::move(d.sections[k]);
  d.sections = std::move(all);
  return d;
}

}  // namespace

policy::DeliveryDecision Router::judge(const TrustSnapshot& trust, std::string_view node, const Routable& r,
                                       std::int64_t now_s) {
  const auto& rep = *r.report;
  std::vector<std::size_t> present;
  present.reserve(rep.sections.size());
  for (std::size_t i = 0; i < rep.sections.size(); ++i) {
    if (rep.sections[i].present && rep.sections[i].label) present.push_back(i);
  }
  return with_torn_sections(judge_present(trust, node, r, present, now_s), present, rep.sections.size());
}

policy::DeliveryDecision Router::judge_present(const TrustSnapshot& trust, std::string_view node, const Routable& r,
                                               const std::vector<std::size_t>& present, std::int64_t now_s) {
  const auto& rep = *r.report;
  if (trust.is_partner_node(node)) {
    // A partner's boundary broker: the peering decides (docs/federation.md);
    // with no peering valid now, nothing (the session closes at the next
    // housekeeping).
    const PeerLink* link = trust.peer(node, now_s);
    if (link == nullptr) {
      policy::DeliveryDecision none;
      none.credential = trust.check_session_node(node, now_s);
      return none;
    }
    const federation::Crossing crossing{&link->peering, &link->to_them(),    link->us().agency,
                                        link->since,    link->them().agency, link->partner_country};
    federation::CrossingQuestion q;
    q.topic = rep.header.topic();
    q.originator_country = std::string(r.originator_country);
    q.originator_agency = rep.originator.agency;
    q.accepted_ms = r.accepted_ms;
    // In transit: it crossed to us from the agency of its path's last hop
    // (whichever of that agency's brokers signed the receipt: one sharing
    // its store may have); every peering of ours with that agency valid now
    // must let us pass it on, and there must be one.
    const std::vector<std::string> brokers = path_brokers(r);
    for (const auto& id : brokers) {
      const identity::Credential* c = trust.directory->node(id);
      if (c == nullptr) q.transit_why = "its path names " + id + ", a broker this directory does not know";
      q.path_agencies.push_back(c != nullptr ? c->agency : "?");
    }
    if (!brokers.empty() && q.transit_why.empty())
      q.transit_allowed = transit_from(trust, q.path_agencies.back(), now_s);
    for (const std::size_t i : present) {
      const report::VerifiedSection& sec = rep.sections[i];
      // A recipient counts when it is one of theirs whom the label admits
      // now, as a node of ours must be at each delivery.
      q.sections.push_back(federation::CrossingSection{
          &*sec.label, federation::sealed_to_admitted_partner(*trust.directory, sec.recipients, *sec.label,
                                                              crossing.partner_agency, q.originator_country, now_s)});
    }
    policy::DeliveryDecision d = federation::decide_crossing(crossing, q);
    d.credential = trust.directory->check_node(node, now_s);
    if (!d.credential) d.sections.clear();
    return d;
  }
  policy::DeliveryQuestion q;
  q.topic = rep.header.topic();
  q.originator_country = std::string(r.originator_country);
  q.sections.reserve(present.size());
  for (const std::size_t i : present) {
    const report::VerifiedSection& sec = rep.sections[i];
    q.sections.push_back(
        policy::SectionFacts{&*sec.label, std::binary_search(sec.recipients.begin(), sec.recipients.end(), node)});
  }
  return policy::decide_delivery(*trust.directory, &trust.topics, node, q, now_s);
}

Bytes Router::deliver_frame(const Routable& r, const policy::DeliveryDecision& decision, crypto::Digest* copy_hash) {
  if (decision.all_delivered()) {
    if (copy_hash != nullptr) {
      if (!r.raw_hash) r.raw_hash = receipt::copy_hash(ByteView(*r.raw));
      *copy_hash = *r.raw_hash;
    }
    return wire::encode_deliver(r.seq, ByteView(*r.raw), r.receipt, r.writer, r.path);
  }
  const std::string torn = report::redact(r.report->report, decision.delivered()).SerializeAsString();
  if (copy_hash != nullptr) *copy_hash = receipt::copy_hash(as_bytes(torn));
  return wire::encode_deliver(r.seq, as_bytes(torn), r.receipt, r.writer, r.path);
}

}  // namespace tearline::broker
