#include "scan/scan.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <thread>
#include <unordered_map>

#include "base/parallel.h"
#include "base/strings.h"
#include "checks/cluster/cluster_checks.h"
#include "checks/cluster/versions.h"
#include "checks/custom/cel_check.h"
#include "config/baseline.h"
#include "config/suppressions.h"
#include "dockerfile/source.h"
#include "render/detect.h"
#include "render/locate.h"

namespace kh {

std::vector<ClusterSource::NotEvaluated> notEvaluated(
    const Registry& registry, const std::vector<std::pair<std::string, std::string>>& unread,
    const std::map<std::string, std::set<std::string>>& consulted) {
  std::vector<ClusterSource::NotEvaluated> out;
  if (unread.empty()) return out;
  for (const auto& c : registry.checks()) {
    const CheckMeta& m = c->meta();
    auto it = consulted.find(std::string(m.id));
    std::vector<std::string> kinds;
    for (const auto& [kind, why] : unread) {
      bool in_scope = m.scope != Scope::kAll &&
                      std::find(m.kinds.begin(), m.kinds.end(), kind) != m.kinds.end();
      if (m.scope == Scope::kPodSpec)
        in_scope |= std::find(std::begin(kWorkloadKinds), std::end(kWorkloadKinds), kind) !=
                    std::end(kWorkloadKinds);
      bool looked_up = it != consulted.end() && (it->second.count(kind) || it->second.count("*"));
      if (in_scope || looked_up) kinds.push_back(kind);
    }
    if (!kinds.empty()) out.push_back({std::string(m.id), std::move(kinds)});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.check < b.check; });
  return out;
}

Result<std::unique_ptr<Registry>> buildRegistry(const Config& cfg) {
  std::vector<std::unique_ptr<Check>> enabled;
  for (auto& c : makeCatalogue()) {
    std::string_view id = c->meta().id;
    if (!checkEnabled(cfg, c->meta())) continue;
    auto opt = cfg.options.find(id);
    if (Status s = c->configure(opt == cfg.options.end() ? nullptr : opt->second); !s) {
      Error e = s.error();
      e.file = cfg.file;
      return e;
    }
    enabled.push_back(std::move(c));
  }
  auto custom = makeCustomChecks(cfg);
  if (!custom) return custom.error();
  for (auto& c : custom.value())
    if (checkEnabled(cfg, c->meta())) enabled.push_back(std::move(c));
  return std::make_unique<Registry>(std::move(enabled));
}

namespace {

// Points each finding on a rendered object at its template or resource file and line.
void locateRendered(ScanResult& r, const render::Plan& plan) {
  if (r.renders.empty()) return;
  std::unordered_map<std::string_view, size_t> render_of;
  for (size_t k = 0; k < r.renders.size(); ++k)
    if (r.renders[k].ok) render_of.emplace(r.files[r.renders[k].file]->path, k);
  render::Locator locator;
  for (Finding& f : r.findings) {
    auto it = render_of.find(f.object->file);
    if (it == render_of.end()) continue;
    const RenderReport& rep = r.renders[it->second];
    const render::Root* root = nullptr;
    for (const render::Root& x : plan.roots)
      if (x.path == rep.root) root = &x;
    if (!root) continue;
    render::Location loc;
    if (rep.tool == "helm") {
      if (f.object->helm_source.empty()) continue;
      loc = locator.helm(*root, f.object->helm_source, *f.object, f.path);
    } else {
      if (f.object->doc_index >= rep.origins.size() || rep.origins[f.object->doc_index].empty())
        continue;
      loc = locator.kustomize(rep.origins[f.object->doc_index], *f.object, f.path, &root->patches);
    }
    f.source = SourceLocation{std::move(loc.file), loc.pos, loc.exact, std::move(loc.values),
                              static_cast<uint32_t>(it->second)};
  }
}

// The version table's own state (stale, or older than a version in the input) as diagnostics,
// when a check that reads it runs.
void addVersionTableNotes(ScanResult& r, const Config& cfg) {
  for (std::string_view id : kVersionCheckIds) {
    if (!r.registry->find(id)) continue;
    auto opt = cfg.options.find(id);
    auto o = k8sver::readOptions(opt == cfg.options.end() ? nullptr : opt->second);
    if (!o) return;  // configure() said so already
    for (k8sver::Note& n : k8sver::tableNotes(r.index, *o->table, o->today))
      r.diagnostics.push_back({std::move(n.code), std::move(n.message), std::string(n.object->file),
                               n.object->root->pos});
    return;
  }
}

}  // namespace

