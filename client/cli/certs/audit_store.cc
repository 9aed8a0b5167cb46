#include "cli/certs/audit_store.h"

#include <CLI/CLI.hpp>

#include <utility>

#include "audit/pg_audit_reader.h"
#include "cli/common/commands.h"
#include "cli/common/exit_codes.h"
#include "cli/common/print.h"

namespace tearline::cli {

void add_audit_store_options(CLI::App& command, AuditStoreArgs* args) {
  auto* db = command.add_option("--db", args->db, "the broker's SQLite database (DATA_DIR/tearline.db)");
  auto* pg = command.add_option("--pg", args->pg,
                                "the broker's PostgreSQL store instead: its storage.conninfo (a libpq connection "
                                "string or URI; a password belongs in ~/.pgpass)");
  pg->type_name("CONNINFO");
  db->excludes(pg);
  auto* writer = command.add_option("--writer", args->writer,
                                    "with --pg: the broker whose audit log to read, by its node id, in a store several "
                                    "brokers share (default: the store's only broker)");
  writer->type_name("BROKER_ID");
  writer->needs(pg);
}

std::unique_ptr<audit::AuditReader> open_audit_or_exit(std::string_view command, const AuditStoreArgs& args) {
  if (args.db.empty() == args.pg.empty()) {
    throw CommandExit(kExitUsage, std::string(command) +
                                      ": give the broker's store: --db DATA_DIR/tearline.db (SQLite) or --pg "
                                      "CONNINFO (PostgreSQL)");
  }
  if (!args.db.empty()) return audit::sqlite_audit_reader(args.db);
  auto writer = audit::pg_writer_id(args.pg, args.writer);
  if (!writer) {
    // A store that cannot be read is bad input, as the readers' errors are.
    throw CommandExit(writer.status().code() == Code::STORAGE_FAILED ? kExitUsage : exit_code_for(writer.status()),
                      one_line(std::string(command) + ": " + writer.status().to_string()), writer.status().code());
  }
  auto reader = audit::pg_audit_reader(args.pg, *writer);
  if (!reader) {
    // INVALID_FIELD (the string does not parse): 2; UNAVAILABLE: 3.
    throw CommandExit(exit_code_for(reader.status()),
                      one_line(std::string(command) + ": " + reader.status().to_string()), reader.status().code());
  }
  return std::move(reader).value();
}

}  // namespace tearline::cli
