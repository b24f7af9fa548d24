// The layer cache: a lossless round trip of everything a layer's analysis holds, corrupt or
// foreign entries as misses, atomic entries, and `image scan` reusing them.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "image/analyzers.h"
#include "image/inventory.h"
#include "image/layer_cache.h"
#include "image/secrets.h"
#include "tests/unit/image_util.h"
#include "tests/unit/test_util.h"

namespace kh::image {
namespace {

using fixtures::tarOf;

LayerFiles sampleLayer() {
  std::vector<ContentHandler> hs = inventoryHandlers();
  hs.push_back(secretsHandler());
  std::string layer = tarOf({{"etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n"},
                             {"var/lib/dpkg/status",
                              "Package: bash\nStatus: install ok installed\nVersion: 5.2\n"
                              "Architecture: amd64\nSource: bash (5.2-1)\n"},
                             {"var/lib/dpkg/info/bash.list", "/bin/bash\n/usr/share/doc/bash\n"},
                             {"app/.env", "API_TOKEN=Zx9qLm2Vt7pR4wKd8s\n"},
                             {"bin/sh", "", 'l', "bash"},
                             {"opt/.wh.old", ""},
                             {"var/.wh..wh..opq", ""}});
  auto r = TarReader::openMemory(layer, "l");
  return readLayer(*r.value(), hs);
}

TEST(ImageCache, RoundTripIsLossless) {
  LayerFiles l = sampleLayer();
  ASSERT_FALSE(l.found.empty());
  ASSERT_FALSE(l.secrets.empty());
  std::string bytes = serialiseLayer(l);
  auto back = deserialiseLayer(bytes);
  ASSERT_TRUE(back);
  EXPECT_EQ(serialiseLayer(*back), bytes);
  EXPECT_EQ(back->entries.size(), l.entries.size());
  EXPECT_EQ(back->whiteouts, l.whiteouts);
  EXPECT_EQ(back->opaque, l.opaque);
  EXPECT_EQ(back->captured, l.captured);
  EXPECT_EQ(back->found.at("var/lib/dpkg/status").packages[0].source_version, "5.2-1");
  EXPECT_EQ(back->found.at("var/lib/dpkg/info/bash.list").owned,
            (std::vector<std::string>{"bin/bash", "usr/share/doc/bash"}));
  EXPECT_EQ(back->secrets[0].fingerprint, l.secrets[0].fingerprint);
  EXPECT_EQ(back->secret_stats.files, l.secret_stats.files);
  // The same inventory from the cached form as from the archive.
  Filesystem a, b;
  a.apply(sampleLayer());
  b.apply(std::move(*back));
  auto ia = buildInventory(a), ib = buildInventory(b);
  ASSERT_EQ(ia.packages.size(), ib.packages.size());
  EXPECT_EQ(ia.packages[0].purl, ib.packages[0].purl);
  EXPECT_EQ(ia.os->id, ib.os->id);
}

TEST(ImageCache, CorruptEntriesAreMisses) {
  std::string bytes = serialiseLayer(sampleLayer());
  EXPECT_FALSE(deserialiseLayer(bytes.substr(0, bytes.size() - 1)));  // truncated
  std::string flipped = bytes;
  flipped[flipped.size() / 2] ^= 1;
  EXPECT_FALSE(deserialiseLayer(flipped));  // checksum
  EXPECT_FALSE(deserialiseLayer("KHLAYER1"));
  EXPECT_FALSE(deserialiseLayer(""));
  EXPECT_FALSE(deserialiseLayer("KHLAYER0" + bytes.substr(8)));  // another format version
}

TEST(ImageCache, StoreLoadAndKeys) {
  kh::test::TempDir d;
  LayerCache cache(d.path() + "/c");
  std::string id = "sha256:" + std::string(64, 'a');
  EXPECT_FALSE(cache.load(id, "secrets"));
  cache.store(id, "secrets", sampleLayer());
  EXPECT_TRUE(cache.load(id, "secrets"));
  EXPECT_FALSE(cache.load(id, "inventory")) << "another analyser set is another entry";
  // Nothing from the image reaches a path unless it is a well-formed digest.
  cache.store("sha256:../../etc/passwd", "secrets", sampleLayer());
  cache.store("md5:abc", "secrets", sampleLayer());
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(d.path() + "/c")) {
    ++files;
    EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << "no leftovers";
  }
  EXPECT_EQ(files, 1u);
  // A damaged entry is a miss, and the next store replaces it.
  std::string path =
      fmt::format("{}/c/{}-a{}-secrets.layer", d.path(), std::string(64, 'a'), kAnalyserVersion);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << "garbage";
  EXPECT_FALSE(cache.load(id, "secrets"));
  cache.store(id, "secrets", sampleLayer());
  EXPECT_TRUE(cache.load(id, "secrets"));
  EXPECT_FALSE(LayerCache("").load(id, "secrets")) << "no directory, no cache";
}

TEST(ImageCache, ScanReusesLayers) {
  kh::test::TempDir d;
  std::string layer = tarOf({{"etc/os-release", "ID=alpine\nVERSION_ID=3.19.1\n"},
                             {"lib/apk/db/installed", "P:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\n\n"}});
  std::string diff = fixtures::sha256(layer);
  std::string cfg = fmt::format(
      R"({{"architecture":"amd64","os":"linux","config":{{"User":"1"}},"rootfs":{{"type":"layers","diff_ids":["{}"]}}}})",
      diff);
  std::string img = d.write(
      "img.tar", tarOf({{"manifest.json", R"([{"Config":"c.json","Layers":["l/layer.tar"]}])"},
                        {"c.json", cfg},
                        {"l/layer.tar", layer}}));
  std::string args = fmt::format("image scan -f json --cache-dir {}/cache {}", d.path(), img);
  auto first = kh::test::runCli(args);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find(R"("cached":false)"), std::string::npos);
  auto second = kh::test::runCli(args);
  EXPECT_NE(second.out.find(R"("cached":true)"), std::string::npos) << second.out;
  auto strip = [](std::string s) {
    size_t at = s.find(R"("cached":)");
    return s.substr(0, at) + s.substr(s.find(',', at));
  };
  EXPECT_EQ(strip(first.out), strip(second.out));
  EXPECT_NE(second.out.find("pkg:apk/alpine/musl@1.2.4-r2"), std::string::npos);
  auto off = kh::test::runCli("image scan --no-cache " + args.substr(11));
  EXPECT_NE(off.out.find(R"("cached":false)"), std::string::npos) << off.out;

