#include "base/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

namespace tearline {

Result<Bytes> read_file(const std::filesystem::path& path, std::size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Result<Bytes>::fail(Code::IO_ERROR, "cannot open " + path.string() + ": " + std::strerror(errno));
  }
  Bytes out;
  std::uint8_t buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return Result<Bytes>::fail(Code::IO_ERROR, "cannot read " + path.string() + ": " + std::strerror(err));
    }
    if (n == 0) break;
    out.insert(out.end(), buf, buf + n);
    if (out.size() > max_bytes) {
      ::close(fd);
      return Result<Bytes>::fail(Code::IO_ERROR,
                                 path.string() + " is larger than " + std::to_string(max_bytes) + " bytes");
    }
  }
  ::close(fd);
  return out;
}

Status write_file_atomic(const std::filesystem::path& path, ByteView data, mode_t mode) {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Status::fail(Code::IO_ERROR, "cannot create " + tmp.string() + ": " + std::strerror(errno));
  if (::fchmod(fd, mode) != 0) {
    int err = errno;
    ::close(fd);
    return Status::fail(Code::IO_ERROR, "cannot chmod " + tmp.string() + ": " + std::strerror(err));
  }
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return Status::fail(Code::IO_ERROR, "cannot write " + tmp.string() + ": " + std::strerror(err));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return Status::fail(Code::IO_ERROR, "cannot sync " + tmp.string());
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return Status::fail(Code::IO_ERROR, "cannot rename to " + path.string() + ": " + std::strerror(err));
  }
  return sync_directory(path.parent_path());
}

Status sync_directory(const std::filesystem::path& dir) {
  const std::string name = dir.empty() ? std::string(".") : dir.string();
  const int fd = ::open(name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::fail(Code::IO_ERROR, "cannot open directory " + name + ": " + std::strerror(errno));
  const bool synced = ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!synced) return Status::fail(Code::IO_ERROR, "cannot sync directory " + name + ": " + std::strerror(err));
  return Status::ok();
}

}  // namespace tearline
