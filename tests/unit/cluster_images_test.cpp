// `cluster scan --images`: the images the cluster's Pods run (by the digests their statuses
// report), pushed by skopeo into the real docker-registry, scanned once each against a
// vulnerability database, and reported per image with the workloads (a ReplicaSet's Deployment)
// that run it; an image that cannot be pulled is said to be not scanned. A snapshot replayed
// with --images gives the same.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/unit/fake_apiserver.h"
#include "tests/unit/image_util.h"
#include "tests/unit/registry_util.h"
#include "tests/unit/test_util.h"

namespace kh::test {
namespace {

using image::fixtures::shell;
using image::fixtures::tarOf;

TEST(ClusterImages, RunningImagesScannedOncePerDigest) {
  KH_NEED_REGISTRY_TOOLS();
  TempDir d;
  Pki pki;
  std::string why;
  if (!pki.make(d, &why)) GTEST_SKIP() << why;
  // A Debian image whose libssl3 is before the fix, and a database that knows it.
  std::vector<image::fixtures::Member> files = {
      {"etc/os-release", "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n"},
      {"var/lib/dpkg/status",
       "Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nSource: openssl\n"
       "Version: 3.0.9-1\n"}};
  std::string tar = d.write(
      "web.tar", tarOf({{"manifest.json", R"([{"Config":"c.json","Layers":["l/layer.tar"]}])"},
                        {"c.json", image::fixtures::config({tarOf(files)})},
                        {"l/layer.tar", tarOf(files)}}));
  std::string tracker =
      d.write("tracker.json", R"({"openssl": {"CVE-2023-0001": {"description": "Overflow in X",
    "releases": {"bookworm": {"status": "resolved", "fixed_version": "3.0.11-1~deb12u1", "urgency": "high"}}}}})");
  std::string db = d.path() + "/v.db";
  ASSERT_EQ(runCli(fmt::format("image db import --db {} {}", db, tracker)).exit_code, 0);
  Registry reg(d, "", "");
  ASSERT_TRUE(reg.up()) << "docker-registry did not start";
  std::string out;
  ASSERT_EQ(shell(fmt::format("skopeo --insecure-policy copy -q --dest-tls-verify=false "
                              "docker-archive:{} docker://{}/shop/web:1.0",
                              tar, reg.host()),
                  &out),
            0)
      << out;
  std::string digest;
  ASSERT_EQ(shell(fmt::format("skopeo --insecure-policy inspect --tls-verify=false --format "
                              "'{{{{.Digest}}}}' docker://{}/shop/web:1.0",
                              reg.host()),
                  &digest),
            0);
  while (!digest.empty() && (digest.back() == '\n' || digest.back() == ' ')) digest.pop_back();
  ASSERT_TRUE(digest.starts_with("sha256:")) << digest;
  // Two replicas of one Deployment (one image, scanned once) and a debug Pod whose image is not
  // in the registry.
  std::string web = reg.host() + "/shop/web";
  auto pod = [&](const std::string& name, const std::string& owner, const std::string& image,
                 const std::string& image_id) {
    return fmt::format(
        R"({{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"{}","namespace":"shop"{}}},
        "spec":{{"containers":[{{"name":"c","image":"{}"}}]}},
        "status":{{"containerStatuses":[{{"name":"c","image":"{}","imageID":"{}"}}]}}}})",
        name,
        owner.empty()
            ? ""
            : fmt::format(
                  R"(,"ownerReferences":[{{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"{}","uid":"u1","controller":true}}])",
                  owner),
        image, image, image_id);
  };
  std::string objects = fmt::format(
      R"({{"apiVersion":"v1","kind":"List","items":[
      {{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{{"name":"web-7d","namespace":"shop",
        "ownerReferences":[{{"apiVersion":"apps/v1","kind":"Deployment","name":"web","uid":"u0","controller":true}}]}},
        "spec":{{"selector":{{"matchLabels":{{"app":"web"}}}},"template":{{"metadata":{{"labels":{{"app":"web"}}}},"spec":{{"containers":[{{"name":"c","image":"{0}:1.0"}}]}}}}}}}},
      {1},{2},{3}]}})",
      web, pod("web-1", "web-7d", web + ":1.0", "docker-pullable://" + web + "@" + digest),
      pod("web-2", "web-7d", web + ":1.0", web + "@" + digest),
      pod("debug", "", reg.host() + "/shop/missing:1",
          reg.host() + "/shop/missing@sha256:" + std::string(64, '0')));
  FakeApiServer api(pki);
  api.addObjects(objects);
  api.addToken("scanner-token", "scanner");
  api.start();
  std::string kubeconfig = d.write("kubeconfig", fmt::format(R"(current-context: fake
clusters: [{{name: fake, cluster: {{server: "{}", certificate-authority: {}}}}}]
users: [{{name: scanner, user: {{token: scanner-token}}}}]
contexts: [{{name: fake, context: {{cluster: fake, user: scanner}}}}]
)",
                                                             api.url(), pki.path("ca.pem")));
  std::string env = "HOME=" + d.path();
  auto check = [&](const CmdResult& r, const std::string& what) {
    ASSERT_EQ(r.exit_code, 0) << what << "\n" << r.err;
    EXPECT_NE(r.err.find("images: 2 distinct images run by 2 workloads"), std::string::npos)
        << what << "\n"
        << r.err;
    EXPECT_NE(r.out.find(fmt::format("image {}@{} (run by shop/Deployment/web) has 1 known "
                                     "vulnerability (1 high): DEBIAN-CVE-2023-0001 in libssl3 "
                                     "3.0.9-1, fixed in 3.0.11-1~deb12u1",
                                     web, digest)),
              std::string::npos)
        << what << "\n"
        << r.out;
    EXPECT_NE(r.out.find(fmt::format("image {}/shop/missing@sha256:{} (run by shop/Pod/debug) "
                                     "could not be scanned: ",
                                     reg.host(), std::string(64, '0'))),
              std::string::npos)
        << what << "\n"
        << r.out;
  };
  std::string snap = d.path() + "/snap";
  auto live = runCli(fmt::format("cluster scan --kubeconfig {} --fail-on none --no-color --images "
                                 "--vuln-db {} --save-snapshot {}",
                                 kubeconfig, db, snap),
                     d.path(), "", env);
  check(live, "live");
  auto replayed = runCli(fmt::format("cluster scan --fail-on none --no-color --images --vuln-db {} "
                                     "--from-snapshot {}",
                                     db, snap),
                         d.path(), "", env);
  check(replayed, "from the snapshot");
  // --fail-on high fails on the image's high vulnerability.
  auto fail =
      runCli(fmt::format("cluster scan --kubeconfig {} --fail-on high --images --vuln-db {} "
                         "--include-resources pods --include-resources replicasets.apps",
                         kubeconfig, db),
             d.path(), "", env);
  EXPECT_EQ(fail.exit_code, 1) << fail.err;
}

}  // namespace
}  // namespace kh::test
