// kubeconfig as client-go reads it: merging KUBECONFIG lists (first file wins an entry, and
// current-context), relative paths against the file that names them, missing files, overrides,
// validation and its errors; in-cluster configuration; and parity with the real kubectl
// (`kubectl config view --raw --flatten --minify -o json` for every context of generated
// kubeconfig sets).
#include "cluster/kubeconfig.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <unistd.h>

#include <filesystem>

#include "base/strings.h"
#include "tests/unit/image_util.h"
#include "tests/unit/test_util.h"

namespace kh::cluster {
namespace {

using image::fixtures::shell;
using test::TempDir;

KubeConfigSources files(const std::string& env, const std::string& explicit_path = "") {
  KubeConfigSources s;
  s.kubeconfig_env = env;
  s.explicit_path = explicit_path;
  s.home = "/nonexistent-home";
  return s;
}

const char* kFirst = R"(apiVersion: v1
kind: Config
current-context: dev
clusters:
  - name: shared
    cluster:
      server: https://first.example:6443
      certificate-authority: certs/ca.pem
  - name: only-first
    cluster:
      server: https://only-first.example
      insecure-skip-tls-verify: true
users:
  - name: alice
    user:
      client-certificate: certs/alice.crt
      client-key: /abs/alice.key
      tokenFile: ""
  - name: plugin
    user:
      exec:
        apiVersion: client.authentication.k8s.io/v1
        command: bin/get-token
        args: [--audience, kube]
        env: [{name: REGION, value: eu}]
        installHint: install get-token
        provideClusterInfo: true
        interactiveMode: Never
  - name: path-plugin
    user:
      exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: aws}
contexts:
  - name: dev
    context: {cluster: shared, user: alice, namespace: team}
  - name: plugin
    context: {cluster: only-first, user: plugin}
)";

const char* kSecond = R"(current-context: prod
clusters:
  - name: shared
    cluster:
      server: https://second.example
  - name: only-second
    cluster:
      server: https://only-second.example
      certificate-authority-data: Y2EtYnl0ZXM=
      tls-server-name: api.internal
      proxy-url: http://proxy:3128
users:
  - name: alice
    user: {token: from-second}
  - name: bob
    user: {tokenFile: tokens/bob, as: admin, as-groups: [ops]}
contexts:
  - name: dev
    context: {cluster: only-second, user: bob}
  - name: prod
    context: {cluster: only-second, user: bob}
)";

TEST(KubeConfig, MergesAsClientGoDoes) {
  TempDir a, b;
  std::string first = a.write("config", kFirst);
  std::string second = b.write("config", kSecond);
  auto cfg = loadKubeConfig(
      files(first + ":" + a.path() + "/missing:" + second + ":" + first));  // dup, missing
  ASSERT_TRUE(cfg) << cfg.error().describe();
  const KubeConfig& k = cfg.value();
  EXPECT_EQ(k.files, (std::vector<std::string>{first, second}));
  EXPECT_TRUE(k.warnings.empty());      // only when every file is missing
  EXPECT_EQ(k.current_context, "dev");  // the first file that sets it
  // The first file wins an entry whole: its "shared" cluster and "alice" user, not a mix.
  EXPECT_EQ(k.clusters.at("shared").server, "https://first.example:6443");
  EXPECT_EQ(k.clusters.at("shared").certificate_authority, a.path() + "/certs/ca.pem");
  EXPECT_EQ(k.users.at("alice").token, "");
  EXPECT_EQ(k.users.at("alice").client_certificate, a.path() + "/certs/alice.crt");
  EXPECT_EQ(k.users.at("alice").client_key, "/abs/alice.key");
  EXPECT_EQ(k.contexts.at("dev").cluster, "shared");
  // Entries only the second file has, with its own directory for relative paths.
  EXPECT_EQ(k.users.at("bob").token_file, b.path() + "/tokens/bob");
  EXPECT_EQ(k.clusters.at("only-second").certificate_authority_data, "ca-bytes");
  // An exec command with a '/' is relative to its file; a bare name stays for PATH.
  EXPECT_EQ(k.users.at("plugin").exec->command, a.path() + "/bin/get-token");
  EXPECT_EQ(k.users.at("path-plugin").exec->command, "aws");

  auto dev = resolveConnection(k, {});
  ASSERT_TRUE(dev) << dev.error().describe();
  EXPECT_EQ(dev.value().context, "dev");
  EXPECT_EQ(dev.value().namespace_, "team");
  EXPECT_EQ(dev.value().user_name, "alice");
  Overrides o;
  o.context = "prod";
  o.namespace_ = "other";
  o.as = "root";
  auto prod = resolveConnection(k, o);
  ASSERT_TRUE(prod) << prod.error().describe();
  EXPECT_EQ(prod.value().cluster.server, "https://only-second.example");
  EXPECT_EQ(prod.value().cluster.tls_server_name, "api.internal");
  EXPECT_EQ(prod.value().cluster.proxy_url, "http://proxy:3128");
  EXPECT_EQ(prod.value().namespace_, "other");
  EXPECT_EQ(prod.value().user.as, "root");
  EXPECT_EQ(prod.value().user.as_groups, std::vector<std::string>{"ops"});
  o = {};
  o.context = "dev";
  o.cluster = "only-first";
  o.user = "plugin";
  auto swapped = resolveConnection(k, o);
  ASSERT_TRUE(swapped) << swapped.error().describe();
  EXPECT_TRUE(swapped.value().cluster.insecure_skip_tls_verify);
  ASSERT_TRUE(swapped.value().user.exec);
  const ExecConfig& x = *swapped.value().user.exec;
  EXPECT_EQ(x.args, (std::vector<std::string>{"--audience", "kube"}));
  EXPECT_EQ(x.env, (std::vector<std::pair<std::string, std::string>>{{"REGION", "eu"}}));
  EXPECT_TRUE(x.provide_cluster_info);
  EXPECT_EQ(x.interactive_mode, "Never");
  EXPECT_EQ(x.install_hint, "install get-token");
  EXPECT_EQ(swapped.value().namespace_, "team");  // still the context's

  // The order of KUBECONFIG decides.
  auto reversed = loadKubeConfig(files(second + ":" + first));
  ASSERT_TRUE(reversed);
  EXPECT_EQ(reversed.value().current_context, "prod");
  EXPECT_EQ(reversed.value().clusters.at("shared").server, "https://second.example");
}

