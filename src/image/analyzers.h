// The per-file analysers of image inventory. Each parser is a pure function of a file's bytes
// (tested and fuzzed on its own); inventoryHandlers() wires them to the paths and magic numbers
// they read while a layer streams by, recording what they find in LayerFiles::found.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "image/filesystem.h"
#include "image/package.h"

namespace kh::image {

// The handlers that fill LayerFiles::captured (OS identification files) and ::found (packages).
std::vector<ContentHandler> inventoryHandlers();

// --- OS package databases -----------------------------------------------------------------
// dpkg `status` (only installed entries when `installed_only`) or a distroless status.d file.
std::vector<Package> parseDpkgStatus(std::string_view text, bool installed_only);
// apk `installed`: packages (origin as source), and the files they own.
std::vector<Package> parseApkInstalled(std::string_view text, std::vector<std::string>* owned);
// A Debian copyright file: the licences of a machine-readable one (License: fields), or those
// a free-form one names under /usr/share/common-licenses.
std::vector<std::string> parseDebianCopyright(std::string_view text);

// --- Language packages --------------------------------------------------------------------
std::optional<Package> parseNpmPackageJson(std::string_view text);
// Python core metadata (METADATA, PKG-INFO).
std::optional<Package> parsePythonMetadata(std::string_view text);
// A RubyGems specification (specifications/NAME-VERSION.gemspec).
std::optional<Package> parseGemspec(std::string_view text);
// Composer's vendor/composer/installed.json (format 1: an array; format 2: {"packages": [...]}).
std::vector<Package> parseComposerInstalled(std::string_view text);
// A Java archive (jar, war, ear, ...), nested archives included: Maven pom.properties first,
// then the manifest, then the file name.
std::vector<Package> parseJavaArchive(std::string_view bytes, std::string_view path);
// Is this a Java archive by its name (jar, war, ear, par, sar, jpi, hpi, kar; any case)?
bool isJavaArchive(std::string_view path);

// --- Binaries -----------------------------------------------------------------------------
// Go build information (module path, dependencies with replacements, and the Go toolchain as
// "stdlib") from an ELF executable.
std::vector<Package> parseGoBinary(std::string_view elf);
// Rust dependencies embedded by cargo-auditable (the zlib-compressed `.dep-v0` ELF section).
std::vector<Package> parseRustAuditable(std::string_view elf);

}  // namespace kh::image
