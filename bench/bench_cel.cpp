// The CEL engine (issue #24): compiling a typical ValidatingAdmissionPolicy expression, and
// evaluating it over a parsed Pod in place (the document's nodes, no copy), one thread.
#include <benchmark/benchmark.h>

#include "cel/eval.h"
#include "load/loader.h"

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
  env.strict = true;
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
