// ValidatingAdmissionPolicy semantics (src/policy/vap.*): matching, params, variables,
// messages, failurePolicy, the three actions and the API server's exact texts, each rule from
// both sides.
#include "policy/vap.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "load/loader.h"

namespace kh::test {
namespace vap_tests {

using policy::Attributes;
using policy::PolicySet;
using policy::Verdict;

struct World {
  std::vector<std::unique_ptr<SourceFile>> files;
  std::vector<const Object*> objects;
  std::vector<Diagnostic> diagnostics;
  PolicySet set;

  const Object* add(const std::string& yaml, const std::string& name = "input.yaml") {
    auto f = std::make_unique<SourceFile>();
    f->path = name;
    f->buffer = yaml;
    parseSource(LoadOptions{}, *f);
    EXPECT_FALSE(f->error) << f->error->message;
    const Object* last = nullptr;
    for (const Object& o : f->objects) {
      objects.push_back(&o);
      last = &o;
    }
    files.push_back(std::move(f));
    return last;
  }
  void build(int k8s_minor = 0) {
    policy::PolicyOptions opts;
    opts.k8s_minor = k8s_minor;
    set = PolicySet::build(objects, opts, diagnostics);
  }
  Verdict admit(const Object* o, std::vector<std::pair<std::string, std::string>> ns_labels = {},
                std::string operation = "CREATE") {
    Attributes a = policy::createOf(*o);
    a.namespace_labels = std::move(ns_labels);
    a.operation = std::move(operation);
    return set.admit(a, objects);
  }
};

std::string deployment(const std::string& name, int replicas, const std::string& ns = "test",
                       const std::string& labels = "{}") {
  return "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: " + name + ", namespace: " + ns +
         ", labels: " + labels + "}\nspec:\n  replicas: " + std::to_string(replicas) +
         "\n  template:\n    spec:\n      containers: [{name: app, image: 'r/app:1'}]\n";
}

// The example of the Kubernetes documentation: at most 5 replicas in namespaces labelled
// environment=test.
const char* kDemo = R"Y(apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: demo-policy.example.com}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - apiGroups: [apps]
      apiVersions: [v1]
      operations: [CREATE, UPDATE]
      resources: [deployments]
  validations:
  - expression: "object.spec.replicas <= 5"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: demo-binding-test.example.com}
spec:
  policyName: demo-policy.example.com
  validationActions: [Deny]
  matchResources:
    namespaceSelector:
      matchLabels: {environment: test}
)Y";

TEST(Vap, DeniesWithTheApiServersMessageAndAdmitsTheRest) {
  World w;
  w.add(kDemo, "policy.yaml");
  const Object* big = w.add(deployment("big", 6));
  const Object* small = w.add(deployment("small", 3));
  w.build();
  EXPECT_TRUE(w.diagnostics.empty()) << w.diagnostics[0].message;
  EXPECT_EQ(w.set.policies(), 1u);
  EXPECT_EQ(w.set.bindings(), 1u);

  Verdict v = w.admit(big, {{"environment", "test"}});
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.code, 422);
  EXPECT_EQ(v.reason, "Invalid");
  EXPECT_EQ(v.message,
            "deployments.apps \"big\" is forbidden: ValidatingAdmissionPolicy "
            "'demo-policy.example.com' with binding 'demo-binding-test.example.com' denied "
            "request: failed expression: object.spec.replicas <= 5");
  ASSERT_EQ(v.outcomes.size(), 1u);
  EXPECT_EQ(v.outcomes[0].validation, 0);
  EXPECT_EQ(v.outcomes[0].file, "policy.yaml");
  EXPECT_EQ(v.outcomes[0].pos.line, 13u);  // the expression's line

  EXPECT_TRUE(w.admit(small, {{"environment", "test"}}).allowed);
  // The binding selects namespaces labelled environment=test only.
  Verdict other = w.admit(big, {{"environment", "prod"}});
  EXPECT_TRUE(other.allowed);
  EXPECT_TRUE(other.outcomes.empty());
}

const char* kRules = R"Y(apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: rules}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: ["*"], apiVersions: ["*"], operations: [CREATE], resources: ["*"], scope: Namespaced}
    excludeResourceRules:
    - {apiGroups: [""], apiVersions: [v1], operations: ["*"], resources: [configmaps]}
    objectSelector:
      matchExpressions: [{key: exempt, operator: DoesNotExist}]
  validations:
  - expression: "false"
    message: "caught"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: rules-binding}
