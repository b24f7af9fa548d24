// Fuzz target for the registry's parsers: image references (whatever parses re-parses from its
// canonical and familiar forms to the same reference), platforms, WWW-Authenticate challenges,
// token answers and base64.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kh {
void fuzzRegistryOnce(const uint8_t* data, size_t size);
}
