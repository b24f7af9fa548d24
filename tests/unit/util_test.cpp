#include <gtest/gtest.h>

#include "base/strings.h"
#include "checks/secrets/rules.h"
#include "checks/util/host_path.h"
#include "checks/util/image_ref.h"

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

}  // namespace
}  // namespace kh