spec: {policyName: rules, validationActions: [Deny]}
)Y";

TEST(Vap, MatchRulesExcludesScopeAndSelectors) {
  World w;
  w.add(kRules);
  const Object* dep = w.add(deployment("d", 1));
  const Object* exempt = w.add(deployment("e", 1, "test", "{exempt: 'yes'}"));
  const Object* cm = w.add("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: a}\n");
  const Object* secret = w.add("apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: a}\n");
  const Object* cluster_role =
      w.add("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\n");
  w.build();
  EXPECT_FALSE(w.admit(dep).allowed);
  EXPECT_EQ(w.admit(dep).message,
            "deployments.apps \"d\" is forbidden: ValidatingAdmissionPolicy 'rules' with binding "
            "'rules-binding' denied request: caught");
  EXPECT_TRUE(w.admit(exempt).allowed) << "objectSelector";
  EXPECT_TRUE(w.admit(cm).allowed) << "excludeResourceRules";
  EXPECT_FALSE(w.admit(secret).allowed);
  EXPECT_EQ(w.admit(secret).message,
            "secrets \"s\" is forbidden: ValidatingAdmissionPolicy 'rules' with binding "
            "'rules-binding' denied request: caught");
  EXPECT_TRUE(w.admit(cluster_role).allowed) << "scope Namespaced";
  EXPECT_TRUE(w.admit(dep, {}, "UPDATE").allowed) << "operations";
}

TEST(Vap, ResourceNamesAndSubresourceRules) {
  World w;
  w.add(R"Y(apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: named}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [apps], apiVersions: [v1], operations: ["*"], resources: [deployments/scale, deployments], resourceNames: [guarded]}
  validations: [{expression: "false"}]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: b}
spec: {policyName: named, validationActions: [Deny]}
)Y");
  const Object* guarded = w.add(deployment("guarded", 1));
  const Object* free = w.add(deployment("free", 1));
  w.build();
  EXPECT_FALSE(w.admit(guarded).allowed);
  EXPECT_TRUE(w.admit(free).allowed);
  Attributes a = policy::createOf(*guarded);
  a.subresource = "scale";
  a.operation = "UPDATE";
  EXPECT_FALSE(w.set.admit(a, {}).allowed);
  a.subresource = "status";
  EXPECT_TRUE(w.set.admit(a, {}).allowed);
}

const char* kParams = R"Y(apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: replica-limit}
spec:
  paramKind: {apiVersion: v1, kind: ConfigMap}
  matchConstraints:
    resourceRules:
    - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}
  validations:
  - expression: "object.spec.replicas <= int(params.data.maxReplicas)"
    messageExpression: "'replicas ' + string(object.spec.replicas) + ' over ' + params.data.maxReplicas + ' (' + params.metadata.name + ')'"
    reason: Forbidden
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: by-name}
spec:
  policyName: replica-limit
  validationActions: [Deny]
  paramRef: {name: limits, parameterNotFoundAction: Deny}
)Y";

TEST(Vap, ParamsByNameNamespaceAndNotFound) {
  World w;
  w.add(kParams);
  const Object* dep = w.add(deployment("d", 4));
  w.add(
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: limits, namespace: test}\n"
      "data: {maxReplicas: '3'}\n");
  w.add(
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: limits, namespace: other}\n"
      "data: {maxReplicas: '10'}\n");
  const Object* elsewhere = w.add(deployment("e", 4, "nowhere"));
  w.build();
  Verdict v = w.admit(dep);
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.code, 403);
  EXPECT_EQ(v.reason, "Forbidden");
  EXPECT_EQ(v.message,
            "deployments.apps \"d\" is forbidden: ValidatingAdmissionPolicy 'replica-limit' with "
            "binding 'by-name' denied request: replicas 4 over 3 (limits)");
  // No ConfigMap named limits in the request's namespace: parameterNotFoundAction Deny.
  Verdict none = w.admit(elsewhere);
  EXPECT_FALSE(none.allowed);
  EXPECT_EQ(none.message,
            "deployments.apps \"e\" is forbidden: ValidatingAdmissionPolicy 'replica-limit' with "
            "binding 'by-name' denied request: failed to configure binding: no params found for "
            "policy binding with `Deny` parameterNotFoundAction");
  EXPECT_EQ(none.code, 422);
}

