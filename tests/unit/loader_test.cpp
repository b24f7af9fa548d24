#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/unit/test_util.h"

namespace kh::test {
namespace {

TEST(Loader, MultiDocumentWithPositionsAndHelmSources) {
  auto f = loadText(R"(---
# Source: chart/templates/sa.yaml
apiVersion: v1
kind: ServiceAccount
metadata:
  name: a
  namespace: ns
---
# just a comment
---
# Source: chart/templates/deploy.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: b
spec:
  template:
    spec:
      containers:
        - name: app
          image: nginx
)");
  ASSERT_FALSE(f->error);
  ASSERT_EQ(f->objects.size(), 2u);
  EXPECT_EQ(f->objects[0].ref.kind, "ServiceAccount");
  EXPECT_EQ(f->objects[0].ref.namespace_, "ns");
  EXPECT_EQ(f->objects[0].helm_source, "chart/templates/sa.yaml");
  EXPECT_EQ(f->objects[1].helm_source, "chart/templates/deploy.yaml");
  EXPECT_EQ(f->objects[1].doc_index, 2u);
  EXPECT_EQ(f->objects[1].root->pos.line, 12u);
  ASSERT_TRUE(f->objects[1].pod);
  ASSERT_EQ(f->objects[1].pod->containers.size(), 1u);
  EXPECT_EQ(f->objects[1].pod->containers[0].path, "spec.template.spec.containers[0]");
  const MapEntry* image = f->objects[1].pod->containers[0].node->entry("image");
  ASSERT_TRUE(image);
  EXPECT_EQ(image->key_pos.line, 21u);
  EXPECT_EQ(image->key_pos.col, 11u);
  EXPECT_EQ(f->objects[0].pod, std::nullopt);
}

TEST(Loader, HelmSourceOnlyFromCommentsBeforeTheDocument) {
  // A `# Source:` line inside a document belongs to no document, not even the next one.
  auto f = loadText(R"(apiVersion: v1
kind: ConfigMap
metadata: {name: a}
# Source: not/a/template.yaml
data:
  x: |
    # Source: indented/text.yaml
---
apiVersion: v1
kind: ConfigMap
metadata: {name: b}
)");
  ASSERT_EQ(f->objects.size(), 2u);
  EXPECT_EQ(f->objects[0].helm_source, "");
  EXPECT_EQ(f->objects[1].helm_source, "");
}

TEST(Loader, ListKindsAreExpanded) {
  auto f = loadText(R"({"apiVersion": "v1", "kind": "List", "items": [
  {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p1"}, "spec": {"containers": [{"name": "c", "image": "x"}]}},
  {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s1"}},
  {"metadata": {"name": "broken"}}
]})",
                    "list.json");
  ASSERT_FALSE(f->error);
  ASSERT_EQ(f->objects.size(), 2u);
  EXPECT_EQ(f->objects[0].ref.name, "p1");
  EXPECT_EQ(f->objects[1].item_index, 1u);
  EXPECT_EQ(f->skipped, 1u);
  auto g = loadText(
      "apiVersion: apps/v1\nkind: DeploymentList\nitems:\n- apiVersion: apps/v1\n  kind: "
      "Deployment\n  metadata: {name: d}\n");
  ASSERT_EQ(g->objects.size(), 1u);
  EXPECT_EQ(g->objects[0].ref.kind, "Deployment");
}

TEST(Loader, TypedListItemsTakeTheListsKindAndApiVersion) {
  // As `kubectl get --raw /api/v1/pods` and client libraries write it: items carry neither.
  auto f = loadText(R"({"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "7"},
 "items": [
  {"metadata": {"name": "a", "namespace": "ns"},
   "spec": {"containers": [{"name": "c", "image": "x", "securityContext": {"privileged": true}}]}},
  {"kind": "Pod", "metadata": {"name": "b"}, "spec": {"containers": []}},
  {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "own"}},
  "not a map",
  {"apiVersion": "", "kind": null, "metadata": {"name": "blank"}}
]})",
                    "pods.json");
  ASSERT_FALSE(f->error);
  ASSERT_EQ(f->objects.size(), 4u);
  const Object& a = f->objects[0];
  EXPECT_EQ(a.ref.kind, "Pod");
  EXPECT_EQ(a.ref.api_version, "v1");
  EXPECT_EQ(getStr(a.root, "kind"), "Pod") << "every consumer of the root map sees the kind";
  EXPECT_EQ(getStr(a.root, "apiVersion"), "v1");
  EXPECT_EQ(a.ref.namespace_, "ns");
  EXPECT_EQ(a.item_index, 0u);
  // Positions are the item's own: line 3, column 3 (the item's opening brace).
  EXPECT_EQ(a.root->pos.line, 3u);
  EXPECT_EQ(a.root->pos.col, 3u);
  ASSERT_TRUE(a.pod);
  ASSERT_EQ(a.pod->containers.size(), 1u);
  EXPECT_EQ(a.pod->containers[0].node->entry("securityContext")->key_pos.line, 4u);
  EXPECT_EQ(f->objects[1].ref.kind, "Pod");
  EXPECT_EQ(f->objects[1].ref.api_version, "v1");
  EXPECT_EQ(f->objects[2].ref.kind, "Binding") << "an item naming its own kind keeps it";
  EXPECT_EQ(f->objects[3].ref.name, "blank");
  EXPECT_EQ(f->objects[3].ref.kind, "Pod") << "empty and null count as missing";
  EXPECT_EQ(f->objects[3].root->size, 3u) << "replaced, not duplicated";
  EXPECT_EQ(f->skipped, 1u);
  ASSERT_EQ(f->diagnostics.size(), 1u);
  EXPECT_EQ(f->diagnostics[0].code, "not-an-object");
  EXPECT_NE(f->diagnostics[0].message.find("item 3 of the PodList is not a map"), std::string::npos)
      << f->diagnostics[0].message;

  // Group versions come from the list: apps/v1 DeploymentList holds apps/v1 Deployments.
  auto g = loadText(
      "apiVersion: apps/v1\nkind: DeploymentList\nitems:\n- metadata: {name: d}\n  spec:\n"
      "    template:\n      spec:\n        containers: [{name: c, image: x}]\n");
  ASSERT_EQ(g->objects.size(), 1u);
  EXPECT_EQ(g->objects[0].ref.kind, "Deployment");
  EXPECT_EQ(g->objects[0].ref.api_version, "apps/v1");
  EXPECT_EQ(g->objects[0].root->pos.line, 4u);
  ASSERT_TRUE(g->objects[0].pod) << "the pod template is found in a typed item";

  // kubectl's `kind: List` still needs items that name themselves.
  auto l = loadText("apiVersion: v1\nkind: List\nitems:\n- metadata: {name: x}\n");
  EXPECT_EQ(l->objects.size(), 0u);
  EXPECT_EQ(l->skipped, 1u);
}

