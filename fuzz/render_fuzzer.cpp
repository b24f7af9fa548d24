#include "fuzz/render_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kh::fuzzRenderOnce(data, size);
  return 0;
}
