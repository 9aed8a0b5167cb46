// Building a report: seal each section to exactly the nodes its label admits,
// commit to it, and sign the header and the commitments as the originator.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/result.h"
#include "crypto/key_file.h"
#include "identity/directory.h"
#include "policy/label.h"
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

// Randomness for report ids, salts, nonces and content keys. Tests pass a
// deterministic one to produce known-answer vectors; production uses
// libsodium's CSPRNG (the default).
using RandomFill = std::function<void(std::uint8_t*, std::size_t)>;

struct BuiltReport {
  tearline::v1::Report report;
  Bytes bytes;  // serialized Report
  Bytes report_id;
  std::vector<std::vector<std::string>> recipients;  // per section, sorted node ids
};

// Seals every section to the nodes that policy::label_admits at created_at
// (the originator included when admitted), in node-id order. Fails with
// LABEL_INVALID, TOO_MANY_SECTIONS, TOO_MANY_RECIPIENTS, SECTION_TOO_LARGE,
// TOPIC_INVALID, or INVALID_FIELD for a bad draft; UNKNOWN_NODE when the
// originator is not in the directory. It does not judge may_publish.
Result<BuiltReport> build_report(const ReportDraft& draft, const std::string& originator,
                                 const crypto::SigningKey& signing_key, const identity::Directory& directory,
                                 const RandomFill& random = {});

// Lower-level: seals to an explicit recipient list (node id, sealing key),
// for tests and for tools that need a given wrap list.
struct Recipient {
  std::string node_id;
  crypto::SealingPublicKey key;
};
Result<BuiltReport> build_report_to(const ReportDraft& draft, const std::string& originator,
                                    const crypto::SigningKey& signing_key,
                                    const std::vector<std::vector<Recipient>>& recipients,
                                    const RandomFill& random = {});

}  // namespace tearline::report
