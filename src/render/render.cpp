#include "render/render.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "base/process.h"
#include "base/scratch_dir.h"
#include "load/loader.h"

#ifndef KH_TOOLS_DIR
#define KH_TOOLS_DIR ""
#endif

namespace kh::render {
namespace fs = std::filesystem;
namespace {

std::string envOr(const char* name, std::string fallback = {}) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

// The environment of a tool: nothing of the user's credentials or configuration, a private
// home, and every proxy pointed at a closed local port, so a fetch fails at once instead of
// reaching the network.
std::vector<std::string> toolEnv(const std::string& home) {
  std::vector<std::string> env = {
      "PATH=" + envOr("PATH", "/usr/bin:/bin"),
      "HOME=" + home,
      "TMPDIR=" + home,
      "LANG=C",
      "KUBECONFIG=/dev/null",
      "HELM_CONFIG_HOME=" + home + "/config",
      "HELM_CACHE_HOME=" + home + "/cache",
      "HELM_DATA_HOME=" + home + "/data",
      "HELM_PLUGINS=" + home + "/plugins",
      "HELM_REGISTRY_CONFIG=" + home + "/registry.json",
      "XDG_CONFIG_HOME=" + home + "/config",
      "XDG_CACHE_HOME=" + home + "/cache",
      "XDG_DATA_HOME=" + home + "/data",
      "KUSTOMIZE_PLUGIN_HOME=" + home + "/plugins",
      "HELM_NO_PLUGINS=1",
      "NO_COLOR=1",
      "GIT_TERMINAL_PROMPT=0",
      "GIT_CONFIG_NOSYSTEM=1",
  };
  for (const char* p :
       {"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"})
    env.push_back(std::string(p) + "=http://127.0.0.1:9");
  env.push_back("NO_PROXY=");
  env.push_back("no_proxy=");
  return env;
}

std::string firstLines(std::string_view s, size_t max_lines) {
  std::string out;
  size_t n = 0;
  while (!s.empty() && n < max_lines) {
    size_t nl = s.find('\n');
    std::string_view line = s.substr(0, nl);
    s = nl == std::string_view::npos ? std::string_view() : s.substr(nl + 1);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    size_t start = line.find_first_not_of(' ');
    if (start == std::string_view::npos) continue;
    line = line.substr(start);
    if (line.starts_with("Use --debug flag")) continue;
    if (!out.empty()) out += ' ';
    out += line;
    ++n;
  }
  return out;
}

// The chart file a helm message names ("apache/templates/x.yaml"), as a path under the chart
// as given: the first segment is the chart's name, the rest its path in the chart directory.
std::string chartFile(const Root& root, std::string_view helm_path) {
  size_t slash = helm_path.find('/');
  std::string_view rest = slash == std::string_view::npos ? helm_path : helm_path.substr(slash + 1);
  if (root.archive) return fmt::format("{}:{}", root.path, helm_path);
  return (fs::path(root.path) / rest).string();
}

// The first `chart/templates/x.yaml:LINE[:COL]` in a helm message.
struct TemplateAt {
  size_t begin = std::string::npos, end = 0;  // the span in the message
  std::string path;
  uint32_t line = 0, col = 0;
};

TemplateAt findTemplateAt(std::string_view msg) {
  auto pathChar = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  };
  auto digits = [&](size_t& i, uint32_t& out) {
    size_t start = i;
    uint64_t v = 0;
    while (i < msg.size() && std::isdigit(static_cast<unsigned char>(msg[i])) && i - start < 9)
      v = v * 10 + static_cast<uint64_t>(msg[i++] - '0');
    out = static_cast<uint32_t>(v);
    return i > start;
  };
  for (size_t b = 0; b < msg.size(); ++b) {
    if (!pathChar(msg[b]) || (b > 0 && (pathChar(msg[b - 1]) || msg[b - 1] == '/'))) continue;
    size_t i = b;
    bool slash = false;
    while (i < msg.size() &&
           (pathChar(msg[i]) || (msg[i] == '/' && i + 1 < msg.size() && pathChar(msg[i + 1])))) {
      slash = slash || msg[i] == '/';
      ++i;
    }
    if (!slash || i >= msg.size() || msg[i] != ':') continue;
    TemplateAt at;
    at.begin = b;
    at.path = std::string(msg.substr(b, i - b));
    ++i;
    if (!digits(i, at.line)) continue;
    if (i + 1 < msg.size() && msg[i] == ':' &&
        std::isdigit(static_cast<unsigned char>(msg[i + 1]))) {
      ++i;
      digits(i, at.col);
    }
    at.end = i;
    return at;
  }
  return {};
}

Error helmError(const Root& root, const std::string& err) {
  constexpr std::string_view kMissing = "missing in charts/ directory: ";
  if (size_t at = err.find(kMissing); at != std::string::npos) {
    std::string_view deps = std::string_view(err).substr(at + kMissing.size());
    deps = deps.substr(0, deps.find('\n'));
    return Error{fmt::format("chart dependency {} is missing from charts/: run `helm dependency "
                             "build {}` where the network is available (kubeharden never "
                             "fetches)",
                             deps, root.path),
                 (fs::path(root.path) / "Chart.yaml").string(),
                 {}};
  }
  std::string msg = firstLines(err, 6);
  if (msg.starts_with("Error: ")) msg.erase(0, 7);
  Error e{"", root.path, {}};
  if (TemplateAt at = findTemplateAt(msg); at.begin != std::string::npos) {
    e.file = chartFile(root, at.path);
    e.pos = {at.line, at.col};
    // The location is the error's own now: take it out of the message when it leads it
    // ("execution error at (x.yaml:8:26): msg", "x.yaml:6:48 executing ...").
    std::string_view lead = std::string_view(msg).substr(0, at.begin);
    if (lead.empty() || lead == "execution error at (" || lead == "parse error at (") {
      size_t cut = at.end;
      if (cut < msg.size() && msg[cut] == ')') ++cut;
      if (cut < msg.size() && msg[cut] == ':') ++cut;
      while (cut < msg.size() && msg[cut] == ' ') ++cut;
      msg.erase(0, cut);
    }
  }
  e.message = fmt::format("helm template failed: {}", msg);
  return e;
}

// kustomize's message as the user's own build prints it (the caller re-runs the plain command
// for it), without kubectl's log header ("E1206 06:10:04.401199 20718 run.go:72] \"command
// failed\" err=...") and quoting, so the message is the same on every run.
Error kustomizeError(const Root& root, const std::string& err) {
  std::string msg = firstLines(err, 8);
  // kubectl's log header: "E1206 06:10:04.401199   20718 run.go:72] ".
  if (msg.size() > 6 && std::string_view("EWIF").find(msg[0]) != std::string_view::npos &&
      std::isdigit(static_cast<unsigned char>(msg[1])))
    if (size_t close = msg.find("] "); close != std::string::npos && close < 64)
      msg.erase(0, close + 2);
  for (std::string_view prefix : {"\"command failed\" err=", "Error: ", "error: "})
    if (msg.starts_with(prefix)) msg.erase(0, prefix.size());
  if (msg.size() >= 2 &&
      ((msg.front() == '"' && msg.back() == '"') || (msg.front() == '<' && msg.back() == '>'))) {
    msg = msg.substr(1, msg.size() - 2);
    while (!msg.empty() && (msg.front() == ' ' || msg.front() == '\t')) msg.erase(0, 1);
    while (!msg.empty() && (msg.back() == ' ' || msg.back() == '\t')) msg.pop_back();
  }
  for (char& c : msg)
    if (c == '\t') c = ' ';
  std::string file = kustomizationFile(root.path);
  return Error{fmt::format("kustomize build failed: {}", msg), file.empty() ? root.path : file, {}};
}

Error startError(std::string_view tool, const std::string& path, const ProcessResult& p,
                 std::chrono::milliseconds timeout, const Root& root) {
  if (!p.started)
    return Error{fmt::format("cannot run {} ({}): {}", tool, path, p.start_error), root.path, {}};
  if (p.timed_out)
    return Error{fmt::format("{} did not finish within {} s and was stopped (--render-timeout)",
                             tool, timeout.count() / 1000),
                 root.path,
                 {}};
  return Error{fmt::format("{} output exceeds the {} MiB input limit", tool, 64), root.path, {}};
}

std::string missingTool(std::string_view tool, const Root& root) {
  if (tool == "helm")
    return fmt::format(
        "helm is needed to render the chart and was not found (PATH, $KUBEHARDEN_HELM, --helm): "
        "install helm (scripts/install-deps does), or render it yourself and pipe: `helm "
        "template release-name {} | kubeharden scan -`",
        root.path);
  return fmt::format(
      "kustomize (or kubectl) is needed to build the kustomization and was not found (PATH, "
      "$KUBEHARDEN_KUSTOMIZE, --kustomize): install kubectl or kustomize (scripts/install-deps "
      "does), or build it yourself and pipe: `kustomize build {} | kubeharden scan -`",
      root.path);
}

size_t indentOf(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && line[i] == ' ') ++i;
  return i;
}

