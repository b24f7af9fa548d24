// A package found in an image, whatever its ecosystem, and what the per-layer analysers return.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kh::image {

struct Package {
  std::string name;     // maven: "group:artifact"; golang: the module path
  std::string version;  // rpm: "version-release" (the epoch is kept apart)
  std::string type;  // the purl type: deb, apk, rpm, npm, pypi, maven, golang, cargo, gem, composer
  std::string arch;
  std::string epoch;                        // rpm, when set
  std::string source_name, source_version;  // dpkg Source, apk origin, rpm source package
  std::vector<std::string> licenses;        // SPDX identifiers where known, else as declared
  std::string purl;                         // filled once the OS is known
  std::string path;                         // the file the package was read from
  uint32_t layer = 0;                       // the layer that introduced it
};

// What one file of one layer said: the packages it lists, and the paths it declares owned by
// OS packages (dpkg .list files, apk R: lines, rpm file lists) so that language packages inside
// OS packages are not reported twice.
struct FileFindings {
  std::vector<Package> packages;
  std::vector<std::string> owned;
  // A Debian machine-readable copyright file: the licences of the package it documents.
  std::vector<std::string> copyright_licenses;
};

// A secret in a file of a layer (the file may be gone from the final filesystem: a deleted
// secret is still in the image).
struct SecretFinding {
  std::string path;
  uint32_t line = 0;
  std::string rule_id, title;  // a known-format rule, or credential-assignment
  std::string redacted;        // the match, redacted
  std::string fingerprint;     // of the value, to report a file copied into several layers once
  uint32_t layer = 0;
  bool deleted = false;  // not in the final filesystem (set when the inventory is assembled)
};

struct SecretStats {
  uint64_t files = 0;           // text files scanned
  uint64_t skipped_binary = 0;  // files with NUL bytes
  uint64_t skipped_large = 0;   // files over the size cap
  uint64_t skipped_path = 0;    // documentation, locales, headers: never configuration
};

}  // namespace kh::image
