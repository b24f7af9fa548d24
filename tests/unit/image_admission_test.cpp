// admission.verifyImages: image globs, the config's rules and their errors, which images of a
// request a rule governs, what verdicts do to the answer and the mutating webhook's digest pins
// (pure); then the server against Docker's registry with images signed by Sigstore's own
// JavaScript signer (verdicts cached: a repeated request makes no registry request), a registry
// that stalls (answered within the deadline), and `kubeharden review` from an OCI layout.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <rapidjson/document.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "admission/handler.h"
#include "admission/image_policy.h"
#include "admission/image_verifier.h"
#include "admission/server.h"
#include "base/strings.h"
#include "config/config.h"
#include "load/json_reader.h"
#include "net/http.h"
#include "sigstore/builtin_root.h"
#include "tests/unit/http_test_server.h"
#include "tests/unit/signing_util.h"
#include "tests/unit/test_util.h"

namespace kh::admission {
namespace {

using image::fixtures::shell;
using test::TempDir;

// A fresh P-256 public key in DIR/NAME (its private key beside it, NAME.key).
std::string makeKey(const TempDir& d, const std::string& name) {
  std::string path = d.path() + "/" + name;
  EXPECT_EQ(shell(fmt::format("openssl ecparam -name prime256v1 -genkey -noout -out {0}.key && "
                              "openssl pkey -in {0}.key -pubout -out {0}",
                              path)),
            0);
  return path;
}

std::string review(std::string_view op, std::string_view kind, std::string_view object,
                   std::string_view ns = "shop", std::string_view sub = "",
                   std::string_view old_object = "null") {
  return fmt::format(
      R"({{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{{"uid":"u1",
        "kind":{{"group":"","version":"v1","kind":"{}"}},"subResource":"{}","namespace":"{}",
        "operation":"{}","userInfo":{{"username":"alice"}},"object":{},"oldObject":{}}}}})",
      kind, sub, ns, op, object, old_object);
}

std::string pod(std::string_view containers, std::string_view init = "[]",
                std::string_view ephemeral = "[]") {
  return fmt::format(
      R"({{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"p"}},"spec":{{"initContainers":{},
        "containers":{},"ephemeralContainers":{}}}}})",
      init, containers, ephemeral);
}

std::string container(std::string_view name, std::string_view image) {
  return fmt::format(R"({{"name":"{}","image":"{}"}})", name, image);
}

struct Loaded {
  Config cfg;
  Policy policy;
};

std::unique_ptr<Loaded> load(const TempDir& d, const std::string& yaml) {
  auto l = std::make_unique<Loaded>();
  auto cfg = loadConfig(d.write("kubeharden.yaml", yaml));
  EXPECT_TRUE(cfg) << cfg.error().describe();
  if (!cfg) return nullptr;
  l->cfg = std::move(cfg.value());
  l->policy = policyFromConfig(l->cfg, nullptr, "2026-12-06");
  auto images = compileImagePolicy(l->cfg.admission.verify_images);
  EXPECT_TRUE(images) << images.error().describe();
  if (!images) return nullptr;
  l->policy.images = images.value();
  return l;
}

std::string configError(const TempDir& d, const std::string& yaml) {
  auto cfg = loadConfig(d.write("bad.yaml", yaml));
  if (!cfg) return cfg.error().describe();
  auto images = compileImagePolicy(cfg.value().admission.verify_images);
  return images ? "" : images.error().describe();
}

TEST(VerifyImagesGlobs, SegmentsReferencesAndNormalisation) {
  EXPECT_TRUE(imageGlobMatch("ghcr.io/acme/*", "ghcr.io/acme/app:v1"));
  EXPECT_FALSE(imageGlobMatch("ghcr.io/acme/*", "ghcr.io/acme/team/app:v1"));
  EXPECT_TRUE(imageGlobMatch("ghcr.io/acme/**", "ghcr.io/acme/team/app:v1"));
  EXPECT_TRUE(imageGlobMatch("ghcr.io/**", "ghcr.io/a"));
  EXPECT_FALSE(imageGlobMatch("ghcr.io/**", "ghcr.io"));
  EXPECT_TRUE(imageGlobMatch("ghcr.io/acme/app:v?", "ghcr.io/acme/app:v2"));
  EXPECT_FALSE(imageGlobMatch("ghcr.io/acme/app:v?", "ghcr.io/acme/app:v22"));
  EXPECT_FALSE(imageGlobMatch("ghcr.io/acme/ap?", "ghcr.io/acme/a/p"));
  EXPECT_TRUE(imageGlobMatch("**", "anything/at/all:x"));
  EXPECT_FALSE(imageGlobMatch("*", "two/segments"));
  EXPECT_TRUE(imageGlobMatch("a*b*c", "aXXbYYc"));
  EXPECT_FALSE(imageGlobMatch("a*b*c", "aXXbYY"));
  EXPECT_FALSE(imageGlobMatch("ghcr.io/acme", "ghcr.io/acme2"));

  EXPECT_EQ(normalisePattern("nginx"), "docker.io/library/nginx");
  EXPECT_EQ(normalisePattern("nginx:1.*"), "docker.io/library/nginx:1.*");
  EXPECT_EQ(normalisePattern("acme/*"), "docker.io/acme/*");
  EXPECT_EQ(normalisePattern("ghcr.io/acme/*"), "ghcr.io/acme/*");
  EXPECT_EQ(normalisePattern("localhost/app"), "localhost/app");
  EXPECT_EQ(normalisePattern("registry:5000/app"), "registry:5000/app");
  EXPECT_EQ(normalisePattern("**"), "**");
  EXPECT_EQ(normalisePattern("*/app"), "*/app");

  ImageRule r;
  r.patterns = {normalisePattern("nginx")};
  auto ref = [](std::string_view s) { return registry::parseReference(s).value(); };
  EXPECT_TRUE(ruleMatches(r, ref("nginx")));
  EXPECT_TRUE(ruleMatches(r, ref("docker.io/library/nginx:1.27")));
  EXPECT_TRUE(ruleMatches(r, ref("nginx@sha256:" + std::string(64, 'a'))));
  EXPECT_FALSE(ruleMatches(r, ref("nginx2")));
  EXPECT_FALSE(ruleMatches(r, ref("ghcr.io/library/nginx")));
  r.patterns = {"ghcr.io/acme/app:v1"};  // a tag pattern: the tag, with or without a digest
  EXPECT_TRUE(ruleMatches(r, ref("ghcr.io/acme/app:v1")));
  EXPECT_TRUE(ruleMatches(r, ref("ghcr.io/acme/app:v1@sha256:" + std::string(64, 'b'))));
  EXPECT_FALSE(ruleMatches(r, ref("ghcr.io/acme/app:v2")));
  EXPECT_FALSE(ruleMatches(r, ref("ghcr.io/acme/app@sha256:" + std::string(64, 'b'))));
}