TEST(Vap, ParamsBySelectorAndAllowWhenNotFound) {
  World w;
  std::string text = kParams;
  text.replace(text.find("paramRef: {name: limits, parameterNotFoundAction: Deny}"),
               std::string("paramRef: {name: limits, parameterNotFoundAction: Deny}").size(),
               "paramRef: {namespace: limits, selector: {matchLabels: {tier: web}}, "
               "parameterNotFoundAction: Allow}");
  w.add(text);
  const Object* dep = w.add(deployment("d", 4));
  w.add(
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: limits, labels: {tier: "
      "web}}\ndata: {maxReplicas: '5'}\n");
  w.add(
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: limits, labels: {tier: "
      "web}}\ndata: {maxReplicas: '2'}\n");
  w.add(
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: limits, labels: {tier: "
      "db}}\ndata: {maxReplicas: '1'}\n");
  w.build();
  Verdict v = w.admit(dep);
  EXPECT_FALSE(v.allowed);
  // Evaluated once per selected param: a (5) passes, b (2) fails, c is not selected.
  ASSERT_EQ(v.outcomes.size(), 1u);
  EXPECT_EQ(v.outcomes[0].message, "replicas 4 over 2 (b)");

  World allow;
  allow.add(text);
  const Object* d2 = allow.add(deployment("d", 4));
  allow.build();
  EXPECT_TRUE(allow.admit(d2).allowed) << "parameterNotFoundAction: Allow";
}

const char* kVariables = R"Y(apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: vars}
spec:
  failurePolicy: FAILURE
  matchConstraints:
    resourceRules:
    - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}
  variables:
  - {name: containers, expression: "object.spec.template.spec.containers"}
  - {name: images, expression: "variables.containers.map(c, c.image)"}
  - {name: broken, expression: "object.spec.missing"}
  validations:
  - expression: "variables.images.all(i, i.startsWith('registry.example.com/'))"
    messageExpression: "'images not from the registry: ' + variables.images.join(', ')"
  - expression: "variables.broken == 1"
  - expression: "true"
    messageExpression: "'unused'"
)Y";

TEST(Vap, VariablesInOrderAndErrorsOnlyWhereRead) {
  World w;
  std::string text = kVariables;
  text.replace(text.find("FAILURE"), 7, "Fail");
  w.add(text);
  w.add(
      "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\n"
      "metadata: {name: b}\nspec: {policyName: vars, validationActions: [Deny, Warn, Audit]}\n");
  const Object* dep = w.add(deployment("d", 1));
  w.build();
  Verdict v = w.admit(dep);
  ASSERT_EQ(v.outcomes.size(), 2u);
  EXPECT_EQ(v.outcomes[0].message, "images not from the registry: r/app:1");
  EXPECT_FALSE(v.outcomes[0].error);
  EXPECT_TRUE(v.outcomes[1].error);
  EXPECT_EQ(v.outcomes[1].message,
            "expression 'object.spec.missing' resulted in error: no such key: missing");
  // Every action of the binding, for each outcome.
  EXPECT_FALSE(v.allowed);
  ASSERT_EQ(v.warnings.size(), 2u);
  EXPECT_EQ(v.warnings[0],
            "Validation failed for ValidatingAdmissionPolicy 'vars' with binding 'b': images not "
            "from the registry: r/app:1");
  EXPECT_EQ(v.audit_annotations.at("validation.policy.admission.k8s.io/validation_failure"),
            "[{\"message\":\"images not from the registry: "
            "r/app:1\",\"policy\":\"vars\",\"binding\":\"b\",\"expressionIndex\":0,"
            "\"validationActions\":[\"Deny\",\"Warn\",\"Audit\"]}]");
}

TEST(Vap, MessageExpressionFallsBackAndFailurePolicyIgnore) {
  World w;
  w.add(R"Y(apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: msgs}
spec:
  failurePolicy: Ignore
  matchConstraints:
    resourceRules:
    - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}
  validations:
  - {expression: "false", message: " fixed ", messageExpression: "object.nope"}
  - {expression: "false", messageExpression: "42"}
  - {expression: "false", messageExpression: "'two\nlines'"}
  - {expression: "  object.spec.replicas > 10  "}
  - {expression: "object.spec.nothing == 1"}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: b}
spec: {policyName: msgs, validationActions: [Warn]}
)Y");
  const Object* dep = w.add(deployment("d", 1));
  w.build();
  Verdict v = w.admit(dep);
  EXPECT_TRUE(v.allowed) << "Warn only";
  ASSERT_EQ(v.outcomes.size(), 5u);
  EXPECT_EQ(v.outcomes[0].message, "fixed");
  EXPECT_EQ(v.outcomes[1].message, "failed expression: false");
  EXPECT_EQ(v.outcomes[2].message, "failed expression: false");
  EXPECT_EQ(v.outcomes[3].message, "failed expression: object.spec.replicas > 10");
  // An evaluation error under failurePolicy Ignore: recorded, no action taken.
  EXPECT_TRUE(v.outcomes[4].error);
  EXPECT_EQ(v.outcomes[4].actions, 0);
  EXPECT_EQ(v.warnings.size(), 4u);
}

