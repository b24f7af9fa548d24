#include "fuzz/version_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kh::fuzzVersionOnce(data, size);
  return 0;
}
