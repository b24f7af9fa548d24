// kubeharden's own container image (scripts/build-image.py, `make image`): reproducible, clean
// under its own scan with every package identified, and complete: the binary runs from the
// image's root filesystem alone (chroot, as the non-root user 65532), serving a real
// AdmissionReview over TLS, scanning manifests and an image.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <set>
#include <string>

#include "tests/unit/image_util.h"
#include "tests/unit/registry_util.h"
#include "tests/unit/test_util.h"

namespace kh::test {
namespace {

namespace fs = std::filesystem;
using image::fixtures::selfSignedCert;
using image::fixtures::shell;

const std::string kSrc = KH_SOURCE_DIR;

// Builds the image from the test's binary into `out`; its digest, or "" (the reason in `why`).
std::string buildImage(const std::string& out, std::string* why, const std::string& extra = "") {
  std::string log;
  int rc = shell(fmt::format("python3 {}/scripts/build-image.py --binary {} --out {} --tag 0.1.0 "
                             "--epoch 1700000000 --revision 0123456789abcdef {} 2>&1",
                             kSrc, KH_BINARY, out, extra),
                 &log);
  if (rc != 0) {
    *why = log;
    return {};
  }
  std::string digest = readFile(out + "/digest");
  while (!digest.empty() && digest.back() == '\n') digest.pop_back();
  return digest;
}

// "path type mode size" of every entry under `dir`, sorted: what two root filesystems compare by
// (without sizes where the libraries may come from another point release).
std::set<std::string> fileList(const std::string& dir, bool sizes = true) {
  std::set<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    auto st = it->symlink_status();
    std::string rel = fs::relative(it->path(), dir).string();
    char kind = fs::is_symlink(st) ? 'l' : fs::is_directory(st) ? 'd' : 'f';
    uintmax_t size = kind == 'f' && sizes ? fs::file_size(it->path()) : 0;
    std::string target = kind == 'l' ? " -> " + fs::read_symlink(it->path()).string() : "";
    out.insert(fmt::format("{} {} {:o} {}{}", rel, kind, static_cast<unsigned>(st.permissions()),
                           size, target));
  }
  return out;
}

#define KH_NEED_OPTIMISED_BINARY()                                                        \
  if (KH_SANITIZED)                                                                       \
  GTEST_SKIP() << "the image packages the optimised binary (make image); this sanitizer " \
                  "build's binary needs its runtime and is tested by the other half"

// Two builds of one commit give the same digest and the same bytes; the image is the minimal
// one the issue asks for, and kubeharden's own scan of it is clean with every package named.
TEST(OwnImage, ReproducibleMinimalAndCleanUnderItsOwnScan) {
  KH_NEED_OPTIMISED_BINARY();
  TempDir d;
  std::string why;
  std::string a = buildImage(d.path() + "/a", &why, "--rootfs " + d.path() + "/rootfs");
  ASSERT_FALSE(a.empty()) << why;
  std::string b = buildImage(d.path() + "/b", &why);
  EXPECT_EQ(a, b);
  EXPECT_TRUE(readFile(d.path() + "/a/kubeharden-0.1.0.tar") ==
              readFile(d.path() + "/b/kubeharden-0.1.0.tar"));
  EXPECT_EQ(a.size(), 71u);

  auto scan = runCli("image scan -f json " + d.path() + "/a/oci");
  ASSERT_EQ(scan.exit_code, 0) << scan.err;
  rapidjson::Document j;
  j.Parse(scan.out.c_str());
  ASSERT_FALSE(j.HasParseError());
  const auto& img = j["images"][0];
  EXPECT_EQ(std::string(img["image"]["manifestDigest"].GetString()), a);
  EXPECT_STREQ(img["os"]["id"].GetString(), "debian");
  EXPECT_EQ(img["secrets"].Size(), 0u);
  // Every library file comes from a Debian package the scan names (status.d).
  std::set<std::string> named;
  for (const auto& p : img["packages"].GetArray()) named.insert(p["name"].GetString());
  EXPECT_TRUE(named.count("libc6") && named.count("libssl3") && named.count("libcurl4") &&
              named.count("libarchive13") && named.count("libisal2") &&
              named.count("ca-certificates"))
      << scan.out.substr(0, 3000);
  // What the root filesystem holds: no shell, no package manager; the user and /tmp.
  fs::path root = d.path() + "/root";
  fs::create_directories(root);
  std::string out;
  ASSERT_EQ(shell(fmt::format("cd {0} && tar -xf {1}/a/kubeharden-0.1.0.tar && tar -xf */layer.tar "
                              "-C {2}",
                              d.path(), d.path(), root.string()),
                  &out),
            0)
      << out;
  EXPECT_TRUE(fs::exists(root / "kubeharden"));
  EXPECT_FALSE(fs::exists(root / "bin/sh") || fs::exists(root / "usr/bin/sh"));
  EXPECT_FALSE(fs::exists(root / "usr/bin/dpkg") || fs::exists(root / "usr/bin/apt"));
  EXPECT_NE(readFile((root / "etc/passwd").string()).find(":65532:65532:"), std::string::npos);
  EXPECT_EQ(fs::status(root / "tmp").permissions() & fs::perms::sticky_bit, fs::perms::sticky_bit);
  size_t status_files = 0;
  for (const auto& e : fs::directory_iterator(root / "var/lib/dpkg/status.d")) {
    ++status_files;
    EXPECT_TRUE(named.count(e.path().filename().string())) << e.path();
  }
  EXPECT_EQ(status_files, named.size());
  // The config: non-root, the entrypoint, the OCI labels.
  std::string config;
  for (const auto& e : fs::directory_iterator(d.path()))
    if (e.path().extension() == ".json" && e.path().filename() != "manifest.json")
      config = readFile(e.path().string());
  EXPECT_NE(config.find(R"("User":"65532:65532")"), std::string::npos) << config;
  EXPECT_NE(config.find(R"("Entrypoint":["/kubeharden"])"), std::string::npos) << config;
  EXPECT_NE(config.find(R"("org.opencontainers.image.revision":"0123456789abcdef")"),
            std::string::npos)
      << config;
  EXPECT_NE(config.find(R"("created":"2023-11-14T22:13:20Z")"), std::string::npos) << config;
  EXPECT_NE(config.find(R"("org.opencontainers.image.licenses":"NOASSERTION")"), std::string::npos)
      << config;
  // The root filesystem the Dockerfile copies into its scratch stage (--rootfs) is the layer's.
  EXPECT_EQ(fileList(root.string()), fileList(d.path() + "/rootfs"));
  EXPECT_GT(fileList(root.string()).size(), 60u);
  auto strict = runCli("image scan --fail-on medium " + d.path() + "/a/kubeharden-0.1.0.tar");
  EXPECT_EQ(strict.exit_code, 0) << strict.out << strict.err;
  // No vulnerability above low against the shared advisories, where they are here (they cover
  // AlmaLinux and PyPI today, none of the image's Debian packages: the scan must still run clean).
  if (std::string vulndata = sharedDir("vulndata"); !vulndata.empty()) {
    std::string db = d.path() + "/v.db";
    auto imp = runCli(fmt::format("image db import --db {} {}/pypi {}/almalinux/almalinux9", db,
                                  vulndata, vulndata));
    ASSERT_EQ(imp.exit_code, 0) << imp.err;
    auto vulns =
        runCli(fmt::format("image scan -f json --fail-on medium --db {} {}/a/oci", db, d.path()));
    EXPECT_EQ(vulns.exit_code, 0) << vulns.err;
    EXPECT_NE(vulns.out.find("\"vulnerabilities\":[]"), std::string::npos)
        << vulns.out.substr(0, 2000);
  } else {
    std::fprintf(stderr, "no ../shared/vulndata here: the advisories are not tried\n");
  }

  // Pushed as the README says (skopeo copy oci:...:TAG), pulled back by digest: the same image.
  if (!have("docker-registry") || !have("skopeo")) {
    std::fprintf(stderr, "no docker-registry or skopeo here: the push is not tried\n");
    return;
  }
  Registry reg(d, "", "");
  ASSERT_TRUE(reg.up()) << "docker-registry did not start";
  ASSERT_EQ(shell(fmt::format("skopeo --insecure-policy copy -q --dest-tls-verify=false "
                              "oci:{}/a/oci:0.1.0 docker://{}/kubeharden:0.1.0",
                              d.path(), reg.host()),
                  &out),
            0)
      << out;
  auto pulled = runCli("image scan -f json " + reg.host() + "/kubeharden@" + a);
  ASSERT_EQ(pulled.exit_code, 0) << pulled.err;
  EXPECT_NE(pulled.out.find("\"manifestDigest\":\"" + a + "\""), std::string::npos);
  EXPECT_EQ(image::fixtures::reportWithoutSource(pulled.out),
            image::fixtures::reportWithoutSource(scan.out));
}

// The Dockerfile users build with Docker: clean under kubeharden's own Dockerfile checks (the
// opt-in digest pin included), its final stage the same non-root scratch image `make image`
// configures, its root filesystem made by the same script (the --rootfs compared above).
TEST(OwnImage, TheDockerfileIsCleanAndDescribesTheSameImage) {
  auto scan =
      runCli("scan --enable dockerfile-base-not-pinned --fail-on info " + kSrc + "/Dockerfile");
  EXPECT_EQ(scan.exit_code, 0) << scan.out << scan.err;
  EXPECT_NE(scan.out.find(" 0 findings"), std::string::npos) << scan.out;
  std::string text = readFile(kSrc + "/Dockerfile");
  std::string final_stage = text.substr(text.rfind("\nFROM "));
  EXPECT_EQ(final_stage.find("\nFROM scratch\n"), 0u) << final_stage;
  for (const char* line :
       {"COPY --from=build /rootfs/ /\n", "USER 65532:65532\n", "WORKDIR /home/nonroot\n",
        "ENV HOME=/home/nonroot SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt\n",
        "ENTRYPOINT [\"/kubeharden\"]\n", "org.opencontainers.image.licenses="})
    EXPECT_NE(final_stage.find(line), std::string::npos) << line;
  // The same values in the config build-image.py writes.
  std::string script = readFile(kSrc + "/scripts/build-image.py");
  for (const char* line :
       {R"("User": f"{NONROOT}:{NONROOT}")", R"("Entrypoint": ["/kubeharden"])",
        R"("WorkingDir": "/home/nonroot")",
        R"("Env": ["HOME=/home/nonroot", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"])"})
    EXPECT_NE(script.find(line), std::string::npos) << line;
  // The base image is pinned by digest, the digest of 64 hex digits.
  auto pin = text.find("debian:12-slim@sha256:");
  ASSERT_NE(pin, std::string::npos);
  std::string hex = text.substr(pin + 22, 64);
  EXPECT_EQ(hex.find_first_not_of("0123456789abcdef"), std::string::npos) << hex;
}

// Where Docker exists, the image it builds from the Dockerfile holds the files `make image` puts
// in its layer. No Docker daemon runs on the build machines: skipped there.
TEST(OwnImage, DockerBuildsTheSameFilesAsMakeImage) {
  KH_NEED_OPTIMISED_BINARY();
  std::string out;
  if (!have("docker") || shell("docker info >/dev/null 2>&1", &out) != 0)
    GTEST_SKIP() << "no Docker daemon here: the Dockerfile's image is not built";
  TempDir d;
  std::string why;
  ASSERT_FALSE(buildImage(d.path() + "/img", &why, "--rootfs " + d.path() + "/mine").empty())
      << why;
  std::string tag = fmt::format("kubeharden-test:{}", ::getpid());
  ASSERT_EQ(
      shell(fmt::format("docker build -q -t {0} {1} && id=$(docker create {0}) && "
                        "mkdir {2}/theirs && docker export $id | tar -x -C {2}/theirs; "
                        "rc=$?; docker rm $id >/dev/null; docker rmi {0} >/dev/null; exit $rc",
                        tag, kSrc, d.path()),
            &out),
      0)
      << out;
  // docker export adds the runtime's mount points (.dockerenv, dev, proc, sys, etc/hosts...).
  std::set<std::string> theirs;
  for (const auto& e : fileList(d.path() + "/theirs", false)) {
    static const char* kRuntime[] = {
        ".dockerenv ",      "dev",      "proc", "sys", "etc/hosts ", "etc/hostname ",
        "etc/resolv.conf ", "etc/mtab "};
    bool runtime = false;
    for (const char* r : kRuntime) runtime = runtime || e.rfind(r, 0) == 0;
    if (!runtime) theirs.insert(e);
  }
  EXPECT_EQ(theirs, fileList(d.path() + "/mine", false));
}

// The binary runs from the image's files alone: chroot into the unpacked root filesystem as
// 65532 (what a kubelet does with runAsUser), then --version, a scan of a directory, an image
// scan of a tarball, and `serve` answering a real AdmissionReview over TLS.
TEST(OwnImage, RunsFromItsOwnRootFilesystemAsNonRoot) {
  KH_NEED_OPTIMISED_BINARY();
  if (::geteuid() != 0) GTEST_SKIP() << "chroot needs root: not run as " << ::geteuid();
  TempDir d;
  std::string why;
  ASSERT_FALSE(buildImage(d.path() + "/img", &why).empty()) << why;
  std::string root = d.path() + "/root", out;
  fs::create_directories(root);
  ASSERT_EQ(shell(fmt::format("cd {0}/img && tar -xf kubeharden-0.1.0.tar && tar -xf */layer.tar "
                              "-C {1}",
                              d.path(), root),
                  &out),
            0)
      << out;
  if (shell(fmt::format("chroot {} /kubeharden --version", root), &out) != 0 &&
      out.find("Operation not permitted") != std::string::npos)
    GTEST_SKIP() << "chroot is not permitted here: " << out;
  auto in = [&](const std::string& args, std::string* o) {
    return shell(
        fmt::format("chroot --userspec=65532:65532 --groups= {} /kubeharden {} 2>&1", root, args),
        o);
  };
  ASSERT_EQ(in("--version", &out), 0) << out;
  EXPECT_NE(out.find("kubeharden 0.1.0"), std::string::npos);
  // A directory of manifests, mounted (copied) in.
  fs::create_directories(root + "/tmp/in");
  fs::copy_file(kSrc + "/examples/insecure-deployment.yaml", root + "/tmp/in/d.yaml");
  EXPECT_EQ(in("scan /tmp/in", &out), 1) << out;
  EXPECT_NE(out.find("pod-privileged"), std::string::npos) << out;
  // An image tarball: libarchive and ISA-L load from the image.
  std::string layer = image::fixtures::tarOf(
      {{"etc/os-release", "ID=alpine\nVERSION_ID=3.19.1\n"},
       {"lib/apk/db/installed", "P:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\no:musl\n\n"}},
      "gzip");
  std::string manifest = R"([{"Config":"c.json","Layers":["l.tar.gz"]}])";
  d.write("root/tmp/app.tar", image::fixtures::tarOf({{"manifest.json", manifest},
                                                      {"c.json", image::fixtures::config({layer})},
                                                      {"l.tar.gz", layer}}));
  EXPECT_EQ(in("image scan --verify-layers /tmp/app.tar", &out), 0) << out;
  EXPECT_NE(out.find("musl 1.2.4-r2"), std::string::npos) << out;
  // serve: a generated certificate, a privileged Pod's review, the answer.
  ASSERT_EQ(selfSignedCert(root + "/tmp", "127.0.0.1", "IP:127.0.0.1", &out), 0) << out;
  ASSERT_EQ(shell(fmt::format("chmod 644 {}/tmp/key.pem", root), &out), 0) << out;
  int port = 20000 + static_cast<int>(::getpid() % 20000);
  std::string review =
      R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"own-image-1","kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},"namespace":"default","operation":"CREATE","userInfo":{"username":"alice"},"object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"default"},"spec":{"containers":[{"name":"c","image":"nginx:1.27","securityContext":{"privileged":true}}]}}}})";
  d.write("review.json", review);
  std::string script = fmt::format(
      "chroot --userspec=65532:65532 --groups= {0} /kubeharden serve --listen 127.0.0.1:{1} "
      "--tls-cert /tmp/cert.pem --tls-key /tmp/key.pem > {2}/serve.log 2>&1 & pid=$!; "
      "for i in $(seq 100); do curl -fsS --cacert {0}/tmp/cert.pem https://127.0.0.1:{1}/healthz "
      ">/dev/null 2>&1 && break; sleep 0.1; done; "
      "curl -fsS --cacert {0}/tmp/cert.pem -H 'Content-Type: application/json' --data-binary "
      "@{2}/review.json https://127.0.0.1:{1}/validate; rc=$?; kill $pid; wait $pid; exit $rc",
      root, port, d.path());
  ASSERT_EQ(shell(script, &out), 0) << out << readFile(d.path() + "/serve.log");
  EXPECT_NE(out.find(R"("uid":"own-image-1")"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("allowed":false)"), std::string::npos) << out;
  EXPECT_NE(out.find("privileged"), std::string::npos) << out;
}

}  // namespace
}  // namespace kh::test
