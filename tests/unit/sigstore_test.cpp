// Sigstore verification (src/sigstore): the encodings it signs over (RFC 8785, DSSE PAE), RFC
// 9162 inclusion proofs against an independent tree, checkpoints; and whole bundles made by
// Sigstore's own JavaScript signer (@sigstore/sign against @sigstore/mock's Fulcio, Rekor and
// TSA), on which kubeharden and Sigstore's own verifier (@sigstore/verify) must agree, accepting
// and rejecting alike.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "base/strings.h"
#include "sigstore/builtin_root.h"
#include "sigstore/cosign.h"
#include "sigstore/crypto.h"
#include "sigstore/tlog.h"
#include "sigstore/trusted_root.h"
#include "tests/unit/image_util.h"
#include "tests/unit/test_util.h"

namespace kh::test {
// Named, not anonymous: the using-directive below must not reach the files a unity build
// compiles after this one.
namespace sigstore_tests {

using namespace kh::sigstore;
using image::fixtures::shell;

TEST(SigstoreJcs, CanonicalisesAsRfc8785) {
  struct Case {
    const char* in;
    const char* want;
  } cases[] = {
      {R"({"b":2,"a":1})", R"({"a":1,"b":2})"},
      {R"([1.0, 1e21, 1e-7, 0.000001, -0.0, 123456789012345678, 1.5e300, 10.25])",
       R"([1,1e+21,1e-7,0.000001,0,123456789012345680,1.5e+300,10.25])"},
      // UTF-16 order, not code point order: U+1F600 (D83D DE00) sorts before U+FB33.
      {R"({"\u20ac":1,"\ud83d\ude00":2,"\u0080":3,"1":4,"\ufb33":5})",
       "{\"1\":4,\"\xC2\x80\":3,\"\xE2\x82\xAC\":1,\"\xF0\x9F\x98\x80\":2,\"\xEF\xAC\xB3\":5}"},
      {R"("\u001f\b\t\n\f\r\"\\/\u2028")", "\"\\u001f\\b\\t\\n\\f\\r\\\"\\\\/\xE2\x80\xA8\""},
      {R"({"n":{"z":[true,false,null],"a":{}}})", R"({"n":{"a":{},"z":[true,false,null]}})"},
  };
  for (const auto& c : cases) {
    auto got = canonicalJson(std::string_view(c.in));
    ASSERT_TRUE(got) << c.in << ": " << got.error().message;
    EXPECT_EQ(got.value(), c.want) << c.in;
  }
  auto dup = canonicalJson(std::string_view(R"({"a":1,"a":2})"));
  ASSERT_FALSE(dup);
  EXPECT_NE(dup.error().message.find("duplicate member name \"a\""), std::string::npos);
  EXPECT_FALSE(canonicalJson(std::string_view("{\"a\":\"\xFF\"}")));
  EXPECT_FALSE(canonicalJson(std::string_view("{")));
}

TEST(SigstoreDsse, PreAuthenticationEncoding) {
  EXPECT_EQ(pae("http://example.com/HelloWorld", "hello world"),
            "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
  EXPECT_EQ(pae("", ""), "DSSEv1 0  0 ");
}

// A Merkle tree hash and audit path computed the way RFC 6962 section 2.1 defines them
// (recursively), independent of the iterative verifier under test.
std::string mth(const std::vector<std::string>& leaves, size_t lo, size_t hi) {
  if (hi - lo == 1) return leafHash(leaves[lo]);
  size_t k = 1;
  while (k * 2 < hi - lo) k *= 2;
  std::string buf = "\x01" + mth(leaves, lo, lo + k) + mth(leaves, lo + k, hi);
  return sigstore::sha256(buf);
}
void path(const std::vector<std::string>& leaves, size_t m, size_t lo, size_t hi,
          std::vector<std::string>* out) {
  if (hi - lo == 1) return;
  size_t k = 1;
  while (k * 2 < hi - lo) k *= 2;
  if (m < k) {
    path(leaves, m, lo, lo + k, out);
    out->push_back(mth(leaves, lo + k, hi));
  } else {
    path(leaves, m - k, lo + k, hi, out);
    out->push_back(mth(leaves, lo, lo + k));
  }
}

TEST(SigstoreMerkle, InclusionProofsOfEveryLeafOfEveryTreeUpTo33) {
  std::vector<std::string> leaves;
  for (int i = 0; i < 33; ++i) leaves.push_back(fmt::format("entry {}", i));
  for (size_t n = 1; n <= leaves.size(); ++n) {
    std::vector<std::string> tree(leaves.begin(), leaves.begin() + static_cast<long>(n));
    std::string root = mth(tree, 0, n);
    for (size_t m = 0; m < n; ++m) {
      std::vector<std::string> proof;
      path(tree, m, 0, n, &proof);
      Status ok = verifyInclusion(m, n, leafHash(tree[m]), proof, root);
      EXPECT_TRUE(ok) << n << "/" << m << ": " << ok.error().message;
      // Any other leaf, index or path fails. (The size is bound by the signed checkpoint, not
      // the path: in a complete left subtree the path of sizes n and n+1 is the same.)
      EXPECT_FALSE(verifyInclusion(m, n, leafHash("other"), proof, root));
      if (n > 1) {
        EXPECT_FALSE(verifyInclusion((m + 1) % n, n, leafHash(tree[m]), proof, root));
      }
      if (!proof.empty()) {
        auto bad = proof;
        bad.back()[0] ^= 1;
        EXPECT_FALSE(verifyInclusion(m, n, leafHash(tree[m]), bad, root));
        bad = proof;
        bad.pop_back();
        EXPECT_FALSE(verifyInclusion(m, n, leafHash(tree[m]), bad, root));
      }
      auto longer = proof;
      longer.push_back(std::string(32, 'x'));
      EXPECT_FALSE(verifyInclusion(m, n, leafHash(tree[m]), longer, root));
    }
  }
  auto past = verifyInclusion(5, 5, leafHash("x"), {}, std::string(32, '\0'));
  ASSERT_FALSE(past);
  EXPECT_NE(past.error().message.find("not in a tree of 5 entries"), std::string::npos);
}

TEST(SigstoreCheckpoint, ParsesSignedNotesAndRefusesMalformedOnes) {
  std::string root_b64 = base64Encode(std::string(32, 'r'));
  std::string sig_b64 = base64Encode(std::string("\x01\x02\x03\x04signature"));
  auto cp = parseCheckpoint("log.example - 42\n7\n" + root_b64 + "\nTimestamp: 1\n\n\xE2\x80\x94 " +
                            "log.example " + sig_b64 + "\n");
  ASSERT_TRUE(cp) << cp.error().message;
  EXPECT_EQ(cp.value().origin, "log.example - 42");
  EXPECT_EQ(cp.value().size, 7u);
  EXPECT_EQ(cp.value().root, std::string(32, 'r'));
  EXPECT_EQ(cp.value().body, "log.example - 42\n7\n" + root_b64 + "\nTimestamp: 1\n");
  ASSERT_EQ(cp.value().signatures.size(), 1u);
  EXPECT_EQ(cp.value().signatures[0].key_hint, "\x01\x02\x03\x04");
  EXPECT_EQ(cp.value().signatures[0].sig, "signature");
  for (const std::string& bad : std::vector<std::string>{
           "no blank line\n", "o\nseven\n" + root_b64 + "\n\n\xE2\x80\x94 o x\n",
           "o\n7\nc2hvcnQ=\n\n\xE2\x80\x94 o " + sig_b64 + "\n",
           "o\n7\n" + root_b64 + "\n\n- o " + sig_b64 + "\n", "o\n7\n" + root_b64 + "\n\n"})
    EXPECT_FALSE(parseCheckpoint(bad)) << bad;
}

TEST(SigstoreTrustedRoot, ReadsTheProductionRootAndTimes) {
  std::string file = std::string(KH_SOURCE_DIR) + "/deps/sigstore/trusted_root.json";
  if (!std::filesystem::exists(file)) GTEST_SKIP() << "no " << file << " (scripts/install-deps)";
  auto root = parseTrustedRoot(readFile(file), file);
  ASSERT_TRUE(root) << root.error().describe();
  EXPECT_GE(root.value().tlogs.size(), 1u);
  EXPECT_GE(root.value().certificate_authorities.size(), 2u);
  // Rekor's first key, by its key ID (SHA-256 of its DER key).
  const auto& rekor = root.value().tlogs.front();
  EXPECT_EQ(sigstore::sha256(rekor.key.spki()), rekor.key_id);
  EXPECT_EQ(rekor.key.kind(), "ECDSA P-256");
  EXPECT_EQ(rekor.valid.start, 1610452407);  // 2021-01-12T11:53:27Z
  EXPECT_EQ(parseRfc3339("2022-12-31T23:59:59.999Z").value(), 1672531199);
  EXPECT_EQ(parseRfc3339("2022-01-01T01:00:00+01:00").value(), 1640995200);
  EXPECT_FALSE(parseRfc3339("2022-13-01T00:00:00Z"));
  EXPECT_FALSE(parseRfc3339("yesterday"));
  auto bad = parseTrustedRoot(R"({"mediaType":"application/json"})", "r.json");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().describe().find("r.json: mediaType 'application/json' is not a Sigstore "
                                        "trusted root"),
            std::string::npos);
}

// ---- Bundles made by Sigstore's own tooling.

const std::string kTools = std::string(KH_SOURCE_DIR) + "/tests/tools";

#define KH_NEED_SIGSTORE_JS()                                                           \
  if (!std::filesystem::exists(std::string(KH_SOURCE_DIR) +                             \
                               "/deps/npm/node_modules/@sigstore/sign/package.json") || \
      shell("node --version >/dev/null 2>&1") != 0)                                     \
  GTEST_SKIP() << "needs node and the @sigstore packages scripts/install-deps puts in deps/npm"

struct Signed {
  std::string dir;
  bool key = false;
};

Signed signWithJs(TempDir& d, const std::string& name, const std::string& file,
                  const std::string& flags) {
  Signed s{d.path() + "/" + name, flags.find("--key") != std::string::npos};
  std::string out;
  int rc =
      shell(fmt::format("node {}/sigstore-sign.js --out {} {} {} 2>&1", kTools, s.dir, flags, file),
            &out);
  EXPECT_EQ(rc, 0) << out;
  return s;
}

struct Verdicts {
  int ours;
  std::string our_err;
  int theirs;
  std::string their_out;
};

Verdicts verifyBoth(const Signed& s, const std::string& file, const std::string& bundle = "",
                    const std::string& identity = "alice@example.com",
                    const std::string& issuer = "https://issuer.example.com",
                    const std::string& key = "") {
  std::string b = bundle.empty() ? s.dir + "/bundle.json" : bundle;
  std::string k = key.empty() ? s.dir + "/key.pem" : key;
  std::string policy = s.key ? "--key " + k
                             : fmt::format("--certificate-identity {} --certificate-oidc-issuer {}",
                                           identity, issuer);
  auto ours =
      runCli(fmt::format("sigstore verify-bundle --bundle {} --trusted-root "
                         "{}/trusted_root.json {} {}",
                         b, s.dir, policy, file));
  std::string theirs_policy =
      s.key ? "--key " + k : fmt::format("--identity {} --issuer {}", identity, issuer);
  std::string out;
  int theirs = shell(fmt::format("node {}/sigstore-verify.js --bundle {} --trusted-root "
                                 "{}/trusted_root.json {} {} 2>&1",
                                 kTools, b, s.dir, theirs_policy, file),
                     &out);
  return {ours.exit_code, ours.err, theirs, out};
}

TEST(SigstoreBundles, SignedBySigstoreJsVerifiedByBothVerifiers) {
  KH_NEED_SIGSTORE_JS();
  TempDir d;
  std::string art = d.write("artifact.txt", "the bytes that were signed\n");
  std::string statement = d.write(
      "statement.json",
      fmt::format(
          R"({{"_type":"https://in-toto.io/Statement/v1","subject":[{{"name":"artifact.txt","digest":{{"sha256":"{}"}}}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{{}}}})",
          sigstore::hex(sigstore::sha256(readFile(art)))));
  struct Mode {
    const char* name;
    std::string flags;
  } modes[] = {{"keyless", ""},
               {"keyless-tsa", "--tsa"},
               {"tsa-only", "--tsa --no-tlog"},
               {"key", "--key"},
               {"dsse", "--dsse application/vnd.in-toto+json"}};
  for (const auto& m : modes) {
    std::string input = std::string(m.name) == "dsse" ? statement : art;
    Signed s = signWithJs(d, m.name, input, m.flags);
    Verdicts v = verifyBoth(s, art);
    EXPECT_EQ(v.ours, 0) << m.name << ": " << v.our_err;
    EXPECT_EQ(v.theirs, 0) << m.name << ": " << v.their_out;
  }
}

TEST(SigstoreBundles, RejectionsAgreeWithSigstoreJsEachWithItsReason) {
  KH_NEED_SIGSTORE_JS();
  TempDir d;
  std::string art = d.write("artifact.txt", "the bytes that were signed\n");
  std::string other = d.write("other.txt", "other bytes\n");
  Signed keyless = signWithJs(d, "keyless", art, "--tsa");
  Signed key = signWithJs(d, "key", art, "--key");
  Signed other_keyless = signWithJs(d, "other", other, "");
  std::string bundle = readFile(keyless.dir + "/bundle.json");
  // A changed signature byte: the bundle's messageSignature.signature.
  auto edit = [&](const std::string& name, const std::function<void(std::string&)>& f) {
    std::string b = bundle;
    f(b);
    return d.write(name, b);
  };
  auto sigAt = bundle.find("\"signature\": \"");
  ASSERT_NE(sigAt, std::string::npos);
  std::string flipped = edit("flipped.json", [&](std::string& b) {
    char& c = b[sigAt + 30];
    c = c == 'A' ? 'B' : 'A';
  });
  // The log entry of another artifact's bundle.
  std::string other_bundle = readFile(other_keyless.dir + "/bundle.json");
  auto bodyOf = [](const std::string& b) {
    size_t at = b.find("\"canonicalizedBody\": \"") + 22;
    return b.substr(at, b.find('"', at) - at);
  };
  std::string swapped_body = edit("swapped.json", [&](std::string& b) {
    std::string mine = bodyOf(b);
    b.replace(b.find(mine), mine.size(), bodyOf(other_bundle));
  });
  struct Case {
    const char* name;
    Verdicts v;
    const char* reason;
  } cases[] = {
      {"another artifact", verifyBoth(keyless, other), "digest: the bundle signs sha256:"},
      {"another identity", verifyBoth(keyless, art, "", "bob@example.com"),
       "identity: the "
       "certificate is for "
       "alice@example.com, "
       "not bob@example.com"},
      {"another issuer", verifyBoth(keyless, art, "", "alice@example.com", "https://other.example"),
       "issuer: the certificate's OIDC issuer is https://issuer.example.com"},
      {"a changed signature byte", verifyBoth(keyless, art, flipped), "signature: "},
      {"a log entry for another signature", verifyBoth(keyless, art, swapped_body), "tlog: "},
      {"another artifact's bundle", verifyBoth(other_keyless, art), "digest: "},
      {"a certificate with no proof of when it signed (no log entry, no time stamp)",
       verifyBoth(signWithJs(d, "notime", art, "--no-tlog"), art),
       "tlog: a certificate-signed bundle needs a verified log entry or timestamp"},
      {"the wrong key",
       verifyBoth(key, art, "", "", "",
                  d.write("k.pem", readFile(signWithJs(d, "k2", art, "--key").dir + "/key.pem"))),
       "signature: the signature does not verify with the ECDSA P-256 key given"},
  };
  // Without --trusted-root, the production root built in: the mock log is not in it.
  if (std::filesystem::exists(std::string(KH_SOURCE_DIR) + "/deps/sigstore/trusted_root.json")) {
    auto prod =
        runCli(fmt::format("sigstore verify-bundle --bundle {}/bundle.json {} {}", keyless.dir,
                           "--certificate-identity alice@example.com "
                           "--certificate-oidc-issuer https://issuer.example.com",
                           art));
    EXPECT_EQ(prod.exit_code, 1) << prod.err;
    EXPECT_NE(prod.err.find("comes from a log the trusted root does not name"), std::string::npos)
        << prod.err;
    EXPECT_NE(runCli("--version").out.find("Sigstore trusted root: @sigstore/tuf "),
              std::string::npos);
  }
  for (const auto& c : cases) {
    EXPECT_EQ(c.v.ours, 1) << c.name << ": " << c.v.our_err;
    EXPECT_NE(c.v.our_err.find(std::string("not verified: ") + c.reason), std::string::npos)
        << c.name << ": " << c.v.our_err;
    EXPECT_EQ(c.v.theirs, 1) << c.name << ": @sigstore/verify said " << c.v.their_out;
  }
}

// Keys of every kind a cosign key can be, signed by the OpenSSL command line (an independent
// signer), in a key-signed bundle without a log entry: accepted with the key, refused with another
// key, with a changed artifact, and with --require-timestamp.
TEST(SigstoreKeys, EcdsaRsaAndEd25519SignedByOpensslItself) {
  TempDir d;
  std::string art = d.write("artifact.bin", "signed by openssl\n");
  struct Kind {
    const char* name;
    const char* genkey;
    const char* sign;  // {0} key, {1} artifact, {2} signature out
  } kinds[] = {
      {"p256", "openssl ecparam -name prime256v1 -genkey -noout -out {0}",
       "openssl dgst -sha256 -sign {0} -out {2} {1}"},
      {"p384", "openssl ecparam -name secp384r1 -genkey -noout -out {0}",
       "openssl dgst -sha384 -sign {0} -out {2} {1}"},
      {"rsa", "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out {0}",
       "openssl dgst -sha256 -sign {0} -out {2} {1}"},
      {"rsa-pss", "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out {0}",
       "openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -sign {0} "
       "-out {2} {1}"},
      {"ed25519", "openssl genpkey -algorithm ED25519 -out {0}",
       "openssl pkeyutl -sign -rawin -inkey {0} -in {1} -out {2}"},
  };
  std::string other = d.path() + "/other.pem", out;
  ASSERT_EQ(shell(fmt::format("openssl ecparam -name prime256v1 -genkey -noout -out {0}.key && "
                              "openssl pkey -in {0}.key -pubout -out {0}",
                              other),
                  &out),
            0)
      << out;
  for (const auto& k : kinds) {
    std::string key = d.path() + "/" + k.name + ".key", pub = d.path() + "/" + k.name + ".pem",
                sig = d.path() + "/" + k.name + ".sig";
    ASSERT_EQ(shell(fmt::format(fmt::runtime(std::string(k.genkey) +
                                             " && openssl pkey -in {0} "
                                             "-pubout -out {3} && " +
                                             k.sign),
                                key, art, sig, pub) +
                        " 2>&1",
                    &out),
              0)
        << k.name << ": " << out;
    std::string bundle = d.write(
        fmt::format("{}.json", k.name),
        fmt::format(
            R"({{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json",)"
            R"("verificationMaterial":{{"publicKey":{{"hint":"{}"}},"tlogEntries":[]}},)"
            R"("messageSignature":{{"messageDigest":{{"algorithm":"SHA2_256","digest":"{}"}},)"
            R"("signature":"{}"}}}})",
            k.name, base64Encode(sigstore::sha256(readFile(art))), base64Encode(readFile(sig))));
    auto verify = [&](const std::string& key_file, const std::string& file,
                      const std::string& extra = "") {
      return runCli(fmt::format("sigstore verify-bundle --bundle {} --key {} {} {}", bundle,
                                key_file, extra, file));
    };
    auto ok = verify(pub, art);
    EXPECT_EQ(ok.exit_code, 0) << k.name << ": " << ok.err;
    auto wrong = verify(other, art);
    EXPECT_EQ(wrong.exit_code, 1) << k.name;
    EXPECT_NE(wrong.err.find("not verified: signature: "), std::string::npos) << wrong.err;
    auto changed = verify(pub, d.write("changed.bin", "signed by someone else\n"));
    EXPECT_EQ(changed.exit_code, 1) << k.name;
    EXPECT_NE(changed.err.find("not verified: digest: the bundle signs sha256:"), std::string::npos)
        << changed.err;
    auto timed = verify(pub, art, "--require-timestamp");
    EXPECT_EQ(timed.exit_code, 1) << k.name;
    EXPECT_NE(timed.err.find("no verified log entry or timestamp, and one is required"),
              std::string::npos)
        << timed.err;
  }
}

