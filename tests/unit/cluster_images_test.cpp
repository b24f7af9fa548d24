// `cluster scan --images`: the images the cluster's Pods run (by the digests their statuses
// report), pushed by skopeo into the real docker-registry, scanned once each against a
// vulnerability database, and reported per image with the workloads (a ReplicaSet's Deployment)
// that run it; an image that cannot be pulled is said to be not scanned. A snapshot replayed
// with --images gives the same.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "base/strings.h"
#include "tests/unit/fake_apiserver.h"
#include "tests/unit/image_util.h"
#include "tests/unit/registry_util.h"
#include "tests/unit/test_util.h"

namespace kh::test {
namespace {

using image::fixtures::shell;
using image::fixtures::tarOf;

// A Debian image whose libssl3 is before the fix (a docker-archive in D), and a database that
// knows the fix (D/v.db). Returns the tarball's path, or empty when the database failed.
std::string vulnerableImage(const TempDir& d, std::string* db) {
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
  *db = d.path() + "/v.db";
  if (runCli(fmt::format("image db import --db {} {}", *db, tracker)).exit_code != 0) return {};
  return tar;
}

// The digest skopeo reads for an image in the registry (without TLS verification).
std::string registryDigest(const std::string& image, const std::string& extra = "") {
  std::string digest;
  if (shell(fmt::format("skopeo --insecure-policy inspect --tls-verify=false {} --format "
                        "'{{{{.Digest}}}}' docker://{}",
                        extra, image),
            &digest) != 0)
    return {};
  while (!digest.empty() && (digest.back() == '\n' || digest.back() == ' ')) digest.pop_back();
  return digest;
}

TEST(ClusterImages, RunningImagesScannedOncePerDigest) {
  KH_NEED_REGISTRY_TOOLS();
  TempDir d;
  Pki pki;
  std::string why;
  if (!pki.make(d, &why)) GTEST_SKIP() << why;
  std::string db;
  std::string tar = vulnerableImage(d, &db);
  ASSERT_FALSE(tar.empty());
  Registry reg(d, "", "");
  ASSERT_TRUE(reg.up()) << "docker-registry did not start";
  std::string out;
  ASSERT_EQ(shell(fmt::format("skopeo --insecure-policy copy -q --dest-tls-verify=false "
                              "docker-archive:{} docker://{}/shop/web:1.0",
                              tar, reg.host()),
                  &out),
            0)
      << out;
  std::string digest = registryDigest(reg.host() + "/shop/web:1.0");
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
  std::string kubeconfig = api.writeKubeconfig(d, "scanner-token");
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

// --use-pull-secrets: a registry that wants a password (TLS, htpasswd), a Pod whose
// imagePullSecrets hold it. Without the flag the image cannot be pulled (no local
// credentials); with it, the kubelet's credentials pull it, only the docker-config Secrets are
// read with values (by field selector), and the password reaches no report, log or snapshot.
TEST(ClusterImages, UsePullSecretsPullsWithThePodsCredentials) {
  KH_NEED_REGISTRY_TOOLS();
  TempDir d;
  Pki pki;
  std::string why;
  if (!pki.make(d, &why)) GTEST_SKIP() << why;
  std::string db;
  std::string tar = vulnerableImage(d, &db);
  ASSERT_FALSE(tar.empty());
  std::string out;
  ASSERT_EQ(image::fixtures::selfSignedCert(d.path(), "127.0.0.1", "IP:127.0.0.1", &out), 0) << out;
  ASSERT_EQ(shell(fmt::format("cd {} && mkdir certs && cp cert.pem certs/ca.crt && htpasswd -Bbn "
                              "puller pull-pw-9f3k > htpasswd",
                              d.path()),
                  &out),
            0)
      << out;
  Registry reg(
      d, fmt::format("  tls:\n    certificate: {0}/cert.pem\n    key: {0}/key.pem\n", d.path()),
      fmt::format("auth:\n  htpasswd:\n    realm: kh\n    path: {}/htpasswd\n", d.path()));
  ASSERT_TRUE(reg.up()) << "docker-registry did not start";
  ASSERT_EQ(shell(fmt::format("skopeo --insecure-policy copy -q --dest-cert-dir {}/certs "
                              "--dest-creds puller:pull-pw-9f3k docker-archive:{} "
                              "docker://{}/shop/web:1.0",
                              d.path(), tar, reg.host()),
                  &out),
            0)
      << out;
  std::string digest = registryDigest(reg.host() + "/shop/web:1.0", "--creds puller:pull-pw-9f3k");
  ASSERT_TRUE(digest.starts_with("sha256:")) << digest;
  std::string web = reg.host() + "/shop/web";
  // The right password in regcred (a dockerconfigjson, `auth`), a wrong one for another
  // registry in a legacy dockercfg, and an Opaque Secret that must never be read with its value.
  std::string config = fmt::format(R"({{"auths":{{"{}":{{"auth":"{}"}}}}}})", reg.host(),
                                   base64Encode("puller:pull-pw-9f3k"));
  std::string legacy = R"({"other.example.com":{"username":"x","password":"legacy-pw-77"}})";
  std::string objects = fmt::format(
      R"({{"apiVersion":"v1","kind":"List","items":[
      {{"apiVersion":"v1","kind":"Secret","metadata":{{"name":"regcred","namespace":"shop"}},
        "type":"kubernetes.io/dockerconfigjson","data":{{".dockerconfigjson":"{}"}}}},
      {{"apiVersion":"v1","kind":"Secret","metadata":{{"name":"old","namespace":"shop"}},
        "type":"kubernetes.io/dockercfg","data":{{".dockercfg":"{}"}}}},
      {{"apiVersion":"v1","kind":"Secret","metadata":{{"name":"db","namespace":"shop"}},
        "type":"Opaque","data":{{"password":"{}"}}}},
      {{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"web-1","namespace":"shop"}},
        "spec":{{"imagePullSecrets":[{{"name":"old"}},{{"name":"regcred"}}],
                 "containers":[{{"name":"c","image":"{}:1.0"}}]}},
        "status":{{"containerStatuses":[{{"name":"c","image":"{}:1.0","imageID":"{}@{}"}}]}}}}]}})",
      base64Encode(config), base64Encode(legacy), base64Encode("opaque-value-5521"), web, web, web,
      digest);
  FakeApiServer api(pki);
  api.addObjects(objects);
  api.addToken("scanner-token", "scanner");
  api.start();
  std::string kubeconfig = api.writeKubeconfig(d, "scanner-token");
  // No Docker config in HOME; a TMPDIR of its own, to see the auth files go.
  ASSERT_EQ(shell(fmt::format("mkdir -p {0}/home {0}/tmp", d.path()), &out), 0);
  std::string env = fmt::format("HOME={0}/home TMPDIR={0}/tmp", d.path());
  std::string base = fmt::format(
      "cluster scan --kubeconfig {} --fail-on none --no-color --images --vuln-db {} "
      "--insecure-registry {} -f json",
      kubeconfig, db, reg.host());
  std::string scanned = fmt::format(R"("image":"{}@{}")", web, digest);
  // Without --use-pull-secrets: not pulled, and said so.
  auto without = runCli(base, d.path(), "", env);
  ASSERT_EQ(without.exit_code, 0) << without.err;
  EXPECT_NE(without.err.find("unauthorized"), std::string::npos) << without.err;
  EXPECT_EQ(without.out.find("DEBIAN-CVE-2023-0001"), std::string::npos);
  EXPECT_EQ(without.err.find("pull secrets:"), std::string::npos);
  // With it: pulled with regcred's credentials (old's are for another registry).
  std::string snap = d.path() + "/snap";
  size_t before = api.requests().size();
  auto with = runCli(base + " --use-pull-secrets --save-snapshot " + snap, d.path(), "", env);
  ASSERT_EQ(with.exit_code, 0) << with.err;
  EXPECT_NE(with.err.find("pull secrets: 2 read (2 registry entries), kept in memory only"),
            std::string::npos)
      << with.err;
  EXPECT_NE(with.err.find("scanned (credentials of pull secret shop/regcred)"), std::string::npos)
      << with.err;
  EXPECT_NE(with.out.find("DEBIAN-CVE-2023-0001"), std::string::npos) << with.out;
  // No value anywhere: report, log, snapshot.
  std::string snapshot;
  ASSERT_EQ(shell("cat " + snap + "/*", &snapshot), 0);
  for (const char* secret :
       {"pull-pw-9f3k", "legacy-pw-77", "opaque-value-5521", "cHVsbGVyOnB1bGwtcHctOWYzaw"})
    EXPECT_EQ((with.out + with.err + snapshot).find(secret), std::string::npos) << secret;
  // What was read with values: the two docker-config types only, by field selector; every other
  // Secrets list asked for metadata alone.
  std::vector<ApiRequest> reqs = api.requests();
  int typed = 0;
  for (size_t i = before; i < reqs.size(); ++i) {
    if (reqs[i].target.find("/secrets") == std::string::npos) continue;
    if (reqs[i].target.find("fieldSelector=type%3Dkubernetes.io%2Fdocker") != std::string::npos ||
        reqs[i].target.find("fieldSelector=type=kubernetes.io/docker") != std::string::npos) {
      ++typed;
      EXPECT_EQ(reqs[i].accept, "application/json") << reqs[i].target;
    } else {
      EXPECT_TRUE(reqs[i].accept.starts_with("application/json;as=PartialObjectMetadataList"))
          << reqs[i].target;
    }
  }
  EXPECT_EQ(typed, 2);
  // The auth file's private directory is gone.
  std::string left;
  shell(fmt::format("ls -A {}/tmp", d.path()), &left);
  EXPECT_EQ(left.find("kubeharden-pull-"), std::string::npos) << left;
  // Secrets not listable: a warning, and the image is pulled with the local credentials.
  api.forbid("secrets");
  auto forbidden = runCli(base + " --use-pull-secrets --allow-partial", d.path(), "", env);
  EXPECT_EQ(forbidden.exit_code, 0) << forbidden.err;
  EXPECT_NE(forbidden.err.find("could not be listed"), std::string::npos) << forbidden.err;
  EXPECT_NE(forbidden.err.find("unauthorized"), std::string::npos) << forbidden.err;
  // A wrong password in the pull secret: not scanned, and the finding says whose credentials
  // were tried.
  std::string wrong = objects;
  size_t at = wrong.find(base64Encode(config));
  ASSERT_NE(at, std::string::npos);
  wrong.replace(at, base64Encode(config).size(),
                base64Encode(fmt::format(R"({{"auths":{{"{}":{{"auth":"{}"}}}}}})", reg.host(),
                                         base64Encode("puller:wrong-pw"))));
  FakeApiServer api2(pki);
  api2.addObjects(wrong);
  api2.addToken("scanner-token", "scanner");
  api2.start();
  std::string kubeconfig2 = api2.writeKubeconfig(d, "scanner-token", "kubeconfig2");
  auto wrong_pw = runCli(fmt::format("cluster scan --kubeconfig {} --fail-on none --no-color "
                                     "--images --vuln-db {} --insecure-registry {} "
                                     "--use-pull-secrets",
                                     kubeconfig2, db, reg.host()),
                         d.path(), "", env);
  EXPECT_EQ(wrong_pw.exit_code, 0) << wrong_pw.err;
  EXPECT_NE(wrong_pw.out.find("could not be scanned: "), std::string::npos) << wrong_pw.out;
  EXPECT_NE(wrong_pw.out.find("(pulled with the credentials of pull secret shop/regcred)"),
            std::string::npos)
      << wrong_pw.out;
  EXPECT_EQ((wrong_pw.out + wrong_pw.err).find("wrong-pw"), std::string::npos);
  // Misuse: without --images, or on a snapshot (which keeps no values).
  auto no_images =
      runCli(fmt::format("cluster scan --kubeconfig {} --use-pull-secrets", kubeconfig), d.path(),
             "", env);
  EXPECT_EQ(no_images.exit_code, 2);
  EXPECT_NE(no_images.err.find("--use-pull-secrets is for --images"), std::string::npos)
      << no_images.err;
  auto snapshot_run =
      runCli(fmt::format("cluster scan --images --use-pull-secrets --from-snapshot {}", snap),
             d.path(), "", env);
  EXPECT_EQ(snapshot_run.exit_code, 2);
  EXPECT_NE(snapshot_run.err.find("keeps no Secret's values"), std::string::npos)
      << snapshot_run.err;
}

}  // namespace
}  // namespace kh::test