std::vector<std::string> stderrLines(std::string_view err) {
  std::vector<std::string> out;
  while (!err.empty() && out.size() < 20) {
    size_t nl = err.find('\n');
    std::string_view line = err.substr(0, nl);
    err = nl == std::string_view::npos ? std::string_view() : err.substr(nl + 1);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.starts_with("# ")) line.remove_prefix(2);
    if (!line.empty()) out.emplace_back(line);
  }
  return out;
}

std::vector<std::string> helmCommand(const Root& root, const HelmInputs& h) {
  std::vector<std::string> c = {"helm", "template",
                                h.release_name.empty() ? "release-name" : h.release_name, root.path,
                                "--include-crds"};
  if (!h.namespace_.empty()) c.insert(c.end(), {"--namespace", h.namespace_});
  if (!h.kube_version.empty()) c.insert(c.end(), {"--kube-version", h.kube_version});
  for (const std::string& v : h.api_versions) c.insert(c.end(), {"--api-versions", v});
  for (const std::string& f : h.values_files) c.insert(c.end(), {"--values", f});
  for (const std::string& v : h.set) c.insert(c.end(), {"--set", v});
  for (const std::string& v : h.set_string) c.insert(c.end(), {"--set-string", v});
  for (const std::string& v : h.set_file) c.insert(c.end(), {"--set-file", v});
  for (const std::string& v : h.set_json) c.insert(c.end(), {"--set-json", v});
  return c;
}

