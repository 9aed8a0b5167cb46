// `tearline audit show` (audit_show.cc), registered by add_audit_command.
#pragma once

#include <CLI/CLI.hpp>

namespace tearline::cli {

void add_audit_show(CLI::App& audit);

}  // namespace tearline::cli
