#include "broker/trust_state.h"

#include "base/time_format.h"
#include "federation/peering_files.h"

namespace tearline::broker {

namespace {

// The peer links of `dir`'s peerings for the broker `own_id` (the header's rules).
void link_peers(const federation::PeeringSet& set, const identity::Directory& dir, const std::string& own_id,
                std::int64_t now, TrustSnapshot* out) {
  for (const auto& f : set.files) {
    const bool draft = f.terms && f.signatures.empty();
    if (!f.verified && !draft) out->peering_issues.push_back(f.name + ": " + f.verified.to_string());
  }
  for (const auto& v : set.peerings) {
    if (!v.in_effect) continue;
    const federation::Peering& p = *v.in_effect;
    PeerLink link{p, p.first.broker_id == own_id, ""};
    if (!link.we_are_first && p.second.broker_id != own_id) continue;  // another broker's peering
    const std::string what = "peering " + p.peering_id + " v" + std::to_string(p.version);
    const identity::Authority* ours = dir.trust().authority(link.us().agency);
    const identity::Authority* theirs = dir.trust().authority(link.them().agency);
    const identity::Credential* own = dir.node(own_id);
    const identity::Credential* peer = dir.node(link.them().broker_id);
    std::string problem;
    if (p.not_after <= now) continue;  // ended: never valid again, and overlaps nothing to come
    // Versions beside the one in effect that take no effect because of
    // their terms (a widening one side signed alone, a conflicting copy):
    // the operator is told why. Revoked or superseded ones are not news.
    for (const auto& r : v.why.reasons()) {
      if (r.code == Code::PEERING_WIDENED || r.code == Code::DUPLICATE_OBJECT) {
        out->peering_issues.push_back("peering " + p.peering_id + ": v" + std::to_string(p.version) +
                                      " is in effect; another version is not: " + std::string(code_name(r.code)) +
                                      ": " + r.message);
      }
    }
    if (ours != nullptr && ours->partner) {
      problem = link.us().agency +
                ", this broker's side, is marked partner = true in trust.toml: a partner is "
                "another agency; remove the mark";
    } else if (ours == nullptr || own == nullptr || own->agency != link.us().agency) {
      problem = "names this broker for " + link.us().agency + ", which is not its agency";
    } else if (theirs == nullptr || !theirs->partner) {
      problem = link.them().agency + " is not a partner agency here (tearline certs import pins it)";
    } else if (peer == nullptr || peer->agency != link.them().agency || !peer->has_role(identity::kBrokerRole)) {
      problem = "the partner broker " + link.them().broker_id + " has no broker credential of " + link.them().agency +
                " here (tearline certs import)";
    } else if (!(peer->transport_key.bytes == link.them().transport_key.bytes) ||
               !(peer->signing_key.bytes == link.them().signing_key.bytes)) {
      problem = "the credential of " + link.them().broker_id +
                " carries other keys than the peering names: a new version signed by both is needed";
    }
    if (!problem.empty()) {
      out->peering_issues.push_back(what + ": not used: " + problem);
      out->unlinked[link.them().broker_id].push_back(what + ": " + problem);
      continue;
    }
    link.partner_country = theirs->country;
    link.since = federation::in_effect_since(v);
    out->peers[link.them().broker_id].push_back(std::move(link));
  }
  // Links of one partner broker whose windows overlap: neither is used.
  for (auto it = out->peers.begin(); it != out->peers.end();) {
    std::vector<PeerLink>& links = it->second;
    std::vector<bool> overlaps(links.size(), false);
    for (std::size_t i = 0; i < links.size(); ++i) {
      for (std::size_t j = i + 1; j < links.size(); ++j) {
        const federation::Peering& x = links[i].peering;
        const federation::Peering& y = links[j].peering;
        if (x.not_before < y.not_after && y.not_before < x.not_after) overlaps[i] = overlaps[j] = true;
      }
    }
    std::vector<PeerLink> kept;
    for (std::size_t i = 0; i < links.size(); ++i) {
      if (!overlaps[i]) {
        kept.push_back(std::move(links[i]));
        continue;
      }
      const std::string what =
          "peering " + links[i].peering.peering_id + " v" + std::to_string(links[i].peering.version);
      const std::string problem = "another peering in effect names " + it->first +
                                  " for an overlapping time: end one (tearline certs revoke --peering ID:VERSION) or "
                                  "agree windows that follow each other";
      out->peering_issues.push_back(what + ": not used: " + problem);
      out->unlinked[it->first].push_back(what + ": " + problem);
    }
    links = std::move(kept);
    it = links.empty() ? out->peers.erase(it) : std::next(it);
  }
}

}  // namespace

const PeerLink* TrustSnapshot::peer(std::string_view node_id, std::int64_t now_seconds) const {
  auto it = peers.find(node_id);
  if (it == peers.end()) return nullptr;
  for (const PeerLink& link : it->second) {
    if (link.peering.valid_at(now_seconds)) return &link;
  }
  return nullptr;
}

bool TrustSnapshot::is_partner_node(std::string_view node_id) const {
  const identity::Credential* node = directory->node(node_id);
  const identity::Authority* issuer = node == nullptr ? nullptr : directory->trust().authority(node->agency);
  return issuer != nullptr && issuer->partner;
}

Status TrustSnapshot::check_session_node(std::string_view node_id, std::int64_t now_seconds) const {
  // FOREIGN_NODE first, then the credential's own reasons: the ZAP reply's
  // text starts with the code (docs/protocol.md 2.3).
  Status valid;
  if (is_partner_node(node_id) && peer(node_id, now_seconds) == nullptr) {
    auto it = peers.find(node_id);
    auto why = unlinked.find(node_id);
    if (it == peers.end() && why != unlinked.end()) {
      std::string reasons;
      for (const auto& r : why->second) reasons += (reasons.empty() ? "" : "; ") + r;
      valid.add(Code::FOREIGN_NODE,
                std::string(node_id) + " is named by a peering this broker does not use: " + reasons);
    } else if (it == peers.end()) {
      valid.add(Code::FOREIGN_NODE, std::string(node_id) + " belongs to partner agency " +
                                        directory->node(node_id)->agency +
                                        ", which runs its own broker: connect it there");
    } else {
      std::string windows;
      for (const PeerLink& link : it->second) {
        windows += (windows.empty() ? "" : "; ") + link.peering.peering_id + " v" +
                   std::to_string(link.peering.version) + " valid " + format_utc_seconds(link.peering.not_before) +
                   " .. " + format_utc_seconds(link.peering.not_after);
      }
      valid.add(Code::FOREIGN_NODE,
                std::string(node_id) + " is the partner broker of a peering that is not valid now (" + windows + ")");
    }
  }
  valid.merge(directory->check_node(node_id, now_seconds));
  return valid;
}

Status TrustState::reload(std::int64_t now_seconds, identity::LoadReport* report, const Accept& accept) {
  TrustSnapshotPtr previous = current();
  auto directory =
      identity::Directory::load(directory_path_, now_seconds, report, previous ? previous->directory.get() : nullptr);
  if (!directory) return directory.status();
  if ((*directory)->nodes().empty()) {
    return Status::fail(Code::INVALID_FIELD, "directory " + directory_path_.string() + " holds no valid credential");
  }
  std::string own_id;
  if (accept) {
    auto accepted = accept(**directory);
    if (!accepted) return accepted.status();
    own_id = std::move(accepted).value();
  }
  auto topics = policy::TopicPolicy::load(policy_path_);
  if (!topics) return topics.status();
  auto next = std::make_shared<TrustSnapshot>();
  next->directory = std::move(directory).value();
  next->topics = std::move(topics).value();
  next->generation = previous ? previous->generation + 1 : 1;
  next->broker_id = own_id;
  link_peers(federation::load_peerings(directory_path_, *next->directory), *next->directory, own_id, now_seconds,
             next.get());
  MutexLock lock(mu_);
  current_ = std::move(next);
  return Status::ok();
}

}  // namespace tearline::broker
