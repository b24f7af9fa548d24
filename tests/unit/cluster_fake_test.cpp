// The fake API server speaks the protocol: the real kubectl, authenticated by a client
// certificate or a bearer token, lists every type from it in small chunks and gets the objects
// it serves; faults (401, 403, 410, 429) reach kubectl as a real server's would.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <unistd.h>

#include <set>

#include "tests/unit/fake_apiserver.h"
#include "tests/unit/image_util.h"
#include "tests/unit/test_util.h"

namespace kh::test {
namespace {

using image::fixtures::shell;

// A small cluster as `kubectl get -o json` writes it.
std::string smallCluster() {
  std::string items;
  auto add = [&](const std::string& o) { items += (items.empty() ? "" : ",") + o; };
  for (const char* ns : {"default", "shop", "kube-system"})
    add(fmt::format(
        R"({{"apiVersion":"v1","kind":"Namespace","metadata":{{"name":"{0}","labels":{{"kubernetes.io/metadata.name":"{0}"}}}}}})",
        ns));
  for (int i = 0; i < 7; ++i)
    add(fmt::format(
        R"({{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"web-{0}","namespace":"{1}","uid":"u{0}"}},"spec":{{"containers":[{{"name":"app","image":"nginx:1.27"}}]}}}})",
        i, i < 5 ? "shop" : "default"));
  for (int i = 0; i < 3; ++i)
    add(fmt::format(
        R"({{"apiVersion":"apps/v1","kind":"Deployment","metadata":{{"name":"d{}","namespace":"shop"}},"spec":{{"selector":{{"matchLabels":{{"app":"x"}}}},"template":{{"metadata":{{"labels":{{"app":"x"}}}},"spec":{{"containers":[{{"name":"c","image":"busybox"}}]}}}}}}}})",
        i));
  add(R"({"apiVersion":"v1","kind":"Node","metadata":{"name":"node-1"}})");
  add(R"({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"view"},"rules":[]})");
  add(R"({"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"deny","namespace":"shop"},"spec":{"podSelector":{}}})");
  return R"({"apiVersion":"v1","kind":"List","items":[)" + items + "]}";
}

struct Fixture {
  TempDir d;
  Pki pki;
  std::unique_ptr<FakeApiServer> api;
  bool start(std::string* why) {
    if (!pki.make(d, why)) return false;
    api = std::make_unique<FakeApiServer>(pki);
    api->addObjects(smallCluster());
    api->addToken("t0ken-of-bob", "bob");
    return true;
  }
  std::string kubeconfig(const std::string& user_block) {
    return d.write("kubeconfig", fmt::format(R"(apiVersion: v1
kind: Config
current-context: fake
clusters:
  - name: fake
    cluster: {{server: "{}", certificate-authority: {}}}
users:
  - name: u
    user: {}
contexts:
  - name: fake
    context: {{cluster: fake, user: u}}
)",
                                             api->url(), pki.path("ca.pem"), user_block));
  }
  // kubectl with this kubeconfig; stdout (and stderr when it fails) in `out`.
  // stderr (kubectl's warnings, such as an unavailable API group) goes to `err`.
  int kubectl(const std::string& kubeconfig, const std::string& args, std::string* out,
              std::string* err = nullptr) {
    out->clear();
    int rc = shell(fmt::format("(HOME={} {} --kubeconfig {} {} 2>{}/kubectl.err)", d.path(),
                               toolPath("kubectl"), kubeconfig, args, d.path()),
                   out);
    std::string e = readFile(d.path() + "/kubectl.err");
    if (rc != 0) *out += e;
    if (err) *err = e;
    return rc;
  }
};

#define KH_NEED_KUBECTL()                                                                \
  if (::access(toolPath("kubectl").c_str(), X_OK) != 0 || shell("openssl version") != 0) \
  GTEST_SKIP() << "needs kubectl (scripts/install-deps) and openssl"

std::set<std::string> namesIn(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.c_str());
  std::set<std::string> out;
  if (!d.IsObject() || !d.HasMember("items")) return out;
  for (const auto& i : d["items"].GetArray())
    out.insert(std::string(i["metadata"].HasMember("namespace")
                               ? i["metadata"]["namespace"].GetString()
                               : "") +
               "/" + i["kind"].GetString() + "/" + i["metadata"]["name"].GetString());
  return out;
}

