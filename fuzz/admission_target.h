// The admission fuzz target's body, shared by the libFuzzer binary and the seed-corpus replay
// test: decode `data` as an AdmissionReview request body and, when it decodes, decide it with
// the default policy and the whole catalogue, and encode the answer. Must never crash.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kh {
void fuzzAdmissionOnce(const uint8_t* data, size_t size);
}  // namespace kh
