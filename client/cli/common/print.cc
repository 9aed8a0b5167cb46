#include "cli/common/print.h"

#include "base/time_format.h"

#include <google/protobuf/util/json_util.h>

#include <cstdio>
#include <stdexcept>

namespace tearline::cli {
namespace {

// The length of the UTF-8 sequence at `s[i]`, or 0 when it is malformed.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    if (b0 == 0xE0) lo = 0xA0;  // overlong
    if (b0 == 0xED) hi = 0x9F;  // surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    if (b0 == 0xF0) lo = 0x90;  // overlong
    if (b0 == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return n;
}

void append_escaped(std::string* out, unsigned char c) {
  char hex[5];
  std::snprintf(hex, sizeof hex, "\\x%02x", c);
  out->append(hex);
}

}  // namespace

std::string one_line(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

std::string join(const std::vector<std::string>& items, std::string_view separator, std::string_view empty) {
  if (items.empty()) return std::string(empty);
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

void print_reasons(std::ostream& out, const Status& status, std::string_view indent) {
  for (const Reason& r : status.reasons()) out << indent << code_name(r.code) << ": " << one_line(r.message) << "\n";
}

std::string utc(std::int64_t unix_seconds) { return format_utc_seconds(unix_seconds); }

bool is_utf8(std::string_view bytes) {
  for (std::size_t i = 0; i < bytes.size();) {
    const std::size_t n = utf8_sequence_length(bytes, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string printable(std::string_view text) {
  const bool utf8 = is_utf8(text);
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7F)) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    if (c < 0x80 || !utf8) {  // C0 control, DEL, or a byte of text that is not UTF-8
      append_escaped(&out, c);
      ++i;
      continue;
    }
    const std::size_t n = utf8_sequence_length(text, i);
    // U+0080..U+009F (C2 80..C2 9F) are C1 controls: some terminals act on them.
    const bool c1 = c == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0;
    for (std::size_t k = 0; k < n; ++k) {
      if (c1) {
        append_escaped(&out, static_cast<unsigned char>(text[i + k]));
      } else {
        out.push_back(text[i + k]);
      }
    }
    i += n;
  }
  return out;
}

tearline::v1::Label label_message(const policy::Label& label) {
  tearline::v1::Label m;
  m.set_classification(label.classification);
  for (const auto& c : label.releasable_to) m.add_releasable_to(c);
  for (const auto& u : label.units) m.add_units(u);
  m.set_orcon(label.orcon);
  return m;
}

google::protobuf::Value label_value(const std::optional<policy::Label>& label) {
  google::protobuf::Value v;
  if (!label) {
    v.set_null_value(google::protobuf::NULL_VALUE);
    return v;
  }
  // Through the printer, so the object is exactly tearline.v1.Label's JSON.
  const auto status = google::protobuf::util::JsonStringToMessage(to_json(label_message(*label)), &v);
  if (!status.ok()) throw std::runtime_error("cannot render a label as JSON: " + status.ToString());
  return v;
}

std::string to_json(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string out;
  const auto status = google::protobuf::util::MessageToJsonString(message, &out, options);
  if (!status.ok()) {
    throw std::runtime_error("cannot render " + message.GetTypeName() + " as JSON: " + status.ToString());
  }
  return out;
}

}  // namespace tearline::cli
