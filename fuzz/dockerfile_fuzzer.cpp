#include "fuzz/dockerfile_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kh::fuzzDockerfileOnce(data, size);
  return 0;
}
