// `tearline audit verify` (audit_verify.cc), registered by add_audit_command:
// checks a broker's audit log (the hash chain, the signed checkpoints, with
// --pki every delivery receipt, with --anchor that it is not cut short).
// On a PostgreSQL store several brokers share, without --writer, it checks
// every broker's log in one run, each with its broker's key, and then the
// heads entries (audit/chain_heads.h): no log may end before, or differ
// from, what another broker's signed heads entry saw.
#pragma once

#include <CLI/CLI.hpp>

namespace tearline::cli {

void add_audit_verify(CLI::App& audit);

}  // namespace tearline::cli
