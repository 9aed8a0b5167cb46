// lib/federation/arrival: the receiving side's check of a copy a partner's
// broker delivered. DIRAN's broker receives from DEA's (dea-broker) over a
// peering whose DEA -> DIRAN direction lets intel.finance.> cross up to
// SECRET, releasable to COL. Real reports of the demo PKI (DEA marked a
// partner), real acceptance receipts signed by dea-broker; each refusal
// alone, with its exact code, against a control copy that is taken.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/files.h"
#include "crypto/key_file.h"
#include "federation/arrival.h"
#include "identity/pki.h"
#include "identity/trust_store.h"
#include "receipt/acceptance.h"
#include "report/builder.h"
#include "support/demo_world.h"
#include "support/partners.h"
#include "support/temp_dir.h"
#include "tearline/v1/receipt.pb.h"

namespace tearline::arrival_test {
namespace {

namespace v1 = tearline::v1;
using report::Recipient;

constexpr std::uint64_t kSeq = 41;

std::int64_t now_s() { return SystemClock::instance().now_seconds(); }

struct World {
  testing::TempDir dir;
  identity::PkiPaths pki{dir.path()};
  identity::DirectoryPtr directory;
  federation::Peering peering;
  federation::Boundary boundary;

  World() {
    testing::DemoWorld::generate_into(dir.path());
    for (const char* broker : {"dea-broker", "dea-broker-2"}) {
      REQUIRE(
          identity::issue_node(pki, {broker, "DEA", v1::UNCLASSIFIED, {"broker"}, now_s() - 3600, now_s() + 86400, 0}));
    }
    REQUIRE(identity::issue_node(
        pki, {"fudra-broker", "FUDRA", v1::UNCLASSIFIED, {"broker"}, now_s() - 3600, now_s() + 86400, 0}));
    // FGR's brokers: the first hops of FGR's reports in transit through DEA.
    for (int i = 1; i <= 2; ++i) {
      const std::string broker = "fgr-broker-" + std::to_string(i);
      REQUIRE(
          identity::issue_node(pki, {broker, "FGR", v1::UNCLASSIFIED, {"broker"}, now_s() - 3600, now_s() + 86400, 0}));
    }
    // Agencies further along a long path, one broker each.
    for (const char* country : {"PER", "ECU", "BRA", "PAN", "GBR", "ESP"}) {
      REQUIRE(identity::init_authority(pki, country, country));
      std::string broker = std::string(country) + "-broker";
      for (char& ch : broker) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      REQUIRE(identity::issue_node(
          pki, {broker, country, v1::UNCLASSIFIED, {"broker"}, now_s() - 3600, now_s() + 86400, 0}));
    }
    // DEA becomes a partner agency of this (DIRAN's) directory.
    testing::set_partner_agencies(pki.trust_store(), {"DEA"});
    identity::LoadReport report;
    auto loaded = identity::Directory::load(pki.directory(), now_s(), &report);
    REQUIRE(loaded);
    directory = *loaded;
    peering.peering_id = "diran-dea";
    peering.version = 2;
    peering.first.agency = "DIRAN";
    peering.first.broker_id = "tearline-broker";
    peering.second.agency = "DEA";
    peering.second.broker_id = "dea-broker";
    peering.second_to_first.topics = {"intel.finance.>"};
    peering.second_to_first.ceiling = v1::SECRET;
    peering.second_to_first.releasable_to = {"COL"};
    peering.not_before = now_s() - 3600;
    peering.not_after = now_s() + 86400;
    boundary = {&peering, &peering.second_to_first, "DIRAN", "COL", "DEA", "dea-broker", now_s() - 3600};
  }

  crypto::SigningKey signing_key_of(const std::string& node) const {
    auto k = crypto::read_node_keys(pki.node_key(node));
    REQUIRE(k);
    return std::move(k->signing);
  }

