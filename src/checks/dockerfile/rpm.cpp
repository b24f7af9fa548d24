// Dockerfile checks of the RPM-based package managers in RUN (hadolint's rules for yum, dnf,
// microdnf and zypper): non-interactive flags, pinned versions, caches cleaned in the same RUN,
// no distribution upgrades.
#include <fmt/format.h>

#include <algorithm>

#include "checks/dockerfile/dockerfile_checks.h"
#include "checks/dockerfile/util.h"

namespace kh::dockerfile_checks {
namespace {

bool isAny(std::string_view name, std::initializer_list<std::string_view> names) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// The words that are no flags, after the program (the verb first).
std::vector<const shell::Word*> words(const Cmd& c) {
  return c.argsNoFlags({"c", "config", "releasever", "installroot", "setopt", "repo", "enablerepo",
                        "disablerepo", "x", "exclude", "R", "root"});
}

bool hasVerb(const Cmd& c, std::initializer_list<std::string_view> verbs) {
  for (const shell::Word* w : words(c))
    if (isAny(w->text, verbs)) return true;
  return false;
}

// --- -y ---------------------------------------------------------------------------------

constexpr CheckMeta kYumYes = dockerfileMeta(
    "dockerfile-yum-no-yes", "yum install without -y", Severity::kMedium, true,
    "Add -y (or --assumeyes): without it yum waits for an answer the build cannot give.",
    {.hadolint = "DL3030"});
constexpr CheckMeta kDnfYes =
    dockerfileMeta("dockerfile-dnf-no-yes", "dnf install without -y", Severity::kMedium, true,
                   "Add -y (or --assumeyes) to dnf and microdnf install.", {.hadolint = "DL3038"});
constexpr CheckMeta kZypperYes = dockerfileMeta(
    "dockerfile-zypper-no-yes", "zypper without -n or -y", Severity::kMedium, true,
    "Add -y (or --no-confirm, or zypper -n for non-interactive mode) to zypper install, remove, "
    "patch and source-install.",
    {.hadolint = "DL3034"});

void yumYes(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  forEachRun(*o.dockerfile,
             [&](const Instruction&, const std::vector<Cmd>& cmds, const std::string& path) {
               for (const Cmd& c : cmds)
                 if (c.name == "yum" && hasVerb(c, {"install", "groupinstall", "localinstall"}) &&
                     !c.hasAnyFlag({"y", "assumeyes"}))
                   sink.add(self.finding(o, c.pos(), path, "yum install without -y"));
             });
}

void dnfYes(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  forEachRun(*o.dockerfile, [&](const Instruction&, const std::vector<Cmd>& cmds,
                                const std::string& path) {
    for (const Cmd& c : cmds)
      if (isAny(c.name, {"dnf", "microdnf"}) &&
          hasVerb(c, {"install", "groupinstall", "localinstall"}) &&
          !c.hasAnyFlag({"y", "assumeyes"}))
        sink.add(self.finding(o, c.pos(), path, fmt::format("{} install without -y", c.name)));
  });
}

void zypperYes(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  forEachRun(*o.dockerfile, [&](const Instruction&, const std::vector<Cmd>& cmds,
                                const std::string& path) {
    for (const Cmd& c : cmds)
      if (c.name == "zypper" &&
          hasVerb(c, {"install", "in", "remove", "rm", "source-install", "si", "patch"}) &&
          !c.hasAnyFlag({"y", "no-confirm", "n", "non-interactive"}))
        sink.add(self.finding(o, c.pos(), path, "zypper without -n or -y"));
  });
}

// --- versions -----------------------------------------------------------------------------

constexpr CheckMeta kYumPin =
    dockerfileMeta("dockerfile-yum-unpinned", "yum install without versions", Severity::kLow, true,
                   "Pin each package (yum install -y httpd-2.4.57), and each module stream "
                   "(yum module install nodejs:20).",
                   {.hadolint = "DL3033"});
constexpr CheckMeta kDnfPin =
    dockerfileMeta("dockerfile-dnf-unpinned", "dnf install without versions", Severity::kLow, true,
                   "Pin each package (dnf install -y httpd-2.4.57), and each module stream "
                   "(dnf module install nodejs:20).",
                   {.hadolint = "DL3041"});
constexpr CheckMeta kZypperPin =
    dockerfileMeta("dockerfile-zypper-unpinned", "zypper install without versions", Severity::kLow,
                   true, "Pin each package (zypper install -y curl=8.6.0, or a range with >=, <).",
                   {.hadolint = "DL3037"});

// Package names after `install` (and `module install`): RPM names pin with a `-version`
// (`httpd-2.4.57`), module streams with `:stream`.
void rpmPin(const FnCheck& self, const Object& o, FindingSink& sink,
            std::initializer_list<std::string_view> programs) {
  forEachRun(*o.dockerfile, [&](const Instruction&, const std::vector<Cmd>& cmds,
                                const std::string& path) {
    for (const Cmd& c : cmds) {
      if (!isAny(c.name, programs)) continue;
      std::vector<const shell::Word*> ws = words(c);
      bool module = !ws.empty() && ws[0]->text == "module";
      size_t first = module ? 1 : 0;
      if (ws.size() <= first || ws[first]->text != "install") continue;
      for (size_t i = first + 1; i < ws.size(); ++i) {
        std::string_view p = ws[i]->text;
        bool pinned = module ? p.find(':') != std::string_view::npos
                             : p.find('-') != std::string_view::npos || p.ends_with(".rpm") ||
                                   p.find('$') != std::string_view::npos;
        if (pinned) continue;
        sink.add(
            self.finding(o, c.posOf(*ws[i]), path,
                         fmt::format("{} {}install {} names no {}", c.name, module ? "module " : "",
                                     p, module ? "stream" : "version")));
      }
    }
  });
}

void yumPin(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  rpmPin(self, o, sink, {"yum"});
}
void dnfPin(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  rpmPin(self, o, sink, {"dnf", "microdnf"});
}

void zypperPin(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  forEachRun(*o.dockerfile,
             [&](const Instruction&, const std::vector<Cmd>& cmds, const std::string& path) {
               for (const Cmd& c : cmds) {
                 if (c.name != "zypper") continue;
                 std::vector<const shell::Word*> ws = words(c);
                 if (ws.empty() || (ws[0]->text != "install" && ws[0]->text != "in")) continue;
                 for (size_t i = 1; i < ws.size(); ++i) {
                   std::string_view p = ws[i]->text;
                   if (p.find_first_of("=<>") != std::string_view::npos || p.ends_with(".rpm"))
                     continue;
                   sink.add(self.finding(o, c.posOf(*ws[i]), path,
                                         fmt::format("zypper install {} names no version", p)));
                 }
               }
             });
}

// --- caches -------------------------------------------------------------------------------

constexpr CheckMeta kYumClean = dockerfileMeta(
    "dockerfile-yum-clean", "yum cache left in the image", Severity::kInfo, true,
    "End the RUN that installs with yum with `yum clean all` (or rm -rf /var/cache/yum).",
    {.hadolint = "DL3032"});
constexpr CheckMeta kDnfClean =
    dockerfileMeta("dockerfile-dnf-clean", "dnf cache left in the image", Severity::kInfo, true,
                   "End the RUN that installs with dnf or microdnf with `dnf clean all` (or rm -rf "
                   "/var/cache/dnf /var/cache/yum).",
                   {.hadolint = "DL3040"});
constexpr CheckMeta kZypperClean = dockerfileMeta(
    "dockerfile-zypper-clean", "zypper cache left in the image", Severity::kInfo, true,
    "End the RUN that installs with zypper with `zypper clean` (or `zypper cc`).",
    {.hadolint = "DL3036"});

// A RUN that installs with one of `programs` and has no clean-up after the first install.
void clean(const FnCheck& self, const Object& o, FindingSink& sink,
           std::initializer_list<std::string_view> programs,
           std::initializer_list<std::string_view> install_verbs,
           std::initializer_list<std::string_view> clean_verbs, std::string_view cache_dir,
           std::string_view cleaner) {
  forEachRun(*o.dockerfile,
             [&](const Instruction& in, const std::vector<Cmd>& cmds, const std::string& path) {
               auto install = std::find_if(cmds.begin(), cmds.end(), [&](const Cmd& c) {
                 return isAny(c.name, programs) && hasVerb(c, install_verbs);
               });
               if (install == cmds.end()) return;
               for (auto it = install + 1; it != cmds.end(); ++it) {
                 if (isAny(it->name, programs) && hasVerb(*it, clean_verbs)) return;
                 if (it->name == "rm")
                   for (const shell::Word& w : it->args)
                     if (w.text.starts_with(cache_dir)) return;
               }
               if (hasCacheMount(in, cache_dir)) return;
               sink.add(self.finding(o, install->pos(), path,
                                     fmt::format("{} install without {} afterwards in the same RUN",
                                                 install->name, cleaner)));
             });
}

void yumClean(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  clean(self, o, sink, {"yum"}, {"install", "groupinstall", "localinstall"}, {"clean"},
        "/var/cache/yum", "yum clean all");
}
void dnfClean(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  clean(self, o, sink, {"dnf", "microdnf"}, {"install", "groupinstall", "localinstall"}, {"clean"},
        "/var/cache/", "dnf clean all");
}
void zypperClean(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  clean(self, o, sink, {"zypper"}, {"install", "in"}, {"clean", "cc"}, "/var/cache/zypp",
        "zypper clean");
}

constexpr CheckMeta kZypperDup = dockerfileMeta(
    "dockerfile-zypper-dist-upgrade", "zypper dist-upgrade in a build", Severity::kLow, true,
    "Do not upgrade the distribution in a build: use a newer base image instead, so the version "
    "is visible in FROM and the same for every build.",
    {.hadolint = "DL3035"});

void zypperDup(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  forEachRun(*o.dockerfile,
             [&](const Instruction&, const std::vector<Cmd>& cmds, const std::string& path) {
               for (const Cmd& c : cmds)
                 if (c.name == "zypper" && hasVerb(c, {"dist-upgrade", "dup"}))
                   sink.add(self.finding(o, c.pos(), path, "zypper dist-upgrade in a build step"));
             });
}

}  // namespace
}  // namespace kh::dockerfile_checks

namespace kh {

void addDockerfileRpmChecks(std::vector<std::unique_ptr<Check>>& out) {
  using namespace dockerfile_checks;
  out.push_back(std::make_unique<FnCheck>(kDnfClean, dnfClean));
  out.push_back(std::make_unique<FnCheck>(kDnfYes, dnfYes));
  out.push_back(std::make_unique<FnCheck>(kDnfPin, dnfPin));
  out.push_back(std::make_unique<FnCheck>(kYumClean, yumClean));
  out.push_back(std::make_unique<FnCheck>(kYumYes, yumYes));
  out.push_back(std::make_unique<FnCheck>(kYumPin, yumPin));
  out.push_back(std::make_unique<FnCheck>(kZypperClean, zypperClean));
  out.push_back(std::make_unique<FnCheck>(kZypperDup, zypperDup));
  out.push_back(std::make_unique<FnCheck>(kZypperYes, zypperYes));
  out.push_back(std::make_unique<FnCheck>(kZypperPin, zypperPin));
}

}  // namespace kh
