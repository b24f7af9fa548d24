#include "scan/scan.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "base/parallel.h"
#include "base/strings.h"
#include "config/baseline.h"
#include "config/suppressions.h"
#include "dockerfile/source.h"

namespace kh {

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
  return std::make_unique<Registry>(std::move(enabled));
}

Result<ScanResult> runScan(ScanOptions opts) {
  ScanResult r;
  auto reg = buildRegistry(opts.config);
  if (!reg) return reg.error();
  r.registry = std::move(reg.value());

  auto files = collectInputFiles(opts.inputs, {opts.manifests, opts.dockerfiles});
  if (!files) return files.error();
  if (!opts.dockerfile_inputs.empty()) {
    auto more = collectInputFiles(opts.dockerfile_inputs, {false, true});
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
  r.files.resize(files->size());
  parallelFor(files->size(), threads, [&](size_t i) {
    r.files[i] = std::make_unique<SourceFile>();
    const InputFile& in = (*files)[i];
    if (in.kind == InputKind::kDockerfile)
      dockerfile::loadDockerfile(in.path, lo, *r.files[i]);
    else
      loadFile(in.path, lo, *r.files[i]);
  });
  for (auto& [name, text] : opts.texts) {
    auto f = std::make_unique<SourceFile>();
    f->path = name;
    f->buffer = std::move(text);
    parseSource(lo, *f);
    r.files.push_back(std::move(f));
  }

  for (const auto& f : r.files) {
    r.bytes += f->buffer.size();
    for (const Object& o : f->objects) r.index.add(&o);
  }

  CheckContext ctx{&r.index};
  std::vector<VectorSink> sinks(r.files.size());
  parallelFor(r.files.size(), threads, [&](size_t i) {
    for (const Object& o : r.files[i]->objects) r.registry->dispatch(o, ctx, sinks[i]);
  });
  VectorSink cross;
  r.registry->finish(ctx, cross);

  for (size_t i = 0; i < r.files.size(); ++i) {
    SourceFile& f = *r.files[i];
    r.objects += f.objects.size();
    r.skipped_documents += f.skipped;
    if (f.error) r.errors.push_back(*f.error);
    for (Diagnostic& d : f.diagnostics) r.diagnostics.push_back(std::move(d));
    for (Finding& fd : sinks[i].findings) r.findings.push_back(std::move(fd));
  }
  for (Finding& fd : cross.findings) r.findings.push_back(std::move(fd));

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
