#include "audit/pg_conninfo.h"

#include <libpq-fe.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>

namespace tearline::audit {

Status check_conninfo(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (options != nullptr) {
    PQconninfoFree(options);
    return Status::ok();
  }
  const std::string said = error != nullptr ? error : "out of memory";
  PQfreemem(error);
  // libpq quotes parts of the string in its reason (`invalid
  // percent-encoded token: "50%off"`), which may be a password: quoted parts
  // longer than one character are left out.
  std::string reason;
  for (std::size_t i = 0; i < said.size(); ++i) {
    const std::size_t close = said[i] == '"' ? said.find('"', i + 1) : std::string::npos;
    if (close != std::string::npos && close - i > 2) {
      reason += "\"...\"";
      i = close;
    } else if (said[i] != '\n') {
      reason += said[i];
    }
  }
  return Status::fail(Code::INVALID_FIELD, "the PostgreSQL connection string does not parse: " + reason);
}

namespace {

// A value as libpq's key=value syntax reads it back: in single quotes, with
// ' and \ escaped by a backslash.
std::string quoted(std::string_view value) {
  std::string q = "'";
  for (const char c : value) {
    if (c == '\'' || c == '\\') q += '\\';
    q += c;
  }
  return q + "'";
}

}  // namespace

std::string with_default_settings(const std::string& conninfo) {
  const std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(PQconninfoParse(conninfo.c_str(), nullptr),
                                                                             &PQconninfoFree);
  if (options == nullptr) return conninfo;
  bool service = std::getenv("PGSERVICE") != nullptr;
  for (const PQconninfoOption* o = options.get(); o->keyword != nullptr; ++o) {
    if (std::strcmp(o->keyword, "service") == 0 && o->val != nullptr) service = true;
  }
  if (service) return conninfo;
  // PQconninfoParse lists every keyword libpq knows, in libpq's order, with
  // the value the string gave it, or none: the result keeps that order, so
  // applying this twice changes nothing more.
  std::string out;
  for (const PQconninfoOption* o = options.get(); o->keyword != nullptr; ++o) {
    const char* value = o->val;
    // A default only where neither the string nor libpq's environment
    // variable for it (PGCONNECT_TIMEOUT) sets one: the user's choice.
    if (value == nullptr && (o->envvar == nullptr || std::getenv(o->envvar) == nullptr)) {
      for (const auto& [key, fallback] : kPgDefaultSettings) {
        if (std::strcmp(o->keyword, key) == 0) value = fallback;
      }
    }
    if (value == nullptr) continue;
    if (!out.empty()) out += ' ';
    out.append(o->keyword).append("=").append(quoted(value));
  }
  return out;
}

}  // namespace tearline::audit
