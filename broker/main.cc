// tearline-broker: thin main. Parses flags, loads the config, starts the
// broker, and turns SIGINT/SIGTERM into a clean stop and SIGHUP into a reload.
// Every message is one line on stderr prefixed "tearline-broker: ".
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <exception>
#include <thread>

#include "base/version.h"
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

// Raises the soft RLIMIT_NOFILE to the hard limit and logs both. Every
// connection holds a descriptor from accept() until libzmq closes it, also
// an unauthenticated one during its handshake; with the common soft limit of
// 1,024 a handshake flood would leave no descriptor for accept(), the store
// or a legitimate node (docs/reliability.md, "Floods and session churn").
void raise_descriptor_limit(spdlog::logger& log) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    log.warn("event=descriptor_limit reason=\"getrlimit failed\"");
    return;
  }
  const rlim_t before = limit.rlim_cur;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) limit.rlim_cur = before;
  }
  log.info("event=descriptor_limit soft_before={} soft={} hard={}", before, limit.rlim_cur, limit.rlim_max);
}

// Exit codes as tearline's (docs/configuration.md): 0 ok, 1 refused (the
// broker cannot start, or stopped on a failure), 2 bad input (flags, config),
// 4 the store ends before a checkpoint the broker had signed
// (STORAGE_TRUNCATED, docs/reliability.md "The audit anchor"), 5 the store is
// damaged (STORAGE_DAMAGED: restore the data_dir from a backup).
constexpr int kExitRefused = 1;
constexpr int kExitBadInput = 2;
constexpr int kExitTruncated = 4;
constexpr int kExitStoreDamaged = 5;

int run(int argc, char** argv) {
  CLI::App app{"tearline-broker: routes sealed, signed reports between agency nodes"};
  app.footer(
      "Exit codes: 0 clean stop; 1 refused (cannot start, or stopped on a failure); 2 bad flags or configuration;\n"
      "4 the store ends before an audit checkpoint it had signed (STORAGE_TRUNCATED): restore it from a backup, or\n"
      "start with --accept-loss to go on and record the loss (docs/reliability.md, 6);\n"
      "5 the store in data_dir is damaged (STORAGE_DAMAGED): restore it from a backup (docs/reliability.md, 7).");
  std::string config_path;
  std::string log_level;
  bool show_version = false;
  bool accept_loss = false;
  app.add_option("-c,--config", config_path, "broker configuration file (TOML); required");
  app.add_option("-l,--log-level", log_level, "trace, debug, info, warn or error (overrides the config)");
  app.add_flag("--version", show_version, "print the version and exit");
  app.add_flag("--accept-loss", accept_loss,
               "start although the store ends before the last audit checkpoint in DATA_DIR/audit.anchor (exit 4 "
               "otherwise): the lost entries are recorded in the audit log and the anchor starts again");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "tearline-broker: %s (see --help)\n", e.what());
    return kExitBadInput;
  }
  if (show_version) {
    std::printf("tearline-broker %s\n", std::string(tearline::version_string()).c_str());
    return 0;
  }
  if (config_path.empty()) {
    std::fprintf(stderr, "tearline-broker: --config is required (see --help)\n");
    return kExitBadInput;
  }

  auto config = tearline::broker::load_config(config_path);
  if (!config) {
    std::fprintf(stderr, "tearline-broker: %s\n", config.status().to_string().c_str());
    return kExitBadInput;
  }
  if (!log_level.empty()) config->log_level = log_level;
  config->accept_loss = accept_loss;
  auto level = spdlog::level::from_str(config->log_level);
  if (level == spdlog::level::off && config->log_level != "off") {
    std::fprintf(stderr, "tearline-broker: unknown log level '%s' (trace, debug, info, warn, error or off)\n",
                 config->log_level.c_str());
    return kExitBadInput;
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
    switch (broker.status().code()) {
      case tearline::Code::STORAGE_TRUNCATED: return kExitTruncated;
      case tearline::Code::STORAGE_DAMAGED: return kExitStoreDamaged;
      default: return kExitRefused;
    }
  }
  // Once the broker could start (a refusal stays its one line on stderr),
  // before it serves any connection.
  raise_descriptor_limit(*logger);
  std::thread signals(watch_signals, broker->get(), set);
  signals.detach();
  tearline::Status done = (*broker)->run();
  if (!done) {
    std::fprintf(stderr, "tearline-broker: %s\n", done.to_string().c_str());
    return kExitRefused;
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
