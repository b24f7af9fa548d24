// The catalogue is complete: every registered check has its doc page (embedded in the binary)
// and pass and fail fixtures, and nothing in docs/checks or tests/checks lacks a check.
#include <gtest/gtest.h>
#include <re2/re2.h>

#include <filesystem>
#include <set>

#include "base/strings.h"
#include "checks/registry.h"
#include "docs/check_docs.h"
#include "load/loader.h"
#include "tests/unit/test_util.h"

namespace kh::test {
namespace {

namespace fs = std::filesystem;

std::set<std::string> registeredIds() {
  std::set<std::string> ids;
  for (const auto& c : makeCatalogue()) ids.insert(std::string(c->meta().id));
  return ids;
}

size_t yamlCount(const fs::path& dir) {
  size_t n = 0;
  if (!fs::exists(dir)) return 0;
  for (const auto& f : fs::directory_iterator(dir))
    n += f.path().extension() == ".yaml" || isDockerfileName(f.path().filename().string());
  return n;
}

TEST(Catalogue, EveryCheckHasDocAndFixtures) {
  fs::path root(KH_SOURCE_DIR);
  for (const std::string& id : registeredIds()) {
    fs::path doc = root / "docs" / "checks" / (id + ".md");
    EXPECT_TRUE(fs::exists(doc)) << id << " has no " << doc;
    EXPECT_GE(yamlCount(root / "tests" / "checks" / id / "pass"), 1u)
        << id << " has no pass fixture";
    EXPECT_GE(yamlCount(root / "tests" / "checks" / id / "fail"), 1u)
        << id << " has no fail fixture";
    EXPECT_EQ(checkDoc(id), readFile(doc.string())) << id << ": embedded doc is stale";
  }
}

TEST(Catalogue, NoOrphanDocsOrFixtures) {
  fs::path root(KH_SOURCE_DIR);
  auto ids = registeredIds();
  for (const auto& f : fs::directory_iterator(root / "docs" / "checks"))
    EXPECT_TRUE(ids.count(f.path().stem().string())) << "orphan doc " << f.path();
  for (const auto& f : fs::directory_iterator(root / "tests" / "checks"))
    EXPECT_TRUE(ids.count(f.path().filename().string())) << "orphan fixtures " << f.path();
}

TEST(Catalogue, MetadataIsWellFormed) {
  static const RE2 kId(
      "^(pod|image|secrets|pss|rbac|network|misc|ns|cp|cluster|rel|dockerfile|encryption|audit|"
      "admission|kubeconfig)-[a-z0-9]+(-[a-z0-9]+"
      ")*$");
  for (const auto& c : makeCatalogue()) {
    const CheckMeta& m = c->meta();
    EXPECT_TRUE(RE2::FullMatch(m.id, kId)) << m.id;
    EXPECT_FALSE(m.title.empty()) << m.id;
    EXPECT_FALSE(m.remediation.empty()) << m.id;
    EXPECT_TRUE(m.group == "security" || m.group == "reliability") << m.id;
    // The reliability group is opt-in as a whole, and only it.
    EXPECT_EQ(m.group == "reliability", m.id.starts_with("rel-")) << m.id;
    if (m.group == "reliability") {
      EXPECT_FALSE(m.enabled_by_default) << m.id;
    }
    EXPECT_TRUE(m.scope != Scope::kKinds || !m.kinds.empty()) << m.id << " applies to nothing";
    std::string doc(checkDoc(m.id));
    EXPECT_NE(doc.find("# " + std::string(m.id)), std::string::npos) << m.id << " doc has no title";
  }
}

TEST(Catalogue, OverviewListsEveryCheck) {
  std::string overview = readFile(std::string(KH_SOURCE_DIR) + "/docs/catalogue.md");
  for (const std::string& id : registeredIds())
    EXPECT_NE(overview.find("[`" + id + "`](checks/" + id + ".md)"), std::string::npos)
        << id << " is missing from docs/catalogue.md";
}

// Every rule of hadolint's list (its README: DL3005, DL3017, DL3031 and DL3039 were retired) has
// a check that names it, so `# hadolint ignore=DLxxxx` always means something.
TEST(Catalogue, EveryHadolintRuleHasACheck) {
  std::set<std::string> covered;
  for (const auto& c : makeCatalogue())
    for (std::string_view code : splitTrimmed(c->meta().refs.hadolint, ',')) covered.emplace(code);
  std::vector<std::string> codes = {"DL1001", "DL4000", "DL4001"};
  auto range = [&](int lo, int hi) {
    for (int i = lo; i <= hi; ++i) codes.push_back("DL" + std::to_string(i));
  };
  range(3000, 3004);
  range(3006, 3016);
  range(3018, 3030);
  range(3032, 3038);
  range(3040, 3062);
  range(4003, 4006);
  for (const std::string& code : codes) EXPECT_TRUE(covered.count(code)) << code;
  EXPECT_EQ(codes.size(), 66u);
}

TEST(Catalogue, IdsAreUnique) {
  std::set<std::string_view> seen;
  for (const auto& c : makeCatalogue())
    EXPECT_TRUE(seen.insert(c->meta().id).second) << c->meta().id;
}

}  // namespace
}  // namespace kh::test
