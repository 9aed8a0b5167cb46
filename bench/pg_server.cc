#include "bench/pg_server.h"

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "bench/process.h"

namespace tearline::bench {
namespace {

std::string file_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The parent pid in /proc/PID/stat (the field after the parenthesized name).
pid_t parent_of(const std::string& stat) {
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(stat.substr(close + 1));
  char state = 0;
  long ppid = 0;
  rest >> state >> ppid;
  return static_cast<pid_t>(ppid);
}

// The pid a text starts with (postmaster.pid's first line, a /proc entry's
// name); 0 when it does not start with a number.
pid_t pid_of(const std::string& text) {
  pid_t pid = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), pid);
  return ec == std::errc() ? pid : 0;
}

}  // namespace

Result<std::unique_ptr<PgServer>> PgServer::start(const std::filesystem::path& script,
                                                  const std::filesystem::path& run_dir) {
  std::unique_ptr<PgServer> pg(new PgServer());
  pg->script_ = script;
  // A folder of its own under /tmp: the run's folder may be closed to the
  // postgres account the server runs as (when the bench runs as root).
  std::string tmpl = "/tmp/tearline-bench-pg.XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) return Status::fail(Code::IO_ERROR, "cannot make a folder under /tmp");
  const std::filesystem::path dir = tmpl;
  const std::filesystem::path out = run_dir / "pg.conninfo";
  const std::string cmd = script.string() + " start " + dir.string() + " >" + out.string() + " 2>&1";
  // NOLINTNEXTLINE(bugprone-command-processor): the bench's own script, paths it made; the shell redirects
  if (std::system(cmd.c_str()) != 0) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    return Status::fail(Code::IO_ERROR, "could not start PostgreSQL (" + cmd + "): " + file_text(out));
  }
  pg->dir_ = dir;  // from here on the destructor stops it
  pg->conninfo_ = file_text(out);
  while (!pg->conninfo_.empty() && pg->conninfo_.back() == '\n') pg->conninfo_.pop_back();
  pg->postmaster_ = pid_of(file_text(dir / "data" / "postmaster.pid"));
  if (pg->postmaster_ <= 0) return Status::fail(Code::IO_ERROR, "no postmaster.pid in " + dir.string());
  return pg;
}

PgServer::~PgServer() {
  if (dir_.empty()) return;
  const std::string cmd = script_.string() + " stop " + dir_.string() + " >/dev/null 2>&1";
  // NOLINTNEXTLINE(bugprone-command-processor): the bench's own script, paths it made; the shell redirects
  if (std::system(cmd.c_str()) != 0) {
    // Nothing more to do: a server whose folder is gone stops by itself.
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

double PgServer::cpu_seconds() const {
  double total = sample_proc(postmaster_).cpu_seconds;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    if (parent_of(file_text(entry.path() / "stat")) != postmaster_) continue;
    total += sample_proc(pid_of(name)).cpu_seconds;
  }
  return total;
}

}  // namespace tearline::bench
