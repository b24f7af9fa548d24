#include "fuzz/vulndb_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kh::fuzzVulnDbOnce(data, size);
  return 0;
}
