// The distribution client against a scripted registry (tests/unit/http_test_server.h): the
// Bearer token flow with and without credentials, Basic registries, indexes resolved to a
// platform (attestations skipped), manifests and blobs checked against their digests, and the
// errors a user gets (not found, unauthorized, rate limited, tampered content), none of which
// shows a secret.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <filesystem>
#include <map>
#include <mutex>

#include "base/strings.h"
#include "registry/auth.h"
#include "registry/client.h"
#include "registry/digest.h"
#include "tests/unit/http_test_server.h"
#include "tests/unit/image_util.h"
#include "tests/unit/test_util.h"

namespace kh::test {
namespace registry_client_tests {

using registry::Client;
using registry::ClientOptions;
using registry::Credentials;

// A registry holding one repository, team/app: an index for linux/amd64 and linux/arm64/v8 plus
// a BuildKit attestation, each platform's manifest, config and one layer.
struct FakeRegistry {
  enum class Auth { kNone, kBearerPublic, kBearerPrivate, kBasic };
  Auth auth = Auth::kBearerPublic;
  std::map<std::string, std::pair<std::string, std::string>> manifests;  // ident -> type, body
  std::map<std::string, std::string> blobs;
  std::map<std::string, std::string> tamper;  // path -> body served instead
  std::string wrong_dcd;                      // a Docker-Content-Digest to send instead
  int rate_limit = 0;                         // answer 429 to this many requests
  std::string realm_override;                 // a token endpoint elsewhere (down)
  int expire_after = -1;  // after this many authorised requests the token expires (once)
  bool expired = false;
  std::mutex mu;
  std::unique_ptr<TestHttpServer> srv;
  std::string amd_layer = std::string(3000, 'L'), index_digest, amd_digest, arm_digest;

