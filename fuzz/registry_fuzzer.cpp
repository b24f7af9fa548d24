#include "fuzz/registry_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kh::fuzzRegistryOnce(data, size);
  return 0;
}
