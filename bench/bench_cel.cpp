// The CEL engine (issue #24): compiling a typical ValidatingAdmissionPolicy expression, and
// evaluating it over a parsed Pod in place (the document's nodes, no copy), one thread.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <sstream>

#include "admission/handler.h"
#include "admission/review.h"
#include "base/parallel.h"
#include "cel/eval.h"
#include "load/loader.h"
#include "policy/vap.h"

namespace kh::test_bench {
std::string readText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
}  // namespace kh::test_bench

namespace {

using namespace kh;

constexpr const char* kPodValidation =
    "object.spec.containers.all(c, has(c.securityContext) && "
    "c.securityContext.allowPrivilegeEscalation == false)";

const SourceFile& pod() {
  static SourceFile f = [] {
    SourceFile s;
    s.path = "pod.yaml";
    s.buffer = R"(apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
  labels: {app: web, tier: frontend}
spec:
  serviceAccountName: web
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: registry.example.com/shop/web:1.4.2
    ports: [{containerPort: 8080}]
    resources: {limits: {cpu: 500m, memory: 256Mi}}
    securityContext:
      runAsUser: 1000
      readOnlyRootFilesystem: true
      capabilities: {drop: [ALL]}
      allowPrivilegeEscalation: false
  - name: proxy
    image: registry.example.com/shop/proxy:2.0.1
    securityContext:
      capabilities: {drop: [ALL]}
      allowPrivilegeEscalation: false
)";
    parseSource(LoadOptions{}, s);
    return s;
  }();
  return f;
}

cel::Env podEnv() {
  cel::Env env;
  env.variables = {"object", "oldObject", "params", "request", "namespaceObject"};
  env.strict = true;  // type-checked, as the API server compiles it
  env.homogeneous_literals = true;
  env.k8s_minor = 33;
  return env;
}

void BM_CelCompile(benchmark::State& state) {
  cel::Env env = podEnv();
  for (auto _ : state) {
    cel::CompileResult r = cel::compile(kPodValidation, env);
    if (!r.ok()) state.SkipWithError(r.message.c_str());
    benchmark::DoNotOptimize(r.program);
  }
}
BENCHMARK(BM_CelCompile);

void BM_CelPodValidation(benchmark::State& state) {
  cel::CompileResult r = cel::compile(kPodValidation, podEnv());
  if (!r.ok() || pod().objects.empty()) {
    state.SkipWithError("setup");
    return;
  }
  cel::Value vars[5] = {cel::Value::fromNode(pod().objects[0].root)};
  for (auto _ : state) {
    cel::Value v = r.program->evaluate(vars);
    if (v.kind != cel::Kind::kBool || !v.b) state.SkipWithError("unexpected verdict");
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_CelPodValidation);

}  // namespace

