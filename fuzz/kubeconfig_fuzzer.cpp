#include "fuzz/kubeconfig_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kh::fuzzKubeConfigOnce(data, size);
  return 0;
}