  std::string addBlob(const std::string& body) {
    std::string d = registry::sha256Digest(body);
    blobs[d] = body;
    return d;
  }
  std::string image(const std::string& arch, const std::string& layer) {
    std::string config = fmt::format(
        R"({{"architecture":"{}","os":"linux","rootfs":{{"type":"layers","diff_ids":["{}"]}}}})",
        arch, registry::sha256Digest(layer));
    std::string cd = addBlob(config), ld = addBlob(layer);
    std::string m = fmt::format(
        R"({{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{}","size":{}}}]}})",
        registry::kOciManifest, cd, config.size(), ld, layer.size());
    std::string md = registry::sha256Digest(m);
    manifests[md] = {registry::kOciManifest, m};
    return md;
  }
  FakeRegistry() {
    amd_digest = image("amd64", amd_layer);
    arm_digest = image("arm64", std::string(2000, 'A'));
    std::string att = image("unknown", "attestation");
    std::string index = fmt::format(
        R"({{"schemaVersion":2,"mediaType":"{}","manifests":[)"
        R"({{"mediaType":"{}","digest":"{}","size":1,"platform":{{"architecture":"arm64","os":"linux","variant":"v8"}}}},)"
        R"({{"mediaType":"{}","digest":"{}","size":1,"platform":{{"architecture":"amd64","os":"linux"}}}},)"
        R"({{"mediaType":"{}","digest":"{}","size":1,"platform":{{"architecture":"unknown","os":"unknown"}},"annotations":{{"vnd.docker.reference.type":"attestation-manifest"}}}}]}})",
        registry::kOciIndex, registry::kOciManifest, arm_digest, registry::kOciManifest, amd_digest,
        registry::kOciManifest, att);
    index_digest = registry::sha256Digest(index);
    manifests["1.0"] = {registry::kOciIndex, index};
    manifests[index_digest] = manifests["1.0"];
    manifests["amd-only"] = manifests[amd_digest];
    manifests["old"] = {"application/vnd.docker.distribution.manifest.v1+prettyjws",
                        R"({"schemaVersion":1,"name":"team/app","tag":"old"})"};
    srv = std::make_unique<TestHttpServer>([this](const HttpRequest& r, int fd) { handle(r, fd); });
  }
  std::string host() const { return fmt::format("127.0.0.1:{}", srv->port()); }

  void handle(const HttpRequest& r, int fd) {
    std::lock_guard<std::mutex> lock(mu);
    std::string realm = realm_override.empty()
                            ? fmt::format("http://127.0.0.1:{}/token", srv->port())
                            : realm_override;
    if (r.target.starts_with("/token") && r.method == "POST") {
      // OAuth2 refresh-token grant (Docker's identity token).
      bool good = r.body.find("grant_type=refresh_token") != std::string::npos &&
                  r.body.find("refresh_token=id-tok3n") != std::string::npos &&
                  r.body.find("scope=repository:team/app:pull") != std::string::npos;
      if (!good) return TestHttpServer::respond(fd, 401, {}, "{}");
      return TestHttpServer::respond(fd, 200, {},
                                     R"({"access_token":"alice-token","expires_in":300})");
    }
    if (r.target.starts_with("/token")) {
      std::string basic = r.header("authorization");
      bool alice = basic == registry::basicAuthorization("alice", "s3cr3t-pw");
      if (!basic.empty() && !alice)
        return TestHttpServer::respond(fd, 401, {}, R"({"details":"bad creds"})");
      if (auth == Auth::kBearerPrivate && !alice)
        return TestHttpServer::respond(fd, 200, {}, R"({"token":"anon-token","expires_in":300})");
      return TestHttpServer::respond(
          fd, 200, {},
          fmt::format(R"({{"token":"old","access_token":"{}","expires_in":300}})",
                      alice     ? "alice-token"
                      : expired ? "anon-token-2"
                                : "anon-token"));
    }
    if (rate_limit > 0) {
      --rate_limit;
      return TestHttpServer::respond(
          fd, 429, {{"Retry-After", "0"}, {"RateLimit-Limit", "100;w=21600"}},
          R"({"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]})");
    }
    std::string a = r.header("authorization");
    if (expire_after == 0 && a == "Bearer anon-token") {
      expired = true;
      expire_after = -1;
    }
    if (expire_after > 0 && a == "Bearer anon-token") --expire_after;
    bool ok = auth == Auth::kNone ||
              (auth == Auth::kBearerPublic &&
               ((a == "Bearer anon-token" && !expired) || a == "Bearer anon-token-2" ||
                a == "Bearer alice-token")) ||
              (auth == Auth::kBearerPrivate && a == "Bearer alice-token") ||
              (auth == Auth::kBasic && a == registry::basicAuthorization("alice", "s3cr3t-pw"));
    if (!ok) {
      std::string challenge =
          auth == Auth::kBasic
              ? std::string(R"(Basic realm="fake")")
              : fmt::format(
                    R"(Bearer realm="{}",service="fake",scope="repository:team/app:pull,push")",
                    realm);
      return TestHttpServer::respond(
          fd, 401, {{"WWW-Authenticate", challenge}},
          R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})");
    }
    const std::string mprefix = "/v2/team/app/manifests/", bprefix = "/v2/team/app/blobs/";
    if (auto t = tamper.find(r.target); t != tamper.end())
      return TestHttpServer::respond(fd, 200, {{"Content-Type", registry::kOciManifest}},
                                     t->second);
    if (r.target.starts_with(mprefix)) {
      auto m = manifests.find(r.target.substr(mprefix.size()));
      if (m == manifests.end())
        return TestHttpServer::respond(
            fd, 404, {},
            R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]})");
      std::string dcd = wrong_dcd.empty() ? registry::sha256Digest(m->second.second) : wrong_dcd;
      return TestHttpServer::respond(
          fd, 200, {{"Content-Type", m->second.first}, {"Docker-Content-Digest", dcd}},
          m->second.second);
    }
    if (r.target.starts_with(bprefix)) {
      auto b = blobs.find(r.target.substr(bprefix.size()));
      if (b == blobs.end()) return TestHttpServer::respond(fd, 404, {}, "");
      return TestHttpServer::respond(fd, 200, {}, b->second);
    }
    TestHttpServer::respond(fd, 404, {}, "");
  }

  Client client(const std::string& ident, Credentials creds = {}) {
    auto ref = registry::parseReference(
        fmt::format("{}/team/app{}{}", host(), ident.starts_with("sha256:") ? "@" : ":", ident));
    EXPECT_TRUE(ref.ok());
    ClientOptions o;
    o.plain_http = true;
    o.http.backoff = std::chrono::milliseconds(1);
    o.http.max_attempts = 3;
    return Client(ref.value(), std::move(creds), o);
  }
};

