// policy::decode_label, which verify_report applies to every sealed
// section's label bytes. A label that decodes is valid, normalized, and the
// bytes it came from are its one canonical encoding.
#include "fuzz_target.h"
#include "policy/label.h"

namespace tearline::fuzz {

void label(ByteView input) {
  auto decoded = policy::decode_label(input);
  if (!decoded) return;
  require(policy::validate_label(*decoded).is_ok(), "a decoded label is valid");
  require(policy::normalized(*decoded) == *decoded, "a decoded label is normalized");
  require(policy::encode_label(*decoded) == Bytes(input.begin(), input.end()),
          "a decoded label is its own canonical encoding");
  (void)policy::describe(*decoded);
  (void)policy::effective_releasable_to(*decoded, "COL");
}

}  // namespace tearline::fuzz

TEARLINE_FUZZ_ENTRY(label)
