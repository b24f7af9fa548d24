#include "render/detect.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "base/arena.h"
#include "base/strings.h"
#include "load/yaml_reader.h"
#include "render/archive.h"

namespace kh::render {
namespace fs = std::filesystem;
namespace {

struct Yaml {
  std::string text;
  Arena arena;
  const Node* root = nullptr;
  std::optional<Error> error;
};

// Parses the first document of `text`; error set when it is not YAML.
void parseYaml(std::string_view name, Yaml& y) {
  std::vector<Diagnostic> ignored;
  ParseOutput p = parseYamlStream(y.text, name, y.arena, LoadLimits{}, ignored);
  if (p.error) y.error = p.error;
  if (!p.documents.empty()) y.root = p.documents.front().root;
}

bool isChartArchiveName(const std::string& name) {
  return name.ends_with(".tgz") || name.ends_with(".tar.gz");
}

// The name of a packaged chart: its top-level directory holding Chart.yaml; empty when the
// archive is not a chart.
std::string chartNameOfArchive(const std::string& path, std::optional<Error>& error) {
  std::string name;
  Status s = readTgz(
      path,
      [](std::string_view entry) {
        size_t slash = entry.find('/');
        return slash != std::string_view::npos && entry.substr(slash + 1) == "Chart.yaml";
      },
      [&](std::string_view entry, std::string&& content) {
        Yaml y;
        y.text = std::move(content);
        parseYaml(entry, y);
        std::string_view n = getStr(y.root, "name");
        name = n.empty() ? std::string(entry.substr(0, entry.find('/'))) : std::string(n);
        return false;
      });
  if (!s) error = s.error();
  return name;
}

bool looksRemote(std::string_view ref) {
  if (ref.find("://") != std::string_view::npos || ref.starts_with("git@") ||
      ref.find("?ref=") != std::string_view::npos ||
      ref.find("?version=") != std::string_view::npos)
    return true;
  // github.com/org/repo//path: a host name as the first segment.
  std::string_view first = ref.substr(0, ref.find('/'));
  return ref.find('/') != std::string_view::npos && first.find('.') != std::string_view::npos &&
         first != "." && first != ".." && !first.starts_with('.');
}

struct KustRef {
  std::string value;
  SourcePos pos;
};

struct Kustomization {
  std::string file;  // the kustomization file
  bool component = false;
  std::vector<KustRef> refs;  // every path it names (files and directories)
  std::vector<KustRef> helm;  // helmCharts entries (need --enable-helm)
  std::vector<Patch> patches;
  std::optional<Error> error;
};

// The line of `text` (1-based) and its indentation.
uint32_t indentOfLine(std::string_view text, uint32_t line) {
  for (uint32_t n = 1; n < line && !text.empty(); ++n) {
    size_t nl = text.find('\n');
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
  }
  uint32_t i = 0;
  while (i < text.size() && text[i] == ' ') ++i;
  return i;
}

char charAt(std::string_view text, SourcePos pos) {
  for (uint32_t n = 1; n < pos.line && !text.empty(); ++n) {
    size_t nl = text.find('\n');
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
  }
  return pos.col >= 1 && pos.col - 1 < text.size() ? text[pos.col - 1] : '\0';
}

// A patch entry: by path, or inline (a block scalar in the kustomization), with its target.
void addPatch(const std::string& dir, const std::string& file, std::string_view file_text,
              const Node* item, std::vector<Patch>& out) {
  Patch p;
  const Node* text = item && item->isString() ? item : get(item, "patch");
  const Node* path = get(item, "path");
  if (item && item->isString() && item->text.find('\n') == std::string_view::npos &&
      item->text.find(": ") == std::string_view::npos) {
    path = item;
    text = nullptr;
  }
  const Node* target = get(item, "target");
  p.target_kind = std::string(getStr(target, "kind"));
  p.target_name = std::string(getStr(target, "name"));
  if (path && path->isString()) {
    p.file = (fs::path(dir) / path->text).lexically_normal().string();
  } else if (text && text->isString()) {
    p.file = file;
    p.text = std::string(text->text);
    // A block scalar (| or >) starts on the line after its indicator; a quoted one on its own.
    char at = charAt(file_text, text->pos);
    bool block = at == '|' || at == '>';
    p.first_line = text->pos.line + (block ? 1 : 0);
    p.indent = block ? indentOfLine(file_text, p.first_line) : text->pos.col;
  } else {
    return;
  }
  out.push_back(std::move(p));
}

void addStrings(const Node* list, std::vector<KustRef>& out, bool skip_inline) {
  for (const Node* item : seqOf(list)) {
    if (!item || !item->isString()) continue;
    std::string_view v = item->text;
    // patchesStrategicMerge, transformers, ... also take inline YAML.
    if (skip_inline &&
        (v.find('\n') != std::string_view::npos || v.find(": ") != std::string_view::npos))
      continue;
    out.push_back({std::string(v), item->pos});
  }
}

Kustomization readKustomization(const std::string& file) {
  Kustomization k;
  k.file = file;
  Yaml y;
  if (!readFileTo(file, y.text)) {
    k.error = Error{"cannot read the kustomization", file, {}};
    return k;
  }
  parseYaml(file, y);
  if (y.error) {
    k.error = y.error;
    return k;
  }
  const Node* r = y.root;
  k.component = getStr(r, "kind") == "Component";
  for (std::string_view key : {"resources", "bases", "components", "crds", "configurations"})
    addStrings(get(r, key), k.refs, false);
  for (std::string_view key : {"patchesStrategicMerge", "generators", "transformers", "validators"})
    addStrings(get(r, key), k.refs, true);
  for (std::string_view key : {"patches", "patchesJson6902", "replacements"})
    for (const Node* item : seqOf(get(r, key))) {
      const Node* p = get(item, "path");
      if (p && p->isString()) k.refs.push_back({std::string(p->text), p->pos});
    }
  for (std::string_view key : {"configMapGenerator", "secretGenerator"})
    for (const Node* gen : seqOf(get(r, key))) {
      for (const Node* f : seqOf(get(gen, "files"))) {
        if (!f || !f->isString()) continue;
        std::string_view v = f->text;
        if (size_t eq = v.find('='); eq != std::string_view::npos) v = v.substr(eq + 1);
        k.refs.push_back({std::string(v), f->pos});
      }
      addStrings(get(gen, "envs"), k.refs, false);
      if (const Node* e = get(gen, "env"); e && e->isString())
        k.refs.push_back({std::string(e->text), e->pos});
    }
  if (const Node* p = get(get(r, "openapi"), "path"); p && p->isString())
    k.refs.push_back({std::string(p->text), p->pos});
  std::string dir = fs::path(file).parent_path().string();
  for (std::string_view key : {"patches", "patchesStrategicMerge", "patchesJson6902"})
    for (const Node* item : seqOf(get(r, key))) addPatch(dir, file, y.text, item, k.patches);
  for (const Node* h : seqOf(get(r, "helmCharts")))
    k.helm.push_back({std::string(getStr(h, "name")), h ? h->pos : SourcePos{}});
  // Node strings live in y's arena: the refs were copied.
  return k;
}

// A path for messages: relative to the working directory when below it, else absolute.
std::string displayPath(const std::string& normal) {
  std::error_code ec;
  fs::path cwd = fs::current_path(ec);
  if (ec) return normal;
  fs::path rel = fs::path(normal).lexically_relative(cwd);
  if (rel.empty() || rel.begin()->string() == "..") return normal;
  return rel.string();
}

}  // namespace

std::string normalPath(const std::string& path) {
  std::error_code ec;
  fs::path abs = fs::absolute(path, ec);
  if (ec) abs = path;
  std::string s = abs.lexically_normal().string();
  while (s.size() > 1 && s.ends_with('/')) s.pop_back();
  return s;
}

std::string kustomizationFile(const std::string& dir) {
  for (const char* name : {"kustomization.yaml", "kustomization.yml", "Kustomization"}) {
    fs::path p = fs::path(dir) / name;
    std::error_code ec;
    if (fs::is_regular_file(p, ec)) return p.string();
  }
  return {};
}

bool Plan::consumes(const std::string& path) const {
  std::string p = normalPath(path);
  if (consumed.count(p)) return true;
  for (const std::string& d : chart_dirs)
    if (p.size() > d.size() && p.starts_with(d) && p[d.size()] == '/') return true;
  return false;
}

Result<Plan> planRenders(const std::vector<std::string>& inputs) {
  Plan plan;
  std::vector<Root> charts;
  std::vector<std::string> kust_dirs;  // as found
  std::set<std::string> seen;          // normal paths of roots found, against duplicates

  auto addChartDir = [&](const std::string& dir) {
    std::string n = normalPath(dir);
    if (!seen.insert(n).second) return;
    plan.chart_dirs.push_back(n);
    Root root;
    root.tool = Tool::kHelm;
    root.path = dir;
    Yaml y;
    std::string chart_file = (fs::path(dir) / "Chart.yaml").string();
    if (!readFileTo(chart_file, y.text)) {
      root.error = Error{"cannot read Chart.yaml", chart_file, {}};
    } else {
      parseYaml(chart_file, y);
      if (y.error) {
        root.error = y.error;
      } else {
        root.chart_name = std::string(getStr(y.root, "name"));
        if (getStr(y.root, "type") == "library") {
          plan.diagnostics.push_back(
              {"render-library-chart",
               fmt::format("{} is a library chart: it renders nothing on its own (it is rendered "
                           "where a chart uses it), so it is not rendered",
                           dir),
               chart_file,
               {}});
          return;
        }
      }
    }
    std::error_code ec;
    fs::path ci = fs::path(dir) / "ci";
    if (fs::is_directory(ci, ec)) {
      for (const auto& e : fs::directory_iterator(ci, ec)) {
        std::string name = e.path().filename().string();
        if (e.is_regular_file(ec) && name.find("values") != std::string::npos &&
            (name.ends_with(".yaml") || name.ends_with(".yml")))
          root.ci_values.push_back("ci/" + name);
      }
      std::sort(root.ci_values.begin(), root.ci_values.end());
    }
    charts.push_back(std::move(root));
  };
  auto addChartArchive = [&](const std::string& file, bool explicit_path) {
    std::string n = normalPath(file);
    if (!seen.insert(n).second) return;
    Root root;
    root.tool = Tool::kHelm;
    root.path = file;
    root.archive = true;
    root.chart_name = chartNameOfArchive(file, root.error);
    if (root.chart_name.empty()) {
      if (!explicit_path && !root.error) return;  // some other archive
      if (!root.error)
        root.error = Error{"not a Helm chart archive (no NAME/Chart.yaml inside)", file, {}};
    }
    plan.consumed.insert(n);
    charts.push_back(std::move(root));
  };

  for (const std::string& in : inputs) {
    if (in == "-") continue;
    std::error_code ec;
    fs::file_status st = fs::status(in, ec);
    if (ec || !fs::exists(st)) continue;  // the loader reports it
    if (fs::is_regular_file(st)) {
      if (isChartArchiveName(in)) addChartArchive(in, true);
      continue;
    }
    if (!fs::is_directory(st)) continue;
    if (fs::is_regular_file(fs::path(in) / "Chart.yaml", ec)) {
      addChartDir(in);
      continue;
    }
    if (!kustomizationFile(in).empty()) kust_dirs.push_back(in);
    fs::recursive_directory_iterator it(in, fs::directory_options::skip_permission_denied, ec);
    if (ec) return Error{fmt::format("cannot read directory: {}", ec.message()), in, {}};
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) return Error{fmt::format("cannot read directory: {}", ec.message()), in, {}};
      const fs::directory_entry& e = *it;
      std::string name = e.path().filename().string();
      if (e.is_directory(ec)) {
        if (name.starts_with(".") || e.is_symlink(ec)) {
          it.disable_recursion_pending();
          continue;
        }
        std::string dir = e.path().string();
        if (fs::is_regular_file(e.path() / "Chart.yaml", ec)) {
          addChartDir(dir);
          it.disable_recursion_pending();  // subcharts and templates are the chart's
        } else if (!kustomizationFile(dir).empty()) {
          kust_dirs.push_back(dir);
        }
        continue;
      }
      if (e.is_regular_file(ec) && isChartArchiveName(name))
        addChartArchive(e.path().string(), false);
    }
  }

  // Kustomizations: read each, and everything they reach; the ones reached are not roots.
  std::map<std::string, Kustomization> read;  // by normal directory
  std::set<std::string> referenced;           // normal directories another one uses
  std::vector<std::string> queue;
  for (const std::string& d : kust_dirs) queue.push_back(normalPath(d));
  while (!queue.empty()) {
    std::string dir = queue.back();
    queue.pop_back();
    if (read.count(dir)) continue;
    std::string file = kustomizationFile(dir);
    if (file.empty()) continue;
    Kustomization k = readKustomization(displayPath(file));
    plan.consumed.insert(normalPath(file));
    for (const KustRef& ref : k.refs) {
      std::string target = (fs::path(dir) / ref.value).lexically_normal().string();
      while (target.size() > 1 && target.ends_with('/')) target.pop_back();
      std::error_code ec;
      if (fs::is_directory(target, ec)) {
        referenced.insert(target);
        queue.push_back(target);
      } else {
        plan.consumed.insert(target);
      }
    }
    read.emplace(dir, std::move(k));
  }

  // Problems a kustomization's tree has that kubeharden says before running anything: remote
  // resources (never fetched) and helmCharts (needs --enable-helm, never enabled).
  auto treeError = [&](const std::string& root_dir,
                       std::vector<Patch>& patches) -> std::optional<Error> {
    std::vector<std::string> todo{root_dir};
    std::set<std::string> done;
    while (!todo.empty()) {
      std::string dir = todo.back();
      todo.pop_back();
      if (!done.insert(dir).second) continue;
      auto it = read.find(dir);
      if (it == read.end()) continue;
      const Kustomization& k = it->second;
      if (k.error) return k.error;
      patches.insert(patches.end(), k.patches.begin(), k.patches.end());
      for (const KustRef& h : k.helm)
        return Error{fmt::format("helmCharts ({}) needs kustomize --enable-helm, which runs helm "
                                 "and may fetch charts from the network; kubeharden does not "
                                 "enable it: render the chart with helm (scan its directory) or "
                                 "pipe `kustomize build --enable-helm DIR | kubeharden scan -`",
                                 h.value),
                     k.file, h.pos};
      for (const KustRef& ref : k.refs) {
        std::string target = (fs::path(dir) / ref.value).lexically_normal().string();
        std::error_code ec;
        if (fs::exists(target, ec)) {
          if (fs::is_directory(target, ec)) todo.push_back(normalPath(target));
          continue;
        }
        if (looksRemote(ref.value))
          return Error{fmt::format("remote resource {} cannot be fetched: kubeharden never uses "
                                   "the network; vendor it into the repository, or build where "
                                   "it can be fetched and pipe `kustomize build DIR | kubeharden "
                                   "scan -`",
                                   ref.value),
                       k.file, ref.pos};
      }
    }
    return std::nullopt;
  };

  std::vector<Root> kusts;
  for (const std::string& d : kust_dirs) {
    std::string n = normalPath(d);
    if (!seen.insert(n).second) continue;
    bool in_chart = false;
    for (const std::string& c : plan.chart_dirs)
      in_chart = in_chart || (n.starts_with(c) && (n.size() == c.size() || n[c.size()] == '/'));
    if (in_chart) continue;
    const Kustomization& k = read[n];
    if (k.component) {
      plan.diagnostics.push_back(
          {"render-kustomize-component",
           fmt::format("{} is a kustomize Component: it is rendered where a kustomization uses "
                       "it, not on its own",
                       d),
           k.file,
           {}});
      continue;
    }
    if (referenced.count(n)) continue;
    Root root;
    root.tool = Tool::kKustomize;
    root.path = d;
    root.error = treeError(n, root.patches);
    kusts.push_back(std::move(root));
  }
  plan.roots = std::move(charts);
  plan.roots.insert(plan.roots.end(), std::make_move_iterator(kusts.begin()),
                    std::make_move_iterator(kusts.end()));
  std::sort(plan.roots.begin(), plan.roots.end(),
            [](const Root& a, const Root& b) { return a.path < b.path; });
  return plan;
}

}  // namespace kh::render