// cosign's legacy layer annotations, in both spellings it has written.
TEST(SigstoreCosign, LegacyLayersInBothSpellingsAndTheSimpleSigningPayload) {
  std::string payload =
      R"({"Critical":{"Identity":{"docker-reference":"r/a"},"Image":{"Docker-Manifest-Digest":"sha256:aa"},"Type":"Cosign Container Image Signature"},"optional":null})";
  for (const char* prefix : {"dev.cosignproject.cosign/", "dev.sigstore.cosign/"}) {
    auto b = bundleFromCosignLayer(kSimpleSigningType, payload,
                                   {{std::string(prefix) + "signature", base64Encode("sig")}});
    ASSERT_TRUE(b) << prefix << ": " << b.error().message;
    EXPECT_EQ(b.value().signature, "sig");
    EXPECT_EQ(b.value().message_digest, sigstore::sha256(payload));
  }
  EXPECT_TRUE(checkSimpleSigning(payload, "sha256:aa"));  // member names without regard to case
  auto other = checkSimpleSigning(payload, "sha256:AA");  // the digest exactly
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().message, "the signature is for sha256:aa, not this image (sha256:AA)");
  EXPECT_FALSE(checkSimpleSigning(R"({"critical":{"type":"something else"}})", "sha256:aa"));
  auto unsigned_layer = bundleFromCosignLayer(kSimpleSigningType, payload, {});
  ASSERT_FALSE(unsigned_layer);
  EXPECT_NE(unsigned_layer.error().message.find("without the signature annotation"),
            std::string::npos);
  EXPECT_FALSE(bundleFromCosignLayer("application/octet-stream", payload, {}));
}

