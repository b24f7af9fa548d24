// Typed lists as the API server writes them (`kubectl get --raw /api/v1/pods`, client libraries):
// every analysis must say of a PodList, RoleBindingList, ... exactly what it says of the same
// objects written one per document. And an analysis with nothing to judge must say so (exit 3).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <re2/re2.h>

#include <algorithm>
#include <sstream>

#include "tests/unit/test_util.h"

namespace kh::test {
namespace {

struct ListOf {
  std::string_view api_version, kind;   // of the items
  std::vector<std::string_view> items;  // JSON bodies without apiVersion and kind
};

// Server-shaped objects: ownerReferences, status, a static pod mirrored from a node.
const std::vector<ListOf>& objects() {
  static const std::vector<ListOf> kObjects = {
      {"v1",
       "Namespace",
       {R"({"metadata": {"name": "shop", "labels": {"kubernetes.io/metadata.name": "shop",
            "pod-security.kubernetes.io/enforce": "restricted"}}, "status": {"phase": "Active"}})"}},
      {"v1",
       "Pod",
       {R"({"metadata": {"name": "web-5f7b9c8d4-abcde", "namespace": "shop",
            "labels": {"app": "web", "pod-template-hash": "5f7b9c8d4"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
              "name": "web-5f7b9c8d4", "uid": "u1", "controller": true, "blockOwnerDeletion": true}]},
          "spec": {"serviceAccountName": "web", "hostNetwork": true,
            "containers": [{"name": "web", "image": "shop/web:1.2",
              "ports": [{"containerPort": 8080, "protocol": "TCP"}],
              "securityContext": {"privileged": true}}],
            "volumes": [{"name": "scratch"}, {"name": "kube-api-access-x", "projected": {"sources": []}}]},
          "status": {"phase": "Running"}})",
        R"({"metadata": {"name": "etcd-cp1", "namespace": "kube-system",
            "labels": {"component": "etcd", "tier": "control-plane"},
            "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": "cp1", "uid": "n1",
              "controller": true}]},
          "spec": {"hostNetwork": true, "priorityClassName": "system-node-critical",
            "containers": [{"name": "etcd", "image": "registry.k8s.io/etcd:3.5.16-0",
              "volumeMounts": [{"name": "etcd-data", "mountPath": "/var/lib/etcd"}]}],
            "volumes": [{"name": "etcd-data", "hostPath": {"path": "/var/lib/etcd", "type": "DirectoryOrCreate"}}]}})",
        R"({"metadata": {"name": "debug", "namespace": "shop"},
          "spec": {"containers": [{"name": "sh", "image": "busybox",
            "securityContext": {"allowPrivilegeEscalation": false, "runAsNonRoot": true,
              "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}}]}})"}},
      {"rbac.authorization.k8s.io/v1",
       "RoleBinding",
       {R"({"metadata": {"name": "web-admin", "namespace": "shop"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
            "subjects": [{"kind": "ServiceAccount", "name": "web", "namespace": "shop"}]})"}},
      {"rbac.authorization.k8s.io/v1", "ClusterRole", {R"({"metadata": {"name": "secret-reader"},
            "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch"]}]})"}},
      {"rbac.authorization.k8s.io/v1",
       "ClusterRoleBinding",
       {R"({"metadata": {"name": "read-secrets"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "secret-reader"},
            "subjects": [{"kind": "Group", "name": "auditors", "apiGroup": "rbac.authorization.k8s.io"}]})"}},
      {"networking.k8s.io/v1",
       "NetworkPolicy",
       {R"({"metadata": {"name": "web", "namespace": "shop"},
            "spec": {"podSelector": {"matchLabels": {"app": "web"}},
              "ingress": [{"ports": [{"port": 8080}]}]}})"}},
  };
  return kObjects;
}

// One typed list per kind, as the API server answers a list request.
std::string asTypedLists() {
  std::string out;
  for (const ListOf& l : objects()) {
    out += fmt::format(
        R"({{"kind": "{}List", "apiVersion": "{}", "metadata": {{"resourceVersion": "42"}}, "items": [)",
        l.kind, l.api_version);
    for (size_t i = 0; i < l.items.size(); ++i) out += (i ? ",\n" : "\n") + std::string(l.items[i]);
    out += "]}\n---\n";
  }
  return out;
}

// The same objects one per document, each naming its kind.
std::string asDocuments() {
  std::string out;
  for (const ListOf& l : objects())
    for (std::string_view item : l.items)
      out += fmt::format("{{\"apiVersion\": \"{}\", \"kind\": \"{}\", {}\n---\n", l.api_version,
                         l.kind, item.substr(1));
  return out;
}

// Output lines with their leading FILE:LINE:COL (the only thing that may differ), sorted.
std::string withoutPositions(const std::string& out) {
  std::istringstream in(out);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    RE2::Replace(&line, R"(^(\s*)\S+:\d+:\d+ )", "\\1");
    // JSON and SARIF name the file and position, and the fingerprint hashes the file's name.
    RE2::GlobalReplace(
        &line, R"re("(file|line|column|startLine|startColumn|uri|fingerprint)":\s*("[^"]*"|\d+))re",
        "");
    lines.push_back(line);
  }
  std::sort(lines.begin(), lines.end());
  std::string joined;
  for (const std::string& l : lines) joined += l + "\n";
  return joined;
}

