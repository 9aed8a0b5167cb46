// Content-key epochs (docs/threat-model.md "Content-key epochs").
//
// A publisher reuses a section's content key and its key wraps for every
// report whose section has the same label and exactly the same eligible
// recipients (node ids and sealing keys), within an epoch bounded by age and
// by count. Any change to the recipient set starts a new epoch at once: the
// label's old key is dropped (wiped) and a fresh one is wrapped to the new
// set. Each section still has its own random salt and nonce, and its
// associated data binds the report's header, so reuse never repeats a
// (key, nonce) pair nor lets a section move between reports.
// One publisher's state: not thread-safe.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "crypto/sealing.h"
#include "report/builder_types.h"

namespace tearline::report {

struct EpochLimits {
  std::int64_t max_age_ms = std::int64_t{10} * 60 * 1000;  // 10 minutes
  std::uint32_t max_reports = 4096;                        // sections sealed under one key
  std::size_t max_labels = 256;                            // epochs kept, least recently used evicted
};

class KeyEpochs {
 public:
  explicit KeyEpochs(EpochLimits limits = {});

  struct Use {
    const crypto::ContentKey& key;
    const std::vector<Bytes>& wraps;  // one per recipient, in the recipients' order
    bool reused;                      // false: a new epoch started for this section
  };
  // `recipients` sorted by node id, unique. `now_ms` is the report's
  // created-at; an epoch also ends when time runs backwards past its start.
  Use acquire(ByteView label_bytes, const std::vector<Recipient>& recipients, std::int64_t now_ms,
              const RandomFill& random);

  // Ends every epoch (the next section of each label gets a fresh key).
  void clear() { epochs_.clear(); }
  std::uint64_t reused() const { return reused_; }
  std::uint64_t started() const { return started_; }

 private:
  struct Epoch {
    Bytes label;
    std::vector<Recipient> recipients;
    std::unique_ptr<crypto::ContentKey> key;
    std::vector<Bytes> wraps;
    std::int64_t started_ms = 0;
    std::uint32_t uses = 0;
  };
  bool still_valid(const Epoch& e, const std::vector<Recipient>& recipients, std::int64_t now_ms) const;

  EpochLimits limits_;
  std::list<Epoch> epochs_;  // most recently used first
  std::uint64_t reused_ = 0;
  std::uint64_t started_ = 0;
};

}  // namespace tearline::report
