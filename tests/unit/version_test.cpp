// Version comparison, per ecosystem: the upstream projects' published comparison cases written
// here as facts (A, B, expected order), and the ecosystems' own tools as live oracles on
// generated pairs (dpkg --compare-versions; rpm's own rpmvercmp through `rpm --eval` Lua).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "tests/unit/image_util.h"
#include "tests/unit/test_util.h"
#include "vuln/version.h"

namespace kh::vuln {
namespace {

struct Case {
  const char* a;
  const char* b;
  int want;
};

int sign(int v) { return v < 0 ? -1 : v > 0 ? 1 : 0; }

// dpkg's own comparison table (Dpkg::Version tests) and Debian policy's examples.
const Case kDebian[] = {
    {"1.0-1", "2.0-2", -1},
    {"2.2~rc-4", "2.2-1", -1},
    {"2.2-1", "2.2~rc-4", 1},
    {"1.0000-1", "1.0-1", 0},
    {"1", "0:1", 0},
    {"0", "0:0-0", 0},
    {"2:2.5", "1:7.5", 1},
    {"1:0foo", "0foo", 1},
    {"0:0foo", "0foo", 0},
    {"0foo", "0foo", 0},
    {"0foo-0", "0foo", 0},
    {"0foo", "0foo-0", 0},
    {"0foo", "0fo", 1},
    {"0foo-0", "0foo+", -1},
    {"0foo~1", "0foo", -1},
    {"0foo~foo+Bar", "0foo~foo+bar", -1},
    {"0foo~~", "0foo~", -1},
    {"1~", "1", -1},
    {"12345+that-really-is-some-ver-0", "12345+that-really-is-some-ver-10", -1},
    {"0foo-0foo", "0foo-0foo", 0},
    {"1.0~rc1", "1.0", -1},
    {"1.0", "1.0+b1", -1},
    {"1.0-1~bpo11+1", "1.0-1", -1},
    {"1:1.2.13.dfsg-1", "1.2.13.dfsg-1", 1},
    {"3.0.11-1~deb12u2", "3.0.11-1", -1},
    {"3.0.11-1~deb12u2", "3.0.11-1~deb12u1", 1},
    {"2.36-9+deb12u4", "2.36-9+deb12u10", -1},
    {"1.1-20080727-1", "1.1-20080316-1", 1},
    {"a", "A", 1},
    {"1.0a", "1.0+", -1},
    {"1.0.", "1.0", 1},
    {"7.88.1-10+deb12u5", "7.88.1-10+deb12u12", -1},
};

// rpm's own test table (rpmvercmp.at).
const Case kRpm[] = {
    {"1.0", "1.0", 0},
    {"1.0", "2.0", -1},
    {"2.0", "1.0", 1},
    {"2.0.1", "2.0.1", 0},
    {"2.0", "2.0.1", -1},
    {"2.0.1", "2.0", 1},
    {"2.0.1a", "2.0.1a", 0},
    {"2.0.1a", "2.0.1", 1},
    {"2.0.1", "2.0.1a", -1},
    {"5.5p1", "5.5p1", 0},
    {"5.5p1", "5.5p2", -1},
    {"5.5p2", "5.5p1", 1},
    {"5.5p10", "5.5p10", 0},
    {"5.5p1", "5.5p10", -1},
    {"5.5p10", "5.5p1", 1},
    {"10xyz", "10.1xyz", -1},
    {"10.1xyz", "10xyz", 1},
    {"xyz10", "xyz10", 0},
    {"xyz10", "xyz10.1", -1},
    {"xyz10.1", "xyz10", 1},
    {"xyz.4", "xyz.4", 0},
    {"xyz.4", "8", -1},
    {"8", "xyz.4", 1},
    {"xyz.4", "2", -1},
    {"2", "xyz.4", 1},
    {"5.5p2", "5.6p1", -1},
    {"5.6p1", "5.5p2", 1},
    {"5.6p1", "6.5p1", -1},
    {"6.5p1", "5.6p1", 1},
    {"6.0.rc1", "6.0", 1},
    {"6.0", "6.0.rc1", -1},
    {"10b2", "10a1", 1},
    {"10a2", "10b2", -1},
    {"1.0aa", "1.0aa", 0},
    {"1.0a", "1.0aa", -1},
    {"1.0aa", "1.0a", 1},
    {"10.0001", "10.0001", 0},
    {"10.0001", "10.1", 0},
    {"10.1", "10.0001", 0},
    {"10.0001", "10.0039", -1},
    {"10.0039", "10.0001", 1},
    {"4.999.9", "5.0", -1},
    {"5.0", "4.999.9", 1},
    {"20101121", "20101121", 0},
    {"20101121", "20101122", -1},
    {"20101122", "20101121", 1},
    {"2_0", "2_0", 0},
    {"2.0", "2_0", 0},
    {"2_0", "2.0", 0},
    {"a", "a", 0},
    {"a+", "a+", 0},
    {"a+", "a_", 0},
    {"a_", "a+", 0},
    {"+a", "+a", 0},
    {"+a", "_a", 0},
    {"_a", "+a", 0},
    {"+_", "+_", 0},
    {"_+", "+_", 0},
    {"_+", "_", 0},
    {"+", "_", 0},
    {"_", "+", 0},
    {"1.0~rc1", "1.0~rc1", 0},
    {"1.0~rc1", "1.0", -1},
    {"1.0", "1.0~rc1", 1},
    {"1.0~rc1", "1.0~rc2", -1},
    {"1.0~rc2", "1.0~rc1", 1},
    {"1.0~rc1~git123", "1.0~rc1~git123", 0},
    {"1.0~rc1~git123", "1.0~rc1", -1},
    {"1.0~rc1", "1.0~rc1~git123", 1},
    {"1.0^", "1.0^", 0},
    {"1.0^", "1.0", 1},
    {"1.0", "1.0^", -1},
    {"1.0^git1", "1.0^git1", 0},
    {"1.0^git1", "1.0", 1},
    {"1.0", "1.0^git1", -1},
    {"1.0^git1", "1.0^git2", -1},
    {"1.0^git2", "1.0^git1", 1},
    {"1.0^git1", "1.01", -1},
    {"1.01", "1.0^git1", 1},
    {"1.0^20160101", "1.0^20160101", 0},
    {"1.0^20160101", "1.0.1", -1},
    {"1.0.1", "1.0^20160101", 1},
    {"1.0^20160101^git1", "1.0^20160101^git1", 0},
    {"1.0^20160102", "1.0^20160101^git1", 1},
    {"1.0^20160101^git1", "1.0^20160102", -1},
    {"1.0~rc1^git1", "1.0~rc1^git1", 0},
    {"1.0~rc1^git1", "1.0~rc1", 1},
    {"1.0~rc1", "1.0~rc1^git1", -1},
    {"1.0^git1~pre", "1.0^git1~pre", 0},
    {"1.0^git1", "1.0^git1~pre", 1},
    {"1.0^git1~pre", "1.0^git1", -1},
    {"1b.fc17", "1b.fc17", 0},
    {"1b.fc17", "1.fc17", -1},
    {"1.fc17", "1b.fc17", 1},
    {"1g.fc17", "1g.fc17", 0},
    {"1g.fc17", "1.fc17", 1},
    {"1.fc17", "1g.fc17", -1},
};

// apk-tools' comparison table (test/version.data), a selection covering every token kind:
// suffixes before and after the release, letters, fractions with leading zeros, revisions,
// several suffixes, and tokens apk does not accept. No apk tool exists on Debian to ask live.
const Case kApk[] = {
    {"2.34", "0.1.0_alpha", 1},
    {"23_foo", "4_beta", 1},
    {"1.0", "1.0bc", -1},
    {"0.1.0_alpha", "0.1.0_alpha", 0},
    {"0.1.0_alpha", "0.1.3_alpha", -1},
    {"0.1.0_alpha2", "0.1.0_alpha", 1},
    {"0.1.0_alpha", "2.2.39-r1", -1},
    {"1.0.4-r3", "1.0.4-r4", -1},
    {"1.1", "1.1_alpha1", 1},
    {"1.2.1", "1.2", 1},
    {"1.2", "1.3_alpha", -1},
    {"1.3_alpha", "1.3_alpha2", -1},
    {"0.7.0", "0.8_beta1", -1},
    {"3.10.18-r1", "2.3.0b-r1", 1},
    {"2.3.0b-r1", "2.3.0b-r2", -1},
    {"0.12.3", "0.12", 1},
    {"0.12", "0.13_beta1", -1},
    {"1.2.11", "1.2.12.1", -1},
    {"0.2.0-r1", "3.1_p16", -1},
    {"3.1_p16", "3.1_p17", -1},
    {"3.1_p17", "1.06-r6", 1},
    {"1.06-r6", "006", -1},
    {"006", "1.0.0", 1},
    {"1.2.2-r1", "1.2.2", 1},
    {"9.3.4-r2", "9.3.4", 1},
    {"2.59", "20050718-r1", -1},
    {"3.9.8-r5", "2.01.01_alpha10", 1},
    {"1.0", "0.99.3.20040818", 1},
    {"1.39", "1.00_beta2", 1},
    {"4.2.52_p2-r1", "4.2.52_p4-r2", -1},
    {"4.2.52_p4-r2", "1.02.07", 1},
    {"2.38", "20050405", -1},
    {"20060720", "3.0.20060720", 1},
    {"0.7.18-r2", "0.17-r6", -1},
    {"20040401", "2.0.0_rc3-r1", 1},
    {"3.0.0-r2", "021109-r3", -1},
    {"021109-r3", "20060512", -1},
    {"0.9.16-r1", "3.9_pre20060124", -1},
    {"1.1.7", "6b-r7", -1},
    {"0.10.0-r1", "0.10.0", 1},
    {"0.10.0", "0.10.1_rc1", -1},
    {"2.0.2", "1.1a", 1},
    {"1.1a", "1.3a", -1},
    {"1.0-r1", "0.15.1b", 1},
    {"0.15.1b-r2", "0.15.1b", 1},
    {"22.7-r1", "22.7.3-r1", -1},
    {"22.7", "2.1_pre20", 1},
    {"2.1_pre20", "2.1_pre26", -1},
    {"2.10.1", "02.08.01b", 1},
    {"3.81", "1.6d", 1},
    {"1.6d", "1.2.07.8", 1},
    {"1.2.07.8", "1.2.12.04", -1},
    {"2.5.1-r8", "2.5.1a-r1", -1},
    {"1.07-r1", "1.07.5", -1},
    {"0.1_pre20060810", "0.1_pre20060817", -1},
    {"3.3.17", "0.59s-r11", 1},
    {"0.20070118", "0.20070207_rc1", -1},
    {"4.5_p1-r1", "4.5_p1", 1},
    {"0.9.8c-r1", "0.9.8d", -1},
    {"2.2.3-r2", "013", -1},
    {"1.7", "1.7b", -1},
    {"1.8.5", "1.8.5_p2", -1},
    {"2.9.11_pre20051101-r3", "2.9.11_pre20051101", 1},
    {"1.6.8_p12-r1", "1.6.8_p9-r2", 1},
    {"0.9.28-r2", "0.9.28.1", -1},
    {"1.2.5_rc2", "0.1", 1},
    {"20040406-r1", "2.12r-r4", 1},
    {"2.12r-r4", "2.12r-r5", -1},
    {"7.0.17", "7.0.174", -1},
    {"0.3.4_pre20061029", "0.4.0", -1},
    {"1.3-r0", "1.3.1-r0", -1},
    {"1.3_pre1-r1", "1.3.2", -1},
    {"1.0_p10-r0", "1.0_p9-r0", 1},
    {"0.1.0_alpha_pre2", "0.1.0_alpha", -1},
    {"1.0.0_pre20191002222144-r0", "1.0.0_pre20210530193627-r0", -1},
};

TEST(VersionApk, UpstreamCases) {
  for (const Case& c : kApk) {
    EXPECT_EQ(sign(compareApk(c.a, c.b)), c.want) << c.a << " vs " << c.b;
    EXPECT_EQ(sign(compareApk(c.b, c.a)), -c.want) << c.b << " vs " << c.a;
  }
  EXPECT_EQ(compareApk("", ""), 0);
  EXPECT_EQ(sign(compareApk("1.2.4_git20230717-r4", "1.2.4-r4")), 1);
}

TEST(VersionDebian, UpstreamCases) {
  for (const Case& c : kDebian) {
    EXPECT_EQ(sign(compareDebian(c.a, c.b)), c.want) << c.a << " vs " << c.b;
    EXPECT_EQ(sign(compareDebian(c.b, c.a)), -c.want) << c.b << " vs " << c.a;
  }
}

TEST(VersionRpm, UpstreamCases) {
  for (const Case& c : kRpm) EXPECT_EQ(sign(rpmvercmp(c.a, c.b)), c.want) << c.a << " vs " << c.b;
  // Epoch and release.
  EXPECT_EQ(sign(compareRpm("1:1.0-1", "2.0-1")), 1);
  EXPECT_EQ(sign(compareRpm("0:1.0-1", "1.0-1")), 0);
  EXPECT_EQ(sign(compareRpm("1.0-1.el9", "1.0-2.el9")), -1);
  EXPECT_EQ(sign(compareRpm("1.0", "1.0-5.el9")), -1) << "a missing release is empty";
  EXPECT_EQ(sign(compareRpm("2.34-60.el9_2.7", "2.34-60.el9_2.14")), -1);
}

// Random versions from the characters that matter to both tools.
std::vector<std::string> generated(size_t n, bool debian, uint32_t seed) {
  static const char* kParts[] = {"0", "1", "2", "9", "10", "01", "a", "b", "rc", "~", "+", ".",
                                 "^", "_", "p", "git", "00", "fc", "el", "z"};
  std::mt19937 gen(seed);
  std::vector<std::string> out;
  while (out.size() < n) {
    std::string v = std::to_string(gen() % 4);
    int parts = static_cast<int>(gen() % 6);
    for (int i = 0; i < parts; ++i) {
      std::string p = kParts[gen() % (sizeof kParts / sizeof *kParts)];
      if (debian && (p == "^" || p == "_")) p = ".";
      v += p;
    }
    if (debian && gen() % 3 == 0) v += fmt::format("-{}{}", gen() % 3, gen() % 2 ? "~b" : "+d");
    if (debian && gen() % 4 == 0) v = fmt::format("{}:{}", gen() % 3, v);
    out.push_back(v);
  }
  return out;
}

TEST(VersionDebian, AgreesWithDpkg) {
  auto vs = generated(400, true, 42);
  std::string script;
  for (size_t i = 0; i + 1 < vs.size(); i += 2)
    script += fmt::format("if dpkg --compare-versions '{0}' lt '{1}'; then echo -1; elif "
                          "dpkg --compare-versions '{0}' eq '{1}'; then echo 0; else echo 1; fi\n",
                          vs[i], vs[i + 1]);
  kh::test::TempDir d;
  std::string out;
  ASSERT_EQ(image::fixtures::shell("sh " + d.write("cmp.sh", script), &out), 0) << out;
  size_t k = 0, start = 0;
  for (size_t i = 0; i + 1 < vs.size(); i += 2, ++k) {
    size_t nl = out.find('\n', start);
    ASSERT_NE(nl, std::string::npos);
    int want = std::stoi(out.substr(start, nl - start));
    start = nl + 1;
    EXPECT_EQ(sign(compareDebian(vs[i], vs[i + 1])), want) << vs[i] << " vs " << vs[i + 1];
  }
  EXPECT_EQ(k, 200u);
}

TEST(VersionRpm, AgreesWithRpm) {
  auto vs = generated(1000, false, 7);
  // A third of them as full EVRs: epoch, version, release.
  std::mt19937 gen(11);
  for (std::string& v : vs) {
    if (gen() % 3 == 0) v = fmt::format("{}:{}", gen() % 3, v);
    if (gen() % 3 == 0) v = fmt::format("{}-{}.el{}", v, gen() % 3, 8 + gen() % 2);
  }
  // One rpm process: its Lua runs rpm's own rpmvercmp over every pair.
  std::string lua = "local p = {";
  for (const std::string& v : vs) lua += fmt::format("\"{}\",", v);
  lua += "} for i = 1, #p - 1, 2 do print(rpm.vercmp(p[i], p[i+1]) .. \"\\n\") end";
  kh::test::TempDir d;
  std::string out;
  ASSERT_EQ(image::fixtures::shell(fmt::format("rpm --eval '%{{lua: {}}}'", lua), &out), 0) << out;
  size_t start = 0, k = 0;
  for (size_t i = 0; i + 1 < vs.size(); i += 2, ++k) {
    size_t nl = out.find('\n', start);
    ASSERT_NE(nl, std::string::npos) << out;
    int want = std::stoi(out.substr(start, nl - start));
    start = nl + 1;
    EXPECT_EQ(sign(compareRpm(vs[i], vs[i + 1])), sign(want)) << vs[i] << " vs " << vs[i + 1];
  }
  EXPECT_EQ(k, 500u);
}

}  // namespace
}  // namespace kh::vuln
