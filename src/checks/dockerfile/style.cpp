// Dockerfile checks of correctness and build hygiene (hadolint's remaining instruction rules):
// COPY destinations, archives copied then extracted, FROM --platform, ENV self-references,
// useradd's lastlog, wget's progress output, consecutive RUNs, changing /bin/sh by hand, and the
// opt-in rule against inline pragmas.
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "checks/dockerfile/dockerfile_checks.h"
#include "checks/dockerfile/util.h"

namespace kh::dockerfile_checks {
namespace {

std::string_view unquote(std::string_view s) {
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front())
    return s.substr(1, s.size() - 2);
  return s;
}

bool isAbsolute(std::string_view dest) {
  dest = unquote(dest);
  return dest.starts_with('/') || dest.starts_with('$') ||
         (dest.size() >= 3 && dest[1] == ':' && (dest[2] == '\\' || dest[2] == '/'));
}

constexpr CheckMeta kCopyDest = dockerfileMeta(
    "dockerfile-copy-dest-slash", "COPY of several sources to a destination without /",
    Severity::kMedium, true,
    "End the destination with / when COPY or ADD takes several sources: it must be a "
    "directory.",
    {.hadolint = "DL3021"});

void copyDest(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Dockerfile& df = *o.dockerfile;
  forEachInstruction(df, [&](const Instruction& in, const Instruction* outer) {
    if (in.keyword != Keyword::kCopy || in.words.size() < 3 || !in.heredocs.empty()) return;
    const dockerfile::Word& dest = in.words.back();
    std::string_view d = unquote(dest.text);
    if (d.ends_with('/') || d.ends_with('\\') || d.find('$') != std::string_view::npos) return;
    sink.add(self.finding(o, dest.pos, pathOf(df, in, outer),
                          fmt::format("COPY of {} sources to {}, which does not end with /",
                                      in.words.size() - 1, d)));
  });
}

constexpr CheckMeta kCopyRelative = dockerfileMeta(
    "dockerfile-copy-relative-dest", "COPY to a relative destination without WORKDIR",
    Severity::kLow, true,
    "Set WORKDIR in the stage before copying to a relative path, or copy to an absolute one: "
    "otherwise the destination depends on the base image's working directory.",
    {.hadolint = "DL3045"});

void copyRelative(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Dockerfile& df = *o.dockerfile;
  std::vector<bool> workdir(df.stages.size(), false);  // set in the stage or the one it builds on
  for (const Instruction& in : df.instructions) {
    if (in.stage < 0) continue;
    size_t s = static_cast<size_t>(in.stage);
    if (in.keyword == Keyword::kFrom && df.stages[s].base_stage >= 0)
      workdir[s] = workdir[static_cast<size_t>(df.stages[s].base_stage)];
    if (in.keyword == Keyword::kWorkdir) workdir[s] = true;
    if (in.keyword != Keyword::kCopy || workdir[s] || in.words.size() < 2) continue;
    const dockerfile::Word& dest = in.words.back();
    if (isAbsolute(dest.text)) continue;
    sink.add(self.finding(o, dest.pos, pathOf(df, in),
                          fmt::format("COPY to {} without a WORKDIR in the stage", dest.text)));
  }
}

constexpr CheckMeta kExtract = dockerfileMeta(
    "dockerfile-copy-then-extract", "An archive is copied, then extracted with RUN",
    Severity::kInfo, true,
    "ADD extracts a local tar archive into the image in one step; copying it and unpacking it "
    "with RUN keeps the archive in a layer.",
    {.hadolint = "DL3010"});

std::string_view baseName(std::string_view p) {
  p = unquote(p);
  size_t slash = p.find_last_of("/\\");
  return slash == std::string_view::npos ? p : p.substr(slash + 1);
}

void extract(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Dockerfile& df = *o.dockerfile;
  struct Copied {
    std::string_view name;
    const Instruction* at;
  };
  std::vector<Copied> archives;  // of the current stage
  std::set<const Instruction*> reported;
  for (const Instruction& in : df.instructions) {
    if (in.keyword == Keyword::kFrom) archives.clear();
    if (in.keyword == Keyword::kCopy && !in.flag("from") && in.words.size() >= 2) {
      std::string_view dest = in.words.back().text;
      if (isArchiveName(dest, true)) {
        archives.push_back({baseName(dest), &in});
      } else {
        for (size_t i = 0; i + 1 < in.words.size(); ++i)
          if (isArchiveName(in.words[i].text, true))
            archives.push_back({baseName(in.words[i].text), &in});
      }
    }
    if (in.keyword != Keyword::kRun) continue;
    for (const Cmd& c : commandsOf(in)) {
      bool tar_x = c.name == "tar" && std::any_of(c.args.begin(), c.args.end(), [](const auto& w) {
                     std::string_view t = w.text;
                     return t == "--extract" || t == "--get" ||
                            (t.starts_with('-') && !t.starts_with("--") &&
                             t.find('x') != std::string_view::npos);
                   });
      // tar's old-style first argument without a dash: `tar xzf file`
      if (c.name == "tar" && !c.args.empty() && !c.args[0].text.starts_with('-') &&
          c.args[0].text.find('x') != std::string_view::npos)
        tar_x = true;
      static constexpr std::string_view kUnpack[] = {"unzip", "gunzip", "bunzip2", "unlzma",
                                                     "unxz",  "zcat",   "gzcat",   "uncompress"};
      bool unpack = std::find(std::begin(kUnpack), std::end(kUnpack), c.name) != std::end(kUnpack);
      if (!tar_x && !unpack) continue;
      for (const shell::Word* w : c.argsNoFlags()) {
        for (const Copied& a : archives) {
          if (baseName(w->text) != a.name || reported.count(a.at)) continue;
          reported.insert(a.at);
          sink.add(self.finding(o, a.at->pos, pathOf(df, *a.at),
                                fmt::format("{} is copied here and extracted by the RUN on line "
                                            "{}: ADD would extract it without keeping it",
                                            a.name, in.pos.line)));
        }
      }
    }
  }
}

constexpr CheckMeta kPlatform =
    dockerfileMeta("dockerfile-from-platform", "FROM pins a --platform", Severity::kLow, true,
                   "Leave the platform to the build (docker buildx build --platform ...); use "
                   "--platform=$BUILDPLATFORM only for cross-compiling build stages.",
                   {.hadolint = "DL3029"});

void platform(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Dockerfile& df = *o.dockerfile;
  for (const dockerfile::Stage& st : df.stages) {
    std::string_view p = st.platform;
    if (p.empty()) continue;
    // BuildKit's automatic platform arguments are how multi-platform builds are written.
    if (p.find("BUILDPLATFORM") != std::string_view::npos ||
        p.find("TARGETPLATFORM") != std::string_view::npos)
      continue;
    const Instruction& from = df.instructions[st.from];
    sink.add(self.finding(o, from.flag("platform")->pos, pathOf(df, from),
                          fmt::format("FROM --platform={} fixes the platform", p)));
  }
}

constexpr CheckMeta kEnvSelf = dockerfileMeta(
    "dockerfile-env-self-reference", "ENV uses a variable it defines itself", Severity::kMedium,
    true,
    "Split the ENV: a variable defined in an ENV is not yet set for the other values of that "
    "same ENV, so the reference expands to its previous value (usually empty).",
    {.hadolint = "DL3044"});

// Does `text` refer to $name or ${name...}?
bool refersTo(std::string_view text, std::string_view name) {
  for (size_t p = text.find('$'); p != std::string_view::npos; p = text.find('$', p + 1)) {
    std::string_view rest = text.substr(p + 1);
    if (rest.starts_with('{')) {
      std::string_view inner = rest.substr(1);
      if (inner.starts_with(name) &&
          (inner.size() == name.size() || inner[name.size()] == '}' || inner[name.size()] == ':' ||
           inner[name.size()] == '-' || inner[name.size()] == '+'))
        return true;
    } else if (rest.starts_with(name) &&
               (rest.size() == name.size() ||
                !(std::isalnum(static_cast<unsigned char>(rest[name.size()])) ||
                  rest[name.size()] == '_'))) {
      return true;
    }
  }
  return false;
}

void envSelf(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Dockerfile& df = *o.dockerfile;
  std::set<std::string_view> defined;  // by earlier ENV and ARG
  for (const Instruction& in : df.instructions) {
    if (in.keyword == Keyword::kArg)
      for (const dockerfile::Pair& p : in.pairs) defined.insert(p.key.text);
    if (in.keyword != Keyword::kEnv) continue;
    // The raw values (before the parser removed quotes) hold the references: use the args text.
    for (size_t i = 0; i < in.pairs.size(); ++i) {
      std::string_view name = in.pairs[i].key.text;
      if (defined.count(name)) continue;
      for (size_t j = 0; j < in.pairs.size(); ++j) {
        if (j == i || !refersTo(in.pairs[j].value.text, name)) continue;
        sink.add(self.finding(o, in.pairs[j].value.pos, pathOf(df, in),
                              fmt::format("{} refers to ${}, which this same ENV defines",
                                          in.pairs[j].key.text, name)));
        break;
      }
    }
    for (const dockerfile::Pair& p : in.pairs) defined.insert(p.key.text);
  }
}

constexpr CheckMeta kUseradd = dockerfileMeta(
    "dockerfile-useradd-high-uid", "useradd with a high UID without -l", Severity::kLow, true,
    "Add -l (--no-log-init) to useradd with a UID above 99999: otherwise lastlog and faillog "
    "grow to the UID's size and bloat the image.",
    {.hadolint = "DL3046"});

void useradd(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Dockerfile& df = *o.dockerfile;
  forEachInstruction(df, [&](const Instruction& in, const Instruction* outer) {
    for (const Cmd& c : commandsOf(in)) {
      if (c.name != "useradd" || c.hasAnyFlag({"l", "no-log-init"})) continue;
      std::string_view uid;
      for (size_t i = 0; i < c.args.size(); ++i) {
        std::string_view a = c.args[i].text;
        if ((a == "-u" || a == "--uid") && i + 1 < c.args.size())
          uid = c.args[i + 1].text;
        else if (a.starts_with("--uid="))
          uid = a.substr(6);
        else if (a.starts_with("-u") && a.size() > 2 && a[2] != '-')
          uid = a.substr(2);
      }
      if (uid.size() <= 5) continue;
      sink.add(self.finding(o, c.pos(), pathOf(df, in, outer),
                            fmt::format("useradd -u {} without -l", uid)));
    }
  });
}

constexpr CheckMeta kWgetProgress = dockerfileMeta(
    "dockerfile-wget-progress", "wget without --progress", Severity::kInfo, true,
    "Give wget --progress=dot:giga, or -q / -nv: its default progress bar fills the build log.",
    {.hadolint = "DL3047"});

void wgetProgress(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Dockerfile& df = *o.dockerfile;
  forEachInstruction(df, [&](const Instruction& in, const Instruction* outer) {
    for (const Cmd& c : commandsOf(in)) {
      if (c.name != "wget") continue;
      if (c.hasAnyFlag(
              {"progress", "q", "quiet", "o", "output-file", "a", "append-output", "no-verbose"}) ||
          c.hasArg("-nv"))
        continue;
      sink.add(self.finding(o, c.pos(), pathOf(df, in, outer), "wget without --progress"));
    }
  });
}

constexpr CheckMeta kConsecutive = dockerfileMeta(
    "dockerfile-consecutive-run", "Consecutive RUN instructions", Severity::kInfo, false,
    "Join short consecutive RUNs with && into one: each RUN is a layer.", {.hadolint = "DL3059"});

void consecutive(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Dockerfile& df = *o.dockerfile;
  const Instruction* prev = nullptr;
  auto sameFlags = [](const Instruction& a, const Instruction& b) {
    if (a.flags.size() != b.flags.size()) return false;
    for (size_t i = 0; i < a.flags.size(); ++i)
      if (a.flags[i].name != b.flags[i].name || a.flags[i].value != b.flags[i].value) return false;
    return true;
  };
  for (const Instruction& in : df.instructions) {
    if (in.keyword != Keyword::kRun) {
      prev = nullptr;
      continue;
    }
    // As hadolint: longer scripts (more than two commands) are left apart on purpose.
    if (prev && sameFlags(*prev, in) && prev->commands.size() <= 2 && in.commands.size() <= 2)
      sink.add(self.finding(o, in.pos, pathOf(df, in),
                            fmt::format("RUN right after the RUN on line {}", prev->pos.line)));
    prev = &in;
  }
}

constexpr CheckMeta kShellLink = dockerfileMeta(
    "dockerfile-shell-symlink", "RUN replaces /bin/sh with a link", Severity::kLow, true,
    "Use the SHELL instruction to run RUN under another shell instead of linking /bin/sh, which "
    "changes the shell of every script in the image.",
    {.hadolint = "DL4005"});

void shellLink(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Dockerfile& df = *o.dockerfile;
  forEachInstruction(df, [&](const Instruction& in, const Instruction* outer) {
    for (const Cmd& c : commandsOf(in)) {
      if (c.name != "ln") continue;
      auto ws = c.argsNoFlags();
      if (ws.empty() || ws.back()->text != "/bin/sh") continue;
      sink.add(self.finding(o, c.pos(), pathOf(df, in, outer),
                            "ln replaces /bin/sh: use SHELL to change the shell"));
    }
  });
}

constexpr CheckMeta kInlineIgnore = dockerfileMeta(
    "dockerfile-inline-ignore", "An inline ignore pragma", Severity::kInfo, false,
    "Move exceptions to the config file (checks.exceptions), where they are reviewed in one "
    "place and carry a reason and an expiry.",
    {.hadolint = "DL1001"});

void inlineIgnore(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Dockerfile& df = *o.dockerfile;
  size_t n = 0;
  for (const dockerfile::Comment& c : df.comments) {
    std::string_view t = c.text;
    if (!(t.starts_with("hadolint ") || t.starts_with("kubeharden "))) continue;
    if (t.find("ignore=") == std::string_view::npos) continue;
    sink.add(self.finding(o, c.pos, fmt::format("pragma[{}]", n++),
                          fmt::format("inline pragma: {}", t)));
  }
}

}  // namespace
}  // namespace kh::dockerfile_checks

namespace kh {

void addDockerfileStyleChecks(std::vector<std::unique_ptr<Check>>& out) {
  using namespace dockerfile_checks;
  out.push_back(std::make_unique<FnCheck>(kConsecutive, consecutive));
  out.push_back(std::make_unique<FnCheck>(kCopyDest, copyDest));
  out.push_back(std::make_unique<FnCheck>(kCopyRelative, copyRelative));
  out.push_back(std::make_unique<FnCheck>(kExtract, extract));
  out.push_back(std::make_unique<FnCheck>(kEnvSelf, envSelf));
  out.push_back(std::make_unique<FnCheck>(kPlatform, platform));
  out.push_back(std::make_unique<FnCheck>(kInlineIgnore, inlineIgnore));
  out.push_back(std::make_unique<FnCheck>(kShellLink, shellLink));
  out.push_back(std::make_unique<FnCheck>(kUseradd, useradd));
  out.push_back(std::make_unique<FnCheck>(kWgetProgress, wgetProgress));
}

}  // namespace kh
