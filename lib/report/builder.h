// Building reports: seal each section to exactly the nodes its label admits,
// commit to it, and sign as the originator: format 2 signs the root of a
// Merkle tree over a batch of reports (report/batch.h), format 1 (kept for
// tools and tests that need it) signs each report's header and commitments.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "crypto/key_file.h"
#include "identity/directory.h"
#include "policy/label.h"
#include "report/builder_types.h"
#include "tearline/v1/report.pb.h"

namespace tearline::report {

struct SectionDraft {
  policy::Label label;
  Bytes content;
};

struct SourceCitation {
  Bytes report_id;                      // 16 bytes
  std::vector<std::uint32_t> sections;  // 0-based; empty = all sections
};

struct ReportDraft {
  std::string topic;
  std::vector<SectionDraft> sections;
  std::vector<SourceCitation> sources;
  std::int64_t created_at_ms = 0;
  std::uint64_t sequence = 0;
};

class KeyEpochs;

struct BuildOptions {
  std::uint32_t format_version = 2;  // 1: one signature per report (read-only format, for tools)
  KeyEpochs* epochs = nullptr;       // reuse content keys across reports (report/key_epochs.h)
  RandomFill random;                 // empty: libsodium's CSPRNG
};

struct BuiltReport {
  tearline::v1::Report report;
  Bytes bytes;  // serialized Report
  Bytes report_id;
  std::vector<std::vector<std::string>> recipients;  // per section, sorted node ids
};

// Seals every section to the nodes that policy::label_admits at created_at
// (the originator included when admitted), in node-id order, and signs the
// report as a batch of one (format 2). Fails with LABEL_INVALID,
// TOO_MANY_SECTIONS, TOO_MANY_RECIPIENTS, SECTION_TOO_LARGE, TOPIC_INVALID,
// or INVALID_FIELD for a bad draft; UNKNOWN_NODE when the originator is not
// in the directory. It does not judge may_publish.
Result<BuiltReport> build_report(const ReportDraft& draft, const std::string& originator,
                                 const crypto::SigningKey& signing_key, const identity::Directory& directory,
                                 const RandomFill& random = {});

// Lower-level: seals to an explicit recipient list (node id, sealing key),
// for tests and for tools that need a given wrap list.
Result<BuiltReport> build_report_to(const ReportDraft& draft, const std::string& originator,
                                    const crypto::SigningKey& signing_key,
                                    const std::vector<std::vector<Recipient>>& recipients,
                                    const RandomFill& random = {});

// 1..kMaxBatch drafts signed together (format 2): one Ed25519 signature over
// the root, each report with its leaf index and path; in the drafts' order.
// Any bad draft fails the whole batch (its reasons say "report N: ").
// Randomness is drawn report by report (report id, then per section salt,
// nonce and, for a new epoch or without epochs, content key), then the batch
// id. Format 1 signs each report on its own.
Result<std::vector<BuiltReport>> build_batch(const std::vector<ReportDraft>& drafts, const std::string& originator,
                                             const crypto::SigningKey& signing_key,
                                             const identity::Directory& directory, const BuildOptions& options = {});
// recipients[report][section].
Result<std::vector<BuiltReport>> build_batch_to(const std::vector<ReportDraft>& drafts, const std::string& originator,
                                                const crypto::SigningKey& signing_key,
                                                const std::vector<std::vector<std::vector<Recipient>>>& recipients,
                                                const BuildOptions& options = {});

// Signs `report` again after a tool changed it on purpose (the injection kit,
// forgery tests): format 1 over the report, format 2 as a batch of one (its
// batch id kept, or a fresh one when it has none).
void resign_alone(tearline::v1::Report* report, const crypto::SigningKey& signing_key);

// The recipients build_report would seal each section of `draft` to.
Result<std::vector<std::vector<Recipient>>> eligible_recipients(const ReportDraft& draft, const std::string& originator,
                                                                const identity::Directory& directory);

}  // namespace tearline::report
