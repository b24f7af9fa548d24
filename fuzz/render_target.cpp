#include "fuzz/render_target.h"

#include <string>

#include "load/loader.h"
#include "render/archive.h"
#include "render/locate.h"
#include "render/render.h"

namespace kh {

void fuzzRenderOnce(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // As a chart archive: every entry read, names and sizes within the limits.
  size_t entries = 0;
  Status s = render::readTgzBytes(
      bytes, "fuzz.tgz", [](std::string_view) { return true; },
      [&](std::string_view name, std::string&& content) {
        if (content.size() > (size_t{64} << 20)) __builtin_trap();
        (void)name;
        return ++entries < 10000;
      });
  (void)s;
  // As a template: every path of a fixed object maps to a line inside the text.
  static SourceFile* object = [] {
    auto* f = new SourceFile();
    f->path = "o.yaml";
    f->buffer = R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: d, annotations: {a.b/c: x}}
spec:
  template:
    spec:
      containers:
        - {name: a, image: x, securityContext: {privileged: true}}
        - {name: b, image: y, ports: [{containerPort: 80, hostPort: 80}]}
)";
    parseSource(LoadOptions{}, *f);
    return f;
  }();
  size_t lines = 1;
  for (char c : bytes) lines += c == '\n';
  for (const char* path :
       {"spec.template.spec.containers[0].securityContext.privileged",
        "spec.template.spec.containers[1].ports[0].hostPort", "metadata.annotations.a.b/c", "spec",
        "kind", "spec.template.spec.volumes[3].hostPath"}) {
    render::Location loc = render::Locator::inTemplate(bytes, object->objects[0], path);
    if (loc.pos.line == 0 || loc.pos.line > lines) __builtin_trap();
  }
  // As kustomize output: stripping never adds bytes, and stripping twice changes nothing more.
  std::string text(bytes);
  render::stripOrigins(text);
  if (text.size() > bytes.size()) __builtin_trap();
  std::string again = text;
  render::stripOrigins(again);
  if (again != text) __builtin_trap();
}

}  // namespace kh
