// Image references, parsed and normalised as docker, crane and Trivy read them: Docker Hub's
// defaults, registries with ports and IPv6 hosts, tags and digests together, and the references
// the grammar refuses (with a reason, for exit 2).
#include <gtest/gtest.h>

#include "registry/reference.h"

namespace kh::registry {
namespace {

struct Case {
  const char* text;
  const char* domain;
  const char* repository;
  const char* tag;
  const char* digest;
};

constexpr const char* kSha =
    "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

TEST(RegistryReference, NormalisesAsTheEcosystemDoes) {
  std::string with_digest = std::string("nginx:1.27@") + kSha;
  std::string digest_only = std::string("ghcr.io/org/app@") + kSha;
  const Case cases[] = {
      {"nginx", "docker.io", "library/nginx", "latest", ""},
      {"nginx:1.27", "docker.io", "library/nginx", "1.27", ""},
      {"bitnami/redis:7.2", "docker.io", "bitnami/redis", "7.2", ""},
      {"docker.io/nginx", "docker.io", "library/nginx", "latest", ""},
      {"index.docker.io/library/nginx:1", "docker.io", "library/nginx", "1", ""},
      {"localhost/app", "localhost", "app", "latest", ""},
      {"localhost:5000/app:1", "localhost:5000", "app", "1", ""},
      {"registry:5000/a/b:tag", "registry:5000", "a/b", "tag", ""},
      {"127.0.0.1:5000/team/app", "127.0.0.1:5000", "team/app", "latest", ""},
      {"[::1]:5000/app:v2", "[::1]:5000", "app", "v2", ""},
      {"ghcr.io/org/sub/app:v1.2.3-rc.1", "ghcr.io", "org/sub/app", "v1.2.3-rc.1", ""},
      {"quay.io/a__b/c-d.e_f:TAG_1", "quay.io", "a__b/c-d.e_f", "TAG_1", ""},
      {"Registry.Example.com/app", "Registry.Example.com", "app", "latest", ""},
      {"foo--bar/baz", "docker.io", "foo--bar/baz", "latest", ""},
  };
  for (const Case& c : cases) {
    auto r = parseReference(c.text);
    ASSERT_TRUE(r.ok()) << c.text << ": " << r.error().message;
    EXPECT_EQ(r->domain, c.domain) << c.text;
    EXPECT_EQ(r->repository, c.repository) << c.text;
    EXPECT_EQ(r->tag, c.tag) << c.text;
    EXPECT_EQ(r->digest, c.digest) << c.text;
  }
  // A tag and a digest: both kept, the digest is what is pulled.
  auto both = parseReference(with_digest);
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(both->tag, "1.27");
  EXPECT_EQ(both->digest, kSha);
  EXPECT_EQ(both->identifier(), kSha);
  EXPECT_EQ(both->canonical(), std::string("docker.io/library/nginx:1.27@") + kSha);
  EXPECT_EQ(both->familiar(), with_digest);
  // A digest alone: no "latest".
  auto d = parseReference(digest_only);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->tag, "");
  EXPECT_EQ(d->identifier(), kSha);
  EXPECT_EQ(d->canonical(), digest_only);
}

TEST(RegistryReference, DockerHubIsServedFromRegistry1AndLoopbackIsKnown) {
  EXPECT_EQ(parseReference("nginx")->apiHost(), "registry-1.docker.io");
  EXPECT_TRUE(parseReference("nginx")->isDockerHub());
  EXPECT_EQ(parseReference("ghcr.io/a/b")->apiHost(), "ghcr.io");
  EXPECT_EQ(parseReference("nginx")->familiar(), "nginx:latest");
  EXPECT_EQ(parseReference("bitnami/redis")->familiar(), "bitnami/redis:latest");
  // A Docker Hub repository whose first component looks like a registry keeps the domain, so
  // the short form reads back as the same image (found by the fuzzer).
  EXPECT_EQ(parseReference("docker.io/foo.com/app")->familiar(), "docker.io/foo.com/app:latest");
  EXPECT_EQ(parseReference("library/a/b")->familiar(), "library/a/b:latest");
  EXPECT_TRUE(parseReference("localhost:5000/a")->isLoopback());
  EXPECT_TRUE(parseReference("127.0.0.1:5000/a")->isLoopback());
  EXPECT_TRUE(parseReference("[::1]:5000/a")->isLoopback());
  EXPECT_FALSE(parseReference("localhost.example.com/a")->isLoopback());
  EXPECT_FALSE(parseReference("registry:5000/a")->isLoopback());
}

TEST(RegistryReference, RefusesWhatTheGrammarRefusesAndSaysWhy) {
  const std::pair<const char*, const char*> bad[] = {
      {"", "it is empty"},
      {"Nginx", "lower case"},
      {"docker.io/Library/nginx", "lower case"},
      {"nginx:", "is not a tag"},
      {"nginx:-x", "is not a tag"},
      {"nginx:a/b", "registry host"},  // nginx:a is a host with a bad port
      {"nginx@sha256:abc", "is not a digest"},
      {"nginx@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
       "is not a digest"},
      {"nginx@md5", "is not a digest"},
      {"a//b", "not a repository path component"},
      {"-a/b", "not a repository path component"},
      {"a_/b", "not a repository path component"},
      {"a___b", "not a repository path component"},
      {"localhost:/app", "registry host"},
      {"ghcr.io/", "names no repository"},
      {"nginx latest", "white space"},
      {"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "image ID"},
  };
  for (const auto& [text, why] : bad) {
    auto r = parseReference(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_NE(r.error().message.find(why), std::string::npos) << text << ": " << r.error().message;
    EXPECT_NE(r.error().message.find("invalid image reference"), std::string::npos);
  }
  std::string long_tag = "nginx:" + std::string(129, 'a');
  EXPECT_FALSE(parseReference(long_tag).ok());
  EXPECT_TRUE(parseReference("nginx:" + std::string(128, 'a')).ok());
  std::string long_name = "a/" + std::string(260, 'b');
  EXPECT_NE(parseReference(long_name).error().message.find("255"), std::string::npos);
  // The limit counts the normalised name: 246 characters as typed, 256 with docker.io/.
  EXPECT_FALSE(parseReference("a/" + std::string(244, 'b')).ok());
  EXPECT_TRUE(parseReference("a/" + std::string(243, 'b')).ok());
}

TEST(RegistryReference, DigestsAndPlatforms) {
  EXPECT_TRUE(isValidDigest(kSha));
  EXPECT_TRUE(isValidDigest("sha512:" + std::string(128, 'f')));
  EXPECT_FALSE(isValidDigest("sha512:" + std::string(64, 'f')));
  EXPECT_TRUE(isValidDigest("multihash+base58:" + std::string(40, 'a')));
  EXPECT_FALSE(isValidDigest("sha256" + std::string(64, 'a')));
  EXPECT_FALSE(isValidDigest(":" + std::string(64, 'a')));
  auto p = parsePlatform("linux/arm64/v8");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->os, "linux");
  EXPECT_EQ(p->architecture, "arm64");
  EXPECT_EQ(p->variant, "v8");
  EXPECT_EQ(p->str(), "linux/arm64/v8");
  EXPECT_EQ(parsePlatform("linux/amd64")->str(), "linux/amd64");
  for (const char* bad : {"linux", "linux/", "/amd64", "linux/amd64/v8/x", "Linux/amd64", ""})
    EXPECT_FALSE(parsePlatform(bad).ok()) << bad;
}

}  // namespace
}  // namespace kh::registry
