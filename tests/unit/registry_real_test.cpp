// Pulls from the real Docker distribution registry (Debian's docker-registry, started here on a
// loopback port), with images pushed by the real skopeo: plain HTTP; TLS with htpasswd Basic
// auth; token auth with a token server of our own; through a CONNECT proxy; multi-platform
// indexes and docker save archives. A pulled image's report equals its tarball's.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <poll.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <mutex>
#include <thread>

#include "base/strings.h"
#include "tests/unit/http_test_server.h"
#include "tests/unit/image_util.h"
#include "tests/unit/registry_util.h"
#include "tests/unit/test_util.h"

namespace kh::test {
namespace {

// An OCI layout tarball with an OS, packages, a secret and a root user, two layers (gzip, zstd).
std::string ociImage() {
  using image::fixtures::blob;
  using image::fixtures::Member;
  using image::fixtures::sha256;
  using image::fixtures::tarOf;
  std::vector<Member> base = {
      {"etc/os-release", "ID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME=\"Alpine Linux v3.20\"\n"},
      {"lib/apk/db/installed",
       "P:musl\nV:1.2.5-r0\nA:x86_64\nL:MIT\no:musl\n\nP:zlib\nV:1.3.1-r1\nA:x86_64\nL:Zlib\no:"
       "zlib\n\n"}};
  std::vector<Member> app = {
      {"srv/.env", "GITHUB_TOKEN=ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8\n"}};
  std::string l1 = tarOf(base, "gzip"), l2 = tarOf(app, "zstd");
  std::string config = fmt::format(
      R"({{"architecture":"amd64","os":"linux","config":{{"User":"0","Env":["PATH=/bin"]}},"rootfs":{{"type":"layers","diff_ids":["{}","{}"]}}}})",
      sha256(tarOf(base)), sha256(tarOf(app)));
  std::string m = fmt::format(
      R"({{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{}","size":{}}},{{"mediaType":"application/vnd.oci.image.layer.v1.tar+zstd","digest":"{}","size":{}}}]}})",
      sha256(config), config.size(), sha256(l1), l1.size(), sha256(l2), l2.size());
  std::string index = fmt::format(
      R"({{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{}","size":{},"annotations":{{"org.opencontainers.image.ref.name":"v1"}}}}]}})",
      sha256(m), m.size());
  return tarOf({{"oci-layout", R"({"imageLayoutVersion":"1.0.0"})"},
                {"index.json", index},
                {blob(sha256(m)), m},
                {blob(sha256(config)), config},
                {blob(sha256(l1)), l1},
                {blob(sha256(l2)), l2}});
}

TEST(RegistryReal, PlainHttpPullEqualsTheTarball) {
  KH_NEED_REGISTRY_TOOLS();
  TempDir d;
  Registry reg(d, "", "");
  ASSERT_TRUE(reg.up()) << "docker-registry did not start";
  std::string tar = d.write("app.oci.tar", ociImage());
  std::string out;
  ASSERT_EQ(
      image::fixtures::shell(fmt::format("skopeo --insecure-policy copy -q --dest-tls-verify=false "
                                         "oci-archive:{} docker://{}/team/app:v1",
                                         tar, reg.host()),
                             &out),
      0)
      << out;
  auto local = runCli("image scan " + tar + " -f json");
  ASSERT_EQ(local.exit_code, 0) << local.err;
  auto pulled = runCli("image scan " + reg.host() + "/team/app:v1 -f json");
  ASSERT_EQ(pulled.exit_code, 0) << pulled.err;
  EXPECT_EQ(image::fixtures::reportWithoutSource(pulled.out),
            image::fixtures::reportWithoutSource(local.out));
  EXPECT_NE(pulled.out.find("\"format\":\"registry\""), std::string::npos);
  EXPECT_NE(pulled.out.find("musl"), std::string::npos);
  EXPECT_NE(pulled.out.find("github"), std::string::npos);
  // The manifest skopeo pushed, by digest.
  std::string digest;
  ASSERT_EQ(image::fixtures::shell(
                fmt::format("skopeo --insecure-policy inspect --tls-verify=false --format "
                            "'{{{{.Digest}}}}' docker://{}/team/app:v1",
                            reg.host()),
                &digest),
            0);
  while (!digest.empty() && (digest.back() == '\n' || digest.back() == ' ')) digest.pop_back();
  auto by_digest = runCli("image scan " + reg.host() + "/team/app@" + digest + " -f json");
  ASSERT_EQ(by_digest.exit_code, 0) << by_digest.err;
  EXPECT_NE(by_digest.out.find(digest), std::string::npos);
  // Not there: the registry's own words, exit 3.
  auto missing = runCli("image scan " + reg.host() + "/team/app:v9");
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_NE(missing.err.find("manifest v9 not found"), std::string::npos) << missing.err;
}

