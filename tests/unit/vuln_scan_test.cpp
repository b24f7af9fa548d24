// `kubeharden image scan --db`: an AlmaLinux 9 image with a real rpm database (firefox from
// rpmbuild) and two Python packages, matched against the real AlmaLinux and PyPI advisories.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <sqlite3.h>

#include <map>
#include <set>

#include "tests/unit/image_util.h"
#include "tests/unit/test_util.h"
#include "vuln/db.h"
#include "vuln/scan.h"

namespace kh::vuln {
namespace {

using image::fixtures::shell;
using image::fixtures::tarOf;

TEST(VulnScan, ImageAgainstTheRealAdvisories) {
  KH_NEED_SHARED(vulndata, "vulndata");
  kh::test::TempDir d;
  std::string out;
  d.write("top/SPECS/f.spec",
          "Name: firefox\nVersion: 91.0.0\nRelease: 1.el9\nSummary: t\nLicense: MPL-2.0\n"
          "BuildArch: noarch\n%description\nt\n%files\n");
  ASSERT_EQ(shell(fmt::format("cd {0} && rpmbuild --quiet --define '_topdir {0}/top' -bb "
                              "top/SPECS/f.spec && mkdir db && rpm --dbpath {0}/db --initdb && "
                              "rpm --dbpath {0}/db -i --justdb --nodeps top/RPMS/noarch/*.rpm",
                              d.path()),
                  &out),
            0)
      << out;
  std::string layer =
      tarOf({{"etc/os-release", "ID=\"almalinux\"\nVERSION_ID=\"9.3\"\n"},
             {"var/lib/rpm/rpmdb.sqlite", kh::test::readFile(d.path() + "/db/rpmdb.sqlite")},
             {"usr/lib/python3.9/site-packages/rdiffweb-2.4.2.dist-info/METADATA",
              "Metadata-Version: 2.1\nName: rdiffweb\nVersion: 2.4.2\n"},
             {"usr/lib/python3.9/site-packages/Django-3.2.0.dist-info/METADATA",
              "Metadata-Version: 2.1\nName: Django\nVersion: 3.2.0\n"},
             {"usr/lib/python3.9/site-packages/safe_pkg-1.0.dist-info/METADATA",
              "Metadata-Version: 2.1\nName: safe-pkg\nVersion: 1.0\n"}});
  std::string img = d.write(
      "img.tar", tarOf({{"manifest.json", R"([{"Config":"c.json","Layers":["l/layer.tar"]}])"},
                        {"c.json", image::fixtures::config({layer})},
                        {"l/layer.tar", layer}}));
  std::string db = d.path() + "/v.db";
  auto imp = kh::test::runCli(fmt::format("image db import --db {} {}/pypi {}/almalinux/almalinux9",
                                          db, vulndata, vulndata));
  ASSERT_EQ(imp.exit_code, 0) << imp.err;

  auto json = kh::test::runCli(fmt::format("image scan -f json --no-secrets --db {} {}", db, img));
  ASSERT_EQ(json.exit_code, 0) << json.err;
  rapidjson::Document doc;
  doc.Parse(json.out.c_str());
  ASSERT_FALSE(doc.HasParseError());
  const auto& vulns = doc["images"][0]["vulnerabilities"];
  std::set<std::string> packages, ids;
  std::string firefox_severity, rdiff_fixed;
  for (const auto& v : vulns.GetArray()) {
    packages.insert(v["package"]["name"].GetString());
    ids.insert(v["id"].GetString());
    if (std::string_view(v["package"]["name"].GetString()) == "firefox")
      firefox_severity = v["severity"].GetString();
    if (std::string_view(v["id"].GetString()) == "PYSEC-2022-278")
      rdiff_fixed = v["fixed"].GetString();
  }
  EXPECT_EQ(packages, (std::set<std::string>{"Django", "firefox", "rdiffweb"}));
  EXPECT_TRUE(ids.count("PYSEC-2022-278")) << "rdiffweb < 2.4.3";
  EXPECT_EQ(rdiff_fixed, "2.4.3");
  EXPECT_EQ(firefox_severity, "high") << "AlmaLinux's \"Important:\" summaries";
  EXPECT_GT(vulns.Size(), 20u);
  EXPECT_NE(json.out.find(R"("ecosystem":"AlmaLinux:9")"), std::string::npos);

  // Filters and the exit code.
  auto high =
      kh::test::runCli(fmt::format("image scan -f json --no-secrets --db {} --severity high "
                                   "--ignore-unfixed {}",
                                   db, img));
  rapidjson::Document h;
  h.Parse(high.out.c_str());
  ASSERT_FALSE(h.HasParseError());
  for (const auto& v : h["images"][0]["vulnerabilities"].GetArray()) {
    EXPECT_STREQ(v["severity"].GetString(), "high");
    EXPECT_TRUE(v["fixed"].IsString());
  }
  EXPECT_GT(h["images"][0]["vulnerabilities"].Size(), 0u);
  EXPECT_LT(h["images"][0]["vulnerabilities"].Size(), vulns.Size());
  EXPECT_EQ(
      kh::test::runCli(fmt::format("image scan --no-secrets --db {} --fail-on high {}", db, img))
          .exit_code,
      1);
  auto text = kh::test::runCli(fmt::format("image scan --no-secrets --db {} {}", db, img));
  EXPECT_NE(text.out.find("vulnerabilities: "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("PYSEC-2022-278 rdiffweb 2.4.2 -> 2.4.3"), std::string::npos) << text.out;
  // CycloneDX carries them in `vulnerabilities`, valid against the official schema.
  auto cdx = kh::test::runCli(fmt::format(
      "image scan --no-secrets --db {} -f cyclonedx={}/bom.json {}", db, d.path(), img));
  ASSERT_EQ(cdx.exit_code, 0) << cdx.err;
  std::string bom = kh::test::readFile(d.path() + "/bom.json");
  EXPECT_NE(bom.find("\"vulnerabilities\""), std::string::npos);
  EXPECT_NE(bom.find("\"id\": \"PYSEC-2022-278\""), std::string::npos);
  ASSERT_EQ(image::fixtures::validateCycloneDx(d.path() + "/bom.json", &out), 0) << out;
  auto sarif =
      kh::test::runCli(fmt::format("image scan --no-secrets --db {} -f sarif {}", db, img));
  EXPECT_NE(sarif.out.find(R"("ruleId":"image-vulnerability")"), std::string::npos) << sarif.out;
  EXPECT_NE(sarif.out.find("PYSEC-2022-278 in rdiffweb 2.4.2 (unknown), fixed in 2.4.3"),
            std::string::npos);
  // The ignore file: by ID or alias, optionally per package, with reasons; a lapsed one is said
  // and no longer applies; a rule without a reason is refused with its line.
  std::string ignore =
      d.write("ignore.yaml",
              "vulnerabilities:\n"
              "  - id: PYSEC-2022-278\n    package: rdiffweb\n    reason: not exposed\n"
              "  - id: CVE-2021-35042\n    reason: ORM not used\n    expires: 2099-01-01\n"
              "  - id: PYSEC-2022-1\n    reason: old decision\n    expires: 2020-01-01\n");
  auto ig = kh::test::runCli(
      fmt::format("image scan -f json --no-secrets --db {} --ignore-file {} {}", db, ignore, img));
  ASSERT_EQ(ig.exit_code, 0) << ig.err;
  rapidjson::Document gi;
  gi.Parse(ig.out.c_str());
  ASSERT_FALSE(gi.HasParseError());
  std::set<std::string> left, gone;
  for (const auto& v : gi["images"][0]["vulnerabilities"].GetArray())
    left.insert(v["id"].GetString());
  for (const auto& v : gi["images"][0]["ignoredVulnerabilities"].GetArray())
    gone.insert(v["id"].GetString());
  EXPECT_EQ(gone, (std::set<std::string>{"PYSEC-2022-278", "PYSEC-2021-109"}))
      << "by ID, and by alias";
  EXPECT_FALSE(left.count("PYSEC-2022-278"));
  EXPECT_TRUE(left.count("PYSEC-2022-1")) << "lapsed";
  EXPECT_EQ(left.size() + gone.size(), vulns.Size());
  EXPECT_NE(ig.err.find("the ignore of PYSEC-2022-1 expired on 2020-01-01"), std::string::npos)
      << ig.err;
  std::string bad = d.write("bad.yaml", "vulnerabilities:\n  - id: CVE-1\n");
  auto refused =
      kh::test::runCli(fmt::format("image scan --db {} --ignore-file {} {}", db, bad, img));
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("bad.yaml:2"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("needs a `reason`"), std::string::npos) << refused.err;
  EXPECT_EQ(
      kh::test::runCli(fmt::format("image scan --db {} --severity bogus {}", db, img)).exit_code,
      2);
  EXPECT_EQ(kh::test::runCli(fmt::format("image scan --db {}/none.db {}", d.path(), img)).exit_code,
            3);
}

// Distribution data in the distributions' own formats: a Debian 12 image against the security
// tracker's JSON (by source package), an Alpine 3.19 image against secdb (by origin).
TEST(VulnScan, DebianTrackerAndAlpineSecdb) {
  kh::test::TempDir d;
  auto image = [&](const std::string& name, std::vector<image::fixtures::Member> files) {
    return d.write(name,
                   tarOf({{"manifest.json", R"([{"Config":"c.json","Layers":["l/layer.tar"]}])"},
                          {"c.json", image::fixtures::config({tarOf(files)})},
                          {"l/layer.tar", tarOf(files)}}));
  };
  std::string debian = image(
      "debian.tar",
      {{"etc/os-release", "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n"},
       {"var/lib/dpkg/status",
        "Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nSource: openssl\n"
        "Version: 3.0.9-1\n\nPackage: openssl\nStatus: install ok installed\nArchitecture: amd64\n"
        "Version: 3.0.11-1~deb12u1\n\nPackage: libc6\nStatus: install ok installed\n"
        "Architecture: amd64\nSource: glibc\nVersion: 2.36-9+deb12u3\n"}});
  std::string alpine =
      image("alpine.tar", {{"etc/os-release", "ID=alpine\nVERSION_ID=3.19.1\n"},
                           {"etc/alpine-release", "3.19.1\n"},
                           {"lib/apk/db/installed",
                            "P:libcrypto3\nV:3.1.2-r0\nA:x86_64\no:openssl\nL:Apache-2.0\n\n"
                            "P:busybox\nV:1.36.1-r15\nA:x86_64\no:busybox\nL:GPL-2.0-only\n"}});
  std::string tracker =
      d.write("tracker.json", R"({"openssl": {"CVE-2023-0001": {"description": "Overflow in X",
    "releases": {"bookworm": {"status": "resolved", "fixed_version": "3.0.11-1~deb12u1", "urgency": "medium"}}}},
    "glibc": {"CVE-2023-0002": {"releases": {"bookworm": {"status": "resolved", "fixed_version": "2.36-9+deb12u3", "urgency": "high"}}}}})");
  std::string secdb = d.write("main.json", R"({"distroversion": "v3.19", "packages": [
    {"pkg": {"name": "openssl", "secfixes": {"3.1.4-r1": ["CVE-2023-5678"], "3.1.2-r0": ["CVE-2023-3446"]}}},
    {"pkg": {"name": "busybox", "secfixes": {"1.36.1-r2": ["CVE-2022-48174"]}}}]})");
  std::string db = d.path() + "/v.db";
  auto imp = kh::test::runCli(fmt::format("image db import --db {} {} {}", db, tracker, secdb));
  ASSERT_EQ(imp.exit_code, 0) << imp.err;
  auto found = [&](const std::string& img) {
    auto r = kh::test::runCli(fmt::format("image scan -f json --no-secrets --db {} {}", db, img));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    rapidjson::Document doc;
    doc.Parse(r.out.c_str());
    std::set<std::string> out;
    if (doc.HasParseError()) return out;
    for (const auto& v : doc["images"][0]["vulnerabilities"].GetArray())
      out.insert(fmt::format("{} {} {} {} {}", v["id"].GetString(),
                             v["package"]["name"].GetString(), v["package"]["version"].GetString(),
                             v.HasMember("fixed") ? v["fixed"].GetString() : "-",
                             v["severity"].GetString()));
    return out;
  };
  EXPECT_EQ(found(debian),
            (std::set<std::string>{"DEBIAN-CVE-2023-0001 libssl3 3.0.9-1 3.0.11-1~deb12u1 medium"}))
      << "openssl is fixed and glibc is at the fix: only libssl3 (source openssl) is affected";
  EXPECT_EQ(found(alpine),
            (std::set<std::string>{"ALPINE-CVE-2023-5678 libcrypto3 3.1.2-r0 3.1.4-r1 unknown"}))
      << "by origin; busybox is past its fix";

  // With a rated advisory of the same CVE in the database, the secdb finding borrows its rating:
  // named in JSON and as the rating's source in CycloneDX (valid against the schema).
  std::string ghsa =
      d.write("ghsa.json", R"({"id":"GHSA-aaaa-bbbb-cccc","modified":"2024-01-01T00:00:00Z",
    "aliases":["CVE-2023-5678"],"severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}],
    "affected":[{"package":{"ecosystem":"crates.io","name":"openssl-sys"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]}]})");
  ASSERT_EQ(kh::test::runCli(fmt::format("image db import --db {} {}", db, ghsa)).exit_code, 0);
  EXPECT_EQ(found(alpine),
            (std::set<std::string>{"ALPINE-CVE-2023-5678 libcrypto3 3.1.2-r0 3.1.4-r1 high"}));
  auto js = kh::test::runCli(fmt::format("image scan -f json --no-secrets --db {} {}", db, alpine));
  EXPECT_NE(js.out.find(R"("severityFrom":"GHSA-aaaa-bbbb-cccc")"), std::string::npos) << js.out;
  auto cdx = kh::test::runCli(fmt::format(
      "image scan --no-secrets --db {} -f cyclonedx={}/bom.json {}", db, d.path(), alpine));
  ASSERT_EQ(cdx.exit_code, 0) << cdx.err;
  std::string bom = kh::test::readFile(d.path() + "/bom.json");
  EXPECT_NE(bom.find(R"("name": "GHSA-aaaa-bbbb-cccc")"), std::string::npos) << bom;
  std::string out;
  EXPECT_EQ(image::fixtures::validateCycloneDx(d.path() + "/bom.json", &out), 0) << out;
}

