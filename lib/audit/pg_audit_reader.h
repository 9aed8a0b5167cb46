// The audit log of a PostgreSQL store (broker/pg_store.h, tables in
// broker/pg_schema.h), read through audit/audit_reader.h: one writer's
// chain (audit and audit_checkpoints rows of `writer_id`), as
// `tearline audit verify|show|receipts --pg CONNINFO` and a broker's
// start-up anchor check read it.
//
// The connection opens at pg_audit_reader() (application_name
// tearline-audit-read): INVALID_FIELD when `conninfo` does not parse
// (libpq's reason), UNAVAILABLE when the server cannot be reached or refuses
// the session. Each call is then one read-only statement, STORAGE_FAILED
// when it fails. Messages carry the server's words, never the conninfo (it
// may hold a password).
#pragma once

#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "audit/audit_reader.h"
#include "audit/pg_conninfo.h"
#include "base/result.h"

namespace tearline::audit {

// The writer a single broker writes as (PgStore::kWriterId is this one).
inline constexpr int kPgWriterId = 1;

// A libpq/libpqxx error as one line: each line break and its indent become
// one space; "the connection to PostgreSQL was lost" when it says nothing.
// The broker's store reports its errors with it too.
std::string pg_message(const std::exception& e);

Result<std::unique_ptr<AuditReader>> pg_audit_reader(const std::string& conninfo, int writer_id);

// The writer id of the broker `broker` (its node id) in a store several
// brokers may share (each keeps its own chain); when `broker` is empty, the
// store's only writer (kPgWriterId when it has none yet, or was made before
// writers had names). INVALID_FIELD when `broker` writes no chain there, or
// is empty while several brokers do: the message names them. Errors
// otherwise as pg_audit_reader, and STORAGE_FAILED when the store cannot be
// read.
Result<int> pg_writer_id(const std::string& conninfo, const std::string& broker);

// Every writer of the store, in writer id order: its id and its broker's
// node id ("" for the unnamed writer of a store made before writers had
// names); none for a store not made yet. Errors as pg_writer_id.
struct PgWriter {
  int id = 0;
  std::string broker;
};
Result<std::vector<PgWriter>> pg_writers(const std::string& conninfo);

}  // namespace tearline::audit