TEST(Loader, DuplicateKeysLastWinsWithDiagnostic) {
  auto f = loadText("apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  name: b\n");
  ASSERT_EQ(f->objects.size(), 1u);
  EXPECT_EQ(f->objects[0].ref.name, "b");
  ASSERT_EQ(f->diagnostics.size(), 1u);
  EXPECT_EQ(f->diagnostics[0].code, "duplicate-key");
  EXPECT_EQ(f->diagnostics[0].pos.line, 5u);
  EXPECT_NE(f->diagnostics[0].message.find("first at line 4"), std::string::npos);
}

TEST(Loader, Yaml11KeysAreNormalised) {
  // The API server sees the key `on` as "true" (sigs.k8s.io/yaml), not "on".
  auto f =
      loadText("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  on: x\n  0x10: y\n");
  const Node* data = f->objects[0].root->get("data");
  EXPECT_TRUE(data->get("true"));
  EXPECT_FALSE(data->get("on"));
  EXPECT_TRUE(data->get("16"));
}

TEST(Loader, AnchorsAliasesAndMergeKeys) {
  auto f = loadText(R"(apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
    - &base
      name: a
      image: img
      securityContext: &sc {privileged: true, runAsUser: 5}
    - <<: *base
      name: b
      securityContext: *sc
)");
  ASSERT_FALSE(f->error) << f->error->describe();
  const auto& cs = f->objects[0].pod->containers;
  ASSERT_EQ(cs.size(), 2u);
  EXPECT_EQ(cs[1].name, "b");  // explicit key wins over the merged one
  EXPECT_EQ(getStr(cs[1].node, "image"), "img");
  EXPECT_TRUE(get(get(cs[1].node, "securityContext"), "privileged")->isTrue());
}

