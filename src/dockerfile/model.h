// The Dockerfile model: what parser.h makes of a Dockerfile, and what the checks in
// checks/dockerfile/ read.
//
// Everything lives in the Arena of the file that was parsed (spans of arena arrays, views into the
// file's bytes or the arena), so the model is trivially destructible and freed with the arena; it
// is immutable after parsing and thread-safe to read. Positions are 1-based line and column of
// the source file; the text of an instruction whose arguments continue over several lines is kept
// joined (as BuildKit joins it) with a map back to the lines (Instruction::posAt).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "base/source_pos.h"
#include "dockerfile/shell.h"

namespace kh::dockerfile {

enum class Keyword : uint8_t {
  kUnknown,
  kAdd,
  kArg,
  kCmd,
  kCopy,
  kEntrypoint,
  kEnv,
  kExpose,
  kFrom,
  kHealthcheck,
  kLabel,
  kMaintainer,
  kOnbuild,
  kRun,
  kShell,
  kStopsignal,
  kUser,
  kVolume,
  kWorkdir,
};

// "FROM", "RUN", ...; "" for kUnknown.
std::string_view keywordName(Keyword k);
// The keyword of an instruction word in any letter case; kUnknown when it is none.
Keyword keywordOf(std::string_view word);

// A word of the input with the position of its first character. `text` has quotes and escapes
// removed where the instruction's syntax removes them.
struct Word {
  std::string_view text;
  SourcePos pos;
};

// `--name=value` or `--name` before an instruction's arguments.
struct Flag {
  std::string_view name;  // without the dashes
  std::string_view value;
  bool has_value = false;
  SourcePos pos;
};

// ENV, LABEL and ARG entries: `key=value`, `key value` (legacy ENV/LABEL), `key` (ARG).
struct Pair {
  Word key;
  Word value;
  bool has_value = false;
};

// A here-document of RUN, COPY or ADD: `<<EOF`, `<<-EOF` (leading tabs stripped), `<<"EOF"` or
// `<<'EOF'` (quoted: no expansion). `body` holds its lines, each ending in a newline.
struct Heredoc {
  std::string_view delimiter;
  std::string_view body;
  SourcePos pos;       // of the `<<`
  SourcePos body_pos;  // first body line, column 1
  bool strip_tabs = false;
  bool quoted = false;
};

// args[offset...] starts at `pos` and runs on that physical line.
struct Segment {
  uint32_t offset = 0;
  SourcePos pos;
};

struct Instruction {
  Keyword keyword = Keyword::kUnknown;
  std::string_view name;  // as written ("run", "Run", "RUN")
  SourcePos pos;          // of the keyword
  uint32_t end_line = 0;  // last line, heredoc bodies included
  // The arguments after the flags, continuation lines joined, comment lines inside dropped.
  std::string_view args;
  std::span<const Segment> segments;  // positions of `args`
  std::span<const Flag> flags;
  bool exec_form = false;       // the arguments are a JSON array of strings
  std::span<const Word> words;  // exec form: the strings; otherwise args split at blanks
  std::span<const Pair> pairs;  // ENV, LABEL, ARG
  std::span<const Heredoc> heredocs;
  const Instruction* inner = nullptr;  // ONBUILD's instruction
  int32_t stage = -1;                  // index in Dockerfile::stages; -1 before the first FROM
  // RUN in shell form under a POSIX shell (the default /bin/sh, or a SHELL of sh, bash, ash,
  // dash, ksh, zsh, busybox): its script split into commands (shell.h), the commands of a
  // heredoc that is the script (`RUN <<EOF`, `RUN bash <<EOF`) included (Command::heredoc).
  // Under another SHELL (PowerShell, cmd) `posix_shell` is false and there are no commands.
  std::span<const shell::Command> commands;
  bool posix_shell = true;
  std::string_view shell_error;  // the script could not be read whole (commands read so far kept)
  SourcePos shell_error_pos;

  // The position of args[offset] (the end of the last segment past the end).
  SourcePos posAt(size_t offset) const;
  // The position of a word of one of `commands`.
  SourcePos posOf(const shell::Command& c, const shell::Word& w) const;
  const Flag* flag(std::string_view name) const {
    for (const Flag& f : flags)
      if (f.name == name) return &f;
    return nullptr;
  }
};

struct Stage {
  uint32_t from = 0;           // index of its FROM in Dockerfile::instructions
  uint32_t end = 0;            // one past its last instruction
  Word image;                  // as written
  std::string_view image_ref;  // with the ARGs declared before the first FROM substituted
  Word name;                   // `AS name` (empty when none)
  std::string_view platform;   // --platform value, empty when none
  int32_t base_stage = -1;     // when the image names an earlier stage: its index
};

// `# name=value` at the top of the file (syntax, escape, check).
struct Directive {
  std::string_view name;  // lower case
  std::string_view value;
  SourcePos pos;
};

// A comment line (`# ...`), for pragmas such as `# hadolint ignore=DL3008`.
struct Comment {
  std::string_view text;  // after the `#`, trimmed
  SourcePos pos;
};

struct Dockerfile {
  std::span<const Instruction> instructions;  // in order, ONBUILD's inner ones not listed
  std::span<const Stage> stages;
  std::span<const Directive> directives;
  std::span<const Comment> comments;
  char escape = '\\';
};

}  // namespace kh::dockerfile
