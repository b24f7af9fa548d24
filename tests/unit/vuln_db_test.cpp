// The vulnerability database: OSV import from files, directories and zip archives, incremental
// by `modified`, atomic when interrupted, broken records named; status counts checked against an
// independent count (Python) over the real advisories in ../shared/vulndata.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <cstdlib>
#include <map>

#include "tests/unit/image_util.h"
#include "tests/unit/test_util.h"
#include "vuln/db.h"
#include "vuln/match.h"

namespace kh::vuln {
namespace {

std::string record(std::string_view id, std::string_view modified, std::string_view eco,
                   std::string_view name, std::string_view fixed) {
  return fmt::format(
      R"({{"id":"{}","modified":"{}","aliases":["CVE-2099-0001"],"affected":[{{"package":{{"ecosystem":"{}","name":"{}"}},"ranges":[{{"type":"GIT","repo":"x","events":[{{"introduced":"0"}}]}},{{"type":"ECOSYSTEM","events":[{{"introduced":"0"}},{{"fixed":"{}"}}]}}]}}]}})",
      id, modified, eco, name, fixed);
}

TEST(VulnDb, ImportsTheRealAdvisoriesAndCountsAsPythonDoes) {
  KH_NEED_SHARED(data, "vulndata");
  kh::test::TempDir d;
  auto db = VulnDb::open(d.path() + "/v.db", true);
  ASSERT_TRUE(db) << db.error().describe();
  auto stats = db.value()->import({data});
  ASSERT_TRUE(stats) << stats.error().describe();
  EXPECT_TRUE(stats.value().errors.empty());
  EXPECT_GT(stats.value().inserted, 8000u);
  EXPECT_EQ(stats.value().inserted + stats.value().unchanged, stats.value().files);
  auto st = db.value()->status();
  ASSERT_TRUE(st);
  // An independent count: distinct advisory IDs per ecosystem named in `affected`.
  std::string out;
  ASSERT_EQ(image::fixtures::shell(
                fmt::format(
                    "/usr/bin/python3 -c \"import json,glob,collections\n"
                    "ids=collections.defaultdict(set); n=set()\n"
                    "for f in glob.glob('{}/**/*.json', recursive=True):\n"
                    " d=json.load(open(f)); n.add(d['id'])\n"
                    " for a in d.get('affected',[]): ids[a['package']['ecosystem']].add(d['id'])\n"
                    "print(len(n))\n"
                    "for e in sorted(ids): print(e, len(ids[e]))\"",
                    data),
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
  auto again = db.value()->import({data});
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
      "all.zip",
      image::fixtures::zipOf(
          {{"OSV-A.json", record("OSV-A", "2024-01-01T00:00:00Z", "Go", "example.com/m", "1.2.0")},
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
  auto cli =
      kh::test::runCli(fmt::format("image db import --db {}/c.db {} {}", d.path(), zip, broken));
  EXPECT_EQ(cli.exit_code, 3);
  EXPECT_NE(cli.err.find("skipped " + broken), std::string::npos) << cli.err;
  EXPECT_NE(cli.out.find("2 new"), std::string::npos) << cli.out;
  auto missing =
      kh::test::runCli(fmt::format("image db import --db {}/c.db {}/nope", d.path(), d.path()));
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
  std::string first =
      d.write("first.json", record("OSV-1", "2024-01-01T00:00:00Z", "PyPI", "a", "1.0"));
  ASSERT_EQ(kh::test::runCli(fmt::format("image db import --db {} {}", db, first)).exit_code, 0);
  // 300 generated records (the real advisories are not needed to interrupt an import).
  for (int i = 0; i < 300; ++i)
    d.write(fmt::format("many/OSV-{:03}.json", i),
            record(fmt::format("OSV-{:03}", i), "2024-02-01T00:00:00Z", "PyPI",
                   fmt::format("pkg{}", i), "2.0"));
  ::setenv("KUBEHARDEN_TEST_ABORT_IMPORT_AFTER", "100", 1);
  auto crashed = kh::test::runCli(fmt::format("image db import --db {} {}/many", db, d.path()));
  ::unsetenv("KUBEHARDEN_TEST_ABORT_IMPORT_AFTER");
  EXPECT_EQ(crashed.exit_code, 99) << "the hook stopped the import half-way";
  auto st = kh::test::runCli(fmt::format("image db status --db {}", db));
  EXPECT_EQ(st.exit_code, 0) << st.err;
  EXPECT_NE(st.out.find(": 1 advisories"), std::string::npos) << st.out;
  // And the next import completes normally.
  auto ok = kh::test::runCli(fmt::format("image db import --db {} {}/many", db, d.path()));
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  st = kh::test::runCli(fmt::format("image db status --db {}", db));
  EXPECT_NE(st.out.find(": 301 advisories"), std::string::npos) << st.out;
}

// The Debian security tracker's JSON (its format: source package -> CVE -> releases by codename
// with status, fixed_version and urgency).
std::string tracker(std::string_view bookworm_openssl) {
  return fmt::format(R"({{
  "openssl": {{
    "CVE-2023-0001": {{"description": "Overflow in X", "scope": "remote", "releases": {{
      "bookworm": {{"status": "resolved", "repositories": {{"bookworm": "3.0.11-1~deb12u2"}},
                   "fixed_version": "{}", "urgency": "medium"}},
      "bullseye": {{"status": "open", "repositories": {{"bullseye": "1.1.1w-0+deb11u1"}}, "urgency": "low**"}},
      "trixie": {{"status": "resolved", "fixed_version": "0", "urgency": "unimportant"}},
      "sid": {{"status": "resolved", "fixed_version": "3.1.0-1", "urgency": "not yet assigned"}}}}}},
    "TEMP-0000000-ABCDEF": {{"description": "", "releases": {{
      "bookworm": {{"status": "undetermined", "urgency": "not yet assigned"}}}}}}
  }},
  "glibc": {{
    "CVE-2023-0001": {{"releases": {{"bookworm": {{"status": "resolved", "fixed_version": "2.36-9+deb12u3", "urgency": "high"}}}}}}
  }}
}})",
                     bookworm_openssl);
}

TEST(VulnDb, DebianSecurityTracker) {
  kh::test::TempDir d;
  auto opened = VulnDb::open(d.path() + "/v.db", true);
  ASSERT_TRUE(opened);
  VulnDb& db = *opened.value();
  std::string file = d.write("json", tracker("3.0.11-1~deb12u1"));
  auto s = db.import({file});
  ASSERT_TRUE(s) << s.error().describe();
  EXPECT_TRUE(s.value().errors.empty()) << s.value().errors[0].describe();
  EXPECT_EQ(s.value().inserted, 2u) << "DEBIAN-CVE-2023-0001 and DEBIAN-TEMP-0000000-ABCDEF";
  auto openssl12 = db.affected("Debian:12", "openssl");
  ASSERT_EQ(openssl12.size(), 2u);
  auto a = db.advisory("DEBIAN-CVE-2023-0001");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->aliases, std::vector<std::string>{"CVE-2023-0001"});
  EXPECT_EQ(a->summary, "Overflow in X");
  for (const AffectedEntry& e : openssl12) {
    RangeVerdict before = affects(e.ranges_json, "Debian:12", "3.0.9-1");
    EXPECT_TRUE(before.affected) << e.advisory;
    if (e.advisory == "DEBIAN-CVE-2023-0001") {
      EXPECT_EQ(before.fixed, "3.0.11-1~deb12u1");
      EXPECT_FALSE(affects(e.ranges_json, "Debian:12", "3.0.11-1~deb12u1").affected);
      EXPECT_NE(e.ranges_json.find(R"("severity":"medium")"), std::string::npos);
    } else {
      EXPECT_EQ(e.advisory, "DEBIAN-TEMP-0000000-ABCDEF");
      EXPECT_TRUE(before.fixed.empty()) << "undetermined: no fix known";
      EXPECT_TRUE(db.advisory(e.advisory)->aliases.empty());
    }
  }
  auto bullseye = db.affected("Debian:11", "openssl");
  ASSERT_EQ(bullseye.size(), 1u);
  EXPECT_TRUE(affects(bullseye[0].ranges_json, "Debian:11", "9.9").affected)
      << "open: every version";
  EXPECT_NE(bullseye[0].ranges_json.find(R"("severity":"low")"), std::string::npos)
      << "low** is low";
  EXPECT_TRUE(db.affected("Debian:13", "openssl").empty()) << "fixed at 0: never affected";
  EXPECT_EQ(db.affected("Debian:12", "glibc").size(), 1u) << "one CVE, two source packages";
  auto st = db.status();
  EXPECT_EQ(st.value().by_ecosystem.count("Debian:unstable") +
                st.value().by_ecosystem.count("Debian:sid"),
            0u);

  // Importing the same file again changes nothing; a newer tracker that says bookworm's openssl
  // was never affected removes that row and keeps glibc's.
  EXPECT_EQ(db.import({file}).value().unchanged, 2u);
  std::string newer = d.write("json2", tracker("0"));
  auto up = db.import({newer});
  EXPECT_EQ(up.value().updated, 1u);
  EXPECT_EQ(up.value().unchanged, 1u);
  openssl12 = db.affected("Debian:12", "openssl");
  ASSERT_EQ(openssl12.size(), 1u);
  EXPECT_EQ(openssl12[0].advisory, "DEBIAN-TEMP-0000000-ABCDEF");
  EXPECT_EQ(db.affected("Debian:12", "glibc").size(), 1u);
}

// Alpine's secdb (distroversion, packages[].pkg.secfixes: fixed version -> identifiers; "0"
// for never affected).
TEST(VulnDb, AlpineSecdb) {
  kh::test::TempDir d;
  auto opened = VulnDb::open(d.path() + "/v.db", true);
  ASSERT_TRUE(opened);
  VulnDb& db = *opened.value();
  std::string main = d.write(
      "main.json",
      R"J({"apkurl": "{{urlprefix}}/{{distroversion}}/{{reponame}}/{{arch}}/{{pkg.name}}-{{pkg.ver}}.apk",
    "archs": ["x86_64"], "reponame": "main", "urlprefix": "https://dl-cdn.alpinelinux.org/alpine",
    "distroversion": "v3.19", "packages": [
      {"pkg": {"name": "openssl", "secfixes": {"3.1.4-r1": ["CVE-2023-5678"],
                                                "3.1.2-r0": ["CVE-2023-3446 CVE-2023-3817"],
                                                "0": ["CVE-2022-9999"]}}},
      {"pkg": {"name": "busybox", "secfixes": {"1.36.1-r2": ["CVE-2022-48174 (musl only)"]}}}]})J");
  std::string community =
      d.write("community.json", R"({"distroversion": "v3.19", "reponame": "community",
    "packages": [{"pkg": {"name": "go", "secfixes": {"1.21.5-r0": ["CVE-2023-5678"]}}}]})");
  auto s = db.import({main, community});
  ASSERT_TRUE(s);
  EXPECT_TRUE(s.value().errors.empty());
  EXPECT_EQ(s.value().inserted, 4u) << "CVE-2022-9999 affects nothing and is not stored";
  auto openssl = db.affected("Alpine:v3.19", "openssl");
  ASSERT_EQ(openssl.size(), 3u);
  std::map<std::string, RangeVerdict> at;
  for (const AffectedEntry& e : openssl)
    at[e.advisory] = affects(e.ranges_json, "Alpine:v3.19", "3.1.2-r0");
  EXPECT_TRUE(at["ALPINE-CVE-2023-5678"].affected);
  EXPECT_EQ(at["ALPINE-CVE-2023-5678"].fixed, "3.1.4-r1");
  EXPECT_FALSE(at["ALPINE-CVE-2023-3446"].affected) << "fixed in the installed version";
  EXPECT_FALSE(at["ALPINE-CVE-2023-3817"].affected) << "two identifiers in one string";
  EXPECT_EQ(db.affected("Alpine:v3.19", "busybox").size(), 1u) << "a note after the identifier";
  EXPECT_EQ(db.affected("Alpine:v3.19", "go").size(), 1u) << "one advisory over two files";
  EXPECT_EQ(db.advisory("ALPINE-CVE-2023-5678")->aliases,
            std::vector<std::string>{"CVE-2023-5678"});
  // main.json alone later: community's go row stays.
  EXPECT_EQ(db.import({main}).value().unchanged, 4u);
  EXPECT_EQ(db.affected("Alpine:v3.19", "go").size(), 1u);
  std::string nodistro = d.write("bad.json", R"({"packages": []})");
  auto bad = db.import({nodistro});
  ASSERT_EQ(bad.value().errors.size(), 1u);
  EXPECT_NE(bad.value().errors[0].message.find("distroversion"), std::string::npos);
}

}  // namespace
}  // namespace kh::vuln
