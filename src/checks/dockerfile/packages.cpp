// Dockerfile checks of package managers in RUN (hadolint's DL rules for apt-get, apk and pip):
// versions pinned, non-interactive flags, no recommended extras, caches and lists not left in
// the image.
#include <fmt/format.h>

#include <algorithm>

#include "checks/dockerfile/dockerfile_checks.h"
#include "checks/dockerfile/util.h"

namespace kh::dockerfile_checks {
namespace {

bool isInstall(const Cmd& c, std::string_view program, std::string_view verb) {
  if (c.name != program) return false;
  for (const shell::Word* w : c.argsNoFlags())
    return w->text == verb;  // the first word that is no flag is the verb
  return false;
}

// Every `program verb ...` command of every RUN (ONBUILD's included).
template <typename Fn>
void eachInstall(const Dockerfile& df, std::string_view program, std::string_view verb, Fn fn) {
  forEachInstruction(df, [&](const Instruction& in, const Instruction* outer) {
    if (in.keyword != Keyword::kRun) return;
    std::string path;
    for (const Cmd& c : commandsOf(in)) {
      if (!isInstall(c, program, verb)) continue;
      if (path.empty()) path = pathOf(df, in, outer);
      fn(in, c, path);
    }
  });
}

// --- apt-get ------------------------------------------------------------------------------

constexpr CheckMeta kAptPin = dockerfileMeta(
    "dockerfile-apt-unpinned", "apt-get install without versions", Severity::kLow, true,
    "Pin each package (apt-get install curl=7.88.1-10+deb12u8) so a rebuild installs what was "
    "tested, or accept unpinned installs and suppress this check.",
    {.hadolint = "DL3008"});

void aptPin(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  eachInstall(*o.dockerfile, "apt-get", "install",
              [&](const Instruction&, const Cmd& c, const std::string& path) {
                bool seen_verb = false;
                for (const shell::Word* w : c.argsNoFlags({"t", "target-release", "o"})) {
                  if (!seen_verb) {
                    seen_verb = true;  // "install"
                    continue;
                  }
                  std::string_view p = w->text;
                  if (p.find('=') != std::string_view::npos ||
                      p.find('/') != std::string_view::npos || p.ends_with(".deb"))
                    continue;
                  sink.add(self.finding(o, c.posOf(*w), path,
                                        fmt::format("apt-get install {} names no version", p)));
                }
              });
}

constexpr CheckMeta kAptYes = dockerfileMeta(
    "dockerfile-apt-no-yes", "apt-get install without -y", Severity::kMedium, true,
    "Add -y (or --yes, --assume-yes): without it apt-get waits for an answer the build cannot "
    "give and aborts.",
    {.hadolint = "DL3014"});

void aptYes(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  eachInstall(*o.dockerfile, "apt-get", "install",
              [&](const Instruction&, const Cmd& c, const std::string& path) {
                if (c.hasAnyFlag({"y", "yes", "assume-yes"})) return;
                size_t q = 0;  // -qq implies -y
                for (const shell::Word& w : c.args)
                  if (isFlagWord(w.text) && !w.text.starts_with("--"))
                    q += static_cast<size_t>(std::count(w.text.begin(), w.text.end(), 'q'));
                if (q >= 2) return;
                sink.add(self.finding(o, c.pos(), path, "apt-get install without -y"));
              });
}

constexpr CheckMeta kAptRecommends = dockerfileMeta(
    "dockerfile-apt-recommends", "apt-get install also installs recommended packages",
    Severity::kLow, true,
    "Add --no-install-recommends: recommended packages are more code in the image and more "
    "vulnerabilities to patch.",
    {.hadolint = "DL3015"});

void aptRecommends(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  eachInstall(
      *o.dockerfile, "apt-get", "install",
      [&](const Instruction&, const Cmd& c, const std::string& path) {
        if (c.hasFlag("no-install-recommends")) return;
        for (const shell::Word& w : c.args)
          if (w.text.starts_with("APT::Install-Recommends=") &&
              (w.text.ends_with("false") || w.text.ends_with("0")))
            return;
        sink.add(self.finding(o, c.pos(), path, "apt-get install without --no-install-recommends"));
      });
}

constexpr CheckMeta kApt = dockerfileMeta(
    "dockerfile-apt", "RUN uses apt instead of apt-get", Severity::kLow, true,
    "Use apt-get (or apt-cache): apt's command-line interface is meant for people and is not "
    "stable for scripts.",
    {.hadolint = "DL3027"});

void apt(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  forEachInstruction(*o.dockerfile, [&](const Instruction& in, const Instruction* outer) {
    for (const Cmd& c : commandsOf(in))
      if (c.name == "apt")
        sink.add(self.finding(o, c.pos(), pathOf(*o.dockerfile, in, outer),
                              "apt is meant for interactive use: use apt-get"));
  });
}

constexpr CheckMeta kAptLists = dockerfileMeta(
    "dockerfile-apt-lists", "apt-get lists left in the image", Severity::kInfo, true,
    "End the RUN that runs apt-get update with rm -rf /var/lib/apt/lists/* (or use "
    "--mount=type=cache,target=/var/lib/apt/lists): the lists are tens of megabytes and go "
    "stale.",
    {.hadolint = "DL3009"});

void aptLists(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Dockerfile& df = *o.dockerfile;
  if (df.stages.empty()) return;
  // Only what ships: the final stage and the stages it builds on.
  std::vector<bool> ships(df.stages.size(), false);
  for (int32_t s = static_cast<int32_t>(df.stages.size()) - 1; s >= 0;
       s = df.stages[static_cast<size_t>(s)].base_stage)
    ships[static_cast<size_t>(s)] = true;
  forEachInstruction(df, [&](const Instruction& in, const Instruction* outer) {
    if (in.keyword != Keyword::kRun || in.stage < 0 || !ships[static_cast<size_t>(in.stage)])
      return;
    std::vector<Cmd> cmds = commandsOf(in);
    auto update = std::find_if(cmds.begin(), cmds.end(), [](const Cmd& c) {
      return c.name == "apt-get" && c.hasArg("update");
    });
    if (update == cmds.end()) return;
    bool cleaned = std::any_of(cmds.begin(), cmds.end(), [](const Cmd& c) {
      return c.name == "rm" && std::any_of(c.args.begin(), c.args.end(), [](const shell::Word& w) {
               return w.text.starts_with("/var/lib/apt/lists");
             });
    });
    if (cleaned || hasCacheMount(in, "/var/lib/apt/lists") ||
        (hasCacheMount(in, "/var/lib/apt") && hasCacheMount(in, "/var/cache/apt")))
      return;
    sink.add(self.finding(o, update->pos(), pathOf(df, in, outer),
                          "apt-get update without removing /var/lib/apt/lists/* in the same RUN"));
  });
}

// --- apk ----------------------------------------------------------------------------------

constexpr CheckMeta kApkPin = dockerfileMeta(
    "dockerfile-apk-unpinned", "apk add without versions", Severity::kLow, true,
    "Pin each package (apk add curl=8.5.0-r0) so a rebuild installs what was tested.",
    {.hadolint = "DL3018"});

void apkPin(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  eachInstall(
      *o.dockerfile, "apk", "add", [&](const Instruction&, const Cmd& c, const std::string& path) {
        bool seen_verb = false;
        for (const shell::Word* w :
             c.argsNoFlags({"t", "virtual", "repository", "X", "p", "root"})) {
          if (!seen_verb) {
            seen_verb = true;
            continue;
          }
          std::string_view p = w->text;
          if (p.find('=') != std::string_view::npos || p.ends_with(".apk")) continue;
          sink.add(
              self.finding(o, c.posOf(*w), path, fmt::format("apk add {} names no version", p)));
        }
      });
}

constexpr CheckMeta kApkCache = dockerfileMeta(
    "dockerfile-apk-cache", "apk add keeps its cache in the image", Severity::kInfo, true,
    "Use apk add --no-cache (or --mount=type=cache,target=/var/cache/apk) so the index is not "
    "kept in a layer.",
    {.hadolint = "DL3019"});

void apkCache(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  eachInstall(*o.dockerfile, "apk", "add",
              [&](const Instruction& in, const Cmd& c, const std::string& path) {
                if (c.hasFlag("no-cache") || hasCacheMount(in, "/var/cache/apk")) return;
                sink.add(self.finding(o, c.pos(), path, "apk add without --no-cache"));
              });
}

// --- pip ----------------------------------------------------------------------------------

bool isPip(const Cmd& c, std::vector<const shell::Word*>& args) {
  static constexpr std::string_view kValueFlags[] = {"r",
                                                     "requirement",
                                                     "c",
                                                     "constraint",
                                                     "e",
                                                     "editable",
                                                     "i",
                                                     "index-url",
                                                     "extra-index-url",
                                                     "f",
                                                     "find-links",
                                                     "t",
                                                     "target",
                                                     "prefix",
                                                     "root",
                                                     "src",
                                                     "upgrade-strategy",
                                                     "platform",
                                                     "python-version",
                                                     "implementation",
                                                     "abi",
                                                     "trusted-host",
                                                     "progress-bar",
                                                     "log",
                                                     "cache-dir",
                                                     "proxy",
                                                     "retries",
                                                     "timeout",
                                                     "only-binary",
                                                     "no-binary"};
  std::string_view n = c.name;
  bool pip = n == "pip" || n == "pip3" || n == "pip2" || n.starts_with("pip3.");
  std::vector<const shell::Word*> words = c.argsNoFlags(kValueFlags);
  if (!pip && (n == "python" || n == "python3" || n.starts_with("python3."))) {
    // python -m pip install ...
    if (!c.hasArg("-m") || !c.hasArg("pip")) return false;
    std::vector<const shell::Word*> rest;
    bool after = false;
    for (const shell::Word* w : words) {
      if (after) rest.push_back(w);
      after |= w->text == "pip";
    }
    words = rest;
    pip = true;
  }
  if (!pip || words.empty() || words[0]->text != "install") return false;
  args.assign(words.begin() + 1, words.end());
  return true;
}

constexpr CheckMeta kPipPin = dockerfileMeta(
    "dockerfile-pip-unpinned", "pip install without versions", Severity::kLow, true,
    "Pin each package (pip install requests==2.32.3), or install from a requirements file with "
    "pinned versions and hashes (pip install --require-hashes -r requirements.txt).",
    {.hadolint = "DL3013"});

void pipPin(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  forEachInstruction(*o.dockerfile, [&](const Instruction& in, const Instruction* outer) {
    for (const Cmd& c : commandsOf(in)) {
      std::vector<const shell::Word*> pkgs;
      if (!isPip(c, pkgs)) continue;
      if (c.hasAnyFlag({"c", "constraint"})) continue;  // a constraints file pins them
      for (const shell::Word* w : pkgs) {
        std::string_view p = w->text;
        // VCS URLs (git+https://..., hg+..., svn+..., bzr+...) pin with @ref; other paths and
        // URLs name one artifact.
        bool vcs = false;
        for (std::string_view scheme : {"git+", "git:", "hg+", "svn+", "svn:", "bzr+"})
          vcs |= p.starts_with(scheme);
        size_t host = p.find("://");
        host = host == std::string_view::npos ? 0 : host + 3;
        bool pinned = vcs ? p.find('@', host) != std::string_view::npos
                          : p.find_first_of("=<>~!@") != std::string_view::npos ||
                                p.find('/') != std::string_view::npos || p == "." ||
                                p.ends_with(".whl") || p.ends_with(".tar.gz") ||
                                p.ends_with(".zip") || p.find('$') != std::string_view::npos;
        if (pinned) continue;
        sink.add(self.finding(o, c.posOf(*w), pathOf(*o.dockerfile, in, outer),
                              fmt::format("pip install {} names no version", p)));
      }
    }
  });
}

constexpr CheckMeta kPipCache = dockerfileMeta(
    "dockerfile-pip-cache", "pip install keeps its cache in the image", Severity::kInfo, true,
    "Use pip install --no-cache-dir (or ENV PIP_NO_CACHE_DIR=1, or "
    "--mount=type=cache,target=/root/.cache/pip) so downloaded wheels are not kept in a layer.",
    {.hadolint = "DL3042"});

void pipCache(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Dockerfile& df = *o.dockerfile;
  int32_t env_stage = -2;  // the stage whose ENV sets PIP_NO_CACHE_DIR
  for (const Instruction& in : df.instructions) {
    if (in.keyword == Keyword::kEnv)
      for (const dockerfile::Pair& p : in.pairs)
        if (p.key.text == "PIP_NO_CACHE_DIR") env_stage = in.stage;
    if (in.keyword != Keyword::kRun || env_stage == in.stage) continue;
    for (const Cmd& c : commandsOf(in)) {
      std::vector<const shell::Word*> pkgs;
      if (!isPip(c, pkgs) || c.hasFlag("no-cache-dir") || hasCacheMount(in, "/root/.cache/pip"))
        continue;
      sink.add(self.finding(o, c.pos(), pathOf(df, in), "pip install without --no-cache-dir"));
    }
  }
}

}  // namespace
}  // namespace kh::dockerfile_checks

namespace kh {

void addDockerfilePackageChecks(std::vector<std::unique_ptr<Check>>& out) {
  using namespace dockerfile_checks;
  out.push_back(std::make_unique<FnCheck>(kApkCache, apkCache));
  out.push_back(std::make_unique<FnCheck>(kApkPin, apkPin));
  out.push_back(std::make_unique<FnCheck>(kApt, apt));
  out.push_back(std::make_unique<FnCheck>(kAptLists, aptLists));
  out.push_back(std::make_unique<FnCheck>(kAptYes, aptYes));
  out.push_back(std::make_unique<FnCheck>(kAptRecommends, aptRecommends));
  out.push_back(std::make_unique<FnCheck>(kAptPin, aptPin));
  out.push_back(std::make_unique<FnCheck>(kPipCache, pipCache));
  out.push_back(std::make_unique<FnCheck>(kPipPin, pipPin));
}

}  // namespace kh