  // Several processes filling one cache at once: every one gets the full answer, and the
  // directory ends with one complete entry and no temporary files.
  std::string shared = d.path() + "/shared";
  std::string out;
  int rc = fixtures::shell(
      fmt::format("for i in 1 2 3 4 5 6; do {} image scan -f json --cache-dir {} {} > {}/out.$i & "
                  "done; wait",
                  KH_BINARY, shared, img, d.path()),
      &out);
  ASSERT_EQ(rc, 0) << out;
  for (int i = 1; i <= 6; ++i)
    EXPECT_EQ(strip(kh::test::readFile(fmt::format("{}/out.{}", d.path(), i))), strip(first.out));
  size_t entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(shared)) {
    ++entries;
    EXPECT_TRUE(e.path().string().ends_with("-secrets.layer")) << e.path();
  }
  EXPECT_EQ(entries, 1u);

  // A killed process's temporary file is removed by the next process that stores; a live
  // process's is left alone. A scan leaves nothing in TMPDIR.
  std::string sweep = d.path() + "/sweep";
  std::filesystem::create_directories(sweep);
  std::string dead = fmt::format("{}/{:064x}-a1-secrets.layer.tmp.4194305.0", sweep, 7);
  std::string live = fmt::format("{}/{:064x}-a1-secrets.layer.tmp.{}.0", sweep, 8, ::getpid());
  d.write("sweep/" + dead.substr(sweep.size() + 1), "partial");
  d.write("sweep/" + live.substr(sweep.size() + 1), "partial");
  std::filesystem::create_directories(d.path() + "/tmp");
  auto swept = kh::test::runCli(fmt::format("image scan -f json --cache-dir {} {}", sweep, img), "",
                                "", "TMPDIR=" + d.path() + "/tmp");
  ASSERT_EQ(swept.exit_code, 0) << swept.err;
  EXPECT_FALSE(std::filesystem::exists(dead));
  EXPECT_TRUE(std::filesystem::exists(live));
  EXPECT_TRUE(std::filesystem::is_empty(d.path() + "/tmp"));
}

}  // namespace
}  // namespace kh::image
