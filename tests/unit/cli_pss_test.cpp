// End-to-end tests of `kubeharden pss`, its --namespaces mode, and the pss-* scan checks.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "tests/unit/test_util.h"

namespace kh::test {
namespace {

const std::string kPssExamples = std::string(KH_SOURCE_DIR) + "/examples";

rapidjson::Document json(const std::string& s) {
  rapidjson::Document d;
  d.Parse(s.c_str());
  EXPECT_FALSE(d.HasParseError()) << s.substr(0, 200);
  return d;
}

TEST(CliPss, ExamplesAtRestrictedLatest) {
  auto r = runCli("pss " + kPssExamples);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.out.find("hardened-deployment.yaml:9:1 Deployment shop/web: allowed"),
            std::string::npos)
      << r.out;
  EXPECT_NE(
      r.out.find(
          R"(Deployment shop/legacy-api: violates PodSecurity "restricted:latest": host namespaces (hostNetwork=true), hostPort (container "api" uses hostPort 8080), privileged (container "api" must not set securityContext.privileged=true), allowPrivilegeEscalation != false)"),
      std::string::npos)
      << r.out;
  // The example chart renders (as in scan) and its debug sidecar is judged too.
  EXPECT_NE(
      r.out.find("examples/charts/shop:3:1 Deployment default/release-name-storefront: "
                 "violates PodSecurity \"restricted:latest\": privileged (container \"debug\""),
      std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("4 pods and pod templates at restricted:latest (rules of v1.37): 1 allowed, "
                       "3 not allowed"),
            std::string::npos)
      << r.out;
}

TEST(CliPss, JsonSchema) {
  auto r = runCli("pss --level baseline --version v1.29 --format json " + kPssExamples);
  EXPECT_EQ(r.exit_code, 1);
  auto j = json(r.out);
  EXPECT_STREQ(j["schema"].GetString(), "kubeharden/pss/v1");
  EXPECT_STREQ(j["level"].GetString(), "baseline");
  EXPECT_STREQ(j["version"].GetString(), "v1.29");
  ASSERT_EQ(j["results"].Size(), 4u);  // the example chart's Deployment is the fourth
  EXPECT_STREQ(j["results"][3]["object"]["name"].GetString(), "release-name-storefront");
  const auto& insecure = j["results"][1];
  EXPECT_STREQ(insecure["object"]["name"].GetString(), "legacy-api");
  EXPECT_FALSE(insecure["allowed"].GetBool());
  ASSERT_EQ(insecure["violations"].Size(), 4u);
  EXPECT_STREQ(insecure["violations"][0]["check"].GetString(), "hostNamespaces");
  EXPECT_STREQ(insecure["violations"][1]["check"].GetString(), "hostPathVolumes");
  EXPECT_STREQ(insecure["violations"][1]["detail"].GetString(), R"(volume "docker")");
  EXPECT_TRUE(j["results"][0]["allowed"].GetBool());
  EXPECT_EQ(j["summary"]["denied"].GetUint(),
            3u);  // the chart's privileged sidecar is baseline too
}

TEST(CliPss, ExitCodes) {
  TempDir d;
  std::string ok = d.write("ok.yaml",
                           "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: "
                           "[{name: a, image: x}]\n");
  EXPECT_EQ(runCli("pss --level baseline " + ok).exit_code, 0);
  EXPECT_EQ(runCli("pss --level restricted " + ok).exit_code, 1);
  EXPECT_EQ(runCli("pss --level privileged " + ok).exit_code, 2);
  EXPECT_EQ(runCli("pss --level strict " + ok).exit_code, 2);
  auto v = runCli("pss --version 1.29 " + ok);
  EXPECT_EQ(v.exit_code, 2);
  EXPECT_NE(v.err.find(R"(--version must be "latest" or "v1.x")"), std::string::npos);
  std::string cm = d.write("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n");
  auto none = runCli("pss " + cm);
  EXPECT_EQ(none.exit_code, 3);
  EXPECT_NE(none.err.find("no pods or pod templates"), std::string::npos);
  std::string bad = d.write("bad.yaml", "kind: [\n");
  EXPECT_EQ(runCli("pss " + ok + " " + bad).exit_code, 3);
}

const char* kCluster = R"(apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels:
    pod-security.kubernetes.io/enforce: baseline
    pod-security.kubernetes.io/warn: restricted
    pod-security.kubernetes.io/warn-version: v1.29
    pod-security.kubernetes.io/audit: Strict
---
apiVersion: v1
kind: Namespace
metadata: {name: legacy}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    spec:
      containers: [{name: app, image: x, securityContext: {privileged: true}}]
---
apiVersion: v1
kind: Pod
metadata: {name: debug, namespace: shop}
spec:
  containers: [{name: c, image: x, securityContext: {privileged: true}}]
---
apiVersion: v1
kind: Pod
metadata: {name: fine, namespace: shop}
spec:
  containers: [{name: c, image: x}]
---
apiVersion: v1
kind: Pod
metadata: {name: old, namespace: legacy}
spec:
  hostNetwork: true
  containers: [{name: c, image: x}]
)";

