// The audit Policy evaluated as k8s.io/apiserver's policy checker does (audit/policy.h): first
// match, each selector's semantics on both sides, omitStages and omitManagedFields merged; and
// `kubeharden audit policy explain` printing the decision.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "audit/policy.h"
#include "load/loader.h"
#include "tests/unit/test_util.h"

namespace kh::audit {
namespace {

struct Loaded {
  std::unique_ptr<SourceFile> file;
  Policy policy;
};

Loaded load(const std::string& yaml) {
  Loaded l;
  l.file = test::loadText(yaml, "policy.yaml");
  EXPECT_EQ(l.file->objects.size(), 1u);
  l.policy = readPolicy(l.file->objects.at(0).root);
  return l;
}

Request res(std::string verb, std::string resource, std::string ns = "default",
            std::string user = "alice",
            std::vector<std::string> groups = {"system:authenticated"}) {
  Request r;
  r.user = std::move(user);
  r.groups = std::move(groups);
  r.verb = std::move(verb);
  if (size_t slash = resource.find('/'); slash != std::string::npos) {
    r.subresource = resource.substr(slash + 1);
    resource.resize(slash);
  }
  if (size_t dot = resource.find('.'); dot != std::string::npos) {
    r.api_group = resource.substr(dot + 1);
    resource.resize(dot);
  }
  r.resource = resource;
  r.namespace_ = std::move(ns);
  return r;
}

// The index of the deciding rule, or -1.
int rule(const Policy& p, const Request& r) {
  Decision d = evaluate(p, r);
  return d.rule ? static_cast<int>(d.rule->index) : -1;
}

TEST(AuditPolicy, FirstMatchingRuleDecides) {
  Loaded l = load(R"(apiVersion: audit.k8s.io/v1
kind: Policy
rules:
  - level: None
    users: [system:kube-proxy]
  - level: Metadata
    userGroups: [system:nodes]
  - level: Request
    verbs: [create]
  - level: RequestResponse
    namespaces: [prod]
  - level: Metadata
    nonResourceURLs: ["/healthz*", /version]
)");
  const Policy& p = l.policy;
  EXPECT_EQ(rule(p, res("get", "pods", "x", "system:kube-proxy")), 0);
  EXPECT_EQ(rule(p, res("create", "pods", "prod", "system:kube-proxy")), 0);  // first wins
  EXPECT_EQ(rule(p, res("get", "pods", "x", "n1", {"system:nodes", "x"})), 1);
  EXPECT_EQ(rule(p, res("create", "pods", "prod")), 2);
  EXPECT_EQ(rule(p, res("get", "pods", "prod")), 3);
  EXPECT_EQ(rule(p, res("get", "pods", "dev")), -1);
  EXPECT_EQ(evaluate(p, res("get", "pods", "dev")).level, Level::kNone);
  EXPECT_EQ(evaluate(p, res("get", "pods", "prod")).level, Level::kRequestResponse);
  // A namespaces rule is for resource requests only; nonResourceURLs for the others.
  Request healthz;
  healthz.user = "alice";
  healthz.verb = "get";
  healthz.resource_request = false;
  healthz.path = "/healthz/etcd";
  EXPECT_EQ(rule(p, healthz), 4);
  healthz.path = "/version";
  EXPECT_EQ(rule(p, healthz), 4);
  healthz.path = "/versions";
  EXPECT_EQ(rule(p, healthz), -1);
  healthz.verb = "create";
  EXPECT_EQ(rule(p, healthz), 2);  // verbs alone match non-resource requests too
}

TEST(AuditPolicy, ResourceFormsAsTheApiServerMatchesThem) {
  Loaded l = load(R"(apiVersion: audit.k8s.io/v1
kind: Policy
rules:
  - level: None
    resources: [{group: "", resources: [configmaps], resourceNames: [kube-root-ca.crt]}]
  - level: Metadata
    resources: [{group: "", resources: ["*/status"]}]
  - level: Request
    resources: [{group: "", resources: ["pods/*"]}]
  - level: RequestResponse
    resources: [{group: apps}]
  - level: Metadata
    resources: [{group: "", resources: [secrets, "services/proxy"]}]
  - level: Request
    resources: [{group: "", resources: ["*"]}]
)");
  const Policy& p = l.policy;
  Request named = res("get", "configmaps");
  named.name = "kube-root-ca.crt";
  EXPECT_EQ(rule(p, named), 0);
  named.name = "other";
  EXPECT_EQ(rule(p, named), 5);  // resourceNames name the object
  EXPECT_EQ(rule(p, res("update", "nodes/status", "")), 1);
  EXPECT_EQ(rule(p, res("update", "pods/status")), 1);  // "*/status" before "pods/*"
  EXPECT_EQ(rule(p, res("create", "pods/exec")), 2);
  EXPECT_EQ(rule(p, res("get", "pods")), 2);                    // "pods/*" is pods itself too
  EXPECT_EQ(rule(p, res("get", "deployments.apps/scale")), 3);  // a group, every resource
  EXPECT_EQ(rule(p, res("get", "secrets")), 4);
  EXPECT_EQ(rule(p, res("get", "services/proxy")), 4);
  EXPECT_EQ(rule(p, res("get", "services")), 5);
  EXPECT_EQ(rule(p, res("get", "secrets/x")), 5);    // "*" is subresources too
  EXPECT_EQ(rule(p, res("get", "jobs.batch")), -1);  // the group must be the same
}

TEST(AuditPolicy, StagesAndManagedFieldsMerge) {
  Loaded l = load(R"(apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
omitManagedFields: true
rules:
  - level: Request
    omitStages: [ResponseStarted, RequestReceived]
    omitManagedFields: false
    verbs: [create]
  - level: Metadata
)");
  Decision c = evaluate(l.policy, res("create", "pods"));
  EXPECT_EQ(c.omit_stages, (std::vector<std::string_view>{"RequestReceived", "ResponseStarted"}));
  EXPECT_FALSE(c.omit_managed_fields);
  Decision g = evaluate(l.policy, res("get", "pods"));
  EXPECT_EQ(g.omit_stages, (std::vector<std::string_view>{"RequestReceived"}));
  EXPECT_TRUE(g.omit_managed_fields);
  EXPECT_TRUE(l.policy.problems.empty());
}

TEST(AuditPolicy, ProblemsAreFoundWhereTheyAre) {
  Loaded l = load(R"(apiVersion: audit.k8s.io/v1
kind: Policy
rules:
  - level: Loud
  - level: Metadata
    nonResourceURLs: [healthz]
  - level: None
)");
  ASSERT_EQ(l.policy.problems.size(), 2u);
  EXPECT_EQ(l.policy.problems[0].path, "rules[0].level");
  EXPECT_EQ(l.policy.problems[0].pos.line, 4u);
  EXPECT_EQ(l.policy.problems[1].path, "rules[1].nonResourceURLs[0]");
  // The rule that cannot be read is left out; the others keep their indexes.
  ASSERT_EQ(l.policy.rules.size(), 2u);
  EXPECT_EQ(l.policy.rules[1].index, 2u);
}

TEST(AuditPolicy, ExplainPrintsTheDecidingRule) {
  test::TempDir d;
  std::string file = d.write("audit.yaml", R"(apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    resources: [{group: "", resources: [secrets]}]
  - level: RequestResponse
)");
  auto r = test::runCli("audit policy explain " + file +
                        " --user alice --group system:authenticated --verb get --resource "
                        "secrets -n default");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "request: get secrets in namespace default as alice (system:authenticated)\n"
            "rule:    rules[0] (" +
                file +
                ":5:5)\nlevel:   Metadata\nstages:  omitted: RequestReceived\n"
                "managedFields: kept\n");
  auto j = test::runCli("audit policy explain " + file +
                        " --user bob --verb create --resource deployments.apps/scale -n x -f json");
  ASSERT_EQ(j.exit_code, 0) << j.err;
  EXPECT_NE(
      j.out.find(R"("request":"create deployments.apps/scale in namespace x as bob","rule":1)"),
      std::string::npos)
      << j.out;
  EXPECT_NE(j.out.find(R"("level":"RequestResponse")"), std::string::npos);
  // No policy in the file, or neither --resource nor --path: errors.
  std::string other =
      d.write("other.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n");
  auto none =
      test::runCli("audit policy explain " + other + " --user a --verb get --resource pods");
  EXPECT_EQ(none.exit_code, 3);
  EXPECT_NE(none.err.find("no audit Policy"), std::string::npos) << none.err;
  auto usage = test::runCli("audit policy explain " + file + " --user a --verb get");
  EXPECT_EQ(usage.exit_code, 2);
}

}  // namespace
}  // namespace kh::audit

