#include "report/verify.h"

#include "base/canonical_proto.h"
#include "crypto/hash.h"
#include "crypto/sealing.h"
#include "crypto/signing.h"
#include "identity/objects.h"
#include "policy/topic.h"
#include "report/batch.h"
#include "report/format.h"

namespace tearline::report {
namespace v1 = tearline::v1;

std::string VerifiedReport::report_id_hex() const { return to_hex(as_bytes(header.report_id())); }

std::size_t VerifiedReport::withheld_count() const {
  std::size_t n = 0;
  for (const auto& s : sections) n += s.present ? 0 : 1;
  return n;
}

std::string_view section_status_name(SectionStatus s) {
  switch (s) {
    case SectionStatus::kOpened: return "opened";
    case SectionStatus::kWithheld: return "withheld";
    case SectionStatus::kNotAddressed: return "not addressed";
    case SectionStatus::kOpenFailed: return "open failed";
  }
  return "?";
}

namespace {

Status check_header(const v1::ReportHeader& h) {
  if (h.format_version() != kReportFormatVersion && h.format_version() != kReportFormatV1) {
    return Status::fail(Code::REPORT_VERSION, "report format version " + std::to_string(h.format_version()) +
                                                  " is not supported (expected 2, or 1)");
  }
  Status s;
  if (h.report_id().size() != kReportIdBytes) s.add(Code::REPORT_MALFORMED, "report id must be 16 bytes");
  if (!identity::is_valid_id(h.originator())) s.add(Code::REPORT_MALFORMED, "originator is not a valid node id");
  if (h.sequence() == 0) s.add(Code::REPORT_MALFORMED, "sequence must be > 0");
  if (h.created_at_ms() <= 0) s.add(Code::REPORT_MALFORMED, "created-at must be set");
  if (static_cast<std::size_t>(h.sources_size()) > kMaxSources) s.add(Code::REPORT_MALFORMED, "too many sources");
  for (const auto& src : h.sources()) {
    if (src.report_id().size() != kReportIdBytes) s.add(Code::REPORT_MALFORMED, "source report id must be 16 bytes");
  }
  s.merge(policy::validate_topic(h.topic()));
  return s;
}

Status check_section(const v1::SectionEntry& entry, std::size_t index, const VerifyOptions& options,
                     VerifiedSection* out) {
  const std::string where = "section " + std::to_string(index + 1) + ": ";
  if (entry.commitment().size() != kCommitmentBytes) {
    return Status::fail(Code::REPORT_MALFORMED, where + "commitment must be 32 bytes");
  }
  out->commitment = to_bytes(entry.commitment());
  out->present = entry.has_sealed();
  if (!out->present) return Status::ok();
  const v1::SealedSection& s = entry.sealed();
  if (s.salt().size() != kSaltBytes || s.nonce().size() != crypto::kNonceBytes ||
      s.ciphertext().size() < crypto::kAeadTagBytes) {
    return Status::fail(Code::REPORT_MALFORMED, where + "salt, nonce or ciphertext has the wrong size");
  }
  if (s.ciphertext().size() > kMaxSectionBytes + crypto::kAeadTagBytes) {
    return Status::fail(Code::SECTION_TOO_LARGE, where + "ciphertext exceeds the section size limit");
  }
  if (static_cast<std::size_t>(s.wraps_size()) > options.max_recipients) {
    return Status::fail(
        Code::TOO_MANY_RECIPIENTS,
        where + std::to_string(s.wraps_size()) + " recipients; the limit is " + std::to_string(options.max_recipients));
  }
  for (int i = 0; i < s.wraps_size(); ++i) {
    const auto& w = s.wraps(i);
    if (!identity::is_valid_id(w.node_id()) || w.sealed_key().size() != crypto::kWrappedKeyBytes) {
      return Status::fail(Code::REPORT_MALFORMED, where + "key wrap " + std::to_string(i + 1) + " is malformed");
    }
    if (i > 0 && !(s.wraps(i - 1).node_id() < w.node_id())) {
      return Status::fail(Code::REPORT_MALFORMED, where + "key wraps must be sorted by node id without duplicates");
    }
    out->recipients.push_back(w.node_id());
  }
  auto label = policy::decode_label(as_bytes(s.label()));
  if (!label) {
    Status st;
    for (const auto& r : label.status().reasons()) st.add(r.code, where + r.message);
    return st;
  }
  out->label = std::move(label).value();
  const crypto::Digest c = section_commitment(s);
  if (!crypto::equal_ct(ByteView(c.data(), c.size()), as_bytes(entry.commitment()))) {
    return Status::fail(Code::COMMITMENT_MISMATCH, where + "contents do not match the commitment");
  }
  return Status::ok();
}

// Format 2 carries a batch proof, format 1 none.
Status check_batch(const v1::Report& r, std::uint32_t version) {
  if (version == kReportFormatV1) {
    if (r.has_batch()) return Status::fail(Code::REPORT_MALFORMED, "a format 1 report carries no batch proof");
    return Status::ok();
  }
  if (!r.has_batch()) return Status::fail(Code::REPORT_MALFORMED, "a format 2 report carries its batch proof");
  const v1::BatchProof& b = r.batch();
  if (b.batch_id().size() != kBatchIdBytes) return Status::fail(Code::REPORT_MALFORMED, "batch id must be 16 bytes");
  if (b.leaf_count() == 0 || b.leaf_count() > kMaxBatch) {
    return Status::fail(Code::REPORT_MALFORMED, "a batch has 1.." + std::to_string(kMaxBatch) + " reports, not " +
                                                    std::to_string(b.leaf_count()));
  }
  if (b.leaf_index() >= b.leaf_count()) {
    return Status::fail(Code::REPORT_MALFORMED, "leaf index " + std::to_string(b.leaf_index()) +
                                                    " is outside a batch of " + std::to_string(b.leaf_count()));
  }
  if (static_cast<std::size_t>(b.path_size()) > kMaxPathLength) {
    return Status::fail(Code::REPORT_MALFORMED, "batch path has " + std::to_string(b.path_size()) +
                                                    " entries; a batch of at most 64 needs at most 6");
  }
  for (const auto& p : b.path()) {
    if (p.size() != kCommitmentBytes) return Status::fail(Code::REPORT_MALFORMED, "batch path entries are 32 bytes");
  }
  return Status::ok();
}

// The originator's signature: over the batch root (format 2, through the root
// cache when there is one) or over this report (format 1).
Status check_signature(const VerifiedReport& v, const crypto::VerifyKey& key, RootCache* roots) {
  const v1::Report& r = v.report;
  const std::string& originator = v.header.originator();
  if (v.header.format_version() == kReportFormatV1) {
    if (crypto::verify(key, crypto::tags::kReport, signature_payload(as_bytes(r.header()), r),
                       as_bytes(r.signature()))) {
      return Status::ok();
    }
    return Status::fail(Code::REPORT_SIGNATURE, "signature does not verify under " + originator + "'s signing key");
  }
  const v1::BatchProof& b = r.batch();
  std::vector<ByteView> path;
  path.reserve(static_cast<std::size_t>(b.path_size()));
  for (const auto& p : b.path()) path.push_back(as_bytes(p));
  const auto root = root_from_path(batch_leaf(r), b.leaf_index(), b.leaf_count(), path);
  if (!root) {
    return Status::fail(Code::REPORT_MALFORMED, "batch path has the wrong length for leaf " +
                                                    std::to_string(b.leaf_index()) + " of " +
                                                    std::to_string(b.leaf_count()));
  }
  const Bytes statement = batch_statement(originator, as_bytes(b.batch_id()), b.leaf_count(), *root);
  const bool ok = roots != nullptr
                      ? roots->check(originator, key, statement, as_bytes(r.signature()))
                      : crypto::verify(key, crypto::tags::kReportBatch, statement, as_bytes(r.signature()));
  if (ok) return Status::ok();
  return Status::fail(Code::REPORT_SIGNATURE, "the batch signature does not verify under " + originator +
                                                  "'s signing key for the root this report's path leads to");
}

// An unknown field anywhere in the report tree, typed: the generic
// reflection walk (parse_strict) lists the fields of every message it
// visits, an allocation per section and per wrap on every delivery.
bool unknown_here(const google::protobuf::Message& m) { return !m.GetReflection()->GetUnknownFields(m).empty(); }

bool has_unknown_fields(const v1::Report& r) {
  if (unknown_here(r) || unknown_here(r.batch())) return true;
  for (const auto& entry : r.sections()) {
    if (unknown_here(entry) || unknown_here(entry.sealed())) return true;
    for (const auto& wrap : entry.sealed().wraps()) {
      if (unknown_here(wrap)) return true;
    }
  }
  return false;
}

}  // namespace

Result<VerifiedReport> parse_report_structure(ByteView bytes, const VerifyOptions& options) {
  VerifiedReport out;
  if (bytes.size() > static_cast<std::size_t>(INT32_MAX) ||
      !out.report.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Status::fail(Code::REPORT_MALFORMED, "report does not parse");
  }
  if (has_unknown_fields(out.report)) return Status::fail(Code::REPORT_MALFORMED, "report has unknown fields");
  Status s;
  if (out.report.header().empty()) return Status::fail(Code::REPORT_MALFORMED, "report has no header");
  s = parse_canonical(as_bytes(out.report.header()), &out.header, "report header");
  if (!s) return s;
  s = check_header(out.header);
  if (!s) return s;
  const auto n = static_cast<std::size_t>(out.report.sections_size());
  if (n == 0 || n > options.max_sections) {
    return Status::fail(Code::TOO_MANY_SECTIONS, "report has " + std::to_string(n) + " sections; 1.." +
                                                     std::to_string(options.max_sections) + " allowed");
  }
  if (out.report.signature().size() != crypto::kSignatureBytes) {
    return Status::fail(Code::REPORT_SIGNATURE, "signature must be 64 bytes");
  }
  s = check_batch(out.report, out.header.format_version());
  if (!s) return s;
  out.sections.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    s = check_section(out.report.sections(static_cast<int>(i)), i, options, &out.sections[i]);
    if (!s) return s;
  }
  return out;
}

