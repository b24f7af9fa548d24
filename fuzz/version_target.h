// The version-comparison fuzz target's body, shared by the libFuzzer binary and the seed replay
// test: the input is split at newlines into up to three versions, and every comparator must be
// reflexive, antisymmetric and transitive on them (a violation traps), and never crash or hang.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kh {
void fuzzVersionOnce(const uint8_t* data, size_t size);
}  // namespace kh
