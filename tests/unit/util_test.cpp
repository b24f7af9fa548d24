#include <gtest/gtest.h>
#include <re2/re2.h>

#include "base/strings.h"
#include "checks/cp/flags.h"
#include "checks/secrets/rules.h"
#include "checks/util/host_path.h"
#include "checks/util/image_ref.h"
#include "model/quantity.h"
#include "tests/unit/test_util.h"

namespace kh {
namespace {

TEST(ImageRef, NormalisesAsTheRuntimeDoes) {
  struct Case {
    const char* in;
    const char* norm;
  } cases[] = {
      {"nginx", "docker.io/library/nginx:latest"},
      {"nginx:1.27", "docker.io/library/nginx:1.27"},
      {"bitnami/redis:7", "docker.io/bitnami/redis:7"},
      {"index.docker.io/library/nginx", "docker.io/library/nginx:latest"},
      {"localhost/app", "localhost/app:latest"},
      {"localhost:5000/team/app", "localhost:5000/team/app:latest"},
      {"registry.example.com:443/app:2", "registry.example.com:443/app:2"},
      {"ghcr.io/o/a@sha256:abc", "ghcr.io/o/a@sha256:abc"},
      {"nginx:1@sha256:abc", "docker.io/library/nginx:1@sha256:abc"},
      {"Registry/app", "Registry/app:latest"},
  };
  for (const auto& c : cases) {
    auto r = parseImageRef(c.in);
    ASSERT_TRUE(r) << c.in;
    EXPECT_EQ(r->normalized(), c.norm) << c.in;
  }
  EXPECT_FALSE(parseImageRef(""));
  EXPECT_FALSE(parseImageRef("nginx:"));
  EXPECT_FALSE(parseImageRef("a b"));
  EXPECT_FALSE(parseImageRef("x@nodigest"));
}

TEST(HostPath, Classification) {
  EXPECT_EQ(classifyHostPath("/var/run/docker.sock"), HostPathClass::kRuntimeSocket);
  EXPECT_EQ(classifyHostPath("/var/run"), HostPathClass::kRuntimeSocket);
  EXPECT_EQ(classifyHostPath("/run/containerd/"), HostPathClass::kRuntimeSocket);
  EXPECT_EQ(classifyHostPath("/"), HostPathClass::kSensitive);
  EXPECT_EQ(classifyHostPath("/etc/ssl/certs"), HostPathClass::kSensitive);
  EXPECT_EQ(classifyHostPath("/var"), HostPathClass::kSensitive);
  EXPECT_EQ(classifyHostPath("/var/lib/../lib/kubelet"), HostPathClass::kSensitive);
  EXPECT_EQ(classifyHostPath("/etcd"), HostPathClass::kOther);
  EXPECT_EQ(classifyHostPath("/opt/cni/bin"), HostPathClass::kOther);
  EXPECT_EQ(normalizeHostPath("//a/./b/../c/"), "/a/c");
}

TEST(Strings, Glob) {
  EXPECT_TRUE(globMatch("*", ""));
  EXPECT_TRUE(globMatch("kube-*", "kube-system"));
  EXPECT_TRUE(globMatch("a?c", "abc"));
  EXPECT_FALSE(globMatch("kube-*", "default"));
  EXPECT_TRUE(globMatch("*-exporter*", "node-exporter-x"));
  EXPECT_FALSE(globMatch("a*b", "acd"));
}

TEST(Strings, Utf8Validation) {
  constexpr size_t kValid = std::string_view::npos;
  EXPECT_EQ(invalidUtf8At(""), kValid);
  EXPECT_EQ(invalidUtf8At("plain ascii, longer than eight bytes"), kValid);
  // Two-, three- and four-byte forms at their edges: U+0080, U+07FF, U+0800, U+D7FF, U+E000,
  // U+FFFF, U+10000, U+10FFFF.
  EXPECT_EQ(invalidUtf8At("\xc2\x80 \xdf\xbf \xe0\xa0\x80 \xed\x9f\xbf \xee\x80\x80 "
                          "\xef\xbf\xbf \xf0\x90\x80\x80 \xf4\x8f\xbf\xbf"),
            kValid);
  EXPECT_EQ(invalidUtf8At("abcdefgh\xc3\xa9ijklmnop"), kValid);
  // The offset of the first bad sequence, past an ASCII run read eight bytes at a time.
  EXPECT_EQ(invalidUtf8At("abcdefghij\xff"), 10u);
  EXPECT_EQ(invalidUtf8At("\xc0\xaf"), 0u);          // overlong '/'
  EXPECT_EQ(invalidUtf8At("\xc1\xbf"), 0u);          // overlong
  EXPECT_EQ(invalidUtf8At("\xe0\x9f\xbf"), 0u);      // overlong three-byte form
  EXPECT_EQ(invalidUtf8At("\xf0\x8f\xbf\xbf"), 0u);  // overlong four-byte form
  EXPECT_EQ(invalidUtf8At("x\xed\xa0\x80"), 1u);     // a surrogate, U+D800
  EXPECT_EQ(invalidUtf8At("\xf4\x90\x80\x80"), 0u);  // above U+10FFFF
  EXPECT_EQ(invalidUtf8At("\xf5\x80\x80\x80"), 0u);
  EXPECT_EQ(invalidUtf8At("ab\x80"), 2u);        // a lone continuation byte
  EXPECT_EQ(invalidUtf8At("ab\xe2\x82"), 2u);    // cut by the end
  EXPECT_EQ(invalidUtf8At("\xe2\x28\xa1"), 0u);  // a bad continuation
  EXPECT_EQ(invalidUtf8At("\xf0\x9f\x98\x80\xf0\x9f\x98"), 4u);
}

// isCredentialName is a hand-written matcher; the regular expression it replaced states the
// rule and serves as the oracle over generated names: fragments, separators, case.
TEST(Secrets, CredentialNamesAgreeWithTheRuleAsARegex) {
  RE2::Options opts;
  opts.set_case_sensitive(false);
  const RE2 rule(
      R"((?:^|[_.-])(?:password|passwd|passphrase|pwd|pass|secret|secret[_-]?key|token|)"
      R"(access[_-]?token|auth[_-]?token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|)"
      R"(client[_-]?secret|credentials?|auth)$)",
      opts);
  const std::vector<std::string> parts = {"",      "db",     "PASSWORD", "passwd", "Pass",
                                          "pwd",   "secret", "key",      "token",  "access",
                                          "auth",  "api",    "private",  "client", "credential",
                                          "creds", "s",      "BYPASS",   "file",   "ttl"};
  const std::vector<std::string> seps = {"", "_", "-", ".", "__"};
  size_t agreed = 0, credential = 0;
  for (const std::string& a : parts)
    for (const std::string& sep1 : seps)
      for (const std::string& b : parts)
        for (const std::string& sep2 : seps)
          for (const std::string& c : {std::string(""), std::string("key"), std::string("TOKEN"),
                                       std::string("s"), std::string("secret")}) {
            std::string name = a + sep1 + b + sep2 + c;
            bool digest = false;
            for (const char* d : {"checksum", "hash", "digest", "sha1", "sha256", "fingerprint"})
              digest |= icontains(name, d);
            bool want = !digest && !iequals(name, "ETCD_INITIAL_CLUSTER_TOKEN") &&
                        !iequals(name, "INITIAL_CLUSTER_TOKEN") && RE2::PartialMatch(name, rule);
            ASSERT_EQ(isCredentialName(name), want) << name;
            ++agreed;
            credential += want;
          }
  EXPECT_GT(credential, agreed / 20);  // both answers are well represented
  EXPECT_LT(credential, agreed / 2);
  EXPECT_TRUE(isCredentialName(std::string(300, 'x') + "_Api-Key"));  // longer than the buffer
  EXPECT_FALSE(isCredentialName(std::string(300, 'x') + "_Api-Key_SHA256"));
  EXPECT_TRUE(namesDigest("CONFIG_CHECKSUM"));
  EXPECT_FALSE(namesDigest("CONFIG_VERSION"));
}

TEST(Secrets, RulesAndRedaction) {
  EXPECT_EQ(matchSecretValue("AKIAZ7QW3ERTY6UIOP4L")->id, "aws-access-key-id");
  EXPECT_FALSE(matchSecretValue("AKIAIOSFODNN7EXAMPLE"));
  EXPECT_EQ(matchSecretValue("-----BEGIN RSA PRIVATE KEY-----\nMIIE")->id, "private-key");
  EXPECT_EQ(matchSecretValue("mysql://root:Sup3rS3cret@db:3306/x")->id, "url-with-password");
  EXPECT_FALSE(matchSecretValue("mysql://root:$(PASS)@db:3306/x"));
  EXPECT_FALSE(matchSecretValue("https://github.com/org/repo"));
  EXPECT_TRUE(isCredentialName("DB_PASSWORD"));
  EXPECT_TRUE(isCredentialName("apiKey"));
  EXPECT_TRUE(isCredentialName("client_secret"));
  EXPECT_FALSE(isCredentialName("PASSWORD_FILE"));
  EXPECT_FALSE(isCredentialName("TOKEN_TTL"));
  EXPECT_FALSE(isCredentialName("BYPASS"));
  std::string r = redact("AKIAZ7QW3ERTY6UIOP4L", true);
  EXPECT_EQ(r.find("Z7QW"), std::string::npos);
  EXPECT_NE(r.find("20 chars"), std::string::npos);
  EXPECT_EQ(redact("hunter2hunter2", false).find("hunt"), std::string::npos);
}

// Vendor formats, each built from its documented shape (not a real credential), with a near miss.
TEST(Secrets, VendorFormats) {
  auto id = [](const std::string& v) {
    auto r = matchSecretValue(v);
    return r ? std::string(r->id) : std::string("none");
  };
  std::string hex32(32, 'a'), hex64(64, 'b');
  hex32[3] = '7';
  hex64[9] = '4';
  EXPECT_EQ(id("glrt-" + std::string(20, 'x')), "gitlab-token");
  EXPECT_EQ(id("dop_v1_" + hex64), "digitalocean-token");
  EXPECT_EQ(id("dop_v1_" + hex32), "none");
  EXPECT_EQ(id("hf_" + std::string(34, 'Q')), "huggingface-token");
  EXPECT_EQ(id("hf_" + std::string(33, 'Q')), "none");
  EXPECT_EQ(id("shpat_" + hex32), "shopify-token");
  EXPECT_EQ(id("dckr_pat_" + std::string(27, 'z')), "dockerhub-token");
  EXPECT_EQ(id("sk-ant-api03-" + std::string(90, 'k')), "anthropic-api-key");
  EXPECT_EQ(id("sk-proj-" + std::string(48, 'p')), "openai-api-key");
  EXPECT_EQ(id("sk-short"), "none");
  EXPECT_EQ(id("hvs." + std::string(30, 'v')), "vault-token");
  EXPECT_EQ(id("LTAI" + std::string(20, 'm')), "alibaba-access-key-id");
  EXPECT_EQ(id("https://discord.com/api/webhooks/123456/" + std::string(40, 'w')),
            "discord-webhook");
  EXPECT_EQ(id("AGE-SECRET-KEY-1" + std::string(58, 'Q')), "age-secret-key");
}

TEST(Secrets, LiteralsAndConfigText) {
  EXPECT_TRUE(looksLikeSecretLiteral("s3cR3t-Pa55w0rd!"));
  EXPECT_FALSE(looksLikeSecretLiteral("$MONGODB_ROOT_PASSWORD"));
  EXPECT_FALSE(looksLikeSecretLiteral("cert-manager/webhook-ca"));  // an object reference
  EXPECT_FALSE(looksLikeSecretLiteral("1.2.3"));
  EXPECT_FALSE(looksLikeSecretLiteral("changeme"));
  EXPECT_FALSE(isCredentialName("checksum/secret"));
  EXPECT_FALSE(isCredentialName("PASSWORD_HASH"));
  EXPECT_GT(shannonEntropy("aZ3$kP9!qW"), shannonEntropy("aaaaabbbbb"));

  std::vector<std::string> hits;
  scanConfigText(
      "# password: notreal9X\n"
      "[db]\n"
      "user = app\n"
      "password = Xk9#mQ2vLp\n"
      "password_file = /run/secrets/db\n"
      "export API_TOKEN=\"$TOKEN\"\n"
      "  \"clientSecret\": \"f8Kq2Lz9Wm3X\",\n"
      "url: mysql://root:Sup3rS3cret@db:3306/x\n",
      [&](const ConfigSecret& s) {
        hits.push_back(std::to_string(s.line) + ":" + s.rule_id + ":" + s.key);
      });
  EXPECT_EQ(hits, (std::vector<std::string>{"4:credential-assignment:password",
                                            "7:credential-assignment:clientSecret",
                                            "8:url-with-password:"}));
}

}  // namespace
}  // namespace kh