// A multi-platform OCI archive: an index of linux/amd64 (gzip) and linux/arm64/v8 (zstd) images
// with Debian and Alpine packages, plus an attestation entry, as buildx pushes them.
std::string multiPlatformImage() {
  using image::fixtures::blob;
  using image::fixtures::sha256;
  using image::fixtures::tarOf;
  std::string amd = tarOf({{"etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n"},
                           {"var/lib/dpkg/status",
                            "Package: bash\nStatus: install ok installed\nVersion: 5.2.15-2+b2\n"
                            "Architecture: amd64\n"}},
                          "gzip");
  std::string arm =
      tarOf({{"etc/os-release", "ID=alpine\nVERSION_ID=3.20.3\n"},
             {"lib/apk/db/installed", "P:musl\nV:1.2.5-r0\nA:aarch64\nL:MIT\no:musl\n\n"}},
            "zstd");
  std::vector<image::fixtures::Member> members = {
      {"oci-layout", R"({"imageLayoutVersion":"1.0.0"})"}};
  auto manifest = [&](const std::string& arch, const std::string& layer, const char* media) {
    std::string cfg = image::fixtures::config({layer}, arch);
    std::string m = fmt::format(
        R"({{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":{}}},"layers":[{{"mediaType":"{}","digest":"{}","size":{}}}]}})",
        sha256(cfg), cfg.size(), media, sha256(layer), layer.size());
    members.push_back({blob(sha256(cfg)), cfg});
    members.push_back({blob(sha256(layer)), layer});
    members.push_back({blob(sha256(m)), m});
    return m;
  };
  std::string m_amd = manifest("amd64", amd, "application/vnd.oci.image.layer.v1.tar+gzip");
  std::string m_arm = manifest("arm64", arm, "application/vnd.oci.image.layer.v1.tar+zstd");
  std::string inner = fmt::format(
      R"({{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{}","size":{},"platform":{{"os":"linux","architecture":"amd64"}}}},{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{}","size":{},"platform":{{"os":"linux","architecture":"arm64","variant":"v8"}}}}]}})",
      sha256(m_amd), m_amd.size(), sha256(m_arm), m_arm.size());
  members.push_back({blob(sha256(inner)), inner});
  members.push_back(
      {"index.json",
       fmt::format(
           R"({{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"{}","size":{}}}]}})",
           sha256(inner), inner.size())});
  return tarOf(members);
}

