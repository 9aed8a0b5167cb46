// Strict protobuf parsing for signed bytes. Protobuf accepts repeated
// occurrences of a singular field (last value wins), unknown fields and any
// field order; for bytes that are signed, any of these would let two parties
// read different values from the same signature. parse_canonical() accepts
// bytes only if they are exactly the deterministic serialization of what was
// parsed, with no unknown field at any depth.
#pragma once

#include <google/protobuf/message.h>

#include "base/bytes.h"
#include "base/result.h"

namespace tearline {

// Parses `bytes` into `*out`. Fails with BAD_ENCODING (naming `what`) when the
// bytes do not parse, carry unknown fields, or are not canonical.
Status parse_canonical(ByteView bytes, google::protobuf::Message* out, std::string_view what);

// Parses without the canonical requirement but still rejects unknown fields at
// any depth; for containers whose integrity comes from inner signed bytes.
Status parse_strict(ByteView bytes, google::protobuf::Message* out, std::string_view what,
                    Code failure_code = Code::BAD_ENCODING);

// The deterministic serialization of `message`.
Bytes serialize_canonical(const google::protobuf::Message& message);

}  // namespace tearline
