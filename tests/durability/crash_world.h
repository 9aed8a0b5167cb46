// The world of the crash tests (crash_test.cc, one broker; cluster_crash_test.cc,
// two brokers on one PostgreSQL store): the publishers' kinds of report, who
// may read which (checked against the policy itself), and the work folder
// and broker configuration they run with.
#pragma once

#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
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

// Subscriber -> the ids of the accepted reports (id -> kind) it may read.
inline std::map<std::string, std::set<std::string>> entitled_reports(const std::map<std::string, char>& accepted) {
  std::map<std::string, std::set<std::string>> expected;
  for (const auto& [node, kinds] : kEntitled) {
    for (const auto& [id, kind] : accepted) {
      if (kinds.find(kind) != std::string::npos) expected[node].insert(id);
    }
  }
  return expected;
}

// Waits (up to 120 s) until every subscriber (each with `mu` and `ids`)
// holds the ids `expected` names for it, then 500 ms more, so that anything
// extra would show up. The seconds it waited.
template <class Subscribers>
double wait_drained(Subscribers& subscribed, const std::map<std::string, std::set<std::string>>& expected) {
  const auto start = std::chrono::steady_clock::now();
  const std::set<std::string> none;
  for (bool drained = false; !drained && seconds_since(start) < 120;) {
    drained = true;
    for (auto& [node, sub] : subscribed) {
      auto want = expected.find(node);
      const std::set<std::string>& ids = want == expected.end() ? none : want->second;
      std::lock_guard lock(sub.mu);
      drained = drained && std::includes(sub.ids.begin(), sub.ids.end(), ids.begin(), ids.end());
    }
    if (!drained) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  return seconds_since(start);
}

struct StoreCheck {
  std::size_t lost = 0, phantom = 0;
};

// Checks 1 and 2 of the crash tests: every accepted report (id -> kind) is
// stored, every stored one was accepted and has its audit entry.
inline StoreCheck check_stored(const std::map<std::string, char>& accepted, const Stored& stored,
                               std::vector<std::string>* violations) {
  StoreCheck out;
  for (const auto& [id, kind] : accepted) {
    if (stored.seq_of.count(id) != 0) continue;
    ++out.lost;
    violations->push_back("ACCEPTED report " + id + " (kind " + kind + ") is not in the store");
  }
  for (const auto& [id, seq] : stored.seq_of) {
    if (accepted.count(id) == 0) {
      ++out.phantom;
      violations->push_back("stored report " + id + " (seq " + std::to_string(seq) +
                            ") was never ACCEPTED to its publisher");
    }
    if (stored.accepted_in_audit.count(id) == 0) {
      violations->push_back("stored report " + id + " has no 'publish accepted' audit entry");
    }
  }
  return out;
}

// Prints the first 50 violations.
inline void print_violations(const std::vector<std::string>& violations) {
  for (std::size_t i = 0; i < violations.size() && i < 50; ++i) std::printf("VIOLATION %s\n", violations[i].c_str());
  if (violations.size() > 50) std::printf("... and %zu more violations\n", violations.size() - 50);
}

// The end of a run: the work folder removed when every check held (and not
// --keep), else kept and named. The exit code: 0 when every check held.
inline int finish_run(const char* name, const std::vector<std::string>& violations, const std::filesystem::path& work,
                      bool keep) {
  if (violations.empty() && !keep) {
    std::error_code ec;
    std::filesystem::remove_all(work, ec);
  } else {
    std::printf("%s: kept %s\n", name, work.c_str());
  }
  return violations.empty() ? 0 : 1;
}

// main(): an exception that escapes (the PostgreSQL cluster cannot start,
// the server cannot be read) ends the test with exit 1 and its message.
template <class Run>
int guarded_main(const char* name, Run run) {
  try {
    return run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: FAIL: %s\n", name, e.what());
  } catch (...) {
    std::fprintf(stderr, "%s: FAIL: unknown exception\n", name);
  }
  return 1;
}

}  // namespace tearline::crash_test
