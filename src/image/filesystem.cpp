#include "image/filesystem.h"

namespace kh::image {

namespace {

std::string_view baseName(std::string_view p) {
  size_t slash = p.rfind('/');
  return slash == std::string_view::npos ? p : p.substr(slash + 1);
}
std::string_view dirName(std::string_view p) {
  size_t slash = p.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : p.substr(0, slash);
}
std::string join(std::string_view dir, std::string_view name) {
  return dir.empty() ? std::string(name) : std::string(dir) + "/" + std::string(name);
}

// Removes `path` and everything under it (or only what is under it).
template <typename Map>
void eraseTree(Map& m, const std::string& path, bool keep_self) {
  if (!keep_self) m.erase(path);
  std::string prefix = path.empty() ? std::string() : path + "/";
  auto it = m.lower_bound(prefix);
  while (it != m.end() && std::string_view(it->first).starts_with(prefix)) it = m.erase(it);
}

}  // namespace

LayerFiles readLayer(TarReader& r, const CaptureRule& capture) {
  LayerFiles out;
  TarEntry e;
  while (r.next(e)) {
    std::string_view base = baseName(e.path);
    if (base == ".wh..wh..opq") {
      out.opaque.emplace_back(dirName(e.path));
      continue;
    }
    if (base.starts_with(".wh.")) {
      out.whiteouts.push_back(join(dirName(e.path), base.substr(4)));
      continue;
    }
    if (e.path.empty()) continue;  // the root directory itself
    if (e.type == TarEntry::Type::kFile) {
      out.bytes += static_cast<uint64_t>(std::max<int64_t>(e.size, 0));
      if (capture.wants && capture.wants(e.path)) {
        auto data = r.read(capture.max_bytes);
        if (!data) break;
        out.captured[e.path] = std::move(*data);
      }
    }
    out.entries.push_back(std::move(e));
    e = TarEntry{};
  }
  return out;
}

void Filesystem::apply(LayerFiles layer) {
  uint32_t index = static_cast<uint32_t>(layers_.size());
  layers_.push_back(std::move(layer));
  const LayerFiles& l = layers_.back();
  // Whiteouts and opaque directories act on the lower layers only: before this layer's entries.
  for (const std::string& d : l.opaque) eraseTree(files_, d, /*keep_self=*/true);
  for (const std::string& w : l.whiteouts) eraseTree(files_, w, /*keep_self=*/false);
  for (const TarEntry& e : l.entries) {
    auto it = files_.find(e.path);
    if (it != files_.end()) {
      // A directory over a directory keeps what is below; anything else replaces the tree.
      if (!(e.type == TarEntry::Type::kDir && it->second.type == TarEntry::Type::kDir))
        eraseTree(files_, e.path, /*keep_self=*/true);
    }
    FsEntry f{e.type, e.size, e.mode, e.link, index, nullptr};
    if (e.type == TarEntry::Type::kHardlink) {
      // A hard link shares its original's data (in this or a lower layer).
      if (auto orig = files_.find(e.link); orig != files_.end()) {
        f = orig->second;
        f.layer = index;
      }
    }
    if (auto c = l.captured.find(e.path); c != l.captured.end()) f.content = &c->second;
    files_[e.path] = std::move(f);
  }
}

std::optional<std::string> Filesystem::resolve(std::string_view path) const {
  std::vector<std::string> done;  // resolved components
  std::vector<std::string> todo;  // components still to walk, last first
  auto push = [&](std::string_view p) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (start <= p.size()) {
      size_t slash = p.find('/', start);
      if (slash == std::string_view::npos) slash = p.size();
      if (slash > start) parts.emplace_back(p.substr(start, slash - start));
      start = slash + 1;
    }
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) todo.push_back(*it);
  };
  push(path);
  int hops = 0;
  while (!todo.empty()) {
    std::string part = std::move(todo.back());
    todo.pop_back();
    if (part == ".") continue;
    if (part == "..") {
      if (!done.empty()) done.pop_back();  // never above the root
      continue;
    }
    done.push_back(part);
    std::string here;
    for (const std::string& d : done) here += (here.empty() ? "" : "/") + d;
    auto it = files_.find(here);
    if (it == files_.end() || it->second.type != TarEntry::Type::kSymlink) continue;
    if (++hops > 40) return std::nullopt;
    const std::string& target = it->second.link;
    done.pop_back();
    if (target.starts_with("/")) done.clear();
    push(target);
  }
  std::string out;
  for (const std::string& d : done) out += (out.empty() ? "" : "/") + d;
  return out;
}

const FsEntry* Filesystem::find(std::string_view path) const {
  auto real = resolve(normaliseTarPath(path));
  if (!real) return nullptr;
  auto it = files_.find(*real);
  return it == files_.end() ? nullptr : &it->second;
}

std::optional<std::string_view> Filesystem::content(std::string_view path) const {
  const FsEntry* e = find(path);
  if (!e || !e->content) return std::nullopt;
  return std::string_view(*e->content);
}

}  // namespace kh::image
