// The broker's check of an ACK (docs/protocol.md, "ACK"): every ACK carries
// the node's signed delivery receipt (receipt/delivery.h) for copies this
// session was sent and has not acknowledged yet.
//
// check_ack() is pure (no I/O, nothing changed): the I/O thread calls it,
// then on success forgets the acknowledged copies, moves the node's cursor
// and keeps the receipt in the audit log. Cost: one Ed25519 verify per ACK,
// however many copies it acknowledges.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/result.h"
#include "broker/session_table.h"
#include "identity/directory.h"
#include "tearline/v1/receipt.pb.h"
#include "tearline/v1/wire.pb.h"

namespace tearline::broker {

// The receipt of `ack`, parsed, when it is one `s` may send now: it parses
// (receipt::parse_delivery), is signed by the session's own node for this
// broker (`broker_id`) and verifies under its credential at `now_ms`; it
// covers the stream the ACK names (ack.writer: empty or broker_id, this
// broker's own, format 1; another writer's, format 2); each entry names a
// copy of that stream this session was sent and has not acknowledged
// (the `unacked` of its place in that stream, Session::place), with the
// very hash sent; ack.broker_seq is its last entry's seq; and ack.refused is
// empty, or `partner_broker` (the session is a partner's boundary broker)
// and each of them names an entry of the receipt (its seq and report id),
// once, with 1..wire::kMaxCopyRefusalReasons reasons. Otherwise
// RECEIPT_INVALID with every reason found
// (the broker answers it as a bad frame: ERROR, counted towards max_failures).
[[nodiscard]] Result<tearline::v1::DeliveryReceipt> check_ack(const Session& s, const tearline::v1::Ack& ack,
                                                              std::string_view broker_id,
                                                              const identity::Directory& directory, std::int64_t now_ms,
                                                              bool partner_broker = false);

}  // namespace tearline::broker
