// broker/source_index: the bounded cache of source records in front of the
// store's look-up.
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include "broker/source_index.h"

namespace tearline::broker {

TEST_CASE(
    "source index: keeps the most recent `capacity` records, asks the fallback for the rest, forgets removed ones") {
  SourceIndex index(3);
  std::vector<std::string> asked;
  index.set_fallback([&](const std::string& id) -> std::optional<SourceRecord> {
    asked.push_back(id);
    if (id == "old-1") return SourceRecord{"from-store", "DIRAN", "COL", {}};
    return std::nullopt;
  });
  for (const char* id : {"old-1", "r2", "r3", "r4"})
    index.add(id, SourceRecord{std::string("cached-") + id, "DIRAN", "COL", {}});
  CHECK(index.cached() == 3);
  CHECK(index.find("r4")->originator == "cached-r4");
  CHECK(index.find("r2")->originator == "cached-r2");
  CHECK(asked.empty());
  INFO("evicted: answered by the fallback");
  CHECK(index.find("old-1")->originator == "from-store");
  CHECK(asked == std::vector<std::string>{"old-1"});
  INFO("removed (retention): the cache no longer answers, the fallback does");
  index.remove({"r3"});
  CHECK(index.cached() == 2);
  CHECK_FALSE(index.find("r3"));
  CHECK(asked == std::vector<std::string>{"old-1", "r3"});
  INFO("adding more after a removal still keeps at most 3");
  for (const char* id : {"r5", "r6", "r7", "r8"}) index.add(id, SourceRecord{id, "DIRAN", "COL", {}});
  CHECK(index.cached() == 3);
  CHECK(index.find("r8"));
  CHECK_FALSE(index.find("r4"));
}

}  // namespace tearline::broker