namespace kh::audit {
namespace {

// `audit coverage`: logged requests (from a file and standard input) evaluated against the
// policy, rule by rule; rules that matched nothing said so; the probes' levels.
TEST(AuditPolicy, CoverageCountsLoggedRequestsPerRule) {
  test::TempDir d;
  std::string policy = d.write("audit.yaml", R"(apiVersion: audit.k8s.io/v1
kind: Policy
rules:
  - level: None
    users: [system:kube-proxy]
  - level: Metadata
    resources: [{group: "", resources: [secrets]}]
  - level: Request
    verbs: [create]
)");
  auto ev = [](const std::string& id, const std::string& user, const std::string& verb,
               const std::string& resource) {
    return fmt::format(
        R"({{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"{}",)"
        R"("stage":"ResponseComplete","requestURI":"/api/v1/{}","verb":"{}",)"
        R"("user":{{"username":"{}"}},"objectRef":{{"resource":"{}","apiVersion":"v1"}}}})",
        id, resource, verb, user, resource);
  };
  std::string log = d.write("audit.log", ev("1", "system:kube-proxy", "watch", "endpoints") + "\n" +
                                             ev("2", "system:kube-proxy", "list", "services") +
                                             "\n" + ev("3", "bob", "get", "pods") + "\n");
  auto r = test::runCli("audit coverage " + policy + " " + log + " -", "",
                        ev("4", "carol", "create", "configmaps") + "\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("3 rules; logs: 4 requests (4 events, 0 malformed lines)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("rules[0]   4      None                        2\n"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("rules[1]   6      Metadata                    0  matched nothing\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("rules[2]   8      Request                     1\n"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("(none)            None                        1\n"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("  get secrets "), std::string::npos);
  auto j = test::runCli("audit coverage -f json " + policy + " " + log);
  ASSERT_EQ(j.exit_code, 0) << j.err;
  EXPECT_NE(
      j.out.find(
          R"("requests":3,"malformed":0,"rules":[{"rule":0,"line":4,"level":"None","requests":2})"),
      std::string::npos)
      << j.out;
  EXPECT_NE(j.out.find(R"("unmatched":1)"), std::string::npos);
  EXPECT_NE(j.out.find(R"({"request":"get secrets","rule":1,"level":"Metadata"})"),
            std::string::npos);
  // A log that cannot be read: named on stderr, the rest still counted, exit 3.
  auto missing =
      test::runCli("audit coverage " + policy + " " + log + " " + d.path() + "/gone.log");
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_NE(missing.err.find("gone.log: No such file or directory"), std::string::npos)
      << missing.err;
  EXPECT_NE(missing.out.find("logs: 3 requests"), std::string::npos) << missing.out;
}

}  // namespace
}  // namespace kh::audit

namespace kh::audit {
namespace {

// `kubeharden scan` over a control-plane directory (as on a kubeadm node): the static pod's
// flags are followed to the encryption config, audit policy and admission configuration in the
// tree, each judged; admin.conf is found by its content. Take a file away and the flag that
// named it says it was not judged.
TEST(ControlPlaneTree, ScanJudgesTheFilesTheFlagsName) {
  test::TempDir d;
  d.write("etc/kubernetes/manifests/kube-apiserver.yaml", R"(apiVersion: v1
kind: Pod
metadata: {name: kube-apiserver, namespace: kube-system}
spec:
  containers:
    - name: kube-apiserver
      image: registry.k8s.io/kube-apiserver:v1.31.1
      command:
        - kube-apiserver
        - --encryption-provider-config=/etc/kubernetes/enc/enc.yaml
        - --audit-policy-file=/etc/kubernetes/audit-policy.yaml
        - --admission-control-config-file=/etc/kubernetes/admission.yaml
)");
  d.write("etc/kubernetes/enc/enc.yaml", R"(apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: [secrets]
    providers:
      - identity: {}
      - aescbc: {keys: [{name: k1, secret: YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0NTY=}]}
)");
  d.write("etc/kubernetes/audit-policy.yaml", R"(apiVersion: audit.k8s.io/v1
kind: Policy
rules:
  - level: RequestResponse
)");
  d.write("etc/kubernetes/admission.yaml", R"(apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
  - name: PodSecurity
    configuration:
      apiVersion: pod-security.admission.config.k8s.io/v1
      kind: PodSecurityConfiguration
      defaults: {enforce: baseline}
      exemptions: {namespaces: [monitoring]}
)");
  d.write("etc/kubernetes/admin.conf", R"(apiVersion: v1
kind: Config
clusters: [{name: k, cluster: {server: "https://10.0.0.1:6443"}}]
users: [{name: admin, user: {client-key-data: c2VjcmV0LWtleS1ieXRlcw==}}]
contexts: [{name: admin@k, context: {cluster: k, user: admin}}]
)");
  auto r = test::runCli("scan --fail-on none --no-color -f json " + d.path() + "/etc/kubernetes");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* found : {R"("check":"encryption-secrets-plaintext","rule":"identity-first")",
                            R"("check":"audit-policy-sensitive-data-logged","rule":"secrets")",
                            R"("check":"admission-config-pss-exemptions","rule":"namespace")",
                            R"("check":"kubeconfig-embedded-credentials","rule":"client-key")"})
    EXPECT_NE(r.out.find(found), std::string::npos) << found;
  EXPECT_EQ(r.out.find("cp-apiserver-config-files"), std::string::npos);
  EXPECT_EQ(r.out.find("c2VjcmV0LWtleS1ieXRlcw"), std::string::npos);  // the key is never shown
  // Without the encryption config: said, not passed.
  std::filesystem::remove(d.path() + "/etc/kubernetes/enc/enc.yaml");
  auto partial = test::runCli("scan --fail-on none --no-color " + d.path() + "/etc/kubernetes");
  ASSERT_EQ(partial.exit_code, 0) << partial.err;
  EXPECT_NE(partial.out.find("--encryption-provider-config=/etc/kubernetes/enc/enc.yaml is not in "
                             "the input: encryption at rest is not judged"),
            std::string::npos)
      << partial.out;
  EXPECT_EQ(partial.out.find("encryption-secrets-plaintext"), std::string::npos);
}

}  // namespace
}  // namespace kh::audit