Credentials alice(std::string password = "s3cr3t-pw") {
  Credentials c;
  c.username = "alice";
  c.password = std::move(password);
  c.source = "--username";
  return c;
}

TEST(RegistryClient, AnIndexResolvesToThePlatformAskedForNeverAnAttestation) {
  FakeRegistry reg;
  Client c = reg.client("1.0");
  auto r = c.resolve(registry::Platform{});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->index_digest, reg.index_digest);
  EXPECT_EQ(r->manifest_digest, reg.amd_digest);
  EXPECT_EQ(r->platform.str(), "linux/amd64");
  EXPECT_EQ(r->platforms, (std::vector<std::string>{"linux/arm64/v8", "linux/amd64"}));
  ASSERT_EQ(r->layers.size(), 1u);
  EXPECT_EQ(r->layers[0].size, 3000);
  EXPECT_NE(r->config.find("\"amd64\""), std::string::npos);
  auto arm = c.resolve(registry::parsePlatform("linux/arm64").value());
  ASSERT_TRUE(arm.ok());
  EXPECT_EQ(arm->manifest_digest, reg.arm_digest);
  auto none = c.resolve(registry::parsePlatform("linux/s390x").value());
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("no linux/s390x image in the index " + reg.index_digest +
                                      "; it offers linux/arm64/v8, linux/amd64"),
            std::string::npos)
      << none.error().message;
  // A single manifest, by tag: its platform from the config.
  auto single = reg.client("amd-only").resolve(registry::Platform{});
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(single->index_digest, "");
  EXPECT_EQ(single->manifest_digest, reg.amd_digest);
}

TEST(RegistryClient, TheTokenFlowAsksForPullOnlyAndSendsCredentialsOnlyToTheTokenEndpoint) {
  FakeRegistry reg;
  reg.auth = FakeRegistry::Auth::kBearerPrivate;
  auto denied = reg.client("1.0").resolve(registry::Platform{});
  ASSERT_FALSE(denied.ok());
  EXPECT_NE(denied.error().message.find("unauthorized to pull"), std::string::npos)
      << denied.error().message;
  Client c = reg.client("1.0", alice());
  auto r = c.resolve(registry::Platform{});
  ASSERT_TRUE(r.ok()) << r.error().message;
  bool token_seen = false;
  for (const HttpRequest& q : reg.srv->requests()) {
    if (q.target.starts_with("/token")) {
      if (q.header("authorization").empty()) continue;  // the anonymous attempt above
      token_seen = true;
      EXPECT_NE(q.target.find("scope=repository:team/app:pull"), std::string::npos) << q.target;
      EXPECT_EQ(q.target.find("push"), std::string::npos) << q.target;
      EXPECT_NE(q.target.find("service=fake"), std::string::npos);
    } else if (!q.header("authorization").empty()) {
      // The registry itself only ever sees the token, never the password.
      EXPECT_TRUE(q.header("authorization").starts_with("Bearer ")) << q.header("authorization");
    }
  }
  EXPECT_TRUE(token_seen);
  EXPECT_TRUE(c.warnings().empty());
}

TEST(RegistryClient, AnIdentityTokenIsExchangedWithTheOAuth2RefreshGrant) {
  FakeRegistry reg;
  reg.auth = FakeRegistry::Auth::kBearerPrivate;
  Credentials c;
  c.username = "<token>";
  c.identity_token = "id-tok3n";
  c.source = "~/.docker/config.json";
  auto r = reg.client("1.0", c).resolve(registry::Platform{});
  ASSERT_TRUE(r.ok()) << r.error().message;
  bool posted = false;
  for (const HttpRequest& q : reg.srv->requests())
    if (q.method == "POST") {
      posted = true;
      EXPECT_EQ(q.header("content-type"), "application/x-www-form-urlencoded");
      EXPECT_EQ(q.header("authorization"), "");
    }
  EXPECT_TRUE(posted);
  c.identity_token = "wrong";
  auto bad = reg.client("1.0", c).resolve(registry::Platform{});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message.find("wrong"), std::string::npos) << bad.error().message;
}

