// The shell splitter: a RUN's script as the POSIX shell would read it, into simple commands of
// words, so checks reason about `apt-get install -y --no-install-recommends foo=1.2` as a command
// with flags and arguments rather than as a string.
//
// Quotes ('...', "...", $'...'), backslash escapes, comments, the operators && || ; | |& & and
// newlines, subshells ( ... ) and groups { ...; }, command substitutions $(...) and `...` (whose
// commands are listed too, before the command that holds them), parameter and arithmetic
// expansions (kept as written: their values are not known statically), assignments before a
// command, redirections (their targets are not arguments), here-documents inside the script,
// and the compound commands if/while/until/for/case (their reserved words are not commands).
// Variables are not expanded. Unbalanced quotes or substitutions make the script unparsable:
// the commands read so far are kept and `error` says why. No I/O; thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "base/arena.h"

namespace kh::dockerfile::shell {

struct Word {
  std::string_view text;   // quotes removed, escapes resolved; $VAR and $(...) kept as written
  uint32_t offset = 0;     // where the word starts in the script
  uint32_t length = 0;     // its length in the script, quotes included
  bool quoted = false;     // some part of it was quoted
  bool expansion = false;  // it holds a $ expansion or a substitution: the value is not known
  bool unquoted_expansion = false;  // one of them is outside quotes: split and globbed
};

// How a command is joined to the one after it.
enum class Op : uint8_t { kEnd, kAnd, kOr, kSeq, kPipe, kBackground };

struct Command {
  std::span<const Word> args;         // args[0] is the program (after the assignments)
  std::span<const Word> assignments;  // NAME=value words before it
  Op next = Op::kEnd;
  bool piped_in = false;  // the previous command pipes into this one
  uint16_t depth = 0;     // nesting in subshells, groups and substitutions
  int16_t heredoc = -1;   // read from the instruction's heredoc of that index, not its arguments
  std::string_view name() const { return args.empty() ? std::string_view() : args[0].text; }
};

struct Script {
  std::span<const Command> commands;
  std::string_view error;  // empty when the whole script was read
  uint32_t error_offset = 0;
  bool ok() const { return error.empty(); }
};

// Splits `text`; views point into `text` and `arena`.
Script parse(std::string_view text, Arena& arena);

// The base name of a program word (`/usr/bin/apt-get` -> `apt-get`).
std::string_view programName(std::string_view word);

}  // namespace kh::dockerfile::shell