std::vector<std::string> kustomizeCommand(const Root& root, const Settings& s) {
  if (s.tools.kustomize_is_kubectl || s.tools.kustomize.empty())
    return {"kubectl", "kustomize", root.path};
  return {"kustomize", "build", root.path};
}

}  // namespace

Tools findTools(const std::string& helm, const std::string& kustomize) {
  Tools t;
  std::string path = envOr("PATH");
  std::string fallback = KH_TOOLS_DIR;
  auto find = [&](const std::string& given, const char* env,
                  std::initializer_list<const char*> names) {
    for (const std::string& g : {given, envOr(env)})
      if (!g.empty()) return findExecutable(g, path);  // named: that one or none
    for (const char* n : names)
      if (std::string p = findExecutable(n, path); !p.empty()) return p;
    for (const char* n : names)
      if (std::string p = findExecutable(n, fallback); !p.empty()) return p;
    return std::string();
  };
  t.helm = find(helm, "KUBEHARDEN_HELM", {"helm"});
  t.kustomize = find(kustomize, "KUBEHARDEN_KUSTOMIZE", {"kustomize", "kubectl"});
  t.kustomize_is_kubectl = fs::path(t.kustomize).filename().string().starts_with("kubectl");
  return t;
}

std::string shellQuote(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& a : argv) {
    if (!out.empty()) out += ' ';
    bool plain = !a.empty() &&
                 a.find_first_not_of(
                     "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,@+%") ==
                     std::string::npos;
    if (plain) {
      out += a;
      continue;
    }
    out += '\'';
    for (char c : a) {
      if (c == '\'')
        out += "'\\''";
      else
        out += c;
    }
    out += '\'';
  }
  return out;
}

