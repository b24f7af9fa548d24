// SourcePos: a 1-based line and column in an input file. Line 0 means "unknown".
#pragma once

#include <cstdint>

namespace kh {

struct SourcePos {
  uint32_t line = 0;
  uint32_t col = 0;
  bool known() const { return line != 0; }
  friend bool operator==(const SourcePos&, const SourcePos&) = default;
};

}  // namespace kh
