// The store an audit command reads (`tearline audit verify|show|receipts`):
// --db FILE, a broker's SQLite database (DATA_DIR/tearline.db), or
// --pg CONNINFO, a broker's PostgreSQL store (a libpq connection string or
// URI, as the broker's storage.conninfo). Exactly one of the two. With
// --pg, --writer BROKER_ID picks the broker whose chain is read, in a store
// several brokers share (default: the store's only one).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "audit/audit_reader.h"

namespace CLI {
class App;
}

namespace tearline::cli {

struct AuditStoreArgs {
  std::string db, pg, writer;
};

// Adds --db, --pg and --writer to `command`.
void add_audit_store_options(CLI::App& command, AuditStoreArgs* args);
// The reader of the store named ("<command>: " and the reason otherwise):
// exit 2 (CommandExit) when neither or both are given, the --pg string
// does not parse, or the writer is not one of the store's (or not given
// while it has several), 3 when PostgreSQL cannot be reached.
std::unique_ptr<audit::AuditReader> open_audit_or_exit(std::string_view command, const AuditStoreArgs& args);

}  // namespace tearline::cli
