// Reading a cluster through cluster::Api against the fake API server: every authentication
// method, the server's CA alone, tls-server-name, insecure-skip-tls-verify, impersonation;
// discovery with an unavailable group; paginated lists with an expired continue token, a
// forbidden type and throttling; nothing but GET sent.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>

#include "cluster/api.h"
#include "cluster/kubeconfig.h"
#include "base/strings.h"
#include "cluster/read.h"
#include "tests/unit/fake_apiserver.h"
#include "tests/unit/image_util.h"
#include "tests/unit/test_util.h"

namespace kh::cluster {
namespace {

using test::ApiRequest;
using test::FakeApiServer;
using test::Pki;
using test::TempDir;

std::string smallList() {
  std::string items;
  auto add = [&](const std::string& o) { items += (items.empty() ? "" : ",") + o; };
  for (int i = 0; i < 7; ++i)
    add(fmt::format(
        R"({{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"p{}","namespace":"shop"}},"spec":{{"containers":[{{"name":"c","image":"nginx"}}]}}}})",
        i));
  add(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","namespace":"shop"},"spec":{}})");
  add(R"({"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"}})");
  add(R"({"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"np","namespace":"shop"},"spec":{}})");
  return R"({"apiVersion":"v1","kind":"List","items":[)" + items + "]}";
}

struct Env {
  TempDir d;
  Pki pki;
  std::unique_ptr<FakeApiServer> api;
  bool make(std::string* why) {
    if (image::fixtures::shell("openssl version") != 0) {
      *why = "needs openssl";
      return false;
    }
    if (!pki.make(d, why)) return false;
    api = std::make_unique<FakeApiServer>(pki);
    api->addObjects(smallList());
    api->addToken("tok-1", "bob");
    api->addToken("tok-2", "carol");
    api->addBasic("dave", "pw");
    return true;
  }
  Connection conn(const std::string& user_yaml, const std::string& cluster_extra = "") {
    std::string k = d.write("kubeconfig", fmt::format(R"(current-context: c
clusters: [{{name: k, cluster: {{server: "{}"{}}}}}]
users: [{{name: u, user: {}}}]
contexts: [{{name: c, context: {{cluster: k, user: u}}}}]
)",
                                                      api->url(), cluster_extra, user_yaml));
    auto cfg = parseKubeConfig(test::readFile(k), k);
    EXPECT_TRUE(cfg) << cfg.error().describe();
    auto c = resolveConnection(cfg.value(), {});
    EXPECT_TRUE(c) << c.error().describe();
    return c.value();
  }
  std::string ca() const { return ", certificate-authority: " + pki.path("ca.pem"); }
  // Who the server says a GET of /api/v1 was from, or the error.
  std::string whoAmI(const Connection& c) {
    auto a = Api::create(c, {.timeout = std::chrono::seconds(5), .max_attempts = 1});
    if (!a) return "create: " + a.error().describe();
    auto r = a.value()->get("/api/v1");
    if (!r) return "error: " + r.error().describe();
    if (r.value().status != 200) return fmt::format("status {}", r.value().status);
    return api->requests().back().user;
  }
};

#define KH_FAKE_API(env)                      \
  Env env;                                    \
  {                                           \
    std::string why;                          \
    if (!env.make(&why)) GTEST_SKIP() << why; \
  }

