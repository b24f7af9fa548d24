#include "tests/unit/signing_util.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace kh::test {

using image::fixtures::blob;
using image::fixtures::sha256;
using image::fixtures::shell;
using image::fixtures::tarOf;

const std::string kTools = std::string(KH_SOURCE_DIR) + "/tests/tools";

// A one-layer OCI archive whose file says `what` (so two images have two digests), and its
// manifest digest.
std::string ociArchive(const std::string& what, std::string* digest) {
  std::string layer = tarOf({{"etc/os-release", "ID=alpine\n"}, {"app/what", what}}, "gzip");
  std::string config = fmt::format(
      R"({{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":["{}"]}}}})",
      sha256(image::fixtures::uncompressed(layer)));
  std::string m = fmt::format(
      R"({{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{}","size":{}}}]}})",
      sha256(config), config.size(), sha256(layer), layer.size());
  *digest = sha256(m);
  std::string index = fmt::format(
      R"({{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{}","size":{},"annotations":{{"org.opencontainers.image.ref.name":"v1"}}}}]}})",
      sha256(m), m.size());
  return tarOf({{"oci-layout", R"({"imageLayoutVersion":"1.0.0"})"},
                {"index.json", index},
                {blob(sha256(m)), m},
                {blob(sha256(config)), config},
                {blob(sha256(layer)), layer}});
}

bool SignedRegistry::start(std::string* why) {
  std::string out;
  if (shell(fmt::format("cd {} && htpasswd -Bbn alice s3cr3t-pw > htpasswd", d.path()), &out)) {
    *why = out;
    return false;
  }
  reg = std::make_unique<Registry>(
      d, "",
      fmt::format("auth:\n  htpasswd:\n    realm: kh-test\n    path: {}/htpasswd\n", d.path()));
  if (!reg->up()) {
    *why = "docker-registry did not start";
    return false;
  }
  std::string auth = d.write(
      "auth.json",
      fmt::format(R"({{"auths":{{"{}":{{"auth":"YWxpY2U6czNjcjN0LXB3"}}}}}})", reg->host()));
  env = fmt::format("REGISTRY_USER=alice REGISTRY_PASSWORD=s3cr3t-pw REGISTRY_AUTH_FILE={}", auth);
  for (auto [name, digest] : {std::pair{"a", &a}, std::pair{"b", &b}}) {
    std::string tar = d.write(fmt::format("{}.tar", name), ociArchive(name, digest));
    if (shell(fmt::format("skopeo --insecure-policy copy -q --dest-tls-verify=false "
                          "--dest-creds alice:s3cr3t-pw oci-archive:{} docker://{}/team/app:{} "
                          "2>&1",
                          tar, reg->host(), name),
              &out)) {
      *why = out;
      return false;
    }
  }
  return true;
}

std::string SignedRegistry::sign(const std::string& name, const std::string& digest,
                                 const std::string& flags) {
  std::string out;
  int rc = shell(fmt::format("{} node {}/sigstore-sign.js --out {}/{} --image {}/team/app@{} {} "
                             "2>&1",
                             env, kTools, d.path(), name, reg->host(), digest, flags),
                 &out);
  EXPECT_EQ(rc, 0) << out;
  return d.path() + "/" + name;
}

CmdResult SignedRegistry::verify(const std::string& image, const std::string& dir,
                                 const std::string& policy) {
  return runCli(fmt::format("image verify {}/team/app{} --trusted-root {}/trusted_root.json {}",
                            reg->host(), image, dir, policy),
                "", "", env);
}

}  // namespace kh::test
