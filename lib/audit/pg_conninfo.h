// libpq connection strings, as the broker's PostgreSQL store, the audit
// commands and the demo take them (`[storage] conninfo`, `--pg`): either
// form libpq accepts, "key=value ..." or a postgresql:// URI.
#pragma once

#include <string>

#include "base/result.h"

namespace tearline::audit {

// Whether `conninfo` parses as a libpq connection string or URI; the
// reason (libpq's) when it does not, with its quoted parts elided (they may
// be a password). Nothing is connected.
Status check_conninfo(const std::string& conninfo);

// The settings every tearline connection to PostgreSQL has unless the
// conninfo sets them itself. Without them libpq waits without end for a
// server that accepts a connection but never answers, and the kernel's
// defaults notice a vanished server over TCP only after hours; a broker, or
// an operator's `audit verify`, would hang with it. With them:
//   connect_timeout=5      a connection not established in 5 s fails (each
//                          host of a multi-host conninfo in turn);
//   keepalives_idle=10, keepalives_interval=5, keepalives_count=3,
//   tcp_user_timeout=30000 a TCP peer silent (unanswered keepalives, or data
//                          unacknowledged) for about 30 s is lost (on Linux
//                          tcp_user_timeout also bounds the probes).
// A lost connection is what the store already handles (pg_store.h): a read
// or a batch not yet committed fails and is tried on a new connection; a
// COMMIT in flight halts the store. None of these is a statement timeout: a
// COMMIT waiting for a synchronous standby on a live server is never cut.
// On a unix socket only connect_timeout applies.
inline constexpr const char* kPgDefaultSettings[][2] = {
    {"connect_timeout", "5"},  {"keepalives_idle", "10"},     {"keepalives_interval", "5"},
    {"keepalives_count", "3"}, {"tcp_user_timeout", "30000"},
};

// `conninfo` with kPgDefaultSettings added where neither it nor libpq's
// environment variable for the setting (PGCONNECT_TIMEOUT) sets one, as one
// "key='value' ..." string (a URI's settings included). A conninfo that
// names a service file entry (`service=`, or PGSERVICE in the environment)
// is returned unchanged: the service file fills only the settings the string
// leaves empty, so defaults written here would silently override it. So is
// one that does not parse (check_conninfo says why).
std::string with_default_settings(const std::string& conninfo);

}  // namespace tearline::audit