TEST(Vap, MatchConditionsAuditAnnotationsAndCompileErrors) {
  World w;
  w.add(R"Y(apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: conds}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}
  matchConditions:
  - {name: not-system, expression: "!object.metadata.name.startsWith('system-')"}
  validations:
  - expression: "object.spec.replicas < 3"
  auditAnnotations:
  - {key: replicas, valueExpression: "'replicas: ' + string(object.spec.replicas)"}
  - {key: none, valueExpression: "null"}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: b}
spec: {policyName: conds, validationActions: [Audit]}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: broken}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}
  validations:
  - expression: "object.spec.replicas <"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: broken-b}
spec: {policyName: broken, validationActions: [Deny]}
)Y",
        "policies.yaml");
  const Object* dep = w.add(deployment("d", 5));
  const Object* sys = w.add(deployment("system-d", 5));
  w.build();
  // The compile error is a diagnostic at the expression's line.
  ASSERT_EQ(w.diagnostics.size(), 1u);
  EXPECT_EQ(w.diagnostics[0].code, "vap-compile-error");
  EXPECT_EQ(w.diagnostics[0].file, "policies.yaml");
  EXPECT_EQ(w.diagnostics[0].pos.line, 29u);
  EXPECT_NE(w.diagnostics[0].message.find("spec.validations[0].expression: compilation failed: "
                                          "ERROR: <input>:1:23: Syntax error"),
            std::string::npos)
      << w.diagnostics[0].message;

  Verdict v = w.admit(dep);
  EXPECT_FALSE(v.allowed) << "the broken policy fails closed (failurePolicy Fail)";
  EXPECT_NE(v.message.find("ValidatingAdmissionPolicy 'broken' with binding 'broken-b' denied "
                           "request: compilation error: compilation failed: ERROR: <input>:1:23"),
            std::string::npos)
      << v.message;
  EXPECT_EQ(v.audit_annotations.at("conds/replicas"), "replicas: 5");
  EXPECT_EQ(v.audit_annotations.count("conds/none"), 0u);
  EXPECT_EQ(v.audit_annotations.count("validation.policy.admission.k8s.io/validation_failure"), 1u);
  // matchConditions false: the policy does not apply at all.
  Verdict s = w.admit(sys);
  EXPECT_EQ(s.audit_annotations.count("conds/replicas"), 0u);
  EXPECT_EQ(s.audit_annotations.count("validation.policy.admission.k8s.io/validation_failure"), 0u);
}

TEST(Vap, AuthorizerChecksAreUnevaluableOffline) {
  World w;
  w.add(R"Y(apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: authz}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}
  validations:
  - expression: "authorizer.group('').resource('pods').namespace(object.metadata.namespace).check('create').allowed()"
  - expression: "object.spec.replicas > 100 || authorizer.requestResource.check('delete').allowed()"
  - expression: "object.spec.replicas < 100 || authorizer.requestResource.check('delete').allowed()"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: b}
spec: {policyName: authz, validationActions: [Deny]}
)Y");
  const Object* dep = w.add(deployment("d", 5));
  w.build();
  EXPECT_TRUE(w.diagnostics.empty()) << w.diagnostics[0].message;
  Verdict v = w.admit(dep);
  ASSERT_EQ(v.outcomes.size(), 2u);
  EXPECT_TRUE(v.outcomes[0].unevaluable);
  EXPECT_EQ(v.outcomes[0].message,
            "expression 'authorizer.group('').resource('pods').namespace(object.metadata."
            "namespace).check('create').allowed()' cannot be evaluated offline: authorizer check "
            "(may the requesting user create pods in namespace test) needs the cluster's "
            "authorization, not decided offline");
  EXPECT_TRUE(v.outcomes[1].unevaluable);
  EXPECT_EQ(v.outcomes[1].validation, 1);  // the third is decided without the check
}

