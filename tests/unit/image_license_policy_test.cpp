// Licence policy: SPDX expressions judged against a deny list (OR a choice, AND not, WITH by its
// licence), globs, unknown licences, the deny-list parser, and the CLI end to end.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "image/license_policy.h"
#include "tests/unit/image_util.h"
#include "tests/unit/test_util.h"

namespace kh::image {
namespace {

std::string verdict(std::vector<std::string> licenses, std::vector<std::string> deny) {
  LicenseJudgement j = judgeLicenses(licenses, deny);
  std::string v = j.verdict == LicenseVerdict::kDenied    ? "denied"
                  : j.verdict == LicenseVerdict::kUnknown ? "unknown"
                                                          : "allowed";
  for (const std::string& d : j.denied) v += " " + d;
  return v;
}

TEST(LicensePolicy, ExpressionsAgainstTheDenyList) {
  const std::vector<std::string> agpl = {"AGPL-3.0-only"};
  EXPECT_EQ(verdict({"MIT"}, agpl), "allowed");
  EXPECT_EQ(verdict({"AGPL-3.0-only"}, agpl), "denied AGPL-3.0-only");
  EXPECT_EQ(verdict({"agpl-3.0-only"}, agpl), "denied agpl-3.0-only") << "IDs compare without case";
  EXPECT_EQ(verdict({"MIT OR AGPL-3.0-only"}, agpl), "allowed") << "OR is a choice";
  EXPECT_EQ(verdict({"MIT AND AGPL-3.0-only"}, agpl), "denied AGPL-3.0-only");
  EXPECT_EQ(verdict({"(MIT OR AGPL-3.0-only) AND AGPL-3.0-only"}, agpl), "denied AGPL-3.0-only");
  EXPECT_EQ(verdict({"MIT AND (AGPL-3.0-only OR Apache-2.0)"}, agpl), "allowed");
  EXPECT_EQ(verdict({"MIT", "AGPL-3.0-only"}, agpl), "denied AGPL-3.0-only")
      << "all of a package's licences apply";
  EXPECT_EQ(verdict({"GPL-2.0-only WITH Classpath-exception-2.0"}, {"GPL-2.0-only"}),
            "denied GPL-2.0-only");
  EXPECT_EQ(verdict({"GPL-2.0-or-later"}, {"GPL-2.0-only"}), "allowed") << "its own identifier";
  EXPECT_EQ(verdict({"GPL-2.0-or-later AND LGPL-2.1-only"}, {"*GPL-*"}),
            "denied GPL-2.0-or-later LGPL-2.1-only");
  EXPECT_EQ(verdict({"GPL-3.0-only"}, {"GPL-*"}), "denied GPL-3.0-only");
  EXPECT_EQ(verdict({"LGPL-3.0-only"}, {"GPL-*"}), "allowed") << "globs anchor at both ends";
  // Unknown: nothing declared, LicenseRef-, text that is not SPDX; a denied side still wins over
  // an unknown one, an allowed choice over both.
  EXPECT_EQ(verdict({}, agpl), "unknown");
  EXPECT_EQ(verdict({"LicenseRef-Proprietary"}, agpl), "unknown");
  EXPECT_EQ(verdict({"LicenseRef-public-domain"}, agpl), "allowed") << "public domain is known";
  EXPECT_EQ(verdict({"GPL version 2 with some exceptions"}, agpl), "unknown");
  EXPECT_EQ(verdict({"LicenseRef-X AND AGPL-3.0-only"}, agpl), "denied AGPL-3.0-only");
  EXPECT_EQ(verdict({"LicenseRef-X OR MIT"}, agpl), "allowed");
  EXPECT_EQ(verdict({"MIT AND LicenseRef-X"}, agpl), "unknown");
  EXPECT_EQ(verdict({"MIT AND"}, agpl), "unknown") << "a broken expression";
  EXPECT_EQ(verdict({"(MIT"}, agpl), "unknown");
  EXPECT_EQ(verdict({"MIT"}, {}), "allowed");
}

TEST(LicensePolicy, DenyListParsing) {
  std::vector<std::string> warnings;
  auto ok = parseLicenseDenyList("agpl-3.0-only, GPL-*,SSPL-9.9,LicenseRef-Mine", &warnings);
  ASSERT_TRUE(ok) << ok.error().describe();
  EXPECT_EQ(ok.value(),
            (std::vector<std::string>{"AGPL-3.0-only", "GPL-*", "SSPL-9.9", "LicenseRef-Mine"}));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("SSPL-9.9"), std::string::npos);
  auto bad = parseLicenseDenyList("MIT OR GPL-3.0-only", nullptr);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("'MIT OR GPL-3.0-only' is not an SPDX licence identifier"),
            std::string::npos);
}

