#include "base/canonical_proto.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <string>

namespace tearline {
namespace {

bool has_unknown_fields(const google::protobuf::Message& message) {
  const auto* reflection = message.GetReflection();
  if (!reflection->GetUnknownFields(message).empty()) return true;
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const auto* field : fields) {
    if (field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (field->is_repeated()) {
      int n = reflection->FieldSize(message, field);
      for (int i = 0; i < n; ++i) {
        if (has_unknown_fields(reflection->GetRepeatedMessage(message, field, i))) return true;
      }
    } else if (has_unknown_fields(reflection->GetMessage(message, field))) {
      return true;
    }
  }
  return false;
}

}  // namespace

Status parse_strict(ByteView bytes, google::protobuf::Message* out, std::string_view what, Code failure_code) {
  if (bytes.size() > static_cast<std::size_t>(INT32_MAX) ||
      !out->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Status::fail(failure_code, std::string(what) + " does not parse");
  }
  if (has_unknown_fields(*out)) {
    return Status::fail(failure_code, std::string(what) + " has unknown fields");
  }
  return Status::ok();
}

Status parse_canonical(ByteView bytes, google::protobuf::Message* out, std::string_view what) {
  Status parsed = parse_strict(bytes, out, what, Code::BAD_ENCODING);
  if (!parsed) return parsed;
  Bytes again = serialize_canonical(*out);
  if (again.size() != bytes.size() || !std::equal(again.begin(), again.end(), bytes.begin())) {
    return Status::fail(Code::BAD_ENCODING, std::string(what) + " is not canonical (duplicate or reordered field)");
  }
  return Status::ok();
}

Bytes serialize_canonical(const google::protobuf::Message& message) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return Bytes(out.begin(), out.end());
}

}  // namespace tearline
