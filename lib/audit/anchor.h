// The audit anchor: a copy of each signed audit checkpoint kept OUTSIDE the
// store, in DATA_DIR/audit.anchor (docs/reliability.md, "The audit anchor").
//
// A checkpoint inside the database cannot reveal that the database's own
// tail is gone (SQLite's WAL recovery silently drops every frame after the
// first bad checksum). So once a batch with checkpoints has committed, the
// StoreWriter thread appends each checkpoint to the anchor file, one line,
// and fsyncs it:
//
//   index=K hash=<64 hex> time_ms=T signature=<128 hex>
//
// At start-up (Broker::Impl::open_store) check_anchor() compares the store's
// audit log with the newest anchor line whose signature verifies under the
// broker's audit key: when the store ends before entry K, or holds another
// hash at K, committed entries were lost and the broker refuses to start
// with STORAGE_TRUNCATED; so it does when the file has lines but none
// verifies (a damaged file, another audit key: the check cannot run). With
// --accept-loss the loss is returned instead: the caller audits it and
// commits a new checkpoint, anchored after the old lines, before serving;
// a copy of the old file is kept as audit.anchor.lost-<ms>.
//
// parse_anchor_line() also reads the tail of a broker log line
// `event=checkpoint_anchored index=... hash=... time_ms=... signature=...`
// (unknown tokens are ignored), so `tearline audit verify --anchor` takes the
// file, a line of it, or such a log line.
//
// Threads: append_anchor() runs on the StoreWriter thread only; the rest at
// start-up (I/O thread) or in the CLI. No state is kept between calls.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit.h"
#include "audit/audit_reader.h"
#include "base/result.h"
#include "crypto/keys.h"

namespace tearline::audit {

std::filesystem::path anchor_path(const std::filesystem::path& data_dir);

// "index=K hash=... time_ms=T signature=..." (no newline).
std::string anchor_line(const Checkpoint& c);
// A checkpoint from such a line (any other tokens ignored); nullopt when a
// field is missing or malformed.
std::optional<Checkpoint> parse_anchor_line(std::string_view line);

// Appends one line per checkpoint and fsyncs the file (creating it, mode 0600).
Status append_anchor(const std::filesystem::path& path, const std::vector<Checkpoint>& checkpoints);
// After an append: when the file has passed 1 MiB, rewrites it atomically
// with the `newest` lines alone (those just appended) and fsyncs its
// directory; true when it did. So the file stays within 1 MiB plus one batch
// of lines. STORAGE_FAILED when the rewrite failed (the appended lines stay).
Result<bool> compact_anchor(const std::filesystem::path& path, const std::vector<Checkpoint>& newest);

// The newest line of `path` (or `path` itself read as one line, when no such
// file exists) that parses and whose signature verifies under `key`, among
// the whole lines of its last 64 KiB;
// nullopt when there is none (no file, an empty file). `skipped` counts the
// lines that did not parse or verify.
std::optional<Checkpoint> newest_anchor(const std::filesystem::path& path, const crypto::VerifyKey& key,
                                        std::size_t* skipped = nullptr);

// What the store holds compared with an anchor.
struct AnchorCheck {
  bool truncated = false;
  std::uint64_t store_last = 0;  // the store's last audit index
  Checkpoint anchor;             // the anchor's checkpoint (index 0: none)
  std::string message;           // "truncated: the store ends at entry N, checkpoint M names entry K" or ""
};
// Compares the store's audit log, read through `log` (either backend,
// audit/audit_reader.h), with `anchor`. The reader's error when the log
// cannot be read.
Result<AnchorCheck> compare_with_anchor(AuditReader& log, const Checkpoint& anchor);

// The start-up check (see above). OK when nothing was lost (or there is no
// anchor yet). STORAGE_TRUNCATED with the message when committed entries were
// lost (or no line verifies) and !accept_loss. With accept_loss: OK, *lost
// set to the message (entries N+1..K), the old file copied aside; the caller
// re-anchors by committing a checkpoint (Broker::create).
Status check_anchor(const std::filesystem::path& data_dir, AuditReader& log, const crypto::VerifyKey& key,
                    bool accept_loss, std::int64_t now_ms, std::string* lost);

}  // namespace tearline::audit
