#include "fuzz/loader_target.h"

#include <string>

#include "checks/registry.h"
#include "checks/scan_index.h"
#include "load/loader.h"

namespace kh {

void fuzzLoaderOnce(const uint8_t* data, size_t size) {
  static const Registry* registry = new Registry(makeCatalogue());
  SourceFile f;
  f.path = "fuzz.yaml";
  f.buffer.assign(reinterpret_cast<const char*>(data), size);
  LoadOptions opts;
  opts.limits.max_expanded_nodes = 200'000;
  parseSource(opts, f);
  ScanIndex index;
  for (const Object& o : f.objects) index.add(&o);
  CheckContext ctx{&index};
  VectorSink sink;
  for (const Object& o : f.objects) registry->dispatch(o, ctx, sink);
  registry->finish(ctx, sink);
}

}  // namespace kh
