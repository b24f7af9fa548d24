#include "fuzz/clusterdata_target.h"

#include <string_view>

#include "checks/cluster/versions.h"
#include "cluster/read.h"

namespace kh {

void fuzzClusterDataOnce(const uint8_t* data, size_t size) {
  if (size == 0) return;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0: {
      auto t = k8sver::parseTable(text, "fuzz.json");
      if (!t) return;
      // Every answer the checks ask of a table that parsed.
      for (const k8sver::Release& r : t.value()->releases) (void)t.value()->find(r.major, r.minor);
      auto v = k8sver::parseVersion("v1.30.4");
      for (const k8sver::Cve& c : t.value()->cves) {
        (void)c.affects(*v);
        (void)c.fixedFor(*v);
      }
      (void)k8sver::staleWarning(*t.value(), t.value()->updated);
      return;
    }
    case 1: {
      auto v = k8sver::parseVersion(text);
      if (!v) return;
      (void)v->minorText();
      (void)(*v < *k8sver::parseVersion("1.30.0"));
      (void)k8sver::allowedKubeletSkew(*v);
      (void)k8sver::parseDate(text);
      return;
    }
    default: {
      std::string reduced = cluster::secretsAsMetadata(text);
      (void)cluster::mergePages({text, reduced, text});
      return;
    }
  }
}

}  // namespace kh
