#include "cli/demo/demo_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <thread>

namespace tearline::cli::demo {
namespace fs = std::filesystem;

namespace {

volatile sig_atomic_t g_interrupted = 0;

void on_interrupt(int) { g_interrupted = 1; }

constexpr int kStopSignals[] = {SIGINT, SIGTERM, SIGHUP};

std::string errno_text(int err) { return std::strerror(err); }

void close_fd(int* fd) {
  if (*fd >= 0) ::close(*fd);
  *fd = -1;
}

// Opens `path` (or /dev/null) for the child's stdout or stderr.
int open_output(const fs::path& path) {
  const char* name = path.empty() ? "/dev/null" : path.c_str();
  return ::open(name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
}

// In the child between fork and exec: only async-signal-safe calls.
[[noreturn]] void exec_child(const char* program, const std::vector<char*>& argv, int in, int out, int err,
                             int report_fd, pid_t parent) {
  // End with the demo even when it cannot stop us (killed, crashed).
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != parent) ::_exit(127);
  // The demo ignores SIGPIPE; an ignored signal would stay ignored across exec.
  ::signal(SIGPIPE, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) {
    int e = errno;
    (void)!::write(report_fd, &e, sizeof e);
    ::_exit(127);
  }
  ::execv(program, argv.data());
  int e = errno;
  (void)!::write(report_fd, &e, sizeof e);
  ::_exit(127);
}

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
  if (spec.argv.empty()) return Status::fail(Code::INVALID_FIELD, "no program to start");
  const std::string what = spec.argv[0];
  int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1}, report[2] = {-1, -1};
  int child_in = -1, child_out = -1, child_err = -1;
  auto cleanup = [&] {
    for (int* fd : {&in_pipe[0], &in_pipe[1], &out_pipe[0], &out_pipe[1], &report[0], &report[1], &child_in,
                    &child_out, &child_err}) {
      close_fd(fd);
    }
  };
  auto fail = [&](const std::string& step) {
    const int e = errno;
    cleanup();
    return Status::fail(Code::IO_ERROR, "cannot start " + what + ": " + step + ": " + errno_text(e));
  };

  if (::pipe2(report, O_CLOEXEC) != 0) return fail("pipe");
  if (spec.pipe_stdin) {
    if (::pipe2(in_pipe, O_CLOEXEC) != 0) return fail("pipe");
    child_in = in_pipe[0];
    in_pipe[0] = -1;
  } else if ((child_in = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
    return fail("/dev/null");
  }
  if (spec.pipe_stdout) {
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) return fail("pipe");
    child_out = out_pipe[1];
    out_pipe[1] = -1;
  } else if ((child_out = open_output(spec.stdout_file)) < 0) {
    return fail(spec.stdout_file.string());
  }
  if ((child_err = open_output(spec.stderr_file)) < 0) return fail(spec.stderr_file.string());

  const std::string program = spec.program.empty() ? spec.argv[0] : spec.program;
  std::vector<std::string> args = spec.argv;  // storage for argv (must outlive exec)
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return fail("fork");
  if (pid == 0) exec_child(program.c_str(), argv, child_in, child_out, child_err, report[1], parent);

  close_fd(&report[1]);
  close_fd(&child_in);
  close_fd(&child_out);
  close_fd(&child_err);
  // The report pipe closes on a successful exec (O_CLOEXEC); an errno
  // arrives when exec failed.
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(report[0], &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  close_fd(&report[0]);
  auto child = std::unique_ptr<ChildProcess>(new ChildProcess());
  child->pid_ = pid;
  child->in_fd_ = in_pipe[1];
  child->out_fd_ = out_pipe[0];
  if (n == static_cast<ssize_t>(sizeof child_errno)) {
    child->in_fd_ = -1;
    child->out_fd_ = -1;
    cleanup();
    child->stop();
    return Status::fail(Code::IO_ERROR, "cannot execute " + what + ": " + errno_text(child_errno));
  }
  if (child->out_fd_ >= 0) ::fcntl(child->out_fd_, F_SETFL, ::fcntl(child->out_fd_, F_GETFL) | O_NONBLOCK);
  return child;
}

ChildProcess::~ChildProcess() { stop(); }

bool ChildProcess::write_line(std::string_view line) {
  if (in_fd_ < 0) return false;
  std::string data(line);
  data.push_back('\n');
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(in_fd_, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      close_fd(&in_fd_);
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return true;
}

std::vector<std::string> ChildProcess::read_lines() {
  std::vector<std::string> lines;
  if (out_fd_ < 0) return lines;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(out_fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;  // EAGAIN: nothing more now
    if (n == 0) {
      close_fd(&out_fd_);
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

std::optional<int> ChildProcess::poll_exit() {
  if (exit_status_ || pid_ < 0) return exit_status_;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  } else if (r < 0 && errno == ECHILD) {
    exit_status_ = -1;  // already reaped elsewhere: nothing left to stop
  }
  return exit_status_;
}

void ChildProcess::stop(std::chrono::milliseconds grace) {
  close_fd(&in_fd_);
  close_fd(&out_fd_);
  if (pid_ < 0 || poll_exit()) return;
  ::kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (!poll_exit() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!poll_exit()) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    exit_status_ = 128 + SIGKILL;
  }
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

std::string tail_of_file(const fs::path& path, std::size_t max_lines) {
  std::ifstream in(path);
  std::deque<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(std::move(line));
    if (lines.size() > max_lines) lines.pop_front();
  }
  std::string out;
  for (const auto& l : lines) out += "    " + l + "\n";
  return out;
}

}  // namespace tearline::cli::demo
