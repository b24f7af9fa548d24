// What an image holds: its operating system and its OS packages, read from the final
// filesystem. Analysers declare the files they need (captureRule) before the layers are read.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "image/filesystem.h"

namespace kh::image {

struct OsInfo {
  std::string id;          // os-release ID: debian, ubuntu, alpine, ...
  std::string version_id;  // "12", "3.19.1"
  std::string pretty_name;
  std::string source;  // the file it was read from
};

struct Package {
  std::string name, version, type;  // type: deb
  std::string arch;
  std::string source_name, source_version;  // the source package (dpkg), for matching
  std::string purl;
  uint32_t layer = 0;  // the layer holding the database entry that lists it
};

// The files the analysers read.
CaptureRule inventoryCaptureRule();

std::optional<OsInfo> detectOs(const Filesystem& fs);

// dpkg: /var/lib/dpkg/status (installed entries only) and distroless /var/lib/dpkg/status.d/*.
std::vector<Package> dpkgPackages(const Filesystem& fs, const std::optional<OsInfo>& os);

// Parses os-release text (KEY=VALUE, values optionally quoted, # comments).
OsInfo parseOsRelease(std::string_view text);

}  // namespace kh::image
