// The Kubernetes version table (checks/cluster/versions.h): version parsing, the table's
// validation with positions, affected ranges at their boundaries, staleness, and the CLI's
// --now and --k8s-data.
#include <gtest/gtest.h>

#include "checks/cluster/versions.h"
#include "tests/unit/test_util.h"

namespace kh::test {
namespace {

using k8sver::parseDate;
using k8sver::parseVersion;

TEST(K8sVersions, ParsesWhatComponentsReport) {
  for (const char* s :
       {"v1.30.4", "1.30.4", "v1.30.4-eks-a737599", "v1.29.3+k3s1", "v1.31.0-gke.1014001"}) {
    auto v = parseVersion(s);
    ASSERT_TRUE(v) << s;
    EXPECT_EQ(v->major, 1);
    EXPECT_EQ(v->text, s);
  }
  EXPECT_EQ(parseVersion("v1.30.4-eks-a737599")->patch, 4);
  EXPECT_EQ(parseVersion("1.30")->patch, 0);
  for (const char* s : {"", "v", "1", "1.", "x1.30", "1.30.4x", "v1.-2.0", "1.30.4.5"})
    EXPECT_FALSE(parseVersion(s)) << s;
  EXPECT_LT(*parseVersion("v1.9.9"), *parseVersion("v1.10.0"));  // numeric, not textual
  EXPECT_EQ(*parseVersion("v1.30.4-eks-1"), *parseVersion("1.30.4"));
}

TEST(K8sVersions, BuiltInTableLoadsAndIsConsistent) {
  auto t = k8sver::loadTable("");
  ASSERT_TRUE(t) << t.error().describe();
  const k8sver::Table& table = *t.value();
  ASSERT_GE(table.releases.size(), 8u);
  EXPECT_TRUE(table.find(1, 27));
  EXPECT_EQ(table.oldest()->minor, 27);
  for (size_t i = 1; i < table.releases.size(); ++i)
    EXPECT_LT(table.releases[i].released, table.releases[i - 1].released);
  EXPECT_GE(table.cves.size(), 8u);
}

std::string table(const std::string& releases, const std::string& cves = "[]") {
  return "{\"schema\": 1, \"updated\": \"2025-09-10\",\n\"releases\": " + releases +
         ",\n\"cves\": " + cves + "}";
}

TEST(K8sVersions, TableErrorsNameTheLine) {
  const std::string ok_release =
      R"([{"minor": "1.30", "released": "2024-04-17", "maintenance": "2025-04-28", "endOfLife": "2025-06-28"}])";
  ASSERT_TRUE(k8sver::parseTable(table(ok_release), "t.json"));
  struct Case {
    std::string text, want;
  } cases[] = {
      {table(
           R"([{"minor": "1.30", "released": "2024-13-17", "maintenance": "2025-04-28", "endOfLife": "2025-06-28"}])"),
       "t.json:2:"},
      {table(
           R"([{"minor": "1.30", "released": "2024-04-17", "maintenance": "2025-04-28", "endOfLife": "2025-06-28"},
{"minor": "1.30", "released": "2024-04-17", "maintenance": "2025-04-28", "endOfLife": "2025-06-28"}])"),
       "release 1.30 is listed twice"},
      {table(
           R"([{"minor": "1.30", "released": "2026-04-17", "maintenance": "2025-04-28", "endOfLife": "2025-06-28"}])"),
       "released <= maintenance <= endOfLife"},
      {table(
           ok_release,
           R"([{"id": "CVE-1", "component": "etcd", "severity": "high", "title": "t", "url": "u", "affected": [{"introduced": "0", "fixed": "1.30.1"}]}])"),
       "t.json:3:"},
      {table(
           ok_release,
           R"([{"id": "CVE-1", "component": "kubelet", "severity": "severe", "title": "t", "url": "u", "affected": [{"introduced": "0", "fixed": "1.30.1"}]}])"),
       "severity severe"},
      {table(
           ok_release,
           R"([{"id": "CVE-1", "component": "kubelet", "severity": "low", "title": "t", "url": "u", "affected": [{"introduced": "1.31.0", "fixed": "1.30.1"}]}])"),
       "introduced 1.31.0 is not before fixed 1.30.1"},
      {"{\"schema\": 2}", "schema"},
      {"[1, 2", "t.json:2:1: YAML syntax error"},
  };
  for (const Case& c : cases) {
    auto t = k8sver::parseTable(c.text, "t.json");
    ASSERT_FALSE(t) << c.text;
    EXPECT_NE(t.error().describe().find(c.want), std::string::npos)
        << t.error().describe() << "\nwanted: " << c.want;
  }
}

TEST(K8sVersions, AffectedRangesAreExactAtTheirBoundaries) {
  k8sver::Cve c;
  c.affected = {{std::nullopt, *parseVersion("1.28.12")},
                {parseVersion("1.29.0"), *parseVersion("1.29.7")},
                {parseVersion("1.32.0"), *parseVersion("1.32.6")}};
  for (const char* v : {"1.20.0", "1.28.11", "1.29.0", "1.29.6", "1.32.0", "1.32.5-eks-1"})
    EXPECT_TRUE(c.affects(*parseVersion(v))) << v;
  // 1.31: a minor between ranges whose fix came before 1.32's bug.
  for (const char* v : {"1.28.12", "1.29.7", "1.30.0", "1.31.9", "1.32.6", "1.33.0"})
    EXPECT_FALSE(c.affects(*parseVersion(v))) << v;
  EXPECT_EQ(c.fixedFor(*parseVersion("1.29.3")), "1.29.7");
  EXPECT_EQ(c.fixedFor(*parseVersion("1.27.3")), "1.28.12");
}

TEST(K8sVersions, StaleAfter120Days) {
  auto t = k8sver::loadTable("");
  ASSERT_TRUE(t);
  k8sver::Date updated = t.value()->updated;
  EXPECT_FALSE(k8sver::staleWarning(*t.value(), updated + std::chrono::days(120)));
  auto w = k8sver::staleWarning(*t.value(), updated + std::chrono::days(121));
  ASSERT_TRUE(w);
  EXPECT_NE(w->find("121 days old"), std::string::npos) << *w;
  EXPECT_EQ(k8sver::formatDate(*parseDate("2024-02-29")), "2024-02-29");
  EXPECT_FALSE(parseDate("2025-02-29"));
  EXPECT_EQ(k8sver::allowedKubeletSkew(*parseVersion("1.27.3")), 2);
  EXPECT_EQ(k8sver::allowedKubeletSkew(*parseVersion("1.28.0")), 3);
}

TEST(K8sVersions, NowAndDataFlags) {
  TempDir d;
  std::string info = d.write("info.yaml", R"(apiVersion: kubeharden.io/v1
kind: ClusterInfo
metadata: {name: prod}
version: {gitVersion: v1.33.2}
)");
  // Before 1.33's end of life: the patch level and CVE findings, no end of life; fresh table.
  auto before = runCli("scan --fail-on none --now 2025-09-15 " + info);
  ASSERT_EQ(before.exit_code, 0) << before.err;
  EXPECT_NE(before.out.find("cluster-version-patch"), std::string::npos) << before.out;
  EXPECT_NE(before.out.find("CVE-2025-5187"), std::string::npos) << before.out;
  EXPECT_EQ(before.out.find("cluster-version-end-of-life"), std::string::npos) << before.out;
  EXPECT_EQ(before.out.find("k8s-data-stale"), std::string::npos) << before.out;
  // After: end of life (and the patch finding gives way to it), and the table is stale.
  auto after = runCli("scan --fail-on none --now 2026-07-01 " + info);
  ASSERT_EQ(after.exit_code, 0) << after.err;
  EXPECT_NE(after.out.find("cluster-version-end-of-life"), std::string::npos) << after.out;
  EXPECT_NE(after.out.find("reached end of life on 2026-06-28 (3 days ago)"), std::string::npos)
      << after.out;
  EXPECT_EQ(after.out.find("cluster-version-patch"), std::string::npos) << after.out;
  EXPECT_NE(after.out.find("k8s-data-stale"), std::string::npos) << after.out;
  // A table of one's own: 1.33 ends in 2030 and 1.33.2 is its newest patch.
  std::string own = d.write(
      "k8s.json",
      table(
          R"([{"minor": "1.33", "released": "2025-04-23", "maintenance": "2030-01-01", "endOfLife": "2030-02-01", "latestPatch": "1.33.2"}])"));
  auto mine = runCli("scan --fail-on none --now 2025-09-15 --k8s-data " + own + " " + info);
  ASSERT_EQ(mine.exit_code, 0) << mine.err;
  EXPECT_EQ(mine.out.find("cluster-version-"), std::string::npos) << mine.out;
  // Bad flags: usage errors naming the problem.
  auto bad_date = runCli("scan --now 2025-02-30 " + info);
  EXPECT_EQ(bad_date.exit_code, 2);
  EXPECT_NE(bad_date.err.find("--now: 2025-02-30 is not a date"), std::string::npos)
      << bad_date.err;
  std::string broken = d.write("broken.json", "{\"schema\": 1,\n\"updated\": \"soon\"}");
  auto bad_table = runCli("scan --k8s-data " + broken + " " + info);
  EXPECT_EQ(bad_table.exit_code, 2);
  EXPECT_NE(bad_table.err.find(broken + ":2:"), std::string::npos) << bad_table.err;
  auto missing = runCli("scan --k8s-data " + d.path() + "/none.json " + info);
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("cannot read the version table"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace kh::test
