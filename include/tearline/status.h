// Errors as values. A Reason is one stable code plus a human sentence; a
// Status is OK or a non-empty list of reasons (every reason that applies, not
// only the first); Result<T> is a T or a failed Status.
//
// Public: the client library's header (tearline/client.h) returns these, and
// the whole tree uses them through lib/base/result.h. Std headers only.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <tearline/codes.h>

namespace tearline {

struct Reason {
  Code code = Code::OK;
  std::string message;

  bool operator==(const Reason&) const = default;
};

// Renders "NAME: message".
std::string to_string(const Reason& reason);

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status ok() { return Status(); }
  static Status fail(Code code, std::string message) {
    Status s;
    s.reasons_.push_back(Reason{code, std::move(message)});
    return s;
  }
  static Status fail(std::vector<Reason> reasons) {
    Status s;
    s.reasons_ = std::move(reasons);
    return s;
  }

  bool is_ok() const { return reasons_.empty(); }
  explicit operator bool() const { return is_ok(); }
  // The first reason's code; Code::OK when ok.
  Code code() const { return reasons_.empty() ? Code::OK : reasons_.front().code; }
  const std::vector<Reason>& reasons() const { return reasons_; }
  bool has(Code code) const;
  void add(Code code, std::string message) { reasons_.push_back(Reason{code, std::move(message)}); }
  void merge(const Status& other) { reasons_.insert(reasons_.end(), other.reasons_.begin(), other.reasons_.end()); }
  // All reasons as "NAME: message; NAME: message".
  std::string to_string() const;

 private:
  std::vector<Reason> reasons_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}                                     // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) { assert(!status_.is_ok()); }  // NOLINT
  static Result fail(Code code, std::string message) { return Result(Status::fail(code, std::move(message))); }

  bool is_ok() const { return value_.has_value(); }
  explicit operator bool() const { return is_ok(); }
  const Status& status() const { return status_; }
  Code code() const { return status_.code(); }

  T& value() & {
    assert(value_);
    return *value_;
  }
  const T& value() const& {
    assert(value_);
    return *value_;
  }
  T&& value() && {
    assert(value_);
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace tearline
