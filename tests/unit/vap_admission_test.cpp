// ValidatingAdmissionPolicies in the webhook and `review` (docs/policies.md): the same engine as
// scan on AdmissionReviews, its denial with the API server's reason, code and message, Warn as
// warnings, Audit as audit annotations, the namespace object, and reloading with the config.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "admission/handler.h"
#include "admission/server.h"
#include "load/json_reader.h"
#include "tests/unit/http_test_client.h"
#include "tests/unit/test_util.h"

namespace kh::test {
namespace vap_admission_tests {

std::string deploymentReview(int replicas, const std::string& operation = "CREATE",
                             const std::string& ns = "shop") {
  return fmt::format(
      R"({{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{{
        "uid":"u-1","kind":{{"group":"apps","version":"v1","kind":"Deployment"}},
        "resource":{{"group":"apps","version":"v1","resource":"deployments"}},
        "name":"web","namespace":"{}","operation":"{}",
        "userInfo":{{"username":"alice","groups":["devs","system:authenticated"]}},
        "object":{{"apiVersion":"apps/v1","kind":"Deployment","metadata":{{"name":"web","namespace":"{}"}},
          "spec":{{"replicas":{},"template":{{"spec":{{"containers":[{{"name":"app","image":"r/app:1"}}]}}}}}}}}}}}})",
      ns, operation, ns, replicas);
}

const char* kPolicies = R"Y(apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: replicas}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [deployments]}
    namespaceSelector: {matchLabels: {team: shop}}
  validations:
  - expression: "object.spec.replicas <= 5"
    messageExpression: "'at most 5 replicas in ' + namespaceObject.metadata.name + ', not ' + string(object.spec.replicas)"
  - expression: "request.userInfo.username != 'mallory'"
    reason: Forbidden
  auditAnnotations:
  - {key: owner, valueExpression: "request.userInfo.username"}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: replicas-deny}
spec: {policyName: replicas, validationActions: [Deny, Audit]}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: odd}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}
  validations:
  - {expression: "object.spec.replicas % 2 == 1", message: "odd replica counts only"}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: odd-warn}
spec: {policyName: odd, validationActions: [Warn]}
)Y";

const char* kNamespace =
    "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {team: shop}}\n";

size_t policyWarnings(const std::vector<std::string>& w) {
  size_t n = 0;
  for (const std::string& s : w) n += s.starts_with("Validation failed for ValidatingAdmission");
  return n;
}

struct Decision {
  Arena arena;
  admission::AdmissionResponse resp;
};

std::unique_ptr<Decision> decideWith(const std::string& body, const admission::Policy& policy,
                                     const Node* ns_object) {
  auto d = std::make_unique<Decision>();
  auto req = admission::decodeRequest(body, d->arena);
  EXPECT_TRUE(req);
  const Node* labels = get(get(ns_object, "metadata"), "labels");
  d->resp = admission::decide(req.value(), policy, labels, nullptr, nullptr, ns_object);
  return d;
}

TEST(VapAdmission, DecideMergesThePoliciesVerdict) {
  TempDir t;
  t.write("p/policies.yaml", kPolicies);
  auto bundle = policy::loadBundle({t.path() + "/p"}, {});
  ASSERT_TRUE(bundle) << bundle.error().describe();
  EXPECT_TRUE(bundle.value()->diagnostics.empty());
  admission::Policy policy;
  policy.vap = bundle.value();
  auto ns = loadText(kNamespace);
  const Node* ns_object = ns->objects[0].root;

  auto denied = decideWith(deploymentReview(8), policy, ns_object);
  EXPECT_FALSE(denied->resp.allowed);
  EXPECT_EQ(denied->resp.code, 422);
  EXPECT_EQ(denied->resp.reason, "Invalid");
  EXPECT_EQ(denied->resp.message,
            "ValidatingAdmissionPolicy 'replicas' with binding 'replicas-deny' denied request: "
            "at most 5 replicas in shop, not 8");
  // The policies' warnings first, whole; the Pod Security warnings of the default modes after.
  ASSERT_EQ(policyWarnings(denied->resp.warnings), 1u);
  EXPECT_EQ(denied->resp.warnings[0],
            "Validation failed for ValidatingAdmissionPolicy 'odd' with binding 'odd-warn': odd "
            "replica counts only");
  EXPECT_EQ(denied->resp.audit_annotations.at("replicas/owner"), "alice");
  EXPECT_NE(
      denied->resp.audit_annotations.at("validation.policy.admission.k8s.io/validation_failure"),
      "");

  auto allowed = decideWith(deploymentReview(3), policy, ns_object);
  EXPECT_TRUE(allowed->resp.allowed) << allowed->resp.message;
  EXPECT_EQ(policyWarnings(allowed->resp.warnings), 0u);
  // Another namespace: the namespaceSelector does not select it.
  auto other = decideWith(deploymentReview(8, "CREATE", "lab"), policy, nullptr);
  EXPECT_TRUE(other->resp.allowed);
  EXPECT_EQ(policyWarnings(other->resp.warnings), 1u);  // the Warn policy has no selector
}

