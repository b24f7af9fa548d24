// YAML stream reader: bytes -> immutable Node trees in an Arena, read as Kubernetes reads YAML.
//
// JSON input goes through the same reader (JSON is YAML flow syntax); see docs/design/yaml.md.
// Limits (size, depth, alias expansion) protect against hostile input. The reader never throws
// and never aborts: a syntax error ends the stream with an Error naming line and column, and
// the documents read before it are kept.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "base/arena.h"
#include "base/diagnostic.h"
#include "base/result.h"
#include "model/node.h"

namespace kh {

struct LoadLimits {
  size_t max_file_bytes = 64u << 20;        // per input file
  uint32_t max_depth = 200;                 // nesting of maps and sequences
  uint64_t max_expanded_nodes = 2'000'000;  // per document: nodes aliases add beyond the written
  uint64_t max_document_nodes = 8'000'000;  // per document: nodes written (a 64 MB export ~ 6M)
};

struct ParsedDocument {
  const Node* root = nullptr;  // nullptr for an empty document
  uint32_t index = 0;          // 0-based position in the stream
  SourcePos start;
  std::string_view helm_source;  // view into the input buffer
};

struct ParseOutput {
  std::vector<ParsedDocument> documents;
  std::optional<Error> error;
};

// Parses every document of `buffer`. `file` names the input in errors and diagnostics.
// Node strings are copied into `arena`; helm_source views point into `buffer`.
ParseOutput parseYamlStream(std::string_view buffer, std::string_view file, Arena& arena,
                            const LoadLimits& limits, std::vector<Diagnostic>& diagnostics);

}  // namespace kh
