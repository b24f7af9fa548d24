// The admission codec and decision: protocol shapes, PSA-form messages, modes per namespace,
// exemptions, warnings budget and the catalogue on single objects.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "admission/handler.h"
#include "admission/review.h"
#include "scan/scan.h"
#include "tests/unit/test_util.h"

namespace kh::admission {
namespace {

std::string review(std::string_view operation, std::string_view object, std::string_view extra = "",
                   std::string_view kind = "Pod", std::string_view ns = "shop") {
  return fmt::format(
      R"({{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{{
        "uid":"705ab4f5-6393-11e8-b7cc-42010a800002",
        "kind":{{"group":"","version":"v1","kind":"{}"}},
        "resource":{{"group":"","version":"v1","resource":"pods"}},
        "namespace":"{}","operation":"{}",
        "userInfo":{{"username":"alice","groups":["devs","system:authenticated"]}},
        "object":{}{}}}}})",
      kind, ns, operation, object, extra);
}

constexpr std::string_view kPrivilegedPod =
    R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[
        {"name":"app","image":"app:1","securityContext":{"privileged":true}}]}})";
constexpr std::string_view kPlainPod =
    R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[
        {"name":"app","image":"app:1"}]}})";

struct Decided {
  Arena arena;
  AdmissionRequest req;
  AdmissionResponse resp;
};

std::unique_ptr<Decided> run(const std::string& body, const Policy& policy = {},
                             const Node* labels = nullptr) {
  auto d = std::make_unique<Decided>();
  auto r = decodeRequest(body, d->arena);
  EXPECT_TRUE(r) << (r ? "" : r.error().describe());
  if (!r) return d;
  d->req = r.value();
  d->resp = decide(d->req, policy, labels);
  return d;
}

const Node* labelsOf(Arena& arena, std::string_view json) {
  auto r = parseJson(json, arena);
  EXPECT_TRUE(r);
  return r ? r.value() : nullptr;
}

TEST(AdmissionCodec, DecodesAndRejectsBadReviews) {
  Arena arena;
  auto ok = decodeRequest(review("CREATE", kPlainPod, R"(,"dryRun":true,"name":"")"), arena);
  ASSERT_TRUE(ok) << ok.error().describe();
  EXPECT_EQ(ok.value().uid, "705ab4f5-6393-11e8-b7cc-42010a800002");
  EXPECT_EQ(ok.value().kind.kind, "Pod");
  EXPECT_EQ(ok.value().request_kind.kind, "Pod");  // no requestKind: the same as kind
  EXPECT_EQ(ok.value().resource, "pods");
  EXPECT_TRUE(ok.value().dry_run);
  EXPECT_EQ(ok.value().groups.size(), 2u);
  EXPECT_TRUE(ok.value().object);
  for (std::string bad :
       {std::string("not json"), std::string(R"({"apiVersion":"v1","kind":"AdmissionReview"})"),
        std::string(R"({"apiVersion":"admission.k8s.io/v1","kind":"Pod","request":{}})"),
        std::string(R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"})"),
        std::string(
            R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{}})"),
        review("PATCH", kPlainPod)})
    EXPECT_FALSE(decodeRequest(bad, arena)) << bad;
}

