// NetworkPolicy analysis at cluster scale: 5,000 workloads in 200 namespaces with 2,000
// policies (generated, deterministic). Times the full connlist and a single eval, one thread.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cstdio>

#include "load/loader.h"
#include "netpol/analyzer.h"

namespace {

using namespace kh;

// Per namespace: 25 workloads in tiers web/api/db/cache/batch; 10 policies: a default deny for
// both directions, DNS egress, web from the ingress namespace, api from web, db from api (named
// port), cache from api with a port range, batch egress to an ipBlock with except, and more.
std::string generateCluster() {
  std::string y;
  const char* tiers[] = {"web", "api", "db", "cache", "batch"};
  for (int n = 0; n < 200; ++n) {
    fmt::format_to(std::back_inserter(y),
                   "---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: ns{}, labels: {{team: "
                   "t{}, env: {}}}}}\n",
                   n, n % 20, n % 2 ? "prod" : "dev");
    for (int w = 0; w < 25; ++w) {
      const char* tier = tiers[w % 5];
      fmt::format_to(std::back_inserter(y),
                     "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {}-{}, "
                     "namespace: ns{}}}\nspec:\n"
                     "  template:\n    metadata: {{labels: {{tier: {}, app: a{}}}}}\n    spec:\n   "
                     "   containers:\n"
                     "      - name: c\n        image: x\n        ports: [{{name: http, "
                     "containerPort: {}}}, {{name: metrics, containerPort: 9090}}]\n",
                     tier, w, n, tier, w, 8000 + w % 5);
    }
    auto policy = [&](int i, const std::string& body) {
      fmt::format_to(std::back_inserter(y),
                     "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: "
                     "{{name: p{}, namespace: ns{}}}\nspec:\n{}",
                     i, n, body);
    };
    policy(0, "  podSelector: {}\n  policyTypes: [Ingress, Egress]\n");
    policy(1,
           "  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n  - to: [{namespaceSelector: "
           "{matchLabels: {team: t0}}}]\n    ports: [{port: 53, protocol: UDP}, {port: 53}]\n");
    policy(2,
           "  podSelector: {matchLabels: {tier: web}}\n  ingress:\n  - from: [{namespaceSelector: "
           "{matchLabels: {env: prod}}, podSelector: {matchLabels: {tier: web}}}]\n    ports: "
           "[{port: http}]\n");
    policy(3,
           "  podSelector: {matchLabels: {tier: api}}\n  ingress:\n  - from: [{podSelector: "
           "{matchLabels: {tier: web}}}]\n    ports: [{port: 8001}]\n");
    policy(4,
           "  podSelector: {matchLabels: {tier: db}}\n  ingress:\n  - from: [{podSelector: "
           "{matchLabels: {tier: api}}}]\n    ports: [{port: http}]\n");
    policy(5,
           "  podSelector: {matchLabels: {tier: cache}}\n  ingress:\n  - from: [{podSelector: "
           "{matchExpressions: [{key: tier, operator: In, values: [api, web]}]}}]\n    ports: "
           "[{port: 8000, endPort: 8010}]\n");
    policy(
        6,
        fmt::format(
            "  podSelector: {{matchLabels: {{tier: batch}}}}\n  policyTypes: [Egress]\n  egress:\n"
            "  - to: [{{ipBlock: {{cidr: 10.0.0.0/8, except: [10.{}.0.0/16]}}}}]\n    ports: "
            "[{{port: 443}}]\n",
            n % 256));
    policy(7,
           "  podSelector: {matchLabels: {tier: web}}\n  policyTypes: [Egress]\n  egress:\n  - to: "
           "[{podSelector: {matchLabels: {tier: api}}}]\n");
    policy(
        8,
        "  podSelector: {matchLabels: {tier: api}}\n  policyTypes: [Egress]\n  egress:\n  - to: "
        "[{podSelector: {matchExpressions: [{key: tier, operator: In, values: [db, cache]}]}}]\n");
    policy(9,
           "  podSelector: {}\n  ingress:\n  - from: [{namespaceSelector: {matchLabels: {team: "
           "t0}}}]\n    ports: [{port: metrics}]\n");
  }
  return y;
}

struct Cluster {
  SourceFile file;
  std::vector<const Object*> objects;
  Cluster() {
    file.path = "cluster.yaml";
    file.buffer = generateCluster();
    parseSource(LoadOptions{}, file);
    if (file.error) std::fprintf(stderr, "generated cluster: %s\n", file.error->describe().c_str());
    for (const Object& o : file.objects) objects.push_back(&o);
  }
};

const Cluster& cluster() {
  static const Cluster c;
  return c;
}

void BM_NetpolConnlist5000(benchmark::State& state) {
  const Cluster& c = cluster();
  size_t lines = 0;
  for (auto _ : state) {
    netpol::Model m = netpol::buildModel(c.objects);
    netpol::Analyzer a(m);
    auto conns = netpol::connectionList(a);
    lines = conns.size();
    benchmark::DoNotOptimize(conns.data());
  }
  state.counters["workloads"] = 5000;
  state.counters["connections"] = static_cast<double>(lines);
}
BENCHMARK(BM_NetpolConnlist5000)->Unit(benchmark::kMillisecond)->MinTime(3.0);

void BM_NetpolEval5000(benchmark::State& state) {
  const Cluster& c = cluster();
  netpol::Model m = netpol::buildModel(c.objects);
  netpol::Analyzer a(m);
  const netpol::Workload* src = m.findWorkload("ns7/web-0");
  const netpol::Workload* dst = m.findWorkload("ns7/api-1");
  netpol::Endpoint s{static_cast<size_t>(src - m.workloads.data()), {}};
  netpol::Endpoint d{static_cast<size_t>(dst - m.workloads.data()), {}};
  for (auto _ : state) {
    auto e = a.egress(s, d);
    auto i = a.ingress(s, d);
    benchmark::DoNotOptimize(e.allowed.allows(netpol::Protocol::kTCP, 8001) &&
                             i.allowed.allows(netpol::Protocol::kTCP, 8001));
  }
}
BENCHMARK(BM_NetpolEval5000)->Unit(benchmark::kMicrosecond);

}  // namespace