TEST(Loader, BillionLaughsIsCapped) {
  std::string y = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 10; ++i) {
    // fmt rather than chained std::string + (GCC 12 warns falsely of overlapping memcpy there).
    y += fmt::format("a{}: &a{} [", i, i);
    for (int j = 0; j < 10; ++j) y += fmt::format("{}*a{}", j ? ", " : "", i - 1);
    y += "]\n";
  }
  auto f = loadText(y);
  ASSERT_TRUE(f->error);
  EXPECT_NE(f->error->message.find("alias expansion limit"), std::string::npos);
}

// A big cluster's export (`kubectl get pods -A -o json`) is one document of millions of nodes
// written out, no alias: it loads whole, while a document over the size limit is an error
// naming that limit, not aliases.
TEST(Loader, LargeDocumentsWithoutAliasesLoad) {
  std::string big = R"({"apiVersion": "v1", "kind": "PodList", "items": [)";
  constexpr int kPods = 100'000;  // ~2.6M nodes, beyond the alias limit of 2M
  for (int i = 0; i < kPods; ++i)
    big += fmt::format(
        R"({}{{"metadata": {{"name": "p{}", "namespace": "ns", "labels": {{"a": "b"}}}}, "spec": {{"containers": [{{"name": "c", "image": "nginx:1.25", "args": ["a", "b", "c", "d", "e", "f"]}}]}}}})",
        i ? "," : "", i);
  big += "]}";
  auto f = loadText(big, "pods.json");
  ASSERT_FALSE(f->error) << f->error->describe();
  EXPECT_EQ(f->objects.size(), static_cast<size_t>(kPods));
  LoadOptions lo;
  lo.limits.max_document_nodes = 1'000'000;
  SourceFile small;
  small.path = "pods.json";
  small.buffer = big;
  parseSource(lo, small);
  ASSERT_TRUE(small.error);
  EXPECT_NE(small.error->message.find("more than 1000000 nodes (document size limit)"),
            std::string::npos)
      << small.error->message;
}

TEST(Loader, RecursiveAliasIsAnError) {
  auto f = loadText("a: &x [1, *x]\n");
  ASSERT_TRUE(f->error);
  EXPECT_NE(f->error->message.find("unknown anchor"), std::string::npos);
}

TEST(Loader, DepthIsCapped) {
  std::string deep(500, '[');
  auto f = loadText(deep);
  ASSERT_TRUE(f->error);
  EXPECT_NE(f->error->message.find("nesting deeper"), std::string::npos);
}

TEST(Loader, SyntaxErrorNamesLineAndColumnAndKeepsEarlierDocuments) {
  auto f = loadText(
      "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Pod\n  "
      "bad: [\n");
  ASSERT_TRUE(f->error);
  EXPECT_EQ(f->error->pos.line, 7u);
  EXPECT_GT(f->error->pos.col, 0u);
  EXPECT_NE(f->error->describe().find("test.yaml:7:"), std::string::npos);
  ASSERT_EQ(f->objects.size(), 1u);
  EXPECT_EQ(f->objects[0].ref.kind, "Namespace");
}

