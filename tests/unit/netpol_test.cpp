// NetworkPolicy analysis: connection-set algebra, IP ranges, the scenario fixtures of
// tests/netpol (exact connlist output), and the netpol CLI (eval, formats, errors).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <filesystem>
#include <set>

#include "netpol/analyzer.h"
#include "tests/unit/test_util.h"

namespace kh::test {
// Named, not anonymous: the using-directive below must not reach the files a unity build
// compiles after this one.
namespace netpol_tests {

using namespace kh::netpol;

TEST(ConnSet, UnionIntersectAndRendering) {
  PortSet a = PortSet::range(80, 80);
  a.add(PortSet::range(81, 90));
  a.add(PortSet::range(443, 443));
  EXPECT_EQ(a.toString(), "80-90,443");  // adjacent ranges merge
  EXPECT_EQ(a.intersect(PortSet::range(85, 500)).toString(), "85-90,443");
  EXPECT_TRUE(a.contains(443));
  EXPECT_FALSE(a.contains(91));
  ConnSet c;
  c.add(Protocol::kUDP, PortSet::range(53, 53));
  c.add(Protocol::kTCP, PortSet::all());
  c.add(Protocol::kSCTP, PortSet::range(9999, 9999));
  EXPECT_EQ(c.toString(), "SCTP 9999,TCP 1-65535,UDP 53");
  EXPECT_EQ(ConnSet::all().toString(), "All Connections");
  EXPECT_TRUE(ConnSet::all().intersect(c) == c);
  EXPECT_TRUE(c.intersect(ConnSet()).empty());
}

TEST(IpRanges, ParseAndFormat) {
  auto r = parseCidr("10.1.2.3/16");
  ASSERT_TRUE(r);
  EXPECT_EQ(formatRange(*r), "10.1.0.0-10.1.255.255");
  EXPECT_EQ(formatRange(*parseCidr("0.0.0.0/0")), "0.0.0.0-255.255.255.255");
  EXPECT_EQ(formatRange(*parseCidr("2001:db8::/32")),
            "2001:db8::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff");
  EXPECT_EQ(formatRange(*parseCidr("192.168.1.7")), "192.168.1.7-192.168.1.7");
  EXPECT_FALSE(parseCidr("10.0.0.0/33"));
  EXPECT_FALSE(parseCidr("not-an-ip"));
  EXPECT_TRUE(parseCidr("10.0.0.0/8")->contains(*parseCidr("10.2.0.0/16")));
  EXPECT_FALSE(parseCidr("10.0.0.0/8")->contains(*parseCidr("2001:db8::/32")));
}

std::string connlistText(const std::string& yaml) {
  auto f = loadText(yaml);
  std::vector<const Object*> objs;
  for (const Object& o : f->objects) objs.push_back(&o);
  Model m = buildModel(objs);
  Analyzer a(m);
  std::string out;
  for (const Connection& c : connectionList(a))
    out += c.src + " => " + c.dst + " : " + c.conns.toString() + "\n";
  return out;
}

class NetpolScenario : public ::testing::TestWithParam<std::string> {};

TEST_P(NetpolScenario, ConnlistMatchesExpected) {
  std::string base = std::string(KH_SOURCE_DIR) + "/tests/netpol/" + GetParam();
  std::string expected = readFile(base + ".txt");
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(connlistText(readFile(base + ".yaml")), expected);
  // The CLI prints the same lines.
  auto r = runCli("netpol connlist " + base + ".yaml");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, expected);
}

std::vector<std::string> scenarios() {
  std::vector<std::string> out;
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(KH_SOURCE_DIR) + "/tests/netpol"))
    if (e.path().extension() == ".yaml") out.push_back(e.path().stem().string());
  std::sort(out.begin(), out.end());
  return out;
}

INSTANTIATE_TEST_SUITE_P(Scenarios, NetpolScenario, ::testing::ValuesIn(scenarios()),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

TEST(Netpol, SelectorOperators) {
  std::string yaml = R"(apiVersion: v1
kind: Pod
metadata: {name: a, namespace: ns1, labels: {tier: db, env: prod}}
spec: {containers: [{name: c, image: x}]}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: ns1, labels: {tier: web}}
spec: {containers: [{name: c, image: x}]}
---
apiVersion: v1
kind: Pod
metadata: {name: c, namespace: ns1}
spec: {containers: [{name: c, image: x}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: ns1}
spec:
  podSelector:
    matchExpressions:
      - {key: tier, operator: NotIn, values: [web]}
      - {key: env, operator: DoesNotExist}
)";
  // (`namespace: n` would be the YAML 1.1 boolean false, as the API server reads it.)
  // Only c (no tier, no env) is selected and isolated: NotIn and DoesNotExist match a missing key.
  std::string out = connlistText(yaml);
  EXPECT_EQ(out.find("=> ns1/c[Pod]"), std::string::npos) << out;
  EXPECT_NE(out.find("ns1/b[Pod] => ns1/a[Pod] : All Connections"), std::string::npos) << out;
}

