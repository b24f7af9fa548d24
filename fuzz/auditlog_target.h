// The audit log reader's fuzz target body, shared by the libFuzzer binary and the seed replay
// test: the input is read as an audit log (JSON lines or an EventList document), merged and
// unmerged, with a small in-flight bound; every line must be accounted for (an event or a
// malformed line), requests never outnumber events, and nothing crashes or hangs.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kh {
void fuzzAuditLogOnce(const uint8_t* data, size_t size);
}  // namespace kh
