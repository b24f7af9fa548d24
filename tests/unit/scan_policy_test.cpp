// `kubeharden scan --policy` (docs/policies.md): ValidatingAdmissionPolicies applied to the
// input's objects from the command line, with their findings, diagnostics, flags and exit codes.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>

#include "tests/unit/image_util.h"
#include "tests/unit/test_util.h"

namespace kh::test {
namespace scan_policy_tests {

const char* kPolicy = R"Y(apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: replicas}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [deployments]}
  validations:
  - expression: "object.spec.replicas <= 5"
    messageExpression: "'too many replicas: ' + string(object.spec.replicas)"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: replicas-test}
spec:
  policyName: replicas
  validationActions: [ACTIONS]
  matchResources:
    namespaceSelector: {matchLabels: {environment: test}}
)Y";

std::string deployment(int replicas, const std::string& ns = "shop") {
  return "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: " + ns +
         "}\nspec:\n  replicas: " + std::to_string(replicas) +
         "\n  template:\n    spec:\n      containers: [{name: app, image: 'r/app:1'}]\n";
}

std::string policyWith(const std::string& actions) {
  std::string p = kPolicy;
  p.replace(p.find("ACTIONS"), 7, actions);
  return p;
}

rapidjson::Document json(const std::string& out) {
  rapidjson::Document d;
  d.Parse(out.c_str());
  EXPECT_FALSE(d.HasParseError()) << out;
  return d;
}

std::vector<std::string> vapFindings(const rapidjson::Document& d) {
  std::vector<std::string> out;
  if (!d.IsObject() || !d.HasMember("findings")) return out;
  for (const auto& f : d["findings"].GetArray()) {
    std::string check = f["check"].GetString();
    if (check.starts_with("vap:"))
      out.push_back(check + " " + f["severity"].GetString() + " " + f["message"].GetString());
  }
  return out;
}

TEST(ScanPolicy, DenyFindingsWithNamespaceLabelsAndExitCodes) {
  TempDir t;
  t.write("in/app.yaml",
          "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: "
          "{environment: test}}\n---\n" +
              deployment(7));
  t.write("in/other.yaml", deployment(9, "elsewhere"));
  t.write("policies/p.yaml", policyWith("Deny"));
  auto r = runCli("scan in --policy policies --disable all -f json", t.path());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  auto found = vapFindings(json(r.out));
  ASSERT_EQ(found.size(), 1u) << r.out;
  EXPECT_EQ(found[0],
            "vap:replicas high ValidatingAdmissionPolicy 'replicas' with binding 'replicas-test' "
            "denied request: too many replicas: 7 (validations[0] at policies/p.yaml:9)");
  // The namespace not in the input takes --namespace-label's labels.
  auto labelled =
      runCli("scan in --policy policies --disable all -f json --namespace-label environment=test",
             t.path());
  EXPECT_EQ(vapFindings(json(labelled.out)).size(), 2u) << labelled.out;
  // Without the policy: nothing to say, exit 0.
  EXPECT_EQ(runCli("scan in --disable all -f json", t.path()).exit_code, 0);
  // The policy file is applied, not scanned: its objects are no findings' subjects.
  EXPECT_EQ(r.out.find("\"file\":\"policies/p.yaml\""), std::string::npos);
  // SARIF: the policy is a rule of the run, its findings results of that rule (schema-valid).
  auto sarif = runCli("scan in --policy policies --disable all -f sarif", t.path());
  EXPECT_NE(sarif.out.find(R"("id":"vap:replicas")"), std::string::npos) << sarif.out;
  EXPECT_NE(sarif.out.find(R"("ruleId":"vap:replicas","ruleIndex":0)"), std::string::npos);
  if (std::string schemas = sharedDir("schemas/sarif-2.1.0"); !schemas.empty()) {
    std::string out;
    EXPECT_EQ(
        image::fixtures::shell("/usr/bin/python3 " + std::string(KH_SOURCE_DIR) +
                                   "/tests/tools/validate_sbom.py " + schemas +
                                   "/sarif-schema-2.1.0.json " + t.write("out.sarif", sarif.out),
                               &out),
        0)
        << out;
  }
  // An object's ignore annotation suppresses a policy's finding as it does a check's.
  t.write("in/app.yaml",
          "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {environment: "
          "test}}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
          "  namespace: shop\n  annotations: {kubeharden.io/ignore: 'vap:replicas', "
          "kubeharden.io/ignore-reason: load test}\nspec: {replicas: 9}\n");
  auto ignored = runCli("scan in --policy policies --disable all -f json", t.path());
  EXPECT_EQ(ignored.exit_code, 0) << ignored.out;
  EXPECT_NE(ignored.out.find("\"suppressed\":true"), std::string::npos) << ignored.out;
  EXPECT_EQ(ignored.out.find("unknown-check"), std::string::npos) << ignored.out;
}

