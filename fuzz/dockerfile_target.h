// The Dockerfile fuzz target's body, shared by the libFuzzer binary and the seed-corpus replay
// test.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kh {
// Parses `data` as a Dockerfile and runs every check on it; splits it as a shell script too.
// Must never crash.
void fuzzDockerfileOnce(const uint8_t* data, size_t size);
}  // namespace kh
