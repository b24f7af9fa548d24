// Dockerfiles as inputs of a scan: read, parsed into the SourceFile's arena, and represented by
// one Object of kind "Dockerfile" (apiVersion kubeharden.io/v1, name: the path as given) whose
// `dockerfile` points at the model, so the engine's dispatch, findings, suppressions and
// reports work for them as for manifests. Parse errors are the SourceFile's error (file:line);
// the file then has no object.
#pragma once

#include <string>

#include "load/loader.h"

namespace kh::dockerfile {

constexpr std::string_view kKind = "Dockerfile";
constexpr std::string_view kApiVersion = "kubeharden.io/v1";

// Reads `path` ("-" for stdin) and parses it into `out`.
void loadDockerfile(const std::string& path, const LoadOptions& opts, SourceFile& out);

// Parses `out.buffer` (already filled, `out.path` set) into `out`.
void parseDockerfileSource(const LoadOptions& opts, SourceFile& out);

}  // namespace kh::dockerfile
