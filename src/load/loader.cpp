#include "load/loader.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

namespace kh {
namespace fs = std::filesystem;

namespace {

bool hasManifestExtension(const fs::path& p) {
  std::string ext = p.extension().string();
  return ext == ".yaml" || ext == ".yml" || ext == ".json";
}

// A file in a directory that is a kubeconfig although not named like a manifest: admin.conf,
// kubelet.conf, *.kubeconfig, kubeconfig, config; told by its content (a top-level `kind: Config`
// and `apiVersion: v1` in its first 64 KiB), so other .conf files are left alone.
bool looksLikeKubeconfig(const fs::path& p) {
  std::string name = p.filename().string();
  if (!name.ends_with(".conf") && !name.ends_with(".kubeconfig") && name != "kubeconfig" &&
      name != "config")
    return false;
  std::ifstream in(p, std::ios::binary);
  std::string head(64 * 1024, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  bool kind = false, api = false;
  size_t from = 0;
  while (from < head.size()) {
    size_t nl = head.find('\n', from);
    std::string_view line(head.data() + from, (nl == std::string::npos ? head.size() : nl) - from);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line == "kind: Config" || line == "kind: \"Config\"") kind = true;
    if (line == "apiVersion: v1" || line == "apiVersion: \"v1\"") api = true;
    if (nl == std::string::npos) break;
    from = nl + 1;
  }
  return kind && api;
}

bool isListKind(std::string_view kind) {
  return kind.size() >= 4 && kind.ends_with("List");
}

// The item's map as the API server means it: a typed list (`PodList`, `apps/v1`
// `DeploymentList`, ...) writes its items without apiVersion and kind, which the list's own kind
// (less "List") and apiVersion give. An item naming its own keeps it. The filled-in entries come
// first and point at the item, so findings about them land on the item's line. Returns `item`
// itself when nothing is missing (no copy).
const Node* completeTypedItem(const Node* item, const Node* list_api_version,
                              std::string_view item_kind, Arena& arena) {
  bool has_version = !getStr(item, "apiVersion").empty();
  bool has_kind = !getStr(item, "kind").empty();
  if (has_version && has_kind) return item;
  uint32_t extra = (has_version ? 0 : 1) + (has_kind ? 0 : 1);
  auto* entries = arena.makeArray<MapEntry>(item->size + extra);
  uint32_t n = 0;
  auto add = [&](std::string_view key, const Node* value) {
    entries[n++] = MapEntry{key, item->pos, value};
  };
  if (!has_version) {
    Node* v = arena.make<Node>();
    v->type = NodeType::kString;
    v->text = list_api_version->text;
    v->pos = item->pos;
    add("apiVersion", v);
  }
  if (!has_kind) {
    Node* k = arena.make<Node>();
    k->type = NodeType::kString;
    k->text = item_kind;
    k->pos = item->pos;
    add("kind", k);
  }
  for (const MapEntry& e : item->mapEntries()) {
    // An empty or null apiVersion/kind of the item's own is replaced, not duplicated.
    if ((e.key == "apiVersion" && !has_version) || (e.key == "kind" && !has_kind)) continue;
    entries[n++] = e;
  }
  Node* copy = arena.make<Node>();
  *copy = *item;
  copy->entries = entries;
  copy->size = n;
  return copy;
}

bool readAll(int fd, size_t cap, std::string& out, std::string& err) {
  char chunk[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n == 0) return true;
    if (n < 0) {
      if (errno == EINTR) continue;
      err = std::strerror(errno);
      return false;
    }
    if (out.size() + static_cast<size_t>(n) > cap) {
      err = fmt::format("larger than the {} MiB input limit", cap >> 20);
      return false;
    }
    out.append(chunk, static_cast<size_t>(n));
  }
}

void addObject(const Node* root, const ParsedDocument& doc, uint32_t item, const LoadOptions& opts,
               SourceFile& out) {
  Object o = makeObject(root, opts.pod_spec_paths);
  o.file = out.path;
  o.helm_source = doc.helm_source;
  o.doc_index = doc.index;
  o.item_index = item;
  out.objects.push_back(std::move(o));
}

bool isObject(const Node* n) {
  return n && n->isMap() && !getStr(n, "apiVersion").empty() && !getStr(n, "kind").empty();
}

void skip(SourceFile& out, const Node* n, std::string_view what) {
  ++out.skipped;
  out.diagnostics.push_back({"not-an-object", std::string(what), out.path, n->pos});
}

}  // namespace

Result<std::vector<std::string>> collectInputs(const std::vector<std::string>& paths) {
  auto files = collectInputFiles(paths, CollectOptions{});
  if (!files) return files.error();
  std::vector<std::string> out;
  for (InputFile& f : files.value()) out.push_back(std::move(f.path));
  return out;
}

bool isDockerfileName(std::string_view name) {
  if (size_t slash = name.rfind('/'); slash != std::string_view::npos)
    name = name.substr(slash + 1);
  for (std::string_view base : {"Dockerfile", "Containerfile", "dockerfile", "containerfile"}) {
    if (name == base) return true;
    if (name.size() > base.size() + 1 && name.starts_with(base) && name[base.size()] == '.')
      return true;  // Dockerfile.prod
    if (name.size() > base.size() + 1 && name.ends_with(base) &&
        name[name.size() - base.size() - 1] == '.')
      return true;  // app.Dockerfile
  }
  return false;
}