// Every kind of input the tarball tests cover, pushed by skopeo and pulled back: a multi-platform
// index (each platform's report equals the archive's for that platform, the index digest is
// stated, a missing platform names the ones there are) and a legacy `docker save` archive
// (skopeo compresses its layers on push: the same report but for the blob digests).
TEST(RegistryReal, MultiPlatformIndexesAndDockerSaveArchives) {
  KH_NEED_REGISTRY_TOOLS();
  TempDir d;
  Registry reg(d, "", "");
  ASSERT_TRUE(reg.up()) << "docker-registry did not start";
  std::string multi = d.write("multi.oci.tar", multiPlatformImage()), out;
  ASSERT_EQ(image::fixtures::shell(
                fmt::format("skopeo --insecure-policy copy -q --all --dest-tls-verify=false "
                            "oci-archive:{} docker://{}/team/multi:v1",
                            multi, reg.host()),
                &out),
            0)
      << out;
  for (std::string platform : {"linux/amd64", "linux/arm64/v8"}) {
    auto local = runCli("image scan -f json --platform " + platform + " " + multi);
    ASSERT_EQ(local.exit_code, 0) << local.err;
    auto pulled =
        runCli("image scan -f json --platform " + platform + " " + reg.host() + "/team/multi:v1");
    ASSERT_EQ(pulled.exit_code, 0) << pulled.err;
    EXPECT_EQ(image::fixtures::reportWithoutSource(pulled.out),
              image::fixtures::reportWithoutSource(local.out))
        << platform;
    EXPECT_NE(pulled.out.find(platform == "linux/amd64" ? "\"bash\"" : "\"musl\""),
              std::string::npos);
    EXPECT_NE(pulled.out.find("\"indexDigest\":\"sha256:"), std::string::npos);
  }
  auto none = runCli("image scan --platform linux/s390x " + reg.host() + "/team/multi:v1");
  EXPECT_EQ(none.exit_code, 3);
  EXPECT_NE(none.err.find("linux/amd64, linux/arm64/v8"), std::string::npos) << none.err;

  // A legacy docker save archive (uncompressed layers, RepoTags).
  std::string layer = image::fixtures::tarOf(
      {{"etc/os-release", "ID=alpine\nVERSION_ID=3.19.1\n"},
       {"lib/apk/db/installed", "P:busybox\nV:1.36.1-r15\nA:x86_64\nL:GPL-2.0-only\no:busybox\n\n"},
       {"root/.env", "GITHUB_TOKEN=ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8\n"}});
  std::string saved = d.write(
      "saved.tar",
      image::fixtures::tarOf(
          {{"manifest.json",
            R"([{"Config":"c.json","RepoTags":["team/saved:1"],"Layers":["l/layer.tar"]}])"},
           {"c.json", image::fixtures::config({layer})},
           {"l/layer.tar", layer}}));
  ASSERT_EQ(
      image::fixtures::shell(fmt::format("skopeo --insecure-policy copy -q --dest-tls-verify=false "
                                         "docker-archive:{} docker://{}/team/saved:1",
                                         saved, reg.host()),
                             &out),
      0)
      << out;
  auto local = runCli("image scan -f json " + saved);
  ASSERT_EQ(local.exit_code, 0) << local.err;
  auto pulled = runCli("image scan -f json " + reg.host() + "/team/saved:1");
  ASSERT_EQ(pulled.exit_code, 0) << pulled.err;
  EXPECT_EQ(image::fixtures::reportWithoutSource(pulled.out, true),
            image::fixtures::reportWithoutSource(local.out, true));
  EXPECT_NE(pulled.out.find("busybox"), std::string::npos);
  EXPECT_NE(pulled.out.find("github"), std::string::npos);
}

TEST(RegistryReal, TlsWithHtpasswdBasicAuth) {
  KH_NEED_REGISTRY_TOOLS();
  TempDir d;
  std::string out;
  ASSERT_EQ(image::fixtures::selfSignedCert(d.path(), "127.0.0.1", "IP:127.0.0.1", &out), 0) << out;
  ASSERT_EQ(image::fixtures::shell(fmt::format("cd {} && mkdir certs && cp cert.pem certs/ca.crt "
                                               "&& htpasswd -Bbn alice s3cr3t-pw > htpasswd",
                                               d.path()),
                                   &out),
            0)
      << out;
  Registry reg(
      d, fmt::format("  tls:\n    certificate: {0}/cert.pem\n    key: {0}/key.pem\n", d.path()),
      fmt::format("auth:\n  htpasswd:\n    realm: kubeharden-test\n    path: {}/htpasswd\n",
                  d.path()));
  ASSERT_TRUE(reg.up()) << "docker-registry did not start";
  std::string tar = d.write("app.oci.tar", ociImage());
  ASSERT_EQ(
      image::fixtures::shell(
          fmt::format("skopeo --insecure-policy copy -q --dest-cert-dir {}/certs --dest-creds "
                      "alice:s3cr3t-pw oci-archive:{} docker://{}/team/app:v1",
                      d.path(), tar, reg.host()),
          &out),
      0)
      << out;
  // Without the CA: TLS refuses, and says how to fix it.
  auto untrusted = runCli("image scan " + reg.host() + "/team/app:v1");
  EXPECT_EQ(untrusted.exit_code, 3);
  EXPECT_NE(untrusted.err.find("TLS with https://" + reg.host() + " failed"), std::string::npos)
      << untrusted.err;
  EXPECT_NE(untrusted.err.find("--ca-cert"), std::string::npos);
  // With the CA but no credentials: unauthorized.
  std::string ca = " --ca-cert " + d.path() + "/cert.pem";
  auto anon = runCli("image scan " + reg.host() + "/team/app:v1" + ca);
  EXPECT_EQ(anon.exit_code, 3);
  EXPECT_NE(anon.err.find("unauthorized to pull"), std::string::npos) << anon.err;
  // With both: the same report as the tarball, and the password nowhere in the output.
  auto local = runCli("image scan " + tar + " -f json");
  auto pulled = runCli("image scan " + reg.host() +
                           "/team/app:v1 -f json --username alice "
                           "--password-stdin" +
                           ca,
                       "", "s3cr3t-pw\n");
  ASSERT_EQ(pulled.exit_code, 0) << pulled.err;
  EXPECT_EQ(image::fixtures::reportWithoutSource(pulled.out),
            image::fixtures::reportWithoutSource(local.out));
  EXPECT_EQ((pulled.out + pulled.err).find("s3cr3t-pw"), std::string::npos);
  // From a Docker config instead of the command line.
  d.write("docker/config.json",
          fmt::format(R"({{"auths":{{"{}":{{"auth":"YWxpY2U6czNjcjN0LXB3"}}}}}})", reg.host()));
  auto fromConfig = runCli("image scan " + reg.host() + "/team/app:v1 -f json" + ca, "", "",
                           "DOCKER_CONFIG=" + d.path() + "/docker");
  ASSERT_EQ(fromConfig.exit_code, 0) << fromConfig.err;
  EXPECT_EQ(image::fixtures::reportWithoutSource(fromConfig.out),
            image::fixtures::reportWithoutSource(local.out));
  // --insecure for this registry: no CA needed, and it is said.
  auto insecure = runCli("image scan " + reg.host() + "/team/app:v1 --insecure " + reg.host(), "",
                         "", "DOCKER_CONFIG=" + d.path() + "/docker");
  EXPECT_EQ(insecure.exit_code, 0) << insecure.err;
  EXPECT_NE(insecure.err.find("TLS is not verified (--insecure)"), std::string::npos);
}

