// Injection scenarios for `tearline inject` (docs/injection.md): a TOML file
// of [[case]] tables, each one message sent as a node (valid, or carrying a
// named fault), the verdict the broker must give it, and exactly which
// sections each directory node must receive. Parsing is pure; checking the
// scenario against a directory (nodes exist, a policy fault's report really
// breaks the rule it names) is a separate step.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "identity/directory.h"
#include "report/builder.h"

namespace tearline::cli::inject {

enum class Fault {
  kNone,  // a valid message
  kBadSignature,
  kSignedByOtherNode,
  kOriginatorNotSender,
  kReplayedId,
  kStaleTime,
  kFutureTime,
  kSequenceBack,
  kClassificationAboveClearance,
  kReleasableEscalation,
  kUnitNotMember,
  kOrconRedissemination,
  kLooserDerivedLabel,
  kTopicDenied,
  kOversizeFrame,
  kTruncatedBytes,
  kGarbageFrame,
  kDuplicateHeaderField,
  kUnknownFields,
  kUnknownReportField,
  kBatchWrongLeafIndex,
  kBatchSwappedSiblings,
  kBatchPathTruncated,
  kBatchForeignLeaf,
  kRevokedNode,
  kUnknownTransportKey,
  kForgedAckReceipt,
  kAckReceiptOtherBroker,
  kAckSignedByOtherNode,
  kPartnerSubscribe,
  kOneSidedPeering,
  kRevokedPeering,
  kPartnerCopy,
  kForgedHopStamp,
  kReplayedHopStamp,
  kLoopedCopy,
  kLinkCut,
};

// How the runner sends a case.
enum class FaultKind {
  kReport,       // builds the case's report (topic, sections), then alters it or its sending
  kReplay,       // re-sends the exact bytes of an earlier case
  kRawFrame,     // a raw frame that carries no report
  kConnection,   // a connection attempt, no message
  kAck,          // publishes the case's report on a raw session of the sender, receives it, answers with a crafted ACK
  kPartner,      // as a partner agency's boundary broker (docs/federation.md): `as` is its id
  kFromPartner,  // the case's report, of `originator`, sent as a copy by the partner broker `as` (--serve)
};

// Whether cases of this kind build and send a report of their own.
bool sends_report(FaultKind kind);

struct FaultInfo {
  Fault fault;
  std::string_view name;  // as written in `fault = "..."`
  FaultKind kind;
  std::string_view usual;    // the code the v1 broker answers with
  std::string_view summary;  // one line, for docs and --help
};

// Every fault, in the order of docs/injection.md (kNone excluded).
const std::vector<FaultInfo>& faults();
const FaultInfo* fault_info(Fault fault);  // nullptr for kNone
std::optional<Fault> fault_from_name(std::string_view name);
std::string_view fault_name(Fault fault);  // "" for kNone
FaultKind fault_kind(Fault fault);         // kReport for kNone

inline constexpr std::string_view kExpectAccepted = "accepted";

struct Case {
  std::string name;
  std::int64_t line = 0;  // of its [[case]] header
  std::string as;         // the sending node
  Fault fault = Fault::kNone;
  std::string expect;  // "accepted" or a code name
  std::string
      other;  // signed_by_other_node, originator_not_sender, ack_signed_by_other_node: the other node (empty: chosen)
  std::string originator;                      // FaultKind::kFromPartner: the report's originator
  report::ReportDraft draft;                   // topic and sections (FaultKind::kReport only)
  std::optional<std::size_t> derive_from;      // index of an earlier case cited as the source
  std::vector<std::uint32_t> derive_sections;  // 0-based; empty = every section
  std::optional<std::size_t> replay_of;        // replayed_id: index of the earlier case re-sent; replayed_hop_stamp:
                                               // of the earlier case whose copy's hop stamp is sent again
  // node -> 1-based section numbers it must receive opened; every node not
  // listed (and every node listed with []) must receive nothing.
  std::map<std::string, std::vector<std::uint32_t>> deliver;
  // partner broker -> 1-based section numbers that must cross to it sealed
  // (the others torn off); every partner broker the runner links to that is
  // not listed (or listed with []) must be sent nothing.
  std::map<std::string, std::vector<std::uint32_t>> cross;
};

struct Scenario {
  std::string source;                             // file name, for messages
  std::string sentinel_from = "diran-bogota-hq";  // publishes the sentinel report
  std::string sentinel_topic = "intel.sentinel";  // a topic every node may read
  std::string admin;                              // revoked_node's reloader (empty: first admin node)
  std::vector<Case> cases;
};

// Parses a scenario. Fails with INVALID_FIELD, one reason per problem, each
// "<source> line N: ..." (first problem first); LABEL_INVALID for a bad label.
Result<Scenario> parse_scenario(std::string_view toml_text, std::string_view source_name);
// Reads and parses; IO_ERROR when the file cannot be read.
Result<Scenario> load_scenario(const std::filesystem::path& path);

// Checks the scenario against the directory at `now_seconds`: every node it
// names exists (sentinel_from, admin, as, other, deliver keys); the brokers
// that `cross` names, and the `as` of a partner fault, are brokers of partner
// agencies; the admin node
// has the admin role; and each policy fault's report breaks the rule the
// fault names, judged locally with policy::may_publish (topic_denied is left
// to the broker, whose topic policy is not known here). INVALID_FIELD, one
// reason per problem with its line.
Status check_scenario(const Scenario& scenario, const identity::Directory& directory, std::int64_t now_seconds);

// The admin node the runner uses: scenario.admin, or the first node of the
// directory whose credential has the admin role; empty if none.
std::string admin_node(const Scenario& scenario, const identity::Directory& directory);

}  // namespace tearline::cli::inject
