#include "cli/inject/inject_partners.h"

#include <algorithm>
#include <filesystem>
#include <optional>

#include "base/clock.h"
#include "crypto/key_file.h"
#include "federation/peering_files.h"
#include "identity/pki.h"
#include "policy/topic.h"
#include "report/verify.h"
#include "wire/frame.h"

namespace tearline::cli::inject {
namespace v1 = tearline::v1;

namespace {

v1::PeeringDirection direction_message(const federation::PeeringDirection& d) {
  v1::PeeringDirection m;
  for (const auto& t : d.topics) m.add_topics(t);
  m.set_ceiling(d.ceiling);
  for (const auto& c : d.releasable_to) m.add_releasable_to(c);
  m.set_transit(d.transit);
  return m;
}

Crossed crossed_of(const v1::Deliver& d) {
  Crossed out;
  auto parsed = report::parse_report_structure(as_bytes(d.report()));
  if (!parsed) {
    out.parsed = parsed.status();
    return out;
  }
  out.report_id_hex = parsed->report_id_hex();
  for (std::size_t i = 0; i < parsed->sections.size(); ++i) {
    if (parsed->sections[i].present) out.present.push_back(static_cast<std::uint32_t>(i + 1));
  }
  return out;
}

}  // namespace

bool is_partner_agency(const identity::Directory& directory, const std::string& agency) {
  const identity::Authority* a = directory.trust().authority(agency);
  return a != nullptr && a->partner;
}

// A raw session as partner broker `broker`, with its keys from the PKI
// (PKI/keys/brokers/<id>.key), HELLO done. A failed Result: unreachable;
// a refusal is put in `refused`.
Result<std::unique_ptr<client::Connection>> PartnerLinks::connect(const std::string& broker,
                                                                  std::optional<Verdict>* refused) const {
  auto broker_keys = crypto::read_broker_keys(identity::PkiPaths(options_.pki).other_broker_key(broker));
  if (!broker_keys) {
    *refused = failed(broker_keys.status());
    return std::unique_ptr<client::Connection>();
  }
  auto broker_key = client::read_broker_key(options_.directory_path() / "broker.pub");
  if (!broker_key) return broker_key.status();
  client::ConnectionOptions o;
  o.endpoint = options_.broker;
  o.client_name = std::string(kClientName);
  o.node_id = broker;
  o.connect_timeout_ms = options_.timeout_ms;
  o.send_timeout_ms = options_.timeout_ms;
  auto conn = client::Connection::open(o, *broker_key, broker_keys->transport);
  if (!conn) return conn.status();
  if (Status hello = (*conn)->hello(); !hello) {
    if (hello.code() == Code::UNAVAILABLE) return hello;
    if (hello.code() == Code::HANDSHAKE_REFUSED) {
      hello.add(Code::FOREIGN_NODE, broker +
                                        " is a broker of a partner agency: the broker admits it only while a "
                                        "peering in effect names it (docs/federation.md)");
    }
    *refused = failed(hello);
    return std::unique_ptr<client::Connection>();
  }
  return std::move(conn).value();
}

// A link as each partner broker that a peering in effect now names, whose
// key file the PKI holds, subscribed to what crosses towards it.
Status PartnerLinks::open(const identity::Directory& directory) {
  const std::int64_t now = SystemClock::instance().now_seconds();
  auto broker_key = client::read_broker_key(options_.directory_path() / "broker.pub");
  if (!broker_key) return broker_key.status();
  const identity::Credential* under_test = directory.node_by_transport_key(*broker_key);
  const identity::Credential* sentinel_from = directory.node(scenario_.sentinel_from);
  const federation::PeeringSet set = federation::load_peerings(options_.directory_path(), directory);
  for (const auto& verdict : set.peerings) {
    if (!verdict.in_effect || !verdict.in_effect->valid_at(now)) continue;
    const federation::Peering& p = *verdict.in_effect;
    const bool first_is_partner = is_partner_agency(directory, p.first.agency);
    if (first_is_partner == is_partner_agency(directory, p.second.agency)) continue;  // not between us and a partner
    const federation::PeeringParty& theirs = first_is_partner ? p.first : p.second;
    const federation::PeeringParty& ours = first_is_partner ? p.second : p.first;
    const federation::PeeringDirection& towards = first_is_partner ? p.second_to_first : p.first_to_second;
    std::error_code ec;
    if (towards.topics.empty() ||
        !std::filesystem::exists(identity::PkiPaths(options_.pki).other_broker_key(theirs.broker_id), ec)) {
      unlinked_[theirs.broker_id] = "no topic crosses towards it, or its key file is not in the PKI";
      continue;
    }
    // Each link is read up to the sentinel, which must cross it.
    if (under_test == nullptr || under_test->node_id != ours.broker_id) {
      unlinked_[theirs.broker_id] = "peering " + p.peering_id + " names " + ours.broker_id +
                                    ", not the broker under test (the one of directory/broker.pub)";
      continue;
    }
    const bool sentinel_crosses = sentinel_from != nullptr && sentinel_from->agency == ours.agency &&
                                  std::any_of(towards.topics.begin(), towards.topics.end(), [&](const std::string& t) {
                                    return policy::topic_matches(t, scenario_.sentinel_topic);
                                  });
    if (!sentinel_crosses) {
      unlinked_[theirs.broker_id] = "the sentinel (" + scenario_.sentinel_from + " on " + scenario_.sentinel_topic +
                                    ") would not cross peering " + p.peering_id + ": set sentinel_from and " +
                                    "sentinel_topic to a node of " + ours.agency + " and a topic it carries";
      continue;
    }
    std::optional<Verdict> refused;
    auto conn = connect(theirs.broker_id, &refused);
    if (!conn) return conn.status();
    if (refused)
      return Status::fail(Code::UNAVAILABLE,
                          "cannot link as partner broker " + theirs.broker_id + ": " + refused->reasons.to_string());
    auto subscribed =
        (*conn)->request(wire::make_subscribe((*conn)->next_request_id(), towards.topics, true), options_.timeout_ms);
    if (!subscribed) return subscribed.status();
    if (!subscribed->has_accepted()) {
      return Status::fail(
          Code::UNAVAILABLE,
          "partner broker " + theirs.broker_id + " could not subscribe: " +
              verdict_of(std::optional<v1::Frame>(*subscribed), options_.timeout_ms).reasons.to_string());
    }
    links_[theirs.broker_id] = Link{std::move(conn).value(), p, ours.agency};
  }
  return Status::ok();
}

void PartnerLinks::ping() {
  for (auto& [broker, link] : links_) (void)link.conn->try_send(wire::make_ping(++pings_));
}

void PartnerLinks::collect(const std::string& sentinel, std::map<std::string, std::vector<Crossed>>* crossed,
                           std::vector<std::string>* problems) {
  for (auto it = links_.begin(); it != links_.end();) {
    const std::string& broker = it->first;
    auto& got = (*crossed)[broker];
    const std::int64_t deadline = steady_ms() + options_.timeout_ms;
    bool closed = false;
    for (bool done = false; !done && !closed;) {
      const std::int64_t left = deadline - steady_ms();
      auto event = left > 0 ? it->second.conn->next_event(static_cast<int>(left)) : std::nullopt;
      if (!event) {
        problems->push_back(broker + " (partner broker): the sentinel did not cross within " +
                            std::to_string(options_.timeout_ms) + " ms");
        break;
      }
      if (!event->is_ok()) {
        problems->push_back(broker + " (partner broker): " + event->status().to_string());
        continue;
      }
      const v1::Frame& f = event->value();
      if (f.has_error()) {  // the broker closed the link: say why, and read it no more
        problems->push_back(broker +
                            " (partner broker): the broker closed its link: " + wire::status_of(f.error()).to_string());
        closed = true;
        continue;
      }
      if (!f.has_deliver()) continue;  // PONG
      Crossed c = crossed_of(f.deliver());
      done = c.report_id_hex == sentinel;
      if (!done) got.push_back(std::move(c));
    }
    if (closed) {
      unlinked_[broker] = "the broker closed its link";
      it = links_.erase(it);
    } else {
      ++it;
    }
  }
}

void PartnerLinks::compare(const Case& c, const std::string* report_id_hex,
                           const std::map<std::string, std::vector<Crossed>>& crossed,
                           const std::map<std::string, std::string>& names, std::vector<std::string>* problems) const {
  for (const auto& [broker, got] : crossed) {
    auto it = c.cross.find(broker);
    const std::vector<std::uint32_t> want = it == c.cross.end() ? std::vector<std::uint32_t>{} : it->second;
    const std::string who = broker + " (partner broker)";
    auto describe_crossed = [&](const Crossed& x) {
      if (!x.parsed) return "a copy that does not parse (" + x.parsed.to_string() + ")";
      auto name = names.find(x.report_id_hex);
      return (name != names.end() ? "'" + name->second + "'" : "report " + x.report_id_hex.substr(0, 8)) +
             " with sections " + numbers(x.present) + " crossing";
    };
    if (want.empty()) {
      for (const auto& x : got) problems->push_back(who + ": expected nothing to cross, got " + describe_crossed(x));
      continue;
    }
    const std::string expected = who + ": expected '" + c.name + "' with sections " + numbers(want) + " crossing";
    if (got.size() != 1 || report_id_hex == nullptr || got[0].report_id_hex != *report_id_hex ||
        got[0].present != want) {
      std::string seen;
      for (const auto& x : got) seen += (seen.empty() ? "" : "; ") + describe_crossed(x);
      problems->push_back(expected + ", got " + (seen.empty() ? "nothing" : seen));
    }
  }
  for (const auto& [broker, want] : c.cross) {
    if (!want.empty() && links_.count(broker) == 0) {
      auto why = unlinked_.find(broker);
      problems->push_back(
          broker + " (partner broker): expected sections " + numbers(want) +
          " crossing, but the runner holds no link as it (" +
          (why != unlinked_.end() ? why->second : std::string("no peering in effect names it as a partner")) + ")");
    }
  }
}

// partner_subscribe: a fresh session as the partner broker subscribes to the case's pattern.
Result<Verdict> PartnerLinks::subscribe(const Case& c) {
  std::optional<Verdict> refused;
  auto conn = connect(c.as, &refused);
  if (!conn) return conn.status();
  if (refused) return *refused;
  auto answer =
      (*conn)->request(wire::make_subscribe((*conn)->next_request_id(), {c.draft.topic}, true), options_.timeout_ms);
  if (!answer) return answer.status();
  (void)(*conn)->send(wire::make_bye("inject: partner_subscribe done"));  // the session ends now, not at its timeout
  return verdict_of(std::optional<v1::Frame>(*answer), options_.timeout_ms);
}

// revoked_peering: our agency's authority revokes the version in effect of
// the peering naming `as`, an admin reloads the broker; the verdict is how
// the broker then closed the runner's link as `as`.
Result<Verdict> PartnerLinks::revoke(const Case& c, const Reload& reload) {
  auto it = links_.find(c.as);
  if (it == links_.end()) {
    return failed(Status::fail(Code::NO_PEERING, "the runner holds no link as " + c.as +
                                                     ": no peering in effect names it, or its key file is not in "
                                                     "the PKI"));
  }
  Link& link = it->second;
  const std::int64_t now = SystemClock::instance().now_seconds();
  auto list = identity::revoke(identity::PkiPaths(options_.pki), link.our_agency, {}, {}, now,
                               {{link.peering.peering_id, link.peering.version}});
  if (!list) return failed(list.status());
  auto reloaded = reload();
  if (!reloaded) return reloaded.status();
  if (!reloaded->got.empty()) return *reloaded;
  std::optional<v1::Frame> closed;
  const std::int64_t deadline = steady_ms() + options_.timeout_ms;
  while (!closed && steady_ms() < deadline) {
    auto event = link.conn->next_event(static_cast<int>(std::max<std::int64_t>(1, deadline - steady_ms())));
    if (event && event->is_ok() && event->value().has_error()) closed = std::move(event->value());
  }
  links_.erase(it);
  return verdict_of(closed, options_.timeout_ms);
}

// one_sided_peering: our agency alone signs the next version of the
// peering naming `as`, which adds `topic` to what crosses towards it, and
// an admin reloads; then `as` subscribes to that topic. A widening signed
// by one side takes no effect (PEERING_TOPIC); the link stays.
Result<Verdict> PartnerLinks::widen_one_sided(const Case& c, const Reload& reload) {
  auto it = links_.find(c.as);
  if (it == links_.end()) {
    return failed(Status::fail(Code::NO_PEERING, "the runner holds no link as " + c.as));
  }
  const Link& link = it->second;
  const federation::Peering& p = link.peering;
  federation::PeeringDraft d;
  d.peering_id = p.peering_id;
  d.first_agency = p.first.agency;
  d.first_broker = p.first.broker_id;
  d.second_agency = p.second.agency;
  d.second_broker = p.second.broker_id;
  d.first_to_second = direction_message(p.first_to_second);
  d.second_to_first = direction_message(p.second_to_first);
  d.not_before = p.not_before;
  d.not_after = p.not_after;
  v1::PeeringDirection& towards = p.first.agency == link.our_agency ? d.first_to_second : d.second_to_first;
  towards.add_topics(c.draft.topic);
  const std::int64_t now = SystemClock::instance().now_seconds();
  const identity::PkiPaths pki(options_.pki);
  auto version = federation::create_peering_file(pki, d, now);
  if (!version) return failed(version.status());
  if (Status s = federation::cosign_peering_file(pki, d.peering_id, *version, link.our_agency, now); !s) {
    return failed(s);
  }
  auto reloaded = reload();
  if (!reloaded) return reloaded.status();
  if (!reloaded->got.empty()) return *reloaded;
  return subscribe(c);
}

}  // namespace tearline::cli::inject
