// The bench's workload shape and its fan-out plan: which subscriber is
// entitled to which section of which report. Pure; every process of a run
// (driver, publishers, subscribers, the raw relay) computes the same answers
// from the same Shape, so nothing about entitlement travels out of band.
//
// Section s of report `seq` from publisher p is sealed to R consecutive
// subscribers starting at (p + seq * S + s) mod N (R = N: all of them).
// Odd sections are TOP SECRET, even ones SECRET; odd subscribers hold SECRET
// clearance, even ones TOP SECRET. A subscriber is entitled to a section when
// it is sealed to it AND cleared for it: with S >= 2 the publisher seals TOP
// SECRET sections to SECRET subscribers too, and the broker must withhold
// them (policy + redaction). With one section nothing is withheld.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tearline::bench {

inline constexpr int kMaxPublishers = 64;
inline constexpr int kMaxSubscribers = 256;

struct Shape {
  int publishers = 4;  // 4, not 2: the broker shards verification by node id (see docs/performance.md)
  int subscribers = 4;
  std::size_t size = 1024;  // plaintext bytes per report, split evenly across sections
  int sections = 1;
  int recipients = 0;  // per section; 0 = every subscriber
  int window = 32;     // reports in flight per publisher (see pub_loop.h)

  int effective_recipients() const;
  std::size_t section_bytes() const;  // >= kSectionTagBytes
  std::string describe() const;       // "P=2 N=4 size=1024 S=1 R=4 W=64"
};

// The plaintext of every section starts with a tag naming (publisher, seq,
// section), so a subscriber can tell that what it opened is what it should.
inline constexpr std::size_t kSectionTagBytes = 16;

bool sealed_to(const Shape& shape, int pub, std::uint64_t seq, int section, int sub);
bool cleared(int section, int sub);
inline bool entitled(const Shape& shape, int pub, std::uint64_t seq, int section, int sub) {
  return sealed_to(shape, pub, seq, section, sub) && cleared(section, sub);
}
// Whether `sub` is entitled to at least one section (receives a copy).
bool receives(const Shape& shape, int pub, std::uint64_t seq, int sub);
// The subscribers section `section` is sealed to, ascending.
std::vector<int> sealed_recipients(const Shape& shape, int pub, std::uint64_t seq, int section);
// The subscribers entitled to at least one section (those who receive a copy).
std::vector<int> receivers(const Shape& shape, int pub, std::uint64_t seq);

std::string publisher_node(int pub);   // "bench-pub-00"
std::string subscriber_node(int sub);  // "bench-sub-000"
// Parses a node name back to its index; -1 when it is not one of ours.
int publisher_index(const std::string& node);

}  // namespace tearline::bench
