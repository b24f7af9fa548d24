// RBAC at cluster scale: 10,000 namespaces, 50,000 roles (40,000 Roles and 10,000 ClusterRoles,
// some aggregating) and 100,000 bindings, generated deterministically. Times loading (parse and
// index) and a who-can query, one thread.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "load/loader.h"
#include "rbac/rbac.h"
#include "rbac/risks.h"

namespace {

using namespace kh;

std::string generateRbac() {
  std::string y;
  y.reserve(48u << 20);
  const char* verbs[] = {"get", "list", "watch", "create", "update", "delete"};
  const char* resources[] = {"pods", "secrets", "configmaps", "services", "deployments", "jobs"};
  for (int c = 0; c < 10000; ++c) {
    const char* group = c % 6 == 4 ? "apps" : c % 6 == 5 ? "batch" : "";
    fmt::format_to(std::back_inserter(y),
                   "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: "
                   "{{name: cr{}, labels: {{agg: g{}}}}}\n"
                   "rules:\n- {{apiGroups: [\"{}\"], resources: [{}], verbs: [{}, {}]}}\n",
                   c, c % 50, group, resources[c % 6], verbs[c % 6], verbs[(c + 1) % 6]);
  }
  for (int a = 0; a < 50; ++a)
    fmt::format_to(
        std::back_inserter(y),
        "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {{name: "
        "agg{}}}\n"
        "aggregationRule: {{clusterRoleSelectors: [{{matchLabels: {{agg: g{}}}}}]}}\nrules: []\n",
        a, a);
  for (int r = 0; r < 40000; ++r) {
    int ns = r % 10000;
    fmt::format_to(
        std::back_inserter(y),
        "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {{name: r{}, "
        "namespace: ns{}}}\n"
        "rules:\n- {{apiGroups: [\"\"], resources: [{}], verbs: [{}], resourceNames: [n{}]}}\n",
        r, ns, resources[r % 4], verbs[r % 6], r % 7);
  }
  for (int b = 0; b < 100000; ++b) {
    int ns = b % 10000;
    if (b % 4 == 0)
      fmt::format_to(
          std::back_inserter(y),
          "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: "
          "rb{}, namespace: ns{}}}\n"
          "roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: agg{}}}\n"
          "subjects: [{{kind: ServiceAccount, name: sa{}}}]\n",
          b, ns, b % 50, b % 13);
    else if (b % 4 == 1)
      fmt::format_to(
          std::back_inserter(y),
          "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: "
          "{{name: crb{}}}\n"
          "roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cr{}}}\n"
          "subjects: [{{kind: User, name: user{}}}, {{kind: Group, name: team{}}}]\n",
          b, b % 10000, b % 997, b % 31);
    else
      fmt::format_to(std::back_inserter(y),
                     "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: "
                     "{{name: rb{}, namespace: ns{}}}\n"
                     "roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: r{}}}\n"
                     "subjects: [{{kind: ServiceAccount, name: sa{}, namespace: ns{}}}]\n",
                     b, ns, (b / 4) % 40000, b % 17, ns);
  }
  return y;
}

const std::string& text() {
  static const std::string t = generateRbac();
  return t;
}

void BM_RbacLoadAndIndex(benchmark::State& state) {
  size_t roles = 0, bindings = 0;
  for (auto _ : state) {
    SourceFile f;
    f.path = "rbac.yaml";
    f.buffer = text();
    parseSource(LoadOptions{}, f);
    std::vector<const Object*> objs;
    objs.reserve(f.objects.size());
    for (const Object& o : f.objects) objs.push_back(&o);
    rbac::Model m = rbac::buildModel(objs);
    roles = m.roles.size();
    bindings = m.bindings.size();
    benchmark::DoNotOptimize(m.roles.data());
  }
  state.counters["roles"] = static_cast<double>(roles);
  state.counters["bindings"] = static_cast<double>(bindings);
  state.counters["MB"] = static_cast<double>(text().size()) / 1e6;
}
BENCHMARK(BM_RbacLoadAndIndex)->Unit(benchmark::kMillisecond)->MinTime(3.0);

void BM_RbacWhoCan(benchmark::State& state) {
  static SourceFile f = [] {
    SourceFile s;
    s.path = "rbac.yaml";
    s.buffer = text();
    parseSource(LoadOptions{}, s);
    return s;
  }();
  std::vector<const Object*> objs;
  for (const Object& o : f.objects) objs.push_back(&o);
  static const rbac::Model m = rbac::buildModel(objs);
  rbac::Request req;
  req.verb = "list";  // granted by aggregated ClusterRoles through RoleBindings, and by CRBs
  req.resource = "pods";
  req.ns = "ns40";
  size_t subjects = 0;
  for (auto _ : state) {
    auto who = rbac::whoCan(m, req);
    subjects = who.size();
    benchmark::DoNotOptimize(who.data());
  }
  state.counters["subjects"] = static_cast<double>(subjects);
}
BENCHMARK(BM_RbacWhoCan)->Unit(benchmark::kMillisecond);

void BM_RbacRisks(benchmark::State& state) {
  SourceFile f;
  f.path = "rbac.yaml";
  f.buffer = text();
  parseSource(LoadOptions{}, f);
  std::vector<const Object*> objs;
  for (const Object& o : f.objects) objs.push_back(&o);
  const rbac::Model m = rbac::buildModel(objs);
  size_t risks = 0;
  for (auto _ : state) {
    auto r = rbac::analyzeRisks(m);
    risks = r.size();
    benchmark::DoNotOptimize(r.data());
  }
  state.counters["risks"] = static_cast<double>(risks);
}
BENCHMARK(BM_RbacRisks)->Unit(benchmark::kMillisecond)->MinTime(1.0);

}  // namespace