TEST(CliPss, NamespacesText) {
  TempDir d;
  std::string f = d.write("cluster.yaml", kCluster);
  auto r = runCli("pss --namespaces " + f);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("namespace legacy: enforce=privileged:latest (default)"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("warning: no pod-security.kubernetes.io/enforce label"), std::string::npos);
  EXPECT_NE(
      r.out.find(
          "namespace shop: enforce=baseline:latest audit=privileged:latest warn=restricted:v1.29"),
      std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("error: label pod-security.kubernetes.io/audit: Strict is invalid"),
            std::string::npos);
  EXPECT_NE(
      r.out.find(
          R"(enforce: its pods will be rejected when created (PSA enforces on pods, not on Deployments): violates PodSecurity "baseline:latest": privileged (container "app" must not set securityContext.privileged=true))"),
      std::string::npos)
      << r.out;
  EXPECT_NE(
      r.out.find(
          R"(enforce: rejected: pods "debug" is forbidden: violates PodSecurity "baseline:latest")"),
      std::string::npos);
  EXPECT_NE(r.out.find("warn: no warning (the request is rejected)"), std::string::npos);
  EXPECT_NE(
      r.out.find(
          R"(warn: warning: would violate PodSecurity "restricted:v1.29": allowPrivilegeEscalation != false (container "c")"),
      std::string::npos)
      << r.out;
}

TEST(CliPss, NamespacesJsonAndCleanExit) {
  TempDir d;
  std::string f = d.write("cluster.yaml", kCluster);
  auto j = json(runCli("pss --namespaces --format json " + f).out);
  EXPECT_STREQ(j["schema"].GetString(), "kubeharden/pss-namespaces/v1");
  ASSERT_EQ(j["namespaces"].Size(), 2u);
  const auto& shop = j["namespaces"][1];
  EXPECT_STREQ(shop["name"].GetString(), "shop");
  EXPECT_TRUE(shop["enforceLabelled"].GetBool());
  EXPECT_EQ(shop["errors"].Size(), 1u);
  ASSERT_EQ(shop["workloads"].Size(), 3u);
  EXPECT_FALSE(shop["workloads"][0]["enforce"]["allowed"].GetBool());
  EXPECT_STREQ(shop["workloads"][0]["enforce"]["violations"][0]["check"].GetString(), "privileged");
  EXPECT_TRUE(shop["workloads"][2]["enforce"]["allowed"].GetBool());
  // Nothing rejected at enforce: exit 0 even though warnings exist.
  std::string ok = d.write(
      "ok.yaml",
      "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  labels: "
      "{pod-security.kubernetes.io/enforce: baseline}\n---\napiVersion: v1\nkind: Pod\nmetadata: "
      "{name: p, namespace: a}\nspec:\n  containers: [{name: c, image: x}]\n");
  EXPECT_EQ(runCli("pss --namespaces " + ok).exit_code, 0);
}

TEST(CliPss, ScanChecksAreOptInAndCarryTheRule) {
  TempDir d;
  d.write("p.yaml",
          "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: "
          "'x:1', securityContext: {privileged: true}}]\n");
  auto off = json(runCli("scan --format json --fail-on none p.yaml", d.path()).out);
  for (const auto& f : off["findings"].GetArray())
    EXPECT_STRNE(f["check"].GetString(), "pss-baseline");
  d.write("c.yaml",
          "checks:\n  enable: [pss-baseline]\n  options:\n    pss-baseline: {version: v1.25}\n");
  auto on = json(runCli("scan -c c.yaml --format json --fail-on none p.yaml", d.path()).out);
  bool found = false;
  for (const auto& f : on["findings"].GetArray()) {
    if (std::string(f["check"].GetString()) != "pss-baseline") continue;
    found = true;
    EXPECT_STREQ(f["rule"].GetString(), "privileged");
    EXPECT_STREQ(f["path"].GetString(), "spec");
    EXPECT_EQ(std::string(f["message"].GetString())
                  .rfind("baseline:v1.25: privileged (container \"a\"", 0),
              0u);
  }
  EXPECT_TRUE(found);
  d.write("bad.yaml",
          "checks:\n  enable: [pss-baseline]\n  options:\n    pss-baseline: {version: '1.25'}\n");
  EXPECT_EQ(runCli("scan -c bad.yaml p.yaml", d.path()).exit_code, 2);
}

}  // namespace
}  // namespace kh::test
