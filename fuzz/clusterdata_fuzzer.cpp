#include "fuzz/clusterdata_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kh::fuzzClusterDataOnce(data, size);
  return 0;
}