  std::vector<Recipient> to(const std::vector<std::string>& nodes) const {
    std::vector<Recipient> out;
    out.reserve(nodes.size());
    for (const auto& n : nodes) out.push_back(Recipient{n, directory->node(n)->sealing_key});
    return out;
  }

  // A report by `originator` with one section per (label, recipients).
  // Created 10 s ago, or `ahead_ms` from now when given.
  Bytes report(const std::string& originator, const std::string& topic,
               const std::vector<std::pair<policy::Label, std::vector<std::string>>>& sections,
               std::int64_t ahead_ms = 0) const {
    static std::uint64_t sequence = 0;
    report::ReportDraft d;
    d.topic = topic;
    d.created_at_ms = SystemClock::instance().now_ms() + (ahead_ms != 0 ? ahead_ms : -10'000);
    d.sequence = ++sequence;
    std::vector<std::vector<Recipient>> recipients;
    for (const auto& [label, nodes] : sections) {
      d.sections.push_back({policy::normalized(label), to_bytes("section for " + topic)});
      recipients.push_back(to(nodes));
    }
    auto built = report::build_report_to(d, originator, signing_key_of(originator), recipients);
    INFO(built.status().to_string());
    REQUIRE(built);
    return built->bytes;
  }

  // `broker`'s acceptance receipt for `bytes` as its seq `seq`.
  Bytes receipt(const Bytes& bytes, const std::string& broker = "dea-broker", std::uint64_t seq = kSeq,
                std::int64_t accepted_ms = 0) const {
    v1::Report r;
    REQUIRE(r.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())));
    const std::int64_t at = accepted_ms != 0 ? accepted_ms : SystemClock::instance().now_ms();
    const crypto::SigningKey key = broker == "tearline-broker"
                                       ? std::move(crypto::read_broker_keys(pki.broker_key()).value().audit)
                                       : signing_key_of(broker);
    return receipt::sign_acceptance(broker, key, seq, {receipt::report_digest(r)}, at).front();
  }

  Result<federation::Arrival> check(const Bytes& bytes, const Bytes& witness, std::uint64_t seq = kSeq,
                                    std::string_view writer = {}, const Bytes& path = {}) const {
    return federation::check_arrival(boundary, {seq, ByteView(bytes), ByteView(witness), ByteView(path), writer},
                                     *directory, now_s());
  }
};

policy::Label label(identity::Classification c, std::vector<std::string> releasable) {
  return policy::Label{c, std::move(releasable), {}, false};
}

const std::vector<std::string> kDiran = {"diran-bogota-hq", "diran-cucuta-analyst"};
const std::vector<std::string> kDea = {"dea-bogota-analyst"};

std::vector<Code> codes_of(const Status& s) {
  std::vector<Code> out;
  for (const auto& r : s.reasons()) out.push_back(r.code);
  return out;
}

}  // namespace

TEST_CASE("arrival: a copy within the peering is taken, at the partner broker's acceptance time", "[federation]") {
  World w;
  const Bytes r =
      w.report("dea-bogota-analyst", "intel.finance.cartel", {{label(v1::CONFIDENTIAL, {"COL", "USA"}), kDiran}});
  const std::int64_t accepted = SystemClock::instance().now_ms() - 5000;
  auto got = w.check(r, w.receipt(r, "dea-broker", kSeq, accepted));
  INFO(got.status().to_string());
  REQUIRE(got);
  CHECK(got->accepted_ms == accepted);
  CHECK(got->report.originator.node_id == "dea-bogota-analyst");
  CHECK(got->report.withheld_count() == 0);
  v1::CrossingPath path;
  REQUIRE(path.ParseFromArray(got->path.data(), static_cast<int>(got->path.size())));
  REQUIRE(path.receipts_size() == 1);
  CHECK(to_bytes(path.receipts(0)) == w.receipt(r, "dea-broker", kSeq, accepted));

  SECTION("a copy with a section torn off upstream is taken: it verifies by its commitment") {
    const Bytes two = w.report("dea-bogota-analyst", "intel.finance.cartel",
                               {{label(v1::CONFIDENTIAL, {"COL", "USA"}), kDiran}, {label(v1::SECRET, {"USA"}), kDea}});
    v1::Report parsed;
    REQUIRE(parsed.ParseFromArray(two.data(), static_cast<int>(two.size())));
    const std::string torn = report::redact(parsed, {true, false}).SerializeAsString();
    const Bytes torn_bytes = to_bytes(torn);
    auto taken = w.check(torn_bytes, w.receipt(two));
    INFO(taken.status().to_string());
    REQUIRE(taken);
    CHECK(taken->report.withheld_count() == 1);
  }
}