TEST(RegistryClient, RefusedCredentialsOnAPublicRepositoryFallBackToAnonymous) {
  FakeRegistry reg;
  Client c = reg.client("1.0", alice("wrong-pw"));
  auto r = c.resolve(registry::Platform{});
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(c.warnings().size(), 1u);
  EXPECT_NE(c.warnings()[0].find("refused the credentials from --username"), std::string::npos)
      << c.warnings()[0];
  EXPECT_NE(c.warnings()[0].find("pulling anonymously instead"), std::string::npos);
  EXPECT_EQ(c.warnings()[0].find("wrong-pw"), std::string::npos);
  // On a private repository the refusal is the error, and the password is not in it.
  reg.auth = FakeRegistry::Auth::kBearerPrivate;
  auto p = reg.client("1.0", alice("wrong-pw")).resolve(registry::Platform{});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().message.find("wrong-pw"), std::string::npos);
}

TEST(RegistryClient, AnExpiredTokenIsRenewedAndADownTokenEndpointIsSaid) {
  FakeRegistry reg;
  reg.expire_after = 2;  // the index and one manifest, then the token is refused
  Client c = reg.client("1.0");
  auto r = c.resolve(registry::Platform{});
  ASSERT_TRUE(r.ok()) << r.error().message;
  size_t tokens = 0;
  for (const HttpRequest& q : reg.srv->requests()) tokens += q.target.starts_with("/token");
  EXPECT_EQ(tokens, 2u);  // the first, and the renewal after the 401
  EXPECT_TRUE(reg.expired);
  // A token endpoint nobody answers: said, with the endpoint's origin.
  FakeRegistry down;
  down.realm_override = "http://127.0.0.1:1/token";
  auto d = down.client("1.0").resolve(registry::Platform{});
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().message.find("the token endpoint http://127.0.0.1:1 failed: cannot reach"),
            std::string::npos)
      << d.error().message;
}

TEST(RegistryClient, BasicRegistriesAndNoAuthAtAll) {
  FakeRegistry reg;
  reg.auth = FakeRegistry::Auth::kBasic;
  EXPECT_FALSE(reg.client("1.0").resolve(registry::Platform{}).ok());
  auto r = reg.client("1.0", alice()).resolve(registry::Platform{});
  ASSERT_TRUE(r.ok()) << r.error().message;
  reg.auth = FakeRegistry::Auth::kNone;
  EXPECT_TRUE(reg.client("1.0").resolve(registry::Platform{}).ok());
}

TEST(RegistryClient, TamperedManifestsAndBlobsAreRefused) {
  FakeRegistry reg;
  reg.auth = FakeRegistry::Auth::kNone;
  // By digest, a body that is not that digest.
  reg.tamper["/v2/team/app/manifests/" + reg.amd_digest] = reg.manifests[reg.arm_digest].second;
  auto t = reg.client(reg.amd_digest).manifest(reg.amd_digest);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message.find("tampered or corrupt, refused"), std::string::npos)
      << t.error().message;
  reg.tamper.clear();
  // By tag, a Docker-Content-Digest that is not the body's.
  reg.wrong_dcd = reg.arm_digest;
  auto w = reg.client("amd-only").manifest("amd-only");
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.error().message.find("Docker-Content-Digest"), std::string::npos);
  reg.wrong_dcd.clear();
  // A blob whose bytes are not its digest, or longer than the manifest says.
  Client c = reg.client("1.0");
  std::string layer_digest = registry::sha256Digest(reg.amd_layer);
  std::string got;
  net::Sink keep = [&](std::string_view b) {
    got.append(b);
    return true;
  };
  ASSERT_TRUE(c.blob(layer_digest, 3000, keep).ok());
  EXPECT_EQ(got, reg.amd_layer);
  reg.tamper["/v2/team/app/blobs/" + layer_digest] = std::string(3000, 'X');
  auto bad = c.blob(layer_digest, 3000, keep);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("does not match its digest"), std::string::npos);
  reg.tamper["/v2/team/app/blobs/" + layer_digest] = std::string(3001, 'L');
  auto longer = c.blob(layer_digest, 3000, keep);
  ASSERT_FALSE(longer.ok());
  EXPECT_NE(longer.error().message.find("longer than the 3000 bytes"), std::string::npos);
  // Schema 1 is refused with a reason.
  auto old = reg.client("old").manifest("old");
  ASSERT_FALSE(old.ok());
  EXPECT_NE(old.error().message.find("schema-1"), std::string::npos);
}