// The built-in root warns once it is more than 180 days older than the clock.
TEST(SigstoreTrustedRoot, BuiltInRootWarnsAfter180Days) {
  std::string source = sigstore::builtInRootSource();
  if (source.empty()) GTEST_SKIP() << "this build has no trusted root built in";
  size_t at = source.find("published ");
  ASSERT_NE(at, std::string::npos) << source;
  auto published = sigstore::parseRfc3339(source.substr(at + 10, 10) + "T00:00:00Z");
  ASSERT_TRUE(published);
  std::string warning;
  auto fresh = sigstore::loadTrustedRoot("", &warning, published.value() + 180 * 86400);
  ASSERT_TRUE(fresh) << fresh.error().describe();
  EXPECT_EQ(warning, "");
  EXPECT_FALSE(fresh.value().tlogs.empty());
  auto stale = sigstore::loadTrustedRoot("", &warning, published.value() + 181 * 86400 + 60);
  ASSERT_TRUE(stale);
  EXPECT_EQ(warning, "the built-in Sigstore trusted root (" + source +
                         ") is 181 days old: keys rotated since are unknown to it; update "
                         "kubeharden or pass --trusted-root");
  // A root given as a file is the user's to keep current: no warning.
  warning.clear();
  TempDir d;
  auto missing = sigstore::loadTrustedRoot(d.path() + "/none.json", &warning);
  EXPECT_FALSE(missing);
  EXPECT_EQ(warning, "");
}

