#include "cli/demo/demo_federation.h"

#include <algorithm>
#include <fstream>

#include "base/bytes.h"
#include "base/files.h"
#include "federation/peering_files.h"
#include "identity/trust_store.h"

namespace tearline::cli::demo {
namespace fs = std::filesystem;
namespace v1 = tearline::v1;

namespace {

constexpr std::int64_t kDay = 86400;

v1::PeeringDirection direction_to(const std::string& country) {
  v1::PeeringDirection d;
  for (const auto& t : peering_topics()) d.add_topics(t);
  d.set_ceiling(v1::SECRET);
  d.add_releasable_to(country);
  return d;
}

}  // namespace

const std::vector<std::string>& peering_topics() {
  static const std::vector<std::string> topics = {"intel.>", "unit.>"};
  return topics;
}

Status write_demo_peering(const identity::PkiPaths& pki, const std::string& id, const PeeringSide& first,
                          const PeeringSide& second, std::int64_t now_seconds) {
  auto trust = identity::TrustStore::load(pki.trust_store());
  if (!trust) return trust.status();
  const identity::Authority* a = trust->authority(first.agency);
  const identity::Authority* b = trust->authority(second.agency);
  if (a == nullptr || b == nullptr) {
    return Status::fail(Code::UNKNOWN_NODE, "peering " + id + ": no authority of " +
                                                (a == nullptr ? first.agency : second.agency) + " in the demo PKI");
  }
  federation::PeeringDraft d;
  d.peering_id = id;
  d.first_agency = first.agency;
  d.first_broker = first.broker;
  d.second_agency = second.agency;
  d.second_broker = second.broker;
  d.first_to_second = direction_to(b->country);
  d.second_to_first = direction_to(a->country);
  d.not_before = now_seconds - 3600;
  d.not_after = now_seconds + 7 * kDay;
  auto version = federation::create_peering_file(pki, d, now_seconds);
  if (!version) return version.status();
  for (const auto& agency : {first.agency, second.agency}) {
    if (Status s = federation::cosign_peering_file(pki, id, *version, agency, now_seconds); !s) return s;
  }
  return Status::ok();
}

Status make_directory_view(const fs::path& source, const fs::path& view, const std::vector<std::string>& partners) {
  std::error_code ec;
  fs::copy(source, view, fs::copy_options::recursive, ec);
  if (ec)
    return Status::fail(Code::IO_ERROR,
                        "cannot copy " + source.string() + " to " + view.string() + ": " + ec.message());
  return identity::set_partner_agencies(view / "trust.toml", partners);
}

Status copy_revocation_lists(const fs::path& source, const fs::path& view) {
  std::error_code ec;
  fs::copy(source / "revocations", view / "revocations",
           fs::copy_options::recursive | fs::copy_options::overwrite_existing, ec);
  if (ec)
    return Status::fail(Code::IO_ERROR, "cannot copy the revocation lists to " + view.string() + ": " + ec.message());
  return Status::ok();
}

bool log_has_line(const fs::path& log, const std::vector<std::string>& parts) {
  std::ifstream in(log);
  for (std::string line; std::getline(in, line);) {
    bool all = true;
    for (const auto& p : parts) all = all && line.find(p) != std::string::npos;
    if (all) return true;
  }
  return false;
}

std::vector<std::string> lines_with(const fs::path& log, const std::string& needle) {
  std::vector<std::string> out;
  std::ifstream in(log);
  for (std::string line; std::getline(in, line);) {
    if (line.find(needle) != std::string::npos) out.push_back(line);
  }
  return out;
}

}  // namespace tearline::cli::demo