// The workload names of a connection list: every distinct "ns/name[Kind]" on either side.
std::set<std::string> workloadNames(const std::string& yaml) {
  auto f = loadText(yaml);
  std::vector<const Object*> objs;
  for (const Object& o : f->objects) objs.push_back(&o);
  Model m = buildModel(objs);
  std::set<std::string> out;
  for (const Workload& w : m.workloads) out.insert(w.display);
  return out;
}

constexpr const char* kPodOfReplicaSet = R"(apiVersion: v1
kind: Pod
metadata:
  name: web-5f7b9c8d4-abcde
  namespace: shop
  labels: {app: web, pod-template-hash: 5f7b9c8d4}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-5f7b9c8d4, uid: "1", controller: true}]
spec: {containers: [{name: c, image: x}]}
)";
constexpr const char* kReplicaSetOfDeployment = R"(---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-5f7b9c8d4
  namespace: shop
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: "2", controller: true}]
spec:
  template:
    metadata: {labels: {app: web, pod-template-hash: 5f7b9c8d4}}
    spec: {containers: [{name: c, image: x}]}
)";
constexpr const char* kDeployment = R"(---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: x}]}
)";

TEST(Netpol, WorkloadIdentityFollowsOwnersPresentInTheInput) {
  using Names = std::set<std::string>;
  // The pod alone: its ReplicaSet stands for it, present or not.
  EXPECT_EQ(workloadNames(kPodOfReplicaSet), Names{"shop/web-5f7b9c8d4[ReplicaSet]"});
  // With the ReplicaSet but without its Deployment: still the ReplicaSet, one peer.
  EXPECT_EQ(workloadNames(std::string(kPodOfReplicaSet) + kReplicaSetOfDeployment),
            Names{"shop/web-5f7b9c8d4[ReplicaSet]"});
  // With the Deployment: everything is the Deployment, with or without the ReplicaSet between.
  EXPECT_EQ(workloadNames(std::string(kPodOfReplicaSet) + kReplicaSetOfDeployment + kDeployment),
            Names{"shop/web[Deployment]"});
  EXPECT_EQ(workloadNames(std::string(kPodOfReplicaSet) + kDeployment),
            Names{"shop/web[Deployment]"});
  // A Deployment of another name (or in another namespace) claims nothing.
  std::string other = kDeployment;
  other.replace(other.find("name: web"), 9, "name: api");
  EXPECT_EQ(workloadNames(std::string(kPodOfReplicaSet) + other),
            (Names{"shop/api[Deployment]", "shop/web-5f7b9c8d4[ReplicaSet]"}));

  // A CronJob's Job and its pod: the CronJob when present.
  std::string job = R"(apiVersion: v1
kind: Pod
metadata:
  name: backup-29000000-x1
  namespace: ops
  ownerReferences: [{apiVersion: batch/v1, kind: Job, name: backup-29000000, uid: "3", controller: true}]
spec: {containers: [{name: c, image: x}]}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: backup-29000000
  namespace: ops
  ownerReferences: [{apiVersion: batch/v1, kind: CronJob, name: backup, uid: "4", controller: true}]
spec: {template: {spec: {containers: [{name: c, image: x}]}}}
)";
  EXPECT_EQ(workloadNames(job), Names{"ops/backup-29000000[Job]"});
  EXPECT_EQ(workloadNames(job + R"(---
apiVersion: batch/v1
kind: CronJob
metadata: {name: backup, namespace: ops}
spec: {schedule: "@daily", jobTemplate: {spec: {template: {spec: {containers: [{name: c, image: x}]}}}}}
)"),
            Names{"ops/backup[CronJob]"});

  // Mirror pods of static manifests name their Node as controller: each is its own workload.
  std::string statics;
  for (const char* name : {"etcd-cp1", "kube-apiserver-cp1", "kube-scheduler-cp1"})
    statics += fmt::format(R"(---
apiVersion: v1
kind: Pod
metadata:
  name: {}
  namespace: kube-system
  ownerReferences: [{{apiVersion: v1, kind: Node, name: cp1, uid: "5", controller: true}}]
spec: {{hostNetwork: true, containers: [{{name: c, image: x}}]}}
)",
                           name);
  EXPECT_EQ(workloadNames(statics),
            (Names{"kube-system/etcd-cp1[Pod]", "kube-system/kube-apiserver-cp1[Pod]",
                   "kube-system/kube-scheduler-cp1[Pod]"}));
  // A Pod without an owner is a [Pod], in a typed list too (its kind comes from the list).
  EXPECT_EQ(workloadNames(R"({"kind": "PodList", "apiVersion": "v1", "items": [
  {"metadata": {"name": "debug", "namespace": "shop"}, "spec": {"containers": [{"name": "c", "image": "x"}]}}]})"),
            Names{"shop/debug[Pod]"});
}

