// Signed audit checkpoints exchanged over a peering (docs/federation.md,
// "Audit checkpoints"): each boundary broker sends the other its newest
// checkpoint (in PING one way, PONG the other), and records the partner's,
// checked, as an entry of its own audit log. The entry's detail is the
// checkpoint's anchor line (audit/anchor.h), so an auditor holding one
// broker's log can test the partner's store against what the partner signed
// (`tearline audit verify --anchor LINE`): each side can prove what the
// other's log held, the crossings it acknowledged included. Pure: no I/O.
#pragma once

#include <string>
#include <string_view>

#include "audit/audit.h"
#include "base/result.h"
#include "identity/directory.h"
#include "tearline/v1/wire.pb.h"

namespace tearline::federation {

// The message of checkpoint `c` of broker `broker_id`.
tearline::v1::AuditCheckpoint checkpoint_message(const std::string& broker_id, const audit::Checkpoint& c);

// A checkpoint `peer` sent: it must name `peer` (WRONG_AUTHORITY), whose
// credential in `directory` has role broker (UNKNOWN_NODE), carry a 32-byte
// hash, a 64-byte signature and an index above 0 (INVALID_FIELD), and its
// signature must verify under that credential's signing key, the broker's
// audit key (BAD_SIGNATURE). Every failing check is named.
Result<audit::Checkpoint> check_peer_checkpoint(const tearline::v1::AuditCheckpoint& m, std::string_view peer,
                                                const identity::Directory& directory);

}  // namespace tearline::federation
