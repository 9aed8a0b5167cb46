// What `tearline demo` needs to run agencies' brokers as a federation
// (docs/federation.md): the peerings, each broker's own view of the
// directory, and the broker logs' link events.
//
// One machine plays every agency here: the demo PKI holds every agency's
// authority key, so the demo signs each peering with both authorities
// itself, and each broker's view is the directory as `tearline certs import`
// would leave it at that agency: the same objects, the agencies of the other
// brokers pinned as partners.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "base/result.h"
#include "identity/pki.h"

namespace tearline::cli::demo {

// One side of a peering: the agency and its boundary broker.
struct PeeringSide {
  std::string agency;
  std::string broker;
};

// Topic patterns the demo's peerings let cross, each way.
const std::vector<std::string>& peering_topics();

// Writes peering `id` v1 between `first` and `second` into the PKI's
// directory and signs it with both authorities: the topics of
// peering_topics() cross each way, up to SECRET, releasable to the
// receiving agency's country (its authority's in the trust store), valid
// from `now_seconds` - 3600 for 7 days. The brokers' credentials must be in
// the directory (create_peering_file's reasons otherwise).
Status write_demo_peering(const identity::PkiPaths& pki, const std::string& id, const PeeringSide& first,
                          const PeeringSide& second, std::int64_t now_seconds);

// Copies the directory `source` to `view` (which must not exist) and marks
// exactly `partners` as partner agencies in its trust store.
Status make_directory_view(const std::filesystem::path& source, const std::filesystem::path& view,
                           const std::vector<std::string>& partners);

// Copies every revocation list of `source` into `view`, as a `certs import`
// of the agency's folder would take it.
Status copy_revocation_lists(const std::filesystem::path& source, const std::filesystem::path& view);

// Whether the file holds a line containing every one of `parts`.
bool log_has_line(const std::filesystem::path& log, const std::vector<std::string>& parts);
// Every line of the file that contains `needle`.
std::vector<std::string> lines_with(const std::filesystem::path& log, const std::string& needle);

}  // namespace tearline::cli::demo
