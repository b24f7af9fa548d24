// admission.verifyImages: image globs, the config's rules and their errors, which images of a
// request a rule governs, what verdicts do to the answer and the mutating webhook's digest pins
// (pure); then the server against Docker's registry with images signed by Sigstore's own
// JavaScript signer (verdicts cached: a repeated request makes no registry request), a registry
// that stalls (answered within the deadline), and `kubeharden review` from an OCI layout.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

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
          - {type: https://cyclonedx.org/bom}
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
  EXPECT_EQ(p.rules[0].attestations.size(), 2u);
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

}  // namespace
}  // namespace kh::admission
