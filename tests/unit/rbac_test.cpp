// RBAC: the scenario files of tests/rbac (each `# expect:` line a question and the authorizer's
// answer), and the rbac CLI (who-can text and JSON, can exit codes, errors).
#include "rbac/rbac.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <re2/re2.h>

#include <filesystem>
#include <map>
#include <set>

#include "base/strings.h"
#include "rbac/escalation.h"
#include "rbac/risks.h"
#include "tests/unit/test_util.h"

namespace kh::test {
namespace {

class RbacScenario : public ::testing::TestWithParam<std::string> {};

TEST_P(RbacScenario, AnswersMatch) {
  std::string text = readFile(GetParam());
  auto file = loadText(text, GetParam());
  ASSERT_FALSE(file->error) << file->error->describe();
  std::vector<const Object*> objs;
  for (const Object& o : file->objects) objs.push_back(&o);
  rbac::Model m = rbac::buildModel(objs);
  static const RE2 kExpect(R"(#[ \t]*expect:[ \t]*([^\n]*?)[ \t]*=>[ \t]*(yes|no))");
  re2::StringPiece in(text);
  std::string question, answer;
  int n = 0;
  while (RE2::FindAndConsume(&in, kExpect, &question, &answer)) {
    ++n;
    std::vector<std::string_view> words = splitTrimmed(question, ' ');
    ASSERT_GE(words.size(), 3u) << question;
    auto id = rbac::Identity::parse(words[0]);
    ASSERT_TRUE(id) << question;
    rbac::Request req;
    req.verb = std::string(words[1]);
    bool group_set = false;
    for (size_t i = 2; i < words.size(); ++i) {
      std::string_view w = words[i];
      if (w.starts_with("ns="))
        req.ns = std::string(w.substr(3));
      else if (w.starts_with("name="))
        req.name = std::string(w.substr(5));
      else if (w.starts_with("group="))
        req.api_group = std::string(w.substr(6)), group_set = true;
      else if (w.starts_with("url="))
        req.non_resource = true, req.path = std::string(w.substr(4));
      else {
        std::string res(w);
        if (size_t s = res.find('/'); s != std::string::npos) {
          req.subresource = res.substr(s + 1);
          res = res.substr(0, s);
        }
        req.resource = res;
      }
    }
    if (!group_set) req.api_group = std::string(rbac::defaultGroup(req.resource));
    bool allowed = id->superuser() || !rbac::grantsFor(m, *id, req).empty();
    EXPECT_EQ(allowed ? "yes" : "no", answer) << question;
  }
  EXPECT_GT(n, 0);
}

std::vector<std::string> scenarios() {
  std::vector<std::string> out;
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(KH_SOURCE_DIR) + "/tests/rbac"))
    if (e.path().extension() == ".yaml") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

INSTANTIATE_TEST_SUITE_P(Rbac, RbacScenario, ::testing::ValuesIn(scenarios()),
                         [](const auto& info) {
                           std::string n = std::filesystem::path(info.param).stem().string();
                           for (char& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

TEST(Rbac, AggregationReplacesOwnRules) {
  auto f =
      loadText(readFile(std::string(KH_SOURCE_DIR) + "/tests/rbac/rules-and-aggregation.yaml"));
  std::vector<const Object*> objs;
  for (const Object& o : f->objects) objs.push_back(&o);
  rbac::Model m = rbac::buildModel(objs);
  const rbac::Role* top = m.role(true, "", "top");
  ASSERT_TRUE(top);
  ASSERT_EQ(top->rules.size(), 3u);  // leaf's two via middle, then extra-events; not its own
  EXPECT_EQ(top->rules[0].resources[0], "events");  // extra-events sorts before middle
  EXPECT_EQ(top->rules[1].resources[0], "secrets");
}

TEST(RbacCli, WhoCanAndCan) {
  std::string f = std::string(KH_SOURCE_DIR) + "/tests/rbac/bindings-and-scope.yaml";
  auto who = runCli("rbac who-can delete secrets -n dev --no-defaults " + f);
  EXPECT_EQ(who.exit_code, 0) << who.err;
  EXPECT_NE(who.out.find("who can delete secrets in namespace dev:\n  User alice\n    via "
                         "ClusterRoleBinding alice-secrets -> ClusterRole secret-admin rule 0"),
            std::string::npos)
      << who.out;
  auto j = runCli("rbac who-can get pods -n dev --format json --no-defaults " + f);
  rapidjson::Document d;
  d.Parse(j.out.c_str());
  ASSERT_FALSE(d.HasParseError());
  EXPECT_STREQ(d["schema"].GetString(), "kubeharden/rbac-who-can/v1");
  ASSERT_EQ(d["subjects"].Size(), 1u);
  EXPECT_STREQ(d["subjects"][0]["kind"].GetString(), "ServiceAccount");
  EXPECT_STREQ(d["subjects"][0]["namespace"].GetString(), "dev");
  EXPECT_STREQ(d["subjects"][0]["via"][0]["role"]["kind"].GetString(), "ClusterRole");
  EXPECT_EQ(d["subjects"][0]["via"][0]["rule"].GetUint(), 0u);
  auto yes = runCli("rbac can sa:dev/ci get pods -n dev " + f);
  EXPECT_EQ(yes.exit_code, 0);
  EXPECT_NE(yes.out.find("yes: sa:dev/ci may get pods in namespace dev"), std::string::npos);
  auto no = runCli("rbac can sa:dev/ci get pods -n prod " + f);
  EXPECT_EQ(no.exit_code, 1);
  EXPECT_NE(no.out.find("no: no binding"), std::string::npos);
  auto url = runCli("rbac who-can get --url /healthz/ready " + std::string(KH_SOURCE_DIR) +
                    "/tests/rbac/rules-and-aggregation.yaml");
  EXPECT_NE(url.out.find("User u3"), std::string::npos) << url.out;
  EXPECT_EQ(url.out.find("User u4"), std::string::npos) << "a RoleBinding never grants URLs";
  EXPECT_EQ(runCli("rbac can bob get pods " + f).exit_code, 2);
  EXPECT_EQ(runCli("rbac can sa:dev get pods " + f).exit_code, 2);
  TempDir empty;  // the file is taken as the RESOURCE; the input defaults to "." (empty here)
  EXPECT_EQ(runCli("rbac who-can get " + f, empty.path()).exit_code, 3);
}

TEST(RbacCli, Permissions) {
  std::string f = std::string(KH_SOURCE_DIR) + "/tests/rbac/rules-and-aggregation.yaml";
  auto r = runCli("rbac permissions user:agg --no-defaults " + f);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("cluster-wide:\n  (nothing)\nnamespace a:\n  watch on events (core)    [via "
                       "RoleBinding a/agg -> ClusterRole top rule 0]"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("get on secrets (core)"), std::string::npos);
  auto u3 = runCli("rbac permissions user:u3 " + f);
  EXPECT_NE(u3.out.find("cluster-wide:\n  get on URLs /metrics, /healthz/*"), std::string::npos)
      << u3.out;
  auto masters = runCli("rbac permissions group:system:masters " + f);
  EXPECT_NE(masters.out.find("superuser"), std::string::npos);
}

TEST(RbacRisks, JudgedOnEffectivePermissions) {
  auto f = loadText(readFile(std::string(KH_SOURCE_DIR) + "/tests/rbac/risks/catalogue.yaml"));
  std::vector<const Object*> objs;
  for (const Object& o : f->objects) objs.push_back(&o);
  rbac::Model m = rbac::buildModel(objs);
  std::set<std::string> got;
  for (const rbac::Risk& r : rbac::analyzeRisks(m))
    got.insert(fmt::format("{} {}:{}/{} {}", r.id, rbac::kindName(r.subject.kind), r.subject.ns,
                           r.subject.name, r.scope));
  std::set<std::string> want = {
      "csr-approve ServiceAccount:ops/pki cluster-wide",  // two permissions, two roles
      "workload-create ServiceAccount:app/deployer namespace app",
      "nodes-proxy ServiceAccount:mon/prometheus cluster-wide",
      "nodes-proxy Group:/system:unauthenticated cluster-wide",
      "nodes-proxy Group:/system:authenticated cluster-wide",
      "anonymous-binding Group:/system:unauthenticated cluster-wide",
      "authenticated-binding Group:/system:authenticated cluster-wide",
  };
  // `*` through a RoleBinding is full control of that namespace and every namespaced risk, but
  // nothing cluster-scoped (nodes/proxy, CSRs, webhook configurations, PersistentVolumes).
  for (const char* id : {"namespace-admin", "impersonate", "escalate-or-bind", "secrets-read",
                         "pods-exec", "rbac-write", "workload-create", "token-create",
                         "ephemeral-containers", "services-status-write"})
    want.insert(fmt::format("{} Group:/team-leads namespace team", id));
  EXPECT_EQ(got, want);
  EXPECT_EQ(got.count("secrets-read ServiceAccount:app/deployer namespace app"), 0u)
      << "a resourceNames-limited get is not a secret reader";
}

TEST(RbacRisks, ScopedRisksCountOnlyWhereTheyMatter) {
  auto f = loadText(readFile(std::string(KH_SOURCE_DIR) + "/tests/rbac/risks/scoped.yaml"));
  std::vector<const Object*> objs;
  for (const Object& o : f->objects) objs.push_back(&o);
  rbac::Model m = rbac::buildModel(objs);
  std::set<std::string> got;
  for (const rbac::Risk& r : rbac::analyzeRisks(m))
    got.insert(fmt::format("{} {}/{} {}", r.id, r.subject.ns, r.subject.name, r.scope));
  std::set<std::string> want = {
      "configmap-write ops/dns-admin namespace kube-system",
      "configmap-write ops/netadmin cluster-wide",
      "networking-write ops/netadmin cluster-wide",
      "delete-rights ops/netadmin cluster-wide",
      "pods-portforward ops/netadmin cluster-wide",
      "workload-create web/labeller namespace web",
  };
  // app/deployer may delete deployments and write its namespace's config and network policies:
  // normal for an application's deployer, not a risk.
  EXPECT_EQ(got, want);
}

TEST(RbacCli, Risks) {
  auto r = runCli("rbac risks " + std::string(KH_SOURCE_DIR) + "/tests/rbac/risks/catalogue.yaml");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out.rfind("critical ", 0), 0u) << "sorted by severity:\n" << r.out;
  EXPECT_NE(r.out.find("high csr-approve: ServiceAccount ops/pki can issue client certificates"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("via ClusterRoleBinding pki-approve -> ClusterRole csr-approver rule 0"),
            std::string::npos);
  EXPECT_NE(r.out.find("via ClusterRoleBinding pki-create -> ClusterRole csr-creator rule 0"),
            std::string::npos);
  auto j = runCli("rbac risks --format json --fail-on none " + std::string(KH_SOURCE_DIR) +
                  "/tests/rbac/risks/catalogue.yaml");
  EXPECT_EQ(j.exit_code, 0);
  rapidjson::Document d;
  d.Parse(j.out.c_str());
  ASSERT_FALSE(d.HasParseError());
  EXPECT_STREQ(d["schema"].GetString(), "kubeharden/rbac-risks/v1");
  EXPECT_GT(d["risks"].Size(), 10u);
}

TEST(RbacEscalation, ShortestPaths) {
  auto f = loadText(readFile(std::string(KH_SOURCE_DIR) + "/tests/rbac/escalation/chain.yaml"));
  std::vector<const Object*> objs;
  std::vector<std::pair<std::string, std::string>> accounts;
  for (const Object& o : f->objects) {
    objs.push_back(&o);
    if (o.pod)
      accounts.emplace_back(std::string(o.ref.namespace_),
                            std::string(getStr(o.pod->spec, "serviceAccountName")));
  }
  rbac::Model m = rbac::buildModel(objs);
  auto paths = rbac::escalationPaths(m, rbac::analyzeRisks(m), accounts);
  std::map<std::string, std::vector<std::string>> got;
  for (const auto& p : paths)
    for (const auto& s : p.steps) got[p.start].push_back(s.to);
  std::map<std::string, std::vector<std::string>> want = {
      {"ServiceAccount build/deployer", {"cluster-admin"}},
      {"User approver", {"cluster-admin"}},
      {"ServiceAccount ci/ci", {"ServiceAccount build/deployer", "cluster-admin"}},
      {"User debug", {"ServiceAccount build/deployer", "cluster-admin"}},
      {"User debug2", {"ServiceAccount build/deployer", "cluster-admin"}},
  };
  EXPECT_EQ(got, want);
  EXPECT_EQ(paths.front().steps.size(), 1u) << "shortest first";
}

TEST(RbacCli, Escalation) {
  std::string f = std::string(KH_SOURCE_DIR) + "/tests/rbac/escalation/chain.yaml";
  auto t = runCli("rbac escalation " + f);
  EXPECT_EQ(t.exit_code, 1);
  EXPECT_NE(t.out.find("ServiceAccount ci/ci reaches cluster-admin in 2 steps:\n  -> "
                       "ServiceAccount build/deployer: create pods in namespace build"),
            std::string::npos)
      << t.out;
  EXPECT_EQ(t.out.find("User viewer"), std::string::npos);
  auto d = runCli("rbac escalation --format dot " + f);
  EXPECT_NE(d.out.find("\"User approver\" -> \"cluster-admin\""), std::string::npos) << d.out;
  auto j = runCli("rbac escalation --format json " + f);
  rapidjson::Document doc;
  doc.Parse(j.out.c_str());
  ASSERT_FALSE(doc.HasParseError());
  EXPECT_STREQ(doc["schema"].GetString(), "kubeharden/rbac-escalation/v1");
  EXPECT_EQ(doc["paths"].Size(), 5u);
}

// The built-in roles and bindings (src/rbac/defaults.cpp) are part of the model unless
// --no-defaults: bindings to edit/view resolve, aggregation reaches into them, the default
// bindings answer for everyone, and none of them is reported as a risk.
TEST(RbacDefaults, BindingsToBuiltinRolesResolve) {
  std::string f = std::string(KH_SOURCE_DIR) + "/tests/rbac/defaults/cluster.yaml";
  auto edit = runCli("rbac can sa:dev/deployer get secrets -n dev " + f);
  EXPECT_EQ(edit.exit_code, 0) << edit.out << edit.err;
  EXPECT_NE(edit.out.find("via RoleBinding dev/deployer-edit -> ClusterRole edit rule"),
            std::string::npos)
      << edit.out;
  EXPECT_EQ(runCli("rbac can sa:dev/deployer get secrets -n dev --no-defaults " + f).exit_code, 1);
  EXPECT_EQ(runCli("rbac can sa:dev/deployer get secrets -n prod " + f).exit_code, 1);
  EXPECT_EQ(runCli("rbac can sa:dev/deployer create pods/exec -n dev " + f).exit_code, 0);
  EXPECT_EQ(runCli("rbac can sa:dev/deployer create rolebindings -n dev " + f).exit_code, 1)
      << "edit does not include the admin-only RBAC rules";
  // view: no secrets, but the input's widget-viewer is aggregated into it, and through view
  // into edit (a fixpoint over two levels).
  EXPECT_EQ(runCli("rbac can user:carol get pods -n dev " + f).exit_code, 0);
  EXPECT_EQ(runCli("rbac can user:carol get secrets -n dev " + f).exit_code, 1);
  EXPECT_EQ(
      runCli("rbac can user:carol list widgets --api-group example.com -n dev " + f).exit_code, 0);
  EXPECT_EQ(
      runCli("rbac can sa:dev/deployer list widgets --api-group example.com -n dev " + f).exit_code,
      0);
  EXPECT_EQ(
      runCli("rbac can user:carol delete widgets --api-group example.com -n dev " + f).exit_code,
      1);
  // The default bindings: discovery for every authenticated user, public info for anonymous.
  EXPECT_EQ(runCli("rbac can user:dave get --url /apis/apps " + f).exit_code, 0);
  EXPECT_EQ(runCli("rbac can user:system:anonymous get --url /apis/apps " + f).exit_code, 1);
  EXPECT_EQ(runCli("rbac can user:system:anonymous get --url /version " + f).exit_code, 0);
  EXPECT_EQ(
      runCli("rbac can user:system:anonymous get --url /version --no-defaults " + f).exit_code, 1);
  auto who = runCli("rbac who-can delete nodes " + f);
  EXPECT_NE(who.out.find("Group system:masters\n    via ClusterRoleBinding cluster-admin -> "
                         "ClusterRole cluster-admin rule 0"),
            std::string::npos)
      << who.out;
}

TEST(RbacDefaults, InputWins) {
  std::string dir = std::string(KH_SOURCE_DIR) + "/tests/rbac/defaults/";
  // With the input's own `view` (configmaps only), carol can no longer read pods or widgets.
  std::string both = dir + "cluster.yaml " + dir + "shadow.yaml";
  EXPECT_EQ(runCli("rbac can user:carol get configmaps -n dev " + both).exit_code, 0);
  EXPECT_EQ(runCli("rbac can user:carol get pods -n dev " + both).exit_code, 1);
  EXPECT_EQ(
      runCli("rbac can user:carol list widgets --api-group example.com -n dev " + both).exit_code,
      1);
  EXPECT_EQ(runCli("rbac can user:carol get pods -n dev " + dir + "cluster.yaml").exit_code, 0);
}

TEST(RbacDefaults, RisksOnlyFromTheInput) {
  std::string f = std::string(KH_SOURCE_DIR) + "/tests/rbac/defaults/cluster.yaml";
  auto r = runCli("rbac risks --format json " + f);
  rapidjson::Document d;
  d.Parse(r.out.c_str());
  ASSERT_FALSE(d.HasParseError()) << r.out;
  std::set<std::string> seen;
  for (const auto& risk : d["risks"].GetArray()) {
    std::string subject = risk["subject"]["name"].GetString();
    seen.insert(std::string(risk["id"].GetString()) + " " + subject);
  }
  EXPECT_TRUE(seen.count("secrets-read deployer")) << r.out;
  EXPECT_TRUE(seen.count("pods-exec deployer")) << r.out;
  for (const std::string& s : seen) {
    EXPECT_EQ(s.find("system:"), std::string::npos) << "a default binding reported: " << s;
    EXPECT_EQ(s.find("carol"), std::string::npos) << "view holds nothing risky: " << s;
  }
  auto none = runCli("rbac risks --format json --no-defaults " + f);
  rapidjson::Document n;
  n.Parse(none.out.c_str());
  ASSERT_FALSE(n.HasParseError()) << none.out;
  EXPECT_EQ(n["risks"].Size(), 0u) << none.out;
  // In `scan`, a risk granted by a built-in role sits at the binding's roleRef.
  auto scan = runCli("scan --format json " + f);
  EXPECT_NE(scan.out.find("\"path\":\"roleRef\",\"file\":\"" + f + "\",\"line\":6,"),
            std::string::npos)
      << scan.out;
  EXPECT_NE(scan.out.find("[via RoleBinding deployer-edit to the built-in ClusterRole edit]"),
            std::string::npos)
      << scan.out;
}

}  // namespace
}  // namespace kh::test
