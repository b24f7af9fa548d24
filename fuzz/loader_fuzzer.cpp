#include "fuzz/loader_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kh::fuzzLoaderOnce(data, size);
  return 0;
}
