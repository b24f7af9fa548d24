#include "fuzz/vulndb_target.h"

#include <unistd.h>

#include <cstdio>
#include <string>

#include "vuln/db.h"
#include "vuln/match.h"

namespace kh {

void fuzzVulnDbOnce(const uint8_t* data, size_t size) {
  static const std::string path =
      "/tmp/kubeharden-vulndb-fuzz-" + std::to_string(::getpid()) + ".json";
  if (FILE* f = std::fopen(path.c_str(), "wb")) {
    std::fwrite(data, 1, size, f);
    std::fclose(f);
  } else {
    return;
  }
  auto db = vuln::VulnDb::open(":memory:", true);
  if (!db) __builtin_trap();
  auto stats = db.value()->import({path});
  std::remove(path.c_str());
  if (!stats) return;  // a refused document is fine; a crash is not
  auto status = db.value()->status();
  if (!status) __builtin_trap();
  for (const auto& [eco, n] : status.value().by_ecosystem) {
    (void)n;
    // Every stored entry must be readable and evaluable.
    for (const char* name : {"openssl", "pkg", "a"})
      for (const vuln::AffectedEntry& e : db.value()->affected(eco, name)) {
        (void)vuln::affects(e.ranges_json, eco, "1.0");
        if (!db.value()->advisory(e.advisory)) __builtin_trap();
      }
  }
}

}  // namespace kh
