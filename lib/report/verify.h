// Verifying, opening and redacting reports.
//
// verify_report() takes untrusted bytes and a directory and returns either a
// VerifiedReport or a rejection with its reason; it never releases plaintext.
// open_sections() then opens, for one node, the sections sealed to it.
// redact() tears off sections (keeps only their commitments): the signature
// still verifies and the recipient learns only how many were withheld.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "crypto/keys.h"
#include "identity/directory.h"
#include "policy/label.h"
#include "report/format.h"
#include "report/root_cache.h"
#include "report/unwrap_cache.h"
#include "tearline/v1/report.pb.h"

namespace tearline::report {

struct VerifiedSection {
  Bytes commitment;
  bool present = false;                 // false: withheld (only the commitment travelled)
  std::optional<policy::Label> label;   // when present
  std::vector<std::string> recipients;  // wrap list, when present
};

struct VerifiedReport {
  tearline::v1::Report report;        // as parsed
  tearline::v1::ReportHeader header;  // parsed from the exact signed bytes
  std::vector<VerifiedSection> sections;
  identity::Credential originator;  // the originator's credential at verification

  std::string report_id_hex() const;
  std::size_t withheld_count() const;
};

struct VerifyOptions {
  // Credential validity is judged at the report's created-at; the broker
  // additionally bounds created-at against its own clock.
  // A verifier may lower the format's limits (report/format.h), never raise them.
  std::size_t max_sections = kMaxSections;
  std::size_t max_recipients = kMaxRecipients;
  // Format 2: batch roots verified before cost hashes only. Not owned; null:
  // every report's batch signature is verified.
  RootCache* roots = nullptr;
  // The originator's revocation (identity::Directory::check_signer):
  // `accepting` (the broker at ingress): any revocation refuses, as
  // ORIGINATOR_INVALID. Otherwise the rule in time, witnessed at
  // `accepted_ms`: the acceptance time of a broker receipt that verified (or
  // the broker's own record); nullopt: no such receipt, so a credential
  // revoked COMPROMISED refuses whatever the report's created-at says.
  bool accepting = false;
  std::optional<std::int64_t> accepted_ms;
};

// Rejection codes, each specific: REPORT_MALFORMED (does not parse, unknown
// fields, bad sizes), BAD_ENCODING (header or label not canonical),
// REPORT_VERSION, TOPIC_INVALID, TOO_MANY_SECTIONS, TOO_MANY_RECIPIENTS,
// LABEL_INVALID, COMMITMENT_MISMATCH, ORIGINATOR_INVALID (unknown, expired,
// not yet valid or revoked), ORIGINATOR_COMPROMISED (the revocation rule in
// time, see VerifyOptions), REPORT_SIGNATURE. Format 2: a batch proof that
// is missing, out of bounds, or whose path has the wrong length for its leaf
// index and count is REPORT_MALFORMED; a path that leads to a root the
// originator did not sign is REPORT_SIGNATURE. Format 1 verifies as before.
[[nodiscard]] Result<VerifiedReport> verify_report(ByteView bytes, const identity::Directory& directory,
                                                   const VerifyOptions& options = {});

// The second half of verify_report: the originator's credential and the
// signature, on what parse_report_structure returned (so a caller that looks
// at the parsed header first parses once).
[[nodiscard]] Result<VerifiedReport> verify_parsed(VerifiedReport parsed, const identity::Directory& directory,
                                                   const VerifyOptions& options = {});

// The originator's signature alone, without the validity and revocation
// rules: ORIGINATOR_INVALID when the originator is not in `directory`,
// REPORT_SIGNATURE when the signature does not verify under its credential's
// key. For the broker's re-check of stored reports: a stored report withheld
// for its originator's standing may still be damaged.
[[nodiscard]] Status verify_signature_only(const VerifiedReport& parsed, const identity::Directory& directory,
                                           RootCache* roots = nullptr);

// The structural half of verify_report (parsing, canonical encoding, sizes,
// labels, commitments) without the originator and signature checks. Only for
// bytes that were verified before and kept by this process (the broker's own
// store); `originator` is left empty.
[[nodiscard]] Result<VerifiedReport> parse_report_structure(ByteView bytes, const VerifyOptions& options = {});

enum class SectionStatus { kOpened, kWithheld, kNotAddressed, kOpenFailed };
std::string_view section_status_name(SectionStatus s);  // "opened", "withheld", "not addressed", "open failed"

struct OpenedSection {
  SectionStatus status = SectionStatus::kWithheld;
  std::optional<policy::Label> label;
  Bytes plaintext;  // only when opened
};

// Opens every section sealed to `node_id` with its sealing key; through
// `unwraps` (not owned; keyed to this same sealing key) when given.
std::vector<OpenedSection> open_sections(const VerifiedReport& report, std::string_view node_id,
                                         const crypto::SealingKey& key, UnwrapCache* unwraps = nullptr);

// The report with only the sections where keep[i] is true left sealed; the
// others are reduced to their commitments. keep.size() must equal the number
// of sections.
tearline::v1::Report redact(const tearline::v1::Report& report, const std::vector<bool>& keep);

}  // namespace tearline::report
