#include "report/builder.h"

#include <algorithm>
#include <optional>

#include "base/canonical_proto.h"
#include "crypto/hash.h"
#include "crypto/sealing.h"
#include "crypto/signing.h"
#include "policy/decisions.h"
#include "policy/topic.h"
#include "report/batch.h"
#include "report/format.h"
#include "report/key_epochs.h"

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

// A report with every section sealed and committed, not yet signed.
Result<BuiltReport> seal_report(const ReportDraft& draft, const std::string& originator,
                                const std::vector<std::vector<Recipient>>& recipients, const BuildOptions& options) {
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
  fill_random(options.random, out.report_id.data(), kReportIdBytes);

  v1::ReportHeader header;
  header.set_format_version(options.format_version);
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
    fill_random(options.random, salt, sizeof salt);
    sealed->set_salt(salt, sizeof salt);
    crypto::Nonce nonce;
    fill_random(options.random, nonce.data(), nonce.size());
    sealed->set_nonce(nonce.data(), nonce.size());

    std::vector<Recipient> sorted = recipients[i];
    std::sort(sorted.begin(), sorted.end(),
              [](const Recipient& a, const Recipient& b) { return a.node_id < b.node_id; });
    sorted.erase(std::unique(sorted.begin(), sorted.end(),
                             [](const Recipient& a, const Recipient& b) { return a.node_id == b.node_id; }),
                 sorted.end());

    // Without epochs, a key for this section alone (the epoch's own
    // randomness order: the key, then its wraps).
    std::optional<KeyEpochs> one_off;
    KeyEpochs* epochs = options.epochs;
    if (epochs == nullptr) epochs = &one_off.emplace();
    const KeyEpochs::Use use = epochs->acquire(label_bytes, sorted, draft.created_at_ms, options.random);

    const Bytes ad = section_associated_data(header_bytes, static_cast<std::uint32_t>(i), label_bytes);
    const Bytes ct = crypto::encrypt(use.key, nonce, ad, sec.content);
    sealed->set_ciphertext(ct.data(), ct.size());

    std::vector<std::string> names;
    names.reserve(sorted.size());
    for (std::size_t r = 0; r < sorted.size(); ++r) {
      auto* wrap = sealed->add_wraps();
      wrap->set_node_id(sorted[r].node_id);
      wrap->set_sealed_key(use.wraps[r].data(), use.wraps[r].size());
      names.push_back(sorted[r].node_id);
    }
    out.recipients.push_back(std::move(names));
    const crypto::Digest c = section_commitment(*sealed);
    entry->set_commitment(c.data(), c.size());
  }
  return out;
}

Status prefixed(const Status& s, std::size_t index, std::size_t count) {
  if (count == 1 || s) return s;
  Status out;
  for (const auto& r : s.reasons()) out.add(r.code, "report " + std::to_string(index + 1) + ": " + r.message);
  return out;
}

}  // namespace

void fill_random(const RandomFill& random, std::uint8_t* out, std::size_t n) {
  if (random) {
    random(out, n);
  } else {
    crypto::random_fill(out, n);
  }
}

Result<std::vector<BuiltReport>> build_batch_to(const std::vector<ReportDraft>& drafts, const std::string& originator,
                                                const crypto::SigningKey& signing_key,
                                                const std::vector<std::vector<std::vector<Recipient>>>& recipients,
                                                const BuildOptions& options) {
  if (drafts.empty() || drafts.size() > kMaxBatch) {
    return Status::fail(Code::INVALID_FIELD, "a batch has 1.." + std::to_string(kMaxBatch) + " reports, not " +
                                                 std::to_string(drafts.size()));
  }
  if (recipients.size() != drafts.size()) return Status::fail(Code::INVALID_FIELD, "one recipient list per report");
  if (options.format_version != kReportFormatVersion && options.format_version != kReportFormatV1) {
    return Status::fail(Code::REPORT_VERSION,
                        "report format " + std::to_string(options.format_version) + " cannot be built (1 or 2)");
  }
  std::vector<BuiltReport> out;
  out.reserve(drafts.size());
  Status all;
  for (std::size_t i = 0; i < drafts.size(); ++i) {
    auto sealed = seal_report(drafts[i], originator, recipients[i], options);
    if (!sealed) {
      all.merge(prefixed(sealed.status(), i, drafts.size()));
      continue;
    }
    out.push_back(std::move(sealed).value());
  }
  if (!all) return all;

  if (options.format_version == kReportFormatV1) {
    for (auto& b : out) {
      const crypto::Signature sig =
          crypto::sign(signing_key, crypto::tags::kReport, signature_payload(as_bytes(b.report.header()), b.report));
      b.report.set_signature(sig.data(), sig.size());
      b.bytes = serialize_canonical(b.report);
    }
    return out;
  }

  std::vector<crypto::Digest> leaves;
  leaves.reserve(out.size());
  for (const auto& b : out) leaves.push_back(batch_leaf(b.report));
  std::uint8_t batch_id[kBatchIdBytes];
  fill_random(options.random, batch_id, sizeof batch_id);
  const auto count = static_cast<std::uint32_t>(out.size());
  const crypto::Digest root = batch_root(leaves);
  const crypto::Signature sig =
      crypto::sign(signing_key, crypto::tags::kReportBatch,
                   batch_statement(originator, ByteView(batch_id, kBatchIdBytes), count, root));
  for (std::size_t i = 0; i < out.size(); ++i) {
    v1::Report& r = out[i].report;
    r.set_signature(sig.data(), sig.size());
    v1::BatchProof* proof = r.mutable_batch();
    proof->set_batch_id(batch_id, sizeof batch_id);
    proof->set_leaf_count(count);
    proof->set_leaf_index(static_cast<std::uint32_t>(i));
    for (const crypto::Digest& d : batch_path(leaves, i)) proof->add_path(d.data(), d.size());
    out[i].bytes = serialize_canonical(r);
  }
  return out;
}

