#include <catch2/catch.hpp>

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

#include "base/file_tail.h"
#include "base/process.h"
#include "support/temp_dir.h"

using namespace tearline;
using namespace std::chrono_literals;

namespace {

ProcessSpec spec_of(std::vector<std::string> argv) {
  ProcessSpec spec;
  spec.argv = std::move(argv);
  return spec;
}

int exit_of(std::vector<std::string> argv) {
  auto p = Process::spawn(spec_of(std::move(argv)));
  REQUIRE(p.is_ok());
  const auto status = p->wait_exit(10s);
  REQUIRE(status.has_value());
  return *status;
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("Process: exit statuses, the program found on PATH") {
  CHECK(exit_of({"true"}) == 0);
  CHECK(exit_of({"false"}) == 1);
  CHECK(exit_of({"sh", "-c", "exit 3"}) == 3);
  CHECK(exit_of({"sh", "-c", "kill -9 $$"}) == 128 + SIGKILL);
}

TEST_CASE("Process: stdout and stderr to files, or both to one") {
  testing::TempDir dir;
  ProcessSpec spec = spec_of({"sh", "-c", "echo out; echo err >&2"});
  spec.stdout_file = dir.path() / "out.log";
  spec.stderr_file = dir.path() / "err.log";
  {
    auto p = Process::spawn(spec);
    REQUIRE(p.is_ok());
    CHECK(p->wait_exit(10s) == 0);
  }
  CHECK(read_text(dir.path() / "out.log") == "out\n");
  CHECK(read_text(dir.path() / "err.log") == "err\n");

  spec.stdout_file = dir.path() / "both.log";
  spec.stderr_to_stdout = true;
  auto p = Process::spawn(spec);
  REQUIRE(p.is_ok());
  CHECK(p->wait_exit(10s) == 0);
  CHECK(read_text(dir.path() / "both.log") == "out\nerr\n");
}

TEST_CASE("Process: pipes, environment and program apart from argv[0]") {
  ProcessSpec spec = spec_of({"renamed", "-c", "read line; echo \"$line/$GREETING/$0\""});
  spec.program = "sh";
  spec.env = std::vector<std::string>{"GREETING=hello"};
  spec.pipe_stdin = true;
  spec.pipe_stdout = true;
  auto p = Process::spawn(spec);
  REQUIRE(p.is_ok());
  REQUIRE(p->stdin_fd() >= 0);
  REQUIRE(p->stdout_fd() >= 0);
  const std::string line = "ping\n";
  REQUIRE(::write(p->stdin_fd(), line.data(), line.size()) == static_cast<ssize_t>(line.size()));
  p->close_stdin();
  CHECK(p->stdin_fd() == -1);
  std::string got;
  char buf[256];
  for (ssize_t n; (n = ::read(p->stdout_fd(), buf, sizeof buf)) > 0;) got.append(buf, static_cast<std::size_t>(n));
  CHECK(got == "ping/hello/renamed\n");
  CHECK(p->wait_exit(10s) == 0);
}

TEST_CASE("Process: a parent with stdin and stdout closed still starts children and hears their failures") {
  // open and pipe then hand out 0 and 1 first (the report pipe gets them);
  // the child's dup2 onto 0..2 must not close or keep them.
  const int saved_in = ::dup(0);
  const int saved_out = ::dup(1);
  REQUIRE(saved_in > 2);
  REQUIRE(saved_out > 2);
  ::close(0);
  ::close(1);
  ProcessSpec echo = spec_of({"sh", "-c", "read line; echo \"got $line\""});
  echo.pipe_stdin = true;
  echo.pipe_stdout = true;
  auto started = Process::spawn(echo);
  auto not_executable = Process::spawn(spec_of({"/dev/null"}));
  ::dup2(saved_in, 0);
  ::dup2(saved_out, 1);
  ::close(saved_in);
  ::close(saved_out);

  REQUIRE_FALSE(not_executable.is_ok());
  CHECK(not_executable.code() == Code::IO_ERROR);
  REQUIRE(started.is_ok());
  const std::string line = "x\n";
  REQUIRE(::write(started->stdin_fd(), line.data(), line.size()) == static_cast<ssize_t>(line.size()));
  started->close_stdin();
  std::string got;
  char buf[64];
  for (ssize_t n; (n = ::read(started->stdout_fd(), buf, sizeof buf)) > 0;)
    got.append(buf, static_cast<std::size_t>(n));
  CHECK(got == "got x\n");
  CHECK(started->wait_exit(10s) == 0);
}

TEST_CASE("Process: spawn failures are IO_ERROR naming the program") {
  auto missing = Process::spawn(spec_of({"tearline-no-such-program"}));
  REQUIRE_FALSE(missing.is_ok());
  CHECK(missing.code() == Code::IO_ERROR);
  CHECK(missing.status().reasons().front().message == "cannot execute tearline-no-such-program: not found on PATH");

  auto not_executable = Process::spawn(spec_of({"/dev/null"}));
  REQUIRE_FALSE(not_executable.is_ok());
  CHECK(not_executable.code() == Code::IO_ERROR);
  CHECK(not_executable.status().reasons().front().message == "cannot execute /dev/null: Permission denied");

  testing::TempDir dir;
  ProcessSpec bad_log = spec_of({"true"});
  bad_log.stdout_file = dir.path() / "no-such-folder" / "out.log";
  auto unopened = Process::spawn(bad_log);
  REQUIRE_FALSE(unopened.is_ok());
  CHECK(unopened.code() == Code::IO_ERROR);

  auto empty = Process::spawn(ProcessSpec{});
  REQUIRE_FALSE(empty.is_ok());
  CHECK(empty.code() == Code::INVALID_FIELD);
}

TEST_CASE("Process: wait with a timeout, then SIGTERM; SIGKILL when TERM is ignored") {
  auto p = Process::spawn(spec_of({"sleep", "30"}));
  REQUIRE(p.is_ok());
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(p->wait_exit(100ms).has_value());
  CHECK(std::chrono::steady_clock::now() - t0 >= 100ms);
  CHECK_FALSE(p->poll_exit().has_value());
  CHECK(p->stop() == 128 + SIGTERM);
  CHECK(p->stop() == 128 + SIGTERM);  // idempotent
  CHECK_FALSE(p->signal(SIGTERM));

  // The ignored disposition survives exec, so sleep ignores SIGTERM too.
  auto stubborn = Process::spawn(spec_of({"sh", "-c", "trap '' TERM; exec sleep 30"}));
  REQUIRE(stubborn.is_ok());
  std::this_thread::sleep_for(200ms);  // let the shell set the trap and exec
  CHECK(stubborn->stop(200ms) == 128 + SIGKILL);
}

TEST_CASE("Process: signal delivers; destruction stops and reaps") {
  auto p = Process::spawn(spec_of({"sleep", "30"}));
  REQUIRE(p.is_ok());
  CHECK(p->signal(SIGUSR1));
  CHECK(p->wait_exit(10s) == 128 + SIGUSR1);

  pid_t pid = -1;
  {
    auto q = Process::spawn(spec_of({"sleep", "30"}));
    REQUIRE(q.is_ok());
    pid = q->pid();
    CHECK(::kill(pid, 0) == 0);
    Process moved = std::move(*q);
    CHECK(q->pid() == -1);
    CHECK(moved.pid() == pid);
  }
  errno = 0;
  CHECK(::kill(pid, 0) == -1);  // reaped: no such process (unless the pid was reused at once)
  CHECK(errno == ESRCH);
}

TEST_CASE("tail_of_file: the last lines, indented; empty when unreadable") {
  testing::TempDir dir;
  const auto log = dir.path() / "child.log";
  {
    std::ofstream out(log);
    out << "one\ntwo\nthree\nfour";
  }
  CHECK(tail_of_file(log, 2) == "three\nfour\n");
  CHECK(tail_of_file(log, 2, "  ") == "  three\n  four\n");
  CHECK(tail_of_file(log, 10) == "one\ntwo\nthree\nfour\n");
  CHECK(tail_of_file(log, 0) == "");
  CHECK(tail_of_file(dir.path() / "missing.log", 5) == "");
}