TEST(ScanPolicy, ActionsSetSeverityAndConfigOverridesIt) {
  TempDir t;
  t.write("in/app.yaml", deployment(7));
  t.write("warn.yaml", policyWith("Warn"));
  t.write("audit.yaml", policyWith("Audit"));
  auto warn = runCli(
      "scan in --policy warn.yaml --disable all -f json --namespace-label "
      "environment=test --fail-on high",
      t.path());
  EXPECT_EQ(warn.exit_code, 0) << "a Warn finding is medium";
  auto found = vapFindings(json(warn.out));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_TRUE(
      found[0].starts_with("vap:replicas medium Validation failed for "
                           "ValidatingAdmissionPolicy 'replicas' with binding "
                           "'replicas-test': too many replicas: 7"))
      << found[0];
  auto audit = runCli(
      "scan in --policy audit.yaml --disable all -f json --namespace-label "
      "environment=test",
      t.path());
  ASSERT_EQ(vapFindings(json(audit.out)).size(), 1u);
  EXPECT_TRUE(vapFindings(json(audit.out))[0].starts_with("vap:replicas low "));
  t.write(".kubeharden.yaml", "checks:\n  severity:\n    vap:replicas: critical\n");
  auto overridden = runCli(
      "scan in --policy audit.yaml --disable all -f json "
      "--namespace-label environment=test",
      t.path());
  ASSERT_EQ(vapFindings(json(overridden.out)).size(), 1u) << overridden.err;
  EXPECT_TRUE(vapFindings(json(overridden.out))[0].starts_with("vap:replicas critical "));
  EXPECT_EQ(overridden.exit_code, 1);
}

TEST(ScanPolicy, OldObjectsMakeAnUpdate) {
  TempDir t;
  t.write("p.yaml", R"Y(apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: no-scale-down}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [apps], apiVersions: [v1], operations: [UPDATE], resources: [deployments]}
  validations:
  - expression: "object.spec.replicas >= oldObject.spec.replicas"
    message: scaling down is reviewed by a person
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: b}
spec: {policyName: no-scale-down, validationActions: [Deny]}
)Y");
  t.write("new/app.yaml", deployment(3));
  t.write("old/app.yaml", deployment(5));
  auto create = runCli("scan new --policy p.yaml --disable all -f json", t.path());
  EXPECT_TRUE(vapFindings(json(create.out)).empty()) << "a CREATE does not match UPDATE rules";
  auto update = runCli("scan new --old old --policy p.yaml --disable all -f json", t.path());
  auto found = vapFindings(json(update.out));
  ASSERT_EQ(found.size(), 1u) << update.out << update.err;
  EXPECT_NE(found[0].find("scaling down is reviewed by a person"), std::string::npos);
  t.write("old/app.yaml", deployment(2));
  EXPECT_TRUE(
      vapFindings(
          json(runCli("scan new --old old --policy p.yaml --disable all -f json", t.path()).out))
          .empty());
}

