// The version both binaries print (`--version`), the broker reports in
// BROKER_STATUS, and packages carry: the CMake project version and the git
// revision of the tree it was built from (cmake/WriteVersion.cmake writes it
// at build time, so a new commit is picked up without re-configuring).
#pragma once

#include <string_view>

namespace tearline {

// "0.2.0", the CMake project version.
std::string_view version();
// The short git revision, with "-dirty" when the tree had local changes;
// "unknown" when built outside a git checkout (e.g. from a source package).
std::string_view git_revision();
// "0.2.0 (git 1a2b3c4)": what --version prints after the program's name.
std::string_view version_string();

}  // namespace tearline