// One vulnerability described by several databases (PYSEC and GHSA for one CVE) is one finding:
// the ecosystem's own ID, the others as aliases, the severity of the one that has a vector;
// links are followed through shared aliases; other packages and other CVEs stay apart.
TEST(VulnScan, AdvisoriesOfOneVulnerabilityAreMerged) {
  kh::test::TempDir d;
  auto osv = [](std::string_view id, std::string_view aliases, std::string_view name,
                std::string_view fixed, std::string_view severity) {
    return fmt::format(
        R"({{"id":"{}","modified":"2024-01-01T00:00:00Z","aliases":[{}],{}"affected":[{{"package":{{"ecosystem":"PyPI","name":"{}"}},"ranges":[{{"type":"ECOSYSTEM","events":[{{"introduced":"0"}}{}]}}]}}]}})",
        id, aliases,
        severity.empty()
            ? ""
            : fmt::format(R"("severity":[{{"type":"CVSS_V3","score":"{}"}}],)", severity),
        name, fixed.empty() ? "" : fmt::format(R"(,{{"fixed":"{}"}})", fixed));
  };
  const char* high = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N";  // 7.5
  d.write("a/PYSEC-1.json",
          osv("PYSEC-1", R"("CVE-2099-1","GHSA-aaaa")", "requests", "2.31.0", ""));
  d.write("a/GHSA-aaaa.json", osv("GHSA-aaaa", R"("CVE-2099-1")", "requests", "2.31.1", high));
  // Linked through CVE-2099-3 only: GHSA-bbbb -> CVE-2099-2 and CVE-2099-3 <- PYSEC-3.
  d.write("a/PYSEC-2.json", osv("PYSEC-2", R"("CVE-2099-2")", "requests", "", ""));
  d.write("a/GHSA-bbbb.json", osv("GHSA-bbbb", R"("CVE-2099-2","CVE-2099-3")", "requests", "", ""));
  d.write("a/PYSEC-3.json", osv("PYSEC-3", R"("CVE-2099-3")", "requests", "2.40.0", ""));
  d.write("a/PYSEC-4.json", osv("PYSEC-4", R"("CVE-2099-4")", "requests", "", ""));
  d.write("a/GHSA-cccc.json", osv("GHSA-cccc", R"("CVE-2099-1")", "urllib3", "2.0.0", ""));
  auto opened = VulnDb::open(d.path() + "/v.db", true);
  ASSERT_TRUE(opened);
  ASSERT_EQ(opened.value()->import({d.path() + "/a"}).value().inserted, 7u);
  image::Inventory inv;
  inv.packages.resize(2);
  inv.packages[0].type = inv.packages[1].type = "pypi";
  inv.packages[0].name = "requests";
  inv.packages[0].version = "2.25.0";
  inv.packages[1].name = "urllib3";
  inv.packages[1].version = "1.26.0";
  std::vector<std::string> got;
  for (const Vulnerability& v : findVulnerabilities(*opened.value(), inv))
    got.push_back(fmt::format("{} {} [{}] fixed={} {}", v.package->name, v.id,
                              fmt::join(v.aliases, ","), v.fixed, v.severity));
  // urllib3's GHSA-cccc is not merged with requests' findings (another package), but rated by
  // GHSA-aaaa's vector for the CVE they share (see SeverityIsBorrowedThroughAliases).
  EXPECT_EQ(got,
            (std::vector<std::string>{
                "requests PYSEC-1 [CVE-2099-1,GHSA-aaaa] fixed=2.31.1 high",
                "requests PYSEC-2 [CVE-2099-2,CVE-2099-3,GHSA-bbbb,PYSEC-3] fixed=2.40.0 unknown",
                "requests PYSEC-4 [CVE-2099-4] fixed= unknown",
                "urllib3 GHSA-cccc [CVE-2099-1] fixed=2.0.0 high"}));
}

