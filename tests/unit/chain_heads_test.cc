// audit/chain_heads: the heads entry's detail, and verify_heads holding
// each broker's log to what another broker's signed heads entry saw of it.
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "audit/chain_heads.h"

namespace tearline::audit {
namespace {

// A chain of `n` plain entries, then (when `heads` is not empty) one heads
// entry naming them.
std::vector<AuditEntry> chain_of(int n, const std::vector<ChainHead>& heads = {}) {
  ChainWriter w;
  std::vector<AuditEntry> out;
  out.reserve(static_cast<std::size_t>(n) + 1);
  for (int i = 0; i < n; ++i) out.push_back(w.append(1000 + i, "publish", "n", "r", "accepted", std::to_string(i)));
  if (!heads.empty()) {
    out.push_back(w.append(2000, std::string(kHeadsEvent), "", "", std::string(kHeadsDecision), heads_detail(heads)));
  }
  return out;
}

ChainHead head_of(const std::string& writer, const std::vector<AuditEntry>& chain, std::size_t index) {
  return ChainHead{writer, index, chain[index - 1].hash, false};
}

TEST_CASE("chain heads: the detail names each chain once, sorted, and parses back exactly", "[audit][heads]") {
  const auto a = chain_of(3), b = chain_of(5);
  const std::string detail = heads_detail({head_of("zeta-broker", a, 3), head_of("alpha-broker", b, 5)});
  CHECK(detail.rfind("alpha-broker 5 ", 0) == 0);
  CHECK(detail.find("; zeta-broker 3 ") != std::string::npos);
  auto parsed = parse_heads_detail(detail);
  REQUIRE(parsed);
  REQUIRE(parsed->size() == 2);
  CHECK((*parsed)[0].writer == "alpha-broker");
  CHECK((*parsed)[0].index == 5);
  CHECK((*parsed)[0].hash == b[4].hash);
  CHECK((*parsed)[1].writer == "zeta-broker");
  CHECK((*parsed)[1].hash == a[2].hash);

  const std::string hex(64, 'a');
  const std::vector<std::string> bad_details = {
      "", "x", "x 1", "x 0 " + hex, "x 1 abc", "x -1 " + hex, "x 1 " + hex + "; ", " 1 " + hex, "x 1z " + hex};
  for (const std::string& bad : bad_details) {
    INFO(bad);
    CHECK_FALSE(parse_heads_detail(bad));
  }
}

TEST_CASE("chain heads: every log holds what the others signed of it", "[audit][heads]") {
  const auto a_plain = chain_of(4);
  const auto b = chain_of(6, {head_of("broker-a", a_plain, 4)});  // b's entry 7 names a at 4
  const auto a = chain_of(4, {head_of("broker-b", b, 5)});        // a's entry 5 names b at 5
  std::map<std::string, ChainRead> chains{{"broker-a", {&a, 5}}, {"broker-b", {&b, 7}}};
  HeadsResult r = verify_heads(chains);
  INFO(r.message);
  CHECK(r.ok());
  CHECK(r.heads_entries == 2);
  CHECK(r.covered_up_to == std::map<std::string, std::uint64_t>{{"broker-a", 4}, {"broker-b", 5}});

  SECTION("a log cut short below what another signed: deleted, at its first missing entry") {
    const std::vector<AuditEntry> cut(a.begin(), a.begin() + 3);
    chains["broker-a"] = {&cut, 3};
    r = verify_heads(chains);
    CHECK(r.tamper == Tamper::kDeleted);
    CHECK(r.writer == "broker-a");
    CHECK(r.at_index == 4);
    CHECK(r.message ==
          "broker-a's log ends at entry 3, yet broker-b's entry 7 (signed) saw it reach entry 4: entries 4..4 were "
          "deleted");
  }
  SECTION("a log rewritten below what another signed: modified, at the entry named") {
    auto rewritten = chain_of(4);
    rewritten[3] = ChainWriter(3, rewritten[2].hash).append(1, "publish", "n", "r", "accepted", "other");
    chains["broker-a"] = {&rewritten, 0};
    r = verify_heads(chains);
    CHECK(r.tamper == Tamper::kModified);
    CHECK(r.writer == "broker-a");
    CHECK(r.at_index == 4);
  }
  SECTION("a log gone altogether") {
    chains.erase("broker-a");
    r = verify_heads(chains);
    CHECK(r.tamper == Tamper::kDeleted);
    CHECK(r.writer == "broker-a");
    CHECK(r.at_index == 1);
  }
  SECTION("a heads entry past its own log's last signed checkpoint counts for nothing") {
    const std::vector<AuditEntry> cut(a.begin(), a.begin() + 3);
    chains["broker-a"] = {&cut, 3};
    chains["broker-b"] = {&b, 6};
    r = verify_heads(chains);
    CHECK(r.ok());
    CHECK(r.heads_entries == 0);
  }
  SECTION("a heads entry whose detail does not parse is itself modified") {
    auto broken = chain_of(6);
    broken.push_back(ChainWriter(6, broken[5].hash)
                         .append(2000, std::string(kHeadsEvent), "", "", std::string(kHeadsDecision), "nonsense"));
    chains["broker-b"] = {&broken, 7};
    r = verify_heads(chains);
    CHECK(r.tamper == Tamper::kModified);
    CHECK(r.writer == "broker-b");
    CHECK(r.at_index == 7);
  }
}

}  // namespace
}  // namespace tearline::audit