Result<std::vector<std::vector<Recipient>>> eligible_recipients(const ReportDraft& draft, const std::string& originator,
                                                                const identity::Directory& directory) {
  const identity::Credential* self = directory.node(originator);
  if (self == nullptr) return Status::fail(Code::UNKNOWN_NODE, "originator " + originator + " is not in the directory");
  const std::int64_t t = draft.created_at_ms / 1000;
  std::vector<std::vector<Recipient>> recipients;
  for (const auto& sec : draft.sections) {
    std::vector<Recipient> admitted;
    for (const identity::Credential* node : directory.nodes()) {
      if (node->has_role(identity::kBrokerRole)) continue;  // a broker never reads a section
      if (policy::label_admits(directory, node->node_id, sec.label, self->country, t).allowed()) {
        admitted.push_back(Recipient{node->node_id, node->sealing_key});
      }
    }
    recipients.push_back(std::move(admitted));
  }
  return recipients;
}

Result<std::vector<BuiltReport>> build_batch(const std::vector<ReportDraft>& drafts, const std::string& originator,
                                             const crypto::SigningKey& signing_key,
                                             const identity::Directory& directory, const BuildOptions& options) {
  std::vector<std::vector<std::vector<Recipient>>> recipients;
  recipients.reserve(drafts.size());
  for (const auto& d : drafts) {
    auto r = eligible_recipients(d, originator, directory);
    if (!r) return r.status();
    recipients.push_back(std::move(r).value());
  }
  return build_batch_to(drafts, originator, signing_key, recipients, options);
}

void resign_alone(v1::Report* report, const crypto::SigningKey& signing_key) {
  v1::ReportHeader header;
  const bool v1_format = header.ParseFromString(report->header()) && header.format_version() == kReportFormatV1;
  if (v1_format) {
    const crypto::Signature sig =
        crypto::sign(signing_key, crypto::tags::kReport, signature_payload(as_bytes(report->header()), *report));
    report->set_signature(sig.data(), sig.size());
    return;
  }
  v1::BatchProof* proof = report->mutable_batch();
  if (proof->batch_id().size() != kBatchIdBytes) {
    std::uint8_t id[kBatchIdBytes];
    crypto::random_fill(id, sizeof id);
    proof->set_batch_id(id, sizeof id);
  }
  proof->set_leaf_count(1);
  proof->set_leaf_index(0);
  proof->clear_path();
  const crypto::Signature sig =
      crypto::sign(signing_key, crypto::tags::kReportBatch,
                   batch_statement(header.originator(), as_bytes(proof->batch_id()), 1, batch_leaf(*report)));
  report->set_signature(sig.data(), sig.size());
}

namespace {

Result<BuiltReport> only(Result<std::vector<BuiltReport>> batch) {
  if (!batch) return batch.status();
  return std::move(batch->front());
}

}  // namespace

Result<BuiltReport> build_report_to(const ReportDraft& draft, const std::string& originator,
                                    const crypto::SigningKey& signing_key,
                                    const std::vector<std::vector<Recipient>>& recipients, const RandomFill& random) {
  BuildOptions options;
  options.random = random;
  return only(build_batch_to({draft}, originator, signing_key, {recipients}, options));
}

Result<BuiltReport> build_report(const ReportDraft& draft, const std::string& originator,
                                 const crypto::SigningKey& signing_key, const identity::Directory& directory,
                                 const RandomFill& random) {
  BuildOptions options;
  options.random = random;
  return only(build_batch({draft}, originator, signing_key, directory, options));
}

}  // namespace tearline::report
