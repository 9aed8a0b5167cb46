// Report format 2: the batch tree, batch signatures and the root cache, the
// attacks on them (docs/report-format.md "Batches"), and format 1 still
// verifying.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "base/canonical_proto.h"
#include "crypto/key_file.h"
#include "crypto/signing.h"
#include "report/batch.h"
#include "report/builder.h"
#include "report/format.h"
#include "report/root_cache.h"
#include "report/verify.h"
#include "report_test_helpers.h"
#include "support/demo_world.h"

using namespace tearline;
using tearline::testing::DemoWorld;
using tearline::testing::kCommander;
using tearline::testing::kDemoNow;
using tearline::testing::keys_of;
namespace v1 = tearline::v1;

namespace {

std::vector<report::ReportDraft> drafts(int n) {
  std::vector<report::ReportDraft> out;
  for (int i = 0; i < n; ++i) {
    report::ReportDraft d;
    d.topic = "narco.seizures.cucuta";
    d.created_at_ms = kDemoNow * 1000 + i;
    d.sequence = static_cast<std::uint64_t>(i) + 1;
    d.sections.push_back(
        {policy::Label{v1::SECRET, {"COL"}, {"cucuta-jtf"}, false}, to_bytes("informant detail " + std::to_string(i))});
    d.sections.push_back({policy::Label{v1::CONFIDENTIAL, {"COL", "USA"}, {"cucuta-jtf"}, false},
                          to_bytes("seizure " + std::to_string(i))});
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<report::BuiltReport> batch_of(int n, const std::string& originator = kCommander,
                                          const std::string& signer = kCommander) {
  auto built = report::build_batch(drafts(n), originator, keys_of(signer).signing, *DemoWorld::get().directory(), {});
  REQUIRE(built.is_ok());
  return std::move(built).value();
}

Code verify_code(const v1::Report& r, report::RootCache* roots = nullptr) {
  report::VerifyOptions options;
  options.roots = roots;
  auto v = report::verify_report(serialize_canonical(r), *DemoWorld::get().directory(), options);
  return v.is_ok() ? Code::OK : v.code();
}

crypto::Digest digest_of(std::uint8_t i) {
  crypto::Digest d{};
  d[0] = i;
  return d;
}

std::vector<ByteView> views(const std::vector<crypto::Digest>& path) {
  std::vector<ByteView> out;
  out.reserve(path.size());
  for (const auto& d : path) out.emplace_back(d.data(), d.size());
  return out;
}

}  // namespace

TEST_CASE("batch tree: every leaf of every size up to 64 leads to the root, and only by its own path") {
  for (std::size_t n = 1; n <= report::kMaxBatch; ++n) {
    std::vector<crypto::Digest> leaves;
    leaves.reserve(n);
    for (std::size_t i = 0; i < n; ++i) leaves.push_back(digest_of(static_cast<std::uint8_t>(i)));
    const crypto::Digest root = report::batch_root(leaves);
    for (std::size_t i = 0; i < n; ++i) {
      INFO("leaf " << i << " of " << n);
      auto path = report::batch_path(leaves, i);
      CHECK(path.size() <= report::kMaxPathLength);
      auto got = report::root_from_path(leaves[i], i, n, views(path));
      REQUIRE(got.has_value());
      CHECK(*got == root);
      if (!path.empty()) {
        auto shorter = path;
        shorter.pop_back();
        CHECK_FALSE(report::root_from_path(leaves[i], i, n, views(shorter)).has_value());
      }
      auto longer = path;
      longer.push_back(digest_of(200));
      CHECK_FALSE(report::root_from_path(leaves[i], i, n, views(longer)).has_value());
      // Another leaf's index with this path never reaches the root.
      const std::size_t other = (i + 1) % n;
      if (other != i) {
        auto wrong = report::root_from_path(leaves[i], other, n, views(path));
        CHECK((!wrong.has_value() || *wrong != root));
      }
    }
  }
  CHECK_FALSE(report::root_from_path(digest_of(0), 0, 0, {}).has_value());
  CHECK_FALSE(report::root_from_path(digest_of(0), 1, 1, {}).has_value());
  CHECK_FALSE(report::root_from_path(digest_of(0), 0, report::kMaxBatch + 1, {}).has_value());
  CHECK(report::batch_root({digest_of(1)}) == digest_of(1));
}

TEST_CASE("a batch verifies report by report; the root cache makes the rest cost hashes only") {
  const auto batch = batch_of(5);
  report::RootCache roots;
  for (const auto& b : batch) {
    CHECK(b.report.batch().leaf_count() == 5);
    CHECK(b.report.signature() == batch.front().report.signature());
    CHECK(verify_code(b.report, &roots) == Code::OK);
  }
  CHECK(roots.verifies() == 1);
  CHECK(roots.hits() == 4);
  // A redacted copy has the same leaf: it verifies, and from the cache.
  CHECK(verify_code(report::redact(batch[2].report, {false, true}), &roots) == Code::OK);
  CHECK(roots.hits() == 5);
  // Without a cache every report still verifies on its own.
  for (const auto& b : batch) CHECK(verify_code(b.report) == Code::OK);
}

TEST_CASE("batch attacks are refused with their reason") {
  const auto batch = batch_of(3);
  const auto other = batch_of(3);
  report::RootCache roots;
  // Plant the genuine roots first: an attack must fail even with them cached.
  for (const auto& b : batch) REQUIRE(verify_code(b.report, &roots) == Code::OK);

  SECTION("wrong leaf index") {
    v1::Report r = batch[0].report;
    r.mutable_batch()->set_leaf_index(1);  // same path length, another position
    CHECK(verify_code(r, &roots) == Code::REPORT_SIGNATURE);
    r.mutable_batch()->set_leaf_index(2);  // needs a shorter path
    CHECK(verify_code(r, &roots) == Code::REPORT_MALFORMED);
    r.mutable_batch()->set_leaf_index(3);  // outside the batch
    CHECK(verify_code(r, &roots) == Code::REPORT_MALFORMED);
  }
  SECTION("swapped siblings") {
    v1::Report r = batch[0].report;
    REQUIRE(r.batch().path_size() == 2);
    const std::string a = r.batch().path(0);
    r.mutable_batch()->set_path(0, r.batch().path(1));
    r.mutable_batch()->set_path(1, a);
    CHECK(verify_code(r, &roots) == Code::REPORT_SIGNATURE);
  }
  SECTION("a path too long or too short") {
    v1::Report longer = batch[2].report;
    longer.mutable_batch()->add_path(std::string(32, 'x'));
    CHECK(verify_code(longer, &roots) == Code::REPORT_MALFORMED);
    v1::Report shorter = batch[0].report;
    shorter.mutable_batch()->mutable_path()->RemoveLast();
    CHECK(verify_code(shorter, &roots) == Code::REPORT_MALFORMED);
    v1::Report bad_entry = batch[0].report;
    bad_entry.mutable_batch()->set_path(0, std::string(31, 'x'));
    CHECK(verify_code(bad_entry, &roots) == Code::REPORT_MALFORMED);
    v1::Report seven = batch[0].report;
    for (int i = 0; i < 5; ++i) seven.mutable_batch()->add_path(std::string(32, 'y'));
    CHECK(verify_code(seven, &roots) == Code::REPORT_MALFORMED);
  }
  SECTION("a leaf moved to another batch") {
    v1::Report r = batch[1].report;
    *r.mutable_batch() = other[1].report.batch();
    r.set_signature(other[1].report.signature());
    CHECK(verify_code(r, &roots) == Code::REPORT_SIGNATURE);
  }
  SECTION("a root signed by another node") {
    const auto forged = batch_of(3, kCommander, "diran-cucuta-analyst");
    for (const auto& f : forged) CHECK(verify_code(f.report, &roots) == Code::REPORT_SIGNATURE);
  }
  SECTION("a cache entry cannot be planted with an unsigned or another originator's root") {
    const std::size_t before = roots.size();
    // Unsigned: a statement for a root nobody signed never enters the cache.
    v1::Report unsigned_root = batch[0].report;
    unsigned_root.set_signature(std::string(64, '\0'));
    CHECK(verify_code(unsigned_root, &roots) == Code::REPORT_SIGNATURE);
    // Another originator's genuine batch, relabelled as the commander's: the
    // statement names the originator, so the analyst's cached root is no use.
    const auto analyst = batch_of(1, "diran-cucuta-analyst", "diran-cucuta-analyst");
    REQUIRE(verify_code(analyst[0].report, &roots) == Code::OK);
    v1::Report relabelled = batch[0].report;
    *relabelled.mutable_batch() = analyst[0].report.batch();
    relabelled.set_signature(analyst[0].report.signature());
    CHECK(verify_code(relabelled, &roots) == Code::REPORT_SIGNATURE);
    CHECK(roots.size() == before + 1);  // only the analyst's genuine root
    // Directly: check() refuses and remembers nothing for a bad signature.
    const auto key = keys_of(kCommander).signing.public_key();
    const Bytes statement = report::batch_statement(kCommander, as_bytes(std::string(16, 'b')), 1, digest_of(9));
    CHECK_FALSE(roots.check(kCommander, key, statement, as_bytes(std::string(64, 's'))));
    CHECK_FALSE(roots.check(kCommander, key, statement, as_bytes(std::string(64, 's'))));
    CHECK(roots.size() == before + 1);
  }
  SECTION("leaf count changed: the signed count no longer matches") {
    v1::Report r = batch[2].report;
    r.mutable_batch()->set_leaf_count(2);  // index 2 is outside a batch of 2
    CHECK(verify_code(r, &roots) == Code::REPORT_MALFORMED);
    v1::Report four = batch[2].report;
    four.mutable_batch()->set_leaf_count(4);  // index 2 of 4 needs two entries
    four.mutable_batch()->add_path(std::string(32, 'z'));
    CHECK(verify_code(four, &roots) == Code::REPORT_SIGNATURE);
  }
  SECTION("a format 2 report without its proof, or a format 1 report with one") {
    v1::Report r = batch[0].report;
    r.clear_batch();
    CHECK(verify_code(r, &roots) == Code::REPORT_MALFORMED);
  }
}

TEST_CASE("replays of one report of a batch are the same bytes: a verifier accepts them, the broker's guard refuses") {
  // Verification is stateless; replay refusal is the broker's (ReplayGuard,
  // test_replay_guard and the broker e2e test). Here: a replayed copy is
  // byte-identical, so it cannot pass as another report of the batch.
  const auto batch = batch_of(2);
  v1::Report copy = batch[1].report;
  CHECK(serialize_canonical(copy) == batch[1].bytes);
  v1::ReportHeader h;
  REQUIRE(h.ParseFromString(copy.header()));
  h.set_sequence(h.sequence() + 10);  // a replay with a fresh sequence breaks the leaf
  copy.set_header(serialize_canonical(h).data(), serialize_canonical(h).size());
  CHECK(verify_code(copy) == Code::REPORT_SIGNATURE);
}

TEST_CASE("format 1 reports are still verified, never built unless asked") {
  report::BuildOptions v1_format;
  v1_format.format_version = report::kReportFormatV1;
  auto built =
      report::build_batch(drafts(2), kCommander, keys_of(kCommander).signing, *DemoWorld::get().directory(), v1_format);
  REQUIRE(built.is_ok());
  for (const auto& b : *built) {
    CHECK_FALSE(b.report.has_batch());
    CHECK(verify_code(b.report) == Code::OK);
    CHECK(verify_code(report::redact(b.report, {false, true})) == Code::OK);
    v1::Report with_proof = b.report;
    *with_proof.mutable_batch() = batch_of(1).front().report.batch();
    CHECK(verify_code(with_proof) == Code::REPORT_MALFORMED);
  }
  report::BuildOptions v3;
  v3.format_version = 3;
  CHECK(report::build_batch(drafts(1), kCommander, keys_of(kCommander).signing, *DemoWorld::get().directory(), v3)
            .code() == Code::REPORT_VERSION);
  CHECK(report::build_batch(drafts(0), kCommander, keys_of(kCommander).signing, *DemoWorld::get().directory()).code() ==
        Code::INVALID_FIELD);
  CHECK(
      report::build_batch(drafts(65), kCommander, keys_of(kCommander).signing, *DemoWorld::get().directory()).code() ==
      Code::INVALID_FIELD);
}

TEST_CASE("root cache: bounded per originator and in originators, least recently used evicted") {
  report::RootCache roots(/*max_originators=*/2, /*roots_per_originator=*/2);
  const auto key = keys_of(kCommander).signing;
  auto statement = [&](std::uint8_t i) {
    return report::batch_statement(kCommander, as_bytes(std::string(16, 'b')), 1, digest_of(i));
  };
  auto sig = [&](const Bytes& s) {
    auto g = crypto::sign(key, crypto::tags::kReportBatch, s);
    return Bytes(g.begin(), g.end());
  };
  const Bytes s1 = statement(1), s2 = statement(2), s3 = statement(3);
  CHECK(roots.check(kCommander, key.public_key(), s1, sig(s1)));
  CHECK(roots.check(kCommander, key.public_key(), s2, sig(s2)));
  CHECK(roots.check(kCommander, key.public_key(), s1, sig(s1)));  // hit: s1 now most recent
  CHECK(roots.hits() == 1);
  CHECK(roots.check(kCommander, key.public_key(), s3, sig(s3)));  // evicts s2
  CHECK(roots.size() == 2);
  CHECK(roots.check(kCommander, key.public_key(), s2, sig(s2)));
  CHECK(roots.verifies() == 4);
  // Other originators push out the least recently used one.
  const auto analyst = keys_of("diran-cucuta-analyst").signing;
  const Bytes a = report::batch_statement("diran-cucuta-analyst", as_bytes(std::string(16, 'a')), 1, digest_of(1));
  const auto asig = crypto::sign(analyst, crypto::tags::kReportBatch, a);
  CHECK(roots.check("diran-cucuta-analyst", analyst.public_key(), a, ByteView(asig.data(), asig.size())));
  CHECK(roots.check("x-third", analyst.public_key(), a, ByteView(asig.data(), asig.size())));
  CHECK(roots.size() == 2);  // the commander's two roots are gone
  // A signature verified for one key is not a hit under another.
  CHECK_FALSE(roots.check("x-third", key.public_key(), a, ByteView(asig.data(), asig.size())));
}

TEST_CASE("root cache: verifier threads share one cache (run under TSan by make tsan)") {
  const auto batch = batch_of(8);
  report::RootCache roots(4, 2);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 20; ++round) {
        for (std::size_t i = 0; i < batch.size(); ++i) {
          const auto& b = batch[(i + static_cast<std::size_t>(t)) % batch.size()];
          if (verify_code(b.report, &roots) != Code::OK) failures++;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures.load() == 0);
  CHECK(roots.hits() + roots.verifies() == std::uint64_t{640});  // 4 threads x 20 rounds x 8 reports
  CHECK(roots.verifies() >= 1);
  CHECK(roots.size() == 1);
}

TEST_CASE("an unknown field at any depth of a report is REPORT_MALFORMED") {
  const auto batch = batch_of(2);
  // Each adds field 15 (varint 1) to one message's unknown-field set.
  using Mutate = void (*)(v1::Report&);
  const std::vector<std::pair<const char*, Mutate>> places = {
      {"report", [](v1::Report& r) { r.GetReflection()->MutableUnknownFields(&r)->AddVarint(15, 1); }},
      {"section entry",
       [](v1::Report& r) {
         r.mutable_sections(0)->GetReflection()->MutableUnknownFields(r.mutable_sections(0))->AddVarint(15, 1);
       }},
      {"sealed section",
       [](v1::Report& r) {
         auto* m = r.mutable_sections(1)->mutable_sealed();
         m->GetReflection()->MutableUnknownFields(m)->AddVarint(15, 1);
       }},
      {"key wrap",
       [](v1::Report& r) {
         auto* m = r.mutable_sections(1)->mutable_sealed()->mutable_wraps(0);
         m->GetReflection()->MutableUnknownFields(m)->AddVarint(15, 1);
       }},
      {"batch proof",
       [](v1::Report& r) {
         r.mutable_batch()->GetReflection()->MutableUnknownFields(r.mutable_batch())->AddVarint(15, 1);
       }},
  };
  for (const auto& [where, mutate] : places) {
    INFO(where);
    v1::Report r = batch[1].report;
    mutate(r);
    CHECK(verify_code(r) == Code::REPORT_MALFORMED);
  }
  CHECK(verify_code(batch[1].report) == Code::OK);
}
