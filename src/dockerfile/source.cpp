#include "dockerfile/source.h"

#include <fmt/format.h>

#include "dockerfile/parser.h"

namespace kh::dockerfile {
namespace {

Node* str(Arena& arena, std::string_view s) {
  Node* n = arena.make<Node>();
  n->type = NodeType::kString;
  n->text = s;
  n->pos = {1, 1};
  return n;
}

Node* map(Arena& arena, std::initializer_list<std::pair<std::string_view, const Node*>> kv) {
  auto* entries = arena.makeArray<MapEntry>(kv.size());
  size_t i = 0;
  for (const auto& [k, v] : kv) entries[i++] = MapEntry{k, {1, 1}, v};
  Node* n = arena.make<Node>();
  n->type = NodeType::kMap;
  n->entries = entries;
  n->size = static_cast<uint32_t>(kv.size());
  n->pos = {1, 1};
  return n;
}

}  // namespace

void loadDockerfile(const std::string& path, const LoadOptions& opts, SourceFile& out) {
  if (readSource(path, opts, out)) parseDockerfileSource(opts, out);
}

void parseDockerfileSource(const LoadOptions& opts, SourceFile& out) {
  if (out.buffer.size() > opts.limits.max_file_bytes) {
    out.error =
        Error{fmt::format("larger than the {} MiB input limit", opts.limits.max_file_bytes >> 20),
              out.path,
              {}};
    return;
  }
  auto parsed = parse(out.buffer, out.path, out.arena, out.diagnostics);
  if (!parsed) {
    out.error = parsed.error();
    return;
  }
  ++out.documents;
  // A RUN script the shell splitter could not read whole: its checks saw only the commands
  // before the problem, which is worth saying.
  auto unreadable = [&](const Instruction& in) {
    if (in.shell_error.empty()) return;
    out.diagnostics.push_back(
        {"dockerfile-shell-unparsable",
         fmt::format("the script of this RUN cannot be read as a shell would ({}); checks saw "
                     "only the commands before it",
                     in.shell_error),
         out.path, in.shell_error_pos});
  };
  for (const Instruction& in : parsed.value()->instructions) {
    unreadable(in);
    if (in.inner) unreadable(*in.inner);
  }
  Node* root =
      map(out.arena,
          {{"apiVersion", str(out.arena, kApiVersion)},
           {"kind", str(out.arena, kKind)},
           {"metadata", map(out.arena, {{"name", str(out.arena, out.arena.copy(out.path))}})}});
  Object o = makeObject(root, {});
  o.file = out.path;
  o.dockerfile = parsed.value();
  out.objects.push_back(std::move(o));
}

}  // namespace kh::dockerfile
