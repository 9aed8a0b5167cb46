// Peering agreements as files of a directory folder (docs/federation.md,
// "Files"): DIR/peerings/<id>.v<N>.peering, one SignedObject(PeeringBody)
// each. A partner's copy of a version whose terms differ from the copy held
// is kept beside it as <id>.v<N>+<AGENCY>.peering (`tearline certs import`;
// '+' is in no id, so that name is never another version's), so that
// effective_peering judges both. Used by `tearline certs peering`,
// `tearline certs import` and tests; reads and writes files only.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "federation/peering.h"
#include "identity/directory.h"
#include "identity/pki.h"
#include "tearline/v1/identity.pb.h"

namespace tearline::federation {

// DIR/peerings/<id>.v<version>.peering (DIR: a PKI's directory() folder).
std::filesystem::path peering_file(const std::filesystem::path& directory, std::string_view id, std::uint64_t version);
// DIR/peerings/<id>.v<version>+<agency>.peering: a partner's copy with other terms.
std::filesystem::path partner_copy_file(const std::filesystem::path& directory, std::string_view id,
                                        std::uint64_t version, std::string_view agency);
// The highest N of any DIR/peerings/<id>.v<N>[+<AGENCY>].peering; 0 when none.
std::uint64_t latest_peering_version(const std::filesystem::path& directory, std::string_view id);

// What `tearline certs peering create` asks for: the parties by agency and
// broker id, the terms each way, the window and the version.
struct PeeringDraft {
  std::string peering_id;
  std::string first_agency, first_broker;
  std::string second_agency, second_broker;
  tearline::v1::PeeringDirection first_to_second, second_to_first;
  std::int64_t not_before = 0;
  std::int64_t not_after = 0;
  std::uint64_t version = 0;  // 0: one more than the latest
};

// Writes the draft as an unsigned version file and returns its version.
// Each broker's keys come from its credential in the PKI's directory, which
// must hold role broker, be issued by its party's agency and be valid at
// `now_seconds` (UNKNOWN_NODE, WRONG_AUTHORITY, the credential's reasons);
// the terms must pass read_peering_body (INVALID_FIELD, WEAK_KEY);
// DUPLICATE_OBJECT when that version's file exists. Every reason is
// returned and nothing is written on failure.
Result<std::uint64_t> create_peering_file(const identity::PkiPaths& pki, const PeeringDraft& draft,
                                          std::int64_t now_seconds);

// Adds `agency`'s signature, made with its authority key in the PKI, to the
// version's file (<id>.v<N>.peering), after checking what it signs: the
// terms must pass read_peering_body, and the agency's own party must name a
// broker credential of the agency in the directory, valid at `now_seconds`,
// with the keys the version names (what create_peering_file checks for
// both). WRONG_AUTHORITY when the agency is not one of the version's two
// parties or is a partner agency here (it signs with its own PKI); those
// checks' reasons; the file's or the key's failure.
Status cosign_peering_file(const identity::PkiPaths& pki, std::string_view id, std::uint64_t version,
                           const std::string& agency, std::int64_t now_seconds);

// One file of DIR/peerings as found.
struct PeeringFile {
  std::string name;                     // the file name
  std::optional<Peering> terms;         // when its body reads (signatures not judged)
  std::vector<std::string> signatures;  // the agencies its signatures name, as found
  Status verified;                      // verify_peering's verdict: OK when it counts
};

// One peering (its id between two agencies), judged.
struct PeeringVerdict {
  PeeringKey key;
  std::vector<Peering> versions;  // the verified copies, by version
  std::uint64_t revoked_up_to = 0;
  std::optional<Peering> in_effect;
  Status why;  // NO_PEERING... when none is in effect; else why others are not
};

// Since when the peering has run unbroken: the earliest not_before among
// the version in effect and every version signed by both, up to it, that no
// revocation voids (versions both agreed; a one-sided version narrows, so
// its window lies inside one of them). 0 when none is in effect.
std::int64_t in_effect_since(const PeeringVerdict& verdict);

struct PeeringSet {
  std::vector<PeeringFile> files;                                 // by name
  std::vector<PeeringVerdict> peerings;                           // by id, then agencies
  const PeeringVerdict* find(std::string_view peering_id) const;  // the first with that id
};

// Reads every DIR/peerings/*.peering, verifies each against the directory's
// trust store, and judges each peering with the revocation lists the
// directory holds. A file that cannot be read is listed with its reason.
PeeringSet load_peerings(const std::filesystem::path& directory, const identity::Directory& dir);

}  // namespace tearline::federation
