#include "fuzz/kubeconfig_target.h"

#include <string_view>

#include "cluster/kubeconfig.h"

namespace kh {

void fuzzKubeConfigOnce(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto cfg = cluster::parseKubeConfig(text, "/fuzz/dir/config");
  if (!cfg) return;
  (void)cluster::resolveConnection(cfg.value(), {});
  for (const auto& [name, ctx] : cfg.value().contexts) {
    cluster::Overrides o;
    o.context = name;
    (void)cluster::resolveConnection(cfg.value(), o);
    o.namespace_ = "n";
    o.cluster = ctx.cluster.empty() ? "x" : ctx.cluster;
    o.user = ctx.user;
    (void)cluster::resolveConnection(cfg.value(), o);
  }
}

}  // namespace kh
