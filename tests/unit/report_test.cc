// Reports: round trip for every demo node, tamper rejection with specific
// reasons, redaction (the tear line), and strict encoding.
#include <catch2/catch.hpp>

#include <map>

#include "base/canonical_proto.h"
#include "crypto/key_file.h"
#include "crypto/signing.h"
#include "report/batch.h"
#include "report/builder.h"
#include "report/format.h"
#include "report/verify.h"
#include "report_test_helpers.h"
#include "support/demo_world.h"

using namespace tearline;
using tearline::testing::DemoWorld;
using tearline::testing::kDemoNow;
using tearline::testing::keys_of;
namespace v1 = tearline::v1;

namespace {

policy::Label label(v1::Classification c, std::vector<std::string> rel, std::vector<std::string> units = {},
                    bool orcon = false) {
  return policy::normalized(policy::Label{c, std::move(rel), std::move(units), orcon});
}

// The Cucuta seizure report: an informant section for COL only, and a
// tear-line section for USA and COL, both scoped to the joint unit.
report::ReportDraft seizure_draft() {
  report::ReportDraft d;
  d.topic = "unit.cucuta-jtf.seizures";
  d.created_at_ms = kDemoNow * 1000;
  d.sequence = 1;
  d.sections.push_back(
      {label(v1::SECRET, {"COL"}, {"cucuta-jtf"}), to_bytes("informant: source ALFA-7, met at the port")});
  d.sections.push_back(
      {label(v1::CONFIDENTIAL, {"COL", "USA"}, {"cucuta-jtf"}), to_bytes("1.1 t cocaine seized, Cucuta")});
  return d;
}

report::BuiltReport build_as(const std::string& node, const report::ReportDraft& draft) {
  auto keys = keys_of(node);
  auto built = report::build_report(draft, node, keys.signing, *DemoWorld::get().directory());
  REQUIRE(built.is_ok());
  return std::move(built).value();
}

Code verify_code(const Bytes& bytes) {
  auto r = report::verify_report(bytes, *DemoWorld::get().directory());
  return r.is_ok() ? Code::OK : r.code();
}

Bytes serialize(const v1::Report& r) { return serialize_canonical(r); }

}  // namespace

TEST_CASE("every demo node can publish and every admitted recipient opens") {
  const auto& dir = *DemoWorld::get().directory();
  for (const identity::Credential* originator : dir.nodes()) {
    if (originator->has_role(identity::kBrokerRole)) continue;  // the broker publishes nothing
    report::ReportDraft d;
    d.topic = "intel.general";
    d.created_at_ms = kDemoNow * 1000;
    d.sequence = 7;
    // Releasable to the originator's country only, at its own clearance.
    d.sections.push_back(
        {label(originator->clearance, {originator->country}), to_bytes("from " + originator->node_id)});
    d.sections.push_back({label(v1::UNCLASSIFIED, {"COL", "MEX", "USA"}), to_bytes("open to all partners")});
    if (d.sections[1].label.releasable_to.end() == std::find(d.sections[1].label.releasable_to.begin(),
                                                             d.sections[1].label.releasable_to.end(),
                                                             originator->country)) {
      continue;
    }
    auto built = build_as(originator->node_id, d);
    auto verified = report::verify_report(built.bytes, dir);
    REQUIRE(verified.is_ok());
    CHECK(verified->header.originator() == originator->node_id);
    for (const identity::Credential* reader : dir.nodes()) {
      if (reader->has_role(identity::kBrokerRole)) continue;  // never a recipient (and no node key file)
      auto opened = report::open_sections(*verified, reader->node_id, keys_of(reader->node_id).sealing);
      REQUIRE(opened.size() == 2);
      const bool first = reader->country == originator->country && reader->clearance >= originator->clearance;
      INFO(originator->node_id << " -> " << reader->node_id);
      CHECK(opened[0].status == (first ? report::SectionStatus::kOpened : report::SectionStatus::kNotAddressed));
      if (first) CHECK(to_string(opened[0].plaintext) == "from " + originator->node_id);
      CHECK(opened[1].status == report::SectionStatus::kOpened);
      CHECK(to_string(opened[1].plaintext) == "open to all partners");
    }
  }
}