TEST(ScanPolicy, VersionProfilesAndErrors) {
  TempDir t;
  t.write("p.yaml", R"Y(apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: cluster-ip}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [services]}
  validations:
  - expression: "!has(object.spec.clusterIP) || isIP(object.spec.clusterIP)"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: b}
spec: {policyName: cluster-ip, validationActions: [Deny]}
)Y");
  t.write("in/svc.yaml",
          "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: a}\nspec: {clusterIP: "
          "10.0.0.1}\n");
  auto now = runCli("scan in --policy p.yaml --disable all -f json --k8s-version 1.30", t.path());
  EXPECT_EQ(now.exit_code, 0) << now.out << now.err;
  EXPECT_TRUE(vapFindings(json(now.out)).empty());
  // In 1.29 isIP does not exist: a compile error (a diagnostic at the policy) and, under
  // failurePolicy Fail, a denial of every request the policy matches.
  auto old = runCli("scan in --policy p.yaml --disable all -f json --k8s-version 1.29", t.path());
  EXPECT_EQ(old.exit_code, 1);
  auto d = json(old.out);
  auto found = vapFindings(d);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_NE(found[0].find("compilation error: compilation failed: ERROR: <input>:1:"),
            std::string::npos)
      << found[0];
  bool diagnosed = false;
  for (const auto& g : d["diagnostics"].GetArray())
    diagnosed =
        diagnosed || (std::string(g["code"].GetString()) == "vap-compile-error" &&
                      std::string(g["file"].GetString()) == "p.yaml" && g["line"].GetInt() == 9);
  EXPECT_TRUE(diagnosed) << old.out;
  // --strict makes the diagnostic fatal (exit 3).
  EXPECT_EQ(runCli("scan in --policy p.yaml --disable all --k8s-version 1.29 --strict", t.path())
                .exit_code,
            3);
  // Bad flags are usage errors.
  auto bad = runCli("scan in --policy p.yaml --k8s-version 2.0", t.path());
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--k8s-version 2.0: expected 1.27 to 1.35"), std::string::npos) << bad.err;
  EXPECT_EQ(runCli("scan in --policy p.yaml --namespace-label novalue", t.path()).exit_code, 2);
  auto missing = runCli("scan in --policy nowhere.yaml", t.path());
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_NE(missing.err.find("nowhere.yaml"), std::string::npos) << missing.err;
}

}  // namespace scan_policy_tests
}  // namespace kh::test

namespace kh::test {
namespace scan_policy_tests {

TEST(CustomChecks, CelChecksFromTheConfigFile) {
  TempDir t;
  t.write(".kubeharden.yaml", R"Y(customChecks:
- id: team-label
  title: Workloads name their team
  severity: high
  kinds: [Deployment, StatefulSet]
  expression: "has(object.metadata.labels) && 'team' in object.metadata.labels"
  messageExpression: "object.kind + ' ' + object.metadata.name + ' has no team label'"
  remediation: Add metadata.labels.team.
- id: small-configmaps
  expression: "!has(object.data) || object.data.size() <= 2"
  message: too many keys
  kinds: [ConfigMap]
)Y");
  t.write("in/a.yaml", deployment(1) +
                           "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: "
                           "{name: owned, namespace: shop, labels: {team: a}}\n"
                           "spec: {replicas: 1}\n---\napiVersion: v1\nkind: "
                           "ConfigMap\nmetadata: {name: c, namespace: shop}\n"
                           "data: {a: '1', b: '2', c: '3'}\n");
  // The built-in checks off by their groups; custom checks are in the group "custom".
  auto r = runCli("scan in --disable security,reliability -f json", t.path());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  auto d = json(r.out);
  std::vector<std::string> got;
  for (const auto& f : d["findings"].GetArray())
    got.push_back(std::string(f["check"].GetString()) + " " + f["severity"].GetString() + " " +
                  f["message"].GetString());
  ASSERT_EQ(got.size(), 2u) << r.out;
  EXPECT_EQ(got[0], "team-label high Deployment web has no team label");
  EXPECT_EQ(got[1], "small-configmaps medium too many keys");
  // A custom check is turned off by its ID like a built-in one.
  auto off = runCli("scan in --disable security,reliability,team-label -f json", t.path());
  EXPECT_EQ(off.out.find("team-label"), std::string::npos) << off.err;
  EXPECT_NE(off.out.find("small-configmaps"), std::string::npos);

  // A custom check that does not compile: the config file's line and cel-go's message, exit 2.
  t.write(".kubeharden.yaml", "customChecks:\n- id: broken\n  expression: \"object.spec.\"\n");
  auto bad = runCli("scan in", t.path());
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find(".kubeharden.yaml:3:"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("customChecks broken: expression: ERROR: <input>:1:13: Syntax error"),
            std::string::npos)
      << bad.err;
  // Type-checked as Kubernetes checks its expressions: a dyn field is not a bool, a message must
  // be a string, literals have one element type.
  t.write(".kubeharden.yaml",
          "customChecks:\n- id: untyped\n  expression: \"object.spec.hostNetwork\"\n");
  auto untyped = runCli("scan in", t.path());
  EXPECT_EQ(untyped.exit_code, 2);
  EXPECT_NE(untyped.err.find("customChecks untyped: expression: must evaluate to bool (its type "
                             "is dyn)"),
            std::string::npos)
      << untyped.err;
  t.write(".kubeharden.yaml",
          "customChecks:\n- id: typed\n  expression: \"object.spec.hostNetwork != true\"\n"
          "  messageExpression: \"size(object.metadata.name)\"\n");
  auto message = runCli("scan in", t.path());
  EXPECT_EQ(message.exit_code, 2);
  EXPECT_NE(message.err.find("customChecks typed: messageExpression: must evaluate to string (its "
                             "type is int)"),
            std::string::npos)
      << message.err;
  t.write(".kubeharden.yaml",
          "customChecks:\n- id: mixed\n  expression: \"[1, 'a'].size() > 0\"\n");
  EXPECT_NE(runCli("scan in", t.path()).err.find("expected type 'int' but found 'string'"),
            std::string::npos);
  // Ids: kebab-case, not a built-in's, not twice.
  t.write(".kubeharden.yaml", "customChecks:\n- id: pod-privileged\n  expression: 'true'\n");
  EXPECT_NE(runCli("scan in", t.path()).err.find("is a built-in check's"), std::string::npos);
  t.write(".kubeharden.yaml", "customChecks:\n- id: Bad_Id\n  expression: 'true'\n");
  EXPECT_EQ(runCli("scan in", t.path()).exit_code, 2);
}

}  // namespace scan_policy_tests
}  // namespace kh::test