TEST(ClusterApi, EveryAuthenticationMethodAndTlsSetting) {
  KH_FAKE_API(e);
  e.api->start();
  std::string alice = fmt::format("{{client-certificate: {}, client-key: {}}}",
                                  e.pki.path("alice.pem"), e.pki.path("alice.key"));
  EXPECT_EQ(e.whoAmI(e.conn(alice, e.ca())), "alice");
  // Certificate and key as data.
  std::string inline_cert = fmt::format("{{client-certificate-data: {}, client-key-data: {}}}",
                                        base64Encode(test::readFile(e.pki.path("alice.pem"))),
                                        base64Encode(test::readFile(e.pki.path("alice.key"))));
  std::string ca_data =
      ", certificate-authority-data: " + base64Encode(test::readFile(e.pki.path("ca.pem")));
  EXPECT_EQ(e.whoAmI(e.conn(inline_cert, ca_data)), "alice");
  EXPECT_EQ(e.whoAmI(e.conn("{token: tok-1}", e.ca())), "token:bob");
  EXPECT_EQ(e.whoAmI(e.conn("{username: dave, password: pw}", e.ca())), "basic:dave");
  EXPECT_EQ(e.whoAmI(e.conn("{token: wrong}", e.ca())), "status 401");
  // A token file is read again for every request: a rotated token is used at once.
  std::string token_file = e.d.write("token", "tok-1\n");
  Connection tf = e.conn(fmt::format("{{tokenFile: {}}}", token_file), e.ca());
  auto api = Api::create(tf, {});
  ASSERT_TRUE(api) << api.error().describe();
  ASSERT_TRUE(api.value()->get("/api/v1"));
  EXPECT_EQ(e.api->requests().back().user, "token:bob");
  e.d.write("token", "tok-2");
  ASSERT_TRUE(api.value()->get("/api/v1"));
  EXPECT_EQ(e.api->requests().back().user, "token:carol");
  // Impersonation headers.
  Connection imp = e.conn("{token: tok-1, as: admin, as-groups: [ops, dev]}", e.ca());
  EXPECT_EQ(e.whoAmI(imp), "token:bob");
  EXPECT_EQ(e.api->requests().back().impersonate, "admin,ops,dev");

  // Only the kubeconfig's CA is trusted: another CA's name for the server fails TLS.
  std::string other = ", certificate-authority: " + e.pki.path("other-ca.pem");
  std::string r = e.whoAmI(e.conn("{token: tok-1}", other));
  EXPECT_TRUE(r.starts_with("error: TLS with")) << r;
  // No CA at all: the system roots, which do not know the fake's CA.
  r = e.whoAmI(e.conn("{token: tok-1}"));
  EXPECT_TRUE(r.starts_with("error: TLS with")) << r;
  // insecure-skip-tls-verify works, and says what it costs.
  Connection insecure = e.conn("{token: tok-1}", ", insecure-skip-tls-verify: true");
  EXPECT_EQ(e.whoAmI(insecure), "token:bob");
  auto ia = Api::create(insecure, {});
  ASSERT_TRUE(ia);
  ASSERT_EQ(ia.value()->warnings().size(), 1u);
  EXPECT_NE(ia.value()->warnings()[0].find("not verified"), std::string::npos);
  // tls-server-name: the certificate is checked for that name, the address is the server's.
  Connection named = e.conn("{token: tok-1}", e.ca() + ", tls-server-name: kubernetes.default");
  EXPECT_EQ(e.whoAmI(named), "token:bob");
  Connection misnamed = e.conn("{token: tok-1}", e.ca() + ", tls-server-name: elsewhere.example");
  r = e.whoAmI(misnamed);
  EXPECT_TRUE(r.starts_with("error: TLS with")) << r;
  // Unreadable credentials name the file, and no secret appears in any message.
  Connection missing = e.conn("{client-certificate: /nonexistent.pem, client-key: k}", e.ca());
  EXPECT_EQ(e.whoAmI(missing), "create: /nonexistent.pem: cannot read the client certificate");
  for (const ApiRequest& q : e.api->requests()) EXPECT_EQ(q.method, "GET");
}

TEST(ClusterRead, DiscoveryAndPaginatedListsWithFaults) {
  KH_FAKE_API(e);
  e.api->staleGroup("networking.k8s.io/v1");
  e.api->expireFirstContinue("pods");
  e.api->forbid("nodes");
  e.api->start();
  auto api = Api::create(e.conn("{token: tok-1}", e.ca()), {});
  ASSERT_TRUE(api) << api.error().describe();
  auto d = discover(*api.value());
  ASSERT_TRUE(d) << d.error().describe();
  EXPECT_EQ(d.value().git_version, "v1.31.2");
  std::map<std::string, ResourceType> types;
  for (const ResourceType& t : d.value().types) types[t.apiVersion() + "/" + t.resource] = t;
  ASSERT_TRUE(types.count("v1/pods"));
  ASSERT_TRUE(types.count("apps/v1/deployments"));
  EXPECT_TRUE(types.count("v1/namespaces"));
  EXPECT_FALSE(types["v1/nodes"].namespaced);
  EXPECT_EQ(types["apps/v1/deployments"].listPath("shop"),
            "/apis/apps/v1/namespaces/shop/deployments");
  ASSERT_EQ(d.value().unavailable.size(), 1u);
  EXPECT_EQ(d.value().unavailable[0].first, "networking.k8s.io/v1");

  // Pods in pages of 2: the first continue token has expired, so the list starts over once.
  std::vector<std::string> pages;
  auto pods = listType(*api.value(), types["v1/pods"], {.page_size = 2},
                       [&](std::string p) { pages.push_back(std::move(p)); });
  EXPECT_EQ(pods.state, TypeCoverage::State::kRead);
  EXPECT_TRUE(pods.restarted);
  EXPECT_EQ(pods.objects, 7u);
  EXPECT_EQ(pods.pages, 4u);
  ASSERT_EQ(pages.size(), 4u);  // only the successful attempt's pages
  EXPECT_NE(pages[0].find(R"("kind":"PodList")"), std::string::npos);
  // Forbidden: recorded with the server's message, nothing delivered.
  pages.clear();
  auto nodes = listType(*api.value(), types["v1/nodes"], {},
                        [&](std::string p) { pages.push_back(std::move(p)); });
  EXPECT_EQ(nodes.state, TypeCoverage::State::kForbidden);
  EXPECT_NE(nodes.message.find("cannot list resource \"nodes\""), std::string::npos)
      << nodes.message;
  EXPECT_TRUE(pages.empty());
  // Throttled: the client waits as Retry-After says and goes on.
  e.api->throttle(1);
  auto deps = listType(*api.value(), types["apps/v1/deployments"], {}, [](std::string) {});
  EXPECT_EQ(deps.state, TypeCoverage::State::kRead);
  EXPECT_EQ(deps.objects, 1u);
  for (const ApiRequest& q : e.api->requests()) EXPECT_EQ(q.method, "GET") << q.target;
  EXPECT_GT(api.value()->requests(), 5u);
  EXPECT_GT(api.value()->bytes(), 500u);
}

}  // namespace
}  // namespace kh::cluster
