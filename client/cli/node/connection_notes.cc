#include "cli/node/connection_notes.h"

#include "cli/common/print.h"

namespace tearline::cli {
namespace {

std::string short_digest(const std::string& hex) { return hex.substr(0, 16); }

}  // namespace

std::string connection_note(const client::ConnectionEvent& e) {
  using Kind = client::ConnectionEvent::Kind;
  switch (e.kind) {
    case Kind::kBrokerLost: return one_line("lost the broker: " + e.status.to_string() + "; reconnecting");
    case Kind::kBrokerRegained:
      return "regained the broker; delivery resumes after seq " + std::to_string(e.resume_after_seq);
    case Kind::kDirectoryReloaded:
      if (!e.status) {
        return one_line("could not reload the directory (" + e.why + "): " + e.status.to_string() +
                        "; keeping the previous one");
      }
      return "reloaded the directory (" + e.why + "): digest " + short_digest(e.old_digest_hex) + " -> " +
             short_digest(e.new_digest_hex) +
             (e.matches_broker ? ", now equal to the broker's"
                               : ", not the broker's (copy the PKI's directory here, then SIGHUP)");
  }
  return "";
}

}  // namespace tearline::cli
