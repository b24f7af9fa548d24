// Fuzz target for kubeconfig files: parsing (YAML, base64 data fields, relative paths) and
// resolving every context the input defines, with and without overrides.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kh {
void fuzzKubeConfigOnce(const uint8_t* data, size_t size);
}
