// Known-answer vectors for report format 2 (docs/report-format.md "Batches"):
// a batch of one, a batch of three and a redacted copy of the batch's second
// report. Keys, ids, salts, nonces, content keys and the batch ids come from
// the fixed seeds and counting rng of report_kat_world.h, so everything but
// the key wraps (crypto_box_seal draws its own ephemeral key) is reproduced
// here; the stored reports pin the wraps. Each batch starts its own rng at
// counter 0 and draws, report by report, the report id (16) and per section
// salt (32), nonce (24), content key (32); then the batch id (16).
//
// Regenerate (only when the format changes):
//   TEARLINE_WRITE_VECTORS=1 ./test_report_vector
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <map>

#include "crypto/signing.h"
#include "report/batch.h"
#include "report/format.h"
#include "report/verify.h"
#include "report_kat_world.h"

using namespace tearline;
using namespace tearline::testing::kat;

namespace {

const std::string kV2Path = std::string(TEARLINE_SOURCE_DIR) + "/tests/vectors/report_v2.txt";

std::vector<std::vector<report::Recipient>> recipients(const World& w) {
  return {{{"kat-originator", w.sealing.public_key()}},
          {{"kat-originator", w.sealing.public_key()}, {"kat-reader", w.reader.public_key()}}};
}

std::vector<report::ReportDraft> drafts(const World& w, int n) {
  std::vector<report::ReportDraft> out;
  for (int i = 0; i < n; ++i) {
    report::ReportDraft d = w.draft();
    d.sequence = static_cast<std::uint64_t>(i) + 1;
    d.created_at_ms += i;
    out.push_back(std::move(d));
  }
  return out;
}

std::string hex_of(const crypto::Digest& d) { return to_hex(ByteView(d.data(), d.size())); }

std::string path_hex(const v1::Report& r) {
  std::string out;
  for (const auto& p : r.batch().path()) out += (out.empty() ? "" : ",") + to_hex(as_bytes(p));
  return out;
}

Bytes statement_of(const v1::Report& r) {
  std::vector<ByteView> path;
  for (const auto& p : r.batch().path()) path.push_back(as_bytes(p));
  auto root = report::root_from_path(report::batch_leaf(r), r.batch().leaf_index(), r.batch().leaf_count(), path);
  REQUIRE(root.has_value());
  return report::batch_statement("kat-originator", as_bytes(r.batch().batch_id()), r.batch().leaf_count(), *root);
}

void write_vectors(const World& w) {
  std::ofstream out(kV2Path);
  out << "# tearline report format 2 known-answer vectors (docs/report-format.md \"Batches\")\n"
      << "# seeds, rng and credential as in report_v1.txt; each batch starts the rng at counter 0 and draws,\n"
      << "# report by report, the report id (16) and per section salt (32), nonce (24), content key (32);\n"
      << "# then the batch id (16). Drafts: report_v1.txt's, report i with sequence i+1 and created_at +i ms.\n"
      << "# path: sibling hashes from the leaf upwards, comma separated\n";
  out << "credential = " << to_hex(serialize_canonical(w.credential())) << "\n";
  for (int n : {1, 3}) {
    CountingRng rng;
    report::BuildOptions options;
    options.random = std::ref(rng);
    const auto per_report = recipients(w);
    auto batch =
        report::build_batch_to(drafts(w, n), "kat-originator", w.signing,
                               std::vector<std::vector<std::vector<report::Recipient>>>(n, per_report), options);
    REQUIRE(batch.is_ok());
    const std::string b = "batch" + std::to_string(n) + "_";
    std::vector<crypto::Digest> leaves;
    for (int i = 0; i < n; ++i) {
      const auto& r = (*batch)[static_cast<std::size_t>(i)].report;
      leaves.push_back(report::batch_leaf(r));
      out << b << "report" << i << " = " << to_hex((*batch)[static_cast<std::size_t>(i)].bytes) << "\n";
      out << b << "leaf" << i << " = " << hex_of(leaves.back()) << "\n";
      out << b << "path" << i << " = " << path_hex(r) << "\n";
    }
    if (n == 3) out << b << "node01 = " << hex_of(report::batch_inner(leaves[0], leaves[1])) << "\n";
    const auto& first = batch->front().report;
    out << b << "batch_id = " << to_hex(as_bytes(first.batch().batch_id())) << "\n";
    out << b << "root = " << hex_of(report::batch_root(leaves)) << "\n";
    out << b << "signature_input = " << to_hex(crypto::signature_input(crypto::tags::kReportBatch, statement_of(first)))
        << "\n";
    out << b << "signature = " << to_hex(as_bytes(first.signature())) << "\n";
    if (n == 3) {
      out << "batch3_report1_redacted = "
          << to_hex(serialize_canonical(report::redact((*batch)[1].report, {false, true}))) << "\n";
    }
  }
  WARN("wrote " << kV2Path);
}

v1::Report parse(const Bytes& b) {
  v1::Report r;
  REQUIRE(r.ParseFromArray(b.data(), static_cast<int>(b.size())));
  return r;
}

}  // namespace