// A finding no database of its own rated (Alpine's secdb has no severities) takes the highest
// CVSS rating of another stored advisory of the same CVE, and names it; a rating word of its own
// (the Debian tracker's urgency) is kept; withdrawn advisories lend nothing. A schema-2 database
// gains the name index when opened.
TEST(VulnScan, SeverityIsBorrowedThroughAliases) {
  kh::test::TempDir d;
  auto osv = [](std::string_view id, std::string_view alias, std::string_view vector,
                bool withdrawn) {
    return fmt::format(
        R"({{"id":"{}","modified":"2024-01-01T00:00:00Z",{}"aliases":["{}"],"severity":[{{"type":"CVSS_V3","score":"{}"}}],"affected":[{{"package":{{"ecosystem":"Ubuntu:22.04:LTS","name":"x"}},"ranges":[{{"type":"ECOSYSTEM","events":[{{"introduced":"0"}}]}}]}}]}})",
        id, withdrawn ? R"("withdrawn":"2024-02-01T00:00:00Z",)" : "", alias, vector);
  };
  const char* medium = "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:L/A:N";    // 4.8
  const char* critical = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";  // 9.8
  d.write("osv/UBUNTU-1.json", osv("UBUNTU-CVE-2023-5678", "CVE-2023-5678", medium, false));
  d.write("osv/GHSA-1.json", osv("GHSA-xxxx-yyyy-zzzz", "CVE-2023-5678", critical, false));
  d.write("osv/GHSA-2.json", osv("GHSA-wwww-wwww-wwww", "CVE-2023-0001", critical, true));
  d.write("osv/GHSA-3.json", osv("GHSA-vvvv-vvvv-vvvv", "CVE-2023-0002", critical, false));
  d.write("secdb/main.json", R"({"distroversion": "v3.19", "packages": [
    {"pkg": {"name": "openssl", "secfixes": {"3.1.4-r1": ["CVE-2023-5678", "CVE-2023-0001"],
                                              "3.1.5-r0": ["CVE-2023-0003"]}}}]})");
  d.write("tracker/t.json", R"({"glibc": {"CVE-2023-0002": {"releases": {"bookworm":
    {"status": "open", "urgency": "low"}}}}})");
  std::string db = d.path() + "/v.db";
  auto opened = VulnDb::open(db, true);
  ASSERT_TRUE(opened);
  ASSERT_TRUE(
      opened.value()->import({d.path() + "/osv", d.path() + "/secdb", d.path() + "/tracker"}));
  // One package on one OS: the findings as "ID severity score from=LENDER".
  auto findings = [](VulnDb& vdb, image::OsInfo os, const char* type, const char* name,
                     const char* source, const char* version) {
    image::Inventory inv;
    inv.os = std::move(os);
    inv.packages.resize(1);
    inv.packages[0].type = type;
    inv.packages[0].name = name;
    inv.packages[0].source_name = source;
    inv.packages[0].version = version;
    std::vector<std::string> got;
    for (const Vulnerability& v : findVulnerabilities(vdb, inv))
      got.push_back(fmt::format("{} {} {} from={}", v.id, v.severity, v.score, v.severity_from));
    return got;
  };
  auto scan = [&](VulnDb& vdb) {
    std::vector<std::string> got = findings(vdb, image::OsInfo{"alpine", "3.19.1", "", ""}, "apk",
                                            "libcrypto3", "openssl", "3.1.2-r0");
    for (std::string& f :
         findings(vdb, image::OsInfo{"debian", "12", "", ""}, "deb", "libc6", "glibc", "2.36-9"))
      got.push_back(std::move(f));
    return got;
  };
  const std::vector<std::string> want = {
      "ALPINE-CVE-2023-0001 unknown -1 from=",  // its only other source is withdrawn
      "ALPINE-CVE-2023-0003 unknown -1 from=",  // nobody rated it
      "ALPINE-CVE-2023-5678 critical 9.8 from=GHSA-xxxx-yyyy-zzzz",  // the highest of two
      "DEBIAN-CVE-2023-0002 low -1 from=",  // the tracker's own urgency stays
  };
  EXPECT_EQ(scan(*opened.value()), want);
  opened.value().reset();

  // The same file as schema 2 wrote it (no name index): opening it adds the index.
  auto* raw = static_cast<sqlite3*>(nullptr);
  ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "DROP TABLE names; UPDATE meta SET value = '2' WHERE key = 'schema'",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(raw);
  auto reopened = VulnDb::open(db, false);
  ASSERT_TRUE(reopened) << reopened.error().describe();
  EXPECT_EQ(scan(*reopened.value()), want);
  EXPECT_EQ(reopened.value()->status().value().schema, 3);
  reopened.value().reset();
  ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "UPDATE meta SET value = '1' WHERE key = 'schema'", nullptr, nullptr,
                         nullptr),
            SQLITE_OK);
  sqlite3_close(raw);
  auto old = VulnDb::open(db, false);
  ASSERT_FALSE(old);
  EXPECT_NE(old.error().message.find("schema 1"), std::string::npos) << old.error().message;
}

