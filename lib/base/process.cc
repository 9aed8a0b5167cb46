#include "base/process.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <thread>
#include <utility>

extern char** environ;

namespace tearline {
namespace fs = std::filesystem;

namespace {

// What the child was doing when it failed; sent with errno over the report pipe.
enum ChildStep : int { kRedirect = 1, kNice = 2, kExec = 3 };
struct ChildFailure {
  int step = 0;
  int error = 0;
};

void close_fd(int* fd) {
  if (*fd >= 0) ::close(*fd);
  *fd = -1;
}

int open_output(const fs::path& path) {
  const char* name = path.empty() ? "/dev/null" : path.c_str();
  return ::open(name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
}

// The file to execute for `name`: itself when it holds a '/', else the first
// executable regular file of that name in a PATH folder.
Result<std::string> resolve_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::string_view rest = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  for (;;) {
    const auto colon = rest.find(':');
    const std::string_view folder = rest.substr(0, colon);
    const fs::path candidate = fs::path(folder.empty() ? "." : std::string(folder)) / name;
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec) && ::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  return Status::fail(Code::IO_ERROR, "cannot execute " + name + ": not found on PATH");
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Moves *fd to the lowest free number from 3 up (close-on-exec). A parent
// started with stdin or stdout closed gets 0..2 back from open and pipe; left
// there, the child's dup2 onto 0, 1 and 2 would close one of its own
// descriptors (the report pipe) or keep close-on-exec on a stream.
bool lift_above_stdio(int* fd) {
  if (*fd > 2) return true;
  const int moved = ::fcntl(*fd, F_DUPFD_CLOEXEC, 3);
  if (moved < 0) return false;
  ::close(*fd);
  *fd = moved;
  return true;
}

[[noreturn]] void child_fails(int report_fd, int step) {
  const ChildFailure failure{step, errno};
  (void)!::write(report_fd, &failure, sizeof failure);
  ::_exit(127);
}

// In the child between fork and exec: only async-signal-safe calls.
[[noreturn]] void exec_child(const char* program, char* const* argv, char* const* envp, int in, int out, int err,
                             int report_fd, pid_t parent, int death_signal, int nice) {
  if (death_signal != 0) {
    ::prctl(PR_SET_PDEATHSIG, death_signal);
    if (::getppid() != parent) ::_exit(127);  // the parent is already gone
  }
  // An ignored signal stays ignored across exec, a blocked one blocked.
  ::signal(SIGPIPE, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) child_fails(report_fd, kRedirect);
  if (nice != 0) {
    errno = 0;
    const int current = ::getpriority(PRIO_PROCESS, 0);
    if ((current == -1 && errno != 0) || ::setpriority(PRIO_PROCESS, 0, current + nice) != 0) {
      child_fails(report_fd, kNice);
    }
  }
  ::execve(program, argv, envp);
  child_fails(report_fd, kExec);
}

}  // namespace

Result<Process> Process::spawn(const ProcessSpec& spec) {
  if (spec.argv.empty()) return Status::fail(Code::INVALID_FIELD, "no program to start");
  const std::string& what = spec.argv[0];
  auto program = resolve_program(spec.program.empty() ? spec.argv[0] : spec.program);
  if (!program) return program.status();

  int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1}, report[2] = {-1, -1};
  int child_in = -1, child_out = -1, child_err = -1;
  auto cleanup = [&] {
    for (int* fd : {&in_pipe[0], &in_pipe[1], &out_pipe[0], &out_pipe[1], &report[0], &report[1], &child_in, &child_out,
                    &child_err}) {
      close_fd(fd);
    }
  };
  auto fail = [&](const std::string& step) {
    const int e = errno;
    cleanup();
    return Status::fail(Code::IO_ERROR, "cannot start " + what + ": " + step + ": " + std::strerror(e));
  };