TEST_CASE("the seizure report is sealed to exactly the nodes its labels admit") {
  auto built = build_as("diran-cucuta-commander", seizure_draft());
  // COL + unit: the DIRAN unit members only; USA+COL + unit: also the DEA agent.
  CHECK(built.recipients[0] == std::vector<std::string>{"diran-cucuta-analyst", "diran-cucuta-commander"});
  CHECK(built.recipients[1] ==
        std::vector<std::string>{"dea-cucuta-agent", "diran-cucuta-analyst", "diran-cucuta-commander"});
  auto verified = report::verify_report(built.bytes, *DemoWorld::get().directory());
  REQUIRE(verified.is_ok());
  auto agent = report::open_sections(*verified, "dea-cucuta-agent", keys_of("dea-cucuta-agent").sealing);
  CHECK(agent[0].status == report::SectionStatus::kNotAddressed);
  CHECK(agent[1].status == report::SectionStatus::kOpened);
  auto outsider = report::open_sections(*verified, "dea-bogota-analyst", keys_of("dea-bogota-analyst").sealing);
  CHECK(outsider[0].status == report::SectionStatus::kNotAddressed);
  CHECK(outsider[1].status == report::SectionStatus::kNotAddressed);
  // A node that is not on the wrap list cannot open even with a forged wrap entry name:
  // the wrapped key is sealed to the listed node's key.
  auto wrong_key = report::open_sections(*verified, "dea-cucuta-agent", keys_of("dea-bogota-analyst").sealing);
  CHECK(wrong_key[1].status == report::SectionStatus::kOpenFailed);
}

TEST_CASE("redaction keeps the signature valid and hides withheld sections") {
  auto built = build_as("diran-cucuta-commander", seizure_draft());
  v1::Report torn = report::redact(built.report, {false, true});
  Bytes bytes = serialize(torn);
  auto verified = report::verify_report(bytes, *DemoWorld::get().directory());
  REQUIRE(verified.is_ok());
  CHECK(verified->withheld_count() == 1);
  CHECK_FALSE(verified->sections[0].label.has_value());
  auto agent = report::open_sections(*verified, "dea-cucuta-agent", keys_of("dea-cucuta-agent").sealing);
  CHECK(agent[0].status == report::SectionStatus::kWithheld);
  CHECK(agent[1].status == report::SectionStatus::kOpened);
  CHECK(to_string(agent[1].plaintext) == "1.1 t cocaine seized, Cucuta");
  // Nothing of the withheld section travels but its 32-byte commitment.
  CHECK(torn.sections(0).ByteSizeLong() == 2 + report::kCommitmentBytes);
}