TEST(KubeConfig, MissingFilesAndErrors) {
  TempDir d;
  // Every KUBECONFIG file missing: a warning and an empty config; an explicit file: an error.
  auto none = loadKubeConfig(files(d.path() + "/a:" + d.path() + "/b"));
  ASSERT_TRUE(none);
  EXPECT_EQ(none.value().warnings,
            std::vector<std::string>{
                fmt::format("no kubeconfig found: {0}/a, {0}/b (KUBECONFIG)", d.path())});
  auto explicit_missing = loadKubeConfig(files("", d.path() + "/nope"));
  ASSERT_FALSE(explicit_missing);
  EXPECT_EQ(explicit_missing.error().describe(),
            d.path() + "/nope: the kubeconfig file does not exist");
  // The explicit file is the only one read.
  std::string one = d.write("one", kSecond);
  auto only = loadKubeConfig(files(d.write("other", kFirst), one));
  ASSERT_TRUE(only);
  EXPECT_EQ(only.value().current_context, "prod");
  EXPECT_FALSE(only.value().clusters.count("only-first"));

  auto bad = [&](const std::string& text) {
    auto r = parseKubeConfig(text, d.path() + "/bad");
    return r ? std::string("(loaded)") : r.error().describe();
  };
  EXPECT_EQ(bad("clusters: {a: 1}\n"), d.path() + "/bad:1:11: clusters: expected a list");
  EXPECT_EQ(bad("clusters:\n  - cluster: {server: x}\n"),
            d.path() + "/bad:2:5: clusters: an entry without a name");
  EXPECT_EQ(bad("clusters:\n  - name: a\n    cluster:\n      certificate-authority-data: '@@'\n"),
            d.path() + "/bad:4:35: cluster.certificate-authority-data: not base64");
  EXPECT_EQ(bad("clusters:\n  - name: a\n  - name: a\n"),
            d.path() + "/bad:3:5: duplicate cluster name \"a\" in one file");
  EXPECT_EQ(bad("users:\n  - name: u\n    user: {exec: {args: [x]}}\n"),
            d.path() + "/bad:3:18: user.exec: no command");
  EXPECT_EQ(bad("- a\n"), d.path() + "/bad:1:1: a kubeconfig is a map (kind: Config)");

  auto resolve = [&](const std::string& text, Overrides o = {}) {
    auto k = parseKubeConfig(text, d.path() + "/k");
    EXPECT_TRUE(k) << k.error().describe();
    auto c = resolveConnection(k.value(), o);
    return c ? std::string("(ok)") : c.error().describe();
  };
  const std::string base =
      "current-context: c\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n";
  EXPECT_EQ(resolve("clusters: [{name: k, cluster: {server: https://x}}]\n"
                    "users: [{name: u, user: {token: t}}]\n" +
                    base),
            "(ok)");
  EXPECT_EQ(resolve(base + "clusters: [{name: k, cluster: {server: https://x}}]\n"),
            "user \"u\" is not in the kubeconfig");
  EXPECT_EQ(resolve("clusters: []\n", {.context = "nope"}),
            "context \"nope\" is not in the kubeconfig (" + d.path() + "/k)");
  EXPECT_EQ(resolve("clusters: []\n"), "no context: the kubeconfig (" + d.path() +
                                           "/k) sets no current-context; pass "
                                           "--context");
  EXPECT_EQ(resolve(base + "clusters: [{name: k, cluster: {server: https://x, "
                           "insecure-skip-tls-verify: true, certificate-authority: ca}}]\n"
                           "users: [{name: u}]\n"),
            "cluster \"k\": a CA and insecure-skip-tls-verify together: one or the other (" +
                d.path() + "/k)");
  EXPECT_EQ(resolve(base + "clusters: [{name: k, cluster: {server: https://x}}]\n"
                           "users: [{name: u, user: {client-certificate: c}}]\n"),
            "user \"u\": a client certificate needs its key (and the key its certificate) (" +
                d.path() + "/k)");
  EXPECT_EQ(resolve(base + "clusters: [{name: k, cluster: {server: https://x}}]\n"
                           "users: [{name: u, user: {token: t, username: a, password: b}}]\n"),
            "user \"u\": a token and a username/password together: one authentication method "
            "(" +
                d.path() + "/k)");
  EXPECT_EQ(resolve(base + "clusters: [{name: k, cluster: {server: https://x}}]\n"
                           "users: [{name: u, user: {auth-provider: {name: gcp}}}]\n"),
            "user \"u\" uses the auth-provider \"gcp\", which kubectl no longer supports: use "
            "the gke-gcloud-auth-plugin exec plugin (" +
                d.path() + "/k)");
  EXPECT_EQ(resolve(base + "clusters: [{name: k, cluster: {}}]\nusers: [{name: u}]\n"),
            "cluster \"k\" has no server (" + d.path() + "/k)");
  // No secret ever appears in an error.
  std::string secret = resolve(base +
                               "clusters: [{name: k, cluster: {server: https://x}}]\n"
                               "users: [{name: u, user: {token: sup3rs3cret, username: a}}]\n");
  EXPECT_EQ(secret.find("sup3rs3cret"), std::string::npos);
}

