// The state table of docs/protocol.md section 5, checked against a real
// broker, as wire_test.cc checks the constants.
//
// Each row of the table has one checker, keyed by the row's State and
// Input cells. A checker declares the Broker sends and Next state cells it
// verifies, word for word, and drives a real broker (BrokerFixture, with
// limits lowered where that makes an event fast) into each state the row
// names and through the input, with raw frames. It asserts what the broker
// sends and then probes the state the session is in (state_of). The
// DOC TRUTH test requires one checker per row, one row per checker, and the
// same Broker sends and Next state text: a doc edit without a matching check
// fails there, and a behaviour change fails the checker.
//
// The checkers are in protocol_states_new.cc and protocol_states_ready.cc
// (declared in protocol_states_checkers.h); the frames travel over Wire
// (protocol_states_wire.h).
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "protocol_states_checkers.h"
#include "protocol_states_wire.h"

namespace tearline::protocol_states {
namespace {

// ---- the table and its checkers --------------------------------------------------------

struct Checker {
  std::string state, input;  // the row's key, as in the doc
  std::string sends, next;   // what run() verifies, as the doc must say it
  void (*run)();
};

const std::vector<Checker>& checkers() {
  static const std::vector<Checker> all = {
      {"NEW, READY", "a message of more than one part", "ERROR MALFORMED_FRAME / 0", "same", multi_part_message},
      {"NEW, READY", "bytes over max_frame_bytes", "ERROR FRAME_TOO_LARGE / 0", "same", bytes_over_max_frame_bytes},
      {"NEW, READY", "bytes that do not decode (section 3)", "ERROR MALFORMED_FRAME / 0", "same",
       bytes_that_do_not_decode},
      {"NEW, READY",
       "a server frame (WELCOME ERROR ACCEPTED REJECTED DELIVER PONG SUBSCRIPTION_LIST BROKER_STATUS "
       "DIRECTORY_CHANGED)",
       "ERROR UNEXPECTED_FRAME / 0", "same", server_frame},
      {"NEW, CLOSED", "HELLO with protocol != `tearline` or version != 1", "ERROR UNSUPPORTED_VERSION / 0", "same",
       hello_of_another_version},
      {"NEW, CLOSED",
       "HELLO, and a session of the node was closed with TOO_MANY_FAILURES less than failure_cooldown_ms (default "
       "10 s) ago",
       "ERROR TOO_MANY_FAILURES / 0, or nothing if this session was already answered so less than 1 s ago", "same",
       hello_during_cooldown},
      {"NEW, CLOSED", "HELLO, and the node's credential is not valid now", "ERROR SESSION_REVOKED / 0", "CLOSED",
       hello_with_invalid_credential},
      {"NEW, CLOSED", "HELLO, and max_connections (default 1024) sessions are READY", "ERROR BROKER_BUSY / 0", "same",
       hello_with_max_connections_ready},
      {"NEW, CLOSED", "HELLO", "WELCOME",
       "READY (a fresh session: failure counter 0, nothing queued, not attached, no session patterns: nothing is "
       "delivered until a SUBSCRIBE)",
       hello_welcome},
      {"NEW", "any other client frame (including PING and ACK)",
       "ERROR PROTOCOL_VIOLATION / the frame's request id, 0 if none", "NEW", new_other_client_frame},
      {"READY", "HELLO", "ERROR PROTOCOL_VIOLATION / 0", "READY", ready_hello},
      {"READY", "ADMIN", "ACCEPTED (reload), BROKER_STATUS (status) or REJECTED / its request id", "READY",
       ready_admin},
      {"READY", "SUBSCRIBE",
       "REJECTED at once (TOPIC_INVALID, TOO_MANY_SUBSCRIPTIONS, TOPIC_READ_DENIED, NOT_UNIT_MEMBER), ACCEPTED at "
       "once when session_only, or, after the group commit, ACCEPTED or REJECTED STORAGE_* / its request id",
       "READY (a durable SUBSCRIBE attaches the session)", ready_subscribe},
      {"READY", "UNSUBSCRIBE",
       "REJECTED TOPIC_INVALID at once, ACCEPTED at once when session_only, or, after the group commit, ACCEPTED or "
       "REJECTED STORAGE_* / its request id",
       "READY", ready_unsubscribe},
      {"READY", "LIST_SUBSCRIPTIONS", "SUBSCRIPTION_LIST / its request id", "READY", ready_list_subscriptions},
      {"READY", "(a successful reload changes the directory's digest)", "DIRECTORY_CHANGED", "READY",
       ready_directory_changed},
      {"READY", "PUBLISH",
       "REJECTED STORAGE_HALTED, RATE_LIMITED or BROKER_BUSY at once, or ACCEPTED or REJECTED once the report was "
       "checked and, if accepted, committed (section 8)",
       "READY", ready_publish},
      {"READY", "PING", "PONG with the same nonce", "READY", ready_ping},
      {"READY",
       "ACK whose delivery receipt does not verify, or names copies this session was not sent or has acknowledged "
       "(section 6.8)",
       "ERROR RECEIPT_INVALID / 0", "READY", ready_ack_receipt_invalid},
      {"READY", "ACK", "nothing", "READY", ready_ack},
      {"READY",
       "(a report this session may receive is judged for it: live when it is committed, or read from the store "
       "during catch-up)",
       "DELIVER", "READY", ready_report_judged},
      {"READY", "(a failure makes the failure counter reach max_failures, default 16)",
       "the answer to that frame, then ERROR TOO_MANY_FAILURES / 0", "CLOSED", ready_max_failures},
      {"READY", "PUBLISH answered RATE_LIMITED, the node's (max_rate_limited + 1)th, default 2001st, within one second",
       "REJECTED RATE_LIMITED / its request id, then ERROR TOO_MANY_FAILURES / 0", "CLOSED", ready_rate_limited_flood},
      {"READY",
       "(after a successful reload, or at a housekeeping pass every 250 ms, the node's credential is not valid now)",
       "ERROR SESSION_REVOKED / 0; frames still queued for the session are dropped first", "CLOSED",
       ready_credential_invalid},
      {"any",
       "(more than max_pending_deliveries frames, default 10000, or more than max_pending_bytes bytes, default 64 "
       "MiB, are queued in the broker for the session)",
       "ERROR SLOW_CONSUMER / 0; the queued frames are dropped first", "CLOSED", slow_consumer},
      {"any", "(no message from the client for session_timeout_ms, default 60 s)",
       "nothing; the session and its queued frames are forgotten (the node's subscriptions and cursor stay)",
       "none: the connection's next message creates a NEW session", session_timeout},
      {"any", "BYE (section 6.12)",
       "nothing; the session and its queued frames are forgotten at once (the node's subscriptions and cursor stay)",
       "none: the connection's next message creates a NEW session", bye_in_any_state},
      {"CLOSED", "anything else, including bytes that do not decode", "nothing (ignored)", "CLOSED",
       closed_anything_else},
  };
  return all;
}

// ---- the table in the doc ------------------------------------------------------------------

struct Row {
  std::string state, input, sends, next;
};

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(' ');
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(' ') - first + 1);
}

