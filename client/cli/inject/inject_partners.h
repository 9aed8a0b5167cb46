// The runner's links as partner agencies' boundary brokers (docs/injection.md,
// "Boundary cases"): where a peering in effect names a partner broker whose
// key file the PKI holds, a raw session as that broker, subscribed for the
// session only to what crosses towards it, so that what it receives is what
// crosses; and the partner faults (partner_subscribe, one_sided_peering,
// revoked_peering). One thread; owned by the Runner.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "cli/inject/inject_scenario.h"
#include "cli/inject/inject_verdict.h"
#include "cli/node/node_options.h"
#include "client/connection.h"
#include "federation/peering.h"
#include "identity/directory.h"

namespace tearline::cli::inject {

// Whether `agency` is pinned as a partner agency in the directory.
bool is_partner_agency(const identity::Directory& directory, const std::string& agency);

// One copy that crossed: its report id and the sections present (sealed),
// 1-based; the others travelled as commitments.
struct Crossed {
  std::string report_id_hex;
  std::vector<std::uint32_t> present;
  Status parsed;
};

class PartnerLinks {
 public:
  // `options`: pki, broker and timeout_ms are used. Both must outlive it.
  PartnerLinks(const NodeOptions& options, const Scenario& scenario) : options_(options), scenario_(scenario) {}

  // A link as each partner broker a peering in effect now names, whose key
  // file the PKI holds, towards the broker under test, and which the
  // sentinel crosses; why the others are not linked is kept. A failed
  // Status: the broker unreachable, or a link it refused.
  Status open(const identity::Directory& directory);
  // A PING on each link (a raw link sends nothing by itself, and the broker
  // forgets a silent session).
  void ping();
  // Reads each link up to the report `sentinel`: what crossed before it, by
  // partner broker; a link the broker closed is dropped, with its reasons.
  void collect(const std::string& sentinel, std::map<std::string, std::vector<Crossed>>* crossed,
               std::vector<std::string>* problems);
  // What crossed against [case.cross]; `report_id_hex`: the case's report
  // (null: none); `names`: case names by report id.
  void compare(const Case& c, const std::string* report_id_hex,
               const std::map<std::string, std::vector<Crossed>>& crossed,
               const std::map<std::string, std::string>& names, std::vector<std::string>* problems) const;

  // Reloads the broker (an admin's ADMIN reload) and the runner's directory.
  using Reload = std::function<Result<Verdict>()>;
  // partner_subscribe: a new session as `as` subscribes to the case's topic.
  Result<Verdict> subscribe(const Case& c);
  // revoked_peering: our authority revokes the version in effect of the
  // peering naming `as`, then `reload`; the verdict is how the broker closed the link.
  Result<Verdict> revoke(const Case& c, const Reload& reload);
  // one_sided_peering: our authority alone signs the next version of that
  // peering, adding the case's topic towards `as`, then `reload`, then `as`
  // subscribes to the topic.
  Result<Verdict> widen_one_sided(const Case& c, const Reload& reload);

 private:
  struct Link {
    std::unique_ptr<client::Connection> conn;
    federation::Peering peering;  // the version in effect when linked
    std::string our_agency;       // the other party: ours, which may revoke or narrow the peering
  };
  Result<std::unique_ptr<client::Connection>> connect(const std::string& broker, std::optional<Verdict>* refused) const;

  const NodeOptions& options_;
  const Scenario& scenario_;
  std::map<std::string, Link> links_;            // by partner broker id
  std::map<std::string, std::string> unlinked_;  // partner broker id -> why no link as it
  std::uint64_t pings_ = 0;
};

}  // namespace tearline::cli::inject
