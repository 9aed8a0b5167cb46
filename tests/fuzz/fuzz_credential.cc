// identity::verify_credential against the pinned authorities of the demo
// world. A signature stops nearly every mutation before the body is judged,
// so a body that parses canonically is also judged on its own.
#include "base/canonical_proto.h"
#include "fuzz_target.h"
#include "fuzz_world.h"
#include "identity/objects.h"

namespace tearline::fuzz {

void credential(ByteView input) {
  const identity::TrustStore& trust = FuzzWorld::get().directory().trust();
  if (auto cred = identity::verify_credential(input, trust)) {
    const identity::Authority* home = trust.authority(cred->agency);
    require(home != nullptr && home->country == cred->country, "a credential comes from a pinned home agency");
    require(identity::is_valid_id(cred->node_id) && cred->not_before < cred->not_after,
            "a credential has a valid id and window");
  }
  tearline::v1::SignedObject envelope;
  tearline::v1::CredentialBody body;
  if (!parse_strict(input, &envelope, "credential").is_ok()) return;
  if (!parse_canonical(as_bytes(envelope.body()), &body, "credential body").is_ok()) return;
  if (auto cred = identity::credential_from_body(body)) {
    require(cred->serial > 0 && cred->not_before < cred->not_after, "a credential body has a serial and a window");
  }
}

}  // namespace tearline::fuzz

TEARLINE_FUZZ_ENTRY(credential)
