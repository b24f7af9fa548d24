// The Dockerfile parser: the full syntax BuildKit's Dockerfile frontend accepts, into the model of
// model.h.
//
// Parser directives (syntax, escape, check) at the top; comments; line continuations with the
// escape character (backslash or backtick), comment and blank lines inside them dropped; heredocs
// (`<<EOF`, `<<-EOF`, quoted delimiters, several per instruction) for RUN, COPY and ADD; JSON
// (exec) and shell forms; flags before the arguments; ONBUILD's inner instruction; ENV, LABEL
// and ARG pairs; FROM with `AS` names and `--platform`, its image with the ARGs declared before
// the first FROM substituted. Instructions in any letter case. No I/O; the model points into
// `text` and `arena`, which must outlive it. Thread-safe (no shared state).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/arena.h"
#include "base/diagnostic.h"
#include "base/result.h"
#include "dockerfile/model.h"

namespace kh::dockerfile {

struct ParseLimits {
  size_t max_instructions = 100000;
  size_t max_line_bytes = 1 << 20;  // one logical instruction, continuations joined
};

// Parses `text`. Errors (an unknown instruction, a FROM without an image, an unterminated
// heredoc, a bad escape directive, SHELL not in JSON form) name `file` and the line; suspicious
// input that BuildKit accepts (an empty file, an empty continuation line, a flag BuildKit does
// not know) goes to `diagnostics`.
Result<const Dockerfile*> parse(std::string_view text, std::string_view file, Arena& arena,
                                std::vector<Diagnostic>& diagnostics,
                                const ParseLimits& limits = {});

// A build variable (ARG or ENV) for expand(): `set` is false for an ARG without a default.
struct Var {
  std::string_view name, value;
  bool set = true;
};

// Dockerfile variable substitution as BuildKit does it for FROM, COPY, ENV, ...: `$NAME`,
// `${NAME}`, `${NAME:-word}`, `${NAME:+word}`, `${NAME-word}`, `${NAME+word}`, and the escape
// character before `$` for a literal `$`. The last entry of `vars` with a name wins; unknown
// variables expand to nothing.
std::string expand(std::string_view s, char escape, std::span<const Var> vars);

}  // namespace kh::dockerfile