// "%3A" -> ":" and "+" -> " ", as a query string encodes them.
std::string unescapeQuery(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

std::string base64Url(std::string_view bytes) {
  std::string b = base64Encode(bytes);
  while (!b.empty() && b.back() == '=') b.pop_back();
  for (char& c : b) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return b;
}

// A token server of our own for the registry's token auth (auth.token in its config): GET
// /token answers a JWT signed RS256 with the key whose certificate is in the x5c header and in
// the registry's rootcertbundle. alice (Basic, her password) gets what she asks for; anyone
// gets pull on public/*; nothing else is granted. Every scope asked for is recorded.
class TokenServer {
 public:
  TokenServer(const std::string& key_pem, std::string cert_pem)
      : srv_([this](const HttpRequest& r, int fd) { answer(r, fd); }) {
    BIO* bio = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
    key_ = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    // The certificate's DER, base64: the PEM body without its armour and line breaks.
    for (std::string_view line : splitTrimmed(cert_pem, '\n'))
      if (!line.starts_with("-----")) cert_der_b64_ += line;
  }
  ~TokenServer() { EVP_PKEY_free(key_); }
  bool ok() const { return key_ != nullptr; }
  std::string realm() const { return srv_.url("/token"); }
  std::vector<std::string> scopes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return scopes_;
  }
  std::vector<std::string> authorizations() const {
    std::vector<std::string> out;
    for (const HttpRequest& r : srv_.requests()) out.push_back(r.header("authorization"));
    return out;
  }

 private:
  void answer(const HttpRequest& r, int fd) {
    std::string auth = r.header("authorization"), user;
    if (auth == "Basic " + base64Encode("alice:s3cr3t-pw")) {
      user = "alice";
    } else if (!auth.empty()) {
      return TestHttpServer::respond(fd, 401, {{"Content-Type", "application/json"}},
                                     R"({"details":"wrong user name or password"})");
    }
    std::string access;
    size_t q = r.target.find('?');
    std::string_view query = q == std::string::npos ? "" : std::string_view(r.target).substr(q + 1);
    for (std::string_view kv : splitTrimmed(query, '&')) {
      if (!kv.starts_with("scope=")) continue;
      std::string scope = unescapeQuery(kv.substr(6));
      {
        std::lock_guard<std::mutex> lock(mu_);
        scopes_.push_back(scope);
      }
      // repository:NAME:ACTIONS
      size_t a = scope.find(':'), b = scope.rfind(':');
      if (a == std::string::npos || a == b) continue;
      std::string name = scope.substr(a + 1, b - a - 1), granted;
      for (std::string_view act : splitTrimmed(std::string_view(scope).substr(b + 1), ',')) {
        bool ok = user == "alice" || (name.starts_with("public/") && act == "pull");
        if (ok) granted += fmt::format("{}\"{}\"", granted.empty() ? "" : ",", act);
      }
      if (!granted.empty())
        access += fmt::format(R"({}{{"type":"repository","name":"{}","actions":[{}]}})",
                              access.empty() ? "" : ",", name, granted);
    }
    long now = static_cast<long>(std::time(nullptr));
    std::string header =
        fmt::format(R"({{"typ":"JWT","alg":"RS256","x5c":["{}"]}})", cert_der_b64_);
    std::string claims = fmt::format(
        R"({{"iss":"kh-test-issuer","sub":"{}","aud":"kh-test-registry","exp":{},"nbf":{},"iat":{},"jti":"t{}","access":[{}]}})",
        user, now + 300, now - 10, now, ++serial_, access);
    std::string signing = base64Url(header) + "." + base64Url(claims);
    std::string sig(512, '\0');
    size_t len = sig.size();
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    bool signed_ok =
        EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key_) == 1 &&
        EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                       reinterpret_cast<const unsigned char*>(signing.data()), signing.size()) == 1;
    EVP_MD_CTX_free(ctx);
    if (!signed_ok) return TestHttpServer::respond(fd, 500, {}, "cannot sign");
    sig.resize(len);
    std::string token = signing + "." + base64Url(sig);
    TestHttpServer::respond(
        fd, 200, {{"Content-Type", "application/json"}},
        fmt::format(R"({{"token":"{0}","access_token":"{0}","expires_in":300}})", token));
  }

  TestHttpServer srv_;
  EVP_PKEY* key_ = nullptr;
  std::string cert_der_b64_;
  mutable std::mutex mu_;
  std::vector<std::string> scopes_;
  std::atomic<int> serial_{0};
};

