// The vulnerability-database fuzz target's body, shared by the libFuzzer binary and the seed
// replay test: the input is imported as one JSON document (OSV record, Debian security tracker
// JSON or Alpine secdb) into a fresh in-memory database, and whatever was stored is read back
// and matched against a version. Nothing may crash, hang or fail to be read back.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kh {
void fuzzVulnDbOnce(const uint8_t* data, size_t size);
}  // namespace kh