TEST_CASE("tampering is rejected with a specific reason") {
  const auto built = build_as("diran-cucuta-commander", seizure_draft());
  const v1::Report& good = built.report;
  REQUIRE(verify_code(built.bytes) == Code::OK);

  SECTION("flipped byte in the header (topic text)") {
    v1::Report r = good;
    std::string h = r.header();
    auto pos = h.find("seizures");
    REQUIRE(pos != std::string::npos);
    h[pos] = 'x';
    r.set_header(h);
    CHECK(verify_code(serialize(r)) == Code::REPORT_SIGNATURE);
  }
  SECTION("flipped byte in every header position is rejected") {
    for (std::size_t i = 0; i < good.header().size(); ++i) {
      v1::Report r = good;
      std::string h = r.header();
      h[i] = static_cast<char>(h[i] ^ 0x01);
      r.set_header(h);
      INFO("header byte " << i);
      CHECK(verify_code(serialize(r)) != Code::OK);
    }
  }
  SECTION("flipped byte in a label") {
    v1::Report r = good;
    std::string l = r.sections(0).sealed().label();
    l[1] = static_cast<char>(v1::TOP_SECRET);  // classification value
    r.mutable_sections(0)->mutable_sealed()->set_label(l);
    CHECK(verify_code(serialize(r)) == Code::COMMITMENT_MISMATCH);
  }
  SECTION("flipped byte in the ciphertext") {
    v1::Report r = good;
    std::string c = r.sections(1).sealed().ciphertext();
    c[3] = static_cast<char>(c[3] ^ 0x80);
    r.mutable_sections(1)->mutable_sealed()->set_ciphertext(c);
    CHECK(verify_code(serialize(r)) == Code::COMMITMENT_MISMATCH);
  }
  SECTION("flipped byte in the wrap list") {
    v1::Report r = good;
    std::string k = r.sections(1).sealed().wraps(0).sealed_key();
    k[10] = static_cast<char>(k[10] ^ 0x01);
    r.mutable_sections(1)->mutable_sealed()->mutable_wraps(0)->set_sealed_key(k);
    CHECK(verify_code(serialize(r)) == Code::COMMITMENT_MISMATCH);
  }
  SECTION("a wrap added for an outsider") {
    v1::Report r = good;
    auto* w = r.mutable_sections(1)->mutable_sealed()->add_wraps();
    w->set_node_id("zz-outsider");
    w->set_sealed_key(std::string(80, 'k'));
    CHECK(verify_code(serialize(r)) == Code::COMMITMENT_MISMATCH);
  }
  SECTION("flipped byte in a commitment") {
    v1::Report r = good;
    std::string c = r.sections(0).commitment();
    c[0] = static_cast<char>(c[0] ^ 0x01);
    r.mutable_sections(0)->set_commitment(c);
    CHECK(verify_code(serialize(r)) == Code::COMMITMENT_MISMATCH);
    // Once torn off, a changed commitment is caught by the signature.
    v1::Report torn = report::redact(r, {false, true});
    CHECK(verify_code(serialize(torn)) == Code::REPORT_SIGNATURE);
  }
  SECTION("flipped byte in the signature") {
    v1::Report r = good;
    std::string s = r.signature();
    s[5] = static_cast<char>(s[5] ^ 0x01);
    r.set_signature(s);
    CHECK(verify_code(serialize(r)) == Code::REPORT_SIGNATURE);
  }
  SECTION("two sections' labels swapped") {
    v1::Report r = good;
    std::string l0 = r.sections(0).sealed().label();
    std::string l1 = r.sections(1).sealed().label();
    r.mutable_sections(0)->mutable_sealed()->set_label(l1);
    r.mutable_sections(1)->mutable_sealed()->set_label(l0);
    CHECK(verify_code(serialize(r)) == Code::COMMITMENT_MISMATCH);
  }
  SECTION("sections reordered") {
    v1::Report r = good;
    r.mutable_sections()->SwapElements(0, 1);
    CHECK(verify_code(serialize(r)) == Code::REPORT_SIGNATURE);
  }
  SECTION("a section removed instead of torn off") {
    v1::Report r = good;
    r.mutable_sections()->RemoveLast();
    CHECK(verify_code(serialize(r)) == Code::REPORT_SIGNATURE);
  }
  SECTION("truncated input") {
    for (std::size_t cut : {std::size_t{1}, std::size_t{10}, built.bytes.size() / 2, built.bytes.size() - 1}) {
      Bytes b(built.bytes.begin(), built.bytes.begin() + static_cast<std::ptrdiff_t>(cut));
      INFO("cut at " << cut);
      CHECK(verify_code(b) == Code::REPORT_MALFORMED);
    }
  }
  SECTION("garbage bytes") {
    CHECK(verify_code(to_bytes("\xff\xff\xff garbage")) == Code::REPORT_MALFORMED);
    CHECK(verify_code(Bytes{}) == Code::REPORT_MALFORMED);
  }
  // The statement a batch of one signs: the report's own leaf is the root.
  const Bytes statement =
      report::batch_statement("diran-cucuta-commander", as_bytes(good.batch().batch_id()), 1, report::batch_leaf(good));
  SECTION("signed by another node's key") {
    auto other = keys_of("diran-cucuta-analyst");
    v1::Report r = good;
    crypto::Signature sig = crypto::sign(other.signing, crypto::tags::kReportBatch, statement);
    r.set_signature(sig.data(), sig.size());
    CHECK(verify_code(serialize(r)) == Code::REPORT_SIGNATURE);
  }
  SECTION("a credential signature does not verify as a report signature") {
    auto me = keys_of("diran-cucuta-commander");
    v1::Report r = good;
    crypto::Signature sig = crypto::sign(me.signing, crypto::tags::kCredential, statement);
    r.set_signature(sig.data(), sig.size());
    CHECK(verify_code(serialize(r)) == Code::REPORT_SIGNATURE);
  }
  SECTION("a format 1 signature does not verify as a batch signature") {
    auto me = keys_of("diran-cucuta-commander");
    v1::Report r = good;
    crypto::Signature sig =
        crypto::sign(me.signing, crypto::tags::kReport, report::signature_payload(as_bytes(r.header()), r));
    r.set_signature(sig.data(), sig.size());
    CHECK(verify_code(serialize(r)) == Code::REPORT_SIGNATURE);
    r.clear_batch();  // and without its proof it is malformed, not format 1
    CHECK(verify_code(serialize(r)) == Code::REPORT_MALFORMED);
  }
}