Result<VerifiedReport> verify_report(ByteView bytes, const identity::Directory& directory,
                                     const VerifyOptions& options) {
  auto parsed = parse_report_structure(bytes, options);
  if (!parsed) return parsed.status();
  return verify_parsed(std::move(parsed).value(), directory, options);
}

Result<VerifiedReport> verify_parsed(VerifiedReport out, const identity::Directory& directory,
                                     const VerifyOptions& options) {
  const std::string& originator = out.header.originator();
  const identity::Credential* cred = directory.node(originator);
  if (cred == nullptr) {
    return Status::fail(Code::ORIGINATOR_INVALID, "originator " + originator + " is not in the directory");
  }
  // Accepting now: any revocation refuses. Otherwise the rule in time.
  const std::int64_t created = out.header.created_at_ms() / 1000;
  Status validity = options.accepting ? directory.check_node(originator, created)
                                      : directory.check_signer(originator, created, options.accepted_ms);
  if (!validity) {
    Status st;
    for (const auto& r : validity.reasons()) {
      st.add(r.code == Code::ORIGINATOR_COMPROMISED ? Code::ORIGINATOR_COMPROMISED : Code::ORIGINATOR_INVALID,
             r.message);
    }
    return st;
  }
  Status signed_by = check_signature(out, cred->signing_key, options.roots);
  if (!signed_by) return signed_by;
  out.originator = *cred;
  return out;
}

