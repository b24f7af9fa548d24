// Reading a cluster through cluster::Api against the fake API server: every authentication
// method, the server's CA alone, tls-server-name, insecure-skip-tls-verify, impersonation;
// discovery with an unavailable group; paginated lists with an expired continue token, a
// forbidden type and throttling; nothing but GET sent.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "base/strings.h"
#include "cluster/api.h"
#include "cluster/kubeconfig.h"
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
  // Aggregated discovery: /api and /apis, no per-group request.
  EXPECT_TRUE(d.value().aggregated);
  for (const ApiRequest& r : e.api->requests())
    EXPECT_FALSE(r.target == "/api/v1" || r.target.starts_with("/apis/apps/v1")) << r.target;

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

// The client-side rate limit: at 5 requests per second with no burst, six requests cannot take
// less than a second (a lower bound only: a slow machine only makes it longer).
// A server without aggregated discovery (before 1.26) answers the legacy form: the same types
// through the legacy walk, a stale group still only unavailable.
TEST(ClusterRead, LegacyDiscoveryFallback) {
  std::vector<std::string> aggregated_types;
  for (bool legacy : {false, true}) {
    KH_FAKE_API(e);
    e.api->staleGroup("networking.k8s.io/v1");
    if (legacy) e.api->legacyDiscoveryOnly();
    e.api->start();
    auto api = Api::create(e.conn("{token: tok-1}", e.ca()), {});
    ASSERT_TRUE(api) << api.error().describe();
    auto d = discover(*api.value());
    ASSERT_TRUE(d) << d.error().describe();
    EXPECT_EQ(d.value().aggregated, !legacy);
    std::vector<std::string> types;
    for (const ResourceType& t : d.value().types)
      types.push_back(fmt::format("{} {} {} {}", t.apiVersion(), t.resource, t.kind,
                                  t.namespaced ? "namespaced" : "cluster"));
    std::sort(types.begin(), types.end());
    EXPECT_GE(types.size(), 3u);
    ASSERT_EQ(d.value().unavailable.size(), 1u);
    EXPECT_EQ(d.value().unavailable[0].first, "networking.k8s.io/v1");
    bool per_group = false;
    for (const ApiRequest& r : e.api->requests()) per_group |= r.target == "/apis/apps/v1";
    EXPECT_EQ(per_group, legacy);
    if (!legacy)
      aggregated_types = types;
    else
      EXPECT_EQ(types, aggregated_types);
  }
}

TEST(ClusterApi, RateLimitSpacesRequests) {
  KH_FAKE_API(e);
  e.api->start();
  auto api = Api::create(e.conn("{token: tok-1}", e.ca()), {.qps = 5, .burst = 1});
  ASSERT_TRUE(api) << api.error().describe();
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(api.value()->get("/api/v1"));
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GE(took, 0.95);
  EXPECT_EQ(e.api->requests().size(), 6u);
}

