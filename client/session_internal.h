// The client library's internal side: what tools and tests in this tree need
// beyond the public tearline/client.h, and is not installed with it (it names
// lib/ types and generated protobuf types): raw frames, built reports, the
// Session's directory, opening report bytes read from a file, and the
// conversions between the public vocabulary and lib/'s types.
//
// Include it as "client/session_internal.h" (tearline_client adds the project
// root to its users' include path, as for client/connection.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"
#include "crypto/keys.h"
#include "identity/directory.h"
#include "policy/label.h"
#include "receipt/acceptance.h"
#include "receipt/delivery.h"
#include "report/builder.h"
#include "report/verify.h"
#include "tearline/client.h"
#include "tearline/v1/wire.pb.h"

namespace tearline::client {

// Public <-> lib/ types. The conversions are exact (Classification keeps its
// wire number); to_policy does not normalize (build_report does).
policy::Label to_policy(const Label& label);
Label from_policy(const policy::Label& label);
std::optional<policy::Label> to_policy(const std::optional<Label>& label);  // a received section's label
report::ReportDraft to_report_draft(const Draft& draft);
Draft from_report_draft(const report::ReportDraft& draft);
SectionStatus from_report(report::SectionStatus status);
report::SectionStatus to_report(SectionStatus status);
// The broker's answers to LIST_SUBSCRIPTIONS and ADMIN "status", as the
// public types.
Subscriptions from_wire(const tearline::v1::SubscriptionList& list);
BrokerStatus from_wire(const tearline::v1::BrokerStatus& status);

// Builds a report as publish() would (sequence and created-at filled in when
// 0) without sending it (for `tearline explain` and testers).
Result<report::BuiltReport> build(Session& session, report::ReportDraft draft);
Result<report::BuiltReport> build(Session& session, const Draft& draft);

// For testers: sends raw bytes as one frame; returns the next frame the
// broker sends that is not a DELIVER (or nullopt on timeout).
std::optional<tearline::v1::Frame> send_raw(Session& session, ByteView frame_bytes, int timeout_ms);

// The directory the session loaded at connect().
const identity::Directory& directory(const Session& session);
// The broker's id as its last WELCOME said (empty before, or from a broker
// that names none).
const std::string& broker_id(const Session& session);

// Builds drafts as one batch with the session's content-key epochs.
Result<std::vector<report::BuiltReport>> build_batch(Session& session, std::vector<report::ReportDraft> drafts);

// Sends built reports as PUBLISHes all at once (pipelined) and waits for
// every verdict; outcomes in order (UNAVAILABLE for one not answered in time).
Result<std::vector<PublishOutcome>> publish_built(Session& session, const std::vector<report::BuiltReport>& built);

// The broker's CURVE public key for `options`: DIRECTORY/broker.pub, or,
// with options.broker_id, the transport key of that broker's credential in
// `directory` (UNKNOWN_NODE when it has none with role "broker"). `source`
// names where it came from, for a handshake failure's message.
struct BrokerKey {
  crypto::TransportPublicKey key;
  std::string source;
};
Result<BrokerKey> broker_key_for(const SessionOptions& options, const identity::Directory& directory);

// Verifies and opens delivered report bytes as `node_id` (used by Session,
// and by tools that read a report from a file). The report is valid only
// with its broker's acceptance receipt (`receipt`, a serialized
// AcceptanceReceipt): it must verify for this copy at `broker_seq`, signed
// by `broker_id` (when not empty: the broker the copy came from); its
// accepted_ms is then the witness of the revocation rule
// (report::VerifyOptions::accepted_ms). A missing or failing receipt fails
// verification with RECEIPT_INVALID first, followed by whatever else the
// report fails without a witness. No plaintext on any failure. The caches
// (not owned) are the session's: verified batch roots, content keys
// unwrapped with `key`, and verified receipt statements.
// `path`: Deliver.path (receipt::verify_path); the originator's standing is
// judged at the earliest acceptance it verifies.
Received open_delivered(ByteView report, std::uint64_t broker_seq, ByteView receipt, std::string_view broker_id,
                        const identity::Directory& directory, std::string_view node_id, const crypto::SealingKey& key,
                        report::RootCache* roots = nullptr, report::UnwrapCache* unwraps = nullptr,
                        report::RootCache* receipts = nullptr, ByteView path = {});

// Checks the acceptance receipt of an ACCEPTED against the report sent
// (`report` bytes, seq `broker_seq`, signed by `broker_id` when not empty):
// the Acceptance, or RECEIPT_INVALID.
Result<receipt::Acceptance> check_accepted(ByteView report, std::uint64_t broker_seq, ByteView receipt,
                                           std::string_view broker_id, const identity::Directory& directory,
                                           report::RootCache* receipts = nullptr);

}  // namespace tearline::client
