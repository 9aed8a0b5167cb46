// Content keys one node has unwrapped, by the BLAKE2b-256 of its sealing
// public key and the key wrap (the 80-byte crypto_box_seal), so that every section of a content-key epoch
// after the first costs no crypto_box_seal_open (docs/threat-model.md
// "Content-key epochs"). The same wrap always opens to the same key, so the
// cache changes no outcome. Keys live in secure memory (SecureBuffer: the
// slab of sodium_malloc'd arenas) and are wiped when evicted or when the
// cache goes. Bounded, least recently used evicted. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <unordered_map>

#include "base/bytes.h"
#include "crypto/hash.h"
#include "crypto/keys.h"
#include "crypto/sealing.h"

namespace tearline::report {

class UnwrapCache {
 public:
  explicit UnwrapCache(std::size_t capacity = 256);

  // The content key sealed in `wrapped` to `key`, or nullptr when it does not
  // open. The pointer stays valid until the next call.
  const crypto::ContentKey* unwrap(const crypto::SealingKey& key, ByteView wrapped);

  std::uint64_t hits() const { return hits_; }
  std::uint64_t opens() const { return opens_; }
  std::size_t size() const { return entries_.size(); }

 private:
  struct DigestHash {
    std::size_t operator()(const crypto::Digest& d) const;
  };
  struct Entry {
    crypto::Digest wrap;
    std::unique_ptr<crypto::ContentKey> key;
  };
  std::size_t capacity_;
  std::list<Entry> entries_;  // most recently used first
  std::unordered_map<crypto::Digest, std::list<Entry>::iterator, DigestHash> index_;
  std::uint64_t hits_ = 0;
  std::uint64_t opens_ = 0;
};

}  // namespace tearline::report
