// What an image holds: its operating system and its packages (OS and language), assembled from
// what the per-layer analysers found in the files that survive into the final filesystem.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "image/filesystem.h"
#include "image/package.h"

namespace kh::image {

struct OsInfo {
  std::string id;          // os-release ID: debian, ubuntu, alpine, rhel, almalinux, ...
  std::string version_id;  // "12", "3.19.1"
  std::string pretty_name;
  std::string source;  // the file it was read from
};

struct Inventory {
  std::optional<OsInfo> os;
  std::vector<Package> packages;  // OS packages first (by name), then language packages (by path)
  size_t dropped_owned = 0;       // language packages inside OS packages, not reported twice
};

// The files the OS identification reads (kept in LayerFiles::captured).
CaptureRule inventoryCaptureRule();

std::optional<OsInfo> detectOs(const Filesystem& fs);

// Everything the analysers found, for the files present in the final filesystem: each package
// with the layer that introduced it, licences, and its purl (with the distro qualifier).
Inventory buildInventory(const Filesystem& fs);

// The purl of a package (purl-spec) given the image's OS.
std::string purlOf(const Package& p, const std::optional<OsInfo>& os);

// Parses os-release text (KEY=VALUE, values optionally quoted, # comments).
OsInfo parseOsRelease(std::string_view text);

}  // namespace kh::image
