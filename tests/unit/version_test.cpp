// Version comparison, per ecosystem: the upstream projects' published comparison cases written
// here as facts (A, B, expected order), and the ecosystems' own tools as live oracles on
// generated pairs (dpkg --compare-versions; rpm's own rpmvercmp through `rpm --eval` Lua).
#include "vuln/version.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "tests/unit/image_util.h"
#include "tests/unit/test_util.h"

namespace kh::vuln {
namespace {

struct Case {
  const char* a;
  const char* b;
  int want;
};

int sign(int v) {
  return v < 0 ? -1 : v > 0 ? 1 : 0;
}

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

// packaging's own ordered list (tests/test_version.py), once without and once with an epoch.
const char* const kPep440Sorted[] = {"1.0.dev456",
                                     "1.0a1",
                                     "1.0a2.dev456",
                                     "1.0a12.dev456",
                                     "1.0a12",
                                     "1.0b1.dev456",
                                     "1.0b2",
                                     "1.0b2.post345.dev456",
                                     "1.0b2.post345",
                                     "1.0b2-346",
                                     "1.0c1.dev456",
                                     "1.0c1",
                                     "1.0rc2",
                                     "1.0c3",
                                     "1.0",
                                     "1.0.post456.dev34",
                                     "1.0.post456",
                                     "1.1.dev1",
                                     "1.2+123abc",
                                     "1.2+123abc456",
                                     "1.2+abc",
                                     "1.2+abc123",
                                     "1.2+abc123def",
                                     "1.2+1234.abc",
                                     "1.2+123456",
                                     "1.2.r32+123456",
                                     "1.2.rev33+123456"};

TEST(VersionPep440, UpstreamOrderAndSpellings) {
  std::vector<std::string> all;
  for (const char* v : kPep440Sorted) all.push_back(v);
  for (const char* v : kPep440Sorted) all.push_back(std::string("1!") + v);
  for (size_t i = 0; i < all.size(); ++i)
    for (size_t j = 0; j < all.size(); ++j)
      ASSERT_EQ(sign(comparePep440(all[i], all[j])), i < j   ? -1
                                                     : i > j ? 1
                                                             : 0)
          << all[i] << " vs " << all[j];
  // Normalisation (PEP 440's own examples).
  for (auto [a, b] : {std::pair{"1.0", "1.0.0"},
                      {"1.0-1", "1.0.post1"},
                      {"v1.0", "1.0"},
                      {"1.0ALPHA1", "1.0a1"},
                      {"1.0-c1", "1.0rc1"},
                      {"1.0.preview2", "1.0rc2"},
                      {"1.0+ubuntu-1", "1.0+ubuntu.1"},
                      {"1.0-dev", "1.0.dev0"},
                      {"1.0.post", "1.0.post0"},
                      {"1.0r", "1.0.post0"},
                      {" 1.0 ", "1.0"},
                      {"1.0+01", "1.0+1"},
                      {"0!1.0", "1.0"}})
    EXPECT_EQ(comparePep440(a, b), 0) << a << " == " << b;
  // Not PEP 440: before every valid version.
  EXPECT_LT(comparePep440("not-a-version", "0.0.1"), 0);
  EXPECT_GT(comparePep440("1.0", "1.0.x"), 0);
}

// Semantic Versioning 2.0.0, section 11: precedence.
TEST(VersionSemver, SpecOrder) {
  const char* sorted[] = {"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta",
                          "1.0.0-beta",  "1.0.0-beta.2",  "1.0.0-beta.11",
                          "1.0.0-rc.1",  "1.0.0",         "2.0.0",
                          "2.1.0",       "2.1.1"};
  size_t n = sizeof sorted / sizeof *sorted;
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n; ++j)
      EXPECT_EQ(sign(compareSemver(sorted[i], sorted[j])), i < j   ? -1
                                                           : i > j ? 1
                                                                   : 0)
          << sorted[i] << " vs " << sorted[j];
  EXPECT_EQ(compareSemver("1.0.0+build.1", "1.0.0+build.2"), 0) << "build metadata ignored";
  EXPECT_EQ(compareSemver("v1.2.3", "1.2.3"), 0);
  EXPECT_EQ(sign(compareSemver("1.10.0", "1.9.0")), 1);
  EXPECT_LT(compareSemver("01.2.3", "0.0.1"), 0) << "leading zeros are invalid: before valid ones";
}

// Generated pairs through a script run once: the tool prints -1, 0, 1 per pair, or X when it
// refuses the version (then ours must refuse it too: it sorts before every valid version).
std::vector<std::string> oracle(const std::string& cmd, const std::vector<std::string>& vs) {
  kh::test::TempDir d;
  std::string input;
  for (const std::string& v : vs) input += v + "\n";
  std::string out;
  EXPECT_EQ(image::fixtures::shell(fmt::format("{} < {}", cmd, d.write("in.txt", input)), &out), 0)
      << out;
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t nl = out.find('\n'); nl != std::string::npos; nl = out.find('\n', start)) {
    lines.push_back(out.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

// Checks our comparator on each pair the oracle judged (its "X": it refused a version); returns
// how many pairs were judged.
size_t agreeWithOracle(const std::vector<std::string>& vs, const std::vector<std::string>& got,
                       int (*cmp)(std::string_view, std::string_view)) {
  EXPECT_EQ(got.size(), vs.size() / 2);
  size_t valid = 0;
  for (size_t i = 0; i < got.size() && 2 * i + 1 < vs.size(); ++i) {
    if (got[i] == "X") continue;
    ++valid;
    const std::string &a = vs[2 * i], &b = vs[2 * i + 1];
    EXPECT_EQ(std::to_string(sign(cmp(a, b))), got[i]) << a << " vs " << b;
  }
  return valid;
}

TEST(VersionPep440, AgreesWithPackaging) {
  // Mostly well-formed versions in every spelling, some broken on purpose.
  std::mt19937 gen(3);
  auto pick = [&](std::initializer_list<const char*> l) { return *(l.begin() + gen() % l.size()); };
  std::vector<std::string> vs;
  while (vs.size() < 3000) {
    std::string v = gen() % 8 == 0 ? fmt::format("{}!", gen() % 3) : "";
    if (gen() % 6 == 0) v += pick({"v", "V", " "});
    int n = 1 + static_cast<int>(gen() % 3);
    for (int i = 0; i < n; ++i)
      v += fmt::format("{}{}", i ? "." : "", pick({"0", "1", "2", "10", "01", "00"}));
    if (gen() % 2)
      v += fmt::format("{}{}{}", pick({"", ".", "-", "_"}),
                       pick({"a", "b", "c", "rc", "alpha", "beta", "pre", "preview", "RC"}),
                       pick({"", "0", "1", "2", ".1", "-3"}));
    if (gen() % 3 == 0)
      v += gen() % 3 ? fmt::format("{}{}{}", pick({"", ".", "-", "_"}), pick({"post", "rev", "r"}),
                                   pick({"", "1", "2", "_5"}))
                     : fmt::format("-{}", gen() % 4);
    if (gen() % 3 == 0)
      v += fmt::format("{}dev{}", pick({"", ".", "-", "_"}), pick({"", "0", "1", "3"}));
    if (gen() % 4 == 0)
      v += fmt::format("+{}", pick({"1", "abc", "ubuntu.1", "01", "a-b_c", "1.x"}));
    if (gen() % 12 == 0) v += pick({"x", "..", "+", "!", "-"});  // broken
    vs.push_back(v);
  }
  auto got = oracle(
      "/usr/bin/python3 -c \"import sys\nfrom packaging.version import Version, InvalidVersion\n"
      "vs=[l.rstrip('\\n') for l in sys.stdin]\nfor a,b in zip(vs[0::2],vs[1::2]):\n"
      " try:\n  x,y=Version(a),Version(b)\n  print((x>y)-(x<y))\n except InvalidVersion:\n"
      "  print('X')\"",
      vs);
  EXPECT_GT(agreeWithOracle(vs, got, comparePep440), 700u)
      << "the generator must produce enough valid versions";
}

TEST(VersionSemver, AgreesWithNodeSemver) {
  std::mt19937 gen(5);
  auto pick = [&](std::initializer_list<const char*> l) { return *(l.begin() + gen() % l.size()); };
  std::vector<std::string> vs;
  while (vs.size() < 3000) {
    std::string v =
        fmt::format("{}{}.{}.{}", gen() % 8 == 0 ? "v" : "", pick({"0", "1", "2", "10"}),
                    pick({"0", "1", "9", "10"}), pick({"0", "1", "2", "11"}));
    if (gen() % 2) {
      int n = 1 + static_cast<int>(gen() % 3);
      v += "-";
      for (int i = 0; i < n; ++i)
        v += fmt::format("{}{}", i ? "." : "",
                         pick({"alpha", "beta", "rc", "0", "1", "2", "11", "x-y", "1a"}));
    }
    if (gen() % 4 == 0) v += fmt::format("+{}", pick({"build", "1", "sha.5114f85", "001"}));
    if (gen() % 12 == 0) v += pick({".", "-", "+", ".0"});  // broken
    if (gen() % 15 == 0) v = "0" + v;                       // leading zero
    vs.push_back(v);
  }
  auto got = oracle(
      "node -e \"const c=require('/usr/share/nodejs/semver/functions/compare');"
      "const vs=require('fs').readFileSync(0,'utf8').split('\\n');"
      "for(let "
      "i=0;i+1<vs.length;i+=2){try{console.log(c(vs[i],vs[i+1]))}catch(e){console.log('X')}}\"",
      vs);
  EXPECT_GT(agreeWithOracle(vs, got, compareSemver), 700u)
      << "the generator must produce enough valid versions";
}

// golang.org/x/mod/semver's own table, in increasing order; entries on one line are equal, and
// the invalid ones (first) are equal to each other and below every valid one.
TEST(VersionGo, UpstreamOrder) {
  const std::vector<std::vector<const char*>> groups = {
      {"bad", "v1-alpha.beta.gamma", "v1-pre", "v1+meta", "v1-pre+meta", "v1.2-pre", "v1.2+meta",
       "v1.2-pre+meta", "v01.2.3", "v1.02.3", "v1.2.03", "v1.2.3-01"},
      {"v1.0.0-alpha"},
      {"v1.0.0-alpha.1"},
      {"v1.0.0-alpha.beta"},
      {"v1.0.0-beta"},
      {"v1.0.0-beta.2"},
      {"v1.0.0-beta.11"},
      {"v1.0.0-rc.1"},
      {"v1", "v1.0", "v1.0.0"},
      {"v1.2", "v1.2.0"},
      {"v1.2.3-456"},
      {"v1.2.3-456.789"},
      {"v1.2.3-456-789"},
      {"v1.2.3-456a"},
      {"v1.2.3-pre", "v1.2.3-pre+meta"},
      {"v1.2.3-pre.1"},
      {"v1.2.3-zzz"},
      {"v1.2.3", "v1.2.3+meta", "v1.2.3+meta-pre", "v1.2.3+meta-pre.sha.256a", "1.2.3"},
      {"v2.0.0+incompatible", "2.0.0"},
  };
  for (size_t i = 0; i < groups.size(); ++i)
    for (size_t j = 0; j < groups.size(); ++j)
      for (const char* a : groups[i])
        for (const char* b : groups[j])
          EXPECT_EQ(sign(compareGo(a, b)), i < j ? -1 : i > j ? 1 : 0) << a << " vs " << b;
  // Pseudo-versions order by their timestamp, below the release they precede.
  EXPECT_LT(compareGo("v0.0.0-20191109021931-daa7c04131f5", "v0.0.0-20200101000000-aaaaaaaaaaaa"),
            0);
  EXPECT_LT(compareGo("v1.2.4-0.20191109021931-daa7c04131f5", "v1.2.4"), 0);
  EXPECT_GT(compareGo("v1.2.4-0.20191109021931-daa7c04131f5", "v1.2.3"), 0);
}

// RubyGems' own Gem::Version comparisons (test_gem_version.rb).
TEST(VersionGem, UpstreamCases) {
  const Case cases[] = {
      {"1.0", "1.0.0", 0},           {"1.0", "1.0.a", 1},
      {"1.8.2", "0.0.0", 1},         {"1.8.2", "1.8.2.a", 1},
      {"1.8.2.b", "1.8.2.a", 1},     {"1.8.2.a", "1.8.2", -1},
      {"1.8.2.a10", "1.8.2.a9", 1},  {"", "0", 0},
      {"0.beta.1", "0.0.beta.1", 0}, {"0.0.beta", "0.0.beta.1", -1},
      {"0.0.beta", "0.beta.1", -1},  {"5.a", "5.0.0.rc2", -1},
      {"5.x", "5.0.0.rc2", 1},       {"1.0-1", "1.0.pre.1", 0},
      {"1.0-1", "1.0", -1},          {"13.0.6", "13.0.10", -1},
      {"2.7.0.rc1", "2.7.0", -1},    {"1.10", "1.9", 1},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(sign(compareGem(c.a, c.b)), c.want) << c.a << " vs " << c.b;
    EXPECT_EQ(sign(compareGem(c.b, c.a)), -c.want) << c.b << " vs " << c.a;
  }
}

TEST(VersionGem, AgreesWithRubyGems) {
  std::mt19937 gen(17);
  auto pick = [&](std::initializer_list<const char*> l) { return *(l.begin() + gen() % l.size()); };
  std::vector<std::string> vs;
  while (vs.size() < 3000) {
    std::string v = pick({"0", "1", "2", "10", "01"});  // RubyGems versions start with a digit
    int n = static_cast<int>(gen() % 4);
    for (int i = 0; i < n; ++i)
      v += fmt::format("{}{}", pick({".", ".", ".", "-"}),
                       pick({"0", "1", "2", "10", "01", "a", "b", "rc", "pre", "beta2", "3a"}));
    if (gen() % 12 == 0) v += pick({"..1", " ", "_x", "+1"});  // broken
    vs.push_back(v);
  }
  auto got = oracle(
      "ruby -e 'vs = STDIN.read.split(\"\\n\", -1); (0...vs.size / 2).each { |i| begin; "
      "a = Gem::Version.new(vs[2 * i]); b = Gem::Version.new(vs[2 * i + 1]); puts(a <=> b); "
      "rescue ArgumentError; puts \"X\"; end }'",
      vs);
  EXPECT_GT(agreeWithOracle(vs, got, compareGem), 700u)
      << "the generator must produce enough valid versions";
}

// Maven's own ComparableVersionTest lists, each in increasing order, and its equalities.
TEST(VersionMaven, UpstreamOrderAndEqualities) {
  for (const std::vector<const char*>& sorted :
       {std::vector<const char*>{"1-alpha2snapshot",
                                 "1-alpha2",
                                 "1-alpha-123",
                                 "1-beta-2",
                                 "1-beta123",
                                 "1-m2",
                                 "1-m11",
                                 "1-rc",
                                 "1-cr2",
                                 "1-rc123",
                                 "1-SNAPSHOT",
                                 "1",
                                 "1-sp",
                                 "1-sp2",
                                 "1-sp123",
                                 "1-abc",
                                 "1-def",
                                 "1-pom-1",
                                 "1-1-snapshot",
                                 "1-1",
                                 "1-2",
                                 "1-123"},
        std::vector<const char*>{"2.0",    "2.0.a", "2-1",    "2.0.2", "2.0.123", "2.1.0",
                                 "2.1-a",  "2.1b",  "2.1-c",  "2.1-1", "2.1.0.1", "2.2",
                                 "2.123",  "11.a2", "11.a11", "11.b2", "11.b11",  "11.m2",
                                 "11.m11", "11",    "11.a",   "11b",   "11c",     "11m"}}) {
    for (size_t i = 0; i < sorted.size(); ++i)
      for (size_t j = 0; j < sorted.size(); ++j)
        EXPECT_EQ(sign(compareMaven(sorted[i], sorted[j])), i < j   ? -1
                                                            : i > j ? 1
                                                                    : 0)
            << sorted[i] << " vs " << sorted[j];
  }
  for (auto [a, b] : {std::pair{"1", "1.0"},
                      {"1", "1.0.0"},
                      {"1.0", "1.0.0"},
                      {"1", "1-0"},
                      {"1", "1.0-0"},
                      {"1.0", "1.0-0"},
                      {"1a", "1-a"},
                      {"1a", "1.0-a"},
                      {"1a", "1.0.0-a"},
                      {"1.0a", "1-a"},
                      {"1x", "1-x"},
                      {"1-ga", "1"},
                      {"1-final", "1"},
                      {"1-release", "1"},
                      {"1cr", "1rc"},
                      {"1a1", "1-alpha-1"},
                      {"1b2", "1-beta-2"},
                      {"1m3", "1-milestone-3"},
                      {"1X", "1x"},
                      {"1A", "1a"},
                      {"1-GA", "1-ga"},
                      {"1-CR", "1-cr"},
                      {"1-SNAPSHOT", "1-snapshot"}})
    EXPECT_EQ(compareMaven(a, b), 0) << a << " == " << b;
  // Maven's order has cycles on odd inputs (found by our fuzzer; Maven 3.8.7 says the same).
  EXPECT_LT(compareMaven("v056v668o6r", "0rc2"), 0);
  EXPECT_LT(compareMaven("0rc2", ""), 0);
  EXPECT_LT(compareMaven("", "v056v668o6r"), 0);
}

TEST(VersionMaven, AgreesWithMaven) {
  const char* jar = "/usr/share/maven/lib/maven-artifact-3.x.jar";
  if (!std::filesystem::exists(jar) || image::fixtures::shell("java -version") != 0)
    GTEST_SKIP() << "no Maven (maven-artifact) and Java here: the upstream cases above still ran";
  std::mt19937 gen(9);
  auto pick = [&](std::initializer_list<const char*> l) { return *(l.begin() + gen() % l.size()); };
  std::vector<std::string> vs;
  while (vs.size() < 1500) {
    std::string v = pick({"1", "0", "2", "10", "01"});
    int n = static_cast<int>(gen() % 5);
    for (int i = 0; i < n; ++i)
      v += fmt::format("{}{}", pick({".", "-", ""}),
                       pick({"0", "1", "2", "alpha", "a", "beta", "b", "m", "rc", "cr", "SNAPSHOT",
                             "ga", "final", "sp", "x", "abc", "1a", "0"}));
    vs.push_back(v);
  }
  std::string args;
  for (const std::string& v : vs) args += " '" + v + "'";
  std::string out;
  ASSERT_EQ(image::fixtures::shell(fmt::format("java -cp {} org.apache.maven.artifact.versioning."
                                               "ComparableVersion{}",
                                               jar, args),
                                   &out),
            0);
  // Its report: "   A < B" (or == or >) for each consecutive pair.
  size_t checked = 0, start = 0;
  for (size_t nl = out.find('\n'); nl != std::string::npos; nl = out.find('\n', start)) {
    std::string line = out.substr(start, nl - start);
    start = nl + 1;
    if (!line.starts_with("   ")) continue;
    for (auto [op, want] : {std::pair{" < ", -1}, {" == ", 0}, {" > ", 1}}) {
      size_t at = line.find(op);
      if (at == std::string::npos) continue;
      std::string a = line.substr(3, at - 3), b = line.substr(at + std::strlen(op));
      EXPECT_EQ(sign(compareMaven(a, b)), want) << a << " vs " << b;
      ++checked;
      break;
    }
  }
  EXPECT_EQ(checked, vs.size() - 1);
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
  static const char* kParts[] = {"0", "1", "2", "9", "10", "01",  "a",  "b",  "rc", "~",
                                 "+", ".", "^", "_", "p",  "git", "00", "fc", "el", "z"};
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
    script += fmt::format(
        "if dpkg --compare-versions '{0}' lt '{1}'; then echo -1; elif "
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

// Composer's VersionParser normalisations (its own test list) and PHP's documented order.
TEST(VersionComposer, UpstreamNormalisationAndOrder) {
  const std::pair<const char*, const char*> normalised[] = {
      {"1.0.0", "1.0.0.0"},
      {"1.2.3.4", "1.2.3.4"},
      {"1.0.0RC1dev", "1.0.0.0-RC1-dev"},
      {"1.0.0-rC15-dEv", "1.0.0.0-RC15-dev"},
      {"1.0.0.RC.15-dev", "1.0.0.0-RC15-dev"},
      {"1.0.0-rc1", "1.0.0.0-RC1"},
      {"1.0.0.pl3-dev", "1.0.0.0-patch3-dev"},
      {"1.0-dev", "1.0.0.0-dev"},
      {"0", "0.0.0.0"},
      {"10.4.13-beta", "10.4.13.0-beta"},
      {"10.4.13beta2", "10.4.13.0-beta2"},
      {"10.4.13beta.2", "10.4.13.0-beta2"},
      {"10.4.13-b", "10.4.13.0-beta"},
      {"10.4.13-b5", "10.4.13.0-beta5"},
      {"v1.0.0", "1.0.0.0"},
      {"2010.01", "2010.01.0.0"},
      {"2010.01.02", "2010.01.02.0"},
      {"2010.1.555", "2010.1.555.0"},
      {"20100102-203040", "20100102.203040"},
      {"20100102203040-10", "20100102203040.10"},
      {"20100102-203040-p1", "20100102.203040-patch1"},
      {"dev-master", "dev-master"},
      {"master", "dev-master"},
      {"dev-trunk", "dev-trunk"},
      {"1.x-dev", "1.9999999.9999999.9999999-dev"},
      {"1.2.x-dev", "1.2.9999999.9999999-dev"},
      {"dev-feature-foo", "dev-feature-foo"},
      {"DEV-FOOBAR", "dev-FOOBAR"},
      {"dev-master as 1.0.0", "dev-master"},
      {"1.0.0+foo", "1.0.0.0"},
      {"1.0.0-alpha.3.1+foo", "1.0.0.0-alpha3.1"},
      {"1.0@dev", "1.0.0.0"},
      {"1.0-p2", "1.0.0.0-patch2"},
      {"1.0RC1", "1.0.0.0-RC1"},
      {"123456.1", "123456.1"},
      {"1.0.0-stable", "1.0.0.0"}};
  for (const auto& [in, want] : normalised)
    EXPECT_EQ(normaliseComposer(in).value_or("X"), want) << in;
  EXPECT_EQ(normaliseComposer(std::string_view("\0\t1.0 \n", 7)).value_or("X"), "1.0.0.0")
      << "PHP's trim";
  for (const char* bad :
       {"", "a", "1.0.0.0.0", "1.0.0-meh", "feature-foo", "1.0 .2", "dev", "feature-dev"})
    EXPECT_FALSE(normaliseComposer(bad)) << bad;
  // In increasing order; each line's entries are equal.
  const std::vector<std::vector<const char*>> groups = {{"1.0-dev", "1.0.0-dev"},
                                                        {"1.0alpha1", "1.0-a1", "1.0.0-alpha.1"},
                                                        {"1.0-beta1", "1.0b1"},
                                                        {"1.0-beta2"},
                                                        {"1.0RC1", "1.0-rc1"},
                                                        {"1.0", "1.0.0", "v1.0.0", "1.0.0+build"},
                                                        {"1.0-p1", "1.0pl1", "1.0-patch1"},
                                                        {"1.0.1"},
                                                        {"1.0.10"},
                                                        {"1.2"},
                                                        {"1.10"},
                                                        {"10.0.0.1"}};
  for (size_t i = 0; i < groups.size(); ++i)
    for (size_t j = 0; j < groups.size(); ++j)
      for (const char* a : groups[i])
        for (const char* b : groups[j])
          EXPECT_EQ(sign(compareComposer(a, b)), i < j ? -1 : i > j ? 1 : 0) << a << " vs " << b;
  // A version Composer refuses is still ordered, by version_compare as written.
  EXPECT_LT(compareComposer("1.0.0.0.0", "1.0.0.0.1"), 0);
  EXPECT_EQ(compareComposer("garbage", "garbage"), 0);
}

TEST(VersionComposer, AgreesWithComposerSemver) {
  std::mt19937 gen(13);
  auto pick = [&](std::initializer_list<const char*> l) { return *(l.begin() + gen() % l.size()); };
  std::vector<std::string> vs;
  while (vs.size() < 3000) {
    std::string v = gen() % 6 == 0 ? pick({"v", "V"}) : "";
    int n = 1 + static_cast<int>(gen() % 4);
    for (int i = 0; i < n; ++i)
      v += fmt::format("{}{}", i ? "." : "", pick({"0", "1", "2", "10", "01", "2010"}));
    if (gen() % 2)
      v += fmt::format(
          "{}{}{}", pick({"", ".", "-", "_"}),
          pick({"a", "b", "alpha", "beta", "RC", "rc", "p", "pl", "patch", "stable", "dev"}),
          pick({"", "1", "2", ".3", "-4", "1.2"}));
    if (gen() % 5 == 0) v += pick({"-dev", ".dev", "dev"});
    if (gen() % 6 == 0) v += fmt::format("+{}", pick({"build", "1", "sha.5"}));
    if (gen() % 10 == 0) v = pick({"dev-master", "master", "1.x-dev", "2.1.x-dev", "dev-feature"});
    if (gen() % 12 == 0) v += pick({"x", "..", "-meh", " "});  // broken
    vs.push_back(v);
  }
  auto got = oracle(
      "php -r 'require \"/usr/share/php/Composer/Semver/autoload.php\";"
      "$p = new Composer\\Semver\\VersionParser; $vs = file(\"php://stdin\", "
      "FILE_IGNORE_NEW_LINES);"
      "for ($i = 0; $i + 1 < count($vs); $i += 2) { try { $a = $p->normalize($vs[$i]);"
      " $b = $p->normalize($vs[$i + 1]);"
      // Composer orders no two branches (Constraint::versionCompare): not judged here.
      " if (strpos($a, \"dev-\") === 0 && strpos($b, \"dev-\") === 0) { echo \"X\\n\"; continue; }"
      " echo version_compare($a, $b), \"\\n\"; }"
      " catch (Exception $e) { echo \"X\\n\"; } }'",
      vs);
  EXPECT_GT(agreeWithOracle(vs, got, compareComposer), 700u)
      << "the generator must produce enough valid versions";
}

}  // namespace
}  // namespace kh::vuln
