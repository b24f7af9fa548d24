// Data-driven PSS fixtures (tests/pss/*.yaml): each `# expect: LEVEL VERSION allow|deny CHECKS`
// line states the PSA checks (in PSA's order) the file's pod violates at that level and version.
#include <gtest/gtest.h>
#include <re2/re2.h>

#include <filesystem>

#include "base/strings.h"
#include "pss/pss.h"
#include "tests/unit/test_util.h"

namespace kh::test {
namespace {

std::vector<std::string> fixtureFiles() {
  std::vector<std::string> out;
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(KH_SOURCE_DIR) + "/tests/pss"))
    if (e.path().extension() == ".yaml") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

class PssFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(PssFixture, VerdictsMatch) {
  std::string text = readFile(GetParam());
  auto file = loadText(text, GetParam());
  ASSERT_FALSE(file->error) << file->error->describe();
  ASSERT_EQ(file->objects.size(), 1u);
  ASSERT_TRUE(file->objects[0].pod);
  const PodSpecView& pod = *file->objects[0].pod;
  static const RE2 kExpect(R"(#[ \t]*expect:[ \t]*(\S+)[ \t]+(\S+)[ \t]+(allow|deny)[ \t]*(\S*))");
  re2::StringPiece in(text);
  std::string level, version, verdict, checks;
  int cases = 0;
  while (RE2::FindAndConsume(&in, kExpect, &level, &version, &verdict, &checks)) {
    ++cases;
    auto l = pss::parseLevel(level);
    ASSERT_TRUE(l) << level;
    auto policy = pss::parseVersion(version, *l);
    ASSERT_TRUE(policy) << version;
    std::vector<pss::Violation> vs;
    pss::Scratch scratch;
    pss::evaluate(*policy, pod, scratch, vs);
    std::vector<std::string> actual, expected;
    for (const auto& v : vs) actual.emplace_back(v.check);
    if (verdict == "deny") {
      ASSERT_FALSE(checks.empty()) << "deny needs the check IDs";
      for (std::string_view c : splitTrimmed(checks, ',')) expected.emplace_back(c);
    }
    EXPECT_EQ(actual, expected) << level << " " << version << ": " << pss::joinViolations(vs);
  }
  EXPECT_GT(cases, 0) << "no # expect: lines";
}

INSTANTIATE_TEST_SUITE_P(Pss, PssFixture, ::testing::ValuesIn(fixtureFiles()),
                         [](const auto& info) {
                           std::string n = std::filesystem::path(info.param).stem().string();
                           for (char& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

}  // namespace
}  // namespace kh::test
