// wire::decode_frame with the default limit, as the broker and the client
// call it on every ZeroMQ message. A frame that decodes must answer every
// question the session code asks of it and survive a re-encode.
#include "fuzz_target.h"
#include "wire/frame.h"

namespace tearline::fuzz {

void wire_frame(ByteView input) {
  auto frame = wire::decode_frame(input, wire::kDefaultMaxFrameBytes);
  if (!frame) return;
  (void)wire::frame_type_name(*frame);
  (void)wire::request_id_of(*frame);
  require(wire::is_client_frame(*frame) != wire::is_server_frame(*frame),
          "a decoded frame is either a client or a server frame");
  if (frame->has_hello()) (void)wire::check_hello(frame->hello());
  if (frame->has_error()) require(!wire::status_of(frame->error()).is_ok(), "an ERROR is never OK");
  if (frame->has_rejected()) require(!wire::status_of(frame->rejected()).is_ok(), "a REJECTED is never OK");

  // The deterministic re-encoding decodes to a frame with the same encoding.
  // (It can be longer than the input: a 5-byte negative int32 becomes 10.)
  const Bytes encoded = wire::encode_frame(*frame);
  auto again = wire::decode_frame(encoded, encoded.size());
  require(again.is_ok(), "a re-encoded frame decodes");
  require(wire::encode_frame(*again) == encoded, "re-encoding is a fixed point");
}

}  // namespace tearline::fuzz

TEARLINE_FUZZ_ENTRY(wire_frame)