TEST(TypedLists, EveryAnalysisSaysTheSameAsOfOneObjectPerDocument) {
  TempDir d;
  std::string lists = d.write("lists.yaml", asTypedLists());
  std::string docs = d.write("docs.yaml", asDocuments());
  const std::vector<std::string> commands = {
      "scan --fail-on none",
      "scan --fail-on none -f json",
      "pss --level restricted",
      "pss --level baseline -f json",
      "pss --namespaces",
      "netpol connlist",
      "netpol lint --fail-on none",
      "rbac who-can get secrets",
      "rbac can sa:shop/web delete pods --namespace shop",
      "rbac risks --fail-on none",
      "rbac escalation",
      "rbac permissions sa:shop/web",
  };
  for (const std::string& c : commands) {
    SCOPED_TRACE(c);
    // Paths go last: some subcommands take positional arguments before them.
    auto a = runCli(c + " " + lists, d.path());
    auto b = runCli(c + " " + docs, d.path());
    EXPECT_EQ(a.exit_code, b.exit_code) << a.err << b.err;
    EXPECT_LT(a.exit_code, 2) << a.err;
    EXPECT_EQ(a.err, b.err);
    ASSERT_FALSE(a.out.empty());
    EXPECT_EQ(withoutPositions(a.out), withoutPositions(b.out));
  }
  // And the answers are about the objects in the lists, not empty: the privileged pod is found,
  // the static pod is its own workload, the ServiceAccount's grant is seen.
  auto scan = runCli("scan --fail-on none " + lists, d.path());
  EXPECT_NE(scan.out.find("pod-privileged"), std::string::npos) << scan.out;
  EXPECT_NE(scan.out.find("[Pod shop/web-5f7b9c8d4-abcde]"), std::string::npos) << scan.out;
  auto conn = runCli("netpol connlist " + lists, d.path());
  EXPECT_NE(conn.out.find("kube-system/etcd-cp1[Pod]"), std::string::npos) << conn.out;
  EXPECT_NE(conn.out.find("=> shop/web-5f7b9c8d4[ReplicaSet] : TCP 8080"), std::string::npos)
      << conn.out;
  auto can = runCli("rbac can sa:shop/web delete pods --namespace shop " + lists, d.path());
  EXPECT_EQ(can.exit_code, 0) << can.out << can.err;
  auto pss = runCli("pss --level restricted " + lists, d.path());
  EXPECT_EQ(pss.exit_code, 1);
  EXPECT_NE(pss.out.find("Pod shop/debug: allowed"), std::string::npos)
      << "a name-only volume is an emptyDir; " << pss.out;
  EXPECT_NE(pss.out.find("3 pods and pod templates"), std::string::npos) << pss.out;
}

TEST(TypedLists, AnalysesWithNothingToJudgeExit3) {
  TempDir d;
  std::string cm = d.write("cm.yaml",
                           R"({"kind": "ConfigMapList", "apiVersion": "v1", "items": [
  {"metadata": {"name": "settings", "namespace": "shop"}, "data": {"a": "b"}}]})");
  struct Case {
    std::string args, message;
  };
  const std::vector<Case> cases = {
      {"netpol connlist", "kubeharden netpol connlist: no workloads"},
      {"netpol eval --src shop/a --dst shop/b --port 80", "kubeharden netpol eval: no workloads"},
      {"netpol lint", "kubeharden netpol lint: no objects the network checks apply to"},
      {"rbac who-can get pods", "kubeharden rbac who-can: no RBAC objects"},
      {"rbac can user:alice get pods", "kubeharden rbac can: no RBAC objects"},
      {"rbac risks", "kubeharden rbac risks: no RBAC objects"},
      {"rbac escalation", "kubeharden rbac escalation: no RBAC objects"},
      {"rbac permissions user:alice", "kubeharden rbac permissions: no RBAC objects"},
      {"pss --level baseline", "kubeharden pss: no pods or pod templates"},
      {"pss --namespaces", "kubeharden pss --namespaces: no Namespaces, pods or pod templates"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.args);
    auto r = runCli(c.args + " " + cm, d.path());
    EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
  }
  // The other side: the same commands over objects they judge exit 0 or 1, not 3.
  std::string app = d.write("app.yaml", R"(apiVersion: v1
kind: Pod
metadata: {name: a, namespace: shop}
spec: {containers: [{name: c, image: x}]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: r, namespace: shop}
rules: [{apiGroups: [""], resources: [pods], verbs: [get]}]
)");
  for (const Case& c : cases) {
    if (c.args.starts_with("netpol eval")) continue;  // needs two workloads; covered elsewhere
    SCOPED_TRACE(c.args);
    auto r = runCli(c.args + " " + app, d.path());
    EXPECT_LT(r.exit_code, 2) << r.out << r.err;
  }
}

}  // namespace
}  // namespace kh::test