TEST(RegistryClient, ErrorsNameTheRegistryTheRepositoryAndWhatHappened) {
  FakeRegistry reg;
  reg.auth = FakeRegistry::Auth::kNone;
  auto nf = reg.client("9.9").resolve(registry::Platform{});
  ASSERT_FALSE(nf.ok());
  EXPECT_NE(nf.error().message.find(reg.host() + "/team/app (" + reg.host() +
                                    "): manifest 9.9 not found (the registry says: "
                                    "MANIFEST_UNKNOWN: manifest unknown)"),
            std::string::npos)
      << nf.error().message;
  reg.rate_limit = 100;
  auto rl = reg.client("1.0").resolve(registry::Platform{});
  ASSERT_FALSE(rl.ok());
  EXPECT_NE(rl.error().message.find("rate limited while pulling manifest 1.0"), std::string::npos)
      << rl.error().message;
  EXPECT_NE(rl.error().message.find("ratelimit-limit: 100;w=21600"), std::string::npos);
  // A transient 429 is retried away.
  reg.rate_limit = 1;
  EXPECT_TRUE(reg.client("1.0").resolve(registry::Platform{}).ok());
}

// An image with an OS, packages, a secret and a config, as an OCI layout tarball and in the
// registry under team/app:v1.
struct RealImage {
  std::string tarball;  // OCI layout tarball bytes
  std::string manifest_digest;
};

RealImage addRealImage(FakeRegistry& reg) {
  using image::fixtures::Member;
  std::vector<Member> base = {
      {"etc/os-release",
       "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"},
      {"var/lib/dpkg/status",
       "Package: zlib1g\nStatus: install ok installed\nArchitecture: amd64\nVersion: "
       "1:1.2.13.dfsg-1\n"
       "Source: zlib\n\nPackage: openssl\nStatus: install ok installed\nArchitecture: amd64\n"
       "Version: 3.0.15-1~deb12u1\n\n"}};
  std::vector<Member> app = {
      {"app/settings.py",
       "AWS_ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLQ'\nAWS_SECRET_ACCESS_KEY = "
       "'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEQ'\n"},
      {"usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA",
       "Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\nLicense: Apache 2.0\n"}};
  std::string l1 = image::fixtures::tarOf(base, "gzip"), l2 = image::fixtures::tarOf(app, "zstd");
  std::string d1 = image::fixtures::sha256(image::fixtures::tarOf(base)),
              d2 = image::fixtures::sha256(image::fixtures::tarOf(app));
  std::string config = fmt::format(
      R"({{"architecture":"amd64","os":"linux","config":{{"User":"root","Env":["PATH=/usr/bin"]}},"rootfs":{{"type":"layers","diff_ids":["{}","{}"]}}}})",
      d1, d2);
  std::string cd = reg.addBlob(config), b1 = reg.addBlob(l1), b2 = reg.addBlob(l2);
  std::string m = fmt::format(
      R"({{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{}","size":{}}},{{"mediaType":"application/vnd.oci.image.layer.v1.tar+zstd","digest":"{}","size":{}}}]}})",
      registry::kOciManifest, cd, config.size(), b1, l1.size(), b2, l2.size());
  std::string md = registry::sha256Digest(m);
  reg.manifests[md] = {registry::kOciManifest, m};
  reg.manifests["v1"] = reg.manifests[md];
  std::string index = fmt::format(
      R"({{"schemaVersion":2,"manifests":[{{"mediaType":"{}","digest":"{}","size":{}}}]}})",
      registry::kOciManifest, md, m.size());
  RealImage r;
  r.manifest_digest = md;
  r.tarball = image::fixtures::tarOf({{"oci-layout", R"({"imageLayoutVersion":"1.0.0"})"},
                                      {"index.json", index},
                                      {image::fixtures::blob(md), m},
                                      {image::fixtures::blob(cd), config},
                                      {image::fixtures::blob(b1), l1},
                                      {image::fixtures::blob(b2), l2}});
  return r;
}

