// The demo world of certs/roster.toml, generated into a temporary folder once
// per test process (key generation is the slow part) and loaded as a
// Directory. Tests that mutate the PKI make their own copy with fresh_copy().
#pragma once

#include <filesystem>
#include <memory>

#include "identity/directory.h"
#include "identity/pki.h"
#include "identity/roster.h"
#include "support/temp_dir.h"

namespace tearline::testing {

// The fixed "now" of the demo world in tests (2026-06-01T00:00:00Z); the PKI
// is valid from one hour before it for the roster's validity_days.
constexpr std::int64_t kDemoNow = 1780272000;

class DemoWorld {
 public:
  // The process-wide demo world (generated on first use).
  static const DemoWorld& get();
  // Generates a new, independent demo PKI into `root` (for tests that change it).
  static void generate_into(const std::filesystem::path& root);

  const identity::Roster& roster() const { return roster_; }
  const identity::PkiPaths& pki() const { return pki_; }
  const identity::DirectoryPtr& directory() const { return directory_; }
  std::filesystem::path roster_path() const;

 private:
  DemoWorld();
  TempDir dir_;
  identity::Roster roster_;
  identity::PkiPaths pki_;
  identity::DirectoryPtr directory_;
};

}  // namespace tearline::testing
