// Fuzz target for image references: whatever parses re-parses from its canonical and familiar
// forms to the same reference.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kh {
void fuzzRegistryOnce(const uint8_t* data, size_t size);
}
