// The image fuzz target's body, shared by the libFuzzer binary and the seed-corpus replay test:
// `data` is read as a layer archive (any compression) and applied twice (so whiteouts and links
// meet earlier entries), then the OS and dpkg analysers run and a few paths are resolved.
// Must never crash, loop or read outside what it was given.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kh {
void fuzzImageOnce(const uint8_t* data, size_t size);
}  // namespace kh
