// What the broker trusts right now: the directory and the topic policy, as
// one immutable snapshot. Readers (ZAP handler, verifier threads, the I/O
// loop) take a shared_ptr and keep it for one decision; a reload builds a new
// snapshot and swaps it in. A failed reload leaves the last good snapshot.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>

#include "base/mutex.h"
#include "base/result.h"
#include "identity/directory.h"
#include "policy/topic_policy.h"

namespace tearline::broker {

struct TrustSnapshot {
  identity::DirectoryPtr directory;
  policy::TopicPolicy topics;
  std::uint64_t generation = 0;

  // Whether `node_id` may hold a session now: its credential valid and
  // unrevoked (Directory::check_node's reasons) and its agency not a partner
  // agency (FOREIGN_NODE: docs/federation.md, its nodes connect to their
  // own agency's broker). Asked at the handshake, at HELLO and after each
  // reload.
  Status check_session_node(std::string_view node_id, std::int64_t now_seconds) const;
};
using TrustSnapshotPtr = std::shared_ptr<const TrustSnapshot>;

class TrustState {
 public:
  TrustState(std::filesystem::path directory, std::filesystem::path policy)
      : directory_path_(std::move(directory)), policy_path_(std::move(policy)) {}

  // Judges a loaded directory before it is swapped in (the broker: its own
  // credential must be there); a failure fails the reload.
  using Accept = std::function<Status(const identity::Directory&)>;

  // Loads the directory and policy; on success (and when `accept`, if given,
  // says OK) swaps them in. On failure the current snapshot stays and every
  // reason is returned. `report` receives the objects the directory loader
  // left out.
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