Result<std::vector<InputFile>> collectInputFiles(const std::vector<std::string>& paths,
                                                 const CollectOptions& opts) {
  std::vector<InputFile> files;
  auto explicitKind = [&](const std::string& p) {
    if (!opts.manifests) return InputKind::kDockerfile;
    return opts.dockerfiles && isDockerfileName(p) ? InputKind::kDockerfile : InputKind::kManifest;
  };
  for (const std::string& p : paths) {
    if (p == "-") {
      files.push_back({p, explicitKind(p)});
      continue;
    }
    std::error_code ec;
    fs::file_status st = fs::status(p, ec);
    if (ec || !fs::exists(st)) return Error{"no such file or directory", p, {}};
    if (!fs::is_directory(st)) {
      if (opts.consumed && opts.consumed(p)) continue;  // a packaged chart, rendered
      files.push_back({p, explicitKind(p)});
      continue;
    }
    std::vector<InputFile> found;
    fs::recursive_directory_iterator it(p, fs::directory_options::skip_permission_denied, ec);
    if (ec) return Error{fmt::format("cannot read directory: {}", ec.message()), p, {}};
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) return Error{fmt::format("cannot read directory: {}", ec.message()), p, {}};
      const fs::directory_entry& e = *it;
      std::string name = e.path().filename().string();
      if (e.is_directory(ec)) {
        if (name.starts_with(".") || e.is_symlink(ec)) it.disable_recursion_pending();
        continue;
      }
      if (!e.is_regular_file(ec)) continue;
      if (opts.manifests && (hasManifestExtension(e.path()) || looksLikeKubeconfig(e.path()))) {
        if (!opts.consumed || !opts.consumed(e.path().string()))
          found.push_back({e.path().string(), InputKind::kManifest});
      } else if (opts.dockerfiles && isDockerfileName(name)) {
        found.push_back({e.path().string(), InputKind::kDockerfile});
      }
    }
    std::sort(found.begin(), found.end(),
              [](const InputFile& a, const InputFile& b) { return a.path < b.path; });
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

void parseSource(const LoadOptions& opts, SourceFile& out) {
  if (out.buffer.size() > opts.limits.max_file_bytes) {
    out.error =
        Error{fmt::format("larger than the {} MiB input limit", opts.limits.max_file_bytes >> 20),
              out.path,
              {}};
    return;
  }
  ParseOutput parsed =
      parseYamlStream(out.buffer, out.path, out.arena, opts.limits, out.diagnostics);
  if (parsed.error) out.error = std::move(parsed.error);
  for (const ParsedDocument& doc : parsed.documents) {
    const Node* root = doc.root;
    if (!root || root->isNull()) continue;  // empty document (Helm emits many)
    ++out.documents;
    if (!root->isMap()) {
      skip(out, root, "document is not a map, so not a Kubernetes object; skipped");
      continue;
    }
    if (!isObject(root)) {
      skip(out, root, "document has no apiVersion and kind, so not a Kubernetes object; skipped");
      continue;
    }
    std::string_view kind = getStr(root, "kind");
    const Node* items = root->get("items");
    if (isListKind(kind) && items && items->isSeq()) {
      // `List` (kubectl's) holds objects that name themselves; `XList` holds Xs.
      bool typed = kind != "List";
      std::string_view item_kind = kind.substr(0, kind.size() - 4);
      uint32_t i = 0;
      for (const Node* item : items->seqItems()) {
        if (typed && item && item->isMap())
          item = completeTypedItem(item, root->get("apiVersion"), item_kind, out.arena);
        if (isObject(item)) {
          addObject(item, doc, i, opts, out);
        } else if (item && !item->isNull()) {
          skip(out, item,
               typed ? fmt::format("item {} of the {} is not a map; skipped", i, kind)
                     : fmt::format("item {} of the List has no apiVersion and kind; skipped", i));
        }
        ++i;
      }
      continue;
    }
    addObject(root, doc, 0, opts, out);
  }
}

bool readSource(const std::string& path, const LoadOptions& opts, SourceFile& out) {
  out.path = path == "-" ? "<stdin>" : path;
  std::string err;
  if (path == "-") {
    if (!readAll(STDIN_FILENO, opts.limits.max_file_bytes, out.buffer, err)) {
      out.error = Error{fmt::format("cannot read: {}", err), out.path, {}};
      return false;
    }
  } else {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      out.error = Error{fmt::format("cannot open: {}", std::strerror(errno)), out.path, {}};
      return false;
    }
    bool ok = readAll(fd, opts.limits.max_file_bytes, out.buffer, err);
    ::close(fd);
    if (!ok) {
      out.error = Error{fmt::format("cannot read: {}", err), out.path, {}};
      return false;
    }
  }
  return true;
}

void loadFile(const std::string& path, const LoadOptions& opts, SourceFile& out) {
  if (readSource(path, opts, out)) parseSource(opts, out);
}

}  // namespace kh
