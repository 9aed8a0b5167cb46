// tearline-broker: thin main. Parses flags, loads the config, starts the
// broker, and turns SIGINT/SIGTERM into a clean stop and SIGHUP into a reload.
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <exception>
#include <thread>

#include "broker/broker.h"
#include "broker/config.h"

namespace {

// Waits for signals on a dedicated thread (they are blocked everywhere else).
void watch_signals(tearline::broker::Broker* broker, sigset_t set) {
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    if (sig == SIGHUP) {
      broker->request_reload();
    } else {
      broker->stop();
      return;
    }
  }
}

int run(int argc, char** argv) {
  CLI::App app{"tearline-broker: routes sealed, signed reports between agency nodes"};
  std::string config_path;
  std::string log_level;
  app.add_option("-c,--config", config_path, "broker configuration file (TOML)")->required();
  app.add_option("-l,--log-level", log_level, "trace, debug, info, warn or error (overrides the config)");
  CLI11_PARSE(app, argc, argv);

  auto config = tearline::broker::load_config(config_path);
  if (!config) {
    std::fprintf(stderr, "tearline-broker: %s\n", config.status().to_string().c_str());
    return 2;
  }
  if (!log_level.empty()) config->log_level = log_level;
  auto level = spdlog::level::from_str(config->log_level);
  if (level == spdlog::level::off && config->log_level != "off") {
    std::fprintf(stderr, "tearline-broker: unknown log level '%s'\n", config->log_level.c_str());
    return 2;
  }
  auto logger = spdlog::stderr_logger_mt("broker");
  logger->set_level(level);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z level=%l %v");

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  auto broker = tearline::broker::Broker::create(*config);
  if (!broker) {
    std::fprintf(stderr, "tearline-broker: cannot start: %s\n", broker.status().to_string().c_str());
    return 1;
  }
  std::thread signals(watch_signals, broker->get(), set);
  signals.detach();
  tearline::Status done = (*broker)->run();
  if (!done) {
    std::fprintf(stderr, "tearline-broker: %s\n", done.to_string().c_str());
    return 1;
  }
  return 0;
}

}  // namespace

// run() reports every failure it expects with its exit code; what escapes it
// (a std::bad_alloc, a logger that cannot be made) ends the process with 1
// and its message, never with an uncaught exception.
int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tearline-broker: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "tearline-broker: unknown exception\n");
  }
  return 1;
}
