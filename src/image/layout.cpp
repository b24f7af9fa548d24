#include "image/layout.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "base/arena.h"
#include "base/parallel.h"
#include "image/layer_stream.h"
#include "load/json_reader.h"
#include "registry/digest.h"
#include "registry/reference.h"

namespace kh::image {

namespace {

constexpr size_t kMaxJson = 8u << 20;

std::string blobPath(std::string_view digest) {
  size_t colon = digest.find(':');
  if (colon == std::string_view::npos) return {};
  return fmt::format("blobs/{}/{}", digest.substr(0, colon), digest.substr(colon + 1));
}

bool looksJson(std::string_view s) {
  size_t i = s.find_first_not_of(" \t\r\n");
  return i != std::string_view::npos && (s[i] == '{' || s[i] == '[');
}

// The small JSON files of an image (manifests, index, configs), by member path.
using Blobs = std::map<std::string, std::string, std::less<>>;

Error notAnImage(const std::string& path, std::string_view why) {
  return Error{fmt::format("not a container image ({}): expected a `docker save` tarball, an OCI "
                           "image layout tarball or an OCI image layout directory",
                           why),
               path,
               {}};
}

struct Json {
  Arena arena;
  const Node* root = nullptr;
};

Result<std::unique_ptr<Json>> parse(const std::string& text, const std::string& what,
                                    const std::string& path) {
  auto j = std::make_unique<Json>();
  auto r = parseJson(text, j->arena, JsonLimits{.max_bytes = kMaxJson, .max_depth = 64});
  if (!r) return Error{fmt::format("{}: {}", what, r.error().describe()), path, {}};
  j->root = r.value();
  return j;
}

bool isIndex(std::string_view media_type) {
  return media_type == "application/vnd.oci.image.index.v1+json" ||
         media_type == "application/vnd.docker.distribution.manifest.list.v2+json";
}

struct Candidate {
  std::string digest;
  std::optional<Platform> platform;
};

// Follows an OCI index (and nested indexes) to the manifests it lists.
Status collectManifests(const Node* index, const Blobs& blobs, const std::string& path,
                        std::vector<Candidate>& out, int depth) {
  if (depth > 4) return Error{"image index nesting deeper than 4", path, {}};
  for (const Node* m : seqOf(get(index, "manifests"))) {
    std::string digest(getStr(m, "digest"));
    std::string_view media = getStr(m, "mediaType");
    // Attestation manifests (BuildKit) describe the image; they are not one.
    if (getStr(get(m, "annotations"), "vnd.docker.reference.type") == "attestation-manifest")
      continue;
    if (isIndex(media)) {
      auto it = blobs.find(blobPath(digest));
      if (it == blobs.end())
        return Error{fmt::format("index {} is missing from the layout", digest), path, {}};
      auto j = parse(it->second, "image index " + digest, path);
      if (!j) return j.error();
      if (Status s = collectManifests(j.value()->root, blobs, path, out, depth + 1); !s) return s;
      continue;
    }
    Candidate c{digest, std::nullopt};
    if (const Node* p = get(m, "platform"))
      c.platform = Platform{std::string(getStr(p, "os")), std::string(getStr(p, "architecture")),
                            std::string(getStr(p, "variant"))};
    out.push_back(std::move(c));
  }
  return {};
}

Status fromOci(ImageSource& img, const Blobs& blobs, const Platform& want) {
  auto it = blobs.find("index.json");
  if (it == blobs.end()) return notAnImage(img.path, "no index.json");
  auto index = parse(it->second, "index.json", img.path);
  if (!index) return index.error();
  std::vector<Candidate> cands;
  if (Status s = collectManifests(index.value()->root, blobs, img.path, cands, 0); !s) return s;
  if (cands.empty()) return Error{"the image index lists no image manifest", img.path, {}};
  const Candidate* chosen = nullptr;
  for (const Candidate& c : cands) {
    if (c.platform) img.platforms.push_back(c.platform->str());
    if (!chosen && (!c.platform || c.platform->satisfies(want))) chosen = &c;
  }
  if (cands.size() == 1 && !chosen) chosen = &cands[0];
  if (!chosen) {
    std::string offered;
    for (const std::string& p : img.platforms) offered += (offered.empty() ? "" : ", ") + p;
    return Error{fmt::format("no {} image in the index; it offers {} (choose with --platform)",
                             want.str(), offered),
                 img.path,
                 {}};
  }
  img.manifest_digest = chosen->digest;
  auto m = blobs.find(blobPath(chosen->digest));
  if (m == blobs.end())
    return Error{
        fmt::format("manifest {} is missing from the layout", chosen->digest), img.path, {}};
  auto manifest = parse(m->second, "manifest " + chosen->digest, img.path);
  if (!manifest) return manifest.error();
  const Node* root = manifest.value()->root;
  img.config_digest = std::string(getStr(get(root, "config"), "digest"));
  auto c = blobs.find(blobPath(img.config_digest));
  if (c == blobs.end())
    return Error{
        fmt::format("config {} is missing from the layout", img.config_digest), img.path, {}};
  img.config = c->second;
  for (const Node* l : seqOf(get(root, "layers"))) {
    LayerInfo li;
    li.digest = std::string(getStr(l, "digest"));
    li.media_type = std::string(getStr(l, "mediaType"));
    li.member = blobPath(li.digest);
    if (const Node* sz = get(l, "size"))
      if (auto v = sz->asInt()) li.size = *v;
    if (li.member.empty())
      return Error{fmt::format("layer digest '{}' is not ALGORITHM:HEX", li.digest), img.path, {}};
    img.layers.push_back(std::move(li));
  }
  return {};
}

Status fromDockerManifest(ImageSource& img, const Blobs& blobs) {
  auto j = parse(blobs.at("manifest.json"), "manifest.json", img.path);
  if (!j) return j.error();
  auto items = seqOf(j.value()->root);
  if (items.empty()) return Error{"manifest.json lists no image", img.path, {}};
  const Node* m = items[0];  // `docker save` of several images: the first
  std::string config_member = normaliseTarPath(getStr(m, "Config"));
  for (const Node* t : seqOf(get(m, "RepoTags"))) img.repo_tags.emplace_back(t->str());
  auto c = blobs.find(config_member);
  if (c == blobs.end())
    return Error{
        fmt::format("image config {} is missing from the archive", config_member), img.path, {}};
  img.config = c->second;
  if (config_member.starts_with("blobs/"))
    img.config_digest = config_member.substr(6, config_member.find('/', 6) - 6) + ":" +
                        config_member.substr(config_member.rfind('/') + 1);
  for (const Node* l : seqOf(get(m, "Layers"))) {
    LayerInfo li;
    li.member = normaliseTarPath(l->str());
    if (li.member.starts_with("blobs/")) {
      size_t slash = li.member.find('/', 6);
      li.digest = li.member.substr(6, slash - 6) + ":" + li.member.substr(slash + 1);
    }
    img.layers.push_back(std::move(li));
  }
  return {};
}

std::string readWhole(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

Status applyConfig(ImageSource& img) {
  auto j = parse(img.config, "image config", img.path);
  if (!j) return j.error();
  const Node* root = j.value()->root;
  if (auto os = getStr(root, "os"); !os.empty()) img.platform.os = std::string(os);
  if (auto a = getStr(root, "architecture"); !a.empty()) img.platform.architecture = std::string(a);
  img.platform.variant = std::string(getStr(root, "variant"));
  size_t i = 0;
  for (const Node* d : seqOf(get(get(root, "rootfs"), "diff_ids"))) {
    if (i < img.layers.size()) {
      if (!registry::isValidDigest(d->str()))
        return Error{fmt::format("the image config's rootfs.diff_ids[{}] '{}' is not a digest "
                                 "(sha256:<64 hex digits>)",
                                 i, d->str()),
                     img.path,
                     {}};
      img.layers[i].diff_id = std::string(d->str());
      if (img.layers[i].digest.empty()) img.layers[i].digest = img.layers[i].diff_id;
    }
    ++i;
  }
  if (i != img.layers.size())
    return Error{fmt::format("the config lists {} layers, the manifest {}", i, img.layers.size()),
                 img.path,
                 {}};
  return {};
}

Result<ImageSource> openImage(const std::string& path, const Platform& want) {
  namespace fs = std::filesystem;
  ImageSource img;
  img.path = path;
  std::error_code ec;
  Blobs blobs;
  if (fs::is_directory(path, ec)) {
    img.format = "oci-dir";
    if (!fs::exists(fs::path(path) / "oci-layout") || !fs::exists(fs::path(path) / "index.json"))
      return notAnImage(path, "a directory without oci-layout and index.json");
    blobs["index.json"] = readWhole(fs::path(path) / "index.json");
    // Manifests and configs are small: read the blobs that are JSON.
    for (const auto& e : fs::recursive_directory_iterator(fs::path(path) / "blobs", ec)) {
      if (!e.is_regular_file() || e.file_size() > kMaxJson) continue;
      std::string content = readWhole(e.path());
      if (looksJson(content))
        blobs[fs::relative(e.path(), path).generic_string()] = std::move(content);
    }
  } else {
    if (!fs::exists(path, ec)) return Error{"no such file or directory", path, {}};
    auto r = TarReader::openFile(path);
    if (!r) return notAnImage(path, r.error().message);
    TarEntry e;
    size_t entries = 0;
    while (r.value()->next(e)) {
      ++entries;
      if (e.type != TarEntry::Type::kFile || e.size > static_cast<int64_t>(kMaxJson)) continue;
      bool named = e.path == "manifest.json" || e.path == "index.json" || e.path == "oci-layout";
      if (!named && !e.path.ends_with(".json") && !e.path.starts_with("blobs/")) continue;
      auto data = r.value()->read(kMaxJson);
      if (!data) break;
      if (named || looksJson(*data)) blobs[e.path] = std::move(*data);
    }
    if (r.value()->error()) return notAnImage(path, r.value()->error()->message);
    if (entries == 0) return notAnImage(path, "an empty or unreadable archive");
    if (blobs.count("manifest.json")) {
      img.format = "docker-archive";
    } else if (blobs.count("index.json")) {
      img.format = "oci-archive";
    } else {
      return notAnImage(path, "no manifest.json or index.json inside");
    }
  }
  if (img.format == "docker-archive") {
    if (Status s = fromDockerManifest(img, blobs); !s) return s.error();
    // Docker 25+ writes an OCI index too: it names the manifest digest.
    if (blobs.count("index.json")) {
      ImageSource oci;
      oci.path = path;
      if (fromOci(oci, blobs, want)) {
        img.manifest_digest = oci.manifest_digest;
        img.platforms = oci.platforms;
      }
    }
  } else {
    if (Status s = fromOci(img, blobs, want); !s) return s.error();
  }
  if (Status s = applyConfig(img); !s) return s.error();
  return img;
}

namespace {

using LayerFn = std::function<Status(size_t, TarReader&)>;

// A bounded hand-over of byte chunks from one thread to another (a download to the decoder, the
// decoder to the tar reader): the producer waits when the consumer is 8 MiB behind, so no whole
// layer is ever held in memory.
class ChunkPipe {
 public:
  // Producer: false when the reader has given up (stop downloading).
  bool push(std::string_view bytes) {
    std::unique_lock<std::mutex> lock(mu_);
    space_.wait(lock, [&] { return cancelled_ || buffered_ < kCap; });
    if (cancelled_) return false;
    chunks_.emplace_back(bytes);
    buffered_ += bytes.size();
    ready_.notify_one();
    return true;
  }
  void close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    ready_.notify_all();
  }
  // Consumer: the next chunk, or empty at the end.
  std::string_view pop() {
    std::unique_lock<std::mutex> lock(mu_);
    ready_.wait(lock, [&] { return !chunks_.empty() || closed_; });
    if (chunks_.empty()) return {};
    current_ = std::move(chunks_.front());
    chunks_.pop_front();
    buffered_ -= current_.size();
    space_.notify_one();
    return current_;
  }
  void cancel() {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_ = true;
    chunks_.clear();
    buffered_ = 0;
    space_.notify_all();
  }

 private:
  static constexpr size_t kCap = size_t{8} << 20;
  std::mutex mu_;
  std::condition_variable ready_, space_;
  std::deque<std::string> chunks_;
  std::string current_;
  size_t buffered_ = 0;
  bool closed_ = false, cancelled_ = false;
};

// Reads layer i with `fn` from its blob's compressed chunks (`compressed`), in two stages on two
// threads, so that one large layer keeps two cores busy: this thread's LayerStream decompresses
// (ISA-L for gzip) into a pipe, from which a second thread hashes the uncompressed bytes (with
// img.verify_diff_ids) and reads them as a tar with `fn`. After `fn`, the rest of the stream
// (the tar's trailing blocks) is hashed too, and the sum must equal the layer's diff ID from the
// image config: the same single pass reads the files and proves they are the layer's.
Status readLayerBlob(Pull compressed, const std::string& name, const ImageSource& img, size_t i,
                     const LayerFn& fn) {
  bool verify = img.verify_diff_ids;
  ChunkPipe plain;
  Status read;
  std::string got;
  std::thread reader([&] {
    registry::Sha256 hash;
    auto tar = TarReader::openStream(
        [&] {
          std::string_view c = plain.pop();
          if (verify) hash.update(c);
          return c;
        },
        name);
    read = tar ? fn(i, *tar.value()) : Status(tar.error());
    if (read && tar && tar.value()->error()) read = *tar.value()->error();
    if (read && verify) {
      for (std::string_view c = plain.pop(); !c.empty(); c = plain.pop()) hash.update(c);
      got = hash.digest();
    }
    plain.cancel();  // the decoder stops here if the reader stopped early
  });
  LayerStream stream(std::move(compressed), name);
  for (std::string_view c = stream.next(); !c.empty(); c = stream.next())
    if (!plain.push(c)) break;
  plain.close();
  reader.join();
  if (stream.error()) return *stream.error();  // says more than the tar reader's view of it
  if (!read || !verify) return read;
  const std::string& want = img.layers[i].diff_id;
  if (got != want)
    return Error{fmt::format("layer {}: the uncompressed content is {} but the image config says "
                             "its diff ID is {}: the layer is corrupt or was tampered with",
                             i, got, want.empty() ? "(none)" : want),
                 name,
                 {}};
  return {};
}

Status readLayerFile(const ImageSource& img, size_t i, const LayerFn& fn) {
  std::string path = (std::filesystem::path(img.path) / img.layers[i].member).string();
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!f) return Error{fmt::format("cannot open the layer: {}", std::strerror(errno)), path, {}};
  std::string buf(256 * 1024, '\0');
  bool failed = false;
  Status s = readLayerBlob(
      [&]() -> std::string_view {
        size_t n = std::fread(buf.data(), 1, buf.size(), f.get());
        failed = failed || std::ferror(f.get());
        return std::string_view(buf.data(), n);
      },
      path, img, i, fn);
  if (failed) return Error{"reading the layer failed (an I/O error)", path, {}};
  return s;
}

// In a tarball the layers are members: one pass reads each member once (a layer listed twice
// is read again in a later pass). `done` marks layers already read.
Status tarballPasses(const ImageSource& img, const LayerFn& fn, std::vector<bool> done) {
  size_t left = static_cast<size_t>(std::count(done.begin(), done.end(), false));
  while (left > 0) {
    auto outer = TarReader::openFile(img.path);
    if (!outer) return outer.error();
    size_t before = left;
    TarEntry e;
    while (left > 0 && outer.value()->next(e)) {
      if (e.type != TarEntry::Type::kFile) continue;
      for (size_t i = 0; i < img.layers.size(); ++i) {
        if (done[i] || img.layers[i].member != e.path) continue;
        Status s = readLayerBlob([&] { return outer.value()->readChunk(); },
                                 img.path + ":" + e.path, img, i, fn);
        if (outer.value()->error()) s = *outer.value()->error();
        if (!s) return s;
        done[i] = true;
        --left;
        break;  // the member's data is consumed
      }
    }
    if (outer.value()->error()) return *outer.value()->error();
    if (left == before) {
      for (size_t i = 0; i < img.layers.size(); ++i)
        if (!done[i])
          return Error{
              fmt::format("layer {} ({}) is missing from the archive", i, img.layers[i].member),
              img.path,
              {}};
    }
  }
  return {};
}

}  // namespace

namespace {

// One layer from a registry: downloaded on its own thread into the pipe, read as a tar on this
// one. The rest of the blob is drained after the reader is done, so its digest is always
// checked; a digest or size mismatch fails the layer even when the tar read fine.
Status readRemoteLayer(const ImageSource& img, size_t i, const LayerFn& fn) {
  ChunkPipe pipe;
  Status fetched;
  std::thread download([&] {
    fetched = img.fetch_layer(i, [&](std::string_view b) { return pipe.push(b); });
    pipe.close();
  });
  Status s = readLayerBlob([&] { return pipe.pop(); },
                           fmt::format("{}@{}", img.path, img.layers[i].digest), img, i, fn);
  if (s) {
    while (!pipe.pop().empty()) {
    }
  } else {
    pipe.cancel();
  }
  download.join();
  if (!fetched) return fetched;  // the transfer's own error says more than a broken tar
  return s;
}

}  // namespace

Status forEachLayer(const ImageSource& img, const LayerFn& fn, unsigned threads,
                    const std::vector<bool>* skip) {
  size_t n = img.layers.size();
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(std::min<size_t>(threads, n));
  if (img.format == "registry") {
    std::vector<Status> st(n);
    std::atomic<bool> failed{false};
    parallelFor(n, std::max(1u, threads), [&](size_t i) {
      if (failed || img.layers[i].foreign || (skip && i < skip->size() && (*skip)[i])) return;
      st[i] = readRemoteLayer(img, i, fn);
      if (!st[i]) failed = true;
    });
    for (Status& s : st)
      if (!s) return s;
    return {};
  }
  if (img.format == "oci-dir") {
    std::vector<Status> st(n);
    parallelFor(n, threads, [&](size_t i) { st[i] = readLayerFile(img, i, fn); });
    for (Status& s : st)
      if (!s) return s;
    return {};
  }
  if (threads <= 1) return tarballPasses(img, fn, std::vector<bool>(n, false));
  // Each worker walks the tarball with its own reader and takes the next layer nobody has
  // claimed; the others skip over it (a seek in an uncompressed tarball).
  std::unique_ptr<std::atomic<bool>[]> claimed(new std::atomic<bool>[n]);
  for (size_t i = 0; i < n; ++i) claimed[i] = false;
  std::vector<Status> st(threads);
  std::vector<std::vector<size_t>> read(threads);
  std::atomic<bool> failed{false};
  parallelFor(threads, threads, [&](size_t w) {
    auto outer = TarReader::openFile(img.path);
    if (!outer) {
      st[w] = outer.error();
      failed = true;
      return;
    }
    TarEntry e;
    while (!failed && outer.value()->next(e)) {
      if (e.type != TarEntry::Type::kFile) continue;
      for (size_t i = 0; i < n; ++i) {
        if (img.layers[i].member != e.path || claimed[i].exchange(true)) continue;
        Status s = readLayerBlob([&] { return outer.value()->readChunk(); },
                                 img.path + ":" + e.path, img, i, fn);
        if (outer.value()->error()) s = *outer.value()->error();
        if (!s) {
          st[w] = s;
          failed = true;
          return;
        }
        read[w].push_back(i);
        break;
      }
    }
    if (outer.value()->error()) {
      st[w] = *outer.value()->error();
      failed = true;
    }
  });
  for (Status& s : st)
    if (!s) return s;
  // What no worker read (a layer listed twice, or missing) goes through the sequential passes,
  // which read it or say it is missing.
  std::vector<bool> done(n, false);
  for (const auto& r : read)
    for (size_t i : r) done[i] = true;
  if (std::all_of(done.begin(), done.end(), [](bool d) { return d; })) return {};
  return tarballPasses(img, fn, std::move(done));
}

}  // namespace kh::image