// The registry in token mode, with our token server: skopeo pushes as alice; kubeharden pulls
// a private repository with alice's credentials (sent to the token server only, never to the
// registry), asks for pull and nothing more, and pulls a public repository anonymously.
TEST(RegistryReal, TokenAuthWithATokenServerOfOurOwn) {
  KH_NEED_REGISTRY_TOOLS();
  TempDir d;
  std::string out;
  ASSERT_EQ(image::fixtures::selfSignedCert(d.path(), "kh-test-token-issuer", "", &out,
                                            "token-key.pem", "token-cert.pem"),
            0)
      << out;
  TokenServer tokens(readFile(d.path() + "/token-key.pem"), readFile(d.path() + "/token-cert.pem"));
  ASSERT_TRUE(tokens.ok());
  Registry reg(d, "",
               fmt::format("auth:\n  token:\n    realm: {}\n    service: kh-test-registry\n    "
                           "issuer: kh-test-issuer\n    rootcertbundle: {}/token-cert.pem\n",
                           tokens.realm(), d.path()));
  ASSERT_TRUE(reg.up()) << "docker-registry did not start";
  std::string tar = d.write("app.oci.tar", ociImage());
  for (std::string repo : {"team/app", "public/app"}) {
    out.clear();
    ASSERT_EQ(image::fixtures::shell(
                  fmt::format("skopeo --insecure-policy copy -q --dest-tls-verify=false "
                              "--dest-creds alice:s3cr3t-pw oci-archive:{} docker://{}/{}:v1",
                              tar, reg.host(), repo),
                  &out),
              0)
        << out << readFile(d.path() + "/registry-" + reg.host().substr(10) + ".log");
  }
  auto local = runCli("image scan " + tar + " -f json");
  ASSERT_EQ(local.exit_code, 0) << local.err;
  std::string expect = image::fixtures::reportWithoutSource(local.out);
  size_t asked_before = tokens.scopes().size();
  // Private, without credentials: the token grants nothing, the registry refuses.
  auto anon = runCli("image scan " + reg.host() + "/team/app:v1");
  EXPECT_EQ(anon.exit_code, 3);
  EXPECT_NE(anon.err.find("unauthorized to pull"), std::string::npos) << anon.err;
  // Private, with alice's credentials: the tarball's report.
  auto pulled =
      runCli("image scan " + reg.host() + "/team/app:v1 -f json --username alice --password-stdin",
             "", "s3cr3t-pw\n");
  ASSERT_EQ(pulled.exit_code, 0) << pulled.err;
  EXPECT_EQ(image::fixtures::reportWithoutSource(pulled.out), expect);
  EXPECT_EQ((pulled.out + pulled.err).find("s3cr3t-pw"), std::string::npos);
  // Wrong password: the token server's refusal, said.
  auto wrong = runCli("image scan " + reg.host() + "/team/app:v1 --username alice --password-stdin",
                      "", "nope\n");
  EXPECT_EQ(wrong.exit_code, 3);
  EXPECT_NE(wrong.err.find("unauthorized"), std::string::npos) << wrong.err;
  EXPECT_EQ(wrong.err.find("nope"), std::string::npos);
  // Public: anonymous.
  auto pub = runCli("image scan " + reg.host() + "/public/app:v1 -f json");
  ASSERT_EQ(pub.exit_code, 0) << pub.err;
  EXPECT_EQ(image::fixtures::reportWithoutSource(pub.out), expect);
  // kubeharden asked for pull only, on the repository it pulled.
  std::vector<std::string> asked = tokens.scopes();
  ASSERT_GT(asked.size(), asked_before);
  for (size_t i = asked_before; i < asked.size(); ++i)
    EXPECT_TRUE(asked[i] == "repository:team/app:pull" || asked[i] == "repository:public/app:pull")
        << asked[i];
}

