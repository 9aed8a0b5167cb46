#include "report/builder.h"

#include <algorithm>

#include "base/canonical_proto.h"
#include "crypto/hash.h"
#include "crypto/sealing.h"
#include "crypto/signing.h"
#include "policy/decisions.h"
#include "policy/topic.h"
#include "report/format.h"

namespace tearline::report {
namespace v1 = tearline::v1;

namespace {

Status check_draft(const ReportDraft& draft) {
  Status s;
  s.merge(policy::validate_topic(draft.topic));
  if (draft.sections.empty() || draft.sections.size() > kMaxSections) {
    s.add(Code::TOO_MANY_SECTIONS, "a report has 1.." + std::to_string(kMaxSections) + " sections, not " +
                                       std::to_string(draft.sections.size()));
  }
  for (std::size_t i = 0; i < draft.sections.size(); ++i) {
    const auto& sec = draft.sections[i];
    Status label = policy::validate_label(sec.label);
    for (const auto& r : label.reasons()) s.add(r.code, "section " + std::to_string(i + 1) + ": " + r.message);
    if (sec.content.size() > kMaxSectionBytes) {
      s.add(Code::SECTION_TOO_LARGE, "section " + std::to_string(i + 1) + " has " + std::to_string(sec.content.size()) +
                                         " bytes; the limit is " + std::to_string(kMaxSectionBytes));
    }
  }
  if (draft.sources.size() > kMaxSources) {
    s.add(Code::INVALID_FIELD, "a report cites at most " + std::to_string(kMaxSources) + " sources");
  }
  for (const auto& src : draft.sources) {
    if (src.report_id.size() != kReportIdBytes) s.add(Code::INVALID_FIELD, "a source report id has 16 bytes");
  }
  if (draft.sequence == 0) s.add(Code::INVALID_FIELD, "sequence must be > 0");
  if (draft.created_at_ms <= 0) s.add(Code::INVALID_FIELD, "created-at must be set");
  return s;
}

void fill(const RandomFill& random, std::uint8_t* out, std::size_t n) {
  if (random) {
    random(out, n);
  } else {
    crypto::random_fill(out, n);
  }
}

}  // namespace

Result<BuiltReport> build_report_to(const ReportDraft& draft, const std::string& originator,
                                    const crypto::SigningKey& signing_key,
                                    const std::vector<std::vector<Recipient>>& recipients, const RandomFill& random) {
  Status s = check_draft(draft);
  if (recipients.size() != draft.sections.size()) s.add(Code::INVALID_FIELD, "one recipient list per section");
  for (std::size_t i = 0; i < recipients.size(); ++i) {
    if (recipients[i].size() > kMaxRecipients) {
      s.add(Code::TOO_MANY_RECIPIENTS, "section " + std::to_string(i + 1) + " would be sealed to " +
                                           std::to_string(recipients[i].size()) + " nodes; the limit is " +
                                           std::to_string(kMaxRecipients));
    }
  }
  if (!s) return s;

  BuiltReport out;
  out.report_id.resize(kReportIdBytes);
  fill(random, out.report_id.data(), kReportIdBytes);

  v1::ReportHeader header;
  header.set_format_version(kReportFormatVersion);
  header.set_report_id(out.report_id.data(), out.report_id.size());
  header.set_originator(originator);
  header.set_topic(draft.topic);
  header.set_created_at_ms(draft.created_at_ms);
  header.set_sequence(draft.sequence);
  for (const auto& src : draft.sources) {
    auto* ref = header.add_sources();
    ref->set_report_id(src.report_id.data(), src.report_id.size());
    for (auto idx : src.sections) ref->add_sections(idx);
  }
  const Bytes header_bytes = serialize_canonical(header);
  out.report.set_header(header_bytes.data(), header_bytes.size());

  for (std::size_t i = 0; i < draft.sections.size(); ++i) {
    const auto& sec = draft.sections[i];
    const Bytes label_bytes = encode_label(sec.label);
    auto* entry = out.report.add_sections();
    auto* sealed = entry->mutable_sealed();
    sealed->set_label(label_bytes.data(), label_bytes.size());

    std::uint8_t salt[kSaltBytes];
    fill(random, salt, sizeof salt);
    sealed->set_salt(salt, sizeof salt);
    crypto::Nonce nonce;
    fill(random, nonce.data(), nonce.size());
    sealed->set_nonce(nonce.data(), nonce.size());
    crypto::SecureBuffer<crypto::kContentKeyBytes> key_bytes;
    fill(random, key_bytes.data(), key_bytes.size());
    const crypto::ContentKey key = crypto::ContentKey::from_bytes(key_bytes.view());

    const Bytes ad = section_associated_data(header_bytes, static_cast<std::uint32_t>(i), label_bytes);
    const Bytes ct = crypto::encrypt(key, nonce, ad, sec.content);
    sealed->set_ciphertext(ct.data(), ct.size());

    std::vector<Recipient> sorted = recipients[i];
    std::sort(sorted.begin(), sorted.end(),
              [](const Recipient& a, const Recipient& b) { return a.node_id < b.node_id; });
    sorted.erase(std::unique(sorted.begin(), sorted.end(),
                             [](const Recipient& a, const Recipient& b) { return a.node_id == b.node_id; }),
                 sorted.end());
    std::vector<std::string> names;
    for (const auto& r : sorted) {
      const Bytes wrapped = crypto::wrap_key(r.key, key);
      auto* wrap = sealed->add_wraps();
      wrap->set_node_id(r.node_id);
      wrap->set_sealed_key(wrapped.data(), wrapped.size());
      names.push_back(r.node_id);
    }
    out.recipients.push_back(std::move(names));
    const crypto::Digest c = section_commitment(*sealed);
    entry->set_commitment(c.data(), c.size());
  }

  const crypto::Signature sig =
      crypto::sign(signing_key, crypto::tags::kReport, signature_payload(header_bytes, out.report));
  out.report.set_signature(sig.data(), sig.size());
  out.bytes = serialize_canonical(out.report);
  return out;
}

Result<BuiltReport> build_report(const ReportDraft& draft, const std::string& originator,
                                 const crypto::SigningKey& signing_key, const identity::Directory& directory,
                                 const RandomFill& random) {
  const identity::Credential* self = directory.node(originator);
  if (self == nullptr) return Status::fail(Code::UNKNOWN_NODE, "originator " + originator + " is not in the directory");
  const std::int64_t t = draft.created_at_ms / 1000;
  std::vector<std::vector<Recipient>> recipients;
  for (const auto& sec : draft.sections) {
    std::vector<Recipient> admitted;
    for (const identity::Credential* node : directory.nodes()) {
      if (policy::label_admits(directory, node->node_id, sec.label, self->country, t).allowed()) {
        admitted.push_back(Recipient{node->node_id, node->sealing_key});
      }
    }
    recipients.push_back(std::move(admitted));
  }
  return build_report_to(draft, originator, signing_key, recipients, random);
}

}  // namespace tearline::report
