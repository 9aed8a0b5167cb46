#include <catch2/catch.hpp>

#include <google/protobuf/util/message_differencer.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/codes.h"
#include "wire/frame.h"

using namespace tearline;
using namespace tearline::wire;
using tearline::v1::Frame;

namespace {

struct FrameCase {
  std::string_view type;
  bool from_client;
  Frame frame;
};

std::vector<FrameCase> every_frame_type() {
  const Bytes report = {0x0a, 0x02, 0x01, 0x02, 0x1a, 0x00};
  const Bytes report_id(16, 0xab);
  Status why = Status::fail(Code::REPORT_SIGNATURE, "signature does not verify");
  why.add(Code::STALE_REPORT, "created 400 s before the broker's clock");
  return {
      {"HELLO", true, make_hello("tearline-cli/0.1")},
      {"WELCOME", false, make_welcome("dea-bogota-1", 1700000000123, 1 << 20, 256)},
      {"ERROR", false, make_error(Code::MALFORMED_FRAME, "frame does not parse")},
      {"SUBSCRIBE", true, make_subscribe(7, {"intel.>", "unit.cucuta-jtf.*"})},
      {"UNSUBSCRIBE", true, make_unsubscribe(8, {"intel.>"})},
      {"PUBLISH", true, make_publish(9, report)},
      {"ACCEPTED", false, make_accepted(9, report_id, 42)},
      {"REJECTED", false, make_rejected(9, why)},
      {"DELIVER", false, make_deliver(42, report)},
      {"ACK", true, make_ack(42)},
      {"PING", true, make_ping(0xfeedface)},
      {"PONG", false, make_pong(0xfeedface)},
      {"ADMIN", true, make_admin(10, kAdminReload)},
      {"LIST_SUBSCRIPTIONS", true, make_list_subscriptions(11)},
      {"SUBSCRIPTION_LIST", false, make_subscription_list(11, {"intel.>"}, {"ops.flush"}, 42)},
      {"BROKER_STATUS", false,
       [] {
         Frame f;
         f.mutable_broker_status()->set_request_id(12);
         f.mutable_broker_status()->set_version("0.2.0 (git 1a2b3c4)");
         return f;
       }()},
      {"DIRECTORY_CHANGED", false, make_directory_changed(Bytes(32, 0xd1), 2)},
      {"BYE", true, make_bye("tearline subscribe: interrupted")},
      {"GAP", false, make_gap(43, Status::fail(Code::STORAGE_DAMAGED, "stored report 43 failed its re-check"))},
  };
}

Bytes bytes_of(const Frame& frame) { return encode_frame(frame); }

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

TEST_CASE("every frame type round-trips through encode and decode") {
  auto cases = every_frame_type();
  REQUIRE(cases.size() == 19);  // one per Frame.body case
  for (const auto& c : cases) {
    INFO(c.type);
    CHECK(frame_type_name(c.frame) == c.type);
    CHECK(is_client_frame(c.frame) == c.from_client);
    CHECK(is_server_frame(c.frame) == !c.from_client);
    Bytes bytes = encode_frame(c.frame);
    auto decoded = decode_frame(bytes, kDefaultMaxFrameBytes);
    REQUIRE(decoded.is_ok());
    CHECK(google::protobuf::util::MessageDifferencer::Equals(*decoded, c.frame));
    CHECK(encode_frame(*decoded) == bytes);
  }
}

TEST_CASE("encode_deliver writes exactly encode_frame(make_deliver(...))") {
  for (std::uint64_t seq : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{127}, std::uint64_t{128},
                            std::uint64_t{1} << 40, ~std::uint64_t{0}}) {
    for (std::size_t size :
         {std::size_t{0}, std::size_t{1}, std::size_t{127}, std::size_t{128}, std::size_t{1864}, std::size_t{70000}}) {
      INFO("seq " << seq << " size " << size);
      Bytes report(size);
      for (std::size_t i = 0; i < size; ++i) report[i] = static_cast<std::uint8_t>(i * 31 + 7);
      CHECK(encode_deliver(seq, report) == encode_frame(make_deliver(seq, report)));
      for (std::size_t receipt_size : {std::size_t{1}, std::size_t{200}}) {
        const Bytes receipt(receipt_size, 0x5a);
        CHECK(encode_deliver(seq, report, receipt) == encode_frame(make_deliver(seq, report, receipt)));
        const Bytes path(receipt_size + 3, 0x17);
        CHECK(encode_deliver(seq, report, receipt, "dea-broker-2", path) ==
              encode_frame(make_deliver(seq, report, receipt, "dea-broker-2", path)));
        CHECK(encode_deliver(seq, report, {}, {}, path) == encode_frame(make_deliver(seq, report, {}, {}, path)));
      }
    }
  }
}

