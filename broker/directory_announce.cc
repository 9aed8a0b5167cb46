// Broker::Impl::announce_directory: after a reload that changed the
// directory, every READY session is told the new version (DIRECTORY_CHANGED,
// docs/protocol.md), so that nodes reload theirs instead of judging new
// originators unknown.
#include "broker/broker_impl.h"

namespace tearline::broker {

void Broker::Impl::announce_directory(const std::array<std::uint8_t, 32>& previous_digest) {
  TrustSnapshotPtr snap = trust.current();
  const auto& digest = snap->directory->digest();
  if (digest == previous_digest) return;
  const ByteView bytes(digest.data(), digest.size());
  const Bytes frame = wire::encode_frame(wire::make_directory_changed(bytes, snap->generation));
  std::size_t told = 0;
  for (auto& [id, s] : sessions) {
    if (!s.ready()) continue;
    sessions.send(s, frame);
    ++told;
  }
  log->info("event=directory_announced digest={} generation={} sessions={}", to_hex(bytes).substr(0, 16),
            snap->generation, told);
}

}  // namespace tearline::broker
