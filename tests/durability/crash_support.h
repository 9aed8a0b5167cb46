// What tearline_crash_test (crash_test.cc) needs besides its scenario: the
// broker as a child process it kills and restarts, and what the broker's
// store holds afterwards, read from either backend.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "base/process.h"
#include "crypto/keys.h"
#include "identity/pki.h"

namespace tearline::crash_test {

// Says why the test could not be set up, on stderr, and exits 2.
[[noreturn]] void die(const std::string& why);

double seconds_since(std::chrono::steady_clock::time_point t);

// A whole file as text ("" when it cannot be read).
std::string read_text(const std::filesystem::path& path);

// tearline-broker run with `--config config`, its output in
// log_dir/broker-NNNN.log (one per start). The destructor kills it.
class BrokerProcess {
 public:
  BrokerProcess(std::filesystem::path binary, std::filesystem::path config, std::filesystem::path log_dir);
  ~BrokerProcess();
  BrokerProcess(const BrokerProcess&) = delete;
  BrokerProcess& operator=(const BrokerProcess&) = delete;

  // Starts it and waits until it logs event=started (it has recovered its
  // store and bound the port). Returns the seconds that took; dies when it
  // exits first or takes over 60 s.
  double start();
  // SIGKILL, and reap it: the crash under test.
  void kill_now();
  // SIGTERM; the exit status (0: a clean stop). SIGKILL (137) only if it has
  // not stopped within 10 minutes.
  int terminate();
  int starts() const { return starts_; }
  // The log of its current run (stdout and stderr).
  const std::filesystem::path& log() const { return log_; }

 private:
  std::filesystem::path binary_, config_, log_dir_, log_;
  Process process_;
  int starts_ = 0;
};

// What the store holds, once the broker has stopped.
struct Stored {
  std::map<std::string, std::uint64_t> seq_of;  // report id hex -> broker seq
  std::set<std::string> accepted_in_audit;      // report ids with a "publish accepted" entry
};

// From data_dir/tearline.db when `conninfo` is empty, else from PostgreSQL.
Stored read_store(const std::string& conninfo, const std::filesystem::path& data_dir);

// The broker's audit checkpoint key, from the PKI's broker-audit.pub.
crypto::VerifyKey audit_key(const identity::PkiPaths& pki);

}  // namespace tearline::crash_test