TEST(LicensePolicy, ImageScanReportsDeniedAndUnknown) {
  kh::test::TempDir d;
  std::string layer = fixtures::tarOf(
      {{"etc/os-release", "ID=alpine\nVERSION_ID=3.19.1\n"},
       {"lib/apk/db/installed",
        "P:busybox\nV:1.36.1-r15\nA:x86_64\no:busybox\nL:GPL-2.0-only\n\n"
        "P:musl\nV:1.2.4-r2\nA:x86_64\no:musl\nL:MIT\n\n"
        "P:ghostscript\nV:10.02.1-r0\nA:x86_64\no:ghostscript\nL:AGPL-3.0-or-later\n\n"
        "P:mystery\nV:1.0-r0\nA:x86_64\no:mystery\nL:custom\n"}});
  std::string img = d.write(
      "img.tar", fixtures::tarOf({{"manifest.json", R"([{"Config":"c.json","Layers":["l.tar"]}])"},
                                  {"c.json", fixtures::config({layer})},
                                  {"l.tar", layer}}));
  auto r = kh::test::runCli(
      fmt::format("image scan -f json --no-secrets --license-deny 'AGPL-*,GPL-2.0-only' {}", img));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  rapidjson::Document doc;
  doc.Parse(r.out.c_str());
  ASSERT_FALSE(doc.HasParseError()) << r.out;
  const auto& lic = doc["images"][0]["licenses"];
  ASSERT_TRUE(lic.IsObject()) << r.out;
  std::vector<std::string> got;
  for (const auto& f : lic["findings"].GetArray())
    got.push_back(fmt::format("{} {} {}", f["package"]["name"].GetString(),
                              f["verdict"].GetString(), f["severity"].GetString()));
  EXPECT_EQ(got, (std::vector<std::string>{"busybox denied high", "ghostscript denied high",
                                           "mystery unknown info"}));
  // --fail-on: denied licences are high; unknown ones are info and fail only --fail-on info.
  EXPECT_EQ(kh::test::runCli(
                fmt::format("image scan --no-secrets --license-deny AGPL-* --fail-on high {}", img))
                .exit_code,
            1);
  EXPECT_EQ(kh::test::runCli(
                fmt::format("image scan --no-secrets --license-deny MPL-2.0 --fail-on low {}", img))
                .exit_code,
            0);
  EXPECT_EQ(
      kh::test::runCli(
          fmt::format("image scan --no-secrets --license-deny MPL-2.0 --fail-on info {}", img))
          .exit_code,
      1);
  // Text and SARIF say it too; no policy, no licence findings.
  auto text =
      kh::test::runCli(fmt::format("image scan --no-secrets --license-deny AGPL-* {}", img));
  EXPECT_NE(text.out.find("licences: 1 denied, 1 unknown"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("HIGH denied ghostscript 10.02.1-r0: AGPL-3.0-or-later"),
            std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("INFO unknown licence: mystery\n"), std::string::npos) << text.out;
  auto sarif = kh::test::runCli(
      fmt::format("image scan --no-secrets --license-deny AGPL-* -f sarif {}", img));
  EXPECT_NE(sarif.out.find(R"("ruleId":"image-license-denied")"), std::string::npos) << sarif.out;
  EXPECT_NE(sarif.out.find(R"("ruleId":"image-license-unknown")"), std::string::npos);
  auto none = kh::test::runCli(fmt::format("image scan -f json --no-secrets {}", img));
  EXPECT_EQ(none.out.find("\"licenses\":{"), std::string::npos) << "no policy, no section";
  // The config file's image.licenses, with errors at their line.
  std::string cfg = d.write(
      "kh.yaml", "image:\n  licenses:\n    deny: [AGPL-3.0-or-later]\n    severity: critical\n");
  auto c =
      kh::test::runCli(fmt::format("image scan -f json --no-secrets --config {} {}", cfg, img));
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_NE(
      c.out.find(R"("verdict":"denied","denied":["AGPL-3.0-or-later"],"severity":"critical")"),
      std::string::npos)
      << c.out;
  std::string badcfg = d.write("bad.yaml", "image:\n  licenses:\n    deny: [MIT OR X]\n");
  auto b = kh::test::runCli(fmt::format("image scan --no-secrets --config {} {}", badcfg, img));
  EXPECT_EQ(b.exit_code, 2);
  EXPECT_NE(b.err.find(badcfg + ":3"), std::string::npos) << b.err;
  auto badflag =
      kh::test::runCli(fmt::format("image scan --no-secrets --license-deny 'MIT OR X' {}", img));
  EXPECT_EQ(badflag.exit_code, 2);
}

}  // namespace
}  // namespace kh::image
