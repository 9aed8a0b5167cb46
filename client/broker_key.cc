// broker_key_for (session_internal.h): which CURVE key a session expects of
// the broker it connects to.
#include "client/connection.h"
#include "client/session_internal.h"

namespace tearline::client {

Result<BrokerKey> broker_key_for(const SessionOptions& options, const identity::Directory& directory) {
  if (options.broker_id.empty()) {
    const auto file = options.directory / "broker.pub";
    auto key = read_broker_key(file);
    if (!key) return key.status();
    return BrokerKey{*key, file.string()};
  }
  const identity::Credential* broker = directory.node(options.broker_id);
  if (broker == nullptr || !broker->has_role("broker")) {
    return Status::fail(Code::UNKNOWN_NODE, "no broker " + options.broker_id + " in the directory " +
                                                options.directory.string() +
                                                " (a credential with role broker; `tearline certs broker`)");
  }
  return BrokerKey{broker->transport_key, "the transport key of " + options.broker_id + "'s credential"};
}

}  // namespace tearline::client
