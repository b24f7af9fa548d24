// Dockerfile checks of RUN's shell commands: hadolint's shell rules (cd, sudo, pipefail, pointless
// commands, the package managers' pinning, flags and caches) and the security checks hadolint
// lacks (curl | sh, TLS verification turned off, chmod 777).
#include <fmt/format.h>

#include <algorithm>

#include "checks/dockerfile/dockerfile_checks.h"
#include "checks/dockerfile/util.h"

namespace kh::dockerfile_checks {
namespace {

// Every command of every RUN (ONBUILD's included): fn(cmd, path).
template <typename Fn>
void eachCommand(const Dockerfile& df, Fn fn) {
  forEachRun(df, [&](const Instruction&, const std::vector<Cmd>& cmds, const std::string& path) {
    for (const Cmd& c : cmds) fn(c, path);
  });
}

constexpr CheckMeta kCd = dockerfileMeta(
    "dockerfile-cd", "RUN changes directory with cd", Severity::kInfo, true,
    "Use WORKDIR to change the directory for the instructions that follow; `cd` lasts only for "
    "its RUN.",
    {.hadolint = "DL3003"});

void cd(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  eachCommand(*o.dockerfile, [&](const Cmd& c, const std::string& path) {
    if (c.name == "cd")
      sink.add(self.finding(o, c.pos(), path, "cd in RUN: use WORKDIR to switch directory"));
  });
}

constexpr CheckMeta kSudo = dockerfileMeta(
    "dockerfile-sudo", "RUN uses sudo", Severity::kMedium, true,
    "Do not install or use sudo: RUN already runs as the current USER; switch USER around the "
    "steps that need root instead.",
    {.trivy = "DS-0010", .hadolint = "DL3004"});

void sudo(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  eachCommand(*o.dockerfile, [&](const Cmd& c, const std::string& path) {
    if (c.name == "sudo")
      sink.add(self.finding(o, c.pos(), path,
                            "sudo in RUN: it gives unpredictable TTY and signal behaviour and "
                            "keeps a setuid root binary in the image"));
  });
}

constexpr CheckMeta kPointless = dockerfileMeta(
    "dockerfile-pointless-command", "RUN uses a command that makes no sense in a build",
    Severity::kInfo, true,
    "Remove interactive or system-management commands (ssh, vim, shutdown, service, ps, free, "
    "top, kill, mount, ifconfig) from RUN: a build step has no session, services or kernel to "
    "manage.",
    {.hadolint = "DL3001"});

void pointless(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  static constexpr std::string_view kNames[] = {"free",    "ifconfig", "kill", "mount", "ps",
                                                "service", "shutdown", "ssh",  "top",   "vim"};
  eachCommand(*o.dockerfile, [&](const Cmd& c, const std::string& path) {
    if (std::find(std::begin(kNames), std::end(kNames), c.name) == std::end(kNames)) return;
    sink.add(
        self.finding(o, c.pos(), path, fmt::format("{} makes no sense in a build step", c.name)));
  });
}

constexpr CheckMeta kPipefail = dockerfileMeta(
    "dockerfile-pipefail", "RUN with a pipe without pipefail", Severity::kLow, true,
    "Set SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"] (or /bin/ash on Alpine) before a "
    "RUN that pipes, so a failure on the left of | fails the build.",
    {.hadolint = "DL4006"});

void pipefail(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Dockerfile& df = *o.dockerfile;
  bool safe = false;  // the stage's SHELL sets -o pipefail, or is not a POSIX shell
  for (const Instruction& in : df.instructions) {
    if (in.keyword == Keyword::kFrom) safe = false;
    if (in.keyword == Keyword::kShell) {
      std::string_view prog = in.words.empty() ? "" : shell::programName(in.words[0].text);
      bool posix = prog == "sh" || prog == "bash" || prog == "zsh" || prog == "ash" ||
                   prog == "dash" || prog == "ksh";
      bool has = false;  // -o pipefail, or -euo pipefail and the like
      for (size_t i = 1; i + 1 < in.words.size(); ++i) {
        std::string_view w = in.words[i].text;
        has |= w.size() > 1 && w[0] == '-' && w[1] != '-' &&
               w.find('o') != std::string_view::npos && in.words[i + 1].text == "pipefail";
      }
      safe = !posix || (has && (prog == "bash" || prog == "zsh" || prog == "ash"));
    }
    if (in.keyword != Keyword::kRun || safe) continue;
    auto piped = std::find_if(in.commands.begin(), in.commands.end(),
                              [](const shell::Command& c) { return c.next == shell::Op::kPipe; });
    if (piped == in.commands.end()) continue;
    sink.add(self.finding(o, in.posOf(*piped, piped->args[0]), pathOf(df, in),
                          fmt::format("RUN pipes {} into another command without -o pipefail: "
                                      "its failure does not fail the build",
                                      shell::programName(piped->args[0].text))));
  }
}

constexpr CheckMeta kWgetCurl = dockerfileMeta(
    "dockerfile-wget-and-curl", "Both wget and curl are used", Severity::kInfo, true,
    "Use one download tool (curl or wget) throughout, so the image installs one, not two.",
    {.hadolint = "DL4001"});

void wgetCurl(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Dockerfile& df = *o.dockerfile;
  // Per stage, as hadolint: the later tool of the two is reported where it is used.
  for (const dockerfile::Stage& st : df.stages) {
    bool wget = false, curl = false;
    for (uint32_t i = st.from; i < st.end; ++i) {
      const Instruction& in = df.instructions[i];
      for (const Cmd& c : commandsOf(in)) {
        bool is_wget = c.name == "wget", is_curl = c.name == "curl";
        if ((is_wget && curl) || (is_curl && wget))
          sink.add(self.finding(o, c.pos(), pathOf(df, in),
                                fmt::format("{} is used here and {} elsewhere in the stage", c.name,
                                            is_wget ? "curl" : "wget")));
        wget |= is_wget;
        curl |= is_curl;
      }
    }
  }
}

// --- security --------------------------------------------------------------------------

constexpr CheckMeta kPipeShell = dockerfileMeta(
    "dockerfile-curl-pipe-shell", "RUN pipes a download into a shell", Severity::kHigh, true,
    "Download the script to a file, verify its checksum or signature (sha256sum -c), then run "
    "it; or install the tool from a package with a pinned version.",
    {});

bool isInterpreter(std::string_view name) {
  static constexpr std::string_view kNames[] = {"sh",     "bash",    "ash",  "dash", "zsh",  "ksh",
                                                "python", "python3", "perl", "ruby", "node", "php"};
  return std::find(std::begin(kNames), std::end(kNames), name) != std::end(kNames);
}

void pipeShell(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Dockerfile& df = *o.dockerfile;
  forEachInstruction(df, [&](const Instruction& in, const Instruction* outer) {
    std::vector<Cmd> cmds = commandsOf(in);
    for (size_t i = 0; i + 1 < cmds.size(); ++i) {
      if (cmds[i].name != "curl" && cmds[i].name != "wget") continue;
      if (cmds[i].cmd->next != shell::Op::kPipe) continue;
      // The next command of the pipeline (commands of substitutions come before it).
      size_t j = i + 1;
      while (j < cmds.size() && !cmds[j].cmd->piped_in) ++j;
      if (j >= cmds.size()) continue;
      std::string_view target = cmds[j].name;
      if (target == "sudo" && !cmds[j].args.empty())
        target = shell::programName(cmds[j].args[0].text);
      if (!isInterpreter(target)) continue;
      sink.add(self.finding(o, cmds[i].pos(), pathOf(df, in, outer),
                            fmt::format("{} output is piped into {}: whatever the server sends "
                                        "runs in the build, unverified",
                                        cmds[i].name, target)));
    }
  });
}

constexpr CheckMeta kTls = dockerfileMeta(
    "dockerfile-tls-verify-off", "A download turns TLS verification off", Severity::kHigh, true,
    "Keep certificate verification on; install the CA the server uses (COPY it and run "
    "update-ca-certificates) instead of turning verification off.",
    {});

void tls(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Dockerfile& df = *o.dockerfile;
  auto report = [&](SourcePos pos, const std::string& path, std::string what) {
    sink.add(self.finding(
        o, pos, path, fmt::format("{}: the download can be replaced by anyone on the path", what)));
  };
  forEachInstruction(df, [&](const Instruction& in, const Instruction* outer) {
    std::string path = pathOf(df, in, outer);
    if (in.keyword == Keyword::kEnv || in.keyword == Keyword::kArg) {
      for (const dockerfile::Pair& p : in.pairs) {
        std::string_view k = p.key.text, v = p.value.text;
        if ((k == "NODE_TLS_REJECT_UNAUTHORIZED" && v == "0") ||
            (k == "PYTHONHTTPSVERIFY" && v == "0") ||
            ((k == "GIT_SSL_NO_VERIFY") && !v.empty() && v != "0" && v != "false") ||
            (k == "PIP_TRUSTED_HOST" && !v.empty()) ||
            ((k == "NPM_CONFIG_STRICT_SSL" || k == "npm_config_strict_ssl") && v == "false"))
          report(p.key.pos, path, fmt::format("{} {}={}", keywordName(in.keyword), k, v));
      }
      return;
    }
    for (const Cmd& c : commandsOf(in)) {
      std::string_view n = c.name;
      if (n == "curl" && c.hasAnyFlag({"k", "insecure"})) {
        report(c.pos(), path, "curl -k/--insecure");
      } else if (n == "wget" && c.hasFlag("no-check-certificate")) {
        report(c.pos(), path, "wget --no-check-certificate");
      } else if ((n == "pip" || n == "pip3") && c.hasFlag("trusted-host")) {
        report(c.pos(), path, fmt::format("{} --trusted-host", n));
      } else if ((n == "npm" || n == "yarn") && c.hasArg("strict-ssl") && c.hasArg("false")) {
        report(c.pos(), path, fmt::format("{} config set strict-ssl false", n));
      } else if (n == "git") {
        for (const shell::Word& w : c.args) {
          std::string lower(w.text);
          for (char& ch : lower)
            ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
          if (lower == "http.sslverify=false" || lower == "http.sslverify") {
            if (lower == "http.sslverify" && !c.hasArg("false")) continue;
            report(c.pos(), path, "git http.sslVerify=false");
            break;
          }
        }
      } else if ((n == "apt-get" || n == "apt") && c.hasFlag("allow-unauthenticated")) {
        report(c.pos(), path, fmt::format("{} --allow-unauthenticated", n));
      } else if ((n == "yum" || n == "dnf" || n == "microdnf") && c.hasFlag("nogpgcheck")) {
        report(c.pos(), path, fmt::format("{} --nogpgcheck", n));
      } else if (n == "apk" && c.hasFlag("allow-untrusted")) {
        report(c.pos(), path, "apk --allow-untrusted");
      }
    }
  });
}

constexpr CheckMeta kChmod = dockerfileMeta(
    "dockerfile-chmod-777", "RUN makes files writable by everyone", Severity::kMedium, true,
    "Give files the least mode they need (755 for programs, 644 for data) and the runtime user "
    "ownership with COPY --chown, instead of chmod 777.",
    {});

void chmod777(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  eachCommand(*o.dockerfile, [&](const Cmd& c, const std::string& path) {
    if (c.name != "chmod") return;
    for (const shell::Word& w : c.args) {
      std::string_view m = w.text;
      bool world_writable =
          (m.size() >= 3 &&
           std::all_of(m.begin(), m.end(), [](char ch) { return ch >= '0' && ch <= '7'; }) &&
           ((m.back() - '0') & 2)) ||
          m == "a+w" || m == "o+w" || m == "a+rwx" || m == "o+rwx" || m == "ugo+rwx" || m == "+w";
      if (!world_writable) continue;
      sink.add(self.finding(o, c.posOf(w), path,
                            fmt::format("chmod {} makes files writable by every user", m)));
      return;
    }
  });
}

}  // namespace
}  // namespace kh::dockerfile_checks

namespace kh {

void addDockerfileRunChecks(std::vector<std::unique_ptr<Check>>& out) {
  using namespace dockerfile_checks;
  out.push_back(std::make_unique<FnCheck>(kCd, cd));
  out.push_back(std::make_unique<FnCheck>(kChmod, chmod777));
  out.push_back(std::make_unique<FnCheck>(kPipeShell, pipeShell));
  out.push_back(std::make_unique<FnCheck>(kPipefail, pipefail));
  out.push_back(std::make_unique<FnCheck>(kPointless, pointless));
  out.push_back(std::make_unique<FnCheck>(kSudo, sudo));
  out.push_back(std::make_unique<FnCheck>(kTls, tls));
  out.push_back(std::make_unique<FnCheck>(kWgetCurl, wgetCurl));
}

}  // namespace kh