// The rows of the table under "## 5. State machine" (header and rule left out).
std::vector<Row> state_table() {
  std::ifstream in(std::string(TEARLINE_SOURCE_DIR) + "/docs/protocol.md");
  REQUIRE(in);
  std::vector<Row> rows;
  std::string line;
  bool in_section = false, in_table = false;
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0) {
      if (in_section) break;
      in_section = line.rfind("## 5. State machine", 0) == 0;
      continue;
    }
    if (!in_section) continue;
    if (line.rfind('|', 0) != 0) {
      if (in_table) break;  // the first table of the section ends
      continue;
    }
    in_table = true;
    std::vector<std::string> cells;
    std::stringstream cut(line.substr(1));
    std::string cell;
    while (std::getline(cut, cell, '|')) cells.push_back(trim(cell));
    INFO(line);
    REQUIRE(cells.size() == 4);
    if (cells[0] == "State" || cells[0].find("---") == 0) continue;
    rows.push_back({cells[0], cells[1], cells[2], cells[3]});
  }
  return rows;
}

TEST_CASE("DOC TRUTH: every row of the protocol state table has a checker that verifies what it says",
          "[protocol-states]") {
  const std::vector<Row> rows = state_table();
  REQUIRE(rows.size() >= 20);
  std::map<std::pair<std::string, std::string>, const Checker*> by_key;
  for (const auto& c : checkers()) {
    INFO("checker " << c.state << " | " << c.input);
    CHECK(by_key.emplace(std::pair{c.state, c.input}, &c).second);  // one checker per key
  }
  std::map<std::pair<std::string, std::string>, int> seen;
  for (const auto& row : rows) {
    INFO("doc row | " << row.state << " | " << row.input << " | " << row.sends << " | " << row.next << " |");
    CHECK(++seen[{row.state, row.input}] == 1);
    auto it = by_key.find({row.state, row.input});
    if (it == by_key.end()) {
      FAIL_CHECK("no checker for this row");
      continue;
    }
    CHECK(it->second->sends == row.sends);
    CHECK(it->second->next == row.next);
  }
  for (const auto& c : checkers()) {
    INFO("checker " << c.state << " | " << c.input);
    CHECK(seen.count({c.state, c.input}) == 1);  // its row is in the doc
  }
}

TEST_CASE("protocol states: each row of the state table, driven on a real broker", "[protocol-states][e2e]") {
  for (const auto& c : checkers()) {
    DYNAMIC_SECTION(c.state << " | " << c.input) { c.run(); }
  }
}

}  // namespace
}  // namespace tearline::protocol_states
