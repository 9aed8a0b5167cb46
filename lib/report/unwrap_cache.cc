#include "report/unwrap_cache.h"

#include <algorithm>
#include <cstring>

namespace tearline::report {

std::size_t UnwrapCache::DigestHash::operator()(const crypto::Digest& d) const {
  std::size_t h = 0;
  std::memcpy(&h, d.data(), sizeof h);  // the digest is already uniform
  return h;
}

UnwrapCache::UnwrapCache(std::size_t capacity) : capacity_(std::max<std::size_t>(1, capacity)) {}

const crypto::ContentKey* UnwrapCache::unwrap(const crypto::SealingKey& key, ByteView wrapped) {
  ByteWriter w;
  w.field(ByteView(key.public_key().bytes.data(), key.public_key().bytes.size()));
  w.field(wrapped);
  const crypto::Digest id = crypto::blake2b_256(w.bytes());
  if (auto it = index_.find(id); it != index_.end()) {
    entries_.splice(entries_.begin(), entries_, it->second);
    ++hits_;
    return entries_.front().key.get();
  }
  ++opens_;
  auto opened = crypto::unwrap_key(key, wrapped);
  if (!opened) return nullptr;
  if (entries_.size() >= capacity_) {
    index_.erase(entries_.back().wrap);
    entries_.pop_back();  // ~ContentKey wipes the key
  }
  entries_.push_front(Entry{id, std::make_unique<crypto::ContentKey>(std::move(*opened))});
  index_[id] = entries_.begin();
  return entries_.front().key.get();
}

}  // namespace tearline::report
