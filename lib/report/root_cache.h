// Verified batch roots (report format 2), per originator, so that the second
// and later reports of a batch cost hashes instead of an Ed25519 verify.
//
// Contract: the only way into the cache is check(), which records an entry
// after crypto::verify accepted exactly these bytes: the originator's verify
// key, the domain tag, the statement (which names the signer) and the
// signature. An entry is the BLAKE2b-256 of all four, so a root signed by another node,
// under another key, or with other signature bytes never matches one.
// Bounded: at most `roots_per_originator` roots per originator and
// `max_originators` originators, each evicted least recently used.
// Thread-safe: one cache serves every verifier thread of a process.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/bytes.h"
#include "base/mutex.h"
#include "crypto/hash.h"
#include "crypto/keys.h"
#include "crypto/signing.h"

namespace tearline::report {

class RootCache {
 public:
  explicit RootCache(std::size_t max_originators = 4096, std::size_t roots_per_originator = 8);
  RootCache(const RootCache&) = delete;
  RootCache& operator=(const RootCache&) = delete;

  // True when `signature` verifies under `key` for `statement` signed under
  // `tag`: from the cache when these exact bytes were verified before, else
  // by verifying them (and remembering them on success). `signer` names the
  // key's owner (the originator, or a broker for acceptance receipts).
  [[nodiscard]] bool check(std::string_view signer, const crypto::VerifyKey& key, ByteView statement,
                           ByteView signature, std::string_view tag = crypto::tags::kReportBatch);

  std::uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }
  std::uint64_t verifies() const { return verifies_.load(std::memory_order_relaxed); }
  std::size_t size() const;

 private:
  struct Slot {
    std::list<std::string>::iterator order;
    std::deque<crypto::Digest> roots;  // most recent first
  };
  bool find(const std::string& originator, const crypto::Digest& entry);
  void remember(const std::string& originator, const crypto::Digest& entry);

  const std::size_t max_originators_;
  const std::size_t roots_per_originator_;
  mutable Mutex mu_;
  std::list<std::string> order_ GUARDED_BY(mu_);  // originators, most recent first
  std::unordered_map<std::string, Slot> slots_ GUARDED_BY(mu_);
  std::atomic<std::uint64_t> hits_{0};
  std::atomic<std::uint64_t> verifies_{0};
};

}  // namespace tearline::report
