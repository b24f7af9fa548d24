// Loader: input paths -> SourceFiles holding their bytes, arena, documents and Objects.
//
// Directories are walked recursively for .yaml, .yml and .json files (hidden directories
// skipped, symlinked directories not followed, order sorted); a path named explicitly is read
// whatever its extension; "-" is standard input. Each SourceFile owns everything its Objects
// point into, so it must outlive them. Loading one file is independent of every other (the scan
// loads in parallel).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/arena.h"
#include "base/diagnostic.h"
#include "base/result.h"
#include "load/yaml_reader.h"
#include "model/object.h"

namespace kh {

struct LoadOptions {
  LoadLimits limits;
  std::vector<std::string> pod_spec_paths;  // extra pod-template paths for custom kinds
};

struct SourceFile {
  std::string path;    // as the user named it ("<stdin>" for -)
  std::string buffer;  // the bytes, owned
  Arena arena;
  std::vector<Object> objects;
  std::vector<Diagnostic> diagnostics;
  std::optional<Error> error;  // the file could not be (fully) read or parsed
  uint32_t documents = 0;      // non-empty documents seen
  uint32_t skipped = 0;        // documents that are not Kubernetes objects
};

// Expands paths into the list of files to read. A path that does not exist is an Error.
Result<std::vector<std::string>> collectInputs(const std::vector<std::string>& paths);

// What an input file is read as.
enum class InputKind : uint8_t { kManifest, kDockerfile };

struct InputFile {
  std::string path;
  InputKind kind = InputKind::kManifest;
};

struct CollectOptions {
  bool manifests = true;     // .yaml, .yml and .json files in directories
  bool dockerfiles = false;  // Dockerfile, Containerfile, *.Dockerfile, Dockerfile.* (see
                             // dockerfile::isDockerfileName) in directories and named explicitly
  // Inputs that something else reads (the files of a Helm chart or a kustomization that
  // renders, a packaged chart): left out.
  std::function<bool(const std::string&)> consumed;
};

// The same walk for several kinds of input. A file named explicitly is read whatever its name:
// as a Dockerfile when `dockerfiles` is on and its name is one, else as a manifest (or as a
// Dockerfile when manifests are off).
Result<std::vector<InputFile>> collectInputFiles(const std::vector<std::string>& paths,
                                                 const CollectOptions& opts);

// Is `name` (a path or a base name) a Dockerfile's name: Dockerfile, Containerfile (any case of
// the first letter), NAME.Dockerfile, Dockerfile.NAME?
bool isDockerfileName(std::string_view name);

// Reads `path` ("-" for stdin) into out.path and out.buffer; false (with out.error) on failure.
bool readSource(const std::string& path, const LoadOptions& opts, SourceFile& out);

// Reads `path` ("-" for stdin) and parses it into `out` (path, buffer, objects, ...).
void loadFile(const std::string& path, const LoadOptions& opts, SourceFile& out);

// Parses `out.buffer` (already filled) into objects. Used by loadFile, tests and fuzzers.
void parseSource(const LoadOptions& opts, SourceFile& out);

}  // namespace kh
