// kubeharden image verify against Docker's registry (docker-registry, htpasswd): images pushed
// with skopeo, signed by Sigstore's own JavaScript signer (tests/tools/sigstore-sign.js over
// @sigstore/sign and @sigstore/mock) the two ways cosign stores signatures: the legacy
// sha256-<hex>.sig / .att tags, and v0.3 bundles attached as OCI referrers by @sigstore/oci
// (this registry has no referrers API, so through the sha256-<hex> tag fallback).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "base/strings.h"
#include "tests/unit/image_util.h"
#include "tests/unit/registry_util.h"
#include "tests/unit/signing_util.h"
#include "tests/unit/test_util.h"

namespace kh::test {
namespace {

using image::fixtures::blob;
using image::fixtures::sha256;
using image::fixtures::shell;
using image::fixtures::tarOf;

const std::string kAlice =
    "--certificate-identity alice@example.com --certificate-oidc-issuer https://issuer.example.com";

TEST(ImageVerify, LegacyCosignTagsSignaturesAndAttestations) {
  KH_NEED_SIGNING_TOOLS();
  SignedRegistry s;
  std::string why;
  ASSERT_TRUE(s.start(&why)) << why;
  // Nothing signed yet: exit 1, and it says where it looked.
  auto none = s.verify(":a", s.d.path(), "--key /dev/null");
  EXPECT_EQ(none.exit_code, 3) << none.err;  // /dev/null is no key
  std::string keyless = s.sign("legacy", s.a, "--legacy");
  auto unsigned_b = s.verify(":b", keyless, kAlice);
  EXPECT_EQ(unsigned_b.exit_code, 1) << unsigned_b.out << unsigned_b.err;
  EXPECT_NE(unsigned_b.err.find("no signature found for " + s.b + " (looked for the tag sha256-" +
                                s.b.substr(7) + ".sig and its OCI referrers"),
            std::string::npos)
      << unsigned_b.err;
  // By tag: the tag resolves to the digest that was signed.
  auto ok = s.verify(":a", keyless, kAlice);
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("verified  tag sha256-" + s.a.substr(7) +
                        ".sig layer 0 (cosign signature): signed by alice@example.com, issuer "
                        "https://issuer.example.com"),
            std::string::npos)
      << ok.out;
  // Wrong credentials: an input error that names the registry and says nothing of the secret.
  std::string wrong =
      s.d.write("wrong.json", fmt::format(R"({{"auths":{{"{}":{{"auth":"{}"}}}}}})", s.reg->host(),
                                          base64Encode("alice:wr0ng-s3cret")));
  auto refused =
      runCli(fmt::format("image verify {}/team/app:a --trusted-root {}/trusted_root.json {}",
                         s.reg->host(), keyless, kAlice),
             "", "", "REGISTRY_AUTH_FILE=" + wrong);
  EXPECT_EQ(refused.exit_code, 3) << refused.out << refused.err;
  EXPECT_NE(refused.err.find(s.reg->host()), std::string::npos) << refused.err;
  for (const std::string& secret :
       {std::string("wr0ng-s3cret"), base64Encode("alice:wr0ng-s3cret"), std::string("s3cr3t-pw")})
    EXPECT_EQ((refused.out + refused.err + ok.out + ok.err).find(secret), std::string::npos)
        << secret;
  // Another identity, another issuer: exit 1 with the reason.
  auto bob = s.verify("@" + s.a, keyless,
                      "--certificate-identity-regexp '^bob@.*' --certificate-oidc-issuer "
                      "https://issuer.example.com");
  EXPECT_EQ(bob.exit_code, 1);
  EXPECT_NE(bob.out.find("identity: the certificate is for alice@example.com, not /^bob@.*/"),
            std::string::npos)
      << bob.out;
  // A signature copied from image a onto image b's tag: the payload names a's digest.
  std::string out;
  ASSERT_EQ(shell(fmt::format("skopeo --insecure-policy copy -q --src-tls-verify=false "
                              "--dest-tls-verify=false --src-creds alice:s3cr3t-pw --dest-creds "
                              "alice:s3cr3t-pw docker://{0}/team/app:sha256-{1}.sig "
                              "docker://{0}/team/app:sha256-{2}.sig 2>&1",
                              s.reg->host(), s.a.substr(7), s.b.substr(7)),
                  &out),
            0)
      << out;
  auto copied = s.verify(":b", keyless, kAlice + " -f json");
  EXPECT_EQ(copied.exit_code, 1) << copied.err;
  rapidjson::Document j;
  j.Parse(copied.out.c_str());
  ASSERT_FALSE(j.HasParseError()) << copied.out;
  EXPECT_STREQ(j["apiVersion"].GetString(), "kubeharden/verify/v1");
  EXPECT_FALSE(j["verified"].GetBool());
  ASSERT_EQ(j["signatures"].Size(), 1u);
  EXPECT_STREQ(j["signatures"][0]["reason"].GetString(), "digest");
  EXPECT_EQ(std::string(j["signatures"][0]["message"].GetString()),
            "the signature is for " + s.a + ", not this image (" + s.b + ")");
  // Offline: the image and its .sig tag copied into an OCI layout, verified from the directory.
  std::string layout = s.d.path() + "/layout";
  for (const std::string& what : {std::string("a"), "sha256-" + s.a.substr(7) + ".sig"})
    ASSERT_EQ(
        shell(fmt::format("skopeo --insecure-policy copy -q --src-tls-verify=false "
                          "--src-creds alice:s3cr3t-pw docker://{}/team/app:{} oci:{}:{} 2>&1",
                          s.reg->host(), what, layout, what),
              &out),
        0)
        << out;
  auto offline = runCli(fmt::format("image verify {} --trusted-root {}/trusted_root.json {}",
                                    layout, keyless, kAlice));
  EXPECT_EQ(offline.exit_code, 0) << offline.out << offline.err;
  EXPECT_NE(offline.out.find(layout + "@" + s.a + ": verified"), std::string::npos) << offline.out;
  // A legacy attestation (.att, DSSE) with a timestamp, by predicate type.
  std::string att = s.sign("att", s.a, "--legacy --attest https://spdx.dev/Document --tsa");
  auto spdx = s.verify(":a", att, kAlice + " --attestation-type https://spdx.dev/Document");
  EXPECT_EQ(spdx.exit_code, 0) << spdx.out << spdx.err;
  auto slsa = s.verify(":a", att, kAlice + " --attestation-type https://slsa.dev/provenance/v1");
  EXPECT_EQ(slsa.exit_code, 1) << slsa.out;
  EXPECT_NE(slsa.out.find("predicate type is https://spdx.dev/Document, not "
                          "https://slsa.dev/provenance/v1"),
            std::string::npos)
      << slsa.out;
}

TEST(ImageVerify, BundlesAttachedAsReferrersAndTheirPredicates) {
  KH_NEED_SIGNING_TOOLS();
  SignedRegistry s;
  std::string why;
  ASSERT_TRUE(s.start(&why)) << why;
  std::string keyless = s.sign("sig", s.b, "--attach");
  std::string keyed = s.sign("slsa", s.b, "--attach --key --attest https://slsa.dev/provenance/v1");
  auto sig = s.verify("@" + s.b, keyless, kAlice);
  EXPECT_EQ(sig.exit_code, 0) << sig.out << sig.err;
  EXPECT_NE(sig.out.find("(sigstore bundle): signed by alice@example.com"), std::string::npos)
      << sig.out;
  // The provenance attestation, by its key, with its predicate in the JSON.
  auto prov = s.verify(":b", keyed,
                       fmt::format("--key {}/key.pem --attestation-type "
                                   "https://slsa.dev/provenance/v1 -f json",
                                   keyed));
  EXPECT_EQ(prov.exit_code, 0) << prov.out << prov.err;
  rapidjson::Document j;
  j.Parse(prov.out.c_str());
  ASSERT_FALSE(j.HasParseError()) << prov.out;
  bool found = false;
  for (const auto& c : j["signatures"].GetArray())
    if (c["verified"].GetBool()) {
      found = true;
      EXPECT_STREQ(c["predicateType"].GetString(), "https://slsa.dev/provenance/v1");
      EXPECT_TRUE(c["predicate"]["tested"].GetBool());
      EXPECT_STREQ(c["signer"].GetString(), "ECDSA P-256 key");
    }
  EXPECT_TRUE(found) << prov.out;
  // The keyless signature's key is not the provenance key; nor is image a signed at all.
  auto wrong = s.verify(":b", keyed, fmt::format("--key {}/key.pem", keyed));
  EXPECT_EQ(wrong.exit_code, 1) << wrong.out;
  EXPECT_NE(wrong.out.find("signature: no signature of the DSSE envelope verifies with the ECDSA "
                           "P-256 key given"),
            std::string::npos)
      << wrong.out;
  EXPECT_EQ(s.verify(":a", keyless, kAlice).exit_code, 1);
  // Offline: image b and its referrers tag (an index of the referrers) in an OCI layout.
  std::string layout = s.d.path() + "/layout", out;
  for (const std::string& what : {std::string("b"), "sha256-" + s.b.substr(7)})
    ASSERT_EQ(
        shell(fmt::format("skopeo --insecure-policy copy --all -q --src-tls-verify=false "
                          "--src-creds alice:s3cr3t-pw docker://{}/team/app:{} oci:{}:{} 2>&1",
                          s.reg->host(), what, layout, what),
              &out),
        0)
        << out;
  auto offline = runCli(fmt::format("image verify {}:b --trusted-root {}/trusted_root.json {}",
                                    layout, keyless, kAlice));
  EXPECT_EQ(offline.exit_code, 0) << offline.out << offline.err;
  EXPECT_NE(offline.out.find("(sigstore bundle): signed by alice@example.com"), std::string::npos)
      << offline.out;
  auto tampered_dir =
      runCli(fmt::format("image verify {}@sha256:{} --trusted-root "
                         "{}/trusted_root.json {}",
                         layout, std::string(64, '0'), keyless, kAlice));
  EXPECT_EQ(tampered_dir.exit_code, 1) << tampered_dir.err;
  // Sigstore's own verifier agrees on the bundle that was attached.
  EXPECT_EQ(shell(fmt::format("node {}/sigstore-verify.js --bundle {}/bundle.json --trusted-root "
                              "{}/trusted_root.json --identity alice@example.com --issuer "
                              "https://issuer.example.com {}/trusted_root.json 2>&1",
                              kTools, keyless, keyless, keyless),
                  &out),
            0)
      << out;
}

}  // namespace
}  // namespace kh::test
