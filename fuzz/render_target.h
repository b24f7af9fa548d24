// Fuzz target for the rendering parsers: a packaged chart's gzip+tar reader, the Helm template
// line mapper and the kustomize origin-annotation stripper, fed the same bytes.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kh {
void fuzzRenderOnce(const uint8_t* data, size_t size);
}
