// What every signed identity object shares (objects.cc; the peering
// agreements of federation/peering.h): a tearline.v1.SignedObject is the
// exact canonical body bytes plus authority signatures over
// (domain tag || 0x00 || body) (docs/trust-model.md). For the objects' own
// code, not for users of the objects.
#pragma once

#include <cstdint>
#include <string_view>

#include <google/protobuf/message.h>

#include "base/bytes.h"
#include "base/result.h"
#include "crypto/keys.h"
#include "identity/objects.h"
#include "tearline/v1/identity.pb.h"

namespace tearline::identity {

// An envelope of `body` serialized canonically, with no signature yet.
tearline::v1::SignedObject signed_body(const google::protobuf::Message& body);
// Adds (or replaces) `signer`'s signature over the envelope's body.
void put_signature(tearline::v1::SignedObject* obj, const Authority& signer, const crypto::SigningKey& key,
                   std::string_view tag);

// Parses the envelope (strictly: no unknown fields) and its canonical body;
// BAD_SIGNATURE when it carries no signature at all.
Status open_envelope(ByteView bytes, std::string_view what, tearline::v1::SignedObject* obj,
                     google::protobuf::Message* body);
// One signature of the envelope: UNKNOWN_AUTHORITY when its agency is not
// pinned in `trust`, BAD_SIGNATURE when it does not verify under `tag`.
Status check_signature(const tearline::v1::SignedObject& obj, const tearline::v1::Signature& sig,
                       const AuthorityLookup& trust, std::string_view tag, std::string_view what);
// INVALID_FIELD unless not_before < not_after.
Status check_window(std::int64_t not_before, std::int64_t not_after, std::string_view what);
// INVALID_FIELD unless the format version is kFormatVersion.
Status check_version(std::uint32_t v, std::string_view what);

}  // namespace tearline::identity