TEST(RegistryImage, APulledImageReportsWhatItsTarballReports) {
  FakeRegistry reg;
  RealImage img = addRealImage(reg);
  TempDir d;
  std::string tar = d.write("app.tar", img.tarball);
  auto local = runCli("image scan " + tar + " -f json");
  ASSERT_EQ(local.exit_code, 0) << local.err;
  std::string ref = reg.host() + "/team/app:v1";
  auto pulled = runCli("image scan " + ref + " -f json");
  ASSERT_EQ(pulled.exit_code, 0) << pulled.err;
  std::string a = image::fixtures::reportWithoutSource(local.out),
              b = image::fixtures::reportWithoutSource(pulled.out);
  EXPECT_EQ(a, b);
  EXPECT_NE(b.find("zlib1g"), std::string::npos);
  EXPECT_NE(b.find("requests"), std::string::npos);
  EXPECT_NE(b.find("aws-access-key-id"), std::string::npos) << b.substr(0, 2000);
  rapidjson::Document j;
  j.Parse(pulled.out.c_str());
  const auto& src = j["images"][0]["image"];
  EXPECT_STREQ(src["format"].GetString(), "registry");
  EXPECT_EQ(std::string(src["path"].GetString()), reg.host() + "/team/app:v1");
  EXPECT_EQ(std::string(src["manifestDigest"].GetString()), img.manifest_digest);
  // With a layer cache, a second scan downloads the manifest and config, no layer.
  std::string cache = " --cache-dir " + d.path() + "/cache";
  ASSERT_EQ(runCli("image scan " + ref + " -f json" + cache).exit_code, 0);
  size_t before = reg.srv->requests().size();
  auto warm = runCli("image scan " + ref + " -f json" + cache);
  ASSERT_EQ(warm.exit_code, 0) << warm.err;
  std::string warm_report = image::fixtures::reportWithoutSource(warm.out);
  for (size_t at = warm_report.find("\"cached\":true"); at != std::string::npos;
       at = warm_report.find("\"cached\":true"))
    warm_report.replace(at, 13, "\"cached\":false");
  EXPECT_EQ(warm_report, a);  // the same, from the cache
  auto after = reg.srv->requests();
  size_t blob_gets = 0;
  for (size_t i = before; i < after.size(); ++i)
    blob_gets += after[i].target.find("/blobs/") != std::string::npos;
  EXPECT_EQ(blob_gets, 1u);  // the config only
  // By digest, and through the token flow with credentials on stdin.
  reg.auth = FakeRegistry::Auth::kBearerPrivate;
  auto denied =
      runCli("image scan " + reg.host() + "/team/app@" + img.manifest_digest + " -f json");
  EXPECT_EQ(denied.exit_code, 3);
  EXPECT_NE(denied.err.find("unauthorized to pull"), std::string::npos) << denied.err;
  auto authed = runCli("image scan " + reg.host() + "/team/app@" + img.manifest_digest +
                           " -f json --username alice --password-stdin",
                       "", "s3cr3t-pw\n");
  ASSERT_EQ(authed.exit_code, 0) << authed.err;
  EXPECT_EQ(image::fixtures::reportWithoutSource(authed.out), a);
  EXPECT_EQ(authed.out.find("s3cr3t-pw"), std::string::npos);
  EXPECT_EQ(authed.err.find("s3cr3t-pw"), std::string::npos);
  // A tampered layer fails the scan with the digest error, exit 3.
  reg.auth = FakeRegistry::Auth::kNone;
  rapidjson::Document m;
  m.Parse(reg.manifests["v1"].second.c_str());
  std::string layer = m["layers"][1]["digest"].GetString();
  reg.tamper["/v2/team/app/blobs/" + layer] = std::string(reg.blobs[layer].size(), 'x');
  auto bad = runCli("image scan " + ref + " -f json");
  EXPECT_EQ(bad.exit_code, 3);
  EXPECT_NE(bad.err.find("does not match its digest"), std::string::npos) << bad.err;
  // What is neither a file nor a reference is a usage error.
  auto neither = runCli("image scan ./Not/A:ref");
  EXPECT_EQ(neither.exit_code, 2);
  EXPECT_NE(neither.err.find("is neither a file nor an image reference"), std::string::npos);
}

