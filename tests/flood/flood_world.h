// The world of the flood test, in a temporary folder: a roster of canary
// and attacker nodes turned into a fresh PKI, a topic policy that lets every
// node publish and subscribe under "flood.", a broker configuration, and the
// tearline-broker process itself.
//
// Errors: every setup failure throws std::runtime_error naming the step.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "base/process.h"
#include "identity/pki.h"
#include "support/temp_dir.h"

namespace tearline::flood {

// The canary nodes of the roster (the attackers': FloodWorld::valid_flooder()
// and bad_signature_flooder()).
inline constexpr const char* kCanaryPublisher = "canary-publisher";
inline constexpr const char* kCanarySubscriber = "canary-subscriber";

inline constexpr const char* kCanaryTopic = "flood.canary";
inline constexpr const char* kAttackTopic = "flood.attack";

struct BrokerSettings {
  int verify_threads = 2;
  std::map<std::string, std::string> limits;  // extra [limits] keys, as TOML values
};

class FloodWorld {
 public:
  // Generates the PKI (valid from an hour ago for two days), the policy and
  // the configuration, on a free port of 127.0.0.1.
  explicit FloodWorld(const BrokerSettings& settings);
  ~FloodWorld();  // stops the broker if it still runs
  FloodWorld(const FloodWorld&) = delete;
  FloodWorld& operator=(const FloodWorld&) = delete;

  const identity::PkiPaths& pki() const { return pki_; }
  const std::string& endpoint() const { return endpoint_; }
  int port() const { return port_; }
  const std::filesystem::path& log_path() const { return log_; }
  const std::string& valid_flooder() const { return valid_flooder_; }
  const std::string& bad_signature_flooder() const { return bad_signature_flooder_; }

  // Starts `broker_binary -c CONFIG`, its stdout and stderr to log_path(),
  // at nice value `nice` (every broker thread inherits it; negative values
  // need CAP_SYS_NICE). The broker gets SIGTERM if this process dies.
  // Throws when the broker exits within its first 200 ms. Call it before
  // this process starts any thread.
  void start_broker(const std::filesystem::path& broker_binary, int nice = 0);
  pid_t broker_pid() const { return broker_.pid(); }
  // True while the broker process has not exited.
  bool broker_alive();
  // SIGTERM, then SIGKILL after 10 s; returns the exit status as a shell
  // would ($?: 128 + signal when killed); -1 when no broker was started.
  int stop_broker();
  // The last `lines` lines of the broker's log.
  std::string log_tail(int lines) const;

 private:
  testing::TempDir dir_;
  identity::PkiPaths pki_;
  std::filesystem::path config_, log_;
  int port_ = 0;
  std::string endpoint_;
  std::string valid_flooder_, bad_signature_flooder_;
  Process broker_;
};

}  // namespace tearline::flood
