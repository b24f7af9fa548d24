// Result<T>: the error channel of DESIGN.md §3 for operations that cannot go on.
//
// A small expected-like type (GCC 12 has no std::expected in C++20). An Error names what failed
// and, when there is one, the file and position it failed at. Values are owned; no exceptions.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

#include "base/source_pos.h"

namespace kh {

struct Error {
  std::string message;  // what is wrong, one sentence, no trailing period
  std::string file;     // empty when not about a file
  SourcePos pos;        // line 0 when unknown

  // "file:line:col: message", omitting the parts that are unknown.
  std::string describe() const;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }

  const Error& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }

 private:
  std::variant<T, Error> v_;
};

// Result<void> equivalent.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error)
      : error_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    assert(!ok_);
    return error_;
  }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace kh
