// Whole-file reads and atomic writes with an explicit mode.
#pragma once

#include <sys/types.h>
#include <filesystem>

#include "base/bytes.h"
#include "base/result.h"

namespace tearline {

// Reads the whole file; IO_ERROR naming the path on failure. Refuses files
// larger than `max_bytes`.
Result<Bytes> read_file(const std::filesystem::path& path, std::size_t max_bytes = 64u << 20);

// Writes to a temporary file in the same directory with `mode`, fsyncs, and
// renames over `path`. IO_ERROR on failure, leaving any old file intact.
Status write_file_atomic(const std::filesystem::path& path, ByteView data, mode_t mode = 0644);

}  // namespace tearline
