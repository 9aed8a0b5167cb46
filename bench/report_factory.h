// Builds the bench's reports: for publisher `pub`, report `seq` has
// shape.sections sections of shape.section_bytes() plaintext each, labelled
// as plan.h says, sealed to the planned subscribers (explicit recipients)
// and signed with the publisher's key: a run of consecutive reports is built
// as one format-2 batch (report::build_batch_to, one signature over the
// batch's root) with the factory's own report::KeyEpochs, as a publisher
// would. Returned as ready PUBLISH frames (request id = seq). Each section's
// plaintext starts with section_tag(pub, seq, section).
// One publisher's: not thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "bench/plan.h"
#include "crypto/key_file.h"
#include "identity/directory.h"
#include "report/builder.h"
#include "report/key_epochs.h"

namespace tearline::bench {

inline constexpr std::string_view kBenchTopic = "bench.load";
inline constexpr std::string_view kBenchCountry = "USA";

std::array<std::uint8_t, kSectionTagBytes> section_tag(int pub, std::uint64_t seq, int section);

class ReportFactory {
 public:
  ReportFactory(Shape shape, int pub, const identity::Directory& directory, const crypto::SigningKey& key);
  // Report `seq` alone (a batch of one, a fresh content key): the bytes, not
  // framed. The single-report cost baseline (crypto_rates.h).
  Result<Bytes> report(std::uint64_t seq);
  // The PUBLISH frames of reports first_seq .. first_seq + count - 1, built
  // and signed as one batch (1 <= count <= report::kMaxBatch).
  Result<std::vector<Bytes>> publish_frames(std::uint64_t first_seq, std::size_t count);

  const report::KeyEpochs& epochs() const { return epochs_; }

 private:
  // Report `seq`'s draft and its recipients per section.
  report::ReportDraft draft(std::uint64_t seq, std::int64_t now_ms,
                            std::vector<std::vector<report::Recipient>>* recipients) const;

  Shape shape_;
  int pub_;
  std::string node_;
  const crypto::SigningKey& key_;
  std::vector<report::Recipient> subscribers_;  // by subscriber index
  Bytes filler_;
  report::KeyEpochs epochs_;
};

}  // namespace tearline::bench
