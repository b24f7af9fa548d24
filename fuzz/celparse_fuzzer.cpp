#include "fuzz/celparse_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kh::fuzzCelParseOnce(data, size);
  return 0;
}
