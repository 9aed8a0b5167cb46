// Compiled by tearline_client_header_check with only the public include
// directories: fails to build when tearline/client.h includes anything from
// lib/ or a generated protobuf header (see client/CMakeLists.txt).
#include <tearline/client.h>

namespace tearline::client {

// Names the public vocabulary so that a missing include shows here too.
[[maybe_unused]] Result<PublishOutcome> publish_one(Session& session, const Draft& draft) {
  return session.publish(draft);
}

}  // namespace tearline::client