TEST(SigstoreCli, UsageAndInputErrors) {
  TempDir d;
  std::string art = d.write("a.txt", "x");
  auto none = runCli("sigstore verify-bundle --bundle b.json " + art);
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find("give --key, or both an identity"), std::string::npos) << none.err;
  auto missing =
      runCli("sigstore verify-bundle --bundle " + d.path() +
             "/missing.json --certificate-identity a --certificate-oidc-issuer b " + art);
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_NE(missing.err.find("missing.json: cannot read the bundle"), std::string::npos);
  std::string bad =
      d.write("bad.json", R"({"mediaType":"application/vnd.dev.sigstore.bundle+json;version=9"})");
  auto r = runCli("sigstore verify-bundle --bundle " + bad +
                  " --certificate-identity a --certificate-oidc-issuer b " + art);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("bad.json: mediaType"), std::string::npos) << r.err;
  auto digest = runCli("sigstore verify-bundle --bundle " + bad +
                       " --certificate-identity a --certificate-oidc-issuer b sha256:12");
  EXPECT_EQ(digest.exit_code, 3);
  // Malformed JSON is placed at its line and column, in the bundle and in the trusted root.
  std::string broken = d.write("broken.json", "{\n  \"mediaType\": \"x\",\n  oops\n}\n");
  auto at = runCli("sigstore verify-bundle --bundle " + broken +
                   " --certificate-identity a --certificate-oidc-issuer b " + art);
  EXPECT_EQ(at.exit_code, 3);
  EXPECT_NE(at.err.find("broken.json:3:3: not JSON: Missing a name for object member."),
            std::string::npos)
      << at.err;
  auto root = runCli("sigstore verify-bundle --bundle " + bad + " --trusted-root " + broken +
                     " --certificate-identity a --certificate-oidc-issuer b " + art);
  EXPECT_EQ(root.exit_code, 3);
  EXPECT_NE(root.err.find("broken.json:3:3: not JSON"), std::string::npos) << root.err;
}

}  // namespace sigstore_tests
}  // namespace kh::test
