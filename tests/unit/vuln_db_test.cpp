// The vulnerability database: OSV import from files, directories and zip archives, incremental
// by `modified`, atomic when interrupted, broken records named; status counts checked against an
// independent count (Python) over the real advisories in ../shared/vulndata.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <cstdlib>

#include "tests/unit/image_util.h"
#include "tests/unit/test_util.h"
#include "vuln/db.h"

namespace kh::vuln {
namespace {

const std::string kData = std::string(KH_SHARED_DIR) + "/vulndata";

std::string record(std::string_view id, std::string_view modified, std::string_view eco,
                   std::string_view name, std::string_view fixed) {
  return fmt::format(
      R"({{"id":"{}","modified":"{}","aliases":["CVE-2099-0001"],"affected":[{{"package":{{"ecosystem":"{}","name":"{}"}},"ranges":[{{"type":"GIT","repo":"x","events":[{{"introduced":"0"}}]}},{{"type":"ECOSYSTEM","events":[{{"introduced":"0"}},{{"fixed":"{}"}}]}}]}}]}})",
      id, modified, eco, name, fixed);
}

TEST(VulnDb, ImportsTheRealAdvisoriesAndCountsAsPythonDoes) {
  kh::test::TempDir d;
  auto db = VulnDb::open(d.path() + "/v.db", true);
  ASSERT_TRUE(db) << db.error().describe();
  auto stats = db.value()->import({kData});
  ASSERT_TRUE(stats) << stats.error().describe();
  EXPECT_TRUE(stats.value().errors.empty());
  EXPECT_GT(stats.value().inserted, 8000u);
  EXPECT_EQ(stats.value().inserted + stats.value().unchanged, stats.value().files);
  auto st = db.value()->status();
  ASSERT_TRUE(st);
  // An independent count: distinct advisory IDs per ecosystem named in `affected`.
  std::string out;
  ASSERT_EQ(image::fixtures::shell(
                fmt::format("/usr/bin/python3 -c \"import json,glob,collections\n"
                            "ids=collections.defaultdict(set); n=set()\n"
                            "for f in glob.glob('{}/**/*.json', recursive=True):\n"
                            " d=json.load(open(f)); n.add(d['id'])\n"
                            " for a in d.get('affected',[]): ids[a['package']['ecosystem']].add(d['id'])\n"
                            "print(len(n))\n"
                            "for e in sorted(ids): print(e, len(ids[e]))\"",
                            kData),
                &out),
            0)
      << out;
  std::string ours = fmt::format("{}\n", st.value().advisories);
  for (const auto& [eco, n] : st.value().by_ecosystem) ours += fmt::format("{} {}\n", eco, n);
  EXPECT_EQ(ours, out);
  EXPECT_FALSE(st.value().updated.empty());
  // What matching will read: the ECOSYSTEM ranges, without GIT ones.
  auto rows = db.value()->affected("AlmaLinux:9", "firefox");
  ASSERT_FALSE(rows.empty());
  rapidjson::Document r;
  r.Parse(rows[0].ranges_json.c_str());
  ASSERT_TRUE(r.IsObject());
  EXPECT_TRUE(r["ranges"].IsArray());
  // Importing the same data again changes nothing.
  auto again = db.value()->import({kData});
  ASSERT_TRUE(again);
  EXPECT_EQ(again.value().inserted + again.value().updated, 0u);
}

TEST(VulnDb, IncrementalByModifiedTime) {
  kh::test::TempDir d;
  auto db = VulnDb::open(d.path() + "/v.db", true);
  ASSERT_TRUE(db);
  std::string v1 = d.write("a.json", record("OSV-1", "2024-01-01T00:00:00Z", "PyPI", "pkg", "1.0"));
  ASSERT_EQ(db.value()->import({v1}).value().inserted, 1u);
  std::string v2 = d.write("b.json", record("OSV-1", "2024-06-01T00:00:00Z", "PyPI", "pkg", "2.0"));
  auto up = db.value()->import({v2});
  EXPECT_EQ(up.value().updated, 1u);
  auto rows = db.value()->affected("PyPI", "pkg");
  ASSERT_EQ(rows.size(), 1u) << "the old record's entries are replaced, not added to";
  EXPECT_NE(rows[0].ranges_json.find("\"2.0\""), std::string::npos);
  EXPECT_EQ(rows[0].ranges_json.find("GIT"), std::string::npos);
  EXPECT_EQ(db.value()->affected("PyPI", "PKG").size(), 1u) << "PyPI names are normalised";
  auto old = db.value()->import({v1});
  EXPECT_EQ(old.value().unchanged, 1u) << "an older copy does not win";
  EXPECT_NE(db.value()->affected("PyPI", "pkg")[0].ranges_json.find("\"2.0\""), std::string::npos);
}

TEST(VulnDb, ZipArchivesAndBrokenRecords) {
  kh::test::TempDir d;
  std::string zip = d.write(
      "all.zip", image::fixtures::zipOf({{"OSV-A.json", record("OSV-A", "2024-01-01T00:00:00Z", "Go", "example.com/m", "1.2.0")},
                                         {"OSV-B.json", record("OSV-B", "2024-01-01T00:00:00Z", "npm", "left-pad", "1.3.0")},
                                         {"README.md", "not a record"}}));
  std::string broken = d.write("broken.json", "{\n\"id\": \"X\"\n");
  std::string noid = d.write("noid.json", R"({"modified":"2024-01-01T00:00:00Z"})");
  auto db = VulnDb::open(d.path() + "/v.db", true);
  ASSERT_TRUE(db);
  auto s = db.value()->import({zip, broken, noid});
  ASSERT_TRUE(s);
  EXPECT_EQ(s.value().inserted, 2u);
  ASSERT_EQ(s.value().errors.size(), 2u);
  EXPECT_EQ(s.value().errors[0].file, broken);
  EXPECT_EQ(s.value().errors[0].pos.line, 3u) << s.value().errors[0].describe();
  EXPECT_NE(s.value().errors[1].message.find("\"id\" and \"modified\""), std::string::npos);
  EXPECT_EQ(db.value()->affected("npm", "left-pad").size(), 1u);
  EXPECT_EQ(db.value()->affected("npm", "Left-Pad").size(), 0u) << "npm names are exact";
  // The CLI names what it skipped and exits 3; a missing path changes nothing.
  auto cli = kh::test::runCli(fmt::format("image db import --db {}/c.db {} {}", d.path(), zip, broken));
  EXPECT_EQ(cli.exit_code, 3);
  EXPECT_NE(cli.err.find("skipped " + broken), std::string::npos) << cli.err;
  EXPECT_NE(cli.out.find("2 new"), std::string::npos) << cli.out;
  auto missing = kh::test::runCli(fmt::format("image db import --db {}/c.db {}/nope", d.path(), d.path()));
  EXPECT_EQ(missing.exit_code, 3);
  auto st = kh::test::runCli(fmt::format("image db status --db {}/c.db", d.path()));
  EXPECT_EQ(st.exit_code, 0) << st.err;
  EXPECT_NE(st.out.find("2 advisories"), std::string::npos) << st.out;
  EXPECT_NE(st.out.find("npm"), std::string::npos);
  auto none = kh::test::runCli(fmt::format("image db status --db {}/absent.db", d.path()));
  EXPECT_EQ(none.exit_code, 3);
  EXPECT_NE(none.err.find("no vulnerability database"), std::string::npos) << none.err;
}

// A crash in the middle of an import (simulated by a test hook that exits the process after N
// records) leaves the database as it was before.
TEST(VulnDb, InterruptedImportLeavesThePreviousDatabase) {
  kh::test::TempDir d;
  std::string db = d.path() + "/v.db";
  std::string first = d.write("first.json", record("OSV-1", "2024-01-01T00:00:00Z", "PyPI", "a", "1.0"));
  ASSERT_EQ(kh::test::runCli(fmt::format("image db import --db {} {}", db, first)).exit_code, 0);
  ::setenv("KUBEHARDEN_TEST_ABORT_IMPORT_AFTER", "100", 1);
  auto crashed = kh::test::runCli(fmt::format("image db import --db {} {}/pypi", db, kData));
  ::unsetenv("KUBEHARDEN_TEST_ABORT_IMPORT_AFTER");
  EXPECT_EQ(crashed.exit_code, 99) << "the hook stopped the import half-way";
  auto st = kh::test::runCli(fmt::format("image db status --db {}", db));
  EXPECT_EQ(st.exit_code, 0) << st.err;
  EXPECT_NE(st.out.find(": 1 advisories"), std::string::npos) << st.out;
  // And the next import completes normally.
  auto ok = kh::test::runCli(fmt::format("image db import --db {} {}/pypi", db, kData));
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

}  // namespace
}  // namespace kh::vuln
