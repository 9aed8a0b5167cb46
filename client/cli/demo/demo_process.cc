#include "cli/demo/demo_process.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>

namespace tearline::cli::demo {
namespace fs = std::filesystem;

namespace {

volatile sig_atomic_t g_interrupted = 0;

void on_interrupt(int) { g_interrupted = 1; }

constexpr int kStopSignals[] = {SIGINT, SIGTERM, SIGHUP};

}  // namespace

// ---- InterruptGuard --------------------------------------------------------

struct InterruptGuard::Saved {
  struct sigaction actions[3];
  struct sigaction pipe;
};

InterruptGuard::InterruptGuard() : saved_(std::make_unique<Saved>()) {
  g_interrupted = 0;
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocking poll returns EINTR at once
  for (std::size_t i = 0; i < 3; ++i) ::sigaction(kStopSignals[i], &sa, &saved_->actions[i]);
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  ::sigaction(SIGPIPE, &ignore, &saved_->pipe);
}

InterruptGuard::~InterruptGuard() {
  for (std::size_t i = 0; i < 3; ++i) ::sigaction(kStopSignals[i], &saved_->actions[i], nullptr);
  ::sigaction(SIGPIPE, &saved_->pipe, nullptr);
}

bool InterruptGuard::interrupted() { return g_interrupted != 0; }

// ---- ChildProcess ----------------------------------------------------------

Result<std::unique_ptr<ChildProcess>> ChildProcess::start(const ChildSpec& spec) {
  auto process = Process::spawn(spec);
  if (!process) return process.status();
  if (const int fd = process->stdout_fd(); fd >= 0) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return std::unique_ptr<ChildProcess>(new ChildProcess(std::move(process).value()));
}

bool ChildProcess::write_line(std::string_view line) {
  const int in_fd = process_.stdin_fd();
  if (in_fd < 0) return false;
  std::string data(line);
  data.push_back('\n');
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(in_fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      process_.close_stdin();
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return true;
}

std::vector<std::string> ChildProcess::read_lines() {
  std::vector<std::string> lines;
  const int out_fd = process_.stdout_fd();
  if (out_fd < 0) return lines;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(out_fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;  // EAGAIN: nothing more now
    if (n == 0) {
      process_.close_stdout();
      break;
    }
    pending_.append(buf, static_cast<std::size_t>(n));
  }
  std::size_t start = 0;
  for (std::size_t nl; (nl = pending_.find('\n', start)) != std::string::npos; start = nl + 1) {
    lines.push_back(pending_.substr(start, nl - start));
  }
  pending_.erase(0, start);
  return lines;
}

// ---- paths -------------------------------------------------------------------

Result<fs::path> self_executable() {
  std::error_code ec;
  fs::path p = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return Status::fail(Code::IO_ERROR, "cannot read /proc/self/exe: " + ec.message());
  return p;
}

Result<fs::path> find_broker_binary() {
  std::vector<fs::path> tried;
  auto self = self_executable();
  if (self) {
    const fs::path dir = self->parent_path();
    tried.push_back(dir / "tearline-broker");
    tried.push_back((dir / ".." / "broker" / "tearline-broker").lexically_normal());
  }
  if (const char* path = std::getenv("PATH")) {
    std::string_view rest(path);
    while (!rest.empty()) {
      const auto colon = rest.find(':');
      const std::string_view entry = rest.substr(0, colon);
      if (!entry.empty()) tried.push_back(fs::path(entry) / "tearline-broker");
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  std::string places;
  for (const auto& p : tried) {
    std::error_code ec;
    if (fs::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0) return p;
    if (!places.empty()) places += ", ";
    places += p.string();
  }
  return Status::fail(Code::IO_ERROR, "cannot find tearline-broker (tried " + places + "); build it with `make build`");
}

}  // namespace tearline::cli::demo