TEST(AdmissionCodec, EncodesTheResponseTheApiServerExpects) {
  AdmissionResponse r;
  r.uid = "u-1";
  r.allowed = false;
  r.message = "violates PodSecurity \"baseline:latest\": privileged";
  r.warnings = {"w1"};
  r.audit_annotations["kubeharden.io/violations"] = "pod-privileged";
  r.patch = R"([{"op":"add","path":"/x","value":1}])";
  rapidjson::Document v;
  v.Parse(encodeResponse("admission.k8s.io/v1", r, false).c_str());
  ASSERT_FALSE(v.HasParseError());
  EXPECT_STREQ(v["apiVersion"].GetString(), "admission.k8s.io/v1");
  EXPECT_STREQ(v["kind"].GetString(), "AdmissionReview");
  const auto& resp = v["response"];
  EXPECT_STREQ(resp["uid"].GetString(), "u-1");
  EXPECT_FALSE(resp["allowed"].GetBool());
  EXPECT_EQ(resp["status"]["code"].GetInt(), 403);
  EXPECT_STREQ(resp["status"]["reason"].GetString(), "Forbidden");
  EXPECT_FALSE(resp.HasMember("patch")) << "a validating answer never carries a patch";
  EXPECT_FALSE(resp.HasMember("patchType"));
  rapidjson::Document m;
  m.Parse(encodeResponse("admission.k8s.io/v1beta1", r, true).c_str());
  EXPECT_STREQ(m["apiVersion"].GetString(), "admission.k8s.io/v1beta1");
  EXPECT_STREQ(m["response"]["patchType"].GetString(), "JSONPatch");
  EXPECT_EQ(std::string(m["response"]["patch"].GetString()), base64(r.patch));
  AdmissionResponse ok;
  ok.uid = "u-2";
  rapidjson::Document a;
  a.Parse(encodeResponse("admission.k8s.io/v1", ok, true).c_str());
  EXPECT_TRUE(a["response"]["allowed"].GetBool());
  EXPECT_FALSE(a["response"].HasMember("status"));
  EXPECT_FALSE(a["response"].HasMember("patch"));
}

TEST(AdmissionCodec, Base64IsRfc4648) {
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("foo"), "Zm9v");
  EXPECT_EQ(base64("foob"), "Zm9vYg==");
  EXPECT_EQ(base64("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64(std::string("\xff\xfe", 2)), "//4=");
}

TEST(AdmissionDecision, DefaultsEnforceBaselineAndWarnRestricted) {
  auto d = run(review("CREATE", kPrivilegedPod));
  EXPECT_FALSE(d->resp.allowed);
  EXPECT_EQ(d->resp.code, 403);
  EXPECT_EQ(d->resp.message,
            "violates PodSecurity \"baseline:latest\": privileged (container \"app\" must not set "
            "securityContext.privileged=true)");
  EXPECT_EQ(d->resp.uid, "705ab4f5-6393-11e8-b7cc-42010a800002");
  EXPECT_TRUE(d->resp.warnings.empty()) << "PSA leaves warn-level warnings out of a denial";

  auto plain = run(review("CREATE", kPlainPod));
  EXPECT_TRUE(plain->resp.allowed) << plain->resp.message;
  ASSERT_FALSE(plain->resp.warnings.empty()) << "restricted is warned";
  for (const std::string& w : plain->resp.warnings) {
    EXPECT_TRUE(w.starts_with("would violate PodSecurity \"restricted:latest\": ")) << w;
    EXPECT_LE(w.size(), 122u) << w;  // 120 characters (the ellipsis is 3 bytes, 1 character)
  }
  EXPECT_EQ(plain->resp.audit_annotations.at("kubeharden.io/enforce-policy"), "baseline:latest");
  EXPECT_TRUE(plain->resp.audit_annotations.at("kubeharden.io/audit-violations")
                  .starts_with("would violate PodSecurity \"restricted:latest\": "));
}

TEST(AdmissionDecision, NamespaceLabelsSetTheModes) {
  Arena arena;
  auto priv = run(review("CREATE", kPrivilegedPod), {},
                  labelsOf(arena, R"({"kubeharden.io/enforce":"privileged",
                                      "kubeharden.io/warn":"privileged",
                                      "kubeharden.io/audit":"privileged"})"));
  EXPECT_TRUE(priv->resp.allowed);
  EXPECT_TRUE(priv->resp.warnings.empty());
  auto strict =
      run(review("CREATE", kPlainPod), {}, labelsOf(arena, R"({"kubeharden.io/enforce":"restricted",
                                        "kubeharden.io/enforce-version":"v1.30"})"));
  EXPECT_FALSE(strict->resp.allowed);
  EXPECT_TRUE(strict->resp.message.starts_with("violates PodSecurity \"restricted:v1.30\": "))
      << strict->resp.message;
}

TEST(AdmissionDecision, ControllersAreWarnedUnlessEnforcementIsAsked) {
  std::string deploy =
      R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{
          "template":{"spec":{"containers":[{"name":"app","image":"app:1",
          "securityContext":{"privileged":true}}]}}}})";
  auto warned = run(review("CREATE", deploy, "", "Deployment"));
  EXPECT_TRUE(warned->resp.allowed);
  bool baseline_warning = false;
  for (const std::string& w : warned->resp.warnings)
    baseline_warning |= w.find("privileged") != std::string::npos;
  EXPECT_TRUE(baseline_warning);
  Policy strict;
  strict.enforce_on_controllers = true;
  EXPECT_FALSE(run(review("CREATE", deploy, "", "Deployment"), strict)->resp.allowed);
}

