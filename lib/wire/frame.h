// Frames of the client <-> broker protocol (docs/protocol.md): the protocol
// constants shared by reader and writer (the limits are in wire/limits.h),
// decoding with named failures, encoding, builders, and conversions between
// Status and the wire.
//
// One ZeroMQ message carries exactly one tearline.v1.Frame. Decoding never
// throws: a bad frame is a normal outcome and comes back as a Status.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "tearline/v1/wire.pb.h"
#include "wire/limits.h"  // re-exported: every user of frames needs the limits

namespace tearline::wire {

// ---- Protocol constants (docs/protocol.md, "Constants and limits") --------

inline constexpr std::string_view kProtocolName = "tearline";  // Hello.protocol
inline constexpr std::uint32_t kProtocolVersion = 1;           // Hello/Welcome.version
inline constexpr std::string_view kZapDomain = "tearline";     // broker ZMQ_ZAP_DOMAIN

// Request id 0 is reserved: ERROR frames not about a request carry it, and a
// request or an answer to one that carries it is malformed.
inline constexpr std::uint64_t kNoRequestId = 0;

// The ADMIN commands and the role they need.
inline constexpr std::string_view kAdminReload = "reload";  // answered ACCEPTED
inline constexpr std::string_view kAdminStatus = "status";  // answered BROKER_STATUS
inline constexpr std::string_view kAdminRole = "admin";

// ---- Decoding and encoding ------------------------------------------------

// Parses one frame. Fails with
//   FRAME_TOO_LARGE  when bytes.size() > max_frame_bytes (checked before parsing);
//   MALFORMED_FRAME  when the bytes do not parse as a proto3 Frame, carry an
//                    unknown field at any depth, set no body or more than
//                    one body (two members of the oneof), or a request
//                    (or its ACCEPTED/REJECTED answer) carries request_id 0.
// Each failure's message names what was wrong.
[[nodiscard]] Result<tearline::v1::Frame> decode_frame(ByteView bytes, std::size_t max_frame_bytes);

// The deterministic proto3 serialization of `frame`.
Bytes encode_frame(const tearline::v1::Frame& frame);

// encode_frame(make_deliver(broker_seq, report, receipt, writer, path)), byte
// for byte, written straight into one buffer: the broker's per-delivery
// path, without copying the report into a Frame first.
Bytes encode_deliver(std::uint64_t broker_seq, ByteView report, ByteView receipt = {}, std::string_view writer = {},
                     ByteView path = {});

// ---- Builders ---------------------------------------------------------------
// Each returns a frame with exactly the named body set. Builders do not
// validate: request ids, patterns and limits are the caller's to respect.

tearline::v1::Frame make_hello(std::string_view client_name);  // protocol/version from above
tearline::v1::Frame make_welcome(std::string_view node_id, std::int64_t broker_time_ms, std::uint32_t max_frame_bytes,
                                 std::uint32_t max_subscriptions, std::string_view broker_id = {},
                                 ByteView directory_digest = {});
// Error.code = `code`; reasons = every reason of `reasons`, or one reason
// {code, code_meaning(code)} when `reasons` is OK. Use it for session-level
// errors that carry underlying causes (SESSION_REVOKED because of REVOKED).
tearline::v1::Frame make_error(Code code, const Status& reasons, std::uint64_t request_id = kNoRequestId);
// Error with one reason {code, message}.
tearline::v1::Frame make_error(Code code, std::string message, std::uint64_t request_id = kNoRequestId);
// Rejected.code = status.code() (the first reason's); every reason is copied.
// `status` must not be OK.
tearline::v1::Frame make_rejected(std::uint64_t request_id, const Status& status);
// report_id, broker_seq and the acceptance receipt are set for PUBLISH;
// empty and 0 for other requests.
tearline::v1::Frame make_accepted(std::uint64_t request_id, ByteView report_id = {}, std::uint64_t broker_seq = 0,
                                  ByteView receipt = {});
// `path`: a serialized CrossingPath (receipt.proto), empty for a report published to this broker.
tearline::v1::Frame make_deliver(std::uint64_t broker_seq, ByteView report, ByteView receipt = {},
                                 std::string_view writer = {}, ByteView path = {});
// `receipt`: the node's serialized, signed DeliveryReceipt (receipt/delivery.h).
// `writer`: the stream acknowledged (docs/protocol.md 6.14); empty: the broker's own.
tearline::v1::Frame make_ack(std::uint64_t broker_seq, ByteView receipt = {}, std::string_view writer = {});
// Ack.refused entry (a partner's boundary broker, docs/protocol.md 6.8): the
// copy `broker_seq` with `report_id` (raw 16 bytes) was refused for
// `reasons` (not OK); the first kMaxCopyRefusalReasons are kept, each
// message cut to kMaxCopyRefusalMessageBytes (at a UTF-8 character's start).
inline constexpr std::size_t kMaxCopyRefusalReasons = 16;
inline constexpr std::size_t kMaxCopyRefusalMessageBytes = 256;
tearline::v1::CopyRefusal make_copy_refusal(std::uint64_t broker_seq, std::string_view report_id,
                                            const Status& reasons);
tearline::v1::Frame make_ping(std::uint64_t nonce);
tearline::v1::Frame make_pong(std::uint64_t nonce);
tearline::v1::Frame make_subscribe(std::uint64_t request_id, const std::vector<std::string>& patterns);
tearline::v1::Frame make_unsubscribe(std::uint64_t request_id, const std::vector<std::string>& patterns);
tearline::v1::Frame make_publish(std::uint64_t request_id, ByteView report);
tearline::v1::Frame make_admin(std::uint64_t request_id, std::string_view command);
// SUBSCRIBE / UNSUBSCRIBE with Subscribe.session_only set: `session_only`
// patterns last for the session; the others are the node's durable ones.
tearline::v1::Frame make_subscribe(std::uint64_t request_id, const std::vector<std::string>& patterns,
                                   bool session_only);
tearline::v1::Frame make_unsubscribe(std::uint64_t request_id, const std::vector<std::string>& patterns,
                                     bool session_only);
tearline::v1::Frame make_list_subscriptions(std::uint64_t request_id);
tearline::v1::Frame make_directory_changed(ByteView directory_digest, std::uint64_t generation);
// BYE: the reason is cut to kMaxByeReasonBytes.
inline constexpr std::size_t kMaxByeReasonBytes = 256;
tearline::v1::Frame make_bye(std::string_view reason);
// GAP: the record at broker_seq will not be delivered, for `reasons` (not OK).
tearline::v1::Frame make_gap(std::uint64_t broker_seq, const Status& reasons, std::string_view writer = {});
// SUBSCRIPTION_LIST: both lists sorted here.
tearline::v1::Frame make_subscription_list(std::uint64_t request_id, std::vector<std::string> durable,
                                           std::vector<std::string> session, std::uint64_t acked_seq);

// ---- Status <-> wire --------------------------------------------------------

// Appends one v1::Reason {number, name, message} per reason of `status`.
void to_proto(const Status& status, google::protobuf::RepeatedPtrField<tearline::v1::Reason>* out);
// OK for an empty list. A reason whose number is not in TEARLINE_CODES (or is
// 0) becomes PROTOCOL_VIOLATION with the number and the sender's name kept in
// the message, so a peer with a newer code list is still understood by humans.
Status status_from_proto(const google::protobuf::RepeatedPtrField<tearline::v1::Reason>& reasons);
// Never OK: the reasons of an ERROR / REJECTED, or, when the peer sent none,
// one reason built from its `code` field.
Status status_of(const tearline::v1::Error& error);
Status status_of(const tearline::v1::Rejected& rejected);
// The reasons of a GAP (never OK; STORAGE_DAMAGED when it carries none).
Status status_of(const tearline::v1::Gap& gap);

// ---- Frame types and direction -------------------------------------------

// "HELLO", "WELCOME", ..., "ADMIN", "LIST_SUBSCRIPTIONS", "SUBSCRIPTION_LIST",
// "BROKER_STATUS", "DIRECTORY_CHANGED", "BYE", "GAP"; "EMPTY" when no body is set.
std::string_view frame_type_name(const tearline::v1::Frame& frame);
// Client -> broker: HELLO SUBSCRIBE UNSUBSCRIBE PUBLISH ACK PING ADMIN
// LIST_SUBSCRIPTIONS BYE.
bool is_client_frame(const tearline::v1::Frame& frame);
// Broker -> client: WELCOME ERROR ACCEPTED REJECTED DELIVER PONG
// SUBSCRIPTION_LIST BROKER_STATUS DIRECTORY_CHANGED GAP.
// A broker receiving one answers ERROR UNEXPECTED_FRAME (request id 0).
bool is_server_frame(const tearline::v1::Frame& frame);
// The request id a frame carries (requests and their answers, ERROR);
// kNoRequestId for frames without one.
std::uint64_t request_id_of(const tearline::v1::Frame& frame);

// Whether a failed request with this code counts toward kMaxConsecutiveFailures.
// Broker-side conditions (RATE_LIMITED, BROKER_BUSY, STORAGE_*) neither count
// nor reset the counter; OK never counts.
bool counts_toward_failure_limit(Code code);

// Whether an ERROR with this code ends the session (state CLOSED):
// SESSION_REVOKED, TOO_MANY_FAILURES, SLOW_CONSUMER, SESSION_REPLACED. (RECEIPT_INVALID, an
// ACK whose delivery receipt failed, is a bad frame: the session stays.)
bool closes_session(Code code);

// OK, or UNSUPPORTED_VERSION naming what the broker supports, for a HELLO
// whose protocol is not kProtocolName or whose version is not kProtocolVersion.
Status check_hello(const tearline::v1::Hello& hello);

}  // namespace tearline::wire