TEST_CASE("arrival: the partner broker's receipt must verify for this seq and be the peering's broker's",
          "[federation]") {
  World w;
  const Bytes r =
      w.report("dea-bogota-analyst", "intel.finance.cartel", {{label(v1::CONFIDENTIAL, {"COL", "USA"}), kDiran}});
  CHECK(w.check(r, {}).code() == Code::RECEIPT_INVALID);
  CHECK(w.check(r, w.receipt(r), kSeq + 1).code() == Code::RECEIPT_INVALID);
  // Our own broker is no witness of what DEA's accepted.
  CHECK(w.check(r, w.receipt(r, "tearline-broker")).code() == Code::RECEIPT_INVALID);
  // A DEA node that is not the peering's broker.
  CHECK(w.check(r, w.receipt(r, "dea-bogota-analyst")).code() == Code::RECEIPT_INVALID);
  // A copy of another stream of the partner's store: its writer's receipt.
  CHECK(w.check(r, w.receipt(r, "dea-broker-2"), kSeq, "dea-broker-2"));
  CHECK(w.check(r, w.receipt(r, "dea-broker"), kSeq, "dea-broker-2").code() == Code::RECEIPT_INVALID);
  CHECK(w.check(r, w.receipt(r, "tearline-broker"), kSeq, "tearline-broker").code() == Code::RECEIPT_INVALID);
  CHECK(w.check(r, w.receipt(r, "dea-bogota-analyst"), kSeq, "dea-bogota-analyst").code() == Code::RECEIPT_INVALID);
  // A receipt for another report.
  const Bytes other =
      w.report("dea-bogota-analyst", "intel.finance.other", {{label(v1::CONFIDENTIAL, {"COL", "USA"}), kDiran}});
  CHECK(w.check(r, w.receipt(other)).code() == Code::RECEIPT_INVALID);
}

