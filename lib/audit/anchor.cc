#include "audit/anchor.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base/files.h"
#include "crypto/signing.h"

namespace tearline::audit {

namespace {

// The file is read from its end, at most this much (some 200 lines): only
// its newest verifying line counts.
constexpr std::size_t kTailBytes = std::size_t{64} << 10;
// Past this size the file is rewritten with the newest lines alone.
constexpr std::uintmax_t kCompactBytes = std::uintmax_t{1} << 20;

// The value of `key=` in a line of space-separated tokens, or "".
std::string_view anchor_field(std::string_view line, std::string_view key) {
  std::size_t at = 0;
  while (at < line.size()) {
    std::size_t end = line.find_first_of(" \t\r\n", at);
    if (end == std::string_view::npos) end = line.size();
    const std::string_view token = line.substr(at, end - at);
    if (token.size() > key.size() && token.substr(0, key.size()) == key && token[key.size()] == '=') {
      return token.substr(key.size() + 1);
    }
    at = end + 1;
  }
  return {};
}

template <std::size_t N>
bool fixed_hex(std::string_view hex, std::array<std::uint8_t, N>* out) {
  Bytes raw;
  if (!from_hex(hex, &raw) || raw.size() != N) return false;
  std::copy(raw.begin(), raw.end(), out->begin());
  return true;
}

bool anchor_number(std::string_view text, std::int64_t* out) {
  if (text.empty() || text.size() > 19) return false;
  std::int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

}  // namespace

std::filesystem::path anchor_path(const std::filesystem::path& data_dir) { return data_dir / "audit.anchor"; }

std::string anchor_line(const Checkpoint& c) {
  return "index=" + std::to_string(c.index) + " hash=" + to_hex(ByteView(c.hash.data(), c.hash.size())) +
         " time_ms=" + std::to_string(c.time_ms) +
         " signature=" + to_hex(ByteView(c.signature.data(), c.signature.size()));
}

std::optional<Checkpoint> parse_anchor_line(std::string_view line) {
  Checkpoint c;
  std::int64_t index = 0;
  if (!anchor_number(anchor_field(line, "index"), &index) || index == 0) return std::nullopt;
  if (!anchor_number(anchor_field(line, "time_ms"), &c.time_ms)) return std::nullopt;
  if (!fixed_hex(anchor_field(line, "hash"), &c.hash)) return std::nullopt;
  if (!fixed_hex(anchor_field(line, "signature"), &c.signature)) return std::nullopt;
  c.index = static_cast<std::uint64_t>(index);
  return c;
}

Status append_anchor(const std::filesystem::path& path, const std::vector<Checkpoint>& checkpoints) {
  std::string text;
  for (const auto& c : checkpoints) text += anchor_line(c) + "\n";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Status::fail(Code::STORAGE_FAILED, "cannot open " + path.string() + ": " + std::strerror(errno));
  }
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      return Status::fail(Code::STORAGE_FAILED, "cannot append to " + path.string() + ": " + std::strerror(err));
    }
    done += static_cast<std::size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!synced) return Status::fail(Code::STORAGE_FAILED, "cannot sync " + path.string() + ": " + std::strerror(err));
  return Status::ok();
}

Result<bool> compact_anchor(const std::filesystem::path& path, const std::vector<Checkpoint>& newest) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec || size <= kCompactBytes || newest.empty()) return false;
  // Only the newest line counts. The lines were appended durably first, so a
  // crash during the rewrite leaves either file, each ending with them; the
  // rename is made durable (the directory fsynced) before any later append.
  std::string text;
  for (const auto& c : newest) text += anchor_line(c) + "\n";
  Status written =
      write_file_atomic(path, ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()), 0600);
  if (!written) return Status::fail(Code::STORAGE_FAILED, written.reasons().front().message);
  return true;
}

