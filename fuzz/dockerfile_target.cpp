#include "fuzz/dockerfile_target.h"

#include <string>

#include "checks/registry.h"
#include "checks/scan_index.h"
#include "dockerfile/shell.h"
#include "dockerfile/source.h"

namespace kh {

void fuzzDockerfileOnce(const uint8_t* data, size_t size) {
  static const Registry* registry = new Registry(makeCatalogue());
  SourceFile f;
  f.path = "Dockerfile";
  f.buffer.assign(reinterpret_cast<const char*>(data), size);
  dockerfile::parseDockerfileSource(LoadOptions{}, f);
  ScanIndex index;
  for (const Object& o : f.objects) index.add(&o);
  CheckContext ctx{&index};
  VectorSink sink;
  for (const Object& o : f.objects) registry->dispatch(o, ctx, sink);
  registry->finish(ctx, sink);
  // Every finding points into the file.
  for (const Finding& fd : sink.findings)
    if (fd.pos.line == 0) __builtin_trap();
  // The same bytes as a RUN script.
  Arena arena;
  dockerfile::shell::Script s = dockerfile::shell::parse(f.buffer, arena);
  for (const auto& c : s.commands)
    for (const auto& w : c.args)
      if (w.offset > f.buffer.size() || w.offset + w.length > f.buffer.size()) __builtin_trap();
}

}  // namespace kh
