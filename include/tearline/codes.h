// The one registry of tearline's stable codes. Every rejection, denial and
// protocol error carries one of these: a number (on the wire), a machine name
// and a human sentence. Numbers never change meaning; new codes are appended.
//   1xx protocol and framing   2xx identity and trust     3xx report format
//   4xx policy                 5xx broker ingress/replay  6xx storage
//
// Public (with tearline/status.h); lib/base/codes.h forwards here. Std headers only.
#pragma once

#include <cstdint>
#include <string_view>

namespace tearline {

#define TEARLINE_CODES(X)                                                                           \
  X(OK, 0, "no error")                                                                              \
  X(PROTOCOL_VIOLATION, 100, "frame not allowed in the session's current state")                    \
  X(MALFORMED_FRAME, 101, "frame bytes do not parse as a tearline frame")                           \
  X(FRAME_TOO_LARGE, 102, "frame exceeds the broker's size limit")                                  \
  X(UNSUPPORTED_VERSION, 103, "protocol name or version not supported")                             \
  X(UNEXPECTED_FRAME, 104, "frame type not valid in this direction")                                \
  X(TOO_MANY_FAILURES, 105, "too many rejected requests; session closed")                           \
  X(SESSION_REVOKED, 106, "the node's credential is no longer valid; session closed")               \
  X(NOT_AUTHORIZED, 107, "the node lacks the role this request needs")                              \
  X(RATE_LIMITED, 108, "the node exceeded its publish rate")                                        \
  X(SLOW_CONSUMER, 109, "the subscriber fell too far behind; session closed")                       \
  X(UNAVAILABLE, 110, "the broker did not answer in time (client side)")                            \
  X(HANDSHAKE_REFUSED, 111, "the broker refused the node's transport key at the handshake")         \
  X(SESSION_REPLACED, 112, "a newer session of the same node replaced this one")                    \
  X(BAD_ENCODING, 200, "object bytes are not canonical (duplicate, unknown or reordered field)")    \
  X(BAD_SIGNATURE, 201, "signature does not verify")                                                \
  X(UNKNOWN_AUTHORITY, 202, "signer is not a pinned authority")                                     \
  X(WRONG_AUTHORITY, 203, "signed by an authority other than the required one")                     \
  X(NOT_YET_VALID, 204, "validity window has not started")                                          \
  X(EXPIRED, 205, "validity window has ended")                                                      \
  X(REVOKED, 206, "revoked by its agency's revocation list")                                        \
  X(MISSING_CONSENT, 207, "charter lacks a required agency signature")                              \
  X(REVOCATION_ROLLBACK, 208, "revocation list number is lower than the one held")                  \
  X(INVALID_FIELD, 209, "a field is missing or out of range")                                       \
  X(DUPLICATE_OBJECT, 210, "object conflicts with another of the same identity")                    \
  X(EMPTY_TRUST_STORE, 211, "trust store has no authority")                                         \
  X(UNKNOWN_NODE, 212, "node id is not in the directory")                                           \
  X(KEY_FILE, 213, "key file missing, malformed or readable by others")                             \
  X(IO_ERROR, 214, "file could not be read or written")                                             \
  X(RECEIPT_INVALID, 215, "receipt is missing, malformed or does not verify")                       \
  X(WEAK_KEY, 216, "a public key is a small-order or otherwise unusable point")                     \
  X(PEERING_WIDENED, 217, "a peering version signed by one side alone widens the one in effect")    \
  X(NO_PEERING, 218, "no version of the peering agreement is in effect")                            \
  X(FOREIGN_NODE, 219, "the node belongs to a partner agency and connects to its own broker")       \
  X(REPORT_MALFORMED, 300, "report bytes are malformed")                                            \
  X(REPORT_VERSION, 301, "report format version not supported")                                     \
  X(REPORT_SIGNATURE, 302, "report signature does not verify")                                      \
  X(COMMITMENT_MISMATCH, 303, "a section does not match its commitment")                            \
  X(TOO_MANY_SECTIONS, 304, "report has no section or more than the limit")                         \
  X(TOO_MANY_RECIPIENTS, 305, "section is sealed to more recipients than the limit")                \
  X(LABEL_INVALID, 306, "section label is invalid")                                                 \
  X(ORIGINATOR_INVALID, 307, "originator credential is unknown, expired or revoked")                \
  X(NOT_ADDRESSED, 308, "section is not sealed to this node")                                       \
  X(OPEN_FAILED, 309, "section could not be decrypted")                                             \
  X(SECTION_TOO_LARGE, 310, "section content exceeds the size limit")                               \
  X(ORIGINATOR_COMPROMISED, 311, "originator's key was compromised before the report was accepted") \
  X(CLEARANCE_BELOW, 400, "clearance below the classification")                                     \
  X(COUNTRY_NOT_RELEASABLE, 401, "country not in releasable-to")                                    \
  X(NOT_UNIT_MEMBER, 402, "not a member of any unit the label names")                               \
  X(TOPIC_READ_DENIED, 403, "no read permission on the topic")                                      \
  X(TOPIC_WRITE_DENIED, 404, "no write permission on the topic")                                    \
  X(TOPIC_INVALID, 405, "topic or pattern is malformed")                                            \
  X(ORIGINATOR_COUNTRY_MISSING, 406, "releasable-to does not include the originator's country")     \
  X(UNIT_NOT_HELD, 407, "label names a unit the originator is not a member of")                     \
  X(DERIVED_LABEL_LOOSER, 408, "derived section is less restrictive than its source")               \
  X(ORCON_VIOLATION, 409, "ORCON source re-disseminated by another agency")                         \
  X(PEERING_TOPIC, 410, "topic not among those the peering lets cross")                             \
  X(ABOVE_PEERING_CEILING, 411, "section classified above the peering's ceiling")                   \
  X(CROSSING_LOOP, 412, "report came back over a peering to the agency it left")                    \
  X(TORN_UPSTREAM, 413, "section was torn off before the report reached this broker")               \
  X(HOP_LIMIT, 414, "report would pass through more brokers than the hop limit")                    \
  X(UNKNOWN_SOURCE, 500, "cited source report is unknown to the broker")                            \
  X(ORIGINATOR_MISMATCH, 501, "report originator is not the authenticated node")                    \
  X(REPLAYED_REPORT, 502, "report id seen before")                                                  \
  X(SEQUENCE_REGRESSION, 503, "sequence number did not increase")                                   \
  X(STALE_REPORT, 504, "created-at is too far in the past")                                         \
  X(FUTURE_REPORT, 505, "created-at is too far in the future")                                      \
  X(TOO_MANY_SUBSCRIPTIONS, 506, "subscription limit reached")                                      \
  X(BROKER_BUSY, 507, "broker cannot take more work now")                                           \
  X(STORAGE_FAILED, 600, "report could not be stored durably")                                      \
  X(STORAGE_FULL, 601, "storage is full")                                                           \
  X(STORAGE_HALTED, 602, "broker stopped accepting after a failed sync or damage to its store")     \
  X(STORAGE_DAMAGED, 603, "a stored record failed its re-check and was not delivered")              \
  X(STORAGE_TRUNCATED, 604, "the store ends before an audit checkpoint the broker had signed")

enum class Code : std::uint16_t {
#define TEARLINE_CODE_ENUM(name, number, text) name = (number),
  TEARLINE_CODES(TEARLINE_CODE_ENUM)
#undef TEARLINE_CODE_ENUM
};

// "SIGNATURE_INVALID"-style machine name; "UNKNOWN_CODE" for a number not listed.
std::string_view code_name(Code code);
// One-line meaning of the code, as listed in docs/protocol.md.
std::string_view code_meaning(Code code);
// Maps a wire number back to a Code; false when the number is not listed.
bool code_from_number(std::uint32_t number, Code* out);

}  // namespace tearline
