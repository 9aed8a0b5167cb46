#include "wire/frame.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include <algorithm>
#include <cassert>
#include <cstring>

#include "base/canonical_proto.h"

namespace tearline::wire {
namespace {

using tearline::v1::Frame;

bool request_id_required(const Frame& frame) {
  switch (frame.body_case()) {
    case Frame::kSubscribe:
    case Frame::kUnsubscribe:
    case Frame::kPublish:
    case Frame::kAdmin:
    case Frame::kListSubscriptions:
    case Frame::kSubscriptionList:
    case Frame::kBrokerStatus:
    case Frame::kAccepted:
    case Frame::kRejected: return true;
    default: return false;
  }
}

// The body field numbers of Frame (1..kLastBody): protobuf keeps only the
// last of a oneof's members on the wire, so a frame that sets two bodies
// would be read as the later one. The decoder refuses it instead.
constexpr std::uint32_t kLastBody = 19;  // Gap; Bye is 18

// The number of distinct body fields present at the top level of `bytes`
// (which parse_strict has already accepted as a Frame); a field repeated with
// the same number counts once (protobuf merges it).
int distinct_bodies(ByteView bytes) {
  google::protobuf::io::CodedInputStream in(bytes.data(), static_cast<int>(bytes.size()));
  std::uint32_t seen = 0;
  for (std::uint32_t tag = in.ReadTag(); tag != 0; tag = in.ReadTag()) {
    const std::uint32_t field = google::protobuf::internal::WireFormatLite::GetTagFieldNumber(tag);
    if (field >= 1 && field <= kLastBody) seen |= 1U << field;
    if (!google::protobuf::internal::WireFormatLite::SkipField(&in, tag)) break;
  }
  return __builtin_popcount(seen);
}

}  // namespace

Result<Frame> decode_frame(ByteView bytes, std::size_t max_frame_bytes) {
  if (bytes.size() > max_frame_bytes) {
    return Result<Frame>::fail(Code::FRAME_TOO_LARGE, "frame of " + std::to_string(bytes.size()) +
                                                          " bytes exceeds the limit of " +
                                                          std::to_string(max_frame_bytes) + " bytes");
  }
  Frame frame;
  Status parsed = parse_strict(bytes, &frame, "frame", Code::MALFORMED_FRAME);
  if (!parsed) {
    // parse_strict leaves a fully parsed message behind when the only problem
    // is unknown fields; say where they were.
    if (parsed.reasons().front().message == "frame has unknown fields") {
      return Result<Frame>::fail(
          Code::MALFORMED_FRAME,
          frame.body_case() == Frame::BODY_NOT_SET
              ? "frame has unknown fields and no known body (unknown frame type)"
              : "frame has unknown fields in its " + std::string(frame_type_name(frame)) + " body");
    }
    return parsed;
  }
  if (frame.body_case() == Frame::BODY_NOT_SET) {
    return Result<Frame>::fail(Code::MALFORMED_FRAME, "frame has no body (empty frame)");
  }
  if (distinct_bodies(bytes) > 1) {
    return Result<Frame>::fail(Code::MALFORMED_FRAME,
                               "frame sets more than one body (a frame carries exactly one message)");
  }
  if (request_id_required(frame) && request_id_of(frame) == kNoRequestId) {
    return Result<Frame>::fail(Code::MALFORMED_FRAME,
                               std::string(frame_type_name(frame)) + " frame has request_id 0 (reserved)");
  }
  return frame;
}

Bytes encode_frame(const Frame& frame) { return serialize_canonical(frame); }

Bytes encode_deliver(std::uint64_t broker_seq, ByteView report, ByteView receipt, std::string_view writer,
                     ByteView path) {
  using google::protobuf::internal::WireFormatLite;
  using google::protobuf::io::CodedOutputStream;
  // Deliver { 1: broker_seq (varint, omitted when 0), 2: report (bytes, omitted
  // when empty), 3: receipt (bytes, omitted when empty), 4: writer (string,
  // omitted when empty), 5: path (bytes, omitted when empty) }
  const auto bytes_field = [](ByteView b) {
    return b.empty() ? 0 : 1 + CodedOutputStream::VarintSize32(static_cast<std::uint32_t>(b.size())) + b.size();
  };
  const std::size_t seq_bytes = broker_seq == 0 ? 0 : 1 + CodedOutputStream::VarintSize64(broker_seq);
  const ByteView writer_bytes = as_bytes(writer);
  const std::size_t body =
      seq_bytes + bytes_field(report) + bytes_field(receipt) + bytes_field(writer_bytes) + bytes_field(path);
  // Frame { 9: deliver (message) }
  Bytes out(1 + CodedOutputStream::VarintSize32(static_cast<std::uint32_t>(body)) + body);
  std::uint8_t* p = out.data();
  p = WireFormatLite::WriteTagToArray(Frame::kDeliverFieldNumber, WireFormatLite::WIRETYPE_LENGTH_DELIMITED, p);
  p = CodedOutputStream::WriteVarint32ToArray(static_cast<std::uint32_t>(body), p);
  if (broker_seq != 0)
    p = WireFormatLite::WriteUInt64ToArray(tearline::v1::Deliver::kBrokerSeqFieldNumber, broker_seq, p);
  const auto write_bytes = [&p](int field, ByteView b) {
    if (b.empty()) return;
    p = WireFormatLite::WriteTagToArray(field, WireFormatLite::WIRETYPE_LENGTH_DELIMITED, p);
    p = CodedOutputStream::WriteVarint32ToArray(static_cast<std::uint32_t>(b.size()), p);
    std::memcpy(p, b.data(), b.size());
    p += b.size();
  };
  write_bytes(tearline::v1::Deliver::kReportFieldNumber, report);
  write_bytes(tearline::v1::Deliver::kReceiptFieldNumber, receipt);
  write_bytes(tearline::v1::Deliver::kWriterFieldNumber, writer_bytes);
  write_bytes(tearline::v1::Deliver::kPathFieldNumber, path);
  return out;
}

// ---- Builders ---------------------------------------------------------------

Frame make_hello(std::string_view client_name) {
  Frame f;
  auto* hello = f.mutable_hello();
  hello->set_protocol(std::string(kProtocolName));
  hello->set_version(kProtocolVersion);
  hello->set_client(std::string(client_name));
  return f;
}

Frame make_welcome(std::string_view node_id, std::int64_t broker_time_ms, std::uint32_t max_frame_bytes,
                   std::uint32_t max_subscriptions, std::string_view broker_id, ByteView directory_digest) {
  Frame f;
  auto* welcome = f.mutable_welcome();
  welcome->set_version(kProtocolVersion);
  welcome->set_node_id(std::string(node_id));
  welcome->set_broker_time_ms(broker_time_ms);
  welcome->set_max_frame_bytes(max_frame_bytes);
  welcome->set_max_subscriptions(max_subscriptions);
  welcome->set_broker_id(std::string(broker_id));
  welcome->set_directory_digest(to_string(directory_digest));
  return f;
}

Frame make_error(Code code, const Status& reasons, std::uint64_t request_id) {
  Frame f;
  auto* error = f.mutable_error();
  error->set_code(static_cast<std::uint32_t>(code));
  error->set_request_id(request_id);
  if (reasons.is_ok()) {
    to_proto(Status::fail(code, std::string(code_meaning(code))), error->mutable_reasons());
  } else {
    to_proto(reasons, error->mutable_reasons());
  }
  return f;
}

Frame make_error(Code code, std::string message, std::uint64_t request_id) {
  return make_error(code, Status::fail(code, std::move(message)), request_id);
}

Frame make_rejected(std::uint64_t request_id, const Status& status) {
  assert(!status.is_ok());
  Frame f;
  auto* rejected = f.mutable_rejected();
  rejected->set_request_id(request_id);
  rejected->set_code(static_cast<std::uint32_t>(status.code()));
  to_proto(status, rejected->mutable_reasons());
  return f;
}

Frame make_accepted(std::uint64_t request_id, ByteView report_id, std::uint64_t broker_seq, ByteView receipt) {
  Frame f;
  auto* accepted = f.mutable_accepted();
  accepted->set_request_id(request_id);
  accepted->set_report_id(to_string(report_id));
  accepted->set_broker_seq(broker_seq);
  accepted->set_receipt(to_string(receipt));
  return f;
}

Frame make_deliver(std::uint64_t broker_seq, ByteView report, ByteView receipt, std::string_view writer,
                   ByteView path) {
  Frame f;
  auto* deliver = f.mutable_deliver();
  deliver->set_broker_seq(broker_seq);
  deliver->set_report(to_string(report));
  deliver->set_receipt(to_string(receipt));
  deliver->set_writer(std::string(writer));
  deliver->set_path(to_string(path));
  return f;
}

tearline::v1::CopyRefusal make_copy_refusal(std::uint64_t broker_seq, std::string_view report_id,
                                            const Status& reasons) {
  tearline::v1::CopyRefusal r;
  r.set_broker_seq(broker_seq);
  r.set_report_id(std::string(report_id));
  Status kept;
  for (const auto& reason : reasons.reasons()) {
    if (kept.reasons().size() == kMaxCopyRefusalReasons) break;
    std::size_t n = std::min(reason.message.size(), kMaxCopyRefusalMessageBytes);
    // Not inside a character: back to the start of the one the cut falls in.
    if (n < reason.message.size()) {
      while (n > 0 && (static_cast<unsigned char>(reason.message[n]) & 0xC0) == 0x80) --n;
    }
    kept.add(reason.code, reason.message.substr(0, n));
  }
  to_proto(kept, r.mutable_reasons());
  return r;
}

Frame make_ack(std::uint64_t broker_seq, ByteView receipt, std::string_view writer) {
  Frame f;
  f.mutable_ack()->set_broker_seq(broker_seq);
  f.mutable_ack()->set_receipt(to_string(receipt));
  f.mutable_ack()->set_writer(std::string(writer));
  return f;
}

Frame make_ping(std::uint64_t nonce) {
  Frame f;
  f.mutable_ping()->set_nonce(nonce);
  return f;
}

Frame make_pong(std::uint64_t nonce) {
  Frame f;
  f.mutable_pong()->set_nonce(nonce);
  return f;
}

Frame make_subscribe(std::uint64_t request_id, const std::vector<std::string>& patterns) {
  Frame f;
  auto* subscribe = f.mutable_subscribe();
  subscribe->set_request_id(request_id);
  for (const auto& p : patterns) subscribe->add_patterns(p);
  return f;
}

Frame make_unsubscribe(std::uint64_t request_id, const std::vector<std::string>& patterns) {
  Frame f;
  auto* unsubscribe = f.mutable_unsubscribe();
  unsubscribe->set_request_id(request_id);
  for (const auto& p : patterns) unsubscribe->add_patterns(p);
  return f;
}

Frame make_publish(std::uint64_t request_id, ByteView report) {
  Frame f;
  auto* publish = f.mutable_publish();
  publish->set_request_id(request_id);
  publish->set_report(to_string(report));
  return f;
}

Frame make_admin(std::uint64_t request_id, std::string_view command) {
  Frame f;
  auto* admin = f.mutable_admin();
  admin->set_request_id(request_id);
  admin->set_command(std::string(command));
  return f;
}

Frame make_subscribe(std::uint64_t request_id, const std::vector<std::string>& patterns, bool session_only) {
  Frame f = make_subscribe(request_id, patterns);
  f.mutable_subscribe()->set_session_only(session_only);
  return f;
}

Frame make_unsubscribe(std::uint64_t request_id, const std::vector<std::string>& patterns, bool session_only) {
  Frame f = make_unsubscribe(request_id, patterns);
  f.mutable_unsubscribe()->set_session_only(session_only);
  return f;
}

Frame make_list_subscriptions(std::uint64_t request_id) {
  Frame f;
  f.mutable_list_subscriptions()->set_request_id(request_id);
  return f;
}

Frame make_directory_changed(ByteView directory_digest, std::uint64_t generation) {
  Frame f;
  auto* changed = f.mutable_directory_changed();
  changed->set_directory_digest(to_string(directory_digest));
  changed->set_generation(generation);
  return f;
}

Frame make_subscription_list(std::uint64_t request_id, std::vector<std::string> durable,
                             std::vector<std::string> session, std::uint64_t acked_seq) {
  std::sort(durable.begin(), durable.end());
  std::sort(session.begin(), session.end());
  Frame f;
  auto* list = f.mutable_subscription_list();
  list->set_request_id(request_id);
  for (auto& p : durable) list->add_durable(std::move(p));
  for (auto& p : session) list->add_session(std::move(p));
  list->set_acked_seq(acked_seq);
  return f;
}

Frame make_bye(std::string_view reason) {
  Frame f;
  f.mutable_bye()->set_reason(std::string(reason.substr(0, kMaxByeReasonBytes)));
  return f;
}

Frame make_gap(std::uint64_t broker_seq, const Status& reasons, std::string_view writer) {
  Frame f;
  auto* gap = f.mutable_gap();
  gap->set_broker_seq(broker_seq);
  gap->set_writer(std::string(writer));
  to_proto(reasons, gap->mutable_reasons());
  return f;
}

// ---- Status <-> wire --------------------------------------------------------

void to_proto(const Status& status, google::protobuf::RepeatedPtrField<tearline::v1::Reason>* out) {
  for (const auto& reason : status.reasons()) {
    auto* r = out->Add();
    r->set_code(static_cast<std::uint32_t>(reason.code));
    r->set_name(std::string(code_name(reason.code)));
    r->set_message(reason.message);
  }
}

Status status_from_proto(const google::protobuf::RepeatedPtrField<tearline::v1::Reason>& reasons) {
  Status status;
  for (const auto& r : reasons) {
    Code code{};
    if (r.code() != 0 && code_from_number(r.code(), &code)) {
      status.add(code, r.message());
    } else {
      status.add(Code::PROTOCOL_VIOLATION,
                 "unknown code " + std::to_string(r.code()) + " (" + r.name() + "): " + r.message());
    }
  }
  return status;
}

namespace {

Status status_or_code(const google::protobuf::RepeatedPtrField<tearline::v1::Reason>& reasons,
                      std::uint32_t code_number) {
  Status status = status_from_proto(reasons);
  if (!status.is_ok()) return status;
  Code code{};
  if (code_number != 0 && code_from_number(code_number, &code)) {
    return Status::fail(code, std::string(code_meaning(code)));
  }
  return Status::fail(Code::PROTOCOL_VIOLATION, "unknown code " + std::to_string(code_number) + " with no reason");
}

}  // namespace

Status status_of(const tearline::v1::Error& error) { return status_or_code(error.reasons(), error.code()); }

Status status_of(const tearline::v1::Rejected& rejected) { return status_or_code(rejected.reasons(), rejected.code()); }

Status status_of(const tearline::v1::Gap& gap) {
  return status_or_code(gap.reasons(), static_cast<std::uint32_t>(Code::STORAGE_DAMAGED));
}

// ---- Frame types and direction -------------------------------------------

std::string_view frame_type_name(const Frame& frame) {
  switch (frame.body_case()) {
    case Frame::kHello: return "HELLO";
    case Frame::kWelcome: return "WELCOME";
    case Frame::kError: return "ERROR";
    case Frame::kSubscribe: return "SUBSCRIBE";
    case Frame::kUnsubscribe: return "UNSUBSCRIBE";
    case Frame::kPublish: return "PUBLISH";
    case Frame::kAccepted: return "ACCEPTED";
    case Frame::kRejected: return "REJECTED";
    case Frame::kDeliver: return "DELIVER";
    case Frame::kAck: return "ACK";
    case Frame::kPing: return "PING";
    case Frame::kPong: return "PONG";
    case Frame::kAdmin: return "ADMIN";
    case Frame::kListSubscriptions: return "LIST_SUBSCRIPTIONS";
    case Frame::kSubscriptionList: return "SUBSCRIPTION_LIST";
    case Frame::kBrokerStatus: return "BROKER_STATUS";
    case Frame::kDirectoryChanged: return "DIRECTORY_CHANGED";
    case Frame::kBye: return "BYE";
    case Frame::kGap: return "GAP";
    case Frame::BODY_NOT_SET: break;
  }
  return "EMPTY";
}

bool is_client_frame(const Frame& frame) {
  switch (frame.body_case()) {
    case Frame::kHello:
    case Frame::kSubscribe:
    case Frame::kUnsubscribe:
    case Frame::kPublish:
    case Frame::kAck:
    case Frame::kPing:
    case Frame::kAdmin:
    case Frame::kListSubscriptions:
    case Frame::kBye: return true;
    default: return false;
  }
}

bool is_server_frame(const Frame& frame) {
  switch (frame.body_case()) {
    case Frame::kWelcome:
    case Frame::kError:
    case Frame::kAccepted:
    case Frame::kRejected:
    case Frame::kDeliver:
    case Frame::kPong:
    case Frame::kSubscriptionList:
    case Frame::kBrokerStatus:
    case Frame::kDirectoryChanged:
    case Frame::kGap: return true;
    default: return false;
  }
}

std::uint64_t request_id_of(const Frame& frame) {
  switch (frame.body_case()) {
    case Frame::kSubscribe: return frame.subscribe().request_id();
    case Frame::kUnsubscribe: return frame.unsubscribe().request_id();
    case Frame::kPublish: return frame.publish().request_id();
    case Frame::kAdmin: return frame.admin().request_id();
    case Frame::kListSubscriptions: return frame.list_subscriptions().request_id();
    case Frame::kSubscriptionList: return frame.subscription_list().request_id();
    case Frame::kBrokerStatus: return frame.broker_status().request_id();
    case Frame::kAccepted: return frame.accepted().request_id();
    case Frame::kRejected: return frame.rejected().request_id();
    case Frame::kError: return frame.error().request_id();
    default: return kNoRequestId;
  }
}

bool counts_toward_failure_limit(Code code) {
  switch (code) {
    case Code::OK:
    case Code::RATE_LIMITED:
    case Code::BROKER_BUSY:
    case Code::STORAGE_FAILED:
    case Code::STORAGE_FULL:
    case Code::STORAGE_HALTED: return false;
    default: return true;
  }
}

bool closes_session(Code code) {
  return code == Code::SESSION_REVOKED || code == Code::TOO_MANY_FAILURES || code == Code::SLOW_CONSUMER ||
         code == Code::SESSION_REPLACED;
}

Status check_hello(const tearline::v1::Hello& hello) {
  Status status;
  if (hello.protocol() != kProtocolName) {
    status.add(Code::UNSUPPORTED_VERSION, "protocol \"" + hello.protocol().substr(0, 64) +
                                              "\" is not supported; expected \"" + std::string(kProtocolName) + "\"");
  }
  if (hello.version() != kProtocolVersion) {
    status.add(Code::UNSUPPORTED_VERSION, "protocol version " + std::to_string(hello.version()) +
                                              " is not supported; this broker speaks version " +
                                              std::to_string(kProtocolVersion));
  }
  return status;
}

}  // namespace tearline::wire