Status verify_signature_only(const VerifiedReport& parsed, const identity::Directory& directory, RootCache* roots) {
  const identity::Credential* cred = directory.node(parsed.header.originator());
  if (cred == nullptr) {
    return Status::fail(Code::ORIGINATOR_INVALID,
                        "originator " + parsed.header.originator() + " is not in the directory");
  }
  return check_signature(parsed, cred->signing_key, roots);
}

std::vector<OpenedSection> open_sections(const VerifiedReport& report, std::string_view node_id,
                                         const crypto::SealingKey& key, UnwrapCache* unwraps) {
  std::vector<OpenedSection> out(report.sections.size());
  for (std::size_t i = 0; i < report.sections.size(); ++i) {
    OpenedSection& o = out[i];
    const VerifiedSection& vs = report.sections[i];
    if (!vs.present) {
      o.status = SectionStatus::kWithheld;
      continue;
    }
    o.label = vs.label;
    const v1::SealedSection& s = report.report.sections(static_cast<int>(i)).sealed();
    const v1::KeyWrap* wrap = nullptr;
    for (const auto& w : s.wraps()) {
      if (w.node_id() == node_id) wrap = &w;
    }
    if (wrap == nullptr) {
      o.status = SectionStatus::kNotAddressed;
      continue;
    }
    std::optional<crypto::ContentKey> own_key;
    const crypto::ContentKey* content_key = nullptr;
    if (unwraps != nullptr) {
      content_key = unwraps->unwrap(key, as_bytes(wrap->sealed_key()));
    } else {
      own_key = crypto::unwrap_key(key, as_bytes(wrap->sealed_key()));
      if (own_key) content_key = &*own_key;
    }
    if (content_key == nullptr) {
      o.status = SectionStatus::kOpenFailed;
      continue;
    }
    const Bytes ad =
        section_associated_data(as_bytes(report.report.header()), static_cast<std::uint32_t>(i), as_bytes(s.label()));
    auto plain = crypto::decrypt(*content_key, as_bytes(s.nonce()), ad, as_bytes(s.ciphertext()));
    if (!plain) {
      o.status = SectionStatus::kOpenFailed;
      continue;
    }
    o.status = SectionStatus::kOpened;
    o.plaintext = std::move(*plain);
  }
  return out;
}

v1::Report redact(const v1::Report& report, const std::vector<bool>& keep) {
  v1::Report out;
  out.set_header(report.header());
  out.set_signature(report.signature());
  if (report.has_batch()) *out.mutable_batch() = report.batch();
  for (int i = 0; i < report.sections_size(); ++i) {
    auto* entry = out.add_sections();
    if (static_cast<std::size_t>(i) < keep.size() && keep[static_cast<std::size_t>(i)]) {
      *entry = report.sections(i);
    } else {
      entry->set_commitment(report.sections(i).commitment());
    }
  }
  return out;
}

}  // namespace tearline::report