Result<ScanResult> runScan(ScanOptions opts) {
  ScanResult r;
  auto reg = buildRegistry(opts.config);
  if (!reg) return reg.error();
  r.registry = std::move(reg.value());

  // Charts and kustomizations first: their files are not also read as plain manifests.
  render::Plan plan;
  if (opts.render.enabled && opts.manifests) {
    auto p = render::planRenders(opts.inputs);
    if (!p) return p.error();
    plan = std::move(p.value());
    for (Diagnostic& d : plan.diagnostics) r.diagnostics.push_back(std::move(d));
  }
  std::vector<render::Run> runs =
      render::planRuns(plan, opts.render.helm, opts.render.charts, opts.render.chart_ci_values);

  CollectOptions co{opts.manifests, opts.dockerfiles, {}};
  if (!plan.roots.empty() || !plan.consumed.empty())
    co.consumed = [&plan](const std::string& path) { return plan.consumes(path); };
  auto files = collectInputFiles(opts.inputs, co);
  if (!files) return files.error();
  if (!opts.dockerfile_inputs.empty()) {
    auto more = collectInputFiles(opts.dockerfile_inputs, {false, true, {}});
    if (!more) return more.error();
    files->insert(files->end(), more->begin(), more->end());
  }
  if (opts.stdin_dockerfile)
    for (InputFile& f : files.value())
      if (f.path == "-") f.kind = InputKind::kDockerfile;
  unsigned threads =
      opts.threads ? opts.threads : std::max(1u, std::thread::hardware_concurrency());

  LoadOptions lo;
  lo.limits = opts.limits;
  lo.pod_spec_paths = opts.config.pod_spec_paths;
  size_t n_files = files->size();
  r.files.resize(n_files + runs.size());
  r.renders.resize(runs.size());
  // Files and renderings in one pool: a tool's process runs while other threads parse.
  parallelFor(r.files.size(), threads, [&](size_t i) {
    r.files[i] = std::make_unique<SourceFile>();
    if (i >= n_files) {
      size_t k = i - n_files;
      const render::Run& run = runs[k];
      const render::Root& root = plan.roots[run.root];
      SourceFile& f = *r.files[i];
      render::Rendered out = render::renderInto(root, run, opts.render.settings, lo, f);
      RenderReport& rep = r.renders[k];
      rep.tool = root.tool == render::Tool::kHelm ? "helm" : "kustomize";
      rep.root = root.path;
      rep.name = run.name;
      rep.variant = run.variant;
      rep.command = std::move(out.command);
      rep.origins = std::move(out.origins);
      rep.file = i;
      rep.ok = !f.error;
      rep.objects = f.objects.size();
      return;
    }
    const InputFile& in = (*files)[i];
    if (in.kind == InputKind::kDockerfile)
      dockerfile::loadDockerfile(in.path, lo, *r.files[i]);
    else
      loadFile(in.path, lo, *r.files[i]);
  });
  // Documents given as text (a cluster's list pages): parsed in parallel too.
  size_t first_text = r.files.size();
  r.files.resize(first_text + opts.texts.size());
  parallelFor(opts.texts.size(), threads, [&](size_t i) {
    auto f = std::make_unique<SourceFile>();
    f->path = std::move(opts.texts[i].first);
    f->buffer = std::move(opts.texts[i].second);
    parseSource(lo, *f);
    r.files[first_text + i] = std::move(f);
  });
  opts.texts.clear();

  for (const auto& f : r.files) {
    r.bytes += f->buffer.size();
    for (const Object& o : f->objects) r.index.add(&o);
  }

  ConsultRecorder consults;
  CheckContext ctx{
      .index = &r.index, .live = opts.live, .consults = opts.record_consults ? &consults : nullptr};
  std::vector<VectorSink> sinks(r.files.size());
  parallelFor(r.files.size(), threads, [&](size_t i) {
    for (const Object& o : r.files[i]->objects) r.registry->dispatch(o, ctx, sinks[i]);
  });
  VectorSink cross;
  r.registry->finish(ctx, cross);
  if (opts.record_consults) r.consulted = consults.byCheck();
  addVersionTableNotes(r, opts.config);

  for (size_t i = 0; i < r.files.size(); ++i) {
    SourceFile& f = *r.files[i];
    if (i >= first_text && i - first_text < opts.text_lines.size() &&
        opts.text_lines[i - first_text] > 1) {
      uint32_t shift = opts.text_lines[i - first_text] - 1;
      // The text is the event's one line as written for the checks: its columns are not the
      // log's, so a finding points at the line.
      for (Finding& fd : sinks[i].findings) fd.pos = {fd.pos.line + shift, 1};
      for (Diagnostic& d : f.diagnostics) d.pos = {d.pos.line + shift, 1};
    }
    r.objects += f.objects.size();
    r.skipped_documents += f.skipped;
    if (f.error) r.errors.push_back(*f.error);
    for (Diagnostic& d : f.diagnostics) r.diagnostics.push_back(std::move(d));
    for (Finding& fd : sinks[i].findings) r.findings.push_back(std::move(fd));
  }
  for (Finding& fd : cross.findings) r.findings.push_back(std::move(fd));
  applyPolicies(r, opts.policies, threads);
  locateRendered(r, plan);

  for (Finding& f : r.findings) {
    if (auto it = opts.config.severity.find(f.check_id); it != opts.config.severity.end())
      f.severity = it->second;
    f.fingerprint = fingerprintOf(f);
  }
  if (!opts.baseline.empty()) {
    size_t before = r.findings.size();
    std::erase_if(r.findings,
                  [&](const Finding& f) { return opts.baseline.count(f.fingerprint) > 0; });
    r.baselined = before - r.findings.size();
  }
  SuppressionOptions so{opts.inline_ignores, todayUtc()};
  applySuppressions(r.findings, opts.config, so, r.diagnostics);
  for (const Finding& f : r.findings) r.suppressed += f.suppressed;

  // Deterministic order: input file order, then position, then check and path.
  std::unordered_map<std::string_view, size_t> file_order;
  for (size_t i = 0; i < r.files.size(); ++i) file_order.emplace(r.files[i]->path, i);
  std::stable_sort(r.findings.begin(), r.findings.end(), [&](const Finding& a, const Finding& b) {
    size_t fa = file_order[a.object->file], fb = file_order[b.object->file];
    if (fa != fb) return fa < fb;
    if (a.pos.line != b.pos.line) return a.pos.line < b.pos.line;
    if (a.pos.col != b.pos.col) return a.pos.col < b.pos.col;
    if (a.check_id != b.check_id) return a.check_id < b.check_id;
    return a.path < b.path;
  });
  std::stable_sort(r.diagnostics.begin(), r.diagnostics.end(),
                   [&](const Diagnostic& a, const Diagnostic& b) {
                     if (a.file != b.file) return a.file < b.file;
                     return a.pos.line < b.pos.line;
                   });
  for (const Framework* fw : opts.frameworks) r.compliance.push_back(assessCompliance(*fw, r));
  return r;
}

}  // namespace kh