TEST(KubeConfig, InCluster) {
  TempDir d;
  InClusterSources pod;
  pod.sa_dir = d.path();
  EXPECT_FALSE(inClusterConnection(pod, {}));
  pod.host = "fd00::1";
  pod.port = "443";
  auto no_token = inClusterConnection(pod, {});
  ASSERT_FALSE(no_token);
  EXPECT_EQ(no_token.error().describe(), d.path() + "/token: the service account token is missing");
  d.write("token", "t");
  d.write("namespace", "kubeharden\n");
  auto c = inClusterConnection(pod, {});
  ASSERT_TRUE(c) << c.error().describe();
  EXPECT_TRUE(c.value().in_cluster);
  EXPECT_EQ(c.value().cluster.server, "https://[fd00::1]:443");
  EXPECT_EQ(c.value().cluster.certificate_authority, d.path() + "/ca.crt");
  EXPECT_EQ(c.value().user.token_file, d.path() + "/token");
  EXPECT_EQ(c.value().namespace_, "kubeharden");
  // kubectl's choice: no kubeconfig file, in a pod: in cluster; a kubeconfig: it.
  auto chosen = connect(files(d.path() + "/none"), pod, {}, nullptr);
  ASSERT_TRUE(chosen) << chosen.error().describe();
  EXPECT_TRUE(chosen.value().in_cluster);
  std::string k = d.write("k", kSecond);
  auto from_file = connect(files(k), pod, {}, nullptr);
  ASSERT_TRUE(from_file) << from_file.error().describe();
  EXPECT_FALSE(from_file.value().in_cluster);
  EXPECT_EQ(from_file.value().context, "prod");
}

// --- Parity with kubectl ---

std::string b64(std::string_view s) {
  return base64Encode(s);
}