TEST_CASE("builders fill the fields the protocol names") {
  Frame hello = make_hello("x");
  CHECK(hello.hello().protocol() == "tearline");
  CHECK(hello.hello().version() == 1);
  CHECK(check_hello(hello.hello()).is_ok());

  Status why = Status::fail(Code::TOPIC_WRITE_DENIED, "no grant allows intel.hq");
  why.add(Code::STALE_REPORT, "too old");
  Frame rejected = make_rejected(5, why);
  CHECK(rejected.rejected().request_id() == 5);
  CHECK(rejected.rejected().code() == 404);
  REQUIRE(rejected.rejected().reasons_size() == 2);
  CHECK(rejected.rejected().reasons(1).name() == "STALE_REPORT");
  CHECK(request_id_of(rejected) == 5);

  // A session-level code with its underlying causes.
  Frame revoked = make_error(Code::SESSION_REVOKED, Status::fail(Code::REVOKED, "DEA list 3 revokes serial 7"));
  CHECK(revoked.error().code() == 106);
  CHECK(revoked.error().request_id() == 0);
  REQUIRE(revoked.error().reasons_size() == 1);
  CHECK(revoked.error().reasons(0).code() == 206);
  // No reasons given: the code's own meaning becomes the reason.
  Frame bare = make_error(Code::TOO_MANY_FAILURES, Status::ok());
  REQUIRE(bare.error().reasons_size() == 1);
  CHECK(bare.error().reasons(0).message() == code_meaning(Code::TOO_MANY_FAILURES));

  Frame accepted = make_accepted(3);
  CHECK(accepted.accepted().report_id().empty());
  CHECK(accepted.accepted().broker_seq() == 0);

  const Bytes digest(32, 0x7e);
  Frame welcome = make_welcome("n", 1, 2, 3, "tearline-broker", digest);
  CHECK(welcome.welcome().directory_digest() == std::string(32, '\x7e'));
  CHECK(make_welcome("n", 1, 2, 3).welcome().directory_digest().empty());

  // Both lists sorted by the builder, whatever order they came in.
  Frame list = make_subscription_list(4, {"unit.>", "intel.b", "intel.a"}, {"z", "a"}, 9);
  CHECK(list.subscription_list().request_id() == 4);
  CHECK(
      std::vector<std::string>(list.subscription_list().durable().begin(), list.subscription_list().durable().end()) ==
      std::vector<std::string>{"intel.a", "intel.b", "unit.>"});
  CHECK(std::vector<std::string>(list.subscription_list().session().begin(),
                                 list.subscription_list().session().end()) == std::vector<std::string>{"a", "z"});
  CHECK(list.subscription_list().acked_seq() == 9);
  CHECK(request_id_of(list) == 4);

  Frame session_only = make_subscribe(5, {"intel.>"}, true);
  CHECK(session_only.subscribe().session_only());
  CHECK_FALSE(make_subscribe(5, {"intel.>"}).subscribe().session_only());
  CHECK(make_unsubscribe(6, {"intel.>"}, true).unsubscribe().session_only());
}

TEST_CASE("oversize frames fail with FRAME_TOO_LARGE before parsing") {
  Bytes report(1000, 0x41);
  Bytes bytes = encode_frame(make_publish(1, report));
  auto at_limit = decode_frame(bytes, bytes.size());
  CHECK(at_limit.is_ok());
  auto over = decode_frame(bytes, bytes.size() - 1);
  REQUIRE_FALSE(over.is_ok());
  CHECK(over.code() == Code::FRAME_TOO_LARGE);
  CHECK(over.status().to_string().find(std::to_string(bytes.size())) != std::string::npos);
  // Garbage over the limit is reported as too large, not malformed.
  Bytes garbage(100, 0xff);
  CHECK(decode_frame(garbage, 99).code() == Code::FRAME_TOO_LARGE);
  CHECK(transport_max_message_bytes(kDefaultMaxFrameBytes) == 2 * 1048576 + 65536);
}

