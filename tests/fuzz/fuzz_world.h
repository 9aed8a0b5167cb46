// The demo world of the fuzz targets, the seed generator and the fuzz
// regression test: the PKI of certs/roster.toml generated once per process
// into a temporary folder at testing::kDemoNow, with every key drawn from a
// fixed seed. Every process that builds it gets the same keys, so the reports
// and identity objects make_seeds writes verify inside the fuzz targets, and a
// saved input that needed a valid signature still reproduces later.
//
// WARNING: the keys are predictable by design. Test use only.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "crypto/key_file.h"
#include "identity/directory.h"
#include "identity/pki.h"
#include "support/temp_dir.h"

namespace tearline::fuzz {

class FuzzWorld {
 public:
  // The process-wide world, generated on first use. Throws std::runtime_error
  // when the roster cannot be read or the PKI not generated.
  static const FuzzWorld& get();

  const identity::PkiPaths& pki() const { return pki_; }
  const identity::Directory& directory() const { return *directory_; }
  // The secrets of a roster node; nullptr for any other id.
  const crypto::NodeSecrets* keys(std::string_view node_id) const;

 private:
  FuzzWorld();
  testing::TempDir dir_;
  identity::PkiPaths pki_;
  identity::DirectoryPtr directory_;
  std::map<std::string, crypto::NodeSecrets, std::less<>> keys_;
};

}  // namespace tearline::fuzz