std::optional<Checkpoint> newest_anchor(const std::filesystem::path& path, const crypto::VerifyKey& key,
                                        std::size_t* skipped) {
  std::vector<std::string> lines;
  std::error_code ec;
  if (std::filesystem::is_regular_file(path, ec)) {
    std::ifstream in(path, std::ios::binary);
    in.seekg(0, std::ios::end);
    const auto size = static_cast<std::size_t>(std::max<std::streamoff>(0, in.tellg()));
    const std::size_t from = size > kTailBytes ? size - kTailBytes : 0;
    std::string line;
    if (from > 0) {
      // Start at the first whole line of the tail: unless the byte before it
      // ends a line, skip the part of a line the tail begins with.
      in.seekg(static_cast<std::streamoff>(from - 1));
      if (in.get() != '\n') std::getline(in, line);
    } else {
      in.seekg(0);
    }
    while (std::getline(in, line)) {
      if (!line.empty()) lines.push_back(line);
    }
  } else {
    lines.push_back(path.string());  // a checkpoint line given as is
  }
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    auto c = parse_anchor_line(*it);
    if (c && crypto::verify(key, crypto::tags::kAuditCheckpoint, checkpoint_payload(c->index, c->hash, c->time_ms),
                            ByteView(c->signature.data(), c->signature.size()))) {
      return c;
    }
    if (skipped != nullptr) ++*skipped;
  }
  return std::nullopt;
}

Result<AnchorCheck> compare_with_anchor(AuditReader& log, const Checkpoint& anchor) {
  AnchorCheck out;
  out.anchor = anchor;
  auto last = log.last_index();
  if (!last) return last.status();
  out.store_last = *last;
  const std::string ends = "the store ends at entry " + std::to_string(out.store_last);
  const std::string names =
      "checkpoint time_ms=" + std::to_string(anchor.time_ms) + " names entry " + std::to_string(anchor.index);
  if (out.store_last < anchor.index) {
    out.truncated = true;
    out.message = "truncated: " + ends + ", " + names;
    return out;
  }
  auto hash = log.hash_at(anchor.index);
  if (!hash) return hash.status();
  const bool same = hash->has_value() && **hash == anchor.hash;
  if (!same) {
    out.truncated = true;
    out.message = "truncated: " + ends + " but its entry " + std::to_string(anchor.index) + " is not the one " + names +
                  " (the log was cut before it and written again)";
  }
  return out;
}

Status check_anchor(const std::filesystem::path& data_dir, AuditReader& log, const crypto::VerifyKey& key,
                    bool accept_loss, std::int64_t now_ms, std::string* lost) {
  const auto path = anchor_path(data_dir);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return Status::ok();
  std::size_t skipped = 0;
  const auto anchor = newest_anchor(path, key, &skipped);
  std::string what;
  if (!anchor) {
    if (skipped == 0) return Status::ok();  // an empty file: nothing was anchored yet
    // Lines, none of which verifies: a damaged file or another audit key.
    // The check cannot run, and silence would let a truncation pass.
    what = "the audit anchor's " + std::to_string(skipped) +
           " lines do not verify with the broker's audit key (the file is damaged, or the audit key changed), so "
           "the store cannot be checked for truncation";
  } else {
    auto check = compare_with_anchor(log, *anchor);
    if (!check) return check.status();
    if (!check->truncated) return Status::ok();
    what = check->message + ": committed audit entries " + std::to_string(check->store_last + 1) + ".." +
           std::to_string(anchor->index) + " (and the reports committed with them) are lost";
  }
  if (!accept_loss) {
    return Status::fail(Code::STORAGE_TRUNCATED,
                        what + " (" + path.string() +
                            "); restore the data directory from a backup, or start with --accept-loss to accept the "
                            "loss, record it in the audit log and re-anchor");
  }
  // The old file stays in place until the loss is recorded: the broker
  // writes the `lost` entry and a checkpoint over it, anchored after this
  // file's lines, before it serves anything (Broker::create). A crash before
  // that leaves the old anchor newest, so the next start refuses again. A
  // copy is kept as evidence.
  auto kept = path;
  kept += ".lost-" + std::to_string(now_ms);
  std::filesystem::copy_file(path, kept, ec);
  if (ec) return Status::fail(Code::STORAGE_FAILED, "cannot copy " + path.string() + " aside: " + ec.message());
  if (lost != nullptr) *lost = what + "; accepted with --accept-loss, the old anchor kept as " + kept.string();
  return Status::ok();
}

}  // namespace tearline::audit
