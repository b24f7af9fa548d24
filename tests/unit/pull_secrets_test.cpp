// Pull secrets as the kubelet reads and matches them (registry/pull_secrets.h): both Secret
// formats, `auth` over username/password, the keyring's globs, ports and path prefixes, its
// most-specific-first order across secrets, and Docker Hub's index.docker.io fallback.
#include "registry/pull_secrets.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "base/strings.h"

namespace kh::registry {
namespace {

std::string secret(const std::string& name, const std::string& type, const std::string& field,
                   const std::string& config) {
  return fmt::format(
      R"({{"apiVersion":"v1","kind":"Secret","metadata":{{"name":"{}","namespace":"shop"}},"type":"{}","data":{{"{}":"{}"}}}})",
      name, type, field, base64Encode(config));
}

Reference imageRef(const std::string& text) {
  auto r = parseReference(text);
  EXPECT_TRUE(r.ok()) << text;
  return r.value();
}

TEST(PullSecrets, ParsesBothFormats) {
  auto json = parsePullSecret(secret(
      "regcred", "kubernetes.io/dockerconfigjson", ".dockerconfigjson",
      R"({"auths":{"registry.example.com":{"username":"u","password":"p","auth":"YWxpY2U6czNjcjpldA=="}}})"));
  ASSERT_TRUE(json.ok()) << json.error().describe();
  ASSERT_EQ(json->size(), 1u);
  EXPECT_EQ((*json)[0].secret, "shop/regcred");
  EXPECT_EQ((*json)[0].key, "registry.example.com");
  // `auth` wins over the separate fields; the password may hold a colon.
  EXPECT_EQ((*json)[0].username, "alice");
  EXPECT_EQ((*json)[0].password, "s3cr:et");
  auto legacy = parsePullSecret(secret("old", "kubernetes.io/dockercfg", ".dockercfg",
                                       R"({"quay.io":{"username":"bob","password":"pw"}})"));
  ASSERT_TRUE(legacy.ok()) << legacy.error().describe();
  ASSERT_EQ(legacy->size(), 1u);
  EXPECT_EQ((*legacy)[0].username, "bob");
  EXPECT_EQ((*legacy)[0].password, "pw");
}

TEST(PullSecrets, MalformedSecretsAreErrorsThatHoldNoValue) {
  auto opaque = parsePullSecret(secret("x", "Opaque", ".dockerconfigjson", "{}"));
  ASSERT_FALSE(opaque.ok());
  EXPECT_NE(opaque.error().message.find("shop/x"), std::string::npos);
  EXPECT_NE(opaque.error().message.find("Opaque"), std::string::npos);
  // The type decides the field, as for the kubelet.
  auto wrong_field = parsePullSecret(
      secret("y", "kubernetes.io/dockerconfigjson", ".dockercfg", R"({"auths":{}})"));
  ASSERT_FALSE(wrong_field.ok());
  EXPECT_NE(wrong_field.error().message.find("no data[.dockerconfigjson]"), std::string::npos);
  auto not_json = parsePullSecret(
      secret("z", "kubernetes.io/dockerconfigjson", ".dockerconfigjson", "hunter2-not-json"));
  ASSERT_FALSE(not_json.ok());
  EXPECT_EQ(not_json.error().message.find("hunter2"), std::string::npos);
  auto bad_auth = parsePullSecret(secret("w", "kubernetes.io/dockerconfigjson", ".dockerconfigjson",
                                         R"({"auths":{"r.io":{"auth":"bm9jb2xvbg=="}}})"));
  ASSERT_FALSE(bad_auth.ok());
  EXPECT_NE(bad_auth.error().message.find("not base64 of user:password"), std::string::npos);
  EXPECT_EQ(bad_auth.error().message.find("nocolon"), std::string::npos);
  EXPECT_FALSE(parsePullSecret("[1]").ok());
}

TEST(PullSecrets, KeysMatchAsTheKubeletsKeyring) {
  Reference app = imageRef("registry.example.com/team/app@sha256:" + std::string(64, 'a'));
  // Host alone, with a scheme, with the API path: the same key.
  EXPECT_TRUE(pullSecretKeyMatches("registry.example.com", app));
  EXPECT_TRUE(pullSecretKeyMatches("https://registry.example.com", app));
  EXPECT_TRUE(pullSecretKeyMatches("https://registry.example.com/v2/", app));
  EXPECT_TRUE(pullSecretKeyMatches("http://registry.example.com/v1/", app));
  // Globs per host part, and as many parts.
  EXPECT_TRUE(pullSecretKeyMatches("*.example.com", app));
  EXPECT_TRUE(pullSecretKeyMatches("regis?ry.example.*", app));
  EXPECT_TRUE(pullSecretKeyMatches("[q-s]egistry.example.com", app));
  EXPECT_FALSE(pullSecretKeyMatches("*.com", app));
  EXPECT_FALSE(pullSecretKeyMatches("example.com", app));
  EXPECT_FALSE(pullSecretKeyMatches("other.example.com", app));
  // The path is a prefix of the repository's (as strings, as the kubelet compares).
  EXPECT_TRUE(pullSecretKeyMatches("registry.example.com/team", app));
  EXPECT_TRUE(pullSecretKeyMatches("registry.example.com/te", app));
  EXPECT_FALSE(pullSecretKeyMatches("registry.example.com/other", app));
  // Ports must be the same.
  EXPECT_FALSE(pullSecretKeyMatches("registry.example.com:5000", app));
  Reference ported = imageRef("registry.example.com:5000/team/app:1");
  EXPECT_TRUE(pullSecretKeyMatches("registry.example.com:5000", ported));
  EXPECT_FALSE(pullSecretKeyMatches("registry.example.com", ported));
  EXPECT_TRUE(pullSecretKeyMatches("127.0.0.1:5000", imageRef("127.0.0.1:5000/app:1")));
  EXPECT_FALSE(pullSecretKeyMatches("127.0.0.1:5001", imageRef("127.0.0.1:5000/app:1")));
}

TEST(PullSecrets, MostSpecificKeyFirstAcrossSecrets) {
  std::vector<PullSecretEntry> entries = {
      {"shop/a", "registry.example.com", "host-user", "p1"},
      {"shop/b", "registry.example.com/team", "team-user", "p2"},
      {"shop/c", "*.example.com", "glob-user", "p3"},
      {"shop/d", "quay.io", "quay-user", "p4"},
      {"shop/e", "https://registry.example.com/v2/", "host-user-2", "p5"}};
  auto found = pullSecretsFor(entries, imageRef("registry.example.com/team/app:1"));
  std::vector<std::string> users;
  for (const PullSecretEntry* e : found) users.push_back(e->username);
  // Reverse lexical order of the normalized keys: registry.example.com/team, then
  // registry.example.com (both of its entries, in the order given), then *.example.com.
  EXPECT_EQ(users,
            (std::vector<std::string>{"team-user", "host-user", "host-user-2", "glob-user"}));
  EXPECT_TRUE(pullSecretsFor(entries, imageRef("ghcr.io/org/app:1")).empty());
}

TEST(PullSecrets, DockerHubFallsBackToIndexDockerIo) {
  std::vector<PullSecretEntry> hub = {{"shop/hub", "https://index.docker.io/v1/", "hubber", "p"}};
  auto found = pullSecretsFor(hub, imageRef("nginx:1.27"));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0]->username, "hubber");
  // docker.io itself matches directly, and wins over the fallback.
  hub.push_back({"shop/io", "docker.io", "io-user", "p"});
  found = pullSecretsFor(hub, imageRef("library/nginx:1.27"));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0]->username, "io-user");
  // Not for other registries.
  EXPECT_TRUE(pullSecretsFor({{"shop/hub", "https://index.docker.io/v1/", "hubber", "p"}},
                             imageRef("quay.io/org/app:1"))
                  .empty());
}

}  // namespace
}  // namespace kh::registry
