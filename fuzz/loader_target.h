// The loader fuzz target's body, shared by the libFuzzer binary and the seed-corpus replay test.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kh {
// Loads `data` as a manifest file and runs every check on what it holds. Must never crash.
void fuzzLoaderOnce(const uint8_t* data, size_t size);
}  // namespace kh