TEST_CASE("report format 2 known-answer vectors: batches of 1 and 3, and a redacted copy") {
  World w;
  if (std::getenv("TEARLINE_WRITE_VECTORS") != nullptr) write_vectors(w);
  auto kv = read_vector_file(kV2Path);
  CHECK(to_hex(serialize_canonical(w.credential())) == kv.at("credential"));
  auto dir = w.directory();

  for (int n : {1, 3}) {
    const std::string b = "batch" + std::to_string(n) + "_";
    INFO(b);
    // The deterministic draws: ids, salts, nonces and keys in order, then the batch id.
    CountingRng rng;
    std::vector<crypto::Digest> leaves;
    for (int i = 0; i < n; ++i) {
      const Bytes bytes = unhex(kv.at(b + "report" + std::to_string(i)));
      const v1::Report r = parse(bytes);
      v1::ReportHeader h;
      REQUIRE(h.ParseFromString(r.header()));
      Bytes id(16);
      rng(id.data(), id.size());
      CHECK(to_hex(as_bytes(h.report_id())) == to_hex(id));
      CHECK(h.format_version() == 2);
      CHECK(h.sequence() == static_cast<std::uint64_t>(i + 1));
      for (const auto& section : r.sections()) {
        Bytes salt(32), nonce(24), key(32);
        rng(salt.data(), 32);
        rng(nonce.data(), 24);
        rng(key.data(), 32);
        CHECK(to_hex(as_bytes(section.sealed().salt())) == to_hex(salt));
        CHECK(to_hex(as_bytes(section.sealed().nonce())) == to_hex(nonce));
      }
      leaves.push_back(report::batch_leaf(r));
      CHECK(hex_of(leaves.back()) == kv.at(b + "leaf" + std::to_string(i)));
      CHECK(path_hex(r) == kv.at(b + "path" + std::to_string(i)));
      CHECK(r.batch().leaf_index() == static_cast<std::uint32_t>(i));
      CHECK(r.batch().leaf_count() == static_cast<std::uint32_t>(n));
      auto verified = report::verify_report(bytes, *dir);
      REQUIRE(verified.is_ok());
      auto opened = report::open_sections(*verified, "kat-reader", w.reader);
      CHECK(opened[0].status == report::SectionStatus::kNotAddressed);
      CHECK(to_string(opened[1].plaintext) == "section two: tear line");
    }
    Bytes batch_id(16);
    rng(batch_id.data(), batch_id.size());
    CHECK(to_hex(batch_id) == kv.at(b + "batch_id"));
    CHECK(hex_of(report::batch_root(leaves)) == kv.at(b + "root"));
    for (int i = 0; i < n; ++i) {
      const auto path = report::batch_path(leaves, static_cast<std::size_t>(i));
      std::string joined;
      for (const auto& d : path) joined += (joined.empty() ? "" : ",") + hex_of(d);
      CHECK(joined == kv.at(b + "path" + std::to_string(i)));
    }
    const v1::Report first = parse(unhex(kv.at(b + "report0")));
    const Bytes statement = statement_of(first);
    CHECK(to_hex(crypto::signature_input(crypto::tags::kReportBatch, statement)) == kv.at(b + "signature_input"));
    // Ed25519 is deterministic: the same key over the same input gives the stored signature.
    CHECK(to_hex(crypto::sign(w.signing, crypto::tags::kReportBatch, statement)) == kv.at(b + "signature"));
  }
  // Batch of 3: the tree is inner(inner(leaf0, leaf1), leaf2).
  const crypto::Digest l0 = report::batch_leaf(parse(unhex(kv.at("batch3_report0"))));
  const crypto::Digest l1 = report::batch_leaf(parse(unhex(kv.at("batch3_report1"))));
  const crypto::Digest l2 = report::batch_leaf(parse(unhex(kv.at("batch3_report2"))));
  CHECK(hex_of(report::batch_inner(l0, l1)) == kv.at("batch3_node01"));
  CHECK(hex_of(report::batch_inner(report::batch_inner(l0, l1), l2)) == kv.at("batch3_root"));
  CHECK(kv.at("batch3_path2") == hex_of(report::batch_inner(l0, l1)));
  // Batch of 1: the root is the leaf, the path empty.
  CHECK(kv.at("batch1_root") == kv.at("batch1_leaf0"));
  CHECK(kv.at("batch1_path0").empty());

  // The redacted copy: section 1 torn off to its commitment; same leaf, verifies.
  const Bytes torn = unhex(kv.at("batch3_report1_redacted"));
  CHECK(to_hex(serialize_canonical(report::redact(parse(unhex(kv.at("batch3_report1"))), {false, true}))) ==
        kv.at("batch3_report1_redacted"));
  CHECK(hex_of(report::batch_leaf(parse(torn))) == kv.at("batch3_leaf1"));
  auto verified = report::verify_report(torn, *dir);
  REQUIRE(verified.is_ok());
  CHECK(verified->withheld_count() == 1);
  auto opened = report::open_sections(*verified, "kat-reader", w.reader);
  CHECK(opened[0].status == report::SectionStatus::kWithheld);
  CHECK(to_string(opened[1].plaintext) == "section two: tear line");
}
