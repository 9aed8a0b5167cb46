// The PostgreSQL server of a "max-pg" run (docs/performance.md): a private
// cluster made by scripts/pg-cluster.sh in a folder of its own under /tmp,
// its CPU sampled like the broker's, stopped and removed when the object
// goes.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>

#include "base/result.h"

namespace tearline::bench {

class PgServer {
 public:
  // Runs `script start DIR` (DIR new); IO_ERROR with the script's output
  // when it fails.
  static Result<std::unique_ptr<PgServer>> start(const std::filesystem::path& script, const std::filesystem::path& dir);
  ~PgServer();  // `script stop DIR`
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  const std::string& conninfo() const { return conninfo_; }
  // CPU seconds (user + system) of the server's processes alive now: the
  // postmaster and its children (backends, WAL writer, checkpointer...).
  double cpu_seconds() const;

 private:
  PgServer() = default;
  std::filesystem::path script_, dir_;
  std::string conninfo_;
  pid_t postmaster_ = 0;
};

}  // namespace tearline::bench
