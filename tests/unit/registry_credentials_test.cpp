// Where credentials come from, in the documented order, with real docker-credential-* helper
// processes (shell scripts speaking the protocol), Docker Hub's keys, podman's namespaced keys,
// and helpers that hang or do not know the registry.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "base/strings.h"
#include "registry/auth.h"
#include "registry/credentials.h"
#include "tests/unit/test_util.h"

namespace kh::test {
namespace {

using registry::CredentialSources;
using registry::findCredentials;
using registry::parseReference;

std::string authEntry(const std::string& user, const std::string& pw) {
  return fmt::format(R"({{"auth":"{}"}})", kh::base64Encode(user + ":" + pw));
}

struct Env {
  TempDir d;
  CredentialSources src;
  Env() {
    src.home = d.path() + "/home";
    src.path = d.path() + "/bin:/usr/bin:/bin";
    src.helper_timeout = std::chrono::seconds(1);
  }
  void helper(const std::string& name, const std::string& script) {
    std::string p = d.write("bin/docker-credential-" + name, "#!/bin/sh\n" + script);
    ::chmod(p.c_str(), 0755);
  }
};

TEST(RegistryCredentials, TheOrderIsCommandLineAuthfileDockerConfigContainersAnonymous) {
  Env e;
  auto ref = parseReference("ghcr.io/team/app:1").value();
  e.d.write("home/.config/containers/auth.json",
            R"({"auths":{"ghcr.io":)" + authEntry("podman-user", "p1") + "}}");
  auto c = findCredentials(ref, e.src);
  EXPECT_EQ(c.credentials.username, "podman-user");
  EXPECT_EQ(c.credentials.password, "p1");
  EXPECT_NE(c.credentials.source.find("containers/auth.json"), std::string::npos);
  e.d.write("home/.docker/config.json",
            R"({"auths":{"https://ghcr.io":)" + authEntry("docker-user", "p2") + "}}");
  EXPECT_EQ(findCredentials(ref, e.src).credentials.username, "docker-user");
  e.src.registry_auth_file = e.d.write(
      "auth.json", R"({"auths":{"ghcr.io/team":)" + authEntry("authfile-user", "p3") + "}}");
  EXPECT_EQ(findCredentials(ref, e.src).credentials.username, "authfile-user");
  e.src.username = "cli-user";
  e.src.password = "p4";
  auto cli = findCredentials(ref, e.src);
  EXPECT_EQ(cli.credentials.username, "cli-user");
  EXPECT_EQ(cli.credentials.source, "--username");
  // Another registry: nothing matches, anonymous.
  e.src.username.clear();
  auto other = findCredentials(parseReference("quay.io/x/y").value(), e.src);
  EXPECT_TRUE(other.credentials.anonymous());
  EXPECT_TRUE(other.warnings.empty());
}

TEST(RegistryCredentials, DockerHubKeysAndPodmanNamespaces) {
  Env e;
  e.d.write("home/.docker/config.json",
            R"({"auths":{"docker.io":)" + authEntry("second", "x") +
                R"(,"https://index.docker.io/v1/":)" + authEntry("first", "y") + R"(,"quay.io":)" +
                authEntry("quay-any", "z") + R"(,"quay.io/team":)" + authEntry("quay-team", "w") +
                R"(,"registry.local:5000":{"username":"u","password":"v"})" +
                R"(,"https://id.example.com/v2/":{"identitytoken":"refresh-me"}}})");
  EXPECT_EQ(findCredentials(parseReference("nginx").value(), e.src).credentials.username, "first");
  EXPECT_EQ(findCredentials(parseReference("quay.io/team/app").value(), e.src).credentials.username,
            "quay-team");
  EXPECT_EQ(
      findCredentials(parseReference("quay.io/other/app").value(), e.src).credentials.username,
      "quay-any");
  auto plain = findCredentials(parseReference("registry.local:5000/a").value(), e.src);
  EXPECT_EQ(plain.credentials.username, "u");
  EXPECT_EQ(plain.credentials.password, "v");
  auto id = findCredentials(parseReference("id.example.com/a").value(), e.src);
  EXPECT_EQ(id.credentials.identity_token, "refresh-me");
  EXPECT_FALSE(id.credentials.anonymous());
  auto keys = registry::authKeys(parseReference("nginx").value());
  ASSERT_GE(keys.size(), 3u);
  EXPECT_EQ(keys[0], "docker.io/library/nginx");
  EXPECT_EQ(keys[2], "https://index.docker.io/v1/");
}

TEST(RegistryCredentials, HelpersSpeakTheProtocolAndFailuresFallThrough) {
  Env e;
  // Answers for ghcr.io only; says "not found" for anything else.
  e.helper("fake", R"(read server
if [ "$1" != get ]; then exit 2; fi
if [ "$server" = "ghcr.io" ]; then
  printf '{"ServerURL":"%s","Username":"helper-user","Secret":"h3lper-s3cret"}' "$server"
else
  echo "credentials not found in native keychain"; exit 1
fi
)");
  e.helper("hangs", "sleep 30\n");
  e.helper("broken", "echo 'token s3cret-leak'; exit 3\n");
  e.d.write("home/.docker/config.json",
            R"({"credHelpers":{"ghcr.io":"fake","slow.io":"hangs","bad.io":"broken"},)"
            R"("credsStore":"fake","auths":{"slow.io":)" +
                authEntry("fallback", "f") + "}}");
  auto c = findCredentials(parseReference("ghcr.io/a/b").value(), e.src);
  EXPECT_EQ(c.credentials.username, "helper-user");
  EXPECT_EQ(c.credentials.password, "h3lper-s3cret");
  EXPECT_EQ(c.credentials.source, "credential helper docker-credential-fake");
  EXPECT_TRUE(c.warnings.empty());
  // credsStore for a registry without its own helper: "not found" is quietly anonymous.
  auto nf = findCredentials(parseReference("quay.io/a/b").value(), e.src);
  EXPECT_TRUE(nf.credentials.anonymous());
  EXPECT_TRUE(nf.warnings.empty());
  // A helper that hangs is stopped, said, and the auths entry is used.
  auto slow = findCredentials(parseReference("slow.io/a/b").value(), e.src);
  EXPECT_EQ(slow.credentials.username, "fallback");
  ASSERT_EQ(slow.warnings.size(), 1u);
  EXPECT_NE(slow.warnings[0].find("did not answer within 1 s"), std::string::npos);
  // A helper that fails: its output (which may hold secrets) is not repeated.
  auto bad = findCredentials(parseReference("bad.io/a/b").value(), e.src);
  ASSERT_EQ(bad.warnings.size(), 1u);
  EXPECT_NE(bad.warnings[0].find("failed (exit 3)"), std::string::npos);
  EXPECT_EQ(bad.warnings[0].find("s3cret"), std::string::npos);
  // A helper that is not installed.
  e.d.write("home/.docker/config.json", R"({"credsStore":"desktop"})");
  auto missing = findCredentials(parseReference("ghcr.io/a/b").value(), e.src);
  ASSERT_EQ(missing.warnings.size(), 1u);
  EXPECT_NE(missing.warnings[0].find("docker-credential-desktop is configured but not installed"),
            std::string::npos);
  // A config that is not JSON is said, and skipped.
  e.d.write("home/.docker/config.json", "{not json");
  auto broken = findCredentials(parseReference("ghcr.io/a/b").value(), e.src);
  ASSERT_EQ(broken.warnings.size(), 1u);
  EXPECT_NE(broken.warnings[0].find("is not a JSON object"), std::string::npos);
}

}  // namespace
}  // namespace kh::test