TEST(Loader, NonObjectsAreSkippedWithDiagnostics) {
  auto f = loadText("just a string\n---\nfoo: bar\n---\n- 1\n---\n");
  EXPECT_TRUE(f->objects.empty());
  EXPECT_EQ(f->skipped, 3u);
  ASSERT_EQ(f->diagnostics.size(), 3u);
  EXPECT_EQ(f->diagnostics[1].code, "not-an-object");
  EXPECT_EQ(f->diagnostics[1].pos.line, 3u);
}

TEST(Loader, JsonInputKeepsQuotedStrings) {
  auto f = loadText(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},
  "spec":{"hostNetwork":"yes","hostPID":true,"containers":[{"name":"c","image":"x"}]}})",
                    "p.json");
  ASSERT_EQ(f->objects.size(), 1u);
  const Node* spec = f->objects[0].pod->spec;
  EXPECT_EQ(spec->get("hostNetwork")->type, NodeType::kString);
  EXPECT_TRUE(spec->get("hostPID")->isTrue());
}

TEST(Loader, PodSpecDiscoveryCoversWorkloadsAndCrds) {
  auto f = loadText(R"(apiVersion: batch/v1
kind: CronJob
metadata: {name: c}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers: [{name: a, image: x}]
---
apiVersion: v1
kind: PodTemplate
metadata: {name: t}
template:
  spec:
    containers: [{name: a, image: x}]
---
apiVersion: serving.knative.dev/v1
kind: Service
metadata: {name: k}
spec:
  template:
    spec:
      containers: [{image: x}]
---
apiVersion: v1
kind: Service
metadata: {name: s}
spec:
  selector: {app: x}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cm}
data: {spec: "template"}
spec:                     # not a field of ConfigMap: data, never a pod template
  template:
    spec:
      containers: [{image: x, securityContext: {privileged: true}}]
---
apiVersion: v1
kind: Pod
metadata: {name: w}
spec:
  os: {name: windows}
  initContainers: [{name: i, image: x}]
  containers: [{name: a, image: x}]
  ephemeralContainers: [{name: e, image: x}]
)");
  ASSERT_EQ(f->objects.size(), 6u);
  EXPECT_EQ(f->objects[0].pod->path, "spec.jobTemplate.spec.template.spec");
  EXPECT_EQ(f->objects[1].pod->path, "template.spec");
  EXPECT_EQ(f->objects[2].pod->path, "spec.template.spec");  // a CRD (Knative Service)
  EXPECT_FALSE(f->objects[3].pod);                           // core Service: no pod spec
  EXPECT_FALSE(f->objects[4].pod) << "a ConfigMap never carries a pod spec";
  const PodSpecView& w = *f->objects[5].pod;
  EXPECT_TRUE(w.windows);
  ASSERT_EQ(w.containers.size(), 3u);
  EXPECT_EQ(w.containers[0].path, "spec.initContainers[0]");
  EXPECT_EQ(w.containers[2].path, "spec.ephemeralContainers[0]");
}

TEST(Loader, ConfiguredPodSpecPaths) {
  SourceFile f;
  f.path = "x.yaml";
  f.buffer =
      "apiVersion: example.com/v1\nkind: Thing\nmetadata: {name: t}\nspec:\n  worker:\n    "
      "podTemplate:\n      spec:\n        containers: [{name: a, image: x}]\n";
  LoadOptions opts;
  parseSource(opts, f);
  EXPECT_FALSE(f.objects[0].pod);
  SourceFile g;
  g.path = "x.yaml";
  g.buffer = f.buffer;
  opts.pod_spec_paths = {"spec.worker.podTemplate"};
  parseSource(opts, g);
  ASSERT_TRUE(g.objects[0].pod);
  EXPECT_EQ(g.objects[0].pod->containers[0].path, "spec.worker.podTemplate.spec.containers[0]");
}

