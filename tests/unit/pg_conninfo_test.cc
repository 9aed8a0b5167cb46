// audit/pg_conninfo.h: the settings every tearline connection to PostgreSQL
// gets unless its conninfo (or libpq's environment) sets them. That a silent
// server is then given up on is shown against a real socket in
// tests/cli/pg_store_cli_test.sh.
#include "audit/pg_conninfo.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

namespace tearline::audit {
namespace {

bool has(const std::string& conninfo, const std::string& setting) {
  return (" " + conninfo + " ").find(" " + setting + " ") != std::string::npos;
}

TEST_CASE("pg conninfo: every default is added to a string that sets none, and the string's own settings kept",
          "[pg_conninfo]") {
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
  const std::string out = with_default_settings(R"(host=db password='it\'s a \\secret')");
  CHECK(has(out, R"(password='it\'s a \\secret')"));
  CHECK(with_default_settings(out) == out);
}

TEST_CASE("pg conninfo: PGCONNECT_TIMEOUT in the environment is the user's setting", "[pg_conninfo]") {
  ::setenv("PGCONNECT_TIMEOUT", "42", 1);
  const std::string out = with_default_settings("host=db");
  ::unsetenv("PGCONNECT_TIMEOUT");
  CHECK(out.find("connect_timeout") == std::string::npos);
  CHECK(has(out, "keepalives_count='3'"));
}

TEST_CASE("pg conninfo: a string that does not parse is returned as it is", "[pg_conninfo]") {
  CHECK(with_default_settings("host=db port") == "host=db port");
  CHECK_FALSE(check_conninfo("host=db port"));
}

}  // namespace
}  // namespace tearline::audit