namespace {

// 60 policies: the seven of deploy/policies, each also renamed 7 more times (the same work
// per policy as a library of 60 distinct ones), and 4 of them again to make 60.
std::string policyLibrary(int count) {
  std::string base = kh::test_bench::readText(std::string(KH_SOURCE_DIR) +
                                              "/deploy/policies/kubeharden-baseline.yaml");
  std::string out;
  for (int k = 0; static_cast<int>(out.size()) >= 0; ++k) {
    std::string copy = base;
    for (size_t at = 0; (at = copy.find("kubeharden-", at)) != std::string::npos; at += 20)
      copy.replace(at, 11, fmt::format("kh{:03d}-", k));
    // Split into policy+binding pairs and take them until `count`.
    size_t pos = 0;
    int taken = 0;
    while ((pos = copy.find("---\napiVersion: admissionregistration.k8s.io/v1\nkind: "
                            "ValidatingAdmissionPolicy\n",
                            pos)) != std::string::npos) {
      size_t next = copy.find(
          "---\napiVersion: admissionregistration.k8s.io/v1\nkind: "
          "ValidatingAdmissionPolicy\n",
          pos + 10);
      out += copy.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
      pos = next == std::string::npos ? copy.size() : next;
      if (++taken + k * 7 >= count) return out;
    }
  }
  return out;
}

struct VapWorld {
  std::vector<std::unique_ptr<SourceFile>> files;
  std::vector<const Object*> objects, pods;
  std::unique_ptr<policy::PolicySet> set;
};

VapWorld& vapWorld(int policies) {
  static std::map<int, std::unique_ptr<VapWorld>> worlds;
  auto& w = worlds[policies];
  if (w) return *w;
  w = std::make_unique<VapWorld>();
  auto pol = std::make_unique<SourceFile>();
  pol->path = "policies.yaml";
  pol->buffer = policyLibrary(policies);
  parseSource(LoadOptions{}, *pol);
  auto pods = std::make_unique<SourceFile>();
  pods->path = "pods.yaml";
  for (int i = 0; i < 1000; ++i)
    pods->buffer += fmt::format(
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: app{}, namespace: ns{}, "
        "labels: {{app: app{}}}}}\nspec:\n  replicas: {}\n  template:\n    spec:\n"
        "      securityContext: {{runAsNonRoot: true, runAsUser: {}}}\n"
        "      containers:\n      - name: app\n        image: registry.example.com/app{}:{}\n"
        "        securityContext: {{allowPrivilegeEscalation: {}, privileged: false, "
        "capabilities: {{drop: [ALL]}}}}\n      - name: sidecar\n        image: "
        "registry.example.com/proxy:2.1\n        securityContext: {{allowPrivilegeEscalation: "
        "false}}\n",
        i, i % 20, i, 1 + i % 5, i % 10 == 0 ? 0 : 1000 + i, i, i % 7 == 0 ? "latest" : "1.0",
        i % 3 == 0 ? "true" : "false");
  parseSource(LoadOptions{}, *pods);
  for (const Object& o : pol->objects) w->objects.push_back(&o);
  for (const Object& o : pods->objects) {
    w->objects.push_back(&o);
    w->pods.push_back(&o);
  }
  std::vector<Diagnostic> diags;
  w->set = std::make_unique<policy::PolicySet>(policy::PolicySet::build(w->objects, {}, diags));
  w->files.push_back(std::move(pol));
  w->files.push_back(std::move(pods));
  return *w;
}

using namespace kh;

// The issue's goal: 1,000 workloads against 60 policies in under a second on 2 cores.
void BM_Vap1000WorkloadsX60Policies(benchmark::State& state) {
  VapWorld& w = vapWorld(60);
  if (w.set->bindings() != 60 || w.pods.size() != 1000) {
    state.SkipWithError("setup");
    return;
  }
  size_t denials = 0;
  for (auto _ : state) {
    std::vector<size_t> denied(w.pods.size());
    parallelFor(w.pods.size(), 2, [&](size_t i) {
      policy::Verdict v = w.set->admit(policy::createOf(*w.pods[i]), w.objects);
      denied[i] = v.outcomes.size();
    });
    denials = 0;
    for (size_t d : denied) denials += d;
  }
  state.counters["policies"] = 60;
  state.counters["workloads"] = 1000;
  state.counters["denials"] = static_cast<double>(denials);
  state.counters["evaluations_per_s"] =
      benchmark::Counter(60.0 * 1000, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_Vap1000WorkloadsX60Policies)->Unit(benchmark::kMillisecond)->UseRealTime();

// The recorded 10 KB Pod review of bench/data.
std::string readBody() {
  return kh::test_bench::readText(std::string(KH_SOURCE_DIR) + "/bench/data/review-pod-10k.json");
}

// What 20 policies add to one admission decision: the webhook's decide() with and without
// them, per request, over 2,000 requests; median and p99 of the difference.
void BM_VapWebhookAddedLatency(benchmark::State& state) {
  VapWorld& w = vapWorld(20);
  std::string body = readBody();
  Arena arena;
  auto req = admission::decodeRequest(body, arena);
  if (!req || w.set->bindings() != 20) {
    state.SkipWithError("setup");
    return;
  }
  auto bundle = std::make_shared<policy::Bundle>();
  bundle->objects = w.objects;
  std::vector<Diagnostic> diags;
  bundle->set = policy::PolicySet::build(w.objects, {}, diags);
  admission::Policy with, without;
  with.vap = bundle;
  std::vector<double> added;
  for (auto _ : state) {
    added.clear();
    for (int i = 0; i < 2000; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      auto a = admission::decide(req.value(), without, nullptr);
      auto t1 = std::chrono::steady_clock::now();
      auto b = admission::decide(req.value(), with, nullptr);
      auto t2 = std::chrono::steady_clock::now();
      benchmark::DoNotOptimize(a);
      benchmark::DoNotOptimize(b);
      added.push_back(std::chrono::duration<double, std::micro>((t2 - t1) - (t1 - t0)).count());
    }
  }
  std::sort(added.begin(), added.end());
  state.counters["added_p50_us"] = added[added.size() / 2];
  state.counters["added_p99_us"] = added[added.size() * 99 / 100];
}
BENCHMARK(BM_VapWebhookAddedLatency)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