// exec credential plugins: a shell script standing in for aws/gke-gcloud-auth-plugin/kubelogin.
TEST(ClusterApi, ExecCredentialPlugins) {
  KH_FAKE_API(e);
  e.api->start();
  std::string dir = e.d.path();
  // Answers with DIR/answer, or DIR/first once when it exists; records runs and its input.
  std::string plugin = e.d.write("plugin.sh", R"(#!/bin/sh
echo run >> "$DIR/runs"
printf '%s' "$KUBERNETES_EXEC_INFO" > "$DIR/info"
if [ -f "$DIR/first" ]; then cat "$DIR/first"; rm "$DIR/first"; exit 0; fi
if [ -f "$DIR/fail" ]; then echo "boom: no session" >&2; exit 3; fi
cat "$DIR/answer"
)");
  ASSERT_EQ(::chmod(plugin.c_str(), 0755), 0);
  auto cred = [](const std::string& status) {
    return R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":)" +
           status + "}";
  };
  auto user = [&](const std::string& extra = "") {
    return fmt::format(
        "{{exec: {{apiVersion: client.authentication.k8s.io/v1, command: {}, args: [get-token], "
        "env: [{{name: DIR, value: {}}}], interactiveMode: Never, provideClusterInfo: true, "
        "installHint: 'install the plugin'{}}}}}",
        plugin, dir, extra);
  };
  auto runs = [&] {
    std::string r = test::readFile(dir + "/runs");
    return std::count(r.begin(), r.end(), '\n');
  };
  // A token, kept for the process when it does not expire.
  e.d.write("answer", cred(R"({"token":"tok-1"})"));
  auto api = Api::create(e.conn(user(), e.ca()), {});
  ASSERT_TRUE(api) << api.error().describe();
  for (int i = 0; i < 3; ++i) {
    auto r = api.value()->get("/api/v1");
    ASSERT_TRUE(r) << r.error().describe();
    EXPECT_EQ(r.value().status, 200);
  }
  EXPECT_EQ(e.api->requests().back().user, "token:bob");
  EXPECT_EQ(runs(), 1);
  std::string info = test::readFile(dir + "/info");
  EXPECT_NE(
      info.find(R"("kind":"ExecCredential","spec":{"interactive":false,"cluster":{"server":")" +
                e.api->url()),
      std::string::npos)
      << info;
  EXPECT_NE(info.find("certificate-authority-data"), std::string::npos) << info;
  // An expired credential is fetched again before the next request.
  e.d.write("answer", cred(R"({"token":"tok-2","expirationTimestamp":"2020-01-01T00:00:00Z"})"));
  auto exp = Api::create(e.conn(user(), e.ca()), {});
  ASSERT_TRUE(exp);
  ASSERT_TRUE(exp.value()->get("/api/v1"));
  ASSERT_TRUE(exp.value()->get("/api/v1"));
  EXPECT_EQ(runs(), 3);
  EXPECT_EQ(e.api->requests().back().user, "token:carol");
  // A refused credential (401) is fetched again once, and the request retried.
  e.d.write("first", cred(R"({"token":"revoked"})"));
  e.d.write("answer", cred(R"({"token":"tok-1"})"));
  auto again = Api::create(e.conn(user(), e.ca()), {});
  ASSERT_TRUE(again);
  auto r = again.value()->get("/api/v1");
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r.value().status, 200);
  EXPECT_EQ(runs(), 5);
  // A client certificate from the plugin.
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  w.StartObject();
  w.Key("clientCertificateData");
  w.String(test::readFile(e.pki.path("alice.pem")).c_str());
  w.Key("clientKeyData");
  w.String(test::readFile(e.pki.path("alice.key")).c_str());
  w.EndObject();
  e.d.write("answer", cred(b.GetString()));
  auto certs = Api::create(e.conn(user(), e.ca()), {});
  ASSERT_TRUE(certs);
  ASSERT_TRUE(certs.value()->get("/api/v1"));
  EXPECT_EQ(e.api->requests().back().user, "alice");

  // Failures, each saying why, never what the plugin printed.
  auto error = [&](const std::string& user_yaml) {
    auto a = Api::create(e.conn(user_yaml, e.ca()), {});
    if (!a) return a.error().describe();
    auto g = a.value()->get("/api/v1");
    return g ? std::string("(ok)") : g.error().describe();
  };
  e.d.write("fail", "");
  EXPECT_EQ(error(user()),
            fmt::format("exec credential plugin {}: exited with 3: boom: no session", plugin));
  std::filesystem::remove(dir + "/fail");
  e.d.write("answer", R"({"token":"s3cret-but-not-a-credential"})");
  std::string not_cred = error(user());
  EXPECT_EQ(not_cred, fmt::format("exec credential plugin {}: its output is not an "
                                  "ExecCredential (JSON)",
                                  plugin));
  EXPECT_EQ(error("{exec: {apiVersion: client.authentication.k8s.io/v1, command: "
                  "kh-no-such-plugin, installHint: 'brew install kh-plugin'}}"),
            "exec credential plugin kh-no-such-plugin: not found. brew install kh-plugin");
  std::string always = user();
  always.replace(always.find("interactiveMode: Never"), 22, "interactiveMode: Always");
  EXPECT_EQ(error(always),
            fmt::format("exec credential plugin {}: it needs an interactive terminal "
                        "(interactiveMode: Always); kubeharden runs non-interactively: use a "
                        "plugin mode or credential that needs no prompt",
                        plugin));
  EXPECT_EQ(error("{exec: {apiVersion: client.authentication.k8s.io/v1alpha1, command: x}}"),
            "exec credential plugin x: apiVersion 'client.authentication.k8s.io/v1alpha1' is not "
            "client.authentication.k8s.io/v1 or v1beta1");
}

}  // namespace
}  // namespace kh::cluster
