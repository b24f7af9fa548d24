// ValidatingAdmissionPolicies' fuzz target body, shared by the libFuzzer binary and the seed
// replay test: the input is a YAML stream of policies, bindings, params and objects; the policy
// set builds (problems are diagnostics), and every other object is admitted under every policy
// without crashing, each evaluation within its step bound.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kh {
void fuzzVapOnce(const uint8_t* data, size_t size);
}  // namespace kh
