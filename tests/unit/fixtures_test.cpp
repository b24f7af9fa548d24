// The data-driven check tests (DESIGN.md §2): every tests/checks/<id>/fail/*.yaml (or
// *.Dockerfile) must produce exactly the findings its `# expect: <id> at <path>` lines list for
// that check, and every pass/ file must produce none for it. Adding a check needs fixtures, not
// C++.
#include <gtest/gtest.h>
#include <re2/re2.h>

#include <algorithm>
#include <filesystem>

#include "dockerfile/source.h"
#include "load/yaml_reader.h"
#include "tests/unit/test_util.h"

namespace kh::test {
namespace fixtures_tests {

namespace fs = std::filesystem;

struct Fixture {
  std::string check;
  bool fail;
  std::string file;
};

std::vector<Fixture> allFixtures() {
  std::vector<Fixture> out;
  fs::path root = fs::path(KH_SOURCE_DIR) / "tests" / "checks";
  for (const auto& dir : fs::directory_iterator(root)) {
    if (!dir.is_directory()) continue;
    for (bool fail : {false, true}) {
      fs::path sub = dir.path() / (fail ? "fail" : "pass");
      if (!fs::exists(sub)) continue;
      for (const auto& f : fs::directory_iterator(sub))
        out.push_back({dir.path().filename().string(), fail, f.path().string()});
    }
  }
  std::sort(out.begin(), out.end(),
            [](const Fixture& a, const Fixture& b) { return a.file < b.file; });
  return out;
}

void PrintTo(const Fixture& f, std::ostream* os) {
  *os << f.file;
}

class CheckFixture : public ::testing::TestWithParam<Fixture> {};

TEST_P(CheckFixture, ProducesExactlyTheExpectedFindings) {
  const Fixture& fx = GetParam();
  std::string text = readFile(fx.file);
  // Dockerfile fixtures (*.Dockerfile) are read as Dockerfiles, the others as manifests.
  std::unique_ptr<SourceFile> file;
  if (isDockerfileName(fx.file)) {
    file = std::make_unique<SourceFile>();
    file->path = fx.file;
    file->buffer = text;
    dockerfile::parseDockerfileSource(LoadOptions{}, *file);
  } else {
    file = loadText(text, fx.file);
  }
  ASSERT_FALSE(file->error) << file->error->describe();
  ASSERT_FALSE(file->objects.empty()) << "fixture holds no Kubernetes object or Dockerfile";

  std::vector<std::string> expected;
  // `# expect: <id> at <path>`, or `... at <path> [<rule>]` for checks with sub-rules.
  static const RE2 kExpect(R"(#[ \t]*expect:[ \t]*(\S+)[ \t]+at[ \t]+(\S+)(?:[ \t]+\[(\S+)\])?)");
  re2::StringPiece input(text);
  std::string id, path, rule;
  while (RE2::FindAndConsume(&input, kExpect, &id, &path, &rule)) {
    ASSERT_EQ(id, fx.check) << "an expect line names another check";
    expected.push_back(rule.empty() ? path : path + " [" + rule + "]");
  }
  if (fx.fail) {
    ASSERT_FALSE(expected.empty()) << "a fail fixture needs # expect: lines";
  } else {
    ASSERT_TRUE(expected.empty()) << "a pass fixture must not carry # expect: lines";
  }

  // `# options: {flow map}` configures the check under test as the config file's
  // checks.options.<id> would.
  static const RE2 kOptions(R"(#[ \t]*options:[ \t]*(\{.*\}))");
  std::string options_text;
  Arena arena;
  const Node* options = nullptr;
  if (RE2::PartialMatch(text, kOptions, &options_text)) {
    std::vector<Diagnostic> diags;
    ParseOutput out = parseYamlStream(options_text, fx.file, arena, LoadLimits{}, diags);
    ASSERT_FALSE(out.error) << out.error->describe();
    ASSERT_EQ(out.documents.size(), 1u);
    options = out.documents[0].root;
  }
  std::vector<std::string> actual;
  for (const Finding& f : options ? runAllChecks(*file, fx.check, options) : runAllChecks(*file)) {
    if (f.check_id != fx.check) continue;
    actual.push_back(f.rule.empty() ? f.path : f.path + " [" + std::string(f.rule) + "]");
    EXPECT_GT(f.pos.line, 0u) << "finding without a position: " << f.path;
    EXPECT_FALSE(f.message.empty());
  }
  std::sort(expected.begin(), expected.end());
  std::sort(actual.begin(), actual.end());
  EXPECT_EQ(actual, expected) << "in " << fx.file;
}

std::string fixtureName(const ::testing::TestParamInfo<Fixture>& info) {
  std::string n = info.param.check + (info.param.fail ? "_fail_" : "_pass_") +
                  fs::path(info.param.file).stem().string();
  for (char& c : n)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(Checks, CheckFixture, ::testing::ValuesIn(allFixtures()), fixtureName);

}  // namespace fixtures_tests
}  // namespace kh::test
