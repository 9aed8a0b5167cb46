// What the broker trusts right now: the directory and the topic policy, as
// one immutable snapshot. Readers (ZAP handler, verifier threads, the I/O
// loop) take a shared_ptr and keep it for one decision; a reload builds a new
// snapshot and swaps it in. A failed reload leaves the last good snapshot.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/mutex.h"
#include "base/result.h"
#include "federation/peering.h"
#include "identity/directory.h"
#include "policy/topic_policy.h"

namespace tearline::broker {

// A partner agency's boundary broker at the other end of a peering in
// effect that names this broker (docs/federation.md): it may hold a session
// here, and what it receives is decided by the peering (federation/
// crossing.h), not by the topic policy.
struct PeerLink {
  federation::Peering peering;  // the version in effect
  bool we_are_first = false;    // this broker is the peering's first party
  std::string partner_country;  // the partner authority's country
  // Since when the peering has run unbroken (federation::in_effect_since):
  // reports accepted before it stay home.
  std::int64_t since = 0;

  const federation::PeeringParty& us() const { return we_are_first ? peering.first : peering.second; }
  const federation::PeeringParty& them() const { return we_are_first ? peering.second : peering.first; }
  // What may cross from this agency to the partner.
  const federation::PeeringDirection& to_them() const {
    return we_are_first ? peering.first_to_second : peering.second_to_first;
  }
  // What may cross from the partner to this agency.
  const federation::PeeringDirection& to_us() const {
    return we_are_first ? peering.second_to_first : peering.first_to_second;
  }
};

struct TrustSnapshot {
  identity::DirectoryPtr directory;
  policy::TopicPolicy topics;
  std::uint64_t generation = 0;
  std::string broker_id;  // this broker's own id in `directory`
  // By the partner broker's node id: the peerings in effect, not ended at
  // the reload, naming this broker and, on the other side, a partner agency's broker whose
  // credential carries the keys the peering names; several when their
  // windows do not overlap (a peering renewed under a new id), none of
  // those whose windows overlap (which terms apply would be a guess).
  std::map<std::string, std::vector<PeerLink>, std::less<>> peers;
  // By the partner broker's node id: why a peering naming it is not used
  // (told to it when it is refused).
  std::map<std::string, std::vector<std::string>, std::less<>> unlinked;
  // Why a peering file or version is not used here (logged at each reload).
  std::vector<std::string> peering_issues;

  // The link of `node_id` when it is a partner's broker of a peering in
  // effect and valid at `now_seconds`; nullptr otherwise.
  const PeerLink* peer(std::string_view node_id, std::int64_t now_seconds) const;
  // Whether `node_id` is a node of a partner agency (its brokers included),
  // whatever any peering says: such a node is never served as one of ours.
  bool is_partner_node(std::string_view node_id) const;

  // Whether `node_id` may hold a session now: its credential valid and
  // unrevoked (Directory::check_node's reasons) and its agency not a partner
  // agency (FOREIGN_NODE: docs/federation.md, its nodes connect to their
  // own agency's broker), unless it is the partner's broker of a peering
  // valid now (peer()). Asked at the handshake, at HELLO and after each
  // reload.
  Status check_session_node(std::string_view node_id, std::int64_t now_seconds) const;
};
using TrustSnapshotPtr = std::shared_ptr<const TrustSnapshot>;

class TrustState {
 public:
  TrustState(std::filesystem::path directory, std::filesystem::path policy)
      : directory_path_(std::move(directory)), policy_path_(std::move(policy)) {}

  // Judges a loaded directory before it is swapped in and names the
  // broker's own id in it (its own credential must be there); a failure
  // fails the reload.
  using Accept = std::function<Result<std::string>(const identity::Directory&)>;

  // Loads the directory, the peerings of its folder (DIR/peerings) and the
  // policy; on success (and when `accept`, if given, says OK) swaps them in. On failure the current snapshot stays and
  // every reason is returned. `report` receives the objects the directory loader left out.
  Status reload(std::int64_t now_seconds, identity::LoadReport* report, const Accept& accept = {}) EXCLUDES(mu_);

  TrustSnapshotPtr current() const EXCLUDES(mu_) {
    MutexLock lock(mu_);
    return current_;
  }

 private:
  std::filesystem::path directory_path_, policy_path_;
  mutable Mutex mu_;
  TrustSnapshotPtr current_ GUARDED_BY(mu_);
};

}  // namespace tearline::broker
