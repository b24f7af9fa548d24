// Dockerfile checks of RUN scripts that hadolint delegates to ShellCheck, for the findings that
// matter for the correctness and safety of a build: unquoted variables in file operations
// (SC2086), `rm -r "$DIR/"...` that an empty variable turns into the root (SC2115), and `cd`
// whose failure is ignored (SC2164).
#include <fmt/format.h>

#include <algorithm>

#include "checks/dockerfile/dockerfile_checks.h"
#include "checks/dockerfile/util.h"

namespace kh::dockerfile_checks {
namespace {

bool isFileCommand(std::string_view n) {
  static constexpr std::string_view kNames[] = {
      "rm",    "cp", "mv",  "chmod",   "chown", "chgrp", "mkdir",  "rmdir", "ln",
      "touch", "cd", "tar", "install", "rsync", "cat",   "source", "."};
  return std::find(std::begin(kNames), std::end(kNames), n) != std::end(kNames);
}

constexpr CheckMeta kUnquoted = dockerfileMeta(
    "dockerfile-unquoted-variable", "A file operation uses an unquoted variable", Severity::kLow,
    true,
    "Quote the expansion (\"$DIR/file\"): unquoted, a value with spaces or glob characters "
    "becomes several paths, or none.",
    {.hadolint = "SC2086"});

void unquoted(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Dockerfile& df = *o.dockerfile;
  forEachInstruction(df, [&](const Instruction& in, const Instruction* outer) {
    for (const Cmd& c : commandsOf(in)) {
      if (!isFileCommand(c.name)) continue;
      for (const shell::Word& w : c.args) {
        if (!w.unquoted_expansion) continue;
        std::string_view t = w.text;
        if (t.find("$((") != std::string_view::npos) continue;  // arithmetic: a number
        sink.add(self.finding(o, c.posOf(w), pathOf(df, in, outer),
                              fmt::format("{} {}: the variable is not quoted", c.name, t)));
        break;
      }
    }
  });
}

constexpr CheckMeta kRmRoot = dockerfileMeta(
    "dockerfile-rm-unset-variable", "rm -r of \"$VAR/...\" deletes from / when VAR is empty",
    Severity::kMedium, true,
    "Write \"${VAR:?}/...\" so the script stops when VAR is empty or unset, instead of "
    "deleting from the root.",
    {.hadolint = "SC2115"});

void rmRoot(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Dockerfile& df = *o.dockerfile;
  forEachInstruction(df, [&](const Instruction& in, const Instruction* outer) {
    for (const Cmd& c : commandsOf(in)) {
      if (c.name != "rm" || !c.hasAnyFlag({"r", "R", "recursive"})) continue;
      for (const shell::Word* w : c.argsNoFlags()) {
        std::string_view t = w->text;
        if (!t.starts_with('$')) continue;
        size_t slash = t.find('/');
        if (slash == std::string_view::npos) continue;
        std::string_view var = t.substr(0, slash);
        if (var.find(":?") != std::string_view::npos || var.find('(') != std::string_view::npos)
          continue;
        sink.add(self.finding(o, c.posOf(*w), pathOf(df, in, outer),
                              fmt::format("rm -r {}: an empty {} makes it delete from /", t, var)));
      }
    }
  });
}

constexpr CheckMeta kCdUnchecked = dockerfileMeta(
    "dockerfile-cd-unchecked", "cd whose failure is ignored", Severity::kLow, true,
    "Join cd to what follows with && (cd /src && make), or start the script with set -e: "
    "otherwise the next commands run in the wrong directory when cd fails.",
    {.hadolint = "SC2164"});

void cdUnchecked(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Dockerfile& df = *o.dockerfile;
  forEachInstruction(df, [&](const Instruction& in, const Instruction* outer) {
    std::vector<Cmd> cmds = commandsOf(in);
    bool errexit = false;
    for (size_t i = 0; i < cmds.size(); ++i) {
      const Cmd& c = cmds[i];
      if (c.name == "set" && std::any_of(c.args.begin(), c.args.end(), [](const auto& w) {
            std::string_view t = w.text;
            return (t.starts_with('-') && t.find('e') != std::string_view::npos) || t == "errexit";
          }))
        errexit = true;
      if (c.name != "cd" || errexit) continue;
      shell::Op next = c.cmd->next;
      bool more = i + 1 < cmds.size();
      if (!more || next == shell::Op::kAnd || next == shell::Op::kOr || next == shell::Op::kPipe)
        continue;
      sink.add(self.finding(o, c.pos(), pathOf(df, in, outer),
                            "cd is followed by ; or a new line: when it fails, the next "
                            "commands run in the wrong directory"));
    }
  });
}

}  // namespace
}  // namespace kh::dockerfile_checks

namespace kh {

void addDockerfileShellcheckChecks(std::vector<std::unique_ptr<Check>>& out) {
  using namespace dockerfile_checks;
  out.push_back(std::make_unique<FnCheck>(kCdUnchecked, cdUnchecked));
  out.push_back(std::make_unique<FnCheck>(kRmRoot, rmRoot));
  out.push_back(std::make_unique<FnCheck>(kUnquoted, unquoted));
}

}  // namespace kh
