// Secrets in image layers: every text file of every layer with the shared rule set, deleted
// files included, a file copied into several layers reported once, binary and large files and
// test/example/documentation trees skipped and counted, assignments only in configuration files.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <set>

#include "image/analyzers.h"
#include "image/inventory.h"
#include "image/secrets.h"
#include "tests/unit/image_util.h"
#include "tests/unit/test_util.h"

namespace kh::image {
namespace {

using fixtures::Member;
using fixtures::tarOf;

Filesystem layersOf(const std::vector<std::vector<Member>>& layers) {
  Filesystem fs;
  std::vector<ContentHandler> hs{secretsHandler(4096)};
  for (const auto& members : layers) {
    auto r = TarReader::openMemory(tarOf(members), "layer");
    fs.apply(readLayer(*r.value(), hs));
  }
  return fs;
}

const std::string kAws = "aws_access_key_id = AKIAQ3ZT5BWX7KD2MN4R\n";
const std::string kPem =
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n";

TEST(ImageSecrets, EveryLayerDeletedFilesIncluded) {
  Filesystem fs = layersOf({
      {{"root/.aws/credentials", "[default]\n" + kAws},
       {"app/config.env", "DB_PASSWORD=Zx9!qLm2#Vt7pR4w\n"}},
      {{"root/.aws/.wh.credentials", ""}, {"etc/ssl/private/server.key", kPem}},
      {{"etc/ssl/private/server.key", kPem, 'f'}},  // copied again (chmod, COPY): reported once
  });
  auto secrets = collectSecrets(fs);
  std::set<std::string> got;
  for (const SecretFinding& s : secrets)
    got.insert(fmt::format("{}:{} {} layer {}{}", s.path, s.line, s.rule_id, s.layer,
                           s.deleted ? " deleted" : ""));
  EXPECT_EQ(got,
            (std::set<std::string>{"app/config.env:1 credential-assignment layer 0",
                                   "etc/ssl/private/server.key:1 private-key layer 1",
                                   "root/.aws/credentials:2 aws-access-key-id layer 0 deleted"}));
  for (const SecretFinding& s : secrets) {
    EXPECT_EQ(s.redacted.find("AKIAQ3ZT5BWX7KD2MN4R"), std::string::npos) << "redacted";
    EXPECT_EQ(s.redacted.find("Zx9!qLm2"), std::string::npos) << "redacted";
  }
}

TEST(ImageSecrets, ReplacedFileIsDeletedNotPresent) {
  Filesystem fs = layersOf({{{"app/.env", "API_TOKEN=Zx9qLm2Vt7pR4wKd8s\n"}},
                            {{"app/.env", "API_TOKEN=$FROM_RUNTIME\n"}}});
  auto secrets = collectSecrets(fs);
  ASSERT_EQ(secrets.size(), 1u);
  EXPECT_TRUE(secrets[0].deleted);
}

TEST(ImageSecrets, WhatIsSkippedIsCounted) {
  std::string binary = std::string(
                           "\x7f"
                           "ELF\0\0",
                           6) +
                       kAws;
  std::string large(5000, 'x');
  large += "\n" + kAws;
  Filesystem fs = layersOf(
      {{{"usr/bin/tool", binary},
        {"opt/big.conf", large},
        {"usr/share/doc/pkg/README", kAws},
        {"usr/lib/python3/site-packages/lib/tests/data/key.pem", kPem},
        {"usr/lib/python3/site-packages/rsa/pem.py", "MARKER = '" + kPem.substr(0, 31) + "'\n"},
        {"usr/lib/python3/site-packages/app/settings.py",
         "password = get_password()\nKEY = 'AKIAQ3ZT5BWX7KD2MN4R'\n"}}});
  auto secrets = collectSecrets(fs);
  ASSERT_EQ(secrets.size(), 1u);  // the token in source code, nothing else
  EXPECT_EQ(secrets[0].path, "usr/lib/python3/site-packages/app/settings.py");
  EXPECT_EQ(secrets[0].rule_id, "aws-access-key-id");
  SecretStats st = secretStats(fs);
  EXPECT_EQ(st.skipped_binary, 1u);
  EXPECT_EQ(st.skipped_large, 1u);
  EXPECT_EQ(st.skipped_path, 2u);
  EXPECT_EQ(st.files, 2u);
}

TEST(ImageSecrets, CliReportsThemAndNoSecretsTurnsThemOff) {
  kh::test::TempDir d;
  std::string l0 = tarOf({{"etc/os-release", "ID=alpine\nVERSION_ID=3.19.1\n"},
                          {"root/.aws/credentials", "[default]\n" + kAws}});
  std::string l1 = tarOf({{"root/.aws/.wh.credentials", ""}});
  std::string img = d.write(
      "img.tar",
      tarOf({{"manifest.json", R"([{"Config":"c.json","Layers":["a/layer.tar","b/layer.tar"]}])"},
             {"c.json", fixtures::config({l0, l1})},
             {"a/layer.tar", l0},
             {"b/layer.tar", l1}}));
  auto text = kh::test::runCli("image scan " + img);
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("CRITICAL root/.aws/credentials:2 AWS"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("deleted by a later layer"), std::string::npos) << text.out;
  EXPECT_EQ(text.out.find("AKIAQ3ZT5BWX7KD2MN4R"), std::string::npos);
  auto json = kh::test::runCli("image scan -f json " + img);
  EXPECT_NE(json.out.find(R"("ruleId":"aws-access-key-id","title":)"), std::string::npos)
      << json.out;
  EXPECT_NE(json.out.find(R"("deleted":true)"), std::string::npos);
  EXPECT_EQ(kh::test::runCli("image scan --fail-on critical " + img).exit_code, 1);
  auto sarif = kh::test::runCli("image scan -f sarif " + img);
  EXPECT_NE(sarif.out.find(R"("ruleId":"image-secret")"), std::string::npos) << sarif.out;
  EXPECT_NE(sarif.out.find(R"("uri":"root/.aws/credentials")"), std::string::npos) << sarif.out;
  EXPECT_NE(sarif.out.find(R"("deleted":true)"), std::string::npos) << sarif.out;
  EXPECT_EQ(sarif.out.find("AKIAQ3ZT5BWX7KD2MN4R"), std::string::npos);
  // Progress goes to a terminal only (forced here), on standard error, never into the output.
  EXPECT_EQ(text.err, "");
  ::setenv("KUBEHARDEN_PROGRESS", "1", 1);
  auto progress = kh::test::runCli("image scan -f json " + img);
  ::unsetenv("KUBEHARDEN_PROGRESS");
  EXPECT_NE(progress.err.find("2 of 2 layers read"), std::string::npos) << progress.err;
  EXPECT_EQ(progress.out, json.out);
  auto off = kh::test::runCli("image scan --no-secrets --fail-on critical -f json " + img);
  EXPECT_EQ(off.exit_code, 0) << off.out;
  EXPECT_NE(off.out.find(R"("secrets":[])"), std::string::npos);
}

}  // namespace
}  // namespace kh::image
