// The federation e2e tests' world (docs/federation.md): agencies' brokers
// in one process, each with its own view of one demo PKI's directory (the
// other agencies pinned as partners, as `certs import` leaves them), and
// the peerings between them signed by both authorities. Header-only:
// asserts with Catch2 in the calling test.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "audit/audit_db.h"
#include "base/clock.h"
#include "base/files.h"
#include "federation/peering_files.h"
#include "identity/pki.h"
#include "support/e2e_helpers.h"
#include "support/partners.h"
#include "wire/frame.h"

namespace tearline::federation_world {

namespace v1 = tearline::v1;
using testing::BrokerFixture;
using Strings = std::vector<std::string>;

inline constexpr int kWaitMs = 5000;
inline const std::string kAnalyst = "dea-bogota-analyst";
inline const std::string kHq = "diran-bogota-hq";

inline std::int64_t now() { return SystemClock::instance().now_seconds(); }

// Writes `d` (valid from a minute ago for a day) and signs it with both
// parties' authorities.
inline void sign_peering(const identity::PkiPaths& pki, federation::PeeringDraft d) {
  d.not_before = now() - 60;
  d.not_after = now() + 86400;
  auto version = federation::create_peering_file(pki, d, now());
  INFO(version.status().to_string());
  REQUIRE(version);
  REQUIRE(federation::cosign_peering_file(pki, d.peering_id, *version, d.first_agency, now()));
  REQUIRE(federation::cosign_peering_file(pki, d.peering_id, *version, d.second_agency, now()));
}

// `to`: a copy of the directory `from` with exactly `partners` pinned as partner agencies.
inline void directory_view(const std::filesystem::path& from, const std::filesystem::path& to,
                           const std::vector<std::string>& partners) {
  std::filesystem::remove_all(to);
  std::filesystem::copy(from, to, std::filesystem::copy_options::recursive);
  testing::set_partner_agencies(to / "trust.toml", partners);
}

// A session of node `id` at broker `at`, loading `directory`.
inline std::unique_ptr<client::Session> node_at(const BrokerFixture& at, const std::filesystem::path& directory,
                                                const std::string& id) {
  client::SessionOptions o = at.options(id);
  o.directory = directory;
  auto s = client::Session::connect(o);
  INFO(id << ": " << s.status().to_string());
  REQUIRE(s);
  return std::move(s).value();
}

struct Federation {
  BrokerFixture diran;
  std::filesystem::path dea_directory = diran.root() / "dea-view";
  std::unique_ptr<BrokerFixture> dea;

  // `storage`: DIRAN's broker's, which DEA's takes too (e.g. a shorter
  // audit_checkpoint_seconds); `checkpoints`: DEA's [[peer]] exchanges them.
  explicit Federation(const broker::StorageLimits& storage = {}, bool checkpoints = true) : diran(storage) {
    dea = std::make_unique<BrokerFixture>(diran, "dea-broker", "DEA", [this, checkpoints](broker::Config& c) {
      const identity::PkiPaths& pki = diran.pki();
      federation::PeeringDraft d;
      d.peering_id = "diran-dea";
      d.first_agency = "DIRAN";
      d.first_broker = "tearline-broker";
      d.second_agency = "DEA";
      d.second_broker = "dea-broker";
      d.first_to_second.add_topics("intel.finance.>");
      d.first_to_second.set_ceiling(v1::SECRET);
      d.first_to_second.add_releasable_to("USA");
      d.second_to_first.set_ceiling(v1::UNCLASSIFIED);
      sign_peering(pki, d);
      // DEA's view: the same objects, with DIRAN the partner.
      directory_view(pki.directory(), dea_directory, {"DIRAN"});
      testing::set_partner_agencies(pki.trust_store(), {"DEA"});
      c.directory = dea_directory;
      c.peers = {broker::PeerEndpoint{"tearline-broker", diran.endpoint(), checkpoints}};
    });
  }

  client::SessionOptions dea_options(const std::string& node) const {
    client::SessionOptions o = dea->options(node);
    o.directory = dea_directory;
    return o;
  }
  std::unique_ptr<client::Session> dea_node(const std::string& node) const {
    return node_at(*dea, dea_directory, node);
  }
  // DEA's analyst with its durable subscription to what crosses.
  std::unique_ptr<client::Session> subscribed_analyst() const {
    auto analyst = dea_node(kAnalyst);
    REQUIRE(analyst->subscribe({"intel.finance.>"}));
    return analyst;
  }

  // Publishes sentinels at DIRAN's broker until one reaches `reader` through
  // DEA's: the link is up and subscribed. Each sentinel the reader does not
  // see in time is taken off its queue later by `drain`.
  void wait_for_link(client::Session& publisher, client::Session& reader) const {
    for (int i = 0; i < 40; ++i) {
      auto sent = publisher.publish(testing::draft("intel.finance.sentinel", {{testing::kEveryone, "sentinel"}}));
      REQUIRE(sent);
      REQUIRE(sent->accepted);
      if (auto got = reader.receive(500); got && got->topic == "intel.finance.sentinel") {
        while (reader.receive(300)) {
        }
        return;
      }
    }
    FAIL("DEA's broker never relayed a sentinel from DIRAN's");
  }
};

inline Strings statuses(const client::Received& r) {
  Strings out;
  for (const auto& s : r.sections) out.emplace_back(client::section_status_name(s.status));
  return out;
}

// The (decision, detail) of every "crossing" audit entry of the database.
inline std::vector<std::pair<std::string, std::string>> crossings(const std::filesystem::path& database) {
  auto entries = audit::read_entries(database);
  REQUIRE(entries);
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& e : *entries) {
    if (e.event == "crossing") out.emplace_back(e.decision, e.detail);
  }
  return out;
}

}  // namespace tearline::federation_world
