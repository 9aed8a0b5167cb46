#include "bench/records.h"

#include <cstdio>
#include <memory>

namespace tearline::bench {
namespace {

using File = std::unique_ptr<std::FILE, int (*)(std::FILE*)>;

template <typename Summary, typename Record>
Status write_file(const std::filesystem::path& path, const Summary& summary, const std::vector<Record>& records) {
  File f(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!f) return Status::fail(Code::IO_ERROR, "cannot write " + path.string());
  const std::uint64_t n = records.size();
  bool ok = std::fwrite(&summary, sizeof summary, 1, f.get()) == 1 && std::fwrite(&n, sizeof n, 1, f.get()) == 1;
  if (ok && n > 0) ok = std::fwrite(records.data(), sizeof(Record), records.size(), f.get()) == records.size();
  if (!ok) return Status::fail(Code::IO_ERROR, "short write to " + path.string());
  return Status::ok();
}

template <typename Summary, typename Record>
Status read_file(const std::filesystem::path& path, Summary* summary, std::vector<Record>* records) {
  File f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) return Status::fail(Code::IO_ERROR, "cannot read " + path.string());
  std::uint64_t n = 0;
  if (std::fread(summary, sizeof *summary, 1, f.get()) != 1 || std::fread(&n, sizeof n, 1, f.get()) != 1) {
    return Status::fail(Code::IO_ERROR, "truncated " + path.string());
  }
  records->resize(n);
  if (n > 0 && std::fread(records->data(), sizeof(Record), n, f.get()) != n) {
    return Status::fail(Code::IO_ERROR, "truncated " + path.string());
  }
  return Status::ok();
}

}  // namespace

Status write_pub_records(const std::filesystem::path& file, const PubSummary& summary,
                         const std::vector<PubRecord>& records) {
  return write_file(file, summary, records);
}
Status write_sub_records(const std::filesystem::path& file, const SubSummary& summary,
                         const std::vector<SubRecord>& records) {
  return write_file(file, summary, records);
}
Status read_pub_records(const std::filesystem::path& file, PubSummary* summary, std::vector<PubRecord>* records) {
  return read_file(file, summary, records);
}
Status read_sub_records(const std::filesystem::path& file, SubSummary* summary, std::vector<SubRecord>* records) {
  return read_file(file, summary, records);
}

}  // namespace tearline::bench
