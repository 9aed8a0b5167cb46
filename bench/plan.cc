#include "bench/plan.h"

#include <algorithm>
#include <cstdio>

namespace tearline::bench {

int Shape::effective_recipients() const { return recipients <= 0 ? subscribers : std::min(recipients, subscribers); }

std::size_t Shape::section_bytes() const {
  return std::max(kSectionTagBytes, size / static_cast<std::size_t>(std::max(1, sections)));
}

std::string Shape::describe() const {
  char buf[160];
  std::snprintf(buf, sizeof buf, "P=%d N=%d size=%zu S=%d R=%d W=%d", publishers, subscribers, size, sections,
                effective_recipients(), window);
  return buf;
}

bool sealed_to(const Shape& shape, int pub, std::uint64_t seq, int section, int sub) {
  const auto n = static_cast<std::uint64_t>(shape.subscribers);
  const std::uint64_t start = (static_cast<std::uint64_t>(pub) + seq * static_cast<std::uint64_t>(shape.sections) +
                               static_cast<std::uint64_t>(section)) %
                              n;
  const std::uint64_t offset = (static_cast<std::uint64_t>(sub) + n - start) % n;
  return offset < static_cast<std::uint64_t>(shape.effective_recipients());
}

bool cleared(int section, int sub) { return section % 2 == 0 || sub % 2 == 0; }

std::vector<int> sealed_recipients(const Shape& shape, int pub, std::uint64_t seq, int section) {
  std::vector<int> out;
  for (int j = 0; j < shape.subscribers; ++j) {
    if (sealed_to(shape, pub, seq, section, j)) out.push_back(j);
  }
  return out;
}

bool receives(const Shape& shape, int pub, std::uint64_t seq, int sub) {
  for (int s = 0; s < shape.sections; ++s) {
    if (entitled(shape, pub, seq, s, sub)) return true;
  }
  return false;
}

std::vector<int> receivers(const Shape& shape, int pub, std::uint64_t seq) {
  std::vector<int> out;
  for (int j = 0; j < shape.subscribers; ++j) {
    if (receives(shape, pub, seq, j)) out.push_back(j);
  }
  return out;
}

std::string publisher_node(int pub) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "bench-pub-%02d", pub);
  return buf;
}

std::string subscriber_node(int sub) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "bench-sub-%03d", sub);
  return buf;
}

int publisher_index(const std::string& node) {
  constexpr std::string_view prefix = "bench-pub-";
  if (node.size() <= prefix.size() || node.compare(0, prefix.size(), prefix) != 0) return -1;
  int v = 0;
  for (std::size_t i = prefix.size(); i < node.size(); ++i) {
    if (node[i] < '0' || node[i] > '9') return -1;
    v = v * 10 + (node[i] - '0');
  }
  return v < kMaxPublishers ? v : -1;
}

}  // namespace tearline::bench