TEST_CASE("bad bytes fail with MALFORMED_FRAME and a message naming the problem") {
  Bytes hello = bytes_of(make_hello("tearline-cli/0.1"));
  Bytes truncated(hello.begin(), hello.end() - 3);
  // Frame field 30 (not in wire.proto), length-delimited, empty.
  Bytes unknown_type = {0xf2, 0x01, 0x00};
  // A HELLO whose body carries field 9 (varint 1), which Hello does not define.
  Bytes unknown_nested = {0x0a, 0x02, 0x48, 0x01};
  // PUBLISH with request_id 0 (reserved).
  Bytes zero_request = bytes_of(make_publish(0, Bytes{1, 2, 3}));
  // A HELLO and a PING in one frame: protobuf would keep the PING alone.
  Bytes two_bodies = bytes_of(make_hello("tearline-cli/0.1"));
  const Bytes ping = bytes_of(make_ping(7));
  two_bodies.insert(two_bodies.end(), ping.begin(), ping.end());
  // A PING and a BYE (body 18, the highest but one): the PING alone would be lost.
  Bytes ping_and_bye = ping;
  const Bytes bye = bytes_of(make_bye("done"));
  ping_and_bye.insert(ping_and_bye.end(), bye.begin(), bye.end());

  struct Case {
    std::string name;
    Bytes bytes;
    std::string says;
  };
  std::vector<Case> cases = {
      {"garbage", Bytes{0xff, 0xff, 0xff, 0xff}, "does not parse"},
      {"truncated", truncated, "does not parse"},
      {"unknown frame type", unknown_type, "unknown frame type"},
      {"unknown field in a body", unknown_nested, "unknown fields in its HELLO body"},
      {"empty frame", Bytes{}, "no body"},
      {"request id 0", zero_request, "PUBLISH frame has request_id 0"},
      {"two bodies", two_bodies, "more than one body"},
      {"a PING and a BYE", ping_and_bye, "more than one body"},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    auto decoded = decode_frame(c.bytes, kDefaultMaxFrameBytes);
    REQUIRE_FALSE(decoded.is_ok());
    CHECK(decoded.code() == Code::MALFORMED_FRAME);
    CHECK(decoded.status().to_string().find(c.says) != std::string::npos);
  }
  // ERROR frames may carry request id 0; PING has none.
  CHECK(decode_frame(bytes_of(make_error(Code::MALFORMED_FRAME, "x")), kDefaultMaxFrameBytes).is_ok());
  CHECK(decode_frame(bytes_of(make_ping(0)), kDefaultMaxFrameBytes).is_ok());
}

TEST_CASE("Status round-trips through wire reasons") {
  Status original = Status::fail(Code::REPLAYED_REPORT, "report id 00ff.. seen before");
  original.add(Code::SEQUENCE_REGRESSION, "sequence 4 after 9");
  google::protobuf::RepeatedPtrField<v1::Reason> wire_reasons;
  to_proto(original, &wire_reasons);
  REQUIRE(wire_reasons.size() == 2);
  CHECK(wire_reasons[0].code() == 502);
  CHECK(wire_reasons[0].name() == "REPLAYED_REPORT");
  CHECK(wire_reasons[1].message() == "sequence 4 after 9");
  Status back = status_from_proto(wire_reasons);
  CHECK(back.reasons() == original.reasons());

  CHECK(status_from_proto({}).is_ok());

  v1::Reason future;
  future.set_code(777);
  future.set_name("QUANTUM_FLUX");
  future.set_message("from a newer broker");
  wire_reasons.Clear();
  *wire_reasons.Add() = future;
  Status unknown = status_from_proto(wire_reasons);
  REQUIRE(unknown.reasons().size() == 1);
  CHECK(unknown.code() == Code::PROTOCOL_VIOLATION);
  CHECK(unknown.reasons()[0].message.find("777") != std::string::npos);
  CHECK(unknown.reasons()[0].message.find("QUANTUM_FLUX") != std::string::npos);

  // A REJECTED or ERROR without reasons still yields a failed Status.
  v1::Rejected bare;
  bare.set_code(506);
  Status from_code = status_of(bare);
  REQUIRE_FALSE(from_code.is_ok());
  CHECK(from_code.code() == Code::TOO_MANY_SUBSCRIPTIONS);
  CHECK(status_of(v1::Error{}).code() == Code::PROTOCOL_VIOLATION);
}