TEST(Vap, VersionProfilesRefuseNewerLibraries) {
  World w;
  w.add(R"Y(apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: ips}
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
spec: {policyName: ips, validationActions: [Deny]}
)Y");
  const Object* svc = w.add(
      "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: a}\n"
      "spec: {clusterIP: 10.0.0.300}\n");
  w.build(30);
  EXPECT_TRUE(w.diagnostics.empty());
  EXPECT_EQ(w.admit(svc).outcomes.size(), 1u);
  World old = World();
  old.objects = w.objects;
  old.build(29);
  ASSERT_EQ(old.diagnostics.size(), 1u);
  EXPECT_NE(old.diagnostics[0].message.find("undeclared reference to 'isIP'"), std::string::npos)
      << old.diagnostics[0].message;
}

TEST(Vap, BindingProblemsAreDiagnostics) {
  World w;
  w.add(
      "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\n"
      "metadata: {name: orphan}\nspec: {policyName: missing, validationActions: [Deny]}\n",
      "b.yaml");
  w.build();
  ASSERT_EQ(w.diagnostics.size(), 1u);
  EXPECT_EQ(w.diagnostics[0].file, "b.yaml");
  EXPECT_EQ(w.diagnostics[0].message,
            "ValidatingAdmissionPolicyBinding orphan: no ValidatingAdmissionPolicy named "
            "\"missing\" in the input: the binding is not applied");
  // A policy without a binding is not applied, and says so.
  World unbound;
  unbound.add(R"Y(apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: lonely}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}
  validations: [{expression: "false"}]
)Y",
              "p.yaml");
  const Object* dep = unbound.add(deployment("d", 1));
  unbound.build();
  ASSERT_EQ(unbound.diagnostics.size(), 1u);
  EXPECT_EQ(unbound.diagnostics[0].code, "vap-unbound");
  EXPECT_EQ(unbound.diagnostics[0].message,
            "ValidatingAdmissionPolicy lonely has no ValidatingAdmissionPolicyBinding in the "
            "input: it is not applied");
  EXPECT_TRUE(unbound.admit(dep).allowed);
  EXPECT_EQ(policy::resourceForKind("NetworkPolicy"), "networkpolicies");
  EXPECT_EQ(policy::resourceForKind("Ingress"), "ingresses");
  EXPECT_EQ(policy::resourceForKind("Gateway"), "gateways");
  EXPECT_EQ(policy::resourceForKind("Endpoints"), "endpoints");
}

// Variables are lazy, as in the API server: one nobody reads costs nothing, one read many
// times is evaluated (and charged) once, and match conditions may read them too.
TEST(Vap, VariablesAreEvaluatedWhenFirstReadAndOnce) {
  std::string p = R"Y(apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: lazy}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [configmaps]}
  matchConditions:
  - {name: small, expression: "variables.small == 1"}
  variables:
  - {name: small, expression: "1"}
  - {name: heavy, expression: "object.items.all(x, x == 0)"}
)Y";
  // 14 unread variables of 750,004 each would exhaust the 10,000,000 budget if evaluated.
  for (int k = 0; k < 14; ++k)
    p += "  - {name: unused" + std::to_string(k) +
         ", expression: \"object.items.all(x, x == 0)\"}\n";
  p += "  validations:\n";
  for (int k = 0; k < 14; ++k) p += "  - expression: \"variables.heavy\"\n";
  p += R"Y(---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: b}
spec: {policyName: lazy, validationActions: [Deny]}
)Y";
  std::string o = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: a}\nitems: [";
  for (int k = 0; k < 150000; ++k) o += k ? ",1" : "0";
  o += "]\n";
  World w;
  w.add(p);
  const Object* cm = w.add(o);
  w.build();
  EXPECT_TRUE(w.diagnostics.empty()) << w.diagnostics[0].message;
  Verdict v = w.admit(cm);
  // Every validation fails on the one evaluation of `heavy` (the items are not all 0); no budget
  // error (evaluated 14 times, or with the unread ones, it would be 10,500,056).
  EXPECT_FALSE(v.allowed);
  ASSERT_EQ(v.outcomes.size(), 14u) << v.message;
  EXPECT_EQ(v.outcomes[0].message, "failed expression: variables.heavy");
  // The match condition read `small`: a policy whose condition is false does not apply.
  std::string off = p;
  off.replace(off.find("variables.small == 1"), 20, "variables.small == 2");
  World w2;
  w2.add(off);
  const Object* cm2 = w2.add(o);
  w2.build();
  EXPECT_TRUE(w2.admit(cm2).allowed);
}

}  // namespace vap_tests
}  // namespace kh::test