std::vector<std::string> stripOrigins(std::string& text) {
  std::vector<std::string> origins;
  std::string out;
  out.reserve(text.size());
  std::string_view rest = text;
  std::vector<std::string_view> lines;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    lines.push_back(rest.substr(0, nl == std::string_view::npos ? rest.size() : nl + 1));
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  }
  std::string current;  // this document's origin
  bool any_line = false;
  auto endDocument = [&] {
    if (any_line) origins.push_back(current);
    current.clear();
    any_line = false;
  };
  constexpr std::string_view kKey = "config.kubernetes.io/origin: |";
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    std::string_view bare = line;
    while (!bare.empty() && (bare.back() == '\n' || bare.back() == '\r')) bare.remove_suffix(1);
    if (bare == "---") {
      endDocument();
      out += line;
      continue;
    }
    size_t ind = indentOf(bare);
    if (bare.substr(ind).starts_with(kKey)) {
      size_t j = i + 1;
      std::string path, configured_in;
      for (; j < lines.size(); ++j) {
        std::string_view l = lines[j];
        while (!l.empty() && (l.back() == '\n' || l.back() == '\r')) l.remove_suffix(1);
        if (!l.empty() && indentOf(l) <= ind) break;
        std::string_view c = l.substr(std::min(l.size(), indentOf(l)));
        if (c.starts_with("path: ")) path = std::string(c.substr(6));
        if (c.starts_with("configuredIn: ")) configured_in = std::string(c.substr(14));
      }
      current = path.empty() ? configured_in : path;
      // An annotations map that held only the origin goes too.
      std::string_view prev = out;
      size_t prev_start = prev.size() ? prev.rfind('\n', prev.size() - 2) : std::string_view::npos;
      prev_start = prev_start == std::string_view::npos ? 0 : prev_start + 1;
      std::string_view prev_line = prev.substr(prev_start);
      std::string_view next = j < lines.size() ? lines[j] : std::string_view();
      bool next_is_sibling = !next.empty() && indentOf(next) == ind;
      if (prev_line.substr(indentOf(prev_line)).starts_with("annotations:") &&
          indentOf(prev_line) + 2 == ind && !next_is_sibling)
        out.resize(prev_start);
      i = j - 1;
      continue;
    }
    if (!bare.empty()) any_line = true;
    out += line;
  }
  endDocument();
  text = std::move(out);
  return origins;
}

Rendered renderRun(const Root& root, const Run& run, const Settings& s) {
  Rendered r;
  if (root.error) {
    r.command = root.tool == Tool::kHelm ? helmCommand(root, run.helm) : kustomizeCommand(root, s);
    r.error = root.error;
    return r;
  }
  ScratchDir home("kubeharden-render");
  if (home.path().empty()) {
    r.error = Error{"cannot create a temporary directory for the tool", root.path, {}};
    return r;
  }
  for (const char* sub : {"config", "cache", "data", "plugins"}) {
    std::error_code ec;
    fs::create_directories(fs::path(home.path()) / sub, ec);
  }
  ProcessOptions po;
  po.env = toolEnv(home.path());
  po.timeout = s.timeout;
  po.max_output = s.max_output;

  if (root.tool == Tool::kHelm) {
    for (const std::string& f : run.helm.values_files)
      if (f.find("://") != std::string::npos) {
        r.error = Error{fmt::format("values file {} is a URL: kubeharden never fetches; download "
                                    "it and pass the file",
                                    f),
                        root.path,
                        {}};
        return r;
      }
    r.command = helmCommand(root, run.helm);
    std::vector<std::string> args(r.command.begin() + 1, r.command.end());
    if (s.tools.helm.empty()) {
      r.error = Error{missingTool("helm", root), root.path, {}};
      return r;
    }
    std::vector<std::string> argv = {s.tools.helm};
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessResult p = runProcess(argv, po);
    if (!p.started || p.timed_out || p.truncated) {
      r.error = startError("helm", s.tools.helm, p, s.timeout, root);
      return r;
    }
    if (p.exit_code != 0) {
      r.error = helmError(root, p.err.empty() ? p.out : p.err);
      return r;
    }
    r.text = std::move(p.out);
    r.warnings = stderrLines(p.err);
    return r;
  }

  // kustomize: the user's command, run through a wrapper kustomization in the scratch directory
  // that adds origin annotations (which file each object came from); they are taken out again,
  // so the objects are the user's build byte for byte.
  r.command = kustomizeCommand(root, s);
  if (s.tools.kustomize.empty()) {
    r.error = Error{missingTool("kustomize", root), root.path, {}};
    return r;
  }
  std::error_code ec;
  fs::path wrapper = fs::path(home.path()) / "wrap";
  fs::create_directories(wrapper, ec);
  fs::path real_wrapper = fs::canonical(wrapper, ec);
  fs::path real_root = fs::canonical(root.path, ec);
  std::string rel = fs::relative(real_root, real_wrapper, ec).string();
  if (ec || rel.empty()) {
    r.error = Error{"cannot resolve the kustomization's directory", root.path, {}};
    return r;
  }
  {
    std::ofstream k(wrapper / "kustomization.yaml");
    k << "resources:\n- " << rel << "\nbuildMetadata: [originAnnotations]\n";
  }
  std::vector<std::string> argv = {s.tools.kustomize};
  if (s.tools.kustomize_is_kubectl)
    argv.insert(argv.end(), {"kustomize", real_wrapper.string()});
  else
    argv.insert(argv.end(), {"build", real_wrapper.string()});
  ProcessResult p = runProcess(argv, po);
  if (!p.started || p.timed_out || p.truncated) {
    r.error = startError(s.tools.kustomize_is_kubectl ? "kubectl kustomize" : "kustomize build",
                         s.tools.kustomize, p, s.timeout, root);
    return r;
  }
  if (p.exit_code != 0) {
    // The user's own command says what is wrong in the user's terms (the wrapper would add its
    // own layer to the message): run it for the message.
    std::vector<std::string> plain = {s.tools.kustomize};
    plain.insert(plain.end(), r.command.begin() + 1, r.command.end());
    ProcessResult again = runProcess(plain, po);
    const ProcessResult& said = again.started && again.exit_code != 0 ? again : p;
    r.error = kustomizeError(root, said.err.empty() ? said.out : said.err);
    return r;
  }
  r.text = std::move(p.out);
  r.warnings = stderrLines(p.err);
  std::vector<std::string> origins = stripOrigins(r.text);
  for (const std::string& o : origins) {
    if (o.empty()) {
      r.origins.emplace_back();
      continue;
    }
    fs::path abs = (real_wrapper / o).lexically_normal();
    fs::path in_root = fs::relative(abs, real_root, ec);
    r.origins.push_back(ec ? abs.string()
                           : (fs::path(root.path) / in_root).lexically_normal().string());
  }
  return r;
}

