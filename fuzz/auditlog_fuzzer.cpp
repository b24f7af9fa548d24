#include "fuzz/auditlog_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kh::fuzzAuditLogOnce(data, size);
  return 0;
}
