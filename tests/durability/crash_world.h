// The world of the crash tests (crash_test.cc, one broker; cluster_crash_test.cc,
// two brokers on one PostgreSQL store): the publishers' kinds of report, who
// may read which (checked against the policy itself), and the work folder
// and broker configuration they run with.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "base/clock.h"
#include "crash_support.h"
#include "identity/directory.h"
#include "policy/delivery.h"
#include "policy/label.h"
#include "policy/topic_policy.h"

namespace tearline::crash_test {

// A kind of report: its publisher, topic and one section's label.
struct Kind {
  char name;
  std::string publisher, topic;
  policy::Label label;
};

inline policy::Label kind_label(identity::Classification c, std::vector<std::string> rel) {
  return policy::normalized(policy::Label{c, std::move(rel), {}, false});
}

inline const std::vector<Kind> kKinds = {
    {'A', "diran-bogota-hq", "intel.seizures", kind_label(tearline::v1::CONFIDENTIAL, {"COL", "MEX", "USA"})},
    {'B', "diran-bogota-hq", "intel.routes", kind_label(tearline::v1::SECRET, {"COL", "USA"})},
    {'C', "dea-bogota-analyst", "intel.finance", kind_label(tearline::v1::CONFIDENTIAL, {"COL", "USA"})},
    {'D', "fudra-lab-ops", "intel.labs", kind_label(tearline::v1::CONFIDENTIAL, {"COL"})},
};
inline const std::vector<std::string> kPublishers = {"diran-bogota-hq", "dea-bogota-analyst", "fudra-lab-ops"};
// Subscriber -> the kinds it may read (checked against policy::decide_delivery).
inline const std::map<std::string, std::string> kEntitled = {
    {"diran-cucuta-analyst", "ABCD"},  // SECRET, COL
    {"dea-cucuta-agent", "ABC"},       // SECRET, USA
    {"fgr-liaison", "A"},              // CONFIDENTIAL, MEX
};

// Checks the hand-written entitlement table against the policy itself.
inline void check_entitlement_table(const identity::PkiPaths& pki, const std::filesystem::path& policy_path) {
  const std::int64_t now = SystemClock::instance().now_seconds();
  auto dir = identity::Directory::load(pki.directory(), now, nullptr);
  if (!dir) die(dir.status().to_string());
  auto topics = policy::TopicPolicy::load(policy_path);
  if (!topics) die(topics.status().to_string());
  for (const auto& [node, kinds] : kEntitled) {
    for (const auto& k : kKinds) {
      const identity::Credential* originator = (*dir)->node(k.publisher);
      if (originator == nullptr) die("unknown publisher " + k.publisher);
      // The builder seals to every node the label admits; where the label refuses, sealing is moot.
      const policy::DeliveryQuestion q{k.topic, originator->country, {{&k.label, true}}};
      const bool may = policy::decide_delivery(**dir, &*topics, node, q, now).all_delivered();
      if (may != (kinds.find(k.name) != std::string::npos)) {
        die(std::string("entitlement table wrong for ") + node + " and kind " + k.name);
      }
    }
  }
}

inline std::filesystem::path make_work_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "tearline-crash-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) die("mkdtemp " + pattern);
  return pattern;
}

// Where one broker listens and keeps its files.
struct BrokerPlace {
  std::string endpoint;
  std::filesystem::path key_file, data_dir;
  std::string conninfo;  // the PostgreSQL store's; empty: SQLite in the data dir
};

inline void write_config(const std::filesystem::path& path, const identity::PkiPaths& pki, const BrokerPlace& place,
                         const std::filesystem::path& policy) {
  std::ofstream out(path);
  out << "[broker]\n"
      << "endpoint = \"" << place.endpoint << "\"\n"
      << "key_file = \"" << place.key_file.string() << "\"\n"
      << "directory = \"" << pki.directory().string() << "\"\n"
      << "policy = \"" << policy.string() << "\"\n"
      << "data_dir = \"" << place.data_dir.string() << "\"\n"
      << "log_level = \"info\"\n"
      // The publishers send as fast as the broker answers: durability, not
      // the per-node flood limits, is what this test is about.
      << "[limits]\npublish_rate = 1000000\npublish_burst = 1000000\n";
  if (!place.conninfo.empty()) out << "[storage]\nstore = \"postgresql\"\nconninfo = \"" << place.conninfo << "\"\n";
  if (!out) die("cannot write " + path.string());
}

}  // namespace tearline::crash_test