// A scan says when the database is more than 7 days old, and not before.
TEST(VulnScan, WarnsAboutAStaleDatabase) {
  kh::test::TempDir d;
  std::string layer = tarOf({{"etc/os-release", "ID=alpine\nVERSION_ID=3.19.1\n"}});
  std::string img =
      d.write("img.tar", tarOf({{"manifest.json", R"([{"Config":"c.json","Layers":["l.tar"]}])"},
                                {"c.json", image::fixtures::config({layer})},
                                {"l.tar", layer}}));
  std::string rec =
      d.write("r.json", R"({"id":"X-1","modified":"2024-01-01T00:00:00Z","affected":[]})");
  for (bool stale : {false, true}) {
    std::string db = d.path() + (stale ? "/old.db" : "/new.db");
    {
      auto opened = VulnDb::open(db, true);
      ASSERT_TRUE(opened);
      std::map<std::string, std::string> meta;
      if (stale) meta["updated"] = "2020-01-01T00:00:00Z";
      ASSERT_TRUE(opened.value()->import({rec}, meta));
    }
    auto r = kh::test::runCli(fmt::format("image scan --no-secrets --db {} {}", db, img));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    bool warned =
        r.err.find("the vulnerability database was last updated 2020-01-01T00:00:00Z (") !=
        std::string::npos;
    EXPECT_EQ(warned, stale) << r.err;
  }
}

}  // namespace
}  // namespace kh::vuln
