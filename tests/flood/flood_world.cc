#include "flood/flood_world.h"

#include <chrono>
#include <csignal>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "base/clock.h"
#include "base/file_tail.h"
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
    text +=
        "\n[[node]]\nid = \"" + id + "\"\nagency = \"" + agency + "\"\nclearance = \"SECRET\"\nroles = [\"analyst\"]\n";
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

FloodWorld::~FloodWorld() { (void)stop_broker(); }

void FloodWorld::start_broker(const std::filesystem::path& broker_binary, int nice) {
  // Its nice value is inherited by every broker thread; the SIGTERM when this
  // process dies (the parent-death signal) means a killed test (ctest's
  // timeout) leaves no broker behind.
  ProcessSpec spec;
  spec.argv = {broker_binary.string(), "-c", config_.string()};
  spec.stdout_file = log_;
  spec.stderr_to_stdout = true;
  spec.parent_death_signal = SIGTERM;
  spec.nice = nice;
  auto broker = Process::spawn(spec);
  if (!broker) throw std::runtime_error("tearline_flood: " + broker.status().to_string());
  broker_ = std::move(broker).value();
  // A broker that cannot start exits at once: say why here rather than
  // after the canary's connection times out.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  if (const auto status = broker_.poll_exit()) {
    const std::string tail = log_tail(5);
    throw std::runtime_error(spec.argv[0] + " exited with status " + std::to_string(*status) +
                             (tail.empty() ? std::string() : ": " + tail));
  }
}

bool FloodWorld::broker_alive() { return broker_.pid() > 0 && !broker_.poll_exit(); }

int FloodWorld::stop_broker() { return broker_.stop(std::chrono::seconds(10)); }

std::string FloodWorld::log_tail(int lines) const { return tail_of_file(log_, static_cast<std::size_t>(lines)); }

}  // namespace tearline::flood
