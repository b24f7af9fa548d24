// Finding an image's manifest, config and layers in what the user gave: a `docker save`
// tarball (the legacy layout with manifest.json, and Docker 25+'s OCI layout that also carries
// one), an OCI image layout tarball, or an OCI image layout directory. A multi-platform index
// is resolved to the platform asked for (default linux/amd64), and the platforms it offers are
// named when that one is missing. Anything else is an error that says what was expected.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/result.h"
#include "image/tar_reader.h"
#include "registry/reference.h"

namespace kh::image {

// Platforms are the registry's (os/arch[/variant], default linux/amd64).
using registry::parsePlatform;
using registry::Platform;

struct LayerInfo {
  std::string digest;   // of the blob as stored (manifest), or the diff ID (legacy layout)
  std::string diff_id;  // of the uncompressed tar, from the config's rootfs
  std::string media_type;
  std::string member;    // path inside the archive or directory
  int64_t size = 0;      // as the manifest says (0 when unknown)
  bool foreign = false;  // non-distributable: not fetched, not read, contributes no files
};

struct ImageSource {
  std::string path;             // the file, directory, or the reference as canonical
  std::string format;           // docker-archive, oci-archive, oci-dir, registry
  std::string index_digest;     // registry: the index the reference named, if it named one
  std::string manifest_digest;  // empty for the legacy layout
  std::string config_digest;
  std::vector<std::string> repo_tags;
  Platform platform;
  std::vector<std::string> platforms;  // offered by the index (empty without one)
  std::string config;                  // the image config JSON
  std::vector<LayerInfo> layers;       // in order, base first
  // registry: streams layer i's blob (compressed, as stored) into the sink, checking its
  // digest; safe to call from several threads at once.
  std::function<Status(size_t, const std::function<bool(std::string_view)>&)> fetch_layer;
  std::vector<std::string> warnings;  // registry: credentials refused, foreign layers, ...
  // Hash each layer's uncompressed content as it is read and fail unless it is the layer's diff
  // ID. Always on for registries; for local archives the caller decides (it costs reading every
  // byte of an uncompressed layer, whose unneeded file data is otherwise skipped by seeking).
  bool verify_diff_ids = true;
};

Result<ImageSource> openImage(const std::string& path, const Platform& want);

// Reads img.config (JSON) into img: the platform it declares and each layer's diff ID, in order.
// Fails, naming img.path, on a config that is not JSON, a diff ID that is not a digest, or a
// layer count that differs from img.layers'. Used for every source: archives, layouts, registries.
Status applyConfig(ImageSource& img);

// Calls `fn(i, reader)` for each layer i of the image with a reader on its (decompressed) tar,
// on up to `threads` threads (0: one per core) at once: `fn` must be safe to call concurrently
// for different layers. Layers come in no particular order; the first error stops the rest.
// `skip` (when given) marks layers not to read at all: a registry does not download them.
// With img.verify_diff_ids, a layer whose content is not its diff ID is an error. Foreign
// layers are never read.
Status forEachLayer(const ImageSource& img, const std::function<Status(size_t, TarReader&)>& fn,
                    unsigned threads = 1, const std::vector<bool>* skip = nullptr);

}  // namespace kh::image