TEST_CASE("HELLO checks name the protocol and version") {
  v1::Hello hello = make_hello("c").hello();
  hello.set_version(2);
  Status s = check_hello(hello);
  CHECK(s.code() == Code::UNSUPPORTED_VERSION);
  CHECK(s.to_string().find("version 2") != std::string::npos);
  hello.set_version(1);
  hello.set_protocol("malamute");
  CHECK(check_hello(hello).code() == Code::UNSUPPORTED_VERSION);
}

TEST_CASE("failure limit counts client faults, not broker conditions") {
  CHECK(counts_toward_failure_limit(Code::MALFORMED_FRAME));
  CHECK(counts_toward_failure_limit(Code::REPORT_SIGNATURE));
  CHECK(counts_toward_failure_limit(Code::NOT_AUTHORIZED));
  CHECK_FALSE(counts_toward_failure_limit(Code::OK));
  CHECK_FALSE(counts_toward_failure_limit(Code::BROKER_BUSY));
  CHECK_FALSE(counts_toward_failure_limit(Code::RATE_LIMITED));
  CHECK_FALSE(counts_toward_failure_limit(Code::STORAGE_HALTED));
  CHECK(kMaxConsecutiveFailures == 16);
}

TEST_CASE("exactly the session-ending codes close the session") {
  CHECK(closes_session(Code::SESSION_REVOKED));
  CHECK(closes_session(Code::TOO_MANY_FAILURES));
  CHECK(closes_session(Code::SLOW_CONSUMER));
  CHECK_FALSE(closes_session(Code::MALFORMED_FRAME));
  CHECK_FALSE(closes_session(Code::PROTOCOL_VIOLATION));
  CHECK_FALSE(closes_session(Code::UNSUPPORTED_VERSION));
}