TEST(Loader, EffectiveSecurityContextInheritsPodFields) {
  auto f = loadText(R"(apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  securityContext: {runAsUser: 1000, runAsNonRoot: true}
  containers:
    - name: a
      image: x
      securityContext: {runAsUser: 0, privileged: true}
    - name: b
      image: x
)");
  const PodSpecView& pod = *f->objects[0].pod;
  auto a = effectiveField(pod, pod.containers[0], "runAsUser");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->value->asInt(), 0);
  EXPECT_FALSE(a->from_pod);
  auto b = effectiveField(pod, pod.containers[1], "runAsUser");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->value->asInt(), 1000);
  EXPECT_TRUE(b->from_pod);
  EXPECT_EQ(b->path, "spec.securityContext.runAsUser");
  // privileged exists only on containers: never inherited.
  EXPECT_FALSE(effectiveField(pod, pod.containers[1], "privileged"));
}

TEST(Loader, CollectInputsWalksDirectoriesSortedAndFiltered) {
  TempDir d;
  d.write("b.yaml", "x");
  d.write("a/c.yml", "x");
  d.write("a/d.json", "x");
  d.write("a/readme.md", "x");
  d.write(".git/e.yaml", "x");
  auto files = collectInputs({d.path()});
  ASSERT_TRUE(files.ok());
  std::vector<std::string> rel;
  for (const auto& f : *files) rel.push_back(std::filesystem::relative(f, d.path()).string());
  EXPECT_EQ(rel, (std::vector<std::string>{"a/c.yml", "a/d.json", "b.yaml"}));
  auto missing = collectInputs({d.path() + "/nope"});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().describe().find("no such file"), std::string::npos);
}

TEST(Loader, CorpusLoadsWithoutErrors) {
  KH_NEED_SHARED(corpus, "corpus/bitnami");
  auto files = collectInputs({corpus});
  ASSERT_TRUE(files.ok());
  size_t objects = 0;
  for (const auto& path : *files) {
    SourceFile f;
    loadFile(path, LoadOptions{}, f);
    EXPECT_FALSE(f.error) << f.error->describe();
    objects += f.objects.size();
    for (const Object& o : f.objects)
      EXPECT_FALSE(o.helm_source.empty()) << path << " " << o.displayName();
  }
  EXPECT_GT(objects, 2000u);
}

}  // namespace
}  // namespace kh::test

namespace kh::test {
namespace {

// In directories, kubeconfig files are read although not named like manifests (admin.conf,
// *.kubeconfig, kubeconfig, config), when their content says so; other .conf files are not.
TEST(Loader, KubeconfigFilesInDirectoriesAreFoundByContent) {
  TempDir d;
  const std::string kubeconfig =
      "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: https://c}}]\n";
  d.write("etc/kubernetes/admin.conf", kubeconfig);
  d.write("etc/kubernetes/ci.kubeconfig", kubeconfig);
  d.write("home/.kube/config", kubeconfig);  // a dot directory: skipped with everything in it
  d.write("etc/kubernetes/config", kubeconfig);
  d.write("etc/nginx/nginx.conf", "server {\n  listen 80;\n}\n");
  d.write("etc/other/config", "[core]\n\tbare = false\n");
  d.write("etc/kubernetes/not-a-kubeconfig.conf", "apiVersion: v1\nkind: ConfigMap\n");
  auto files = collectInputFiles({d.path()}, CollectOptions{});
  ASSERT_TRUE(files.ok()) << files.error().describe();
  std::vector<std::string> found;
  for (const InputFile& f : files.value()) found.push_back(f.path.substr(d.path().size() + 1));
  EXPECT_EQ(found, (std::vector<std::string>{"etc/kubernetes/admin.conf",
                                             "etc/kubernetes/ci.kubeconfig",
                                             "etc/kubernetes/config"}));
  // And scanned: the kubeconfig checks judge them.
  auto r = runCli("scan --fail-on none --no-color " + d.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("3 files, 3 objects"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace kh::test