// The renderings of the planned roots: a chart once with the command line's inputs, or once per
// config entry naming it (entry first, command line after, so the command line wins), plus each
// ci values file with --chart-ci-values; a kustomization once.
std::vector<Run> planRuns(const Plan& plan, const HelmInputs& cli,
                          const std::vector<ChartConfig>& charts, bool ci_values) {
  std::vector<Run> runs;
  auto append = [](HelmInputs& to, const HelmInputs& from) {
    auto add = [](std::vector<std::string>& a, const std::vector<std::string>& b) {
      a.insert(a.end(), b.begin(), b.end());
    };
    add(to.values_files, from.values_files);
    add(to.set, from.set);
    add(to.set_string, from.set_string);
    add(to.set_file, from.set_file);
    add(to.set_json, from.set_json);
    add(to.api_versions, from.api_versions);
    if (!from.release_name.empty()) to.release_name = from.release_name;
    if (!from.namespace_.empty()) to.namespace_ = from.namespace_;
    if (!from.kube_version.empty()) to.kube_version = from.kube_version;
  };
  for (size_t i = 0; i < plan.roots.size(); ++i) {
    const Root& root = plan.roots[i];
    if (root.tool == Tool::kKustomize) {
      runs.push_back({i, root.path, {}, {}});
      continue;
    }
    std::string norm = normalPath(root.path);
    bool configured = false;
    for (const ChartConfig& c : charts) {
      if (normalPath(c.path) != norm) continue;
      configured = true;
      Run run{i, root.path, c.name, c.helm};
      if (!c.name.empty()) run.name = fmt::format("{}[{}]", root.path, c.name);
      append(run.helm, cli);
      runs.push_back(std::move(run));
    }
    if (!configured) {
      Run run{i, root.path, {}, {}};
      append(run.helm, cli);
      runs.push_back(std::move(run));
    }
    if (ci_values && !root.archive)
      for (const std::string& ci : root.ci_values) {
        Run run{i, fmt::format("{}[{}]", root.path, ci), ci, {}};
        run.helm.values_files.push_back((std::filesystem::path(root.path) / ci).string());
        append(run.helm, cli);
        runs.push_back(std::move(run));
      }
  }
  return runs;
}

Rendered renderInto(const Root& root, const Run& run, const Settings& settings,
                    const LoadOptions& lo, SourceFile& f) {
  Rendered out = renderRun(root, run, settings);
  f.path = run.name;
  if (out.error) {
    f.error = out.error;
    return out;
  }
  f.buffer = std::move(out.text);
  out.text.clear();
  parseSource(lo, f);
  std::string_view tool = root.tool == Tool::kHelm ? "helm" : "kustomize";
  for (const std::string& w : out.warnings)
    f.diagnostics.push_back({"render-tool-warning", fmt::format("{}: {}", tool, w), run.name, {}});
  if (!f.error && f.objects.empty())
    f.diagnostics.push_back(
        {"render-empty",
         fmt::format("{} rendered no Kubernetes objects (`{}`)", run.name, shellQuote(out.command)),
         run.name,
         {}});
  return out;
}

}  // namespace kh::render