// A layer whose blob matches its digest but whose uncompressed content is not the diff ID the
// config names (a registry serving a swapped layer under a re-signed manifest) fails the
// scan, exit 3, and nothing goes into the layer cache.
TEST(RegistryImage, ALayerThatIsNotItsDiffIdIsRefusedAndNotCached) {
  FakeRegistry reg;
  std::string good = image::fixtures::tarOf({{"etc/os-release", "ID=alpine\nVERSION_ID=3.19.1\n"}});
  std::string evil =
      image::fixtures::tarOf({{"etc/os-release", "ID=alpine\nVERSION_ID=3.20.0\n"}}, "gzip");
  std::string config = fmt::format(
      R"({{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":["{}"]}}}})",
      registry::sha256Digest(good));
  std::string cd = reg.addBlob(config), ld = reg.addBlob(evil);
  std::string m = fmt::format(
      R"({{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{}","size":{}}}]}})",
      registry::kOciManifest, cd, config.size(), ld, evil.size());
  reg.manifests["swapped"] = {registry::kOciManifest, m};
  TempDir d;
  std::filesystem::create_directories(d.path() + "/tmp");
  auto r = runCli(
      "image scan -f json --cache-dir " + d.path() + "/cache " + reg.host() + "/team/app:swapped",
      "", "", "TMPDIR=" + d.path() + "/tmp");
  EXPECT_TRUE(std::filesystem::is_empty(d.path() + "/tmp"));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find(fmt::format("the uncompressed content is {} but the image config says its "
                                   "diff ID is {}",
                                   registry::sha256Digest(image::fixtures::uncompressed(evil)),
                                   registry::sha256Digest(good))),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(!std::filesystem::exists(d.path() + "/cache") ||
              std::filesystem::is_empty(d.path() + "/cache"));
}

// A pulled config is checked as a local archive's is: a diff ID that is not a digest, a layer
// count that is not the manifest's, a config that is not JSON: each refused by name, exit 3.
TEST(RegistryImage, AMalformedConfigIsRefusedByName) {
  FakeRegistry reg;
  std::string layer = image::fixtures::tarOf({{"etc/os-release", "ID=alpine\n"}}, "gzip");
  std::string ld = reg.addBlob(layer);
  auto serve = [&](const std::string& tag, const std::string& config) {
    std::string cd = reg.addBlob(config);
    reg.manifests[tag] = {
        registry::kOciManifest,
        fmt::format(
            R"({{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{}","size":{}}}]}})",
            registry::kOciManifest, cd, config.size(), ld, layer.size())};
  };
  serve("md5", R"({"os":"linux","rootfs":{"type":"layers","diff_ids":["md5:0123"]}})");
  serve("two", fmt::format(R"({{"os":"linux","rootfs":{{"diff_ids":["{0}","{0}"]}}}})",
                           registry::sha256Digest(image::fixtures::uncompressed(layer))));
  serve("text", "not json at all");
  serve("good", fmt::format(R"({{"os":"linux","rootfs":{{"diff_ids":["{}"]}}}})",
                            registry::sha256Digest(image::fixtures::uncompressed(layer))));
  for (auto [tag, want] : std::vector<std::pair<std::string, std::string>>{
           {"md5", "rootfs.diff_ids[0] 'md5:0123' is not a digest"},
           {"two", "the config lists 2 layers, the manifest 1"},
           {"text", "image config"}}) {
    auto r = runCli("image scan " + reg.host() + "/team/app:" + tag);
    EXPECT_EQ(r.exit_code, 3) << tag << r.out;
    EXPECT_NE(r.err.find(want), std::string::npos) << tag << ": " << r.err;
    EXPECT_NE(r.err.find(reg.host() + "/team/app:" + tag), std::string::npos) << r.err;
  }
  EXPECT_EQ(runCli("image scan " + reg.host() + "/team/app:good").exit_code, 0);
}

