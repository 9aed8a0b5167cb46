// The broker's own credential: how a broker learns its node id (the
// broker_id that WELCOME carries and every acceptance receipt names).
//
// The directory holds one credential per broker (identity/pki.h,
// init_broker): role "broker", transport_key = the broker's CURVE public
// key, signing_key = its audit key's public half. The broker finds it by
// its CURVE key and checks the other two, so that receipts it signs verify
// under the credential they name. A broker without one refuses to start
// (and a reload that loses it is refused): receipts nobody can verify are
// worse than none.
#pragma once

#include <string>

#include "base/result.h"
#include "crypto/keys.h"
#include "identity/directory.h"

namespace tearline::broker {

// The broker's node id in `directory`, or UNKNOWN_NODE with a reason that
// says what is missing or wrong and how to fix it (`tearline certs broker`,
// or regenerate the PKI).
Result<std::string> find_broker_identity(const identity::Directory& directory,
                                         const crypto::TransportPublicKey& transport, const crypto::VerifyKey& audit);

}  // namespace tearline::broker
