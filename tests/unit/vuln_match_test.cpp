// OSV matching semantics and CVSS v3 base scores.
#include <gtest/gtest.h>

#include <string>

#include "tests/unit/test_util.h"
#include "vuln/db.h"
#include "vuln/match.h"

namespace kh::vuln {
namespace {

std::string ranges(std::string_view type, std::string_view events, std::string_view versions = "") {
  std::string out = "{\"ranges\":[{\"type\":\"" + std::string(type) + "\",\"events\":[" +
                    std::string(events) + "]}]";
  if (!versions.empty()) out += ",\"versions\":[" + std::string(versions) + "]";
  return out + "}";
}

TEST(VulnMatch, IntroducedFixedLastAffectedLimit) {
  std::string r = ranges("ECOSYSTEM", R"({"introduced":"0"},{"fixed":"1.2"})");
  EXPECT_TRUE(affects(r, "PyPI", "1.1").affected);
  EXPECT_EQ(affects(r, "PyPI", "1.1").fixed, "1.2");
  EXPECT_TRUE(affects(r, "PyPI", "1.2rc1").affected) << "a pre-release of the fix is before it";
  EXPECT_FALSE(affects(r, "PyPI", "1.2").affected);
  EXPECT_FALSE(affects(r, "PyPI", "1.10").affected) << "ordered as versions, not strings";
  // Two windows in one range, events out of order.
  std::string two = ranges(
      "ECOSYSTEM", R"({"fixed":"2.3"},{"introduced":"2.0"},{"introduced":"1.0"},{"fixed":"1.5"})");
  EXPECT_FALSE(affects(two, "PyPI", "0.9").affected);
  EXPECT_TRUE(affects(two, "PyPI", "1.2").affected);
  EXPECT_EQ(affects(two, "PyPI", "1.2").fixed, "1.5");
  EXPECT_FALSE(affects(two, "PyPI", "1.7").affected);
  EXPECT_TRUE(affects(two, "PyPI", "2.1").affected);
  EXPECT_EQ(affects(two, "PyPI", "2.1").fixed, "2.3");
  EXPECT_FALSE(affects(two, "PyPI", "2.3").affected);
  // last_affected: that version included, none after it; no fix known.
  std::string last = ranges("ECOSYSTEM", R"({"introduced":"1.0"},{"last_affected":"1.4"})");
  EXPECT_TRUE(affects(last, "PyPI", "1.4").affected);
  EXPECT_EQ(affects(last, "PyPI", "1.4").fixed, "");
  EXPECT_FALSE(affects(last, "PyPI", "1.4.1").affected);
  // limit: nothing at or above it is judged affected by this range.
  std::string limit = ranges("ECOSYSTEM", R"({"introduced":"0"},{"limit":"2.0"})");
  EXPECT_TRUE(affects(limit, "PyPI", "1.9").affected);
  EXPECT_FALSE(affects(limit, "PyPI", "2.0").affected);
  // Explicit versions only.
  std::string listed = R"({"ranges":[],"versions":["1.0","1.0.1"]})";
  EXPECT_TRUE(affects(listed, "PyPI", "1.0.0").affected) << "1.0.0 == 1.0 in PEP 440";
  EXPECT_FALSE(affects(listed, "PyPI", "1.0.2").affected);
  // GIT ranges and unknown ecosystems are not judged; malformed JSON affects nothing.
  EXPECT_FALSE(affects(ranges("GIT", R"({"introduced":"0"})"), "PyPI", "1.0").affected);
  EXPECT_FALSE(affects(ranges("ECOSYSTEM", R"({"introduced":"0"})"), "Unknown:1", "1.0").affected);
  EXPECT_FALSE(affects("{broken", "PyPI", "1.0").affected);
}

TEST(VulnMatch, EcosystemOrders) {
  std::string deb = ranges("ECOSYSTEM", R"({"introduced":"0"},{"fixed":"1:2.36-9+deb12u4"})");
  EXPECT_TRUE(affects(deb, "Debian:12", "2.36-9+deb12u10").affected) << "epoch 0 < epoch 1";
  EXPECT_TRUE(affects(deb, "Debian:12", "1:2.36-9+deb12u3").affected);
  EXPECT_FALSE(affects(deb, "Debian:12", "1:2.36-9+deb12u10").affected) << "u10 > u4";
  std::string rpm = ranges("ECOSYSTEM", R"({"introduced":"0"},{"fixed":"128.12.0-1.el9_6"})");
  EXPECT_TRUE(affects(rpm, "AlmaLinux:9", "128.9.0-2.el9_6").affected);
  EXPECT_FALSE(affects(rpm, "AlmaLinux:9", "128.12.0-1.el9_6").affected);
  std::string apk = ranges("ECOSYSTEM", R"({"introduced":"0"},{"fixed":"3.1.4-r1"})");
  EXPECT_TRUE(affects(apk, "Alpine:v3.19", "3.1.4-r0").affected);
  EXPECT_FALSE(affects(apk, "Alpine:v3.19", "3.1.4-r5").affected);
  std::string go = ranges("SEMVER", R"({"introduced":"0"},{"fixed":"0.17.0"})");
  EXPECT_TRUE(affects(go, "Go", "v0.0.0-20220722155237-a158d28d115b").affected) << "pseudo-version";
  EXPECT_FALSE(affects(go, "Go", "v0.19.0").affected);
  std::string npm = ranges("SEMVER", R"({"introduced":"4.0.0"},{"fixed":"4.17.21"})");
  EXPECT_TRUE(affects(npm, "npm", "4.17.20").affected);
  EXPECT_FALSE(affects(npm, "npm", "4.17.21").affected);
  EXPECT_FALSE(affects(npm, "npm", "3.10.1").affected);
  EXPECT_EQ(normalisePackageName("PyPI", "Zope.Interface__x"), "zope-interface-x");
  EXPECT_EQ(normalisePackageName("npm", "@Scope/Pkg"), "@Scope/Pkg");
}

TEST(VulnMatch, RealAdvisoriesFromTheDatabase) {
  KH_NEED_SHARED(alma, "vulndata/almalinux/almalinux9");
  kh::test::TempDir d;
  auto db = VulnDb::open(d.path() + "/v.db", true);
  ASSERT_TRUE(db);
  ASSERT_TRUE(db.value()->import({alma}));
  auto rows = db.value()->affected("AlmaLinux:9", "firefox");
  ASSERT_GT(rows.size(), 5u);
  size_t old = 0, current = 0;
  for (const auto& r : rows) {
    old += affects(r.ranges_json, "AlmaLinux:9", "91.0.0-1.el9").affected;
    current += affects(r.ranges_json, "AlmaLinux:9", "999.0.0-1.el9").affected;
  }
  EXPECT_GT(old, 5u) << "an old firefox has many advisories";
  EXPECT_EQ(current, 0u) << "a future one none";
}

TEST(VulnCvss, BaseScoresFromVectors) {
  struct V {
    const char* vector;
    double score;
    const char* rating;
  };
  for (const V& v : {V{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "critical"},
                     V{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0, "critical"},
                     V{"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1, "medium"},
                     V{"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8, "high"},
                     V{"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", 5.9, "medium"},
                     V{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5, "high"},
                     V{"CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9, "critical"},
                     V{"CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.6, "low"},
                     V{"CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.8, "low"},
                     V{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0, "none"}}) {
    auto s = cvss3BaseScore(v.vector);
    ASSERT_TRUE(s) << v.vector;
    EXPECT_DOUBLE_EQ(*s, v.score) << v.vector;
    EXPECT_EQ(cvss3Rating(*s), v.rating) << v.vector;
  }
  EXPECT_FALSE(cvss3BaseScore("CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P"));
  EXPECT_FALSE(cvss3BaseScore("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H"));  // incomplete
  EXPECT_FALSE(cvss3BaseScore("CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"));
}

}  // namespace
}  // namespace kh::vuln