namespace kh {
namespace {

TEST(ControlPlaneFlags, ParsedAsPflagReadsThem) {
  auto f = test::loadText(R"(apiVersion: v1
kind: Pod
metadata: {name: x}
spec:
  containers:
    - name: c
      image: registry.k8s.io/kube-apiserver:v1.29.4@sha256:00
      command: [/usr/local/bin/kube-apiserver, --profiling, --v=2, -a, b, --x, --y=1]
      args: ["--feature-gates=A=true,B=false", --feature-gates, C=true, --y=2, positional]
)");
  ASSERT_FALSE(f->error);
  const Object& o = f->objects[0];
  constexpr std::string_view kBool[] = {"profiling"};
  FlagSet fs = FlagSet::parse(o.pod->containers[0], kBool);
  EXPECT_EQ(fs.binary(), "kube-apiserver");
  ASSERT_TRUE(fs.last("profiling"));
  EXPECT_EQ(fs.last("profiling")->value, "true");
  EXPECT_EQ(fs.last("a")->value, "b");
  EXPECT_EQ(fs.last("x")->value, "");   // followed by another flag: no value
  EXPECT_EQ(fs.last("y")->value, "2");  // the last occurrence wins
  EXPECT_EQ(fs.last("y")->path, "spec.containers[0].args[3]");
  EXPECT_EQ(fs.list("feature-gates"), (std::vector<std::string>{"A=true", "B=false", "C=true"}));
  EXPECT_FALSE(fs.has("positional"));
  EXPECT_EQ(kubernetesMinorFromImage("registry.k8s.io/kube-apiserver:v1.29.4@sha256:00"), 29);
  EXPECT_EQ(kubernetesMinorFromImage("localhost:5000/kube-apiserver"), std::nullopt);
  EXPECT_EQ(kubernetesMinorFromImage("etcd:3.5.15-0"), std::nullopt);
}

}  // namespace
}  // namespace kh