// Runs `kubectl config view --raw --flatten --minify -o json` for `context`.
bool kubectlView(const std::string& kubeconfig_env, const std::string& context,
                 rapidjson::Document* out, std::string* err) {
  std::string text;
  int rc = shell(fmt::format("KUBECONFIG='{}' HOME=/nonexistent-home {} config view --raw "
                             "--flatten --minify -o json --context '{}' 2>&1",
                             kubeconfig_env, test::toolPath("kubectl"), context),
                 &text);
  if (rc != 0) {
    *err = text;
    return false;
  }
  out->Parse(text.c_str());
  return !out->HasParseError();
}

std::string member(const rapidjson::Value& v, const char* name) {
  if (!v.IsObject() || !v.HasMember(name)) return "";
  const auto& m = v[name];
  if (m.IsString()) return m.GetString();
  if (m.IsBool()) return m.GetBool() ? "true" : "false";
  return "?";
}

// What kubectl says the context is, against what we resolve: every field.
void expectSameAsKubectl(const std::string& env, const std::string& context) {
  SCOPED_TRACE("context " + context + ", KUBECONFIG=" + env);
  rapidjson::Document v;
  std::string err;
  ASSERT_TRUE(kubectlView(env, context, &v, &err)) << err;
  auto cfg = loadKubeConfig(files(env));
  ASSERT_TRUE(cfg) << cfg.error().describe();
  auto c = resolveConnection(cfg.value(), {.context = context});
  ASSERT_TRUE(c) << c.error().describe();
  const Connection& ours = c.value();
  ASSERT_EQ(v["contexts"].Size(), 1u);
  const auto& ctx = v["contexts"][0]["context"];
  EXPECT_EQ(member(ctx, "cluster"), ours.cluster_name);
  EXPECT_EQ(member(ctx, "user"), ours.user_name);
  EXPECT_EQ(member(ctx, "namespace").empty() ? "default" : member(ctx, "namespace"),
            ours.namespace_);
  const auto& cl = v["clusters"][0]["cluster"];
  EXPECT_EQ(member(cl, "server"), ours.cluster.server);
  std::string ca = ours.cluster.certificate_authority_data;
  if (ca.empty() && !ours.cluster.certificate_authority.empty()) {
    ASSERT_TRUE(readFileTo(ours.cluster.certificate_authority, ca));
  }
  EXPECT_EQ(member(cl, "certificate-authority-data"), ca.empty() ? "" : b64(ca));
  EXPECT_EQ(member(cl, "insecure-skip-tls-verify") == "true",
            ours.cluster.insecure_skip_tls_verify);
  EXPECT_EQ(member(cl, "tls-server-name"), ours.cluster.tls_server_name);
  EXPECT_EQ(member(cl, "proxy-url"), ours.cluster.proxy_url);
  const auto& u = v["users"].Size() ? v["users"][0]["user"] : v["users"];
  auto bytes = [](const std::string& file, const std::string& data) {
    std::string out = data;
    if (out.empty() && !file.empty()) {
      EXPECT_TRUE(readFileTo(file, out)) << file;
    }
    return out.empty() ? std::string() : b64(out);
  };
  EXPECT_EQ(member(u, "client-certificate-data"),
            bytes(ours.user.client_certificate, ours.user.client_certificate_data));
  EXPECT_EQ(member(u, "client-key-data"), bytes(ours.user.client_key, ours.user.client_key_data));
  EXPECT_EQ(member(u, "token"), ours.user.token);
  // kubectl prints tokenFile and a relative exec command as written; they resolve against the
  // directory of the file whose user entry won.
  std::string origin_dir = std::filesystem::path(ours.user.origin).parent_path().string();
  auto resolved = [&](const std::string& p) {
    return p.empty() || p[0] == '/'
               ? p
               : (std::filesystem::path(origin_dir) / p).lexically_normal().string();
  };
  EXPECT_EQ(resolved(member(u, "tokenFile")), ours.user.token_file);
  EXPECT_EQ(member(u, "username"), ours.user.username);
  EXPECT_EQ(member(u, "password"), ours.user.password);
  EXPECT_EQ(member(u, "as"), ours.user.as);
  if (u.IsObject() && u.HasMember("exec")) {
    ASSERT_TRUE(ours.user.exec);
    std::string command = member(u["exec"], "command");
    EXPECT_EQ(command.find('/') == std::string::npos ? command : resolved(command),
              ours.user.exec->command);
    EXPECT_EQ(member(u["exec"], "apiVersion"), ours.user.exec->api_version);
    std::vector<std::string> args;
    if (u["exec"].HasMember("args") && u["exec"]["args"].IsArray())
      for (const auto& a : u["exec"]["args"].GetArray()) args.emplace_back(a.GetString());
    EXPECT_EQ(args, ours.user.exec->args);
  } else {
    EXPECT_FALSE(ours.user.exec);
  }
}

