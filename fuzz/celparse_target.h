// The CEL parser's fuzz target body, shared by the libFuzzer binary and the seed replay test:
// the input is parsed with every option on and off; it parses or is refused with located
// errors, never crashes or overflows the stack (the nesting limit), and what parses prints and
// evaluates (within a step bound) without crashing.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kh {
void fuzzCelParseOnce(const uint8_t* data, size_t size);
}  // namespace kh