TEST(VapAdmission, ReviewCommandAppliesPolicies) {
  TempDir t;
  t.write("policies.yaml", kPolicies);
  t.write("ns.yaml", kNamespace);
  t.write("review.json", deploymentReview(7));
  auto r = runCli("review review.json --policy policies.yaml --namespace ns.yaml", t.path());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(
      r.out.find(
          R"("code":422,"reason":"Invalid","message":"ValidatingAdmissionPolicy 'replicas' with binding 'replicas-deny' denied request: at most 5 replicas in shop, not 7")"),
      std::string::npos)
      << r.out;
  t.write("review.json", deploymentReview(3));
  auto ok = runCli("review review.json --policy policies.yaml --namespace ns.yaml", t.path());
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  // The Forbidden reason of the user check (403).
  std::string mallory = deploymentReview(3);
  mallory.replace(mallory.find("alice"), 5, "mallory");
  t.write("review.json", mallory);
  auto forbidden =
      runCli("review review.json --policy policies.yaml --namespace ns.yaml", t.path());
  EXPECT_NE(forbidden.out.find(R"("code":403,"reason":"Forbidden")"), std::string::npos)
      << forbidden.out;
  EXPECT_EQ(
      runCli("review review.json --policy policies.yaml --k8s-version 1.9", t.path()).exit_code, 2);
  EXPECT_EQ(runCli("review review.json --policy missing.yaml", t.path()).exit_code, 3);
}

std::string post(int port, const std::string& body) {
  return localHttp(port, "/validate", body).body;
}

// The webhook compiles the config's policies once per configuration and reloads them when the
// config or a policy file changes.
TEST(VapAdmission, ServerEnforcesAndReloadsPolicies) {
  TempDir t;
  t.write("policies/p.yaml", kPolicies);
  t.write("ns.yaml", kNamespace);
  t.write("config.yaml", "admission:\n  policies: [policies]\n  kubernetesVersion: '1.30'\n");
  admission::ServerOptions o;
  o.listen.clear();
  o.insecure_listen = "127.0.0.1:0";
  o.config = t.path() + "/config.yaml";
  o.namespaces = t.path() + "/ns.yaml";
  auto s = admission::Server::create(o);
  ASSERT_TRUE(s) << s.error().describe();
  std::unique_ptr<admission::Server> server = std::move(s.value());
  std::thread th([&] { server->run(); });
  int port = server->port();
  std::string body = post(port, deploymentReview(9));
  EXPECT_NE(body.find("at most 5 replicas in shop, not 9"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("code":422)"), std::string::npos) << body;
  // A stricter policy file: picked up without a restart.
  std::string stricter = kPolicies;
  stricter.replace(stricter.find("replicas <= 5"), 13, "replicas <= 1");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // a later mtime
  t.write("policies/p.yaml", stricter);
  bool reloaded = false;
  for (int i = 0; i < 60 && !reloaded; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    reloaded = post(port, deploymentReview(3)).find("not 3") != std::string::npos;
  }
  EXPECT_TRUE(reloaded);
  server->shutdown();
  th.join();
}

}  // namespace vap_admission_tests
}  // namespace kh::test