  if (::pipe2(report, O_CLOEXEC) != 0) return fail("pipe");
  if (spec.pipe_stdin) {
    if (::pipe2(in_pipe, O_CLOEXEC) != 0) return fail("pipe");
    child_in = std::exchange(in_pipe[0], -1);
  } else {
    child_in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (child_in < 0) return fail("/dev/null");
  }
  if (spec.pipe_stdout) {
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) return fail("pipe");
    child_out = std::exchange(out_pipe[1], -1);
  } else {
    child_out = open_output(spec.stdout_file);
    if (child_out < 0) return fail(spec.stdout_file.empty() ? "/dev/null" : spec.stdout_file.string());
  }
  if (spec.stderr_to_stdout) {
    child_err = ::fcntl(child_out, F_DUPFD_CLOEXEC, 0);
    if (child_err < 0) return fail("dup");
  } else {
    child_err = open_output(spec.stderr_file);
    if (child_err < 0) return fail(spec.stderr_file.empty() ? "/dev/null" : spec.stderr_file.string());
  }

  for (int* fd : {&report[1], &child_in, &child_out, &child_err}) {
    if (!lift_above_stdio(fd)) return fail("dup");
  }

  // Storage for exec's arrays, built before the fork (the child may not allocate).
  std::vector<std::string> args = spec.argv;
  std::vector<char*> argv = pointers(args);
  std::vector<std::string> env_strings;
  std::vector<char*> envp;
  if (spec.env) {
    env_strings = *spec.env;
    envp = pointers(env_strings);
  }
  char* const* env_pointer = spec.env ? envp.data() : environ;

  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return fail("fork");
  if (pid == 0) {
    exec_child(program->c_str(), argv.data(), env_pointer, child_in, child_out, child_err, report[1], parent,
               spec.parent_death_signal, spec.nice);
  }

  close_fd(&report[1]);
  close_fd(&child_in);
  close_fd(&child_out);
  close_fd(&child_err);
  // The report pipe closes on a successful exec (O_CLOEXEC); a ChildFailure
  // arrives when a step before it failed.
  ChildFailure failure;
  ssize_t n;
  do {
    n = ::read(report[0], &failure, sizeof failure);
  } while (n < 0 && errno == EINTR);
  close_fd(&report[0]);

  Process process;
  process.pid_ = pid;
  process.stdin_fd_ = std::exchange(in_pipe[1], -1);
  process.stdout_fd_ = std::exchange(out_pipe[0], -1);
  if (n == static_cast<ssize_t>(sizeof failure)) {
    process.stop();  // it has exited (127) or is about to: reap it
    const char* step = failure.step == kNice       ? "cannot set the nice value of "
                       : failure.step == kRedirect ? "cannot redirect the output of "
                                                   : "cannot execute ";
    return Status::fail(Code::IO_ERROR, step + what + ": " + std::strerror(failure.error));
  }
  return process;
}

Process::Process(Process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      stdin_fd_(std::exchange(other.stdin_fd_, -1)),
      stdout_fd_(std::exchange(other.stdout_fd_, -1)),
      exit_status_(std::exchange(other.exit_status_, std::nullopt)) {}

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    stop();
    pid_ = std::exchange(other.pid_, -1);
    stdin_fd_ = std::exchange(other.stdin_fd_, -1);
    stdout_fd_ = std::exchange(other.stdout_fd_, -1);
    exit_status_ = std::exchange(other.exit_status_, std::nullopt);
  }
  return *this;
}

Process::~Process() { stop(); }

void Process::close_stdin() { close_fd(&stdin_fd_); }
void Process::close_stdout() { close_fd(&stdout_fd_); }

std::optional<int> Process::poll_exit() {
  if (exit_status_ || pid_ < 0) return exit_status_;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) {
    exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  } else if (r < 0 && errno == ECHILD) {
    exit_status_ = -1;  // reaped elsewhere: nothing left to wait for
  }
  return exit_status_;
}

std::optional<int> Process::wait_exit(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::milliseconds(1);
  while (!poll_exit() && pid_ >= 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(10));
  }
  return poll_exit();
}

bool Process::signal(int signal) {
  if (pid_ < 0 || poll_exit()) return false;
  return ::kill(pid_, signal) == 0;
}

int Process::stop(std::chrono::milliseconds grace) {
  close_stdin();
  close_stdout();
  if (pid_ < 0) return exit_status_.value_or(-1);
  if (const auto status = poll_exit()) return *status;
  ::kill(pid_, SIGTERM);
  if (!wait_exit(grace)) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    pid_t r;
    do {
      r = ::waitpid(pid_, &status, 0);
    } while (r < 0 && errno == EINTR);
    // ECHILD: reaped elsewhere, as in poll_exit.
    exit_status_ = r != pid_ ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  return exit_status_.value_or(-1);
}

}  // namespace tearline