const char* kApp = R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: backend}
spec:
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: api, image: x, ports: [{name: http, containerPort: 8080}]}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: frontend}
spec:
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: x}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-in, namespace: backend}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress:
    - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: frontend}}}]
      ports: [{port: http}]
)";

TEST(NetpolCli, EvalAllowedDeniedAndExplained) {
  TempDir d;
  std::string f = d.write("app.yaml", kApp);
  auto ok = runCli("netpol eval --src frontend/web --dst backend/api --port 8080 " + f);
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("frontend/web[Deployment] => backend/api[Deployment] : TCP 8080: allowed"),
            std::string::npos)
      << ok.out;
  EXPECT_NE(ok.out.find("egress of the source: allowed: no NetworkPolicy selects the pod"),
            std::string::npos);
  EXPECT_NE(ok.out.find("rule 0 of backend/api-in allows TCP 8080"), std::string::npos);
  auto udp = runCli("netpol eval --src frontend/web --dst backend/api --port 8080/UDP " + f);
  EXPECT_EQ(udp.exit_code, 1);
  EXPECT_NE(udp.out.find(": denied"), std::string::npos);
  auto ip = runCli("netpol eval --src 203.0.113.9 --dst backend/api --port 8080 " + f);
  EXPECT_EQ(ip.exit_code, 1);
  EXPECT_NE(ip.out.find("no rule of these policies admits this peer"), std::string::npos) << ip.out;
  EXPECT_EQ(runCli("netpol eval --src frontend/web --dst backend/nope --port 80 " + f).exit_code,
            2);
  EXPECT_EQ(runCli("netpol eval --src frontend/web --dst backend/api --port 70000 " + f).exit_code,
            2);
  EXPECT_EQ(
      runCli("netpol eval --src frontend/web --dst backend/api --port 80/ICMP " + f).exit_code, 2);
}

TEST(NetpolCli, Formats) {
  TempDir d;
  std::string f = d.write("app.yaml", kApp);
  auto j = runCli("netpol connlist --format json " + f);
  rapidjson::Document doc;
  doc.Parse(j.out.c_str());
  ASSERT_FALSE(doc.HasParseError());
  EXPECT_STREQ(doc["schema"].GetString(), "kubeharden/netpol-connlist/v1");
  bool found = false;
  for (const auto& c : doc["connections"].GetArray())
    if (std::string(c["src"].GetString()) == "frontend/web[Deployment]" &&
        std::string(c["dst"].GetString()) == "backend/api[Deployment]") {
      found = true;
      EXPECT_STREQ(c["conn"].GetString(), "TCP 8080");
    }
  EXPECT_TRUE(found);
  auto csv = runCli("netpol connlist --format csv " + f);
  EXPECT_EQ(csv.out.rfind("src,dst,conn\n", 0), 0u);
  EXPECT_NE(csv.out.find("frontend/web[Deployment],backend/api[Deployment],TCP 8080\n"),
            std::string::npos)
      << csv.out;
  auto md = runCli("netpol connlist --format md " + f);
  EXPECT_NE(md.out.find("| frontend/web[Deployment] | backend/api[Deployment] | TCP 8080 |"),
            std::string::npos);
  auto dot = runCli("netpol connlist --format dot " + f);
  EXPECT_EQ(dot.out.rfind("digraph {", 0), 0u);
  EXPECT_NE(dot.out.find("label=\"backend\""), std::string::npos);
  EXPECT_NE(dot.out.find(
                "\"frontend/web[Deployment]\" -> \"backend/api[Deployment]\" [label=\"TCP 8080\"]"),
            std::string::npos)
      << dot.out;
  EXPECT_EQ(runCli("netpol connlist --format svg " + f).exit_code, 2);
  TempDir empty;
  EXPECT_EQ(runCli("netpol connlist " + empty.path()).exit_code, 3);
}

TEST(NetpolCli, LintRunsEveryNetworkCheck) {
  TempDir d;
  std::string f = d.write(
      "app.yaml",
      std::string("apiVersion: v1\nkind: Namespace\nmetadata: {name: backend}\n---\n") + kApp);
  auto r = runCli("netpol lint " + f);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(
      r.out.find("medium network-no-default-deny namespace backend has no default-deny ingress"),
      std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("low network-workload-not-isolated frontend/web[Deployment] is not selected "
                       "by any NetworkPolicy for ingress"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("pod-privileged"), std::string::npos) << "only network checks";
  EXPECT_EQ(runCli("netpol lint --fail-on high " + f).exit_code, 0);
  auto j = runCli("netpol lint --format json " + f);
  rapidjson::Document doc;
  doc.Parse(j.out.c_str());
  ASSERT_FALSE(doc.HasParseError());
  EXPECT_STREQ(doc["findings"][0]["rule"].GetString(), "ingress");
}

}  // namespace netpol_tests
}  // namespace kh::test
