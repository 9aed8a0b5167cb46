// audit/pg_conninfo.h: the settings every tearline connection to PostgreSQL
// gets unless its conninfo (or libpq's environment) sets them. That a silent
// server is then given up on is shown against a real socket in
// tests/cli/pg_store_cli_test.sh.
#include "audit/pg_conninfo.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <optional>
#include <string>

namespace tearline::audit {
namespace {

bool has(const std::string& conninfo, const std::string& setting) {
  return (" " + conninfo + " ").find(" " + setting + " ") != std::string::npos;
}

// Sets (or, with nullptr, unsets) an environment variable for one scope, and
// puts back what was there: the cases must not depend on, nor change, the
// environment the tests run in.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* was = std::getenv(name)) was_ = was;
    if (value != nullptr) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (was_) {
      ::setenv(name_, was_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> was_;
};

// What the cases below assume of the environment: none of libpq's variables
// that with_default_settings looks at.
struct CleanEnv {
  ScopedEnv timeout{"PGCONNECT_TIMEOUT", nullptr};
  ScopedEnv service{"PGSERVICE", nullptr};
};

TEST_CASE("pg conninfo: every default is added to a string that sets none, and the string's own settings kept",
          "[pg_conninfo]") {
  const CleanEnv env;
  const std::string out = with_default_settings("host=/tmp/pg dbname=tearline");
  for (const auto& [key, value] : kPgDefaultSettings) {
    CHECK(has(out, std::string(key) + "='" + value + "'"));
  }
  CHECK(has(out, "host='/tmp/pg'"));
  CHECK(has(out, "dbname='tearline'"));
  CHECK(check_conninfo(out));
  CHECK(with_default_settings(out) == out);
}

TEST_CASE("pg conninfo: a setting the string gives is the string's, in either form", "[pg_conninfo]") {
  const CleanEnv env;
  const std::string plain = with_default_settings("host=db connect_timeout=20 keepalives_idle=60");
  CHECK(has(plain, "connect_timeout='20'"));
  CHECK(has(plain, "keepalives_idle='60'"));
  CHECK_FALSE(has(plain, "connect_timeout='5'"));
  CHECK(has(plain, "tcp_user_timeout='30000'"));

  const std::string uri = with_default_settings(
      "postgresql://tl:p%40ss@db1:5432,db2:5433/tearline?target_session_attrs=read-write&tcp_user_timeout=9000");
  CHECK(has(uri, "host='db1,db2'"));
  CHECK(has(uri, "port='5432,5433'"));
  CHECK(has(uri, "user='tl'"));
  CHECK(has(uri, "password='p@ss'"));
  CHECK(has(uri, "dbname='tearline'"));
  CHECK(has(uri, "target_session_attrs='read-write'"));
  CHECK(has(uri, "tcp_user_timeout='9000'"));
  CHECK(has(uri, "connect_timeout='5'"));
}

TEST_CASE("pg conninfo: quotes and backslashes in a value survive", "[pg_conninfo]") {
  const CleanEnv env;
  const std::string out = with_default_settings(R"(host=db password='it\'s a \\secret')");
  CHECK(has(out, R"(password='it\'s a \\secret')"));
  CHECK(with_default_settings(out) == out);
}

TEST_CASE("pg conninfo: PGCONNECT_TIMEOUT in the environment is the user's setting", "[pg_conninfo]") {
  const CleanEnv env;
  std::string out;
  {
    const ScopedEnv timeout("PGCONNECT_TIMEOUT", "42");
    out = with_default_settings("host=db");
  }
  CHECK(out.find("connect_timeout") == std::string::npos);
  CHECK(has(out, "keepalives_count='3'"));
}

TEST_CASE(
    "pg conninfo: a string that names a service file entry is returned as it is (the file fills what it leaves empty)",
    "[pg_conninfo]") {
  const CleanEnv env;
  CHECK(with_default_settings("service=tearline") == "service=tearline");
  CHECK(with_default_settings("postgresql:///tearline?service=tl") == "postgresql:///tearline?service=tl");
  const ScopedEnv service("PGSERVICE", "tearline");
  CHECK(with_default_settings("dbname=tearline") == "dbname=tearline");
}

TEST_CASE("pg conninfo: a string that does not parse is returned as it is", "[pg_conninfo]") {
  CHECK(with_default_settings("host=db port") == "host=db port");
  CHECK_FALSE(check_conninfo("host=db port"));
}

}  // namespace
}  // namespace tearline::audit
