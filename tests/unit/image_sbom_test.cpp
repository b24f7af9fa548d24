// SBOMs: CycloneDX 1.6 and SPDX 2.3 documents written by `kubeharden image scan` for an image
// holding every kind of package, validated against the official schemas in ../shared/schemas
// (tests/tools/validate_sbom.py, Debian's python3-jsonschema), and checked for content.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <map>
#include <set>

#include "image/licenses.h"
#include "tests/unit/image_util.h"
#include "tests/unit/test_util.h"

namespace kh::image {
namespace {

using fixtures::tarOf;

// SPDX 2.3 against ../shared/schemas/spdx-2.3 (no package carries that schema), with the SPDX
// licence ids of the CycloneDX schema's folder.
int validateSpdx(const std::string& schema_dir, const std::string& file, std::string* out) {
  return fixtures::shell(
      fmt::format("/usr/bin/python3 {}/tests/tools/validate_sbom.py "
                  "{}/spdx-schema.json {} {}",
                  KH_SOURCE_DIR, schema_dir, file, kh::test::cycloneDxSchema().spdx_ids),
      out);
}

// The second layer of sampleImage (Python, npm and Java packages).
std::string sampleLayer1() {
  std::string meta = "Name: requests\nVersion: 2.31.0\nLicense: Apache 2.0\n";
  return tarOf({{"app/a/requests-2.31.0.dist-info/METADATA", meta},
                {"app/b/requests-2.31.0.dist-info/METADATA", meta},
                {"app/node_modules/@scope/x/package.json",
                 R"j({"name":"@scope/x","version":"1.0.0","license":"(MIT OR Apache-2.0)"})j"},
                {"app/lib/tool.jar", fixtures::zipOf({{"META-INF/maven/g/a/pom.properties",
                                                       "groupId=g\nartifactId=a\nversion=1\n"}})}});
}

std::string sampleImage(const kh::test::TempDir& d) {
  std::string status =
      "Package: bison\nStatus: install ok installed\nArchitecture: amd64\nVersion: "
      "2:3.8.2+dfsg-1\n\n"
      "Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\n"
      "Source: openssl (3.0.11-1~deb12u2)\nVersion: 3.0.11-1~deb12u2\n";
  std::string layer0 =
      tarOf({{"etc/os-release", "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian 12\"\n"},
             {"var/lib/dpkg/status", status},
             {"usr/share/doc/bison/copyright",
              "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
              "License: GPL-3+ with Bison exception\n"},
             {"usr/share/doc/libssl3/copyright", "Format: x\nLicense: Apache-2.0\n"}});
  std::string layer1 = sampleLayer1();
  std::string manifest =
      R"([{"Config":"c.json","RepoTags":["example/app:1.0"],"Layers":["l0/layer.tar","l1/layer.tar"]}])";
  return d.write("img.tar", tarOf({{"manifest.json", manifest},
                                   {"c.json", fixtures::config({layer0, layer1})},
                                   {"l0/layer.tar", layer0},
                                   {"l1/layer.tar", layer1}}));
}

TEST(ImageSbom, CycloneDxValidatesAndSaysWhatIsInside) {
  kh::test::TempDir d;
  std::string img = sampleImage(d), out;
  auto r = kh::test::runCli(fmt::format("image scan -f cyclonedx={0}/bom.json {1}", d.path(), img));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(fixtures::validateCycloneDx(d.path() + "/bom.json", &out), 0) << out;
  rapidjson::Document doc;
  std::string text = kh::test::readFile(d.path() + "/bom.json");
  doc.Parse(text.c_str());
  ASSERT_FALSE(doc.HasParseError());
  EXPECT_STREQ(doc["specVersion"].GetString(), "1.6");
  EXPECT_STREQ(doc["metadata"]["component"]["name"].GetString(), "example/app:1.0");
  std::set<std::string> refs, purls;
  std::map<std::string, std::string> licences;
  for (const auto& c : doc["components"].GetArray()) {
    EXPECT_TRUE(refs.insert(c["bom-ref"].GetString()).second) << "bom-refs are unique";
    if (c.HasMember("purl")) purls.insert(c["purl"].GetString());
    if (c.HasMember("licenses")) {
      rapidjson::StringBuffer sb;
      rapidjson::Writer<rapidjson::StringBuffer> w(sb);
      c["licenses"].Accept(w);
      licences[c["name"].GetString()] = sb.GetString();
    }
  }
  EXPECT_EQ(purls, (std::set<std::string>{
                       "pkg:deb/debian/bison@2%3A3.8.2%2Bdfsg-1?arch=amd64&distro=debian-12",
                       "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12",
                       "pkg:pypi/requests@2.31.0", "pkg:npm/%40scope/x@1.0.0", "pkg:maven/g/a@1"}));
  EXPECT_EQ(refs.size(), 7u);  // os + 6 packages (requests twice, at two paths)
  EXPECT_EQ(licences["bison"], R"([{"license":{"name":"GPL-3+ with Bison exception"}}])");
  EXPECT_EQ(licences["libssl3"], R"([{"license":{"id":"Apache-2.0"}}])");
  EXPECT_EQ(licences["@scope/x"], R"j([{"expression":"(MIT OR Apache-2.0)"}])j");
  // The layer that introduced each package, and libssl3's source package.
  EXPECT_NE(text.find(R"("name": "kubeharden:layer:digest",)"
                      "\n"
                      R"(          "value": ")" +
                      fixtures::sha256(sampleLayer1()) + "\""),
            std::string::npos);
  EXPECT_NE(text.find(R"("value": "openssl")"), std::string::npos);
  // The validator can fail: a licence id not on the SPDX list is refused.
  std::string bad = text;
  bad.replace(bad.find(R"("id": "Apache-2.0")"), 18, R"("id": "Apache-9.9")");
  std::string bad_path = d.write("bad.json", bad);
  out.clear();
  EXPECT_EQ(fixtures::validateCycloneDx(bad_path, &out), 1) << out;
}

TEST(ImageSbom, SpdxValidatesWithExpressionsAndLicenseRefs) {
  KH_NEED_SHARED(spdx_schema, "schemas/spdx-2.3");
  kh::test::TempDir d;
  std::string img = sampleImage(d), out;
  auto r = kh::test::runCli(fmt::format("image scan -f spdx -o {0}/spdx.json {1}", d.path(), img));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(validateSpdx(spdx_schema, d.path() + "/spdx.json", &out), 0) << out;
  std::string text = kh::test::readFile(d.path() + "/spdx.json");
  rapidjson::Document doc;
  doc.Parse(text.c_str());
  ASSERT_FALSE(doc.HasParseError());
  std::map<std::string, std::string> declared;
  for (const auto& p : doc["packages"].GetArray())
    declared[p["name"].GetString()] = p["licenseDeclared"].GetString();
  EXPECT_EQ(declared["bison"], "LicenseRef-GPL-3plus-with-Bison-exception");
  EXPECT_EQ(declared["libssl3"], "Apache-2.0");
  EXPECT_EQ(declared["@scope/x"], "(MIT OR Apache-2.0)");
  EXPECT_EQ(declared["g:a"], "NOASSERTION");
  ASSERT_TRUE(doc.HasMember("hasExtractedLicensingInfos"));
  EXPECT_STREQ(doc["hasExtractedLicensingInfos"][0]["extractedText"].GetString(),
               "GPL-3+ with Bison exception");
  // The checks beyond the schema can fail too.
  std::string bad = text;
  bad.replace(bad.find("\"Apache-2.0\""), 12, "\"Apache-2.0 AND\"");
  out.clear();
  EXPECT_EQ(validateSpdx(spdx_schema, d.write("bad.json", bad), &out), 1) << out;
  EXPECT_NE(out.find("not a valid SPDX licence expression"), std::string::npos) << out;
}

TEST(ImageSbom, EveryNormalisedIdIsOnTheSpdxList) {
  rapidjson::Document list;
  std::string text = kh::test::readFile(kh::test::cycloneDxSchema().spdx_ids);
  list.Parse(text.c_str());
  ASSERT_FALSE(list.HasParseError());
  std::set<std::string> ids;
  for (const auto& v : list["enum"].GetArray()) ids.insert(v.GetString());
  ASSERT_GT(ids.size(), 500u);
  for (std::string_view id : knownSpdxIds()) EXPECT_TRUE(ids.count(std::string(id))) << id;
}

// The image-config-* checks run on the image's own config in `image scan`, with --enable,
// --disable and --fail-on, in text, JSON and SARIF.
TEST(ImageConfigChecks, RunOnTheImageConfig) {
  kh::test::TempDir d;
  std::string layer = tarOf({{"etc/os-release", "ID=alpine\nVERSION_ID=3.19.1\n"}});
  std::string cfg =
      R"({"architecture":"amd64","os":"linux","config":{"Env":["PATH=/bin",)"
      R"("GITHUB_TOKEN=ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"],"ExposedPorts":{"22/tcp":{}}},)"
      R"("rootfs":{"type":"layers","diff_ids":[")" +
      fixtures::sha256(layer) +
      R"("]},)"
      R"("history":[{"created_by":"ADD https://x.example/a /a # buildkit"}]})";
  std::string img = d.write(
      "img.tar", tarOf({{"manifest.json", R"([{"Config":"c.json","Layers":["l/layer.tar"]}])"},
                        {"c.json", cfg},
                        {"l/layer.tar", layer}}));
  auto text = kh::test::runCli("image scan " + img);
  EXPECT_EQ(text.exit_code, 0) << text.err;  // --fail-on defaults to none: an inventory run
  for (const char* id : {"image-config-root-user", "image-config-secret-env",
                         "image-config-ssh-port", "image-config-add-remote"})
    EXPECT_NE(text.out.find(id), std::string::npos) << id << "\n" << text.out;
  EXPECT_EQ(text.out.find("ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"), std::string::npos)
      << "secret values are redacted";
  EXPECT_EQ(text.out.find("image-config-no-healthcheck"), std::string::npos) << "opt-in";
  auto on = kh::test::runCli(
      "image scan --enable image-config-no-healthcheck "
      "--disable image-config-ssh-port -f json " +
      img);
  EXPECT_NE(on.out.find(R"("checkId":"image-config-no-healthcheck")"), std::string::npos) << on.out;
  EXPECT_EQ(on.out.find(R"("checkId":"image-config-ssh-port")"), std::string::npos) << on.out;
  EXPECT_EQ(kh::test::runCli("image scan --fail-on critical " + img).exit_code, 1);
  EXPECT_EQ(
      kh::test::runCli("image scan --fail-on critical --disable image-config-secret-env " + img)
          .exit_code,
      0);
  auto bogus = kh::test::runCli("image scan --enable pod-privileged " + img);
  EXPECT_EQ(bogus.exit_code, 2);
  EXPECT_NE(bogus.err.find("not an image check"), std::string::npos) << bogus.err;
  auto sarif = kh::test::runCli("image scan -f sarif " + img);
  EXPECT_NE(sarif.out.find(R"("ruleId":"image-config-secret-env")"), std::string::npos)
      << sarif.out;
  // A well-configured image has none of them.
  std::string good = d.write(
      "good.tar", tarOf({{"manifest.json", R"([{"Config":"c.json","Layers":["l/layer.tar"]}])"},
                         {"c.json", fixtures::config({layer})},
                         {"l/layer.tar", layer}}));
  auto clean = kh::test::runCli("image scan --fail-on info " + good);
  EXPECT_EQ(clean.exit_code, 0) << clean.out;
  EXPECT_EQ(clean.out.find("image configuration"), std::string::npos) << clean.out;
}

TEST(ImageSbom, OneImagePerSbom) {
  kh::test::TempDir d;
  std::string img = sampleImage(d);
  auto r = kh::test::runCli(fmt::format("image scan -f cyclonedx {0} {0}", img));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("one image"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace kh::image
