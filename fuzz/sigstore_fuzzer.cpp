#include "fuzz/sigstore_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kh::fuzzSigstoreOnce(data, size);
  return 0;
}