TEST(AdmissionDecision, RequestShapesThatAreNotJudged) {
  EXPECT_TRUE(run(review("DELETE", "null"))->resp.allowed);
  EXPECT_TRUE(run(review("CREATE", kPrivilegedPod, R"(,"subResource":"status")"))->resp.allowed);
  EXPECT_FALSE(run(review("CREATE", kPrivilegedPod, R"(,"subResource":"ephemeralcontainers")"))
                   ->resp.allowed);
  // An update that changes only metadata of an existing (non-compliant) pod stays possible.
  std::string update =
      review("UPDATE", kPrivilegedPod, fmt::format(R"(,"oldObject":{})", kPrivilegedPod));
  EXPECT_TRUE(run(update)->resp.allowed);
  std::string changed =
      review("UPDATE", kPrivilegedPod, fmt::format(R"(,"oldObject":{})", kPlainPod));
  EXPECT_FALSE(run(changed)->resp.allowed);
}

TEST(AdmissionDecision, ExemptionsAreAudited) {
  Policy p;
  p.exempt_usernames = {"alice"};
  auto d = run(review("CREATE", kPrivilegedPod), p);
  EXPECT_TRUE(d->resp.allowed);
  EXPECT_EQ(d->resp.audit_annotations.at("kubeharden.io/exempt"), "user");
  Policy n;
  n.exempt_namespaces = {"shop"};
  EXPECT_EQ(
      run(review("CREATE", kPrivilegedPod), n)->resp.audit_annotations.at("kubeharden.io/exempt"),
      "namespace");
}

TEST(AdmissionDecision, InvalidNamespaceLabelsAreRefused) {
  std::string ns = R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"shop",
                       "labels":{"kubeharden.io/enforce":"strict"}}})";
  auto d = run(review("CREATE", ns, "", "Namespace", ""));
  EXPECT_FALSE(d->resp.allowed);
  EXPECT_EQ(d->resp.code, 422);
  EXPECT_NE(d->resp.message.find("kubeharden.io/enforce"), std::string::npos) << d->resp.message;
}

TEST(AdmissionDecision, CatalogueWarnsAndRbacAnonymousBindingsAreRefused) {
  Registry registry(makeCatalogue());
  Policy p;
  p.registry = &registry;
  std::string binding =
      R"({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding",
          "metadata":{"name":"open"},
          "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"view"},
          "subjects":[{"kind":"User","name":"system:anonymous"}]})";
  auto d = run(review("CREATE", binding, "", "ClusterRoleBinding", ""), p);
  EXPECT_FALSE(d->resp.allowed);
  EXPECT_TRUE(d->resp.message.starts_with("rbac-risky-permission: anonymous-binding"))
      << d->resp.message;
  auto pod = run(review("CREATE", kPlainPod), p);
  EXPECT_TRUE(pod->resp.allowed);
  bool catalogue_warning = false;
  for (const std::string& w : pod->resp.warnings) catalogue_warning |= w.starts_with("pod-");
  EXPECT_TRUE(catalogue_warning);
  EXPECT_NE(pod->resp.audit_annotations.at("kubeharden.io/violations").find("image-"),
            std::string::npos);
}

