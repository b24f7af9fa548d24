// JSON reader for the admission path: bytes -> immutable Node tree in an Arena, strict JSON
// (RFC 8259, UTF-8 validated, one value, no trailing bytes), with depth and size limits, built on
// RapidJSON's SAX parser. The YAML reader also reads JSON, but at a fraction of the speed; request
// bodies need this one. Node positions are line and column of the end of each token. Numbers keep
// their written text (ints as kInt, others as kFloat), as the YAML reader does. A duplicate key
// keeps the last value (as Go's encoding/json). Never throws.
#pragma once

#include <string_view>

#include "base/arena.h"
#include "base/result.h"
#include "model/node.h"

namespace kh {

inline constexpr uint32_t kMaxJsonDepth = 1000;

struct JsonLimits {
  size_t max_bytes = 7u << 20;  // the admission body cap
  uint32_t max_depth = 100;     // also bounds the parser's recursion: at most kMaxJsonDepth
};

// The root value, or an Error with line and column (file is empty: the caller names the input).
Result<const Node*> parseJson(std::string_view text, Arena& arena, const JsonLimits& limits = {});

}  // namespace kh
