// Diagnostic: input that is usable but suspicious (DESIGN.md §3), with a stable code.
// Collected per file by the loader and per run by the CLI; --strict promotes them to errors.
#pragma once

#include <string>

#include "base/source_pos.h"

namespace kh {

struct Diagnostic {
  std::string code;     // stable, kebab-case: duplicate-key, not-an-object, ...
  std::string message;  // one sentence, no trailing period
  std::string file;
  SourcePos pos;
};

}  // namespace kh
