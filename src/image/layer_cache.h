// A cache of what the analysers found in each layer, keyed by the layer's diff ID (the digest of
// its uncompressed tar, from the image config) and the analyser version, so a base layer shared
// by many images is read once.
//
// Entries are written to a temporary file and renamed into place, so processes sharing the
// directory never see a partial entry (and the temporary files of a killed process are removed by
// the next one that stores); each entry carries a checksum, and one that does not
// verify (truncated, corrupt, another version) is a miss, never an error. Only layers whose
// content was hashed and found to be their diff ID are stored; but a layer found in the cache is
// not read, so its claim is not re-checked: an untrusted image scanned against a shared cache
// could claim another layer's diff ID, and its results. That is why the cache is opt-in
// (`--cache-dir`, or KUBEHARDEN_CACHE_DIR), for pipelines that scan their own images again and
// again.
#pragma once

#include <optional>
#include <string>

#include "image/filesystem.h"

namespace kh::image {

// Bumped whenever an analyser changes what it finds, so older entries stop matching.
constexpr int kAnalyserVersion = 1;

class LayerCache {
 public:
  // `dir` is created when missing; an empty dir disables the cache.
  explicit LayerCache(std::string dir) : dir_(std::move(dir)) {}
  // The directory KUBEHARDEN_CACHE_DIR names, or empty (no cache).
  static std::string defaultDir();
  bool enabled() const { return !dir_.empty(); }

  // `variant` names the analyser set (with or without secrets).
  std::optional<LayerFiles> load(std::string_view diff_id, std::string_view variant) const;
  void store(std::string_view diff_id, std::string_view variant, const LayerFiles& layer) const;

 private:
  std::string pathFor(std::string_view diff_id, std::string_view variant) const;
  std::string dir_;
};

// The serialised form (exposed for tests and the fuzzer).
std::string serialiseLayer(const LayerFiles& layer);
std::optional<LayerFiles> deserialiseLayer(std::string_view bytes);

}  // namespace kh::image