TEST(KubeConfig, ParityWithKubectl) {
  if (::access(test::toolPath("kubectl").c_str(), X_OK) != 0)
    GTEST_SKIP() << "needs kubectl (scripts/install-deps unpacks it into "
                    "deps/npm/node_modules/.bin-tools)";
  TempDir a, b, c;
  std::filesystem::create_directories(a.path() + "/certs");
  std::filesystem::create_directories(b.path() + "/nested/deeper");
  a.write("certs/ca.pem", "-----BEGIN CERTIFICATE-----\nCA of a\n-----END CERTIFICATE-----\n");
  a.write("certs/alice.crt", "alice cert\n");
  a.write("certs/alice.key", "alice key\n");
  b.write("nested/deeper/ca.pem", "CA of b\n");
  b.write("bob.crt", "bob cert\n");
  b.write("bob.key", "bob key\n");
  b.write("token", "bob-token\n");
  std::string fa = a.write("config", R"(apiVersion: v1
kind: Config
current-context: a-main
clusters:
  - name: main
    cluster: {server: "https://a.example:6443", certificate-authority: certs/ca.pem}
  - name: insecure
    cluster: {server: "https://insecure.example", insecure-skip-tls-verify: true}
users:
  - name: alice
    user: {client-certificate: certs/alice.crt, client-key: certs/alice.key}
  - name: plugin
    user:
      exec:
        apiVersion: client.authentication.k8s.io/v1
        command: ./bin/token
        args: [get, --json]
contexts:
  - name: a-main
    context: {cluster: main, user: alice, namespace: apps}
  - name: a-plugin
    context: {cluster: insecure, user: plugin}
  - name: shared
    context: {cluster: main, user: alice}
)");
  std::string fb = b.write("nested/config", fmt::format(R"(current-context: b-main
clusters:
  - name: main
    cluster: {{server: "https://b.example"}}
  - name: b-cluster
    cluster:
      server: https://b2.example
      certificate-authority: deeper/ca.pem
      tls-server-name: kubernetes.default
      proxy-url: socks5://localhost:1080
  - name: b-data
    cluster: {{server: "https://b3.example", certificate-authority-data: {}}}
users:
  - name: alice
    user: {{token: never-used}}
  - name: bob
    user: {{client-certificate: ../bob.crt, client-key: ../bob.key, as: impersonated}}
  - name: tok
    user: {{tokenFile: ../token}}
  - name: basic
    user: {{username: carol, password: pw}}
contexts:
  - name: shared
    context: {{cluster: b-cluster, user: bob}}
  - name: b-main
    context: {{cluster: b-cluster, user: bob, namespace: b-ns}}
  - name: b-token
    context: {{cluster: b-data, user: tok}}
  - name: b-basic
    context: {{cluster: main, user: basic}}
)",
                                                        b64("inline CA\n")));
  std::string fc = c.write("config", "clusters: []\n");  // an empty file in the list
  for (const std::string& env :
       {fa + ":" + fb, fb + ":" + fa, fa + ":" + c.path() + "/missing:" + fb + ":" + fc,
        fc + ":" + fb}) {
    auto cfg = loadKubeConfig(files(env));
    ASSERT_TRUE(cfg) << cfg.error().describe();
    for (const auto& [name, ctx] : cfg.value().contexts) expectSameAsKubectl(env, name);
  }
  // A name twice in one file: both refuse the file.
  std::string dup = c.write("dup",
                            "clusters:\n- name: a\n  cluster: {server: https://one}\n"
                            "- name: a\n  cluster: {server: https://two}\n"
                            "contexts: [{name: x, context: {cluster: a}}]\n");
  rapidjson::Document v;
  std::string err;
  EXPECT_FALSE(kubectlView(dup, "x", &v, &err));
  EXPECT_NE(err.find("duplicate name \"a\""), std::string::npos) << err;
  auto ours = loadKubeConfig(files(dup));
  ASSERT_FALSE(ours);
  EXPECT_NE(ours.error().message.find("duplicate cluster name \"a\""), std::string::npos);
}

}  // namespace
}  // namespace kh::cluster
