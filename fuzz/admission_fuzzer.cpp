#include "fuzz/admission_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kh::fuzzAdmissionOnce(data, size);
  return 0;
}
