// Known-answer vector for the report format (docs/report-format.md). Every
// key, salt, nonce and content key is derived from fixed seeds, so everything
// but the key wraps (crypto_box_seal uses a fresh ephemeral key) is
// deterministic; the stored report pins those too. Another implementation
// proves itself by reproducing each value in tests/vectors/report_v1.txt.
//
// Regenerate (only when the format version changes):
//   TEARLINE_WRITE_VECTORS=1 ./test_report_vector
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "base/canonical_proto.h"
#include "crypto/hash.h"
#include "crypto/sealing.h"
#include "crypto/signing.h"
#include "identity/directory.h"
#include "report/builder.h"
#include "report/format.h"
#include "report/verify.h"
#include "report_kat_world.h"

using namespace tearline;
using namespace tearline::testing::kat;
namespace v1 = tearline::v1;

namespace {

const std::string kVectorPath = std::string(TEARLINE_SOURCE_DIR) + "/tests/vectors/report_v1.txt";

}  // namespace

TEST_CASE("report known-answer vector") {
  World w;
  if (std::getenv("TEARLINE_WRITE_VECTORS") != nullptr) {
    CountingRng rng;
    std::vector<std::vector<report::Recipient>> recipients = {
        {{"kat-originator", w.sealing.public_key()}},
        {{"kat-originator", w.sealing.public_key()}, {"kat-reader", w.reader.public_key()}}};
    report::BuildOptions v1_format;
    v1_format.format_version = report::kReportFormatV1;
    v1_format.random = std::ref(rng);
    auto batch = report::build_batch_to({w.draft()}, "kat-originator", w.signing, {recipients}, v1_format);
    REQUIRE(batch.is_ok());
    const report::BuiltReport* built = batch->data();
    std::ofstream out(kVectorPath);
    out << "# tearline report format v1 known-answer vector (docs/report-format.md)\n"
        << "# seeds: BLAKE2b-256(\"tearline test seed \" || name); crypto_sign_seed_keypair / crypto_box_seed_keypair\n"
        << "# rng: BLAKE2b-256(\"tearline test rng\" || u64le counter) concatenated, counter from 0;\n"
        << "#      each request of n bytes takes ceil(n/32) fresh blocks, truncated to n; requests in order:\n"
        << "#      report id (16), then per section salt (32), nonce (24), content key (32)\n";
    out << "authority_seed = " << to_hex(seed("authority KAT")) << "\n";
    out << "originator_signing_seed = " << to_hex(seed("node signing")) << "\n";
    out << "originator_sealing_seed = " << to_hex(seed("node sealing")) << "\n";
    out << "reader_sealing_seed = " << to_hex(seed("reader sealing")) << "\n";
    out << "credential = " << to_hex(serialize_canonical(w.credential())) << "\n";
    out << "report = " << to_hex(built->bytes) << "\n";
    out << "header = " << to_hex(as_bytes(built->report.header())) << "\n";
    CountingRng replay;
    Bytes id(16);
    replay(id.data(), id.size());
    for (int i = 0; i < built->report.sections_size(); ++i) {
      const auto& s = built->report.sections(i).sealed();
      Bytes salt(32), nonce(24), key(32);
      replay(salt.data(), 32);
      replay(nonce.data(), 24);
      replay(key.data(), 32);
      const std::string p = "section" + std::to_string(i) + "_";
      out << p << "plaintext = " << to_hex(w.draft().sections[static_cast<std::size_t>(i)].content) << "\n";
      out << p << "label = " << to_hex(as_bytes(s.label())) << "\n";
      out << p << "content_key = " << to_hex(key) << "\n";
      out << p << "associated_data = "
          << to_hex(report::section_associated_data(as_bytes(built->report.header()), static_cast<std::uint32_t>(i),
                                                    as_bytes(s.label())))
          << "\n";
      out << p << "ciphertext = " << to_hex(as_bytes(s.ciphertext())) << "\n";
      out << p << "commitment = " << to_hex(as_bytes(built->report.sections(i).commitment())) << "\n";
    }
    out << "signature_input = "
        << to_hex(crypto::signature_input(crypto::tags::kReport,
                                          report::signature_payload(as_bytes(built->report.header()), built->report)))
        << "\n";
    out << "signature = " << to_hex(as_bytes(built->report.signature())) << "\n";
    WARN("wrote " << kVectorPath);
  }

  auto kv = read_vector_file(kVectorPath);
  // Keys and the credential are deterministic.
  CHECK(to_hex(seed("authority KAT")) == kv.at("authority_seed"));
  CHECK(to_hex(serialize_canonical(w.credential())) == kv.at("credential"));

  const Bytes report_bytes = unhex(kv.at("report"));
  v1::Report r;
  REQUIRE(r.ParseFromArray(report_bytes.data(), static_cast<int>(report_bytes.size())));
  CHECK(to_hex(as_bytes(r.header())) == kv.at("header"));

  // The header is exactly the canonical encoding of the draft with the first 16 rng bytes as id.
  CountingRng rng;
  Bytes id(16);
  rng(id.data(), id.size());
  v1::ReportHeader h;
  h.set_format_version(1);
  h.set_report_id(id.data(), id.size());
  h.set_originator("kat-originator");
  h.set_topic("intel.kat");
  h.set_created_at_ms(kNow * 1000);
  h.set_sequence(1);
  CHECK(to_hex(serialize_canonical(h)) == kv.at("header"));

  const report::ReportDraft draft = w.draft();
  for (int i = 0; i < 2; ++i) {
    const std::string p = "section" + std::to_string(i) + "_";
    const auto& s = r.sections(i).sealed();
    const auto& draft_section = draft.sections[static_cast<std::size_t>(i)];
    CHECK(to_hex(policy::encode_label(draft_section.label)) == kv.at(p + "label"));
    CHECK(to_hex(as_bytes(s.label())) == kv.at(p + "label"));
    Bytes salt(32), nonce(24), key(32);
    rng(salt.data(), 32);
    rng(nonce.data(), 24);
    rng(key.data(), 32);
    CHECK(to_hex(salt) == to_hex(as_bytes(s.salt())));
    CHECK(to_hex(nonce) == to_hex(as_bytes(s.nonce())));
    CHECK(to_hex(key) == kv.at(p + "content_key"));
    const Bytes ad =
        report::section_associated_data(as_bytes(r.header()), static_cast<std::uint32_t>(i), as_bytes(s.label()));
    CHECK(to_hex(ad) == kv.at(p + "associated_data"));
    crypto::Nonce n;
    std::copy(nonce.begin(), nonce.end(), n.begin());
    CHECK(to_hex(crypto::encrypt(crypto::ContentKey::from_bytes(key), n, ad, unhex(kv.at(p + "plaintext")))) ==
          kv.at(p + "ciphertext"));
    CHECK(to_hex(as_bytes(s.ciphertext())) == kv.at(p + "ciphertext"));
    auto c = report::section_commitment(s);
    CHECK(to_hex(c) == kv.at(p + "commitment"));
    CHECK(to_hex(as_bytes(r.sections(i).commitment())) == kv.at(p + "commitment"));
  }
  const Bytes payload = report::signature_payload(as_bytes(r.header()), r);
  CHECK(to_hex(crypto::signature_input(crypto::tags::kReport, payload)) == kv.at("signature_input"));
  // Ed25519 is deterministic: the same key over the same input gives the stored signature.
  CHECK(to_hex(crypto::sign(w.signing, crypto::tags::kReport, payload)) == kv.at("signature"));

  auto dir = w.directory();
  auto verified = report::verify_report(report_bytes, *dir);
  REQUIRE(verified.is_ok());
  auto reader = report::open_sections(*verified, "kat-reader", w.reader);
  CHECK(reader[0].status == report::SectionStatus::kNotAddressed);
  REQUIRE(reader[1].status == report::SectionStatus::kOpened);
  CHECK(to_hex(reader[1].plaintext) == kv.at("section1_plaintext"));
  auto self = report::open_sections(*verified, "kat-originator", w.sealing);
  CHECK(to_hex(self[0].plaintext) == kv.at("section0_plaintext"));
}