TEST(FakeApiServer, KubectlListsEveryTypeInSmallChunks) {
  KH_NEED_KUBECTL();
  Fixture f;
  std::string why;
  ASSERT_TRUE(f.start(&why)) << why;
  f.api->start();
  std::string cert = f.kubeconfig(fmt::format("{{client-certificate: {}, client-key: {}}}",
                                              f.pki.path("alice.pem"), f.pki.path("alice.key")));
  std::string out;
  ASSERT_EQ(f.kubectl(cert, "get pods -A -o json --chunk-size 2", &out), 0) << out;
  std::set<std::string> pods;
  for (int i = 0; i < 7; ++i)
    pods.insert(fmt::format("{}/Pod/web-{}", i < 5 ? "shop" : "default", i));
  EXPECT_EQ(namesIn(out), pods);
  ASSERT_EQ(f.kubectl(cert, "get pods -n shop -o json --chunk-size 3", &out), 0) << out;
  EXPECT_EQ(namesIn(out).size(), 5u) << out;
  ASSERT_EQ(f.kubectl(cert,
                      "get deployments.apps,networkpolicies,nodes,clusterroles,namespaces "
                      "-A -o json --chunk-size 1",
                      &out),
            0)
      << out;
  EXPECT_EQ(namesIn(out), (std::set<std::string>{
                              "shop/Deployment/d0", "shop/Deployment/d1", "shop/Deployment/d2",
                              "shop/NetworkPolicy/deny", "/Node/node-1", "/ClusterRole/view",
                              "/Namespace/default", "/Namespace/shop", "/Namespace/kube-system"}));
  // Small chunks: the pods came in four pages, each continuing the last.
  size_t pages = 0;
  for (const ApiRequest& r : f.api->requests()) {
    EXPECT_EQ(r.method, "GET") << r.target;
    EXPECT_EQ(r.user, "alice") << r.target;
    if (r.target.starts_with("/api/v1/pods?")) ++pages;
  }
  EXPECT_EQ(pages, 4u);
  // kubectl discovered the types through our aggregated discovery (apidiscovery.k8s.io/v2): it
  // asked for it, and needed no per-group request.
  bool aggregated = false;
  for (const ApiRequest& r : f.api->requests()) {
    if (r.target == "/apis" || r.target.starts_with("/apis?"))
      aggregated |=
          r.accept.find("g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList") != std::string::npos;
    EXPECT_FALSE(r.target == "/apis/apps/v1" || r.target.starts_with("/apis/apps/v1?")) << r.target;
  }
  EXPECT_TRUE(aggregated);

  // A bearer token; a wrong one is refused; a certificate of another CA fails the handshake.
  std::string token = f.kubeconfig("{token: t0ken-of-bob}");
  ASSERT_EQ(f.kubectl(token, "get nodes -o json", &out), 0) << out;
  EXPECT_EQ(namesIn(out), std::set<std::string>{"/Node/node-1"});
  EXPECT_EQ(f.api->requests().back().user, "token:bob");
  std::string wrong = f.kubeconfig("{token: not-a-token}");
  EXPECT_NE(f.kubectl(wrong, "get nodes -o json", &out), 0);
  EXPECT_NE(out.find("Unauthorized"), std::string::npos) << out;
  std::string mallory =
      f.kubeconfig(fmt::format("{{client-certificate: {}, client-key: {}}}",
                               f.pki.path("mallory.pem"), f.pki.path("mallory.key")));
  EXPECT_NE(f.kubectl(mallory, "get nodes -o json", &out), 0);
}

TEST(FakeApiServer, FaultsReachKubectlAsARealServersWould) {
  KH_NEED_KUBECTL();
  Fixture f;
  std::string why;
  ASSERT_TRUE(f.start(&why)) << why;
  f.api->forbid("nodes");
  f.api->expireFirstContinue("pods");
  f.api->staleGroup("networking.k8s.io/v1");
  f.api->start();
  std::string cert = f.kubeconfig(fmt::format("{{client-certificate: {}, client-key: {}}}",
                                              f.pki.path("alice.pem"), f.pki.path("alice.key")));
  std::string out;
  EXPECT_NE(f.kubectl(cert, "get nodes -o json", &out), 0);
  EXPECT_NE(out.find("nodes is forbidden: User \"alice\" cannot list resource \"nodes\""),
            std::string::npos)
      << out;
  EXPECT_NE(f.kubectl(cert, "get pods -A -o json --chunk-size 2", &out), 0);
  EXPECT_NE(out.find("continue parameter is too old"), std::string::npos) << out;
  // Once only: the next list goes through. The stale group is only a warning.
  std::string err;
  ASSERT_EQ(f.kubectl(cert, "get pods -A -o json --chunk-size 2", &out, &err), 0) << out;
  EXPECT_EQ(namesIn(out).size(), 7u) << out.substr(0, 300);
  // Aggregated discovery marks the group stale: kubectl knows its types no more.
  EXPECT_NE(f.kubectl(cert, "get networkpolicies -A -o json", &out, &err), 0);
  EXPECT_NE(err.find("the server doesn't have a resource type \"networkpolicies\""),
            std::string::npos)
      << err;
  // 429 with Retry-After: kubectl waits and retries.
  f.api->throttle(1);
  ASSERT_EQ(f.kubectl(cert, "get deployments.apps -A -o json", &out), 0) << out;
  EXPECT_EQ(namesIn(out).size(), 3u);
  bool saw429 = false;
  for (const ApiRequest& r : f.api->requests()) saw429 |= r.status == 429;
  EXPECT_TRUE(saw429);
  // Legacy discovery (a server before aggregated discovery): kubectl walks the groups and warns
  // of the stale one.
  Fixture legacy;
  ASSERT_TRUE(legacy.start(&why)) << why;
  legacy.api->legacyDiscoveryOnly();
  legacy.api->staleGroup("networking.k8s.io/v1");
  legacy.api->start();
  std::string token = legacy.kubeconfig("{token: t0ken-of-bob}");
  ASSERT_EQ(legacy.kubectl(token, "get pods -A -o json", &out, &err), 0) << out;
  EXPECT_EQ(namesIn(out).size(), 7u);
  EXPECT_NE(err.find("couldn't get resource list for networking.k8s.io/v1"), std::string::npos)
      << err;
}

}  // namespace
}  // namespace kh::test
