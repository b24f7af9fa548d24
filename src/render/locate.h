// Pointing a finding on a rendered object back at its source: the Helm template (from the
// `# Source:` comment) or the kustomize resource file (from the origin annotation), and a line
// in it.
//
// Kustomize resources are plain YAML: the line is exact (the key itself, or the nearest key the
// file has when a patch or transformer added the field). Helm templates are text: the line is
// the offending key's where the template has it literally, else the nearest enclosing key that
// is literal, else the template's first line (see docs/rendering.md). Where the template line
// takes its value from .Values, the values keys are named.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/source_pos.h"
#include "model/object.h"
#include "render/detect.h"

namespace kh::render {

struct Location {
  std::string file;                 // the template or resource file, joined to the root as given
  SourcePos pos;                    // line 0: no line known (the file could not be read)
  bool exact = false;               // the key of the finding itself, not an enclosing one
  std::vector<std::string> values;  // values keys the template line reads, best effort
};

// One field path resolved against an object: keys (which may hold dots) and list indices.
struct PathSegment {
  std::string key;  // empty for an index
  int index = -1;
  std::string item_name;  // the list item's `name`, when it has one
};
std::vector<PathSegment> resolvePath(const Node* root, std::string_view path);

// Finds template lines for findings; caches the files it reads. Not thread-safe.
class Locator {
 public:
  Locator();
  ~Locator();
  // `helm_source` is the `# Source:` path (chart-name/templates/x.yaml).
  Location helm(const Root& root, std::string_view helm_source, const Object& o,
                std::string_view path);
  // `origin` is the resource file as Rendered::origins names it; a field it does not have is
  // looked for in the tree's `patches` (the patch that set it).
  Location kustomize(std::string_view origin, const Object& o, std::string_view path,
                     const std::vector<Patch>* patches = nullptr);

  // Exposed for tests: the line (1-based, with the key column) of `path` in a template's text.
  static Location inTemplate(std::string_view text, const Object& o, std::string_view path);

 private:
  struct File;
  const File* read(const std::string& key, const Root* archive_root, std::string_view entry);
  std::map<std::string, std::unique_ptr<File>> files_;
};

}  // namespace kh::render