// docs/protocol.md is the contract other-language clients are written from;
// these checks keep it true to the code.
TEST_CASE("DOC TRUTH: docs/protocol.md lists every code, the proto files and the example") {
  const std::string doc = read_text(std::string(TEARLINE_SOURCE_DIR) + "/docs/protocol.md");

  SECTION("every code in TEARLINE_CODES has a table row with its number, name and meaning") {
    struct Listed {
      std::string_view name;
      int number;
      std::string_view meaning;
    };
    const std::vector<Listed> codes = {
#define TEARLINE_CODE_ROW(name, number, text) {#name, number, text},
        TEARLINE_CODES(TEARLINE_CODE_ROW)
#undef TEARLINE_CODE_ROW
    };
    REQUIRE(codes.size() > 50);
    for (const auto& code : codes) {
      INFO(code.name);
      const std::string row = "| " + std::to_string(code.number) + " | " + std::string(code.name) + " | ";
      auto at = doc.find(row);
      REQUIRE(at != std::string::npos);
      auto end = doc.find('\n', at);
      std::string line = doc.substr(at, end - at);
      CHECK(line.find(code.meaning) != std::string::npos);
    }
  }

  SECTION("every line of wire.proto and report.proto appears in the doc") {
    for (const char* proto :
         {"/proto/tearline/v1/wire.proto", "/proto/tearline/v1/report.proto", "/proto/tearline/v1/receipt.proto"}) {
      std::istringstream lines(read_text(std::string(TEARLINE_SOURCE_DIR) + proto));
      std::string line;
      while (std::getline(lines, line)) {
        std::string t = trim(line);
        if (t.empty()) continue;
        INFO(proto << ": " << t);
        CHECK(doc.find(t) != std::string::npos);
      }
    }
  }

  SECTION("the worked example's hex is what encode_frame produces") {
    const std::vector<Frame> example = {
        make_hello("tearline-cli/0.1"),
        make_welcome("dea-cucuta-agent", 1767225600000, 1048576, 256, "tearline-broker"),
        make_subscribe(1, {"intel.seizures.>"}),
        make_accepted(1),
        make_rejected(
            3, Status::fail(Code::TOPIC_WRITE_DENIED, "no grant lets dea-cucuta-agent publish intel.hq.tasking")),
        make_ping(7),
        make_pong(7),
        make_error(Code::PROTOCOL_VIOLATION, "HELLO in a session that is already READY"),
    };
    for (const auto& frame : example) {
      const std::string hex = to_hex(encode_frame(frame));
      INFO(frame_type_name(frame) << " " << hex);
      CHECK(doc.find(hex) != std::string::npos);
    }
  }

  SECTION("the broker limits table has the defaults of wire/limits.h") {
    const std::vector<std::pair<std::string, std::string>> defaults = {
        {"max_connections", std::to_string(kDefaultMaxConnections)},
        {"publish_rate", std::to_string(static_cast<long long>(kDefaultPublishRate))},
        {"publish_burst", std::to_string(static_cast<long long>(kDefaultPublishBurst))},
        {"max_rate_limited", std::to_string(kDefaultMaxRateLimited)},
        {"max_inflight_per_node", std::to_string(kDefaultMaxInflightPerNode)},
        {"max_pending_bytes", std::to_string(kDefaultMaxPendingBytes)},
        {"failure_cooldown_ms", std::to_string(kDefaultFailureCooldownMs)},
        {"handshake_timeout_ms", std::to_string(kDefaultHandshakeTimeoutMs)},
    };
    // Whole numbers: the table must not round them.
    CHECK(kDefaultPublishRate == static_cast<double>(static_cast<long long>(kDefaultPublishRate)));
    CHECK(kDefaultPublishBurst == static_cast<double>(static_cast<long long>(kDefaultPublishBurst)));
    for (const auto& [key, value] : defaults) {
      INFO(key << " = " << value);
      auto at = doc.find("| `" + key + "` | ");
      REQUIRE(at != std::string::npos);
      std::string row = doc.substr(at, doc.find('\n', at) - at);
      CHECK(row.rfind("| `" + key + "` | " + value + " |", 0) == 0);
    }
  }

  SECTION("the constants table has the values of wire/frame.h and wire/limits.h") {
    const std::vector<std::pair<std::string, std::string>> constants = {
        {"kProtocolName", std::string(kProtocolName)},
        {"kProtocolVersion", std::to_string(kProtocolVersion)},
        {"kZapDomain", std::string(kZapDomain)},
        {"kNoRequestId", std::to_string(kNoRequestId)},
        {"kDefaultMaxFrameBytes", std::to_string(kDefaultMaxFrameBytes)},
        {"kDefaultTransportMaxMessageBytes", std::to_string(kDefaultTransportMaxMessageBytes)},
        {"kDefaultMaxSubscriptions", std::to_string(kDefaultMaxSubscriptions)},
        {"kMaxPatternsPerRequest", std::to_string(kMaxPatternsPerRequest)},
        {"kMaxConsecutiveFailures", std::to_string(kMaxConsecutiveFailures)},
        {"kDefaultReplayWindowMs", std::to_string(kDefaultReplayWindowMs)},
        {"kClientPingIntervalMs", std::to_string(kClientPingIntervalMs)},
        {"kSessionTimeoutMs", std::to_string(kSessionTimeoutMs)},
        {"kDefaultMaxPendingDeliveries", std::to_string(kDefaultMaxPendingDeliveries)},
        {"kAdminReload", std::string(kAdminReload)},
        {"kAdminRole", std::string(kAdminRole)},
    };
    for (const auto& [name, value] : constants) {
      INFO(name << " = " << value);
      auto at = doc.find("| `" + name + "` ");
      REQUIRE(at != std::string::npos);
      std::string row = doc.substr(at, doc.find('\n', at) - at);
      bool listed =
          row.find("| " + value + " ") != std::string::npos || row.find("| `" + value + "` ") != std::string::npos;
      CHECK(listed);
    }
  }
}