namespace {

// Re-signs `r` (after its header was changed) with the originator's key, so
// that only the encoding checks can catch what was done.
void resign(v1::Report* r, const std::string& node) { report::resign_alone(r, keys_of(node).signing); }

}  // namespace

TEST_CASE("last-value-wins is not exploitable in signed bytes") {
  const auto built = build_as("diran-cucuta-commander", seizure_draft());
  SECTION("duplicate originator field in the header, validly signed") {
    v1::Report r = built.report;
    std::string h = r.header();
    v1::ReportHeader extra;
    extra.set_originator("diran-cucuta-analyst");
    h += extra.SerializeAsString();  // parses as originator = analyst
    r.set_header(h);
    resign(&r, "diran-cucuta-commander");
    CHECK(verify_code(serialize(r)) == Code::BAD_ENCODING);
  }
  SECTION("unknown field in the header, validly signed") {
    v1::Report r = built.report;
    std::string h = r.header();
    h += std::string("\xa0\x06\x01", 3);  // field 100, varint 1
    r.set_header(h);
    resign(&r, "diran-cucuta-commander");
    CHECK(verify_code(serialize(r)) == Code::BAD_ENCODING);
  }
  SECTION("duplicate classification in a label, committed and signed") {
    v1::Report r = built.report;
    auto* sealed = r.mutable_sections(0)->mutable_sealed();
    std::string l = sealed->label() + std::string("\x08\x01", 2);  // classification = UNCLASSIFIED again
    sealed->set_label(l);
    crypto::Digest c = report::section_commitment(*sealed);
    r.mutable_sections(0)->set_commitment(c.data(), c.size());
    resign(&r, "diran-cucuta-commander");
    CHECK(verify_code(serialize(r)) == Code::BAD_ENCODING);
  }
  SECTION("unknown field in the report container") {
    Bytes b = built.bytes;
    b.push_back(0xa0);
    b.push_back(0x06);
    b.push_back(0x01);
    CHECK(verify_code(b) == Code::REPORT_MALFORMED);
  }
}

TEST_CASE("originator credential problems are ORIGINATOR_INVALID") {
  auto d = seizure_draft();
  auto keys = keys_of("diran-cucuta-commander");
  // A report dated after the credential expired.
  d.created_at_ms = (kDemoNow + 400LL * 86400) * 1000;
  auto built = report::build_report_to(d, "diran-cucuta-commander", keys.signing, {{}, {}});
  REQUIRE(built.is_ok());
  CHECK(verify_code(built->bytes) == Code::ORIGINATOR_INVALID);
  // An originator not in the directory.
  auto stranger = report::build_report_to(seizure_draft(), "nobody", keys.signing, {{}, {}});
  REQUIRE(stranger.is_ok());
  CHECK(verify_code(stranger->bytes) == Code::ORIGINATOR_INVALID);
}

TEST_CASE("builder refuses bad drafts with every reason") {
  auto keys = keys_of("diran-cucuta-commander");
  const auto& dir = *DemoWorld::get().directory();
  report::ReportDraft d = seizure_draft();
  d.topic = "Bad Topic";
  d.sections[0].label.classification = v1::CLASSIFICATION_UNSET;
  d.sequence = 0;
  auto built = report::build_report(d, "diran-cucuta-commander", keys.signing, dir);
  REQUIRE_FALSE(built.is_ok());
  CHECK(built.status().has(Code::TOPIC_INVALID));
  CHECK(built.status().has(Code::LABEL_INVALID));
  CHECK(built.status().has(Code::INVALID_FIELD));
  report::ReportDraft empty = seizure_draft();
  empty.sections.clear();
  CHECK(report::build_report(empty, "diran-cucuta-commander", keys.signing, dir).code() == Code::TOO_MANY_SECTIONS);
  report::ReportDraft big = seizure_draft();
  big.sections[1].content.assign(report::kMaxSectionBytes + 1, 'x');
  CHECK(report::build_report(big, "diran-cucuta-commander", keys.signing, dir).code() == Code::SECTION_TOO_LARGE);
}
