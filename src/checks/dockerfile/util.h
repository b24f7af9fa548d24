// Shared by the Dockerfile checks (checks/dockerfile/): iteration over instructions, stable
// finding paths, and hadolint's reading of shell commands (flags, arguments without flags).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "checks/check.h"
#include "dockerfile/model.h"

namespace kh::dockerfile_checks {

using dockerfile::Dockerfile;
using dockerfile::Instruction;
using dockerfile::Keyword;
namespace shell = dockerfile::shell;

inline constexpr std::string_view kKinds[] = {"Dockerfile"};

// The metadata every Dockerfile check shares: kind Dockerfile, group security.
constexpr CheckMeta dockerfileMeta(std::string_view id, std::string_view title, Severity severity,
                                   bool on, std::string_view remediation, CheckRefs refs) {
  return CheckMeta{.id = id,
                   .title = title,
                   .severity = severity,
                   .group = "security",
                   .enabled_by_default = on,
                   .scope = Scope::kKinds,
                   .kinds = kKinds,
                   .remediation = remediation,
                   .refs = refs};
}

// "stage[build].RUN[2]": the stage (by name, else index) and the instruction's index among the
// stage's instructions of its keyword; "ARG[0]" before the first FROM; ONBUILD's inner one is
// "stage[0].ONBUILD[1].RUN". Stable when unrelated lines move.
std::string pathOf(const Dockerfile& df, const Instruction& in, const Instruction* outer = nullptr);

// Calls fn for every instruction, and for the inner instruction of each ONBUILD (with `outer`
// set to the ONBUILD), in order.
void forEachInstruction(
    const Dockerfile& df,
    const std::function<void(const Instruction& in, const Instruction* outer)>& fn);

// A shell command as hadolint reads it: `name` is the program's base name; flags are `-abc`
// (a, b, c) and `--name[=value]` (name); `-` and `--` are no flags.
struct Cmd {
  const Instruction* in = nullptr;
  const shell::Command* cmd = nullptr;
  std::string_view name;
  std::span<const shell::Word> args;  // after the program

  bool hasArg(std::string_view a) const;
  bool hasAnyArg(std::initializer_list<std::string_view> as) const;
  bool hasFlag(std::string_view f) const;  // "y" for -y, "yes" for --yes
  bool hasAnyFlag(std::initializer_list<std::string_view> fs) const;
  // The arguments that are not flags, less the value after each flag of `value_flags` written
  // without `=` (`-t bookworm`), as hadolint's dropFlagArg.
  std::vector<const shell::Word*> argsNoFlags(std::span<const std::string_view> value_flags) const;
  std::vector<const shell::Word*> argsNoFlags(
      std::initializer_list<std::string_view> value_flags = {}) const {
    return argsNoFlags(std::span<const std::string_view>(value_flags.begin(), value_flags.size()));
  }
  SourcePos pos() const;  // of the program word
  SourcePos posOf(const shell::Word& w) const;
};

// The commands of a RUN (its script, heredoc included), in order.
std::vector<Cmd> commandsOf(const Instruction& in);

// Every RUN with commands (ONBUILD's included): fn(instruction, its commands, its path).
template <typename Fn>
void forEachRun(const Dockerfile& df, Fn fn) {
  forEachInstruction(df, [&](const Instruction& in, const Instruction* outer) {
    if (in.keyword != Keyword::kRun || in.commands.empty()) return;
    std::vector<Cmd> cmds = commandsOf(in);
    fn(in, cmds, pathOf(df, in, outer));
  });
}

bool isFlagWord(std::string_view w);

// A `--mount=type=cache` of the instruction whose target starts with `dir` (any cache mount when
// `dir` is empty).
bool hasCacheMount(const Instruction& in, std::string_view dir);

// Does the file name end like an archive: a tar archive, compressed or not (what ADD extracts),
// or, with `zip`, also a .zip?
bool isArchiveName(std::string_view name, bool zip);

}  // namespace kh::dockerfile_checks
