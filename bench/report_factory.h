// Builds the bench's reports: for publisher `pub`, report `seq` has
// shape.sections sections of shape.section_bytes() plaintext each, labelled
// as plan.h says, sealed to the planned subscribers with
// report::build_report_to and signed with the publisher's key; returned as a
// ready PUBLISH frame (request id = seq). Each section's plaintext starts
// with section_tag(pub, seq, section).
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

namespace tearline::bench {

inline constexpr std::string_view kBenchTopic = "bench.load";
inline constexpr std::string_view kBenchCountry = "USA";

std::array<std::uint8_t, kSectionTagBytes> section_tag(int pub, std::uint64_t seq, int section);

class ReportFactory {
 public:
  ReportFactory(Shape shape, int pub, const identity::Directory& directory, const crypto::SigningKey& key);
  // The report's bytes (not framed).
  Result<Bytes> report(std::uint64_t seq);
  // The PUBLISH frame carrying it.
  Result<Bytes> publish_frame(std::uint64_t seq);

 private:
  Shape shape_;
  int pub_;
  std::string node_;
  const crypto::SigningKey& key_;
  std::vector<report::Recipient> subscribers_;  // by subscriber index
  Bytes filler_;
};

}  // namespace tearline::bench