namespace kh::test {
namespace scan_policy_tests {

// authorizer checks against the input's RBAC objects: decided (and explained) when the check
// names its user; without RBAC objects, unevaluable.
TEST(ScanPolicy, AuthorizerChecksUseTheInputsRbac) {
  TempDir t;
  t.write("p.yaml", R"Y(apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: sa-no-secrets}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}
  variables:
  - name: check
    expression: >-
      authorizer.serviceAccount(object.metadata.namespace, object.spec.template.spec.serviceAccountName)
      .group('').resource('secrets').namespace(object.metadata.namespace).check('list')
  validations:
  - expression: "!variables.check.allowed()"
    messageExpression: "'the service account may list Secrets: ' + variables.check.reason()"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: b}
spec: {policyName: sa-no-secrets, validationActions: [Deny]}
)Y");
  auto workload = [](const std::string& name, const std::string& sa) {
    return "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: " + name +
           ", namespace: shop}\nspec:\n  template:\n    spec:\n      serviceAccountName: " + sa +
           "\n      containers: [{name: app, image: 'r/app:1'}]\n";
  };
  t.write("in/apps.yaml", workload("reader-app", "reader") + "---\n" + workload("plain", "plain"));
  t.write("in/rbac.yaml", R"Y(apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: secret-reader, namespace: shop}
rules: [{apiGroups: [""], resources: [secrets], verbs: [get, list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: read-secrets, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: secret-reader}
subjects: [{kind: ServiceAccount, name: reader, namespace: shop}]
)Y");
  auto r = runCli("scan in --policy p.yaml --disable all -f json", t.path());
  auto found = vapFindings(json(r.out));
  ASSERT_EQ(found.size(), 1u) << r.out << r.err;
  EXPECT_NE(found[0].find("the service account may list Secrets: RBAC: allowed by RoleBinding "
                          "\"read-secrets/shop\" of Role \"secret-reader\" to ServiceAccount "
                          "\"reader/shop\""),
            std::string::npos)
      << found[0];
  // Without the RBAC objects nothing can decide: unevaluable, a diagnostic, failurePolicy Fail.
  t.write("in/rbac.yaml", "");
  auto unknown = runCli("scan in --policy p.yaml --disable all -f json", t.path());
  auto d = json(unknown.out);
  size_t unevaluable = 0;
  for (const auto& g : d["diagnostics"].GetArray())
    unevaluable += std::string(g["code"].GetString()) == "vap-unevaluable";
  EXPECT_EQ(unevaluable, 2u) << unknown.out;
}

}  // namespace scan_policy_tests
}  // namespace kh::test