// The webhook sees one object: checks that judge it by the rest of the input (references,
// selectors, bindings, policies) stay silent, while checks of the object itself still speak.
TEST(AdmissionDecision, ChecksOfTheWholeInputAreNotRunOnOneObject) {
  Registry registry(makeCatalogue());
  Policy p;
  p.registry = &registry;
  std::string pod =
      R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{
          "serviceAccountName":"builder","containers":[{"name":"app","image":"app:latest",
          "envFrom":[{"configMapRef":{"name":"settings"}}]}]}})";
  auto d = run(review("CREATE", pod), p);
  std::string violations = d->resp.audit_annotations["kubeharden.io/violations"];
  EXPECT_NE(violations.find("image-latest-tag"), std::string::npos) << violations;
  for (const char* id : {"pod-missing-service-account", "pod-missing-reference",
                         "pod-sa-token-automount", "network-workload-not-isolated"})
    EXPECT_EQ(violations.find(id), std::string::npos) << id << " in " << violations;
  for (const std::string& w : d->resp.warnings)
    EXPECT_EQ(w.find("not in the input"), std::string::npos) << w;

  std::string policy =
      R"({"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy",
          "metadata":{"name":"open","namespace":"shop"},
          "spec":{"podSelector":{"matchLabels":{"app":"web"}},"ingress":[{}]}})";
  auto np = run(review("CREATE", policy, "", "NetworkPolicy"), p);
  std::string nv = np->resp.audit_annotations["kubeharden.io/violations"];
  EXPECT_NE(nv.find("network-allow-all"), std::string::npos) << nv;
  EXPECT_EQ(nv.find("network-policy-selects-nothing"), std::string::npos) << nv;
  // The metadata says which checks these are; a scan still runs them.
  EXPECT_TRUE(registry.find("pod-missing-reference")->meta().whole_input);
  EXPECT_FALSE(registry.find("network-allow-all")->meta().whole_input);
  EXPECT_FALSE(registry.find("image-latest-tag")->meta().whole_input);
}

TEST(AdmissionDecision, WarningsStayWithinTheApiServerBudget) {
  std::vector<std::string> in;
  // 50 distinct long warnings, each twice: cut to 120 characters, duplicates dropped.
  for (int i = 0; i < 100; ++i) in.push_back(fmt::format("{} {}", i % 50, std::string(200, 'x')));
  auto out = budgetWarnings(in);
  size_t total = 0;
  for (const std::string& w : out) {
    size_t runes = 0;
    for (unsigned char c : w) runes += (c & 0xC0) != 0x80;
    EXPECT_LE(runes, 120u);
    total += runes;
  }
  EXPECT_LE(total, 4096u);
  EXPECT_EQ(out.size(), 34u);  // 34 × 120 = 4080; the 35th would pass 4,096
  auto dedup = budgetWarnings({"same", "same", "other"});
  EXPECT_EQ(dedup, (std::vector<std::string>{"same", "other"}));
  // Cut by characters, not bytes: 121 characters (123 bytes) become 119 and an ellipsis.
  auto cut = budgetWarnings({std::string(119, 'a') + "\u00e9\u00e9"});
  ASSERT_EQ(cut.size(), 1u);
  EXPECT_EQ(cut[0], std::string(119, 'a') + "\u2026");
}

}  // namespace
}  // namespace kh::admission