namespace kh::test {
namespace vap_tests {

TEST(Vap, KyvernoValidatingPolicies) {
  World w;
  w.add(R"Y(apiVersion: policies.kyverno.io/v1alpha1
kind: ValidatingPolicy
metadata: {name: require-team}
spec:
  validationActions: [Deny]
  matchConstraints:
    resourceRules:
    - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [deployments]}
  validations:
  - expression: "has(object.metadata.labels) && 'team' in object.metadata.labels"
    message: "label 'team' is required"
---
apiVersion: policies.kyverno.io/v1alpha1
kind: ValidatingPolicy
metadata: {name: remote-check}
spec:
  validationActions: [Deny]
  matchConstraints:
    resourceRules:
    - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}
  variables:
  - {name: allowed, expression: "http.Get('https://policy.example.com/allowed')"}
  validations:
  - expression: "object.metadata.name in variables.allowed.names"
---
apiVersion: policies.kyverno.io/v1alpha1
kind: ValidatingPolicy
metadata: {name: registry-check}
spec:
  validationActions: [Deny]
  matchConstraints:
    resourceRules:
    - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}
  validations:
  - expression: "object.spec.template.spec.containers.all(c, image(c.image).registry() == 'r')"
)Y",
        "kyverno.yaml");
  const Object* unlabelled = w.add(deployment("d", 1));
  const Object* labelled = w.add(deployment("e", 1, "test", "{team: shop}"));
  w.build();
  // Found in the expressions' trees: a library used as a namespace (http.Get) or called (image).
  ASSERT_EQ(w.diagnostics.size(), 2u);
  EXPECT_EQ(w.diagnostics[0].code, "kyverno-unsupported");
  EXPECT_EQ(w.diagnostics[0].message,
            "ValidatingPolicy remote-check uses Kyverno's http library, which only Kyverno "
            "evaluates: the policy is not applied");
  EXPECT_EQ(w.diagnostics[1].message,
            "ValidatingPolicy registry-check uses Kyverno's image library, which only Kyverno "
            "evaluates: the policy is not applied");
  EXPECT_EQ(w.set.policies(), 1u);
  Verdict v = w.admit(unlabelled);
  EXPECT_FALSE(v.allowed);
  ASSERT_EQ(v.outcomes.size(), 1u);
  EXPECT_TRUE(v.outcomes[0].kyverno);
  EXPECT_EQ(policy::denialText(v.outcomes[0]),
            "ValidatingPolicy 'require-team' denied request: label 'team' is required");
  EXPECT_TRUE(w.admit(labelled).allowed);
}

}  // namespace vap_tests
}  // namespace kh::test

namespace kh::test {
namespace vap_tests {

// Kubernetes' cost limits: one expression's (1,000,000) and one evaluation's budget
// (10,000,000), with the API server's texts.
TEST(Vap, CostLimitAndBudget) {
  auto policyWith = [](int validations) {
    std::string p = R"Y(apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: costly}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [configmaps]}
  validations:
)Y";
    for (int k = 0; k < validations; ++k) p += "  - expression: \"object.items.all(x, x == 0)\"\n";
    return p + R"Y(---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: b}
spec: {policyName: costly, validationActions: [Deny]}
)Y";
  };
  auto object = [](int items) {
    std::string o = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: a}\nitems: [";
    for (int k = 0; k < items; ++k) o += k ? ",0" : "0";
    return o + "]\n";
  };
  {
    // 250,000 elements at 5 per element: past the per-expression limit.
    World w;
    w.add(policyWith(1));
    const Object* big = w.add(object(250000));
    w.build();
    Verdict v = w.admit(big);
    ASSERT_EQ(v.outcomes.size(), 1u);
    EXPECT_EQ(v.outcomes[0].message,
              "expression 'object.items.all(x, x == 0)' resulted in error: operation cancelled: "
              "actual cost limit exceeded");
  }
  {
    // 150,000 elements (750,004 each) under the limit, but 14 of them exhaust the budget.
    World w;
    w.add(policyWith(14));
    const Object* o = w.add(object(150000));
    w.build();
    Verdict v = w.admit(o);
    ASSERT_EQ(v.outcomes.size(), 1u);
    EXPECT_EQ(v.outcomes[0].message,
              "validation failed due to running out of cost budget, no further validation rules "
              "will be run");
    EXPECT_FALSE(v.allowed);
    World fits;
    fits.add(policyWith(13));
    const Object* o2 = fits.add(object(150000));
    fits.build();
    EXPECT_TRUE(fits.admit(o2).allowed) << fits.admit(o2).message;
  }
}

}  // namespace vap_tests
}  // namespace kh::test

