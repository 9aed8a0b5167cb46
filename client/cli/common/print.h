// Output helpers shared by the node commands (publish, subscribe, explain):
// one-line errors, reason lists, times, labels, and JSON through protobuf's
// own printer (the shapes are in proto/tearline/v1/cli.proto).
#pragma once

#include <google/protobuf/message.h>
#include <google/protobuf/struct.pb.h>

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "policy/label.h"
#include "tearline/v1/report.pb.h"

namespace tearline::cli {

// `text` with every CR and LF replaced by a space (for one-line errors).
std::string one_line(std::string text);

// "a, b, c"; `empty` when there are no items.
std::string join(const std::vector<std::string>& items, std::string_view separator = ", ", std::string_view empty = "");

// Writes one line per reason: `indent` "CODE: message".
void print_reasons(std::ostream& out, const Status& status, std::string_view indent = "  ");

// "2024-05-01T12:00:00Z" for unix seconds.
std::string utc(std::int64_t unix_seconds);

// True when `bytes` is well-formed UTF-8 (no overlongs, no surrogates, at
// most U+10FFFF).
bool is_utf8(std::string_view bytes);

// `text` safe to print on a terminal: tab and newline are kept, every other
// control character (and DEL) becomes "\xNN", and text that is not UTF-8 is
// shown entirely as "\xNN" escapes of its non-ASCII bytes. Section contents
// come from other agencies and must not be able to drive the terminal.
std::string printable(std::string_view text);

// The label as the wire message (its JSON form is the label object of
// cli.proto), and as a JSON value (null when absent).
tearline::v1::Label label_message(const policy::Label& label);
google::protobuf::Value label_value(const std::optional<policy::Label>& label);

// The message as one line of JSON: proto field names, every scalar field
// printed even when zero. Throws std::runtime_error if protobuf refuses
// (it cannot for the cli.proto messages, whose strings are kept UTF-8).
std::string to_json(const google::protobuf::Message& message);

}  // namespace tearline::cli
