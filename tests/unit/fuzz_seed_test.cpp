// Replays the fuzzers' seed corpora (fuzz/corpus/*) so `make check` runs them too.
#include <gtest/gtest.h>

#include <filesystem>

#include "fuzz/admission_target.h"
#include "fuzz/image_target.h"
#include "fuzz/loader_target.h"
#include "tests/unit/test_util.h"

namespace kh::test {
namespace {

TEST(FuzzSeeds, LoaderSeedCorpusRunsClean) {
  std::filesystem::path dir = std::filesystem::path(KH_SOURCE_DIR) / "fuzz" / "corpus" / "loader";
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::string data = readFile(e.path().string());
    fuzzLoaderOnce(reinterpret_cast<const uint8_t*>(data.data()), data.size());
    ++n;
  }
  EXPECT_GE(n, 10u);
}

TEST(FuzzSeeds, AdmissionSeedCorpusRunsClean) {
  std::filesystem::path dir =
      std::filesystem::path(KH_SOURCE_DIR) / "fuzz" / "corpus" / "admission";
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::string data = readFile(e.path().string());
    fuzzAdmissionOnce(reinterpret_cast<const uint8_t*>(data.data()), data.size());
    ++n;
  }
  EXPECT_GE(n, 6u);
}

TEST(FuzzSeeds, ImageSeedCorpusRunsClean) {
  std::filesystem::path dir = std::filesystem::path(KH_SOURCE_DIR) / "fuzz" / "corpus" / "image";
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::string data = readFile(e.path().string());
    fuzzImageOnce(reinterpret_cast<const uint8_t*>(data.data()), data.size());
    ++n;
  }
  EXPECT_GE(n, 3u);
}

}  // namespace
}  // namespace kh::test
