#include "image/filesystem.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace kh::image {

namespace {

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

ContentHandler captureHandler(CaptureRule rule) {
  ContentHandler h;
  h.max_bytes = rule.max_bytes;
  h.wants = [w = rule.wants](const TarEntry& e, LayerFiles&) {
    return w && w(e.path) ? ContentHandler::Want::kAll : ContentHandler::Want::kNo;
  };
  h.handle = [](const TarEntry& e, std::string_view content, LayerFiles& out) {
    out.captured[e.path] = std::string(content);
  };
  return h;
}

namespace {

// Gives one entry to the handlers and records it. `readMore(out, upto)` appends the entry's
// next bytes; false on a read error.
bool addEntry(TarEntry& e, const std::vector<ContentHandler>& handlers,
              const std::function<bool(std::string&, size_t)>& readMore,
              std::vector<ContentHandler::Want>& wants, std::string& content, LayerFiles& out) {
  std::string_view base = pathBase(e.path);
  if (base == ".wh..wh..opq") {
    out.opaque.emplace_back(pathDir(e.path));
    return true;
  }
  if (base.starts_with(".wh.")) {
    out.whiteouts.push_back(join(pathDir(e.path), base.substr(4)));
    return true;
  }
  if (e.path.empty()) return true;  // the root directory itself
  if (e.type == TarEntry::Type::kFile) {
    out.bytes += static_cast<uint64_t>(std::max<int64_t>(e.size, 0));
    size_t cap = 0;
    bool head = false;
    wants.resize(handlers.size());
    for (size_t i = 0; i < handlers.size(); ++i) {
      wants[i] = handlers[i].wants(e, out);
      if (wants[i] == ContentHandler::Want::kAll) cap = std::max(cap, handlers[i].max_bytes);
      if (wants[i] == ContentHandler::Want::kHead) head = true;
    }
    content.clear();
    if (head) {
      if (!readMore(content, ContentHandler::kHeadBytes)) return false;
      for (size_t i = 0; i < handlers.size(); ++i) {
        if (wants[i] != ContentHandler::Want::kHead) continue;
        bool yes = handlers[i].wants_head && handlers[i].wants_head(e, content);
        wants[i] = yes ? ContentHandler::Want::kAll : ContentHandler::Want::kNo;
        if (yes) cap = std::max(cap, handlers[i].max_bytes);
      }
    }
    if (cap > 0) {
      if (!readMore(content, cap)) return false;
      for (size_t i = 0; i < handlers.size(); ++i) {
        if (wants[i] != ContentHandler::Want::kAll) continue;
        std::string_view c(content);
        handlers[i].handle(e, c.substr(0, handlers[i].max_bytes), out);
      }
    }
  }
  out.entries.push_back(std::move(e));
  return true;
}

}  // namespace

LayerFiles readLayer(TarReader& r, const std::vector<ContentHandler>& handlers,
                     std::atomic<uint64_t>* progress) {
  LayerFiles out;
  TarEntry e;
  std::vector<ContentHandler::Want> wants;
  std::string content;
  auto more = [&](std::string& buf, size_t upto) { return r.readMore(buf, upto); };
  while (r.next(e)) {
    if (progress && e.type == TarEntry::Type::kFile && e.size > 0)
      *progress += static_cast<uint64_t>(e.size);
    if (!addEntry(e, handlers, more, wants, content, out)) break;
    e = TarEntry{};
  }
  return out;
}

Result<LayerFiles> readDirectory(const std::string& root,
                                 const std::vector<ContentHandler>& handlers) {
  namespace sfs = std::filesystem;
  struct stat root_st {};
  if (::lstat(root.c_str(), &root_st) != 0 || !S_ISDIR(root_st.st_mode))
    return Error{"not a directory (--rootfs wants an unpacked root filesystem)", root, {}};
  LayerFiles out;
  std::vector<ContentHandler::Want> wants;
  std::string content;
  std::error_code ec;
  sfs::recursive_directory_iterator it(root, sfs::directory_options::skip_permission_denied, ec);
  if (ec) return Error{fmt::format("cannot read: {}", ec.message()), root, {}};
  for (; it != sfs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    const sfs::path& p = it->path();
    std::string rel = normaliseTarPath(p.lexically_relative(root).generic_string());
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode) && it.depth() == 0 &&
        (rel == "proc" || rel == "sys" || rel == "dev" || rel == "run")) {
      it.disable_recursion_pending();  // kernel and runtime file systems are not the image
      continue;
    }
    if (S_ISDIR(st.st_mode) && st.st_dev != root_st.st_dev) it.disable_recursion_pending();
    TarEntry e;
    e.path = rel;
    e.mode = st.st_mode & 07777;
    e.size = S_ISREG(st.st_mode) ? st.st_size : 0;
    if (S_ISREG(st.st_mode)) {
      e.type = TarEntry::Type::kFile;
    } else if (S_ISDIR(st.st_mode)) {
      e.type = TarEntry::Type::kDir;
    } else if (S_ISLNK(st.st_mode)) {
      e.type = TarEntry::Type::kSymlink;
      e.link = sfs::read_symlink(p, ec).string();
    } else {
      e.type = TarEntry::Type::kOther;
    }
    std::ifstream in;
    auto more = [&](std::string& buf, size_t upto) {
      if (!in.is_open()) in.open(p, std::ios::binary);
      if (!in) return true;  // unreadable: as if empty
      size_t have = buf.size();
      if (upto <= have) return true;
      size_t want = std::min<size_t>(upto, static_cast<size_t>(e.size));
      if (want <= have) return true;
      buf.resize(want);
      in.read(buf.data() + have, static_cast<std::streamsize>(want - have));
      buf.resize(have + static_cast<size_t>(in.gcount()));
      return true;
    };
    addEntry(e, handlers, more, wants, content, out);
  }
  if (ec) return Error{fmt::format("cannot read: {}", ec.message()), root, {}};
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
  // The entries now live in files_; the layer keeps what the analysers found.
  LayerFiles& kept = layers_.back();
  kept.entries = {};
  kept.whiteouts = {};
  kept.opaque = {};
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