namespace kh::test {
namespace vap_tests {

// Compile-time types as the API server checks them: a validation must be a bool (a dyn field of
// the unstructured object is not), a messageExpression a string, an audit value a string or
// null; `request` is typed (a misspelt field is an error), and `variables` has the fields of
// the variables before, with their types.
TEST(Vap, ExpressionsAreTypeChecked) {
  World w;
  w.add(R"Y(apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: typed}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}
  variables:
  - {name: replicas, expression: "object.spec.replicas"}
  - {name: name, expression: "object.metadata.name + ''"}
  - {name: early, expression: "variables.later"}
  - {name: later, expression: "1"}
  validations:
  - expression: "object.spec.replicas"
  - expression: "variables.name == 'd' && request.operation == 'CREATE'"
    messageExpression: "variables.name"
  - expression: "variables.name + 1 == 'x'"
  - expression: "request.operatoin == 'CREATE'"
  - expression: "[1, 'a'].size() == 2"
  - expression: "variables.replicas < 3"
    messageExpression: "object.metadata.name"
  auditAnnotations:
  - {key: a, valueExpression: "variables.name"}
  - {key: b, valueExpression: "size(variables.name)"}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: typed-b}
spec: {policyName: typed, validationActions: [Deny]}
)Y",
        "policies.yaml");
  w.build();
  std::vector<std::string> got;
  for (const Diagnostic& d : w.diagnostics) {
    EXPECT_EQ(d.code, "vap-compile-error");
    got.push_back(d.message);
  }
  auto has = [&](const std::string& where, const std::string& what) {
    for (const std::string& g : got)
      if (g.find(where) != std::string::npos && g.find(what) != std::string::npos) return true;
    return false;
  };
  EXPECT_EQ(got.size(), 7u) << ::testing::PrintToString(got);
  EXPECT_TRUE(has("spec.variables[2].expression", "undefined field 'later'"));
  EXPECT_TRUE(has("spec.validations[0].expression", ": must evaluate to bool but got dyn"));
  EXPECT_TRUE(has("spec.validations[2].expression",
                  "found no matching overload for '_+_' applied to '(string, int)'"));
  EXPECT_TRUE(has("spec.validations[3].expression", "undefined field 'operatoin'"));
  EXPECT_TRUE(has("spec.validations[4].expression", "expected type 'int' but found 'string'"));
  EXPECT_TRUE(
      has("spec.validations[5].messageExpression", ": must evaluate to string but got dyn"));
  EXPECT_TRUE(has("spec.auditAnnotations[1].valueExpression",
                  ": must evaluate to one of [string null_type] but got int"));
  // Those that check run; the others fail as the API server fails them (compilation error).
  const Object* d = w.add(deployment("d", 1));
  Verdict v = w.admit(d);
  EXPECT_FALSE(v.allowed);
  EXPECT_NE(v.message.find("compilation error: must evaluate to bool but got dyn"),
            std::string::npos)
      << v.message;
}

}  // namespace vap_tests
}  // namespace kh::test

