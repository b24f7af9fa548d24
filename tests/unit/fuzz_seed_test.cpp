// Replays the fuzzers' seed corpora (fuzz/corpus/*) so `make check` runs them too.
#include <gtest/gtest.h>

#include <filesystem>

#include "fuzz/admission_target.h"
#include "fuzz/auditlog_target.h"
#include "fuzz/celparse_target.h"
#include "fuzz/clusterdata_target.h"
#include "fuzz/dockerfile_target.h"
#include "fuzz/image_target.h"
#include "fuzz/kubeconfig_target.h"
#include "fuzz/loader_target.h"
#include "fuzz/registry_target.h"
#include "fuzz/render_target.h"
#include "fuzz/sigstore_target.h"
#include "fuzz/vap_target.h"
#include "fuzz/version_target.h"
#include "fuzz/vulndb_target.h"
#include "tests/unit/test_util.h"

namespace kh::test {
namespace {

// Runs every file of fuzz/corpus/NAME through `target`; returns how many there were.
size_t replay(const char* name, void (*target)(const uint8_t*, size_t)) {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(KH_SOURCE_DIR) /
                                                           "fuzz" / "corpus" / name)) {
    std::string data = readFile(e.path().string());
    target(reinterpret_cast<const uint8_t*>(data.data()), data.size());
    ++n;
  }
  return n;
}

TEST(FuzzSeeds, LoaderSeedCorpusRunsClean) {
  EXPECT_GE(replay("loader", fuzzLoaderOnce), 10u);
}

TEST(FuzzSeeds, AdmissionSeedCorpusRunsClean) {
  EXPECT_GE(replay("admission", fuzzAdmissionOnce), 6u);
}

TEST(FuzzSeeds, VersionSeedCorpusRunsClean) {
  EXPECT_GE(replay("version", fuzzVersionOnce), 6u);
  EXPECT_GE(replay("vulndb", fuzzVulnDbOnce), 3u);
}

TEST(FuzzSeeds, DockerfileSeedCorpusRunsClean) {
  EXPECT_GE(replay("dockerfile", fuzzDockerfileOnce), 10u);
}

TEST(FuzzSeeds, RenderSeedCorpusRunsClean) {
  EXPECT_GE(replay("render", fuzzRenderOnce), 10u);
}

TEST(FuzzSeeds, RegistrySeedCorpusRunsClean) {
  EXPECT_GE(replay("registry", fuzzRegistryOnce), 10u);
  EXPECT_GE(replay("sigstore", fuzzSigstoreOnce), 8u);
}

TEST(FuzzSeeds, KubeConfigSeedCorpusRunsClean) {
  EXPECT_GE(replay("kubeconfig", fuzzKubeConfigOnce), 4u);
}

TEST(FuzzSeeds, ClusterDataSeedCorpusRunsClean) {
  EXPECT_GE(replay("clusterdata", fuzzClusterDataOnce), 9u);
}

TEST(FuzzSeeds, AuditLogSeedCorpusRunsClean) {
  EXPECT_GE(replay("auditlog", fuzzAuditLogOnce), 4u);
  EXPECT_GE(replay("celparse", fuzzCelParseOnce), 6u);
  EXPECT_GE(replay("vap", fuzzVapOnce), 3u);
}

TEST(FuzzSeeds, ImageSeedCorpusRunsClean) {
  EXPECT_GE(replay("image", fuzzImageOnce), 4u);
}

}  // namespace
}  // namespace kh::test
