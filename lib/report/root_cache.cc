#include "report/root_cache.h"

#include <algorithm>

#include "crypto/signing.h"

namespace tearline::report {

namespace {

// BLAKE2b-256( field(key) || tag(tag) || field(statement) || field(signature) )
crypto::Digest entry_of(const crypto::VerifyKey& key, std::string_view tag, ByteView statement, ByteView signature) {
  crypto::Blake2b256 h;
  h.update_field(ByteView(key.bytes.data(), key.bytes.size()));
  h.update_tag(tag);
  h.update_field(statement);
  h.update_field(signature);
  return h.finish();
}

}  // namespace

RootCache::RootCache(std::size_t max_originators, std::size_t roots_per_originator)
    : max_originators_(std::max<std::size_t>(1, max_originators)),
      roots_per_originator_(std::max<std::size_t>(1, roots_per_originator)) {}

bool RootCache::check(std::string_view signer, const crypto::VerifyKey& key, ByteView statement, ByteView signature,
                      std::string_view tag) {
  const crypto::Digest entry = entry_of(key, tag, statement, signature);
  const std::string who(signer);
  if (find(who, entry)) {
    hits_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  verifies_.fetch_add(1, std::memory_order_relaxed);
  if (!crypto::verify(key, tag, statement, signature)) return false;
  remember(who, entry);
  return true;
}

bool RootCache::find(const std::string& originator, const crypto::Digest& entry) {
  MutexLock lock(mu_);
  auto it = slots_.find(originator);
  if (it == slots_.end()) return false;
  Slot& slot = it->second;
  auto root = std::find(slot.roots.begin(), slot.roots.end(), entry);
  if (root == slot.roots.end()) return false;
  order_.splice(order_.begin(), order_, slot.order);
  if (root != slot.roots.begin()) {
    const crypto::Digest hit = *root;
    slot.roots.erase(root);
    slot.roots.push_front(hit);
  }
  return true;
}

void RootCache::remember(const std::string& originator, const crypto::Digest& entry) {
  MutexLock lock(mu_);
  auto it = slots_.find(originator);
  if (it == slots_.end()) {
    if (slots_.size() >= max_originators_) {
      slots_.erase(order_.back());
      order_.pop_back();
    }
    order_.push_front(originator);
    it = slots_.emplace(originator, Slot{order_.begin(), {}}).first;
  } else {
    order_.splice(order_.begin(), order_, it->second.order);
  }
  Slot& slot = it->second;
  if (std::find(slot.roots.begin(), slot.roots.end(), entry) != slot.roots.end()) return;  // a racing verifier
  slot.roots.push_front(entry);
  if (slot.roots.size() > roots_per_originator_) slot.roots.pop_back();
}

std::size_t RootCache::size() const {
  MutexLock lock(mu_);
  std::size_t n = 0;
  for (const auto& [who, slot] : slots_) n += slot.roots.size();
  return n;
}

}  // namespace tearline::report
