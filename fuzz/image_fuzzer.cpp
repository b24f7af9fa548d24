#include "fuzz/image_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kh::fuzzImageOnce(data, size);
  return 0;
}