// Copies bytes both ways between two sockets until one side closes or 20 s pass idle.
void splice(int a, int b) {
  pollfd p[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
  char buf[65536];
  while (::poll(p, 2, 20000) > 0) {
    for (int i = 0; i < 2; ++i) {
      if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = ::read(p[i].fd, buf, sizeof buf);
      if (n <= 0) return;
      TestHttpServer::writeAll(p[1 - i].fd, std::string_view(buf, static_cast<size_t>(n)));
    }
  }
}

// An HTTPS proxy of our own: CONNECT HOST:PORT is tunnelled to 127.0.0.1:PORT whatever the
// host (so names that resolve nowhere work through it, and only through it); every CONNECT
// target and Proxy-Authorization is recorded.
class ConnectProxy {
 public:
  ConnectProxy()
      : srv_([](const HttpRequest& r, int fd) {
          if (r.method != "CONNECT") return TestHttpServer::respond(fd, 405, {}, "");
          int port = std::atoi(r.target.substr(r.target.rfind(':') + 1).c_str());
          int up = ::socket(AF_INET, SOCK_STREAM, 0);
          sockaddr_in a{};
          a.sin_family = AF_INET;
          a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
          a.sin_port = htons(static_cast<uint16_t>(port));
          if (::connect(up, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
            ::close(up);
            return TestHttpServer::respond(fd, 502, {}, "");
          }
          TestHttpServer::writeAll(fd, "HTTP/1.1 200 Connection established\r\n\r\n");
          splice(fd, up);
          ::close(up);
        }) {}
  std::string url() const { return fmt::format("http://127.0.0.1:{}", srv_.port()); }
  std::vector<std::string> connects() const {
    std::vector<std::string> out;
    for (const HttpRequest& r : srv_.requests()) out.push_back(r.target);
    return out;
  }

 private:
  TestHttpServer srv_;
};

// This machine's first non-loopback IPv4 address, or "".
std::string ownAddress() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return {};
  std::string found;
  for (ifaddrs* i = list; i && found.empty(); i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || (i->ifa_flags & IFF_LOOPBACK))
      continue;
    char buf[INET_ADDRSTRLEN];
    auto* in = reinterpret_cast<sockaddr_in*>(i->ifa_addr);
    if (::inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf)) found = buf;
  }
  ::freeifaddrs(list);
  return found;
}

