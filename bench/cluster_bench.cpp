// `make bench`, cluster part: a generated cluster (issue #21's size: 10,000 Pods in 1,000
// Deployments with their ReplicaSets, 500 Nodes, 5,000 ConfigMaps, 2,000 Secrets, 300 RBAC
// objects, 200 NetworkPolicies, 50 Namespaces) served by the tests' fake API server over
// loopback TLS, scanned by `kubeharden cluster scan` as a child process: wall time and peak RSS
// of the whole scan, and the read phase's own figures (objects, requests, bytes, seconds) from
// its stderr. Median of RUNS (default 3).
//
//   kh_cluster_bench KUBEHARDEN [PODS]
#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/child.h"
#include "tests/unit/fake_apiserver.h"
#include "tests/unit/test_util.h"

namespace {

using namespace kh::test;

std::string generate(int pods) {
  std::string items;
  items.reserve(static_cast<size_t>(pods) * 1200);
  auto add = [&](const std::string& o) {
    if (!items.empty()) items += ',';
    items += o;
  };
  const int namespaces = 50, deployments = pods / 10;
  for (int n = 0; n < namespaces; ++n)
    add(fmt::format(
        R"({{"apiVersion":"v1","kind":"Namespace","metadata":{{"name":"team-{0}","labels":{{"kubernetes.io/metadata.name":"team-{0}","pod-security.kubernetes.io/enforce":"baseline"}}}}}})",
        n));
  for (int d = 0; d < deployments; ++d) {
    std::string ns = fmt::format("team-{}", d % namespaces);
    std::string tmpl = fmt::format(
        R"({{"metadata":{{"labels":{{"app":"app-{0}"}}}},"spec":{{"serviceAccountName":"app-{0}","containers":[{{"name":"app","image":"registry.example.com/team/app-{0}:1.{1}","ports":[{{"containerPort":8080}}],"resources":{{"requests":{{"cpu":"100m","memory":"128Mi"}},"limits":{{"memory":"256Mi"}}}},"securityContext":{{"runAsNonRoot":true,"allowPrivilegeEscalation":false,"readOnlyRootFilesystem":true,"capabilities":{{"drop":["ALL"]}}}},"livenessProbe":{{"httpGet":{{"path":"/healthz","port":8080}}}},"readinessProbe":{{"httpGet":{{"path":"/ready","port":8080}}}}}}]}}}})",
        d, d % 7);
    add(fmt::format(
        R"({{"apiVersion":"apps/v1","kind":"Deployment","metadata":{{"name":"app-{0}","namespace":"{1}","uid":"d-{0}"}},"spec":{{"replicas":10,"selector":{{"matchLabels":{{"app":"app-{0}"}}}},"template":{2}}}}})",
        d, ns, tmpl));
    add(fmt::format(
        R"({{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{{"name":"app-{0}-5d8f","namespace":"{1}","uid":"rs-{0}","ownerReferences":[{{"apiVersion":"apps/v1","kind":"Deployment","name":"app-{0}","uid":"d-{0}","controller":true}}]}},"spec":{{"replicas":10,"selector":{{"matchLabels":{{"app":"app-{0}"}}}},"template":{2}}}}})",
        d, ns, tmpl));
    for (int p = 0; p < 10; ++p)
      add(fmt::format(
          R"({{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"app-{0}-5d8f-{2}","namespace":"{1}","labels":{{"app":"app-{0}"}},"ownerReferences":[{{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"app-{0}-5d8f","uid":"rs-{0}","controller":true}}]}},"spec":{3},"status":{{"phase":"Running","containerStatuses":[{{"name":"app","imageID":"registry.example.com/team/app-{0}@sha256:{4:064x}","ready":true}}]}}}})",
          d, ns, p,
          tmpl.substr(tmpl.find(R"("spec":)") + 7, tmpl.size() - tmpl.find(R"("spec":)") - 8), d));
  }
  for (int n = 0; n < 500; ++n)
    add(fmt::format(
        R"({{"apiVersion":"v1","kind":"Node","metadata":{{"name":"node-{0}","labels":{{"kubernetes.io/hostname":"node-{0}"}}}},"status":{{"nodeInfo":{{"kubeletVersion":"v1.31.2","containerRuntimeVersion":"containerd://1.7.22"}}}}}})",
        n));
  for (int c = 0; c < 5000; ++c)
    add(fmt::format(
        R"({{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"config-{0}","namespace":"team-{1}"}},"data":{{"LOG_LEVEL":"info","FEATURE_X":"on","endpoint":"http://svc-{0}:8080"}}}})",
        c, c % namespaces));
  for (int s = 0; s < 2000; ++s)
    add(fmt::format(
        R"({{"apiVersion":"v1","kind":"Secret","metadata":{{"name":"secret-{0}","namespace":"team-{1}"}},"type":"Opaque","data":{{"password":"c2VjcmV0"}}}})",
        s, s % namespaces));
  for (int r = 0; r < 100; ++r) {
    std::string ns = fmt::format("team-{}", r % namespaces);
    add(fmt::format(
        R"({{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{{"name":"role-{0}","namespace":"{1}"}},"rules":[{{"apiGroups":[""],"resources":["configmaps"],"verbs":["get","list"]}}]}})",
        r, ns));
    add(fmt::format(
        R"({{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{{"name":"rb-{0}","namespace":"{1}"}},"roleRef":{{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"role-{0}"}},"subjects":[{{"kind":"ServiceAccount","name":"app-{0}","namespace":"{1}"}}]}})",
        r, ns));
  }
  for (int r = 0; r < 50; ++r) {
    add(fmt::format(
        R"({{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{{"name":"cr-{0}"}},"rules":[{{"apiGroups":["apps"],"resources":["deployments"],"verbs":["get","list","watch"]}}]}})",
        r));
    add(fmt::format(
        R"({{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{{"name":"crb-{0}"}},"roleRef":{{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"cr-{0}"}},"subjects":[{{"kind":"Group","name":"team-{0}"}}]}})",
        r));
  }
  for (int p = 0; p < 200; ++p)
    add(fmt::format(
        R"({{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{{"name":"np-{0}","namespace":"team-{1}"}},"spec":{{"podSelector":{{"matchLabels":{{"app":"app-{0}"}}}},"policyTypes":["Ingress"],"ingress":[{{"from":[{{"podSelector":{{"matchLabels":{{"app":"app-{2}"}}}}}}],"ports":[{{"port":8080}}]}}]}}}})",
        p, p % namespaces, (p + 1) % deployments));
  return R"({"apiVersion":"v1","kind":"List","items":[)" + items + "]}";
}

struct Run : kh::bench::ChildRun {
  std::string err;
};

Run runScan(const std::string& kh, const std::string& kubeconfig, const std::string& dir,
            const std::string& parallel) {
  std::string err_file = dir + "/stderr.txt";
  Run r;
  static_cast<kh::bench::ChildRun&>(r) = kh::bench::runChild(
      {kh, "cluster", "scan", "--kubeconfig", kubeconfig, "--fail-on", "none", "--allow-partial",
       "--qps", "0", "--parallel", parallel, "-f", "json", "-o", "/dev/null"},
      "/dev/null", err_file);
  r.err = readFile(err_file);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: kh_cluster_bench KUBEHARDEN [PODS]\n");
    return 2;
  }
  std::string kh = argv[1];
  int pods = argc > 2 ? std::atoi(argv[2]) : 10000;
  int runs = std::getenv("RUNS") ? std::atoi(std::getenv("RUNS")) : 3;
  TempDir d;
  Pki pki;
  std::string why;
  if (!pki.make(d, &why)) {
    std::fprintf(stderr, "cluster bench: %s\n", why.c_str());
    return 1;
  }
  auto t0 = std::chrono::steady_clock::now();
  std::string objects = generate(pods);
  FakeApiServer api(pki);
  api.addObjects(objects);
  api.addToken("bench-token", "bench");
  api.start();
  std::printf(
      "generated cluster: %.1f MB of JSON, served by the fake API server (%.1f s to build)\n",
      static_cast<double>(objects.size()) / 1e6,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  std::string kubeconfig = d.write("kubeconfig", fmt::format(R"(current-context: bench
clusters: [{{name: b, cluster: {{server: "{}", certificate-authority: {}}}}}]
users: [{{name: u, user: {{token: bench-token}}}}]
contexts: [{{name: bench, context: {{cluster: b, user: u}}}}]
)",
                                                             api.url(), pki.path("ca.pem")));
  int failed = 0;
  // The default (--parallel 4) and one type at a time, for what the workers bring.
  for (const char* parallel : {"4", "1"}) {
    std::vector<Run> all;
    for (int i = 0; i < runs; ++i) all.push_back(runScan(kh, kubeconfig, d.path(), parallel));
    std::sort(all.begin(), all.end(),
              [](const Run& a, const Run& b) { return a.seconds < b.seconds; });
    const Run& med = all[all.size() / 2];
    std::string read = med.err.substr(std::min(med.err.size(), med.err.find("read: ")));
    read = read.substr(0, read.find('\n'));
    long peak = 0;
    for (const Run& r : all) peak = std::max(peak, r.max_rss_kib);
    std::printf(
        "cluster scan --parallel %s (%d pods; median of %d): %.2f s wall, peak RSS %.0f MB (max "
        "of runs), exit %d\n  %s\n",
        parallel, pods, runs, med.seconds, static_cast<double>(peak) / 1024, med.status,
        read.c_str());
    failed += med.status != 0;
  }
  return failed == 0 ? 0 : 1;
}