namespace kh::test {
namespace vap_tests {

// matchPolicy Equivalent (the default): a rule for one version of a resource also matches the
// same resource at an equivalent group/version (built-in ones, and a CRD's served versions);
// Exact matches only the request's own.
TEST(Vap, MatchPolicyEquivalentAndExact) {
  auto policy = [](const std::string& name, const std::string& match_policy,
                   const std::string& rule) {
    return "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\n"
           "metadata: {name: " +
           name + "}\nspec:\n  matchConstraints:\n" + match_policy + "    resourceRules:\n    - " +
           rule + "\n  validations:\n  - {expression: 'false', message: " + name +
           "}\n---\napiVersion: admissionregistration.k8s.io/v1\n"
           "kind: ValidatingAdmissionPolicyBinding\nmetadata: {name: " +
           name + "-b}\nspec: {policyName: " + name + ", validationActions: [Warn]}\n---\n";
  };
  World w;
  w.add(policy("hpa", "",
               "{apiGroups: [autoscaling], apiVersions: [v2], operations: [CREATE], "
               "resources: [horizontalpodautoscalers]}") +
        policy("hpa-exact", "    matchPolicy: Exact\n",
               "{apiGroups: [autoscaling], apiVersions: [v2], operations: [CREATE], "
               "resources: [horizontalpodautoscalers]}") +
        policy("widget", "",
               "{apiGroups: [example.com], apiVersions: [v1], operations: [CREATE], "
               "resources: [widgets], resourceNames: [other]}") +
        R"Y(apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {plural: widgets, kind: Widget}
  scope: Namespaced
  versions:
  - {name: v1, served: true, storage: true}
  - {name: v2, served: true, storage: false}
  - {name: v3, served: false, storage: false}
)Y");
  const Object* hpa1 = w.add(
      "apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata: {name: h, namespace: "
      "a}\nspec: {maxReplicas: 2}\n");
  const Object* hpa2 = w.add(
      "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h, namespace: "
      "a}\nspec: {maxReplicas: 2}\n");
  const Object* w1 =
      w.add("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: x, namespace: a}\n");
  const Object* w2 =
      w.add("apiVersion: example.com/v2\nkind: Widget\nmetadata: {name: x, namespace: a}\n");
  const Object* w3 =
      w.add("apiVersion: example.com/v3\nkind: Widget\nmetadata: {name: x, namespace: a}\n");
  w.build();
  auto warned = [&](const Object* o) {
    std::string all;
    for (const std::string& s : w.admit(o).warnings) all += s.substr(s.rfind(' ') + 1) + ";";
    return all;
  };
  EXPECT_EQ(warned(hpa2), "hpa;hpa-exact;");
  EXPECT_EQ(warned(hpa1), "hpa;");  // v1 is equivalent to v2; Exact does not follow it
  // The v1 rule names another object: the request's own version is refused by name, while an
  // equivalent version matches without names (as the API server's matcher does it); v3 is not
  // served, so not equivalent.
  EXPECT_EQ(warned(w1), "");
  EXPECT_EQ(warned(w2), "widget;");
  EXPECT_EQ(warned(w3), "");
}

}  // namespace vap_tests
}  // namespace kh::test

namespace kh::test {
namespace vap_tests {

// namespaceObject is the API server's kubernetes.Namespace type: its fields are typed (a name
// is a string, creationTimestamp a timestamp, a field outside the type undefined), and the
// document's timestamps are timestamps when evaluated.
TEST(Vap, NamespaceObjectIsTyped) {
  World w;
  w.add(R"Y(apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: ns}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}
  validations:
  - expression: "namespaceObject.metadata.creationTimestamp > timestamp('2030-01-01T00:00:00Z')"
    messageExpression: "namespaceObject.metadata.name"
  - expression: "namespaceObject.status.conditions.all(c, c.lastTransitionTime < namespaceObject.metadata.creationTimestamp)"
  - expression: "has(namespaceObject.metadata.ownerReferences)"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: ns-b}
spec: {policyName: ns, validationActions: [Warn]}
)Y");
  const Object* ns = w.add(R"Y(apiVersion: v1
kind: Namespace
metadata: {name: test, creationTimestamp: "2024-05-01T10:00:00Z", uid: u-1}
status:
  phase: Active
  conditions:
  - {type: NamespaceDeletionDiscoveryFailure, status: "False", lastTransitionTime: "2024-06-01T00:00:00Z"}
)Y");
  const Object* dep = w.add(deployment("d", 1));
  w.build();
  ASSERT_EQ(w.diagnostics.size(), 1u);
  EXPECT_NE(w.diagnostics[0].message.find("spec.validations[2].expression: compilation failed: "
                                          "ERROR: <input>:1:29: undefined field 'ownerReferences'"),
            std::string::npos)
      << w.diagnostics[0].message;
  Attributes a = policy::createOf(*dep);
  a.namespace_object = ns->root;
  Verdict v = w.set.admit(a, w.objects);
  ASSERT_EQ(v.warnings.size(), 3u) << v.message;
  // Created in 2024, not after 2030: the message is the namespace's name.
  EXPECT_NE(v.warnings[0].find("with binding 'ns-b': test"), std::string::npos) << v.warnings[0];
  // The condition changed after the namespace was created (timestamps compared as timestamps).
  EXPECT_NE(v.warnings[1].find("failed expression: namespaceObject.status.conditions.all"),
            std::string::npos)
      << v.warnings[1];
  EXPECT_NE(v.warnings[2].find("compilation error"), std::string::npos) << v.warnings[2];
}

}  // namespace vap_tests
}  // namespace kh::test
