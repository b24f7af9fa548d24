// `kubeharden audit rbac` (docs/audit.md, "Least privilege from the logs"): the generated RBAC,
// read back as `kubectl apply` would read it, allows every request the subject made (read from
// the log by this test, independently of the reader) and grants nothing that no logged request
// needed: every verb x resource x name (or unnamed grant) of every generated rule is one the log
// shows, in that scope. Then the grouping a person would write, impersonation, refused requests,
// --namespace, --expand-verbs, the unused-permission report, formats and errors.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <unistd.h>

#include <map>
#include <set>
#include <tuple>

#include "audit/rbac_gen.h"
#include "base/strings.h"
#include "rbac/rbac.h"
#include "tests/unit/audit_gen.h"
#include "tests/unit/fake_apiserver.h"
#include "tests/unit/image_util.h"
#include "tests/unit/test_util.h"

namespace kh::test {
namespace audit_rbac_tests {

// A request as the authorizer sees it, in a comparable form.
using Req = std::tuple<std::string, std::string, std::string, std::string, std::string, std::string,
                       std::string>;  // ns, verb, group, resource, sub, name, path

Req key(const rbac::Request& r) {
  return {r.ns, r.verb, r.api_group, r.resource, r.subresource, r.name, r.path};
}

rbac::Request request(const Req& k) {
  rbac::Request r;
  std::tie(r.ns, r.verb, r.api_group, r.resource, r.subresource, r.name, r.path) = k;
  r.non_resource = r.resource.empty();
  return r;
}

// The subject's requests in a JSON-lines log, read here with RapidJSON line by line (a
// request's stages repeat its fields: one per auditID), with the authorizer's rules for names
// (a create of a collection has none) and impersonation (the impersonator's checks).
std::set<Req> expectedRequests(const std::string& log, const std::string& user) {
  std::set<Req> out;
  std::set<std::string> ids;
  forEachLine(log, [&](std::string_view line) {
    rapidjson::Document d;
    d.Parse(line.data(), line.size());
    if (d.HasParseError() || !ids.insert(d["auditID"].GetString()).second) return;
    std::string who = d["user"]["username"].GetString();
    std::string as = d.HasMember("impersonatedUser") ? d["impersonatedUser"]["username"].GetString()
                                                     : std::string();
    if (who == user && !as.empty()) {
      constexpr std::string_view kSa = "system:serviceaccount:";
      if (as.starts_with(kSa)) {
        std::string rest = as.substr(kSa.size());
        out.insert({rest.substr(0, rest.find(':')), "impersonate", "", "serviceaccounts", "",
                    rest.substr(rest.find(':') + 1), ""});
      } else {
        out.insert({"", "impersonate", "", "users", "", as, ""});
      }
    }
    if ((as.empty() ? who : as) != user) return;
    std::string verb = d["verb"].GetString();
    if (!d.HasMember("objectRef")) {
      std::string uri = d["requestURI"].GetString();
      out.insert({"", verb, "", "", "", "", uri.substr(0, uri.find('?'))});
      return;
    }
    const auto& o = d["objectRef"];
    auto s = [&](const char* k) { return o.HasMember(k) ? o[k].GetString() : std::string(); };
    std::string name = verb == "create" && s("subresource").empty() ? "" : s("name");
    out.insert({s("namespace"), verb, s("apiGroup"), s("resource"), s("subresource"), name, ""});
  });
  return out;
}

struct Generated {
  std::unique_ptr<SourceFile> file;
  rbac::Model model;
};

Generated parseGenerated(const std::string& yaml) {
  Generated g;
  g.file = loadText(yaml, "generated.yaml");
  std::vector<const Object*> objects;
  for (const Object& o : g.file->objects) objects.push_back(&o);
  g.model = rbac::buildModel(objects);
  return g;
}

// Every request the generated rules grant, spelled out: verb x resource x name (or "" for a
// rule without resourceNames) x URL, in the role's namespace ("" for a ClusterRole, which its
// ClusterRoleBinding grants everywhere; the test only asks that such a grant was needed at the
// cluster scope).
std::set<Req> granted(const rbac::Model& m) {
  std::set<Req> out;
  for (const rbac::Role& role : m.roles)
    for (const rbac::Rule& rule : role.rules)
      for (std::string_view verb : rule.verbs) {
        for (std::string_view url : rule.urls)
          out.insert({"", std::string(verb), "", "", "", "", std::string(url)});
        for (std::string_view group : rule.api_groups)
          for (std::string_view res : rule.resources) {
            std::string r(res), sub;
            if (size_t slash = r.find('/'); slash != std::string::npos) {
              sub = r.substr(slash + 1);
              r.resize(slash);
            }
            std::vector<std::string_view> names = rule.resource_names;
            if (names.empty()) names.push_back("");
            for (std::string_view n : names)
              out.insert({std::string(role.ns), std::string(verb), std::string(group), r, sub,
                          std::string(n), ""});
          }
      }
  return out;
}

struct Case {
  std::string args;      // the subject's option
  std::string user;      // its user name in the log
  std::string identity;  // rbac::Identity::parse form
};

TEST(AuditRbac, AGeneratedLogGetsExactlyTheRbacItsRequestsNeed) {
  TempDir d;
  AuditGenOptions o;
  o.requests = 20000;
  o.planted_every = 40;
  std::string log;
  generateAuditLog(o, [&](std::string_view s) { log.append(s); });
  d.write("audit.log", log);
  for (const Case& c :
       {Case{"--user alice", "alice", "user:alice"}, Case{"--user bob", "bob", "user:bob"},
        Case{"--user carol", "carol", "user:carol"},
        Case{"--serviceaccount ops:deployer", "system:serviceaccount:ops:deployer",
             "sa:ops/deployer"},
        Case{"--serviceaccount web:app", "system:serviceaccount:web:app", "sa:web/app"},
        Case{"--user system:serviceaccount:kube-system:replicaset-controller",
             "system:serviceaccount:kube-system:replicaset-controller",
             "sa:kube-system/replicaset-controller"}}) {
    SCOPED_TRACE(c.args);
    std::set<Req> want = expectedRequests(log, c.user);
    ASSERT_FALSE(want.empty());
    auto r = runCli("audit rbac audit.log " + c.args, d.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    Generated g = parseGenerated(r.out);
    ASSERT_FALSE(g.file->error) << g.file->error->describe();
    ASSERT_FALSE(g.model.roles.empty());
    EXPECT_EQ(g.model.roles.size(), g.model.bindings.size());
    rbac::Identity id = *rbac::Identity::parse(c.identity);
    // Every logged request is allowed...
    for (const Req& k : want)
      EXPECT_FALSE(rbac::grantsFor(g.model, id, request(k)).empty()) << fmt::format(
          "{} {} {}/{} {} in '{}' {}", std::get<1>(k), std::get<2>(k), std::get<3>(k),
          std::get<4>(k), std::get<5>(k), std::get<0>(k), std::get<6>(k));
    // ...and every grant is one a logged request needed: named grants a request on that name,
    // unnamed grants a request without a name, in the role's scope.
    for (const Req& k : granted(g.model))
      EXPECT_TRUE(want.count(k)) << fmt::format(
          "granted but never requested: {} {} {}/{} '{}' in '{}' {}", std::get<1>(k),
          std::get<2>(k), std::get<3>(k), std::get<4>(k), std::get<5>(k), std::get<0>(k),
          std::get<6>(k));
    // No wildcard anywhere.
    EXPECT_EQ(r.out.find("\"*\""), std::string::npos);
    // Someone else's requests are not this subject's.
    rbac::Request other;
    other.verb = "delete";
    other.resource = "pods";
    other.ns = "web";
    other.name = "web-0";
    EXPECT_TRUE(rbac::grantsFor(g.model, id, other).empty());
  }
  // What the generator's people did, as a person would grant it.
  auto alice = runCli("audit rbac audit.log --user alice", d.path());
  EXPECT_NE(alice.out.find("  resources: [\"pods/exec\"]\n  resourceNames: [\"web-0\", \"web-1\", "
                           "\"web-2\", \"web-3\", \"web-4\"]\n  verbs: [\"create\"]\n"),
            std::string::npos)
      << alice.out;
  // A create names no object to the authorizer: no resourceNames on it, though objectRef had one.
  size_t deployments = alice.out.find("  resources: [\"deployments\"]\n  verbs: [",
                                      alice.out.find("  namespace: \"web\"\n"));
  ASSERT_NE(deployments, std::string::npos) << alice.out;
  std::string verbs =
      alice.out.substr(deployments, alice.out.find('\n', deployments + 40) - deployments);
  EXPECT_NE(verbs.find("\"create\""), std::string::npos) << alice.out;
  auto bob = runCli("audit rbac audit.log --user bob", d.path());
  EXPECT_NE(bob.out.find("  namespace: \"ops\"\n"), std::string::npos);
  EXPECT_NE(bob.out.find("  resources: [\"serviceaccounts\"]\n  resourceNames: [\"deployer\"]\n  "
                         "verbs: [\"impersonate\"]\n"),
            std::string::npos)
      << bob.out;
  // The refused list of Secrets is granted too (what was asked for), and counted as refused.
  auto app = runCli("audit rbac audit.log --serviceaccount web:app -f json", d.path());
  rapidjson::Document j;
  j.Parse(app.out.c_str());
  ASSERT_FALSE(j.HasParseError()) << app.out;
  EXPECT_GT(j["denied"].GetUint64(), 0u);
  EXPECT_EQ(j["denied"].GetUint64(), j["requests"].GetUint64());
  EXPECT_EQ(std::string(j["objects"][0]["kind"].GetString()), "ClusterRole");
  EXPECT_EQ(std::string(j["objects"][1]["subjects"][0]["kind"].GetString()), "ServiceAccount");
}

std::string event(const std::string& id, const std::string& user, const std::string& verb,
                  const std::string& uri, const std::string& object_ref,
                  const std::string& extra = "", int code = 200) {
  return fmt::format(
      R"({{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"{}",)"
      R"("stage":"ResponseComplete","requestURI":"{}","verb":"{}","user":{{"username":"{}",)"
      R"("groups":["devs","system:authenticated"]}},{}{})"
      R"("responseStatus":{{"metadata":{{}},"code":{}}},)"
      R"("requestReceivedTimestamp":"2026-12-07T10:00:{}.000000Z",)"
      R"("stageTimestamp":"2026-12-07T10:00:{}.100000Z"}})"
      "\n",
      id, uri, verb, user, object_ref.empty() ? "" : R"("objectRef":)" + object_ref + ",", extra,
      code, 10 + id.size() % 40, 10 + id.size() % 40);
}

std::string handWrittenLog() {
  std::string log;
  log += event("a1", "dave", "list", "/api/v1/namespaces/web/pods?limit=500",
               R"({"resource":"pods","namespace":"web","apiVersion":"v1"})");
  log += event("a2", "dave", "list", "/api/v1/namespaces/web/configmaps",
               R"({"resource":"configmaps","namespace":"web","apiVersion":"v1"})");
  log += event("a3", "dave", "get", "/api/v1/namespaces/web/configmaps/app",
               R"({"resource":"configmaps","namespace":"web","name":"app","apiVersion":"v1"})");
  log += event("a4", "dave", "get", "/api/v1/namespaces/web/configmaps/other",
               R"({"resource":"configmaps","namespace":"web","name":"other","apiVersion":"v1"})");
  log += event("a5", "dave", "patch", "/apis/apps/v1/namespaces/web/deployments/web",
               R"({"resource":"deployments","namespace":"web","name":"web","apiGroup":"apps",)"
               R"("apiVersion":"v1"})");
  log += event("a6", "dave", "get", "/apis/apps/v1/namespaces/web/deployments/web",
               R"({"resource":"deployments","namespace":"web","name":"web","apiGroup":"apps",)"
               R"("apiVersion":"v1"})");
  log += event("a7", "dave", "get", "/api/v1/nodes/n1",
               R"({"resource":"nodes","name":"n1","apiVersion":"v1"})");
  log += event("a8", "dave", "list", "/api/v1/nodes", R"({"resource":"nodes","apiVersion":"v1"})");
  log += event("a9", "dave", "get", "/healthz?verbose", "");
  log += event("a10", "dave", "get", "/version", "");
  log += event("a11", "dave", "get", "/api/v1/namespaces/prod/secrets/db",
               R"({"resource":"secrets","namespace":"prod","name":"db","apiVersion":"v1"})",
               R"("annotations":{"authorization.k8s.io/decision":"forbid"},)", 403);
  log += event("a12", "dave", "get", "/api/v1/namespaces/prod",
               R"({"resource":"namespaces","namespace":"prod","name":"prod","apiVersion":"v1"})");
  log += event("a13", "erin", "delete", "/api/v1/namespaces/web/pods/x",
               R"({"resource":"pods","namespace":"web","name":"x","apiVersion":"v1"})");
  // dave as someone else: the other user's request, and dave's impersonation checks.
  log += event("a14", "dave", "get", "/api/v1/namespaces/web/pods/y",
               R"({"resource":"pods","namespace":"web","name":"y","apiVersion":"v1"})",
               R"("impersonatedUser":{"username":"frank","groups":["admins",)"
               R"("system:authenticated"]},)");
  return log;
}

TEST(AuditRbac, GroupedTheWayAPersonWritesIt) {
  TempDir d;
  d.write("audit.log", handWrittenLog());
  auto r = runCli("audit rbac audit.log --user dave", d.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The cluster scope: nodes (the list without names, the get on its name), non-resource URLs
  // with one verb merged into one rule, and the impersonation checks.
  EXPECT_NE(r.out.find("kind: ClusterRole\n"), std::string::npos);
  EXPECT_NE(r.out.find("  resources: [\"nodes\"]\n  verbs: [\"list\"]\n"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("  resources: [\"nodes\"]\n  resourceNames: [\"n1\"]\n  verbs: [\"get\"]\n"),
            std::string::npos);
  EXPECT_NE(r.out.find("- nonResourceURLs: [\"/healthz\", \"/version\"]\n  verbs: [\"get\"]\n"),
            std::string::npos);
  EXPECT_NE(r.out.find("  resources: [\"users\"]\n  resourceNames: [\"frank\"]\n  verbs: "
                       "[\"impersonate\"]\n"),
            std::string::npos);
  EXPECT_NE(r.out.find("  resources: [\"groups\"]\n  resourceNames: [\"admins\"]\n  verbs: "
                       "[\"impersonate\"]\n"),
            std::string::npos);
  // Namespace web: list on two resources merged; the named gets apart; one rule per group.
  EXPECT_NE(r.out.find("  resources: [\"configmaps\", \"pods\"]\n  verbs: [\"list\"]\n"),
            std::string::npos);
  EXPECT_NE(r.out.find("  resources: [\"configmaps\"]\n  resourceNames: [\"app\", \"other\"]\n  "
                       "verbs: [\"get\"]\n"),
            std::string::npos);
  EXPECT_NE(r.out.find("- apiGroups: [\"apps\"]\n  resources: [\"deployments\"]\n  "
                       "resourceNames: [\"web\"]\n  verbs: [\"get\", \"patch\"]\n"),
            std::string::npos);
  // The impersonated request is frank's, not dave's; erin's are hers.
  EXPECT_EQ(r.out.find("\"y\""), std::string::npos);
  EXPECT_EQ(r.out.find("delete"), std::string::npos);
  // Namespace prod: the refused Secret read is granted (what was asked), and the namespace
  // itself, which the authorizer sees in its own namespace.
  EXPECT_NE(r.out.find("  namespace: \"prod\"\n"), std::string::npos);
  EXPECT_NE(r.out.find("  resources: [\"namespaces\"]\n  resourceNames: [\"prod\"]\n"),
            std::string::npos);
  EXPECT_NE(
      r.out.find("# 13 requests (14 distinct checks by the authorizer, 2 for impersonation; 1 "
                 "refused), 2026-12-07T10:00:"),
      std::string::npos)
      << r.out;
  // Deterministic.
  EXPECT_EQ(runCli("audit rbac audit.log --user dave", d.path()).out, r.out);

  // --namespace: only web's requests.
  auto web = runCli("audit rbac audit.log --user dave -n web", d.path());
  ASSERT_EQ(web.exit_code, 0) << web.err;
  EXPECT_EQ(web.out.find("ClusterRole"), std::string::npos);
  EXPECT_EQ(web.out.find("prod"), std::string::npos);
  EXPECT_NE(web.out.find("kind: Role\n"), std::string::npos);

  // --expand-verbs: the read set without names (a list reads every object anyway); the write
  // set, update/patch/delete kept to the names every such request used, create without.
  auto wide = runCli("audit rbac audit.log --user dave --expand-verbs -n web", d.path());
  ASSERT_EQ(wide.exit_code, 0) << wide.err;
  EXPECT_NE(
      wide.out.find("- apiGroups: [\"\"]\n  resources: [\"configmaps\", \"pods\"]\n  verbs: "
                    "[\"get\", \"list\", \"watch\"]\n- apiGroups: [\"apps\"]\n  resources: "
                    "[\"deployments\"]\n  verbs: [\"get\", \"list\", \"watch\", \"create\"]\n- "
                    "apiGroups: [\"apps\"]\n  resources: [\"deployments\"]\n  resourceNames: "
                    "[\"web\"]\n  verbs: [\"update\", \"patch\", \"delete\"]\n"),
      std::string::npos)
      << wide.out;

  // --group: the requests of the group's members (dave and erin are both in devs).
  auto devs = runCli("audit rbac audit.log --group devs -n web", d.path());
  ASSERT_EQ(devs.exit_code, 0) << devs.err;
  EXPECT_NE(devs.out.find("delete"), std::string::npos);
  EXPECT_NE(devs.out.find("  kind: Group\n  name: \"devs\"\n"), std::string::npos);
  EXPECT_NE(devs.out.find("name: \"kubeharden-audit:group:devs\""), std::string::npos);
  // A path ending in `*` is a glob to RBAC: granting it would grant every path it prefixes.
  d.write("glob.log",
          event("g1", "dave", "get", "/api*", "") + event("g2", "dave", "get", "/api", ""));
  auto glob = runCli("audit rbac glob.log --user dave", d.path());
  ASSERT_EQ(glob.exit_code, 0) << glob.err;
  EXPECT_NE(glob.err.find("1 request left out: RBAC cannot allow them exactly (a wildcard, or text "
                          "that is not UTF-8): get /api*"),
            std::string::npos)
      << glob.err;
  EXPECT_NE(glob.out.find("# Left out: 1 request that RBAC cannot allow exactly (e.g. get /api*)."),
            std::string::npos);
  EXPECT_NE(glob.out.find("- nonResourceURLs: [\"/api\"]\n"), std::string::npos) << glob.out;
  EXPECT_EQ(glob.out.find("/api*\""), std::string::npos);
  auto named = runCli("audit rbac audit.log --user dave --name dave-least", d.path());
  EXPECT_NE(named.out.find("  name: \"dave-least\"\n"), std::string::npos);
}

TEST(AuditRbac, WhatTheSubjectHoldsAndNeverUsed) {
  TempDir d;
  d.write("audit.log", handWrittenLog());
  d.write("rbac/current.yaml", R"(apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: web-dev, namespace: web}
rules:
- apiGroups: [""]
  resources: ["pods", "configmaps", "secrets"]
  verbs: ["get", "list", "delete"]
- apiGroups: ["batch"]
  resources: ["jobs"]
  verbs: ["create"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: dave-web-dev, namespace: web}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: web-dev}
subjects: [{kind: User, name: dave, apiGroup: rbac.authorization.k8s.io}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: everything}
rules:
- apiGroups: ["*"]
  resources: ["*"]
  verbs: ["*"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: devs-everything}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: everything}
subjects: [{kind: Group, name: devs, apiGroup: rbac.authorization.k8s.io}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: ops-everything}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: everything}
subjects: [{kind: Group, name: ops, apiGroup: rbac.authorization.k8s.io}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: dave-gone, namespace: web}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: gone}
subjects: [{kind: User, name: dave, apiGroup: rbac.authorization.k8s.io}]
)");
  auto r = runCli("audit rbac audit.log --user dave --rbac rbac", d.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // (dave is also an authenticated user: the cluster's default bindings give him discovery and
  // self-reviews; those are everyone's and counted apart)
  EXPECT_NE(r.out.find("# Held through the RBAC given (--rbac): 3 rules, 1 never used, 1 used in "
                       "part (4 more through the cluster's default bindings, not listed).\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("#   RoleBinding web/dave-web-dev -> Role web/web-dev rules[0] "
                       "(rbac/current.yaml:5): get, list, delete on pods, configmaps, secrets "
                       "(core): 4 distinct requests; verbs never used: delete; resources never "
                       "used: secrets\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("rules[1] (rbac/current.yaml:8): create on jobs (batch): never used\n"),
            std::string::npos);
  EXPECT_NE(r.out.find("#   RoleBinding web/dave-gone -> Role gone: not in the RBAC given; not "
                       "judged\n"),
            std::string::npos);
  // The wildcard rule (through dave's group) is used, and not broken down.
  EXPECT_EQ(r.out.find("devs-everything"), std::string::npos);
  EXPECT_EQ(r.out.find("ops-everything"), std::string::npos);  // not dave's
  auto j = runCli("audit rbac audit.log --user dave --rbac rbac -f json", d.path());
  rapidjson::Document doc;
  doc.Parse(j.out.c_str());
  ASSERT_FALSE(doc.HasParseError()) << j.out;
  ASSERT_EQ(doc["held"].Size(), 4u);
  EXPECT_EQ(std::string(doc["held"][3]["missingRole"].GetString()), "Role gone");
  EXPECT_EQ(std::string(doc["held"][1]["binding"].GetString()), "RoleBinding web/dave-web-dev");
  EXPECT_EQ(doc["held"][1]["requests"].GetUint64(), 0u);
  EXPECT_EQ(doc["held"][2]["requests"].GetUint64(), 10u + 2u);  // resources, impersonation checks
  EXPECT_EQ(std::string(doc["schema"].GetString()), "kubeharden/audit-rbac/v1");
}

TEST(AuditRbac, UsageAndInputErrors) {
  TempDir d;
  d.write("audit.log", handWrittenLog());
  d.write("notrbac.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n");
  d.write("bad.yaml", "a: [\n");
  auto none = runCli("audit rbac audit.log", d.path());
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find("name one subject"), std::string::npos);
  EXPECT_EQ(runCli("audit rbac audit.log --user a --group b", d.path()).exit_code, 2);
  auto sa = runCli("audit rbac audit.log --serviceaccount nonamespace", d.path());
  EXPECT_EQ(sa.exit_code, 2);
  EXPECT_NE(sa.err.find("'nonamespace' is not NAMESPACE:NAME"), std::string::npos);
  EXPECT_EQ(runCli("audit rbac audit.log --user dave --since yesterday", d.path()).exit_code, 2);
  auto nobody = runCli("audit rbac audit.log --user zoe", d.path());
  EXPECT_EQ(nobody.exit_code, 3);
  EXPECT_NE(nobody.err.find("no request by User zoe in the logs (14 lines read)"),
            std::string::npos)
      << nobody.err;
  EXPECT_TRUE(nobody.out.empty());
  auto window = runCli("audit rbac audit.log --user dave --since 2026-12-08", d.path());
  EXPECT_EQ(window.exit_code, 3);
  EXPECT_NE(window.err.find("requests outside --since/--until"), std::string::npos);
  auto missing = runCli("audit rbac nothere.log audit.log --user dave", d.path());
  EXPECT_EQ(missing.exit_code, 3);  // the rest is still read and answered
  EXPECT_NE(missing.err.find("nothere.log"), std::string::npos);
  EXPECT_NE(missing.out.find("kind: Role"), std::string::npos);
  auto notrbac = runCli("audit rbac audit.log --user dave --rbac notrbac.yaml", d.path());
  EXPECT_EQ(notrbac.exit_code, 3);
  EXPECT_NE(notrbac.err.find("no RBAC objects"), std::string::npos) << notrbac.err;
  auto bad = runCli("audit rbac audit.log --user dave --rbac bad.yaml", d.path());
  EXPECT_EQ(bad.exit_code, 3);
  EXPECT_NE(bad.err.find("bad.yaml:"), std::string::npos);
  // A user name JSON writers may escape turns the line filter off rather than miss lines.
  EXPECT_EQ(audit::RbacCollector(audit::RbacSubject::user("a<b")).lineFilter(), "");
  EXPECT_EQ(audit::RbacCollector(audit::RbacSubject::user("dave")).lineFilter(), "\"dave\"");
  auto esc = runCli("audit rbac - --user 'a<b'", d.path(),
                    event("e1", "a\\u003cb", "get", "/version", ""));
  EXPECT_EQ(esc.exit_code, 0) << esc.err;
  EXPECT_NE(esc.out.find("name: \"a<b\""), std::string::npos);
}

// The real kubectl reads the YAML as the objects the JSON output states: the YAML is plain
// Kubernetes YAML, and the two formats say the same thing. (Client dry run: kubectl maps the
// kinds through the fake API server's discovery and sends nothing.)
TEST(AuditRbac, KubectlReadsTheYamlAsTheJsonSaysIt) {
  if (::access(toolPath("kubectl").c_str(), X_OK) != 0 ||
      image::fixtures::shell("openssl version") != 0)
    GTEST_SKIP() << "needs kubectl (scripts/install-deps) and openssl";
  TempDir d;
  d.write("audit.log", handWrittenLog());
  Pki pki;
  std::string why;
  ASSERT_TRUE(pki.make(d, &why)) << why;
  FakeApiServer api(pki);
  api.addObjects(R"({"apiVersion":"v1","kind":"List","items":[
    {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"r","namespace":"web"}},
    {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"r","namespace":"web"}},
    {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"c"}},
    {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"c"}}]})");
  api.addToken("t0ken", "admin");
  api.start();
  std::string kubeconfig = api.writeKubeconfig(d, "t0ken");
  auto yaml = runCli("audit rbac audit.log --user dave --expand-verbs", d.path());
  auto json = runCli("audit rbac audit.log --user dave --expand-verbs -f json", d.path());
  ASSERT_EQ(yaml.exit_code, 0) << yaml.err;
  ASSERT_EQ(json.exit_code, 0) << json.err;
  d.write("rbac.yaml", yaml.out);
  std::string out;
  int rc = image::fixtures::shell(
      fmt::format("HOME={0} {1} --kubeconfig {2} create --dry-run=client --validate=false -f "
                  "{0}/rbac.yaml -o json 2>&1",
                  d.path(), toolPath("kubectl"), kubeconfig),
      &out);
  ASSERT_EQ(rc, 0) << out;
  // kubectl writes one pretty-printed object after another, each closed by a `}` alone on a line.
  rapidjson::Document ours;
  ours.Parse(json.out.c_str());
  ASSERT_FALSE(ours.HasParseError()) << json.out;
  const auto& objects = ours["objects"];
  ASSERT_EQ(objects.Size(), 6u);  // the cluster scope, web and prod: a role and a binding each
  size_t at = 0, n = 0;
  for (size_t end; (end = out.find("\n}\n", at)) != std::string::npos; at = end + 3, ++n) {
    rapidjson::Document k;
    k.Parse(out.data() + at, end + 2 - at);
    ASSERT_FALSE(k.HasParseError()) << out.substr(at, end + 2 - at);
    ASSERT_LT(n, objects.Size());
    EXPECT_TRUE(k == objects[static_cast<rapidjson::SizeType>(n)])
        << "object " << n << " differs:\n"
        << out.substr(at, end + 2 - at);
  }
  EXPECT_EQ(n, objects.Size()) << out;
}

}  // namespace audit_rbac_tests
}  // namespace kh::test
