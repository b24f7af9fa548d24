// Dockerfile checks of language package managers in RUN (hadolint's rules for npm, gem, go and
// yarn): pinned versions and caches.
#include <fmt/format.h>

#include <algorithm>

#include "checks/dockerfile/dockerfile_checks.h"
#include "checks/dockerfile/util.h"

namespace kh::dockerfile_checks {
namespace {

constexpr CheckMeta kNpmPin = dockerfileMeta(
    "dockerfile-npm-unpinned", "npm install without versions", Severity::kLow, true,
    "Pin each package (npm install express@4.21.2), or install the lock file with `npm ci`.",
    {.hadolint = "DL3016"});

// npm install [<@scope>/]<name>[@<version|tag>], git URLs with #commit, tarballs, folders.
bool npmPinned(std::string_view p) {
  for (std::string_view g : {"git://", "git+ssh://", "git+http://", "git+https://"})
    if (p.starts_with(g)) return p.find('#') != std::string_view::npos;
  for (std::string_view t : {".tar", ".tar.gz", ".tgz"})
    if (p.ends_with(t)) return true;
  for (std::string_view d : {"/", "./", "../", "~/"})
    if (p.starts_with(d)) return true;
  if (p.find('$') != std::string_view::npos) return true;
  std::string_view name = p;
  if (name.starts_with('@')) {  // a scope: @scope/name@version
    size_t slash = name.find('/');
    name = slash == std::string_view::npos ? std::string_view() : name.substr(slash + 1);
  }
  return name.find('@') != std::string_view::npos;
}

void npmPin(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  forEachRun(*o.dockerfile, [&](const Instruction&, const std::vector<Cmd>& cmds,
                                const std::string& path) {
    for (const Cmd& c : cmds) {
      if (c.name != "npm") continue;
      std::vector<const shell::Word*> ws = c.argsNoFlags({"prefix", "registry", "C"});
      if (ws.empty() || (ws[0]->text != "install" && ws[0]->text != "i" && ws[0]->text != "add"))
        continue;
      for (size_t i = 1; i < ws.size(); ++i) {
        if (npmPinned(ws[i]->text)) continue;
        sink.add(self.finding(o, c.posOf(*ws[i]), path,
                              fmt::format("npm install {} names no version", ws[i]->text)));
      }
    }
  });
}

constexpr CheckMeta kGemPin = dockerfileMeta(
    "dockerfile-gem-unpinned", "gem install without versions", Severity::kLow, true,
    "Pin each gem (gem install rails:7.2.1, or -v 7.2.1), or install from a Gemfile.lock with "
    "bundle install.",
    {.hadolint = "DL3028"});

void gemPin(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  forEachRun(*o.dockerfile,
             [&](const Instruction&, const std::vector<Cmd>& cmds, const std::string& path) {
               for (const Cmd& c : cmds) {
                 if (c.name != "gem") continue;
                 if (c.hasAnyFlag({"v", "version"})) continue;  // one version for the gems named
                 std::vector<const shell::Word*> ws =
                     c.argsNoFlags({"source", "s", "install-dir", "i", "bindir", "n", "platform"});
                 if (ws.empty() || (ws[0]->text != "install" && ws[0]->text != "i")) continue;
                 for (size_t i = 1; i < ws.size(); ++i) {
                   std::string_view p = ws[i]->text;
                   if (p.find(':') != std::string_view::npos || p.ends_with(".gem") ||
                       p.find('$') != std::string_view::npos)
                     continue;
                   sink.add(self.finding(o, c.posOf(*ws[i]), path,
                                         fmt::format("gem install {} names no version", p)));
                 }
               }
             });
}

constexpr CheckMeta kGoPin = dockerfileMeta(
    "dockerfile-go-install-unpinned", "go install without a version", Severity::kLow, true,
    "Name the module version (go install golang.org/x/tools/gopls@v0.16.2); @latest moves.",
    {.hadolint = "DL3062"});

void goPin(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  forEachRun(*o.dockerfile, [&](const Instruction&, const std::vector<Cmd>& cmds,
                                const std::string& path) {
    for (const Cmd& c : cmds) {
      if (c.name != "go") continue;
      std::vector<const shell::Word*> ws = c.argsNoFlags({"C", "o", "tags", "ldflags", "gcflags"});
      if (ws.empty() || ws[0]->text != "install") continue;
      for (size_t i = 1; i < ws.size(); ++i) {
        std::string_view p = ws[i]->text;
        size_t at = p.rfind('@');
        bool local = p.starts_with('.') || p.starts_with('/');
        if (local || p.find('$') != std::string_view::npos) continue;
        if (at != std::string_view::npos && p.substr(at + 1) != "latest") continue;
        sink.add(
            self.finding(o, c.posOf(*ws[i]), path,
                         at == std::string_view::npos
                             ? fmt::format("go install {} names no version", p)
                             : fmt::format("go install {} takes whatever version is latest", p)));
      }
    }
  });
}

constexpr CheckMeta kYarnCache = dockerfileMeta(
    "dockerfile-yarn-cache", "yarn install keeps its cache in the image", Severity::kInfo, true,
    "Run `yarn cache clean` in the same RUN as `yarn install` (or mount a cache with "
    "--mount=type=cache).",
    {.hadolint = "DL3060"});

void yarnCache(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  forEachRun(*o.dockerfile,
             [&](const Instruction& in, const std::vector<Cmd>& cmds, const std::string& path) {
               auto install = std::find_if(cmds.begin(), cmds.end(), [](const Cmd& c) {
                 if (c.name != "yarn") return false;
                 auto ws = c.argsNoFlags();
                 return ws.empty() || ws[0]->text == "install";  // plain `yarn` installs too
               });
               if (install == cmds.end()) return;
               bool cleaned = std::any_of(cmds.begin(), cmds.end(), [](const Cmd& c) {
                 return c.name == "yarn" && c.hasArg("cache") && c.hasArg("clean");
               });
               if (cleaned || hasCacheMount(in, "")) return;
               sink.add(self.finding(o, install->pos(), path,
                                     "yarn install without yarn cache clean in the same RUN"));
             });
}

}  // namespace
}  // namespace kh::dockerfile_checks

namespace kh {

void addDockerfileLangChecks(std::vector<std::unique_ptr<Check>>& out) {
  using namespace dockerfile_checks;
  out.push_back(std::make_unique<FnCheck>(kGemPin, gemPin));
  out.push_back(std::make_unique<FnCheck>(kGoPin, goPin));
  out.push_back(std::make_unique<FnCheck>(kNpmPin, npmPin));
  out.push_back(std::make_unique<FnCheck>(kYarnCache, yarnCache));
}

}  // namespace kh
