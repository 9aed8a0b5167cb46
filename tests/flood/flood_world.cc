#include "flood/flood_world.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <functional>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "base/clock.h"
#include "base/files.h"
#include "base/ports.h"
#include "identity/roster.h"

namespace tearline::flood {
namespace {

// Two agencies: the canary pair belongs to one, the attackers (compromised
// but valid nodes of a partner) to the other.
std::string roster_text(const std::string& valid_flooder, const std::string& bad_signature_flooder) {
  std::string text = R"(validity_days = 2

[[agency]]
id = "CANARY"
country = "COL"
name = "the agency whose traffic is measured"

[[agency]]
id = "ROGUE"
country = "MEX"
name = "a partner agency whose nodes are compromised"
)";
  const std::pair<std::string, std::string> nodes[] = {{kCanaryPublisher, "CANARY"},
                                                       {kCanarySubscriber, "CANARY"},
                                                       {valid_flooder, "ROGUE"},
                                                       {bad_signature_flooder, "ROGUE"}};
  for (const auto& [id, agency] : nodes) {
    text += "\n[[node]]\nid = \"" + id + "\"\nagency = \"" + agency +
            "\"\nclearance = \"SECRET\"\nroles = [\"analyst\"]\n";
  }
  return text;
}

constexpr const char* kPolicy = R"([[grant]]
to = ["any"]
publish = ["flood.>"]
subscribe = ["flood.>"]
)";


void write_text(const std::filesystem::path& path, const std::string& text) {
  Status s = write_file_atomic(path, as_bytes(text), 0644);
  if (!s) throw std::runtime_error(s.to_string());
}

}  // namespace

FloodWorld::FloodWorld(const BrokerSettings& settings) : dir_("tearline-flood"), pki_(dir_.path() / "pki") {
  // The verifier pool serves nodes round-robin from one queue per node
  // (broker/verifier_pool.h): no placement of the attackers is worse than
  // another, so their ids are fixed.
  valid_flooder_ = "attacker-valid-flood";
  bad_signature_flooder_ = "attacker-bad-signature";
  auto roster = identity::parse_roster(roster_text(valid_flooder_, bad_signature_flooder_), "flood roster");
  if (!roster) throw std::runtime_error("flood roster: " + roster.status().to_string());
  Status generated = identity::generate_from_roster(*roster, pki_, SystemClock::instance().now_seconds());
  if (!generated) throw std::runtime_error("flood PKI: " + generated.to_string());
  write_text(dir_.path() / "policy.toml", kPolicy);

  auto port = free_loopback_port();
  if (!port) throw std::runtime_error(port.status().to_string());
  port_ = *port;
  endpoint_ = "tcp://127.0.0.1:" + std::to_string(port_);
  std::ostringstream config;
  config << "[broker]\n"
         << "endpoint = \"" << endpoint_ << "\"\n"
         << "key_file = \"pki/keys/broker.key\"\n"
         << "directory = \"pki/directory\"\n"
         << "policy = \"policy.toml\"\n"
         << "data_dir = \"data\"\n"
         << "log_level = \"warn\"\n"
         << "verify_threads = " << settings.verify_threads << "\n";
  if (!settings.limits.empty()) {
    config << "\n[limits]\n";
    for (const auto& [key, value] : settings.limits) config << key << " = " << value << "\n";
  }
  config_ = dir_.path() / "broker.toml";
  log_ = dir_.path() / "broker.log";
  write_text(config_, config.str());
}

FloodWorld::~FloodWorld() {
  if (pid_ > 0) (void)stop_broker();
}

void FloodWorld::start_broker(const std::filesystem::path& broker_binary, int nice) {
  const std::string binary = broker_binary.string();
  const std::string config = config_.string();
  const std::string log = log_.string();
  std::vector<char*> argv = {const_cast<char*>(binary.c_str()), const_cast<char*>("-c"),
                             const_cast<char*>(config.c_str()), nullptr};
  const pid_t parent = ::getpid();
  // fork + exec rather than posix_spawn, for two settings of the child: its
  // nice value (inherited by every broker thread) and a SIGTERM when this
  // process dies, so that a killed test (ctest's timeout) leaves no broker
  // behind. No other thread runs yet; the child calls only
  // async-signal-safe functions before exec.
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(126);
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || ::dup2(fd, STDOUT_FILENO) < 0 || ::dup2(fd, STDERR_FILENO) < 0) ::_exit(126);
    if (nice != 0 && ::setpriority(PRIO_PROCESS, 0, nice) != 0) {
      static const char kMessage[] = "tearline_flood: cannot set the broker's nice value\n";
      (void)!::write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
      ::_exit(126);
    }
    ::execv(binary.c_str(), argv.data());
    ::_exit(127);
  }
  // A broker that cannot start exits at once: say why here rather than
  // after the canary's connection times out.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  if (!broker_alive()) {
    const std::string tail = log_tail(5);
    throw std::runtime_error(binary + " exited with status " + std::to_string(exit_status_) +
                             (tail.empty() ? std::string() : ": " + tail));
  }
}

bool FloodWorld::broker_alive() {
  if (pid_ <= 0) return false;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == 0) return true;
  exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  pid_ = -1;
  return false;
}

int FloodWorld::stop_broker() {
  if (!broker_alive()) return exit_status_;
  ::kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (broker_alive()) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      exit_status_ = 128 + SIGKILL;
      pid_ = -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return exit_status_;
}

std::string FloodWorld::log_tail(int lines) const {
  std::ifstream in(log_);
  std::deque<std::string> last;
  for (std::string line; std::getline(in, line);) {
    last.push_back(line);
    if (static_cast<int>(last.size()) > lines) last.pop_front();
  }
  std::string out;
  for (const auto& l : last) out += l + "\n";
  return out;
}

}  // namespace tearline::flood