TEST(VerifyImagesConfig, ErrorsNameTheFileAndLine) {
  TempDir d;
  std::string key = makeKey(d, "cosign.pub");
  auto has = [](const std::string& got, const std::string& want) {
    EXPECT_NE(got.find(want), std::string::npos) << got;
  };
  has(configError(d, "admission:\n  verifyImages:\n    rulez: []\n"),
      "bad.yaml:3:5: admission.verifyImages: unknown key 'rulez'");
  has(configError(d, "admission:\n  verifyImages:\n    rules:\n      - images: [a]\n"),
      "bad.yaml:4:9: admission.verifyImages.rules: a verify rule needs attestors");
  has(configError(d, "admission:\n  verifyImages:\n    rules:\n      - attestors: [{key: k}]\n"),
      "a rule needs images");
  has(configError(d,
                  "admission:\n  verifyImages:\n    rules:\n      - images: [a]\n"
                  "        attestors:\n          - key: missing.pub\n"),
      "bad.yaml:6:13: admission.verifyImages.rules.attestors: cannot read the key " + d.path() +
          "/missing.pub");
  has(configError(d,
                  "admission:\n  verifyImages:\n    rules:\n      - images: [a]\n"
                  "        attestors:\n          - key: bad.yaml\n"),
      "bad.yaml:6:13: admission.verifyImages.rules.attestors: " + d.path() + "/bad.yaml: ");
  has(configError(d,
                  "admission:\n  verifyImages:\n    trustedRoot: nowhere.json\n    rules:\n"
                  "      - images: [a]\n        attestors:\n"
                  "          - {identityRegexp: '(', issuer: https://x}\n"),
      "bad.yaml:3:18: admission.verifyImages.trustedRoot: ");
  if (!sigstore::builtInRootSource().empty())  // keyless rules need a root
    has(configError(d,
                    "admission:\n  verifyImages:\n    rules:\n"
                    "      - images: [a]\n        attestors:\n"
                    "          - {identityRegexp: '(', issuer: https://x}\n"),
        "bad.yaml:6:13: admission.verifyImages.rules.attestors: '(' is not an RE2 regular "
        "expression");
  has(configError(d,
                  "admission:\n  verifyImages:\n    rules:\n      - images: [a]\n"
                  "        attestors:\n          - {identity: alice}\n"),
      "give a key, or an identity (identity or identityRegexp) and an issuer");
  has(configError(d,
                  "admission:\n  verifyImages:\n    rules:\n      - images: [a]\n"
                  "        count: 2\n        attestors:\n          - key: cosign.pub\n"),
      "count 2 is more than the 1 attestors");
  has(configError(d,
                  "admission:\n  verifyImages:\n    rules:\n      - images: [a]\n"
                  "        action: allow\n        attestors:\n          - key: cosign.pub\n"),
      "an allow or deny rule takes no attestors");
  has(configError(d,
                  "admission:\n  verifyImages:\n    rules:\n      - images: [a]\n"
                  "        action: maybe\n"),
      "bad.yaml:5:17: admission.verifyImages.rules.action: 'maybe' is not verify, allow or deny");
  has(configError(d, "admission:\n  verifyImages:\n    cache:\n      successTTL: forever\n"),
      "bad.yaml:4:19: admission.verifyImages.cache.successTTL: expected a duration");
  has(configError(d,
                  "admission:\n  verifyImages:\n    rules:\n      - images: [a]\n"
                  "        signatureRepository: 'Not/Valid'\n        attestors:\n"
                  "          - key: cosign.pub\n"),
      "admission.verifyImages.rules.signatureRepository:");
  // And a good one: every field read.
  auto ok = load(d, R"(admission:
  verifyImages:
    cache: {successTTL: 5m, failureTTL: 10s, tagTTL: 0s}
    insecureRegistries: [registry.local:5000]
    rules:
      - name: prod
        images: [ghcr.io/acme/**, nginx]
        namespaces: [prod-*]
        excludeNamespaces: [prod-sandbox]
        namespaceLabels: {team: shop}
        attestors:
          - key: cosign.pub
        attestations:
          - https://slsa.dev/provenance/v1
          - type: https://cyclonedx.org/bom
            predicate: {/metadata/component/name: "app*"}
        requireTimestamp: false
        mutateDigest: false
        verifyDigest: false
        failureAction: audit
      - images: ["**"]
        action: deny
)");
  ASSERT_TRUE(ok);
  const ImagePolicy& p = *ok->policy.images;
  ASSERT_EQ(p.rules.size(), 2u);
  EXPECT_EQ(p.success_ttl, 300);
  EXPECT_EQ(p.failure_ttl, 10);
  EXPECT_EQ(p.tag_ttl, 0);
  EXPECT_EQ(p.rules[0].name, "prod");
  EXPECT_EQ(p.rules[1].name, "rule 2");
  EXPECT_EQ(p.rules[0].patterns[1], "docker.io/library/nginx");
  ASSERT_EQ(p.rules[0].attestations.size(), 2u);
  EXPECT_EQ(p.rules[0].attestations[1].type, "https://cyclonedx.org/bom");
  ASSERT_EQ(p.rules[0].attestations[1].predicate.size(), 1u);
  EXPECT_EQ(p.rules[0].attestations[1].predicate[0].first, "/metadata/component/name");
  EXPECT_TRUE(p.rules[0].audit);
  EXPECT_FALSE(p.rules[0].mutate_digest);
  EXPECT_EQ(p.rules[0].attestors[0].name, "key " + key);
  EXPECT_EQ(p.rules[1].action, VerifyImagesRule::Action::kDeny);
  EXPECT_EQ(p.rules[0].hash.size(), 64u);
  // The hash follows the key's bytes: a new key at the same path is a new rule.
  std::string before = p.rules[0].hash;
  makeKey(d, "cosign.pub");
  auto again = compileImagePolicy(ok->cfg.admission.verify_images);
  ASSERT_TRUE(again);
  EXPECT_NE(again.value()->rules[0].hash, before);
  EXPECT_EQ(again.value()->rules[1].hash, p.rules[1].hash);
}

// The verdicts on a request, decided with `verdicts` (by image).
struct Decided {
  std::vector<ImageUse> uses;
  AdmissionResponse resp;
};

Decided decideWith(const Loaded& l, const std::string& body, const Node* labels,
                   const std::map<std::string, ImageVerdict>& by_image, bool mutating = false) {
  Arena arena;
  auto req = decodeRequest(body, arena);
  EXPECT_TRUE(req) << req.error().describe();
  Decided out;
  out.uses = imagesToVerify(req.value(), l.policy, labels, mutating);
  ImageVerdicts v;
  for (const ImageUse& u : out.uses)
    if (auto it = by_image.find(u.image); it != by_image.end()) v[u.key()] = it->second;
  out.resp = decide(req.value(), l.policy, labels, &v);
  if (mutating) out.resp.patch = pinPatch(out.uses, *l.policy.images, v);
  return out;
}

const std::string kDigestA = "sha256:" + std::string(64, 'a');

TEST(VerifyImagesDecide, VerdictsStaticRulesDigestsAndAudit) {
  TempDir d;
  makeKey(d, "cosign.pub");
  auto l = load(d, R"(admission:
  verifyImages:
    rules:
      - name: system
        images: ["registry.k8s.io/**"]
        action: allow
      - name: team
        images: ["ghcr.io/acme/**"]
        attestors: [{key: cosign.pub}]
      - name: trial
        images: ["ghcr.io/trial/**"]
        attestors: [{key: cosign.pub}]
        failureAction: audit
        verifyDigest: false
      - name: hub
        images: ["docker.io/**"]
        action: deny
)");
  ASSERT_TRUE(l);
  Arena arena;
  const Node* none = parseJson("{}", arena).value();
  std::string signed_image = "ghcr.io/acme/app@" + kDigestA;
  ImageVerdict ok{true, kDigestA, "signature verified by key"};
  ImageVerdict bad{false, kDigestA, "has no signature verified (signature: wrong key)"};

  // Signed, and a static allow: allowed, both recorded.
  auto r = decideWith(*l,
                      review("CREATE", "Pod",
                             pod("[" + container("a", signed_image) + "]",
                                 "[" + container("i", "registry.k8s.io/pause:3.9") + "]")),
                      none, {{signed_image, ok}});
  EXPECT_TRUE(r.resp.allowed) << r.resp.message;
  ASSERT_EQ(r.uses.size(), 2u);
  EXPECT_TRUE(r.uses[1].needs_verification);   // the digest
  EXPECT_FALSE(r.uses[0].needs_verification);  // the static allow
  EXPECT_EQ(r.resp.audit_annotations["kubeharden.io/image-verification"],
            "registry.k8s.io/pause:3.9: allowed by system; " + signed_image +
                ": signature verified by key");

  // Refused by the verifier; a static deny; a tag where digests are required; no verdict.
  r = decideWith(*l,
                 review("CREATE", "Pod",
                        pod("[" + container("a", signed_image) + "," + container("b", "nginx") +
                            "," + container("c", "ghcr.io/acme/app:v1") + "," +
                            container("d", "ghcr.io/acme/other@" + kDigestA) + "]")),
                 none, {{signed_image, bad}});
  EXPECT_FALSE(r.resp.allowed);
  EXPECT_EQ(r.resp.code, 403);
  EXPECT_EQ(r.resp.message,
            "image \"" + signed_image +
                "\" has no signature verified (signature: wrong key) (team); image \"nginx\" is "
                "not allowed (hub); image \"ghcr.io/acme/app:v1\" is not pinned to a digest (the "
                "rule verifies digests only; mutateDigest pins tags in the mutating webhook) "
                "(team); image \"ghcr.io/acme/other@" +
                kDigestA + "\" was not verified (team)");

  // failureAction: audit warns and allows; verifyDigest: false lets a tag be verified.
  r = decideWith(*l, review("CREATE", "Pod", pod("[" + container("a", "ghcr.io/trial/x:1") + "]")),
                 none, {{"ghcr.io/trial/x:1", bad}});
  EXPECT_TRUE(r.resp.allowed);
  ASSERT_EQ(r.uses.size(), 1u);
  EXPECT_TRUE(r.uses[0].needs_verification);
  size_t image_warnings = 0;
  for (const std::string& w : r.resp.warnings)
    image_warnings += w.starts_with("image \"ghcr.io/trial/x:1\" has no signature verified");
  EXPECT_EQ(image_warnings, 1u);

  // Images no rule names are not judged; a Deployment's template is.
  r = decideWith(*l, review("CREATE", "Pod", pod("[" + container("a", "quay.io/x/y:1") + "]")),
                 none, {});
  EXPECT_TRUE(r.resp.allowed);
  EXPECT_TRUE(r.uses.empty());
  std::string deployment = fmt::format(
      R"({{"apiVersion":"apps/v1","kind":"Deployment","metadata":{{"name":"d"}},"spec":{{"template":{{"spec":{{"containers":[{}]}}}}}}}})",
      container("a", "nginx:1.27"));
  r = decideWith(*l, review("CREATE", "Deployment", deployment), none, {});
  EXPECT_FALSE(r.resp.allowed);
  ASSERT_EQ(r.uses.size(), 1u);
  EXPECT_EQ(r.uses[0].pointer, "/spec/template/spec/containers/0/image");
}

TEST(VerifyImagesDecide, NamespacesUpdatesAndEphemeralContainers) {
  TempDir d;
  makeKey(d, "cosign.pub");
  auto l = load(d, R"(admission:
  exemptions: {usernames: [ci-bot]}
  verifyImages:
    rules:
      - images: ["**"]
        namespaces: [prod-*, shop]
        excludeNamespaces: [prod-sandbox]
        namespaceLabels: {tier: web}
        action: deny
)");
  ASSERT_TRUE(l);
  Arena arena;
  const Node* web = parseJson(R"({"tier":"web"})", arena).value();
  const Node* db = parseJson(R"({"tier":"db"})", arena).value();
  std::string p1 = pod("[" + container("a", "a:1") + "]");
  auto count = [&](const std::string& body, const Node* labels) {
    return decideWith(*l, body, labels, {}).uses.size();
  };
  EXPECT_EQ(count(review("CREATE", "Pod", p1, "shop"), web), 1u);
  EXPECT_EQ(count(review("CREATE", "Pod", p1, "prod-eu"), web), 1u);
  EXPECT_EQ(count(review("CREATE", "Pod", p1, "prod-sandbox"), web), 0u);
  EXPECT_EQ(count(review("CREATE", "Pod", p1, "dev"), web), 0u);
  EXPECT_EQ(count(review("CREATE", "Pod", p1, "shop"), db), 0u);
  EXPECT_EQ(count(review("DELETE", "Pod", "null", "shop", "", p1), web), 0u);
  // An exempt user is not judged.
  std::string by_bot = review("CREATE", "Pod", p1, "shop");
  by_bot.replace(by_bot.find("alice"), 5, "ci-bot");
  EXPECT_EQ(count(by_bot, web), 0u);
  // UPDATE: only images the old object did not have.
  std::string p2 = pod("[" + container("a", "a:1") + "," + container("b", "b:1") + "]");
  auto upd = decideWith(*l, review("UPDATE", "Pod", p2, "shop", "", p1), web, {});
  ASSERT_EQ(upd.uses.size(), 1u);
  EXPECT_EQ(upd.uses[0].image, "b:1");
  // The ephemeralcontainers subresource: only the new ephemeral container.
  std::string with_debug =
      pod("[" + container("a", "a:1") + "]", "[]", "[" + container("debug", "busybox:1") + "]");
  std::string with_two =
      pod("[" + container("a", "a:1") + "]", "[]",
          "[" + container("debug", "busybox:1") + "," + container("debug2", "busybox:1") + "]");
  auto eph = decideWith(
      *l, review("UPDATE", "Pod", with_two, "shop", "ephemeralcontainers", with_debug), web, {});
  ASSERT_EQ(eph.uses.size(), 1u);
  EXPECT_EQ(eph.uses[0].pointer, "/spec/ephemeralContainers/1/image");
  EXPECT_FALSE(eph.resp.allowed);
  // Other subresources are not judged.
  EXPECT_EQ(count(review("UPDATE", "Pod", p2, "shop", "status", p1), web), 0u);
}

TEST(VerifyImagesMutate, PinsEveryContainerListAndJoinsPatches) {
  TempDir d;
  makeKey(d, "cosign.pub");
  auto l = load(d, R"(admission:
  verifyImages:
    rules:
      - images: ["ghcr.io/acme/**"]
        attestors: [{key: cosign.pub}]
      - images: ["ghcr.io/loose/**"]
        attestors: [{key: cosign.pub}]
        mutateDigest: false
)");
  ASSERT_TRUE(l);
  Arena arena;
  const Node* none = parseJson("{}", arena).value();
  std::string body = review("CREATE", "Pod",
                            pod("[" + container("a", "ghcr.io/acme/app:v1") + "," +
                                    container("b", "ghcr.io/acme/pinned@" + kDigestA) + "," +
                                    container("c", "ghcr.io/loose/x:1") + "]",
                                "[" + container("i", "ghcr.io/acme/init:v1") + "]",
                                "[" + container("e", "ghcr.io/acme/app:v1") + "]"));
  ImageVerdict v{true, kDigestA, "ok"};
  auto r = decideWith(
      *l, body, none,
      {{"ghcr.io/acme/app:v1", v}, {"ghcr.io/acme/init:v1", v}, {"ghcr.io/loose/x:1", v}}, true);
  // Which uses the mutating webhook verifies: the tags of mutateDigest rules.
  size_t verify = 0;
  for (const ImageUse& u : r.uses) verify += u.needs_verification;
  EXPECT_EQ(verify, 3u);
  EXPECT_EQ(
      r.resp.patch,
      R"([{"op":"replace","path":"/spec/initContainers/0/image","value":"ghcr.io/acme/init:v1@)" +
          kDigestA +
          R"("},{"op":"replace","path":"/spec/containers/0/image","value":"ghcr.io/acme/app:v1@)" +
          kDigestA +
          R"("},{"op":"replace","path":"/spec/ephemeralContainers/0/image","value":"ghcr.io/acme/app:v1@)" +
          kDigestA + R"("}])");
  // No verdict (the registry did not answer): no pin.
  r = decideWith(*l, body, none, {}, true);
  EXPECT_EQ(r.resp.patch, "");
  EXPECT_EQ(joinPatches("", "[1]"), "[1]");
  EXPECT_EQ(joinPatches("[1]", ""), "[1]");
  EXPECT_EQ(joinPatches("[1,2]", "[3]"), "[1,2,3]");
}

// --- The server, against registries ---

// Forwards each request to the registry at 127.0.0.1:`upstream` (Connection: close) and copies
// its answer back: a registry whose requests the test can count (TestHttpServer records them).
void forward(const test::HttpRequest& r, int fd, int upstream) {
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(upstream));
  if (::connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(s);
    return;
  }
  std::string out = r.method + " " + r.target + " HTTP/1.1\r\n";
  for (const auto& [k, v] : r.headers)
    if (k != "connection") out += k + ": " + v + "\r\n";
  out += "Connection: close\r\n\r\n" + r.body;
  test::TestHttpServer::writeAll(s, out);
  char buf[16384];
  for (ssize_t n; (n = ::recv(s, buf, sizeof buf, 0)) > 0;)
    test::TestHttpServer::writeAll(fd, std::string_view(buf, static_cast<size_t>(n)));
  ::close(s);
}

struct Serving {
  std::unique_ptr<Server> server;
  std::thread thread;
  explicit Serving(const std::string& config) {
    ServerOptions o;
    o.listen.clear();
    o.insecure_listen = "127.0.0.1:0";
    o.config = config;
    auto s = Server::create(o);
    EXPECT_TRUE(s) << (s ? "" : s.error().describe());
    if (!s) return;
    server = std::move(s.value());
    thread = std::thread([this] { server->run(); });
  }
  ~Serving() {
    if (!server) return;
    server->shutdown();
    thread.join();
  }
  // POSTs `body` to `path` and returns the AdmissionReview's response object as JSON text, and
  // how long the answer took.
  struct Answer {
    bool allowed = false;
    std::string message, patch, annotation, body;
    std::vector<std::string> warnings;
    double seconds = 0;
  };
  Answer post(const std::string& path, const std::string& body) {
    net::ClientOptions co;
    co.allow_http = true;
    co.max_attempts = 1;
    net::Client c(co);
    net::Request req;
    req.method = "POST";
    req.url = fmt::format("http://127.0.0.1:{}{}", server->port(), path);
    req.headers = {{"Content-Type", "application/json"}};
    req.body = body;
    auto start = std::chrono::steady_clock::now();
    auto r = c.fetch(req);
    Answer a;
    a.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_TRUE(r) << (r ? "" : r.error().describe());
    if (!r) return a;
    a.body = r.value().body;
    rapidjson::Document d;
    d.Parse(a.body.c_str());
    EXPECT_TRUE(d.IsObject() && d.HasMember("response")) << a.body;
    if (!d.IsObject() || !d.HasMember("response")) return a;
    const auto& resp = d["response"];
    a.allowed = resp["allowed"].GetBool();
    if (resp.HasMember("status")) a.message = resp["status"]["message"].GetString();
    if (resp.HasMember("patch"))
      a.patch = base64Decode(resp["patch"].GetString()).value_or("(not base64)");
    if (resp.HasMember("warnings"))
      for (const auto& w : resp["warnings"].GetArray()) a.warnings.emplace_back(w.GetString());
    if (resp.HasMember("auditAnnotations") &&
        resp["auditAnnotations"].HasMember("kubeharden.io/image-verification"))
      a.annotation = resp["auditAnnotations"]["kubeharden.io/image-verification"].GetString();
    return a;
  }
  std::string metrics() {
    net::ClientOptions co;
    co.allow_http = true;
    net::Client c(co);
    net::Request req;
    req.url = fmt::format("http://127.0.0.1:{}/metrics", server->port());
    auto r = c.fetch(req);
    return r ? r.value().body : "";
  }
};

// Sets an environment variable for the test's duration.
struct ScopedEnv {
  std::string name;
  ScopedEnv(std::string n, const std::string& value) : name(std::move(n)) {
    ::setenv(name.c_str(), value.c_str(), 1);
  }
  ~ScopedEnv() { ::unsetenv(name.c_str()); }
};

TEST(VerifyImagesServer, SignedImagesThroughARegistryAndTheCache) {
  KH_NEED_SIGNING_TOOLS();
  test::SignedRegistry s;
  std::string why;
  ASSERT_TRUE(s.start(&why)) << why;
  std::string keyed = s.sign("key", s.a, "--key --legacy");
  int upstream = std::stoi(s.reg->host().substr(s.reg->host().rfind(':') + 1));
  test::TestHttpServer proxy(
      [upstream](const test::HttpRequest& r, int fd) { forward(r, fd, upstream); });
  std::string host = fmt::format("127.0.0.1:{}", proxy.port());
  // The webhook's credentials come from its environment, as in a cluster (a mounted auth file).
  ScopedEnv auth(
      "REGISTRY_AUTH_FILE",
      s.d.write("proxy-auth.json",
                fmt::format(R"({{"auths":{{"{}":{{"auth":"YWxpY2U6czNjcjN0LXB3"}}}}}})", host)));
  std::string config = s.d.write("kubeharden.yaml", fmt::format(R"(admission:
  defaults: {{enforce: privileged, warn: privileged, audit: privileged}}
  verifyImages:
    trustedRoot: {1}/trusted_root.json  # names the mock Rekor the signer logged to
    rules:
      - name: team
        images: ["{0}/team/**"]
        attestors:
          - key: {1}/key.pem
)",
                                                                host, keyed));
  Serving srv(config);
  ASSERT_TRUE(srv.server);
  std::string image_a = fmt::format("{}/team/app@{}", host, s.a);
  std::string image_b = fmt::format("{}/team/app@{}", host, s.b);
  auto validate = [&](const std::string& image) {
    return srv.post("/validate?timeout=10s",
                    review("CREATE", "Pod", pod("[" + container("c", image) + "]")));
  };

  // Signed: allowed, after reading the registry.
  auto a = validate(image_a);
  EXPECT_TRUE(a.allowed) << a.body;
  EXPECT_EQ(a.annotation,
            fmt::format("{}: signature verified by key {}/key.pem ({})", image_a, keyed, s.a));
  size_t after_first = proxy.requests().size();
  EXPECT_GT(after_first, 0u);
  // Within the TTL, the same request makes no registry request.
  a = validate(image_a);
  EXPECT_TRUE(a.allowed) << a.body;
  EXPECT_EQ(proxy.requests().size(), after_first);

  // Unsigned: denied, saying why; the failure is cached too.
  auto b = validate(image_b);
  EXPECT_FALSE(b.allowed);
  EXPECT_EQ(b.message,
            fmt::format("image \"{}\" has no signature verified at {} (key {}/key.pem: no "
                        "signature found (tag sha256-{}.sig, referrers)) (team)",
                        image_b, s.b, keyed, s.b.substr(7)));
  size_t after_b = proxy.requests().size();
  EXPECT_GT(after_b, after_first);
  EXPECT_FALSE(validate(image_b).allowed);
  EXPECT_EQ(proxy.requests().size(), after_b);

  // A tag: refused by the validating webhook, pinned by the mutating one (every container list)
  // after the tag was resolved and the digest verified ...
  std::string tag_a = host + "/team/app:a";
  EXPECT_NE(validate(tag_a).message.find("is not pinned to a digest"), std::string::npos);
  std::string tagged =
      review("CREATE", "Pod",
             pod("[" + container("c", tag_a) + "]", "[" + container("i", tag_a) + "]",
                 "[" + container("e", tag_a) + "]"));
  auto m = srv.post("/mutate?timeout=10s", tagged);
  EXPECT_TRUE(m.allowed);
  std::string pinned = tag_a + "@" + s.a;
  EXPECT_EQ(
      m.patch,
      fmt::format(R"([{{"op":"replace","path":"/spec/initContainers/0/image","value":"{0}"}},)"
                  R"({{"op":"replace","path":"/spec/containers/0/image","value":"{0}"}},)"
                  R"({{"op":"replace","path":"/spec/ephemeralContainers/0/image","value":"{0}"}}])",
                  pinned));
  size_t after_mutate = proxy.requests().size();
  EXPECT_GT(after_mutate, after_b);  // the tag was resolved
  // ... so the pinned pod that reaches the validating webhook is judged from the cache.
  auto p = srv.post("/validate?timeout=10s",
                    review("CREATE", "Pod", pod("[" + container("c", pinned) + "]")));
  EXPECT_TRUE(p.allowed) << p.body;
  EXPECT_EQ(proxy.requests().size(), after_mutate);
  // The mutating webhook asked again within the tag TTL resolves nothing either.
  EXPECT_EQ(srv.post("/mutate?timeout=10s", tagged).patch, m.patch);
  EXPECT_EQ(proxy.requests().size(), after_mutate);
  std::string metrics = srv.metrics();
  EXPECT_NE(metrics.find(R"(kubeharden_admission_image_verifications_total{result="cache"} 4)"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find(R"(kubeharden_admission_image_verifications_total{result="verified"} 3)"),
            std::string::npos)
      << metrics;
  // No credential ever reaches an answer or the log.
  for (const auto& r : proxy.requests())
    EXPECT_EQ(r.header("authorization").find("s3cr3t"), std::string::npos);
  EXPECT_EQ(m.body.find("YWxpY2U6"), std::string::npos);
}

TEST(VerifyImagesServer, AStallingRegistryIsAnsweredWithinTheDeadline) {
  TempDir d;
  makeKey(d, "cosign.pub");
  std::atomic<bool> release{false};
  test::TestHttpServer stall([&](const test::HttpRequest&, int) {
    for (int i = 0; i < 200 && !release; ++i)  // 10 s, unless the test ends first
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  });
  struct Release {
    std::atomic<bool>& r;
    ~Release() { r = true; }
  } release_at_end{release};
  std::string host = fmt::format("127.0.0.1:{}", stall.port());
  std::string config = d.write("kubeharden.yaml", fmt::format(R"(admission:
  defaults: {{enforce: privileged, warn: privileged, audit: privileged}}
  verifyImages:
    rules:
      - name: strict
        images: ["{0}/strict/**"]
        attestors: [{{key: cosign.pub}}]
      - name: lenient
        images: ["{0}/lenient/**"]
        attestors: [{{key: cosign.pub}}]
        failureAction: audit
)",
                                                              host));
  Serving srv(config);
  ASSERT_TRUE(srv.server);
  auto images = [&](const std::string& repo, int n) {
    std::string list;
    for (int i = 0; i < n; ++i)
      list += fmt::format(
          "{}{}", i ? "," : "",
          container(fmt::format("c{}", i),
                    fmt::format("{}/{}/app{}@sha256:{}", host, repo, i, std::string(64, 'a' + i))));
    return review("CREATE", "Pod", pod("[" + list + "]"));
  };
  // The API server's timeout is 2 s: the answer comes before it, a denial that says why.
  auto one = srv.post("/validate?timeout=2s", images("strict", 1));
  EXPECT_LT(one.seconds, 2.0);
  EXPECT_FALSE(one.allowed);
  EXPECT_NE(one.message.find(fmt::format("image \"{}/strict/app0@sha256:aaaa", host)),
            std::string::npos)
      << one.message;
  EXPECT_NE(one.message.find("could not be verified before the webhook's deadline: "),
            std::string::npos)
      << one.message;
  EXPECT_NE(one.message.find(fmt::format("http://{} timed out", host)), std::string::npos)
      << one.message;
  EXPECT_EQ(one.body.find("kubeharden.io/deadline"), std::string::npos) << one.body;
  // Three images share the time; all are answered for.
  auto three = srv.post("/validate?timeout=2s", images("strict", 3));
  EXPECT_LT(three.seconds, 2.0);
  EXPECT_FALSE(three.allowed);
  EXPECT_EQ(std::count(three.message.begin(), three.message.end(), ';'), 2) << three.message;
  // failureAction: audit: allowed with a warning that says so.
  auto lenient = srv.post("/validate?timeout=2s", images("lenient", 1));
  EXPECT_LT(lenient.seconds, 2.0);
  EXPECT_TRUE(lenient.allowed);
  EXPECT_EQ(std::count_if(lenient.warnings.begin(), lenient.warnings.end(),
                          [](const std::string& w) {
                            return w.find(
                                       "/lenient/app0@sha256:aaaaaaaaaaaa\u2026\" could not be "
                                       "verified before the webhook") != std::string::npos;
                          }),
            1)
      << lenient.body;
  // app0's failure was cached (failureTTL): four images waited for the registry, not five.
  std::string metrics = srv.metrics();
  EXPECT_NE(metrics.find(R"(kubeharden_admission_image_verifications_total{result="deadline"} 4)"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find(R"(kubeharden_admission_image_verifications_total{result="cache"} 1)"),
            std::string::npos)
      << metrics;
}

// `kubeharden review` decides the same offline: images and signatures from an OCI layout.
TEST(VerifyImagesReview, OfflineFromAnOciLayoutKeyAndKeyless) {
  KH_NEED_SIGNING_TOOLS();
  test::SignedRegistry s;
  std::string why;
  ASSERT_TRUE(s.start(&why)) << why;
  std::string keyless = s.sign("keyless", s.a, "--legacy");
  std::string layout = s.d.path() + "/layout";
  for (const std::string& what :
       {std::string("a"), std::string("b"), "sha256-" + s.a.substr(7) + ".sig"}) {
    std::string out;
    ASSERT_EQ(
        shell(fmt::format("skopeo --insecure-policy copy -q --src-tls-verify=false "
                          "--src-creds alice:s3cr3t-pw docker://{}/team/app:{} oci:{}:{} 2>&1",
                          s.reg->host(), what, layout, what),
              &out),
        0)
        << out;
  }
  auto config = [&](const std::string& identity) {
    return s.d.write("review.yaml", fmt::format(R"(admission:
  defaults: {{enforce: privileged, warn: privileged, audit: privileged}}
  verifyImages:
    trustedRoot: keyless/trusted_root.json
    rules:
      - name: team
        images: ["ghcr.io/acme/**"]
        attestors:
          - identity: {}
            issuer: https://issuer.example.com
)",
                                                identity));
  };
  auto request = [&](const std::string& image) {
    return s.d.write("request.json",
                     review("CREATE", "Pod", pod("[" + container("c", image) + "]")));
  };
  std::string image_a = "ghcr.io/acme/app@" + s.a;
  auto run = [&](const std::string& image, const std::string& flags) {
    std::string req = request(image);
    return test::runCli(fmt::format("review -c {} --oci-layout {} {} {}",
                                    config("alice@example.com"), layout, flags, req));
  };
  // Signed by alice: allowed, from the layout alone.
  auto ok = run(image_a, "");
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find(R"("allowed":true)"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("signature verified by identity alice@example.com issuer "
                        "https://issuer.example.com"),
            std::string::npos)
      << ok.out;
  // Image b has no signature: denied (exit 1), saying so.
  auto unsigned_b = run("ghcr.io/acme/app@" + s.b, "");
  EXPECT_EQ(unsigned_b.exit_code, 1) << unsigned_b.out << unsigned_b.err;
  EXPECT_NE(unsigned_b.out.find("has no signature verified at " + s.b), std::string::npos)
      << unsigned_b.out;
  // Another identity: denied with the identity reason.
  std::string req = request(image_a);
  auto bob = test::runCli(
      fmt::format("review -c {} --oci-layout {} {}", config("bob@example.com"), layout, req));
  EXPECT_EQ(bob.exit_code, 1);
  EXPECT_NE(bob.out.find("identity: the certificate is for alice@example.com, not "
                         "bob@example.com"),
            std::string::npos)
      << bob.out;
  // The mutating answer pins the tag to the layout's digest for it.
  auto pinned = run("ghcr.io/acme/app:a", "--mutate");
  EXPECT_EQ(pinned.exit_code, 0) << pinned.err;
  rapidjson::Document d;
  d.Parse(pinned.out.c_str());
  ASSERT_TRUE(d.IsObject() && d["response"].HasMember("patch")) << pinned.out;
  EXPECT_EQ(base64Decode(d["response"]["patch"].GetString()).value_or(""),
            R"([{"op":"replace","path":"/spec/containers/0/image","value":"ghcr.io/acme/app:a@)" +
                s.a + R"("}])");
  // A tag the layout does not hold: no pin, and the validating answer says why.
  auto missing = run("ghcr.io/acme/app:zzz", "--mutate");
  EXPECT_EQ(missing.out.find("patch"), std::string::npos) << missing.out;
  // Attestations, with conditions on the predicate (the signer's statement says
  // {"builder":{"id":"https://example.com/builder"},"tested":true}).
  std::string att = s.sign("att", s.a, "--legacy --attest https://slsa.dev/provenance/v1");
  {
    std::string out;
    ASSERT_EQ(shell(fmt::format("skopeo --insecure-policy copy -q --src-tls-verify=false "
                                "--src-creds alice:s3cr3t-pw docker://{0}/team/app:{1} oci:{2}:{1} "
                                "2>&1",
                                s.reg->host(), "sha256-" + s.a.substr(7) + ".att", layout),
                    &out),
              0)
        << out;
  }
  auto attested = [&](const std::string& conditions) {
    std::string cfg = s.d.write("att.yaml", fmt::format(R"(admission:
  verifyImages:
    trustedRoot: att/trusted_root.json
    rules:
      - name: provenance
        images: ["ghcr.io/acme/**"]
        attestors: [{{identity: alice@example.com, issuer: https://issuer.example.com}}]
        requireSignature: false
        attestations:
          - type: https://slsa.dev/provenance/v1
            predicate: {}
)",
                                                        conditions));
    return test::runCli(
        fmt::format("review -c {} --oci-layout {} {}", cfg, layout, request(image_a)));
  };
  auto good = attested(R"({/builder/id: "https://example.com/*", /tested: "true"})");
  EXPECT_EQ(good.exit_code, 0) << good.out << good.err;
  EXPECT_NE(good.out.find("attestation https://slsa.dev/provenance/v1 verified by identity "
                          "alice@example.com"),
            std::string::npos)
      << good.out;
  auto wrong = attested(R"({/builder/id: "https://builder.acme.dev/*"})");
  EXPECT_EQ(wrong.exit_code, 1) << wrong.out;
  EXPECT_NE(wrong.out.find("verified, but its predicate /builder/id is "
                           "'https://example.com/builder', not 'https://builder.acme.dev/*'"),
            std::string::npos)
      << wrong.out;
  auto absent = attested(R"({/materials/0/uri: "*"})");
  EXPECT_EQ(absent.exit_code, 1);
  EXPECT_NE(absent.out.find("its predicate has no /materials/0/uri"), std::string::npos)
      << absent.out;
  // No layout at all: unverified, said on stderr; a layout that is not one: exit 3.
  req = request(image_a);
  auto none = test::runCli(fmt::format("review -c {} {}", config("alice@example.com"), req));
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.err.find("no --oci-layout holds their signatures"), std::string::npos);
  EXPECT_NE(none.out.find("was not verified (team)"), std::string::npos) << none.out;
  auto bad = test::runCli(
      fmt::format("review -c {} --oci-layout {} {}", config("alice@example.com"), s.d.path(), req));
  EXPECT_EQ(bad.exit_code, 3);
  EXPECT_NE(bad.err.find("not an OCI image layout"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace kh::admission