namespace kh {
namespace {

TEST(Quantity, ParsedAsKubernetesReadsThem) {
  EXPECT_DOUBLE_EQ(*parseQuantity("100m"), 0.1);
  EXPECT_DOUBLE_EQ(*parseQuantity("2"), 2.0);
  EXPECT_DOUBLE_EQ(*parseQuantity("0.5"), 0.5);
  EXPECT_DOUBLE_EQ(*parseQuantity("1Gi"), 1073741824.0);
  EXPECT_DOUBLE_EQ(*parseQuantity("128Mi"), 134217728.0);
  EXPECT_DOUBLE_EQ(*parseQuantity("1G"), 1e9);
  EXPECT_DOUBLE_EQ(*parseQuantity("1e3"), 1000.0);
  EXPECT_DOUBLE_EQ(*parseQuantity("1.5E-2"), 0.015);
  EXPECT_DOUBLE_EQ(*parseQuantity("250u"), 0.00025);
  EXPECT_FALSE(parseQuantity(""));
  EXPECT_FALSE(parseQuantity("Gi"));
  EXPECT_FALSE(parseQuantity("1GB"));
  EXPECT_FALSE(parseQuantity("1 Gi"));
  EXPECT_FALSE(parseQuantity("abc"));
}

}  // namespace
}  // namespace kh
