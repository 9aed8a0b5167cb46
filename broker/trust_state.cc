#include "broker/trust_state.h"

namespace tearline::broker {

Status TrustSnapshot::check_session_node(std::string_view node_id, std::int64_t now_seconds) const {
  Status valid = directory->check_node(node_id, now_seconds);
  const identity::Credential* node = directory->node(node_id);
  const identity::Authority* issuer = node == nullptr ? nullptr : directory->trust().authority(node->agency);
  if (issuer != nullptr && issuer->partner) {
    valid.add(Code::FOREIGN_NODE, std::string(node_id) + " belongs to partner agency " + node->agency +
                                      ", which runs its own broker: connect it there");
  }
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
  if (accept) {
    Status accepted = accept(**directory);
    if (!accepted) return accepted;
  }
  auto topics = policy::TopicPolicy::load(policy_path_);
  if (!topics) return topics.status();
  auto next = std::make_shared<TrustSnapshot>();
  next->directory = std::move(directory).value();
  next->topics = std::move(topics).value();
  next->generation = previous ? previous->generation + 1 : 1;
  MutexLock lock(mu_);
  current_ = std::move(next);
  return Status::ok();
}

}  // namespace tearline::broker