// Proxies as other tools read them: HTTPS_PROXY (and --proxy) carry a TLS registry's traffic
// through CONNECT; NO_PROXY exempts by domain suffix and by CIDR; loopback registries are
// never proxied; a proxy's password never appears in a message.
TEST(RegistryReal, ProxiesFromTheEnvironmentNoProxyAndTheFlag) {
  KH_NEED_REGISTRY_TOOLS();
  TempDir d;
  std::string ip = ownAddress(), out;
  std::string san = "DNS:registry.example.test,IP:127.0.0.1" + (ip.empty() ? "" : ",IP:" + ip);
  ASSERT_EQ(image::fixtures::selfSignedCert(d.path(), "registry.example.test", san, &out), 0)
      << out;
  ASSERT_EQ(image::fixtures::shell(
                fmt::format("cd {} && mkdir certs && cp cert.pem certs/ca.crt", d.path()), &out),
            0)
      << out;
  Registry reg(
      d, fmt::format("  tls:\n    certificate: {0}/cert.pem\n    key: {0}/key.pem\n", d.path()), "",
      true);
  ASSERT_TRUE(reg.up()) << "docker-registry did not start";
  std::string port = reg.host().substr(reg.host().rfind(':') + 1);
  std::string tar = d.write("app.oci.tar", ociImage());
  ASSERT_EQ(image::fixtures::shell(
                fmt::format("skopeo --insecure-policy copy -q --dest-cert-dir {}/certs "
                            "oci-archive:{} docker://{}/team/app:v1",
                            d.path(), tar, reg.host()),
                &out),
            0)
      << out;
  std::string expect =
      image::fixtures::reportWithoutSource(runCli("image scan -f json " + tar).out);
  ConnectProxy proxy;
  std::string ca = " -f json --timeout 5 --ca-cert " + d.path() + "/cert.pem";
  std::string named = "registry.example.test:" + port + "/team/app:v1";
  // A name that resolves nowhere is reached through HTTPS_PROXY, and only through it.
  auto via = runCli("image scan " + named + ca, "", "", "HTTPS_PROXY=" + proxy.url());
  ASSERT_EQ(via.exit_code, 0) << via.err;
  EXPECT_EQ(image::fixtures::reportWithoutSource(via.out), expect);
  ASSERT_FALSE(proxy.connects().empty());
  EXPECT_EQ(proxy.connects().back(), "registry.example.test:" + port);
  auto lower = runCli("image scan " + named + ca, "", "", "https_proxy=" + proxy.url());
  EXPECT_EQ(lower.exit_code, 0) << lower.err;
  // NO_PROXY by domain suffix: direct, so the name does not resolve.
  size_t before = proxy.connects().size();
  auto exempt = runCli("image scan " + named + ca, "", "",
                       "HTTPS_PROXY=" + proxy.url() + " NO_PROXY=.example.test");
  EXPECT_EQ(exempt.exit_code, 3);
  EXPECT_NE(exempt.err.find("cannot reach https://registry.example.test:" + port),
            std::string::npos)
      << exempt.err;
  EXPECT_EQ(proxy.connects().size(), before);
  // Loopback is never proxied.
  auto loop = runCli("image scan " + reg.host() + "/team/app:v1" + ca, "", "",
                     "HTTPS_PROXY=" + proxy.url());
  EXPECT_EQ(loop.exit_code, 0) << loop.err;
  EXPECT_EQ(proxy.connects().size(), before);
  // --proxy without any environment, and a proxy's password is never shown.
  auto flag = runCli("image scan " + named + ca + " --proxy " + proxy.url());
  EXPECT_EQ(flag.exit_code, 0) << flag.err;
  EXPECT_GT(proxy.connects().size(), before);
  auto dead =
      runCli("image scan " + named + ca + " --retries 1 --proxy http://bob:pr0xy-pw@127.0.0.1:9");
  EXPECT_EQ(dead.exit_code, 3);
  EXPECT_NE(dead.err.find("through the proxy http://127.0.0.1:9"), std::string::npos) << dead.err;
  EXPECT_EQ(dead.err.find("pr0xy-pw"), std::string::npos) << dead.err;
  // NO_PROXY by CIDR, on this machine's own address (the registry listens there too).
  if (ip.empty()) {
    std::fprintf(stderr, "no non-loopback IPv4 address here: the CIDR case is not run\n");
    return;
  }
  std::string by_ip = ip + ":" + port + "/team/app:v1";
  before = proxy.connects().size();
  auto proxied = runCli("image scan " + by_ip + ca, "", "", "HTTPS_PROXY=" + proxy.url());
  EXPECT_EQ(proxied.exit_code, 0) << proxied.err;
  EXPECT_GT(proxy.connects().size(), before);
  before = proxy.connects().size();
  std::string cidr = ip.substr(0, ip.rfind('.')) + ".0/24";
  auto direct = runCli("image scan " + by_ip + ca, "", "",
                       "HTTPS_PROXY=" + proxy.url() + " NO_PROXY=example.org," + cidr);
  EXPECT_EQ(direct.exit_code, 0) << direct.err;
  EXPECT_EQ(image::fixtures::reportWithoutSource(direct.out), expect);
  EXPECT_EQ(proxy.connects().size(), before) << "NO_PROXY " << cidr << " was not honoured";
}

}  // namespace
}  // namespace kh::test