namespace kh::admission {
namespace {

TEST(AdmissionConfig, TheConfigFileSetsThePolicy) {
  test::TempDir d;
  std::string path = d.write("c.yaml", R"(admission:
  defaults: {enforce: restricted, enforce-version: v1.30, warn: privileged, audit: baseline}
  enforceOnControllers: true
  deny: {severity: high, checks: [pod-privileged]}
  exemptions: {namespaces: [kube-system], usernames: ["system:serviceaccount:ci:deployer"]}
exceptions:
  - checks: [pod-memory-limit]
    namespace: shop
    reason: a LimitRange of the namespace supplies the limit
)");
  auto cfg = loadConfig(path);
  ASSERT_TRUE(cfg) << cfg.error().describe();
  Registry registry(makeCatalogue());
  Policy p = policyFromConfig(cfg.value(), &registry, "2026-06-15");
  EXPECT_EQ(pss::policyLabel(p.defaults.enforce), "restricted:v1.30");
  EXPECT_EQ(p.defaults.warn.level, pss::Level::kPrivileged);
  EXPECT_TRUE(p.enforce_on_controllers);
  EXPECT_EQ(p.deny_at, Severity::kHigh);
  EXPECT_EQ(p.deny_rules, std::vector<std::string>{"pod-privileged"});
  EXPECT_EQ(p.exempt_namespaces, std::vector<std::string>{"kube-system"});

  // The exception silences the catalogue finding; it is recorded, not warned.
  auto d2 = run(review("CREATE", kPlainPod), p);
  ASSERT_FALSE(d2->resp.allowed) << "restricted is enforced";
  Policy lenient = p;
  lenient.defaults.enforce.level = pss::Level::kPrivileged;
  auto allowed = run(review("CREATE", kPlainPod), lenient);
  EXPECT_TRUE(allowed->resp.allowed) << allowed->resp.message;
  for (const std::string& w : allowed->resp.warnings)
    EXPECT_FALSE(w.starts_with("pod-memory-limit")) << w;
  EXPECT_EQ(allowed->resp.audit_annotations.at("kubeharden.io/exceptions"), "pod-memory-limit");
  EXPECT_EQ(allowed->resp.audit_annotations.at("kubeharden.io/violations").find("pod-memory-limit"),
            std::string::npos);
}

// Registry allow lists are the catalogue's image-registry-not-allowed check, configured as in
// scan; listed in admission.deny.checks, it refuses images from elsewhere in enforce namespaces.
TEST(AdmissionConfig, RegistryAllowListDenies) {
  test::TempDir d;
  std::string path = d.write("c.yaml", R"(checks:
  options:
    image-registry-not-allowed:
      allow: [registry.example.com]
admission:
  deny: {checks: [image-registry-not-allowed]}
)");
  auto cfg = loadConfig(path);
  ASSERT_TRUE(cfg) << cfg.error().describe();
  auto registry = buildRegistry(cfg.value());
  ASSERT_TRUE(registry) << registry.error().describe();
  Policy p = policyFromConfig(cfg.value(), registry.value().get(), "2026-06-15");
  auto pod = [](std::string_view image) {
    return fmt::format(
        R"({{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"p"}},"spec":{{"containers":[
            {{"name":"app","image":"{}"}}]}}}})",
        image);
  };
  auto denied = run(review("CREATE", pod("nginx:1.27")), p);
  EXPECT_FALSE(denied->resp.allowed);
  EXPECT_TRUE(denied->resp.message.starts_with("image-registry-not-allowed"))
      << denied->resp.message;
  EXPECT_NE(denied->resp.message.find("docker.io"), std::string::npos) << denied->resp.message;
  auto allowed = run(review("CREATE", pod("registry.example.com/shop/app:1.0")), p);
  EXPECT_TRUE(allowed->resp.allowed) << allowed->resp.message;
}

TEST(AdmissionConfig, BadValuesNameTheLine) {
  test::TempDir d;
  for (auto [text, line, what] : std::vector<std::tuple<std::string, uint32_t, std::string>>{
           {"admission:\n  defaults: {enforce: strict}\n", 2, "not a level"},
           {"admission:\n  deny:\n    checks: [pod-privilegd]\n", 3, "unknown check"},
           {"admission:\n  exemptions: {users: [a]}\n", 2, "unknown key 'users'"},
           {"admission:\n  mutateByDefault: yes-please\n", 2, "true or false"}}) {
    auto cfg = loadConfig(d.write("bad.yaml", text));
    ASSERT_FALSE(cfg) << text;
    EXPECT_EQ(cfg.error().pos.line, line) << cfg.error().describe();
    EXPECT_NE(cfg.error().message.find(what), std::string::npos) << cfg.error().describe();
  }
}

}  // namespace
}  // namespace kh::admission
