#include "fuzz/vap_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kh::fuzzVapOnce(data, size);
  return 0;
}