// A non-distributable (foreign) layer is not fetched: the scan reads the others, says which
// layer was not scanned (warning, JSON, text), and caches nothing for it.
TEST(RegistryImage, ForeignLayersAreNotFetchedAndTheReportSaysSo) {
  FakeRegistry reg;
  std::string base = image::fixtures::tarOf({{"Files/readme.txt", "windows base"}});
  std::string app = image::fixtures::tarOf({{"etc/os-release", "ID=alpine\nVERSION_ID=3.19.1\n"}});
  std::string config = fmt::format(
      R"({{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":["{}","{}"]}}}})",
      registry::sha256Digest(base), registry::sha256Digest(app));
  std::string cd = reg.addBlob(config), ad = reg.addBlob(app);
  std::string bd = registry::sha256Digest(base);  // never stored: it lives elsewhere
  std::string m = fmt::format(
      R"({{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"{}","size":{}}},"layers":[{{"mediaType":"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip","digest":"{}","size":{},"urls":["https://example.invalid/base"]}},{{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","digest":"{}","size":{}}}]}})",
      cd, config.size(), bd, base.size(), ad, app.size());
  reg.manifests["win"] = {"application/vnd.docker.distribution.manifest.v2+json", m};
  TempDir d;
  std::string ref = reg.host() + "/team/app:win";
  auto r = runCli("image scan -f json --cache-dir " + d.path() + "/cache " + ref);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(
      r.err.find("layer " + bd + " is non-distributable (foreign): not fetched, so not scanned"),
      std::string::npos)
      << r.err;
  rapidjson::Document j;
  j.Parse(r.out.c_str());
  const auto& layers = j["images"][0]["layers"];
  ASSERT_EQ(layers.Size(), 2u);
  EXPECT_FALSE(layers[0]["scanned"].GetBool());
  EXPECT_FALSE(layers[1].HasMember("scanned"));
  EXPECT_EQ(layers[1]["files"].GetUint64(), 1u);
  EXPECT_NE(r.out.find("3.19.1"), std::string::npos);
  for (const auto& req : reg.srv->requests())
    EXPECT_EQ(req.target.find(bd.substr(7)), std::string::npos) << req.target;
  size_t cached = 0;
  for (const auto& e : std::filesystem::directory_iterator(d.path() + "/cache")) {
    EXPECT_EQ(e.path().filename().string().find(bd.substr(7)), std::string::npos);
    ++cached;
  }
  EXPECT_EQ(cached, 1u);  // the app layer only
  auto text = runCli("image scan " + ref);
  EXPECT_NE(text.out.find("NOT SCANNED: non-distributable (foreign), not fetched"),
            std::string::npos)
      << text.out;
}

TEST(RegistryAuth, ChallengesAndTokenAnswers) {
  auto cs = registry::parseChallenges(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull,push", Basic realm="x\"y")");
  ASSERT_EQ(cs.size(), 2u);
  EXPECT_EQ(cs[0].scheme, "bearer");
  EXPECT_EQ(cs[0].param("realm"), "https://auth.docker.io/token");
  EXPECT_EQ(cs[0].param("scope"), "repository:library/nginx:pull,push");
  EXPECT_EQ(cs[1].scheme, "basic");
  EXPECT_EQ(cs[1].param("realm"), "x\"y");
  auto unq = registry::parseChallenges("Bearer realm=https://a/token, error=invalid_token");
  ASSERT_EQ(unq.size(), 1u);
  EXPECT_EQ(unq[0].param("error"), "invalid_token");
  auto t = registry::parseTokenResponse(R"({"token":"a","access_token":"b","expires_in":30})");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->value, "b");
  EXPECT_EQ(t->expires_in, std::chrono::seconds(60));  // at least 60
  EXPECT_EQ(registry::parseTokenResponse(R"({"token":"a"})")->value, "a");
  EXPECT_FALSE(registry::parseTokenResponse(R"({"expires_in":3})").ok());
  EXPECT_FALSE(registry::parseTokenResponse("<html>").ok());
  EXPECT_EQ(kh::base64Encode("alice:s3cr3t"), "YWxpY2U6czNjcjN0");
  EXPECT_EQ(kh::base64Decode("YWxpY2U6czNjcjN0").value(), "alice:s3cr3t");
  EXPECT_EQ(kh::base64Decode("YQ").value(), "a");
  EXPECT_FALSE(kh::base64Decode("a!b"));
  EXPECT_EQ(registry::sha256Digest(""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

}  // namespace registry_client_tests
}  // namespace kh::test
