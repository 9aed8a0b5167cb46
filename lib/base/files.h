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
// renames over `path`, then fsyncs the directory so that the rename itself
// survives a crash. IO_ERROR on failure, leaving any old file intact (when
// only the directory's fsync failed, the new file is in place).
Status write_file_atomic(const std::filesystem::path& path, ByteView data, mode_t mode = 0644);

// fsyncs the directory `dir` ("" is the current one): makes the creation,
// rename or removal of its entries durable. IO_ERROR naming it on failure.
Status sync_directory(const std::filesystem::path& dir);

}  // namespace tearline