TEST_CASE("arrival: created-at within the window of the partner's acceptance, which is not in our future",
          "[federation]") {
  World w;
  const Bytes r =
      w.report("dea-bogota-analyst", "intel.finance.cartel", {{label(v1::CONFIDENTIAL, {"COL", "USA"}), kDiran}});
  const std::int64_t now_ms = SystemClock::instance().now_ms();
  // The report was created 10 s ago (World::report).
  CHECK(w.check(r, w.receipt(r, "dea-broker", kSeq, now_ms + 301'000)).code() == Code::STALE_REPORT);
  CHECK(w.check(r, w.receipt(r, "dea-broker", kSeq, now_ms - 320'000)).code() == Code::FUTURE_REPORT);
  // Within the window of its created-at, and in our future beyond the window.
  const Bytes ahead = w.report("dea-bogota-analyst", "intel.finance.cartel",
                               {{label(v1::CONFIDENTIAL, {"COL", "USA"}), kDiran}}, 600'000);
  CHECK(w.check(ahead, w.receipt(ahead, "dea-broker", kSeq, now_ms + 600'000)).code() == Code::FUTURE_REPORT);
  CHECK(w.check(r, w.receipt(r, "dea-broker", kSeq, now_ms - 290'000)));
}

TEST_CASE("path: each hop a broker's acceptance of this very report, each broker once", "[federation]") {
  World w;
  const Bytes r =
      w.report("dea-bogota-analyst", "intel.finance.cartel", {{label(v1::CONFIDENTIAL, {"COL", "USA"}), kDiran}});
  const Bytes other =
      w.report("dea-bogota-analyst", "intel.finance.other", {{label(v1::CONFIDENTIAL, {"COL", "USA"}), kDiran}});
  v1::Report parsed;
  REQUIRE(parsed.ParseFromArray(r.data(), static_cast<int>(r.size())));
  const crypto::Digest digest = receipt::report_digest(parsed);
  auto path_of = [](const std::vector<Bytes>& receipts) {
    v1::CrossingPath p;
    for (const auto& b : receipts) p.add_receipts(to_string(b));
    return to_bytes(p.SerializeAsString());
  };
  auto verify = [&](const Bytes& path) { return receipt::verify_path(path, digest, *w.directory); };

  CHECK(verify({})->empty());  // published to the delivering broker
  const std::int64_t t0 = SystemClock::instance().now_ms() - 5000;
  auto two = verify(path_of({w.receipt(r, "dea-broker", 7, t0), w.receipt(r, "tearline-broker", 9, t0 + 2000)}));
  INFO(two.status().to_string());
  REQUIRE(two);
  REQUIRE(two->size() == 2);
  CHECK((*two)[0].broker_id == "dea-broker");
  CHECK((*two)[0].seq == 7);
  CHECK((*two)[0].accepted_ms == t0);
  CHECK((*two)[1].broker_id == "tearline-broker");

  // A stamp moved from another report, a broker twice, a node that is no
  // broker, too many hops, bytes that are no path: RECEIPT_INVALID.
  CHECK(verify(path_of({w.receipt(other)})).code() == Code::RECEIPT_INVALID);
  CHECK(verify(path_of({w.receipt(r), w.receipt(r, "dea-broker", 8)})).code() == Code::RECEIPT_INVALID);
  CHECK(verify(path_of({w.receipt(r, "dea-bogota-analyst")})).code() == Code::RECEIPT_INVALID);
  std::vector<Bytes> many(receipt::kMaxPathHops + 1, w.receipt(r));
  CHECK(verify(path_of(many)).code() == Code::RECEIPT_INVALID);
  CHECK(verify(to_bytes("not a path")).code() == Code::RECEIPT_INVALID);
  // Times that go back along the path.
  CHECK(verify(path_of({w.receipt(r, "dea-broker", 7, t0 + 2000), w.receipt(r, "tearline-broker", 9, t0)})).code() ==
        Code::RECEIPT_INVALID);

  // What a node asks of the path of a report it receives (client::open_delivered).
  const Bytes one = path_of({w.receipt(r, "dea-broker", 7, t0)});
  auto ask = [&](std::string_view originator_agency, std::string_view home, std::optional<std::int64_t> delivered) {
    receipt::PathCheck check;
    check.originator_agency = originator_agency;
    check.home_agency = home;
    check.delivered_ms = delivered;
    return receipt::verify_path(one, digest, *w.directory, check);
  };
  CHECK(ask("DEA", "DIRAN", t0 + 1000));
  CHECK(ask("DIRAN", "", {}).code() == Code::RECEIPT_INVALID);         // not the originator's agency's broker
  CHECK(ask("DEA", "DEA", {}).code() == Code::RECEIPT_INVALID);        // a broker of the node's own agency
  CHECK(ask("DEA", "DIRAN", t0 - 1).code() == Code::RECEIPT_INVALID);  // accepted after the delivering broker
}

TEST_CASE("arrival: the report is verified again, never taken on the partner's word", "[federation]") {
  World w;
  const Bytes r =
      w.report("dea-bogota-analyst", "intel.finance.cartel", {{label(v1::CONFIDENTIAL, {"COL", "USA"}), kDiran}});
  v1::Report parsed;
  REQUIRE(parsed.ParseFromArray(r.data(), static_cast<int>(r.size())));
  SECTION("a sealed section changed in transit") {
    std::string* sealed = parsed.mutable_sections(0)->mutable_sealed()->mutable_ciphertext();
    REQUIRE(!sealed->empty());
    (*sealed)[sealed->size() / 2] = static_cast<char>((*sealed)[sealed->size() / 2] ^ 0x01);
    const Bytes bad = to_bytes(parsed.SerializeAsString());
    CHECK(w.check(bad, w.receipt(r)).code() == Code::COMMITMENT_MISMATCH);
  }
  SECTION("the originator's signature changed") {
    std::string* sig = parsed.mutable_signature();
    REQUIRE(!sig->empty());
    (*sig)[0] = static_cast<char>((*sig)[0] ^ 0x01);
    const Bytes bad = to_bytes(parsed.SerializeAsString());
    CHECK(w.check(bad, w.receipt(bad)).code() == Code::REPORT_SIGNATURE);
  }
}

TEST_CASE("arrival: a report of our own agency is a loop; one of a third agency is transit", "[federation]") {
  World w;
  const Bytes ours =
      w.report("diran-bogota-hq", "intel.finance.cartel", {{label(v1::CONFIDENTIAL, {"COL", "USA"}), kDiran}});
  CHECK(codes_of(w.check(ours, w.receipt(ours)).status()) == std::vector<Code>{Code::CROSSING_LOOP});
  const Bytes third =
      w.report("fgr-liaison", "intel.finance.cartel", {{label(v1::CONFIDENTIAL, {"COL", "MEX", "USA"}), kDiran}});
  const Status transit = w.check(third, w.receipt(third)).status();
  CHECK(codes_of(transit) == std::vector<Code>{Code::NO_PEERING});
  CHECK(transit.to_string().find("it names no path") != std::string::npos);
  // DEA's own report, with a path before DEA's broker: transit too.
  const Bytes theirs =
      w.report("dea-bogota-analyst", "intel.finance.cartel", {{label(v1::CONFIDENTIAL, {"COL", "USA"}), kDiran}});
  v1::CrossingPath before;
  before.add_receipts(to_string(w.receipt(theirs, "dea-broker-2")));
  const Status passed = w.check(theirs, w.receipt(theirs), kSeq, {}, to_bytes(before.SerializeAsString())).status();
  CHECK(codes_of(passed) == std::vector<Code>{Code::NO_PEERING});
}

TEST_CASE("arrival: each rule of the direction towards us, with its exact code", "[federation]") {
  World w;
  const policy::Label ok = label(v1::CONFIDENTIAL, {"COL", "USA"});
  SECTION("a topic the direction does not carry") {
    const Bytes r = w.report("dea-bogota-analyst", "intel.routes.north", {{ok, kDiran}});
    CHECK(codes_of(w.check(r, w.receipt(r)).status()) == std::vector<Code>{Code::PEERING_TOPIC});
  }
  SECTION("a section above the ceiling, and one not releasable to COL, each named") {
    const Bytes r = w.report("dea-bogota-analyst", "intel.finance.cartel",
                             {{ok, kDiran},
                              {label(v1::TOP_SECRET, {"COL", "USA"}), {"diran-cucuta-commander"}},
                              {label(v1::CONFIDENTIAL, {"USA"}), kDiran}});
    const Status s = w.check(r, w.receipt(r)).status();
    REQUIRE(codes_of(s).size() >= 2);
    CHECK(s.has(Code::ABOVE_PEERING_CEILING));
    CHECK(s.has(Code::COUNTRY_NOT_RELEASABLE));
    CHECK(s.to_string().find("section 2: ") != std::string::npos);
    CHECK(s.to_string().find("section 3: ") != std::string::npos);
    CHECK(s.to_string().find("section 1: ") == std::string::npos);
  }
  SECTION("a section sealed to none of ours") {
    const Bytes r = w.report("dea-bogota-analyst", "intel.finance.cartel", {{ok, kDiran}, {ok, kDea}});
    const Status s = w.check(r, w.receipt(r)).status();
    CHECK(codes_of(s) == std::vector<Code>{Code::NOT_ADDRESSED});
    CHECK(s.to_string().find("section 2: ") != std::string::npos);
  }
  SECTION("accepted by the partner before the peering began") {
    const Bytes r = w.report("dea-bogota-analyst", "intel.finance.cartel", {{ok, kDiran}});
    w.boundary.since = now_s() - 60;
    const std::int64_t before = (now_s() - 120) * 1000;
    CHECK(codes_of(w.check(r, w.receipt(r, "dea-broker", kSeq, before)).status()) ==
          std::vector<Code>{Code::NO_PEERING});
  }
  SECTION("every section torn off upstream: nothing here to open") {
    const Bytes r = w.report("dea-bogota-analyst", "intel.finance.cartel", {{ok, kDiran}});
    v1::Report parsed;
    REQUIRE(parsed.ParseFromArray(r.data(), static_cast<int>(r.size())));
    const Bytes torn = to_bytes(report::redact(parsed, {false}).SerializeAsString());
    CHECK(codes_of(w.check(torn, w.receipt(r)).status()) == std::vector<Code>{Code::NOT_ADDRESSED});
  }
}

TEST_CASE(
    "arrival: a report in transit: its path verified, its first hop the originator's agency, no loop, "
    "within the hop limit",
    "[federation]") {
  World w;
  const std::int64_t t0 = SystemClock::instance().now_ms() - 5000;
  const Bytes fgr =
      w.report("fgr-liaison", "intel.finance.cartel", {{label(v1::CONFIDENTIAL, {"COL", "MEX", "USA"}), kDiran}});
  auto path_of = [](const std::vector<Bytes>& receipts) {
    v1::CrossingPath p;
    for (const auto& r : receipts) p.add_receipts(to_string(r));
    return to_bytes(p.SerializeAsString());
  };
  const Bytes delivered = w.receipt(fgr, "dea-broker", kSeq, t0 + 2000);
  // FGR's broker accepted it, DEA's passed it on to us: taken, the path grows.
  auto got = w.check(fgr, delivered, kSeq, {}, path_of({w.receipt(fgr, "fgr-broker-1", 3, t0)}));
  INFO(got.status().to_string());
  REQUIRE(got);
  v1::CrossingPath stored;
  REQUIRE(stored.ParseFromArray(got->path.data(), static_cast<int>(got->path.size())));
  REQUIRE(stored.receipts_size() == 2);
  CHECK(to_bytes(stored.receipts(0)) == w.receipt(fgr, "fgr-broker-1", 3, t0));
  CHECK(to_bytes(stored.receipts(1)) == delivered);
  // The first hop must be of the originator's agency.
  CHECK(codes_of(w.check(fgr, delivered, kSeq, {}, path_of({w.receipt(fgr, "fudra-broker", 3, t0)})).status()) ==
        std::vector<Code>{Code::RECEIPT_INVALID});
  CHECK(codes_of(w.check(fgr, delivered, kSeq, {}, path_of({w.receipt(fgr, "dea-broker-2", 3, t0)})).status()) ==
        std::vector<Code>{Code::CROSSING_LOOP});  // DEA before DEA: round again
  const Bytes fgr_by_diran = w.receipt(fgr, "tearline-broker", 3, t0);
  CHECK(codes_of(w.check(fgr, delivered, kSeq, {}, path_of({fgr_by_diran})).status()) ==
        std::vector<Code>{Code::CROSSING_LOOP});  // through our own agency before
  // A hop that does not verify, or accepted after the partner: RECEIPT_INVALID.
  const Bytes other =
      w.report("fgr-liaison", "intel.finance.other", {{label(v1::CONFIDENTIAL, {"COL", "MEX"}), kDiran}});
  CHECK(codes_of(w.check(fgr, delivered, kSeq, {}, path_of({w.receipt(other, "fgr-broker-1", 3, t0)})).status()) ==
        std::vector<Code>{Code::RECEIPT_INVALID});
  CHECK(codes_of(w.check(fgr, delivered, kSeq, {}, path_of({w.receipt(fgr, "fgr-broker-1", 3, t0 + 3000)})).status()) ==
        std::vector<Code>{Code::RECEIPT_INVALID});
  // Past the first hop: none of ours, no agency twice.
  CHECK(codes_of(w.check(fgr, delivered, kSeq, {},
                         path_of({w.receipt(fgr, "fgr-broker-1", 3, t0), w.receipt(fgr, "tearline-broker", 4, t0 + 1)}))
                     .status()) == std::vector<Code>{Code::CROSSING_LOOP});
  CHECK(codes_of(w.check(fgr, delivered, kSeq, {},
                         path_of({w.receipt(fgr, "fgr-broker-1", 3, t0), w.receipt(fgr, "fudra-broker", 4, t0 + 1),
                                  w.receipt(fgr, "fgr-broker-2", 5, t0 + 2)}))
                     .status()) == std::vector<Code>{Code::CROSSING_LOOP});
  // Seven hops before DEA's broker: the path here names eight, the limit; eight: HOP_LIMIT.
  std::vector<Bytes> hops{w.receipt(fgr, "fgr-broker-1", 3, t0), w.receipt(fgr, "fudra-broker", 3, t0 + 1)};
  for (const char* b : {"per-broker", "ecu-broker", "bra-broker", "pan-broker", "gbr-broker"}) {
    hops.push_back(w.receipt(fgr, b, 3, t0 + static_cast<std::int64_t>(hops.size())));
  }
  auto seven = w.check(fgr, delivered, kSeq, {}, path_of(hops));
  INFO(seven.status().to_string());
  CHECK(seven);
  hops.push_back(w.receipt(fgr, "esp-broker", 3, t0 + 8));
  CHECK(codes_of(w.check(fgr, delivered, kSeq, {}, path_of(hops)).status()) == std::vector<Code>{Code::HOP_LIMIT});
  // Created-at and the originator's standing are judged at the earliest
  // acceptance: ten minutes after it, the partner's own acceptance is far
  // outside the window from created-at, and the copy is still taken.
  const std::int64_t now_ms = SystemClock::instance().now_ms();
  const Bytes early = w.report("fgr-liaison", "intel.finance.cartel",
                               {{label(v1::CONFIDENTIAL, {"COL", "MEX", "USA"}), kDiran}}, -610'000);
  auto late = w.check(early, w.receipt(early, "dea-broker", kSeq, now_ms), kSeq, {},
                      path_of({w.receipt(early, "fgr-broker-1", 3, now_ms - 600'000)}));
  INFO(late.status().to_string());
  CHECK(late);
  const Bytes early_dea = w.report("dea-bogota-analyst", "intel.finance.cartel",
                                   {{label(v1::CONFIDENTIAL, {"COL", "USA"}), kDiran}}, -610'000);
  CHECK(codes_of(w.check(early_dea, w.receipt(early_dea, "dea-broker", kSeq, now_ms)).status()) ==
        std::vector<Code>{Code::STALE_REPORT});  // no path: judged at the partner's acceptance
  // The direction towards us still judges what crossed: a topic it does not carry.
  const Bytes routes =
      w.report("fgr-liaison", "intel.routes.north", {{label(v1::CONFIDENTIAL, {"COL", "MEX", "USA"}), kDiran}});
  CHECK(codes_of(w.check(routes, w.receipt(routes, "dea-broker", kSeq, t0 + 2000), kSeq, {},
                         path_of({w.receipt(routes, "fgr-broker-1", 3, t0)}))
                     .status()) == std::vector<Code>{Code::PEERING_TOPIC});
}

}  // namespace tearline::arrival_test
