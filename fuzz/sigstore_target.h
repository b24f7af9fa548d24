// Fuzz target for the Sigstore parsers and encodings: bundles, trusted roots, checkpoints,
// cosign layers (payload and annotations) and simple-signing payloads,
// RFC 8785 canonical JSON (canonical output is a fixed point: canonicalising it again gives
// the same bytes) and inclusion proofs built from the input.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kh {
void fuzzSigstoreOnce(const uint8_t* data, size_t size);
}
