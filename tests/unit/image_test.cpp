// Image input: tar reading (plain, gzip, zstd; "./" names), layer application with OCI
// whiteouts and opaque directories, symbolic links inside the root, and the three layouts
// (docker save legacy and Docker 25+, OCI tarball, OCI directory) with multi-platform indexes.
// The images are built here with libarchive's writer: no Docker daemon needed.
#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include "image/analyzers.h"
#include "image/filesystem.h"
#include "image/inventory.h"
#include "image/layer_stream.h"
#include "image/layout.h"
#include "tests/unit/image_util.h"
#include "tests/unit/test_util.h"

namespace kh::image {
namespace {

using fixtures::blob;
using fixtures::config;
using fixtures::Member;
using fixtures::sha256;
using fixtures::tarOf;

// Three layers exercising whiteouts, opaque directories, "./" names and links.
std::vector<std::string> sampleLayers(std::string_view filter) {
  return {
      fixtures::tarOf({{"./etc", "", 'd'},
                       {"./etc/os-release", "ID=old\n"},
                       {"./etc/app", "", 'd'},
                       {"./etc/app/a.conf", "a"},
                       {"./etc/app/b.conf", "b"},
                       {"opt/x/y", "y"},
                       {"opt/keep", "k"}},
                      filter),
      fixtures::tarOf({{"etc/app/.wh..wh..opq", ""},
                       {"etc/app/c.conf", "c"},
                       {"opt/.wh.x", ""},
                       {"etc/.wh.os-release", ""}},
                      filter),
      fixtures::tarOf({{"/usr/lib/os-release", "ID=debian\nVERSION_ID=\"12\"\n"},
                       {"etc/os-release", "", 'l', "../usr/lib/os-release"},
                       {"etc/escape", "", 'l', "../../../../usr/lib/os-release"},
                       {"etc/loop1", "", 'l', "loop2"},
                       {"etc/loop2", "", 'l', "loop1"},
                       {"opt/hard", "", 'h', "opt/keep"}},
                      filter),
  };
}

CaptureRule captureAll() {
  return {[](std::string_view) { return true; }, 1 << 20};
}

Filesystem applyAll(const std::vector<std::string>& layers) {
  Filesystem fs;
  for (size_t i = 0; i < layers.size(); ++i) {
    auto r = TarReader::openMemory(layers[i], fmt::format("layer{}", i));
    EXPECT_TRUE(r);
    fs.apply(readLayer(*r.value(), captureAll()));
    EXPECT_FALSE(r.value()->error()) << r.value()->error()->describe();
  }
  return fs;
}

TEST(ImageFilesystem, WhiteoutsOpaqueDirectoriesAndLinks) {
  for (std::string_view filter : {"", "gzip", "zstd"}) {
    Filesystem fs = applyAll(sampleLayers(filter));
    SCOPED_TRACE(std::string(filter));
    EXPECT_EQ(fs.layerCount(), 3u);
    EXPECT_EQ(fs.find("etc/app/a.conf"), nullptr) << "hidden by the opaque directory";
    EXPECT_EQ(fs.find("etc/app/b.conf"), nullptr);
    ASSERT_NE(fs.find("etc/app/c.conf"), nullptr);
    EXPECT_EQ(fs.find("etc/app/c.conf")->layer, 1u);
    EXPECT_NE(fs.find("etc/app"), nullptr) << "the opaque directory itself stays";
    EXPECT_EQ(fs.find("opt/x"), nullptr);
    EXPECT_EQ(fs.find("opt/x/y"), nullptr) << "a whiteout removes the tree";
    EXPECT_NE(fs.find("opt/keep"), nullptr);
    // "./" and "/" prefixes name the same files.
    EXPECT_NE(fs.find("./usr/lib/os-release"), nullptr);
    EXPECT_NE(fs.find("/usr/lib/os-release"), nullptr);
    // Links resolve inside the root, relative and past the root alike.
    EXPECT_EQ(fs.content("etc/os-release").value_or(""), "ID=debian\nVERSION_ID=\"12\"\n");
    EXPECT_EQ(fs.resolve("etc/escape").value_or("?"), "usr/lib/os-release");
    EXPECT_EQ(fs.content("etc/escape").value_or(""), "ID=debian\nVERSION_ID=\"12\"\n");
    EXPECT_FALSE(fs.resolve("etc/loop1")) << "a loop is not followed forever";
    EXPECT_EQ(fs.find("etc/loop1"), nullptr);
    ASSERT_NE(fs.find("opt/hard"), nullptr);
    EXPECT_EQ(fs.content("opt/hard").value_or(""), "k") << "a hard link shares the data";
  }
}

TEST(ImageLayout, DockerSaveLegacyAndDocker25) {
  test::TempDir d;
  auto layers = sampleLayers("");
  // Legacy: <id>/layer.tar members, "./" names, config named by its digest.
  std::vector<Member> legacy = {
      {"./manifest.json",
       R"([{"Config":"cfg.json","RepoTags":["shop/app:1.0"],"Layers":["l0/layer.tar","l1/layer.tar","l2/layer.tar"]}])"},
      {"./cfg.json", config(layers)},
      {"./l2/layer.tar", layers[2]},
      {"./l0/layer.tar", layers[0]},
      {"./l1/layer.tar", layers[1]}};
  std::string path = d.write("legacy.tar", fixtures::tarOf(legacy));
  auto img = openImage(path, Platform{});
  ASSERT_TRUE(img) << img.error().describe();
  EXPECT_EQ(img.value().format, "docker-archive");
  EXPECT_EQ(img.value().repo_tags, std::vector<std::string>{"shop/app:1.0"});
  ASSERT_EQ(img.value().layers.size(), 3u);
  EXPECT_EQ(img.value().layers[0].digest, sha256(layers[0])) << "no digest: the diff ID";
  Filesystem fs;
  std::vector<LayerFiles> read(3);
  Status s = forEachLayer(img.value(), [&](size_t i, TarReader& r) -> Status {
    read[i] = readLayer(r, captureAll());
    return {};
  });
  ASSERT_TRUE(s) << s.error().describe();
  for (auto& l : read) fs.apply(std::move(l));
  EXPECT_EQ(fs.content("etc/os-release").value_or(""), "ID=debian\nVERSION_ID=\"12\"\n")
      << "layers applied in manifest order, whatever the member order";

  // Docker 25+: an OCI layout with manifest.json alongside.
  std::string layer = fixtures::tarOf({{"etc/hostname", "h"}}, "gzip");
  std::string cfg = config({layer});
  std::string manifest = fmt::format(
      R"({{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{}","size":{}}}]}})",
      sha256(cfg), cfg.size(), sha256(layer), layer.size());
  std::string index = fmt::format(
      R"({{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{}","size":{}}}]}})",
      sha256(manifest), manifest.size());
  std::vector<Member> d25 = {
      {"oci-layout", R"({"imageLayoutVersion":"1.0.0"})"},
      {"index.json", index},
      {"manifest.json", fmt::format(R"([{{"Config":"{}","RepoTags":["x:1"],"Layers":["{}"]}}])",
                                    blob(sha256(cfg)), blob(sha256(layer)))},
      {blob(sha256(manifest)), manifest},
      {blob(sha256(cfg)), cfg},
      {blob(sha256(layer)), layer}};
  auto img25 = openImage(d.write("d25.tar", fixtures::tarOf(d25)), Platform{});
  ASSERT_TRUE(img25) << img25.error().describe();
  EXPECT_EQ(img25.value().format, "docker-archive");
  EXPECT_EQ(img25.value().manifest_digest, sha256(manifest));
  EXPECT_EQ(img25.value().config_digest, sha256(cfg));
  EXPECT_EQ(img25.value().layers[0].digest, sha256(layer));
  size_t files = 0;
  ASSERT_TRUE(forEachLayer(img25.value(), [&](size_t, TarReader& r) -> Status {
    files += readLayer(r, captureAll()).entries.size();
    return {};
  }));
  EXPECT_EQ(files, 1u);
}

// An OCI layout with a multi-platform index (nested), as a tarball and as a directory.
struct OciImage {
  std::vector<Member> members;
  std::string amd_layer, arm_layer;
};

OciImage multiArch(std::string_view filter) {
  OciImage o;
  o.amd_layer = fixtures::tarOf({{"etc/arch", "amd64"}}, filter);
  o.arm_layer = fixtures::tarOf({{"etc/arch", "arm64"}}, filter);
  auto manifest = [&](const std::string& cfg, const std::string& layer) {
    return fmt::format(
        R"({{"schemaVersion":2,"config":{{"digest":"{}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+zstd","digest":"{}","size":{}}}]}})",
        sha256(cfg), cfg.size(), sha256(layer), layer.size());
  };
  std::string cfg_amd = config({o.amd_layer}, "amd64"), cfg_arm = config({o.arm_layer}, "arm64");
  std::string m_amd = manifest(cfg_amd, o.amd_layer), m_arm = manifest(cfg_arm, o.arm_layer);
  std::string inner = fmt::format(
      R"({{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
        {{"digest":"{}","size":{},"platform":{{"os":"linux","architecture":"amd64"}}}},
        {{"digest":"{}","size":{},"platform":{{"os":"linux","architecture":"arm64","variant":"v8"}}}},
        {{"digest":"sha256:{:064x}","size":1,"annotations":{{"vnd.docker.reference.type":"attestation-manifest"}},"platform":{{"os":"unknown","architecture":"unknown"}}}}]}})",
      sha256(m_amd), m_amd.size(), sha256(m_arm), m_arm.size(), 9);
  std::string index = fmt::format(
      R"({{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"{}","size":{}}}]}})",
      sha256(inner), inner.size());
  o.members = {{"oci-layout", R"({"imageLayoutVersion":"1.0.0"})"},
               {"index.json", index},
               {blob(sha256(inner)), inner},
               {blob(sha256(m_amd)), m_amd},
               {blob(sha256(m_arm)), m_arm},
               {blob(sha256(cfg_amd)), cfg_amd},
               {blob(sha256(cfg_arm)), cfg_arm},
               {blob(sha256(o.amd_layer)), o.amd_layer},
               {blob(sha256(o.arm_layer)), o.arm_layer}};
  return o;
}

std::string archOf(const ImageSource& img) {
  std::string arch;
  Status s = forEachLayer(img, [&](size_t, TarReader& r) -> Status {
    LayerFiles l = readLayer(r, captureAll());
    arch = l.captured["etc/arch"];
    return {};
  });
  EXPECT_TRUE(s) << s.error().describe();
  return arch;
}

TEST(ImageLayout, OciTarballAndDirectoryWithPlatforms) {
  test::TempDir d;
  OciImage o = multiArch("zstd");
  std::string tar = d.write("oci.tar", fixtures::tarOf(o.members));
  auto amd = openImage(tar, Platform{});
  ASSERT_TRUE(amd) << amd.error().describe();
  EXPECT_EQ(amd.value().format, "oci-archive");
  EXPECT_EQ(amd.value().platform.str(), "linux/amd64");
  // Attestation manifests are not images.
  EXPECT_EQ(amd.value().platforms, (std::vector<std::string>{"linux/amd64", "linux/arm64/v8"}));
  EXPECT_EQ(archOf(amd.value()), "amd64");
  auto arm = openImage(tar, parsePlatform("linux/arm64").value());
  ASSERT_TRUE(arm) << arm.error().describe();
  EXPECT_EQ(arm.value().platform.str(), "linux/arm64");
  EXPECT_EQ(archOf(arm.value()), "arm64");
  auto none = openImage(tar, parsePlatform("linux/s390x").value());
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("no linux/s390x image in the index; it offers linux/amd64, "
                                      "linux/arm64/v8"),
            std::string::npos)
      << none.error().message;

  // The same layout as a directory.
  namespace fs = std::filesystem;
  std::string dir = d.path() + "/layout";
  for (const Member& m : o.members) {
    fs::create_directories(fs::path(dir + "/" + m.path).parent_path());
    std::ofstream(dir + "/" + m.path, std::ios::binary) << m.content;
  }
  auto fromDir = openImage(dir, parsePlatform("linux/arm64/v8").value());
  ASSERT_TRUE(fromDir) << fromDir.error().describe();
  EXPECT_EQ(fromDir.value().format, "oci-dir");
  EXPECT_EQ(archOf(fromDir.value()), "arm64");
}

// Layers read on several threads: each layer index exactly once, the same content as one
// thread, a layer listed twice read twice, and a missing layer still an error.
TEST(ImageLayout, ParallelLayerReading) {
  test::TempDir d;
  std::vector<std::string> layers;
  std::vector<Member> members;
  std::string list;
  for (int i = 0; i < 6; ++i) {
    layers.push_back(fixtures::tarOf(
        {{fmt::format("layer/{}", i), std::string(1000 * (i + 1), 'a' + i)}}, i % 2 ? "gzip" : ""));
    members.push_back({fmt::format("l{}/layer.tar", i), layers.back()});
    list += fmt::format("{}\"l{}/layer.tar\"", i ? "," : "", i);
  }
  list += ",\"l2/layer.tar\"";  // listed twice: a 7th layer
  members.push_back(
      {"manifest.json", fmt::format(R"([{{"Config":"c.json","Layers":[{}]}}])", list)});
  std::vector<std::string> listed = layers;
  listed.push_back(layers[2]);
  members.push_back({"c.json", config(listed)});
  auto img = openImage(d.write("p.tar", fixtures::tarOf(members)), Platform{});
  ASSERT_TRUE(img) << img.error().describe();
  for (unsigned threads : {1u, 2u, 4u, 8u}) {
    std::vector<std::string> seen(7);
    std::vector<int> calls(7, 0);
    Status s = forEachLayer(
        img.value(),
        [&](size_t i, TarReader& r) -> Status {
          LayerFiles l = readLayer(r, captureAll());
          ++calls[i];
          for (const auto& [path, content] : l.captured)
            seen[i] += path + ":" + std::to_string(content.size());
          return {};
        },
        threads);
    ASSERT_TRUE(s) << s.error().describe();
    for (int i = 0; i < 7; ++i) {
      int layer = i == 6 ? 2 : i;
      EXPECT_EQ(calls[i], 1) << threads << " threads, layer " << i;
      EXPECT_EQ(seen[i], fmt::format("layer/{}:{}", layer, 1000 * (layer + 1))) << threads;
    }
  }
  // An error in one layer stops the run and is returned, whatever the thread count.
  Status bad = forEachLayer(
      img.value(),
      [](size_t i, TarReader&) -> Status {
        if (i == 3) return Error{"boom", "layer 3", {}};
        return {};
      },
      4);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "boom");
}

// Each layer's uncompressed content is hashed as it is read and must be the diff ID the image
// config names, whatever the format, the compression or the number of threads; a scan of an
// image whose layer is not what its config says fails with exit 3 and caches nothing.
TEST(ImageLayout, ALayerMustBeTheDiffIdItsConfigNames) {
  test::TempDir d;
  std::string good = fixtures::tarOf({{"etc/os-release", "ID=alpine\nVERSION_ID=3.19.1\n"}});
  std::string evil = fixtures::tarOf({{"etc/os-release", "ID=alpine\nVERSION_ID=3.20.0\n"}});
  auto docker = [&](const std::string& name, const std::string& layer, const std::string& cfg) {
    return d.write(
        name,
        fixtures::tarOf({{"manifest.json", R"([{"Config":"c.json","Layers":["l/layer.tar"]}])"},
                         {"c.json", cfg},
                         {"l/layer.tar", layer}}));
  };
  auto oci = [&](const std::string& name, const std::string& layer, const std::string& cfg) {
    std::string m = fmt::format(
        R"({{"schemaVersion":2,"config":{{"digest":"{}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{}","size":{}}}]}})",
        sha256(cfg), cfg.size(), sha256(layer), layer.size());
    std::string index = fmt::format(
        R"({{"schemaVersion":2,"manifests":[{{"digest":"{}","size":{}}}]}})", sha256(m), m.size());
    std::string dir = d.path() + "/" + name;
    std::filesystem::create_directories(dir + "/blobs/sha256");
    d.write(name + "/oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
    d.write(name + "/index.json", index);
    for (const std::string& b : {m, cfg, layer}) d.write(name + "/" + blob(sha256(b)), b);
    return dir;
  };
  for (std::string_view filter : {"", "gzip", "zstd"}) {
    std::string g =
        filter.empty()
            ? good
            : fixtures::tarOf({{"etc/os-release", "ID=alpine\nVERSION_ID=3.19.1\n"}}, filter);
    std::string e =
        filter.empty()
            ? evil
            : fixtures::tarOf({{"etc/os-release", "ID=alpine\nVERSION_ID=3.20.0\n"}}, filter);
    std::string tag(filter.empty() ? "plain" : filter);
    // The good layer under its own diff ID reads; the evil one under the good one's fails.
    for (bool tampered : {false, true}) {
      const std::string& layer = tampered ? e : g;
      std::string name = tag + (tampered ? "-bad" : "-ok");
      for (const std::string& path :
           {docker(name + ".tar", layer, config({g})), oci(name, layer, config({g}))}) {
        auto img = openImage(path, Platform{});
        ASSERT_TRUE(img) << img.error().describe();
        for (unsigned threads : {1u, 2u}) {
          size_t files = 0;
          Status s = forEachLayer(
              img.value(),
              [&](size_t, TarReader& r) -> Status {
                files += readLayer(r, captureAll()).entries.size();
                return {};
              },
              threads);
          if (!tampered) {
            EXPECT_TRUE(s) << path << ": " << s.error().describe();
            EXPECT_EQ(files, 1u) << path;
            continue;
          }
          ASSERT_FALSE(s) << path;
          EXPECT_NE(s.error().describe().find(fmt::format(
                        "layer 0: the uncompressed content is {} but the image config says its "
                        "diff ID is {}",
                        sha256(fixtures::uncompressed(e)), sha256(fixtures::uncompressed(g)))),
                    std::string::npos)
              << s.error().describe();
        }
      }
    }
  }
  // The command: a local image is verified with --verify-layers or a layer cache (exit 3,
  // nothing reported, nothing cached), and not otherwise (its unneeded bytes are skipped, not
  // read); the good image scans and caches.
  std::string bad_tar = d.path() + "/plain-bad.tar";
  EXPECT_EQ(test::runCli("image scan " + bad_tar).exit_code, 0);
  auto flagged = test::runCli("image scan --verify-layers " + bad_tar);
  EXPECT_EQ(flagged.exit_code, 3);
  EXPECT_NE(flagged.err.find("the layer is corrupt or was tampered with"), std::string::npos)
      << flagged.err;
  EXPECT_EQ(test::runCli("image scan --verify-layers " + d.path() + "/plain-ok.tar").exit_code, 0);
  std::string cache = d.path() + "/cache";
  auto bad =
      test::runCli("image scan -f json --cache-dir " + cache + " " + d.path() + "/gzip-bad.tar");
  EXPECT_EQ(bad.exit_code, 3);
  EXPECT_EQ(bad.out, "");
  EXPECT_NE(bad.err.find("the layer is corrupt or was tampered with"), std::string::npos)
      << bad.err;
  EXPECT_TRUE(!std::filesystem::exists(cache) || std::filesystem::is_empty(cache));
  auto ok =
      test::runCli("image scan -f json --cache-dir " + cache + " " + d.path() + "/gzip-ok.tar");
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("3.19.1"), std::string::npos);
  EXPECT_FALSE(std::filesystem::is_empty(cache));
}

// gzip of `data` (zlib, level 6), as one member.
std::string gzipOf(std::string_view data) {
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, static_cast<uLong>(data.size())) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

struct Decoded {
  std::string bytes, decoder, error;
};

// `blob` through a LayerStream, handed over in `chunk`-byte pieces.
Decoded decode(const std::string& blob, size_t chunk, bool fast) {
  size_t at = 0;
  LayerStream s(
      [&]() -> std::string_view {
        std::string_view c = std::string_view(blob).substr(std::min(at, blob.size()), chunk);
        at += c.size();
        return c;
      },
      "blob", fast);
  Decoded d;
  for (std::string_view c = s.next(); !c.empty(); c = s.next()) d.bytes += c;
  d.decoder = s.decoder();
  if (s.error()) d.error = s.error()->message;
  return d;
}

// ISA-L and libarchive decode gzip to the same bytes however the input is cut; several members
// are one stream; bytes after the last member are ignored; truncated and corrupt data are errors
// from both; other compressions and plain tars go through libarchive.
TEST(LayerStream, IsalAndLibarchiveDecodeTheSameBytes) {
  if (!LayerStream::fastGzip()) GTEST_SKIP() << "libisal2 is not installed here";
  std::string text;
  for (int i = 0; i < 40000; ++i)
    text += fmt::format("line {} of a layer, {}\n", i, i * 7919 % 1000);
  std::string noise;
  uint32_t x = 12345;
  for (int i = 0; i < 300000; ++i) noise += static_cast<char>((x = x * 1103515245 + 12345) >> 24);
  std::string data = text + noise + text;
  std::string gz = gzipOf(data);
  for (size_t chunk : {size_t{1} << 20, size_t{65536}, size_t{4093}, size_t{7}}) {
    for (bool fast : {true, false}) {
      if (chunk == 7 && !fast) continue;  // slow and no different
      Decoded d = decode(gz, chunk, fast);
      EXPECT_EQ(d.error, "") << chunk;
      EXPECT_EQ(d.bytes.size(), data.size()) << chunk << " " << fast;
      EXPECT_TRUE(d.bytes == data) << chunk << " " << fast;
      EXPECT_EQ(d.decoder, fast ? "gzip (ISA-L)" : "libarchive");
    }
  }
  // Two members, then trailing zeros (as some writers pad).
  std::string two = gzipOf(text) + gzipOf(noise) + std::string(100, '\0');
  for (bool fast : {true, false}) {
    Decoded d = decode(two, 5000, fast);
    EXPECT_EQ(d.error, "");
    EXPECT_TRUE(d.bytes == text + noise) << fast << " " << d.bytes.size();
  }
  // Truncated, and corrupt in the middle.
  Decoded cut = decode(gz.substr(0, gz.size() / 2), 65536, true);
  EXPECT_EQ(cut.error, "the gzip stream ends before its end (truncated)");
  EXPECT_NE(decode(gz.substr(0, gz.size() / 2), 65536, false).error, "");
  std::string bad = gz;
  for (size_t i = bad.size() / 2; i < bad.size() / 2 + 64; ++i) bad[i] = static_cast<char>(~bad[i]);
  Decoded broken = decode(bad, 65536, true);
  EXPECT_NE(broken.error.find("the gzip data is corrupt"), std::string::npos) << broken.error;
  // libarchive's gzip filter may end quietly at the damage (no CRC check): the bytes then differ,
  // which the diff ID check catches; ISA-L says so at once.
  Decoded lax = decode(bad, 65536, false);
  EXPECT_TRUE(lax.error != "" || lax.bytes != data) << lax.bytes.size();
  // A wrong CRC in the trailer.
  std::string crc = gz;
  crc[crc.size() - 6] = static_cast<char>(~crc[crc.size() - 6]);
  EXPECT_EQ(decode(crc, 65536, true).error,
            "the gzip data is corrupt: a CRC-32 or length that does not match the data");
  // zstd and plain tars: libarchive.
  std::string tar = fixtures::tarOf({{"a", text}});
  for (std::string_view filter : {"zstd", ""}) {
    Decoded d = decode(fixtures::tarOf({{"a", text}}, filter), 65536, true);
    EXPECT_EQ(d.decoder, "libarchive");
    EXPECT_TRUE(d.bytes == tar) << filter;
  }
  EXPECT_EQ(decode("", 65536, true).error, "the layer is empty");
}

TEST(ImageLayout, WhatIsNotAnImageIsSaid) {
  test::TempDir d;
  auto check = [&](const std::string& path, std::string_view expect) {
    auto img = openImage(path, Platform{});
    ASSERT_FALSE(img) << path;
    EXPECT_NE(img.error().describe().find(expect), std::string::npos) << img.error().describe();
  };
  check(d.write("text.txt", "hello, not an image\n"), "not a container image");
  check(d.write("plain.tar", fixtures::tarOf({{"etc/passwd", "root:x:0:0\n"}})),
        "no manifest.json or index.json inside");
  check(d.path() + "/missing.tar", "no such file or directory");
  std::filesystem::create_directories(d.path() + "/emptydir");
  check(d.path() + "/emptydir", "without oci-layout and index.json");
  EXPECT_FALSE(parsePlatform("linux"));
  check(d.write("baddiff.tar",
                fixtures::tarOf({{"manifest.json", R"([{"Config":"c.json","Layers":["a.tar"]}])"},
                                 {"c.json", R"({"rootfs":{"diff_ids":["sha256:00"]}})"},
                                 {"a.tar", fixtures::tarOf({{"x", "y"}})}})),
        "the image config's rootfs.diff_ids[0] 'sha256:00' is not a digest");
  // A manifest that names a layer the archive does not hold.
  std::string path = d.write(
      "short.tar",
      fixtures::tarOf({{"manifest.json", R"([{"Config":"c.json","Layers":["a/layer.tar"]}])"},
                       {"c.json", config({fixtures::tarOf({{"x", "y"}})})}}));
  auto img = openImage(path, Platform{});
  ASSERT_TRUE(img) << img.error().describe();
  Status s = forEachLayer(img.value(), [](size_t, TarReader&) -> Status { return {}; });
  ASSERT_FALSE(s);
  Status par = forEachLayer(
      img.value(), [](size_t, TarReader&) -> Status { return {}; }, 4);
  ASSERT_FALSE(par);
  EXPECT_EQ(par.error().message, s.error().message);
  EXPECT_NE(s.error().message.find("layer 0 (a/layer.tar) is missing from the archive"),
            std::string::npos)
      << s.error().message;
}

}  // namespace
}  // namespace kh::image

namespace kh::image {
namespace {

TEST(ImageInventory, OperatingSystem) {
  auto os = detectOs(fixtures::filesystemOf(
      {{{"usr/lib/os-release",
         "# comment\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n"
         "VERSION_ID='12'\n"},
        {"etc/os-release", "", 'l', "../usr/lib/os-release"}}}));
  ASSERT_TRUE(os);
  EXPECT_EQ(os->id, "debian");
  EXPECT_EQ(os->version_id, "12");
  EXPECT_EQ(os->pretty_name, "Debian GNU/Linux 12 (bookworm)");
  EXPECT_EQ(os->source, "etc/os-release");
  auto alpine = detectOs(fixtures::filesystemOf({{{"etc/alpine-release", "3.19.1\n"}}}));
  ASSERT_TRUE(alpine);
  EXPECT_EQ(alpine->id + " " + alpine->version_id, "alpine 3.19.1");
  auto old = detectOs(fixtures::filesystemOf({{{"etc/debian_version", "11.9\n"}}}));
  ASSERT_TRUE(old);
  EXPECT_EQ(old->id + " " + old->version_id, "debian 11");
  // Distroless: neither os-release nor debian_version, but dpkg's status.d.
  auto distroless = detectOs(
      fixtures::filesystemOf({{{"var/lib/dpkg/status.d/base-files", "Package: base-files\n"}}}));
  ASSERT_TRUE(distroless);
  EXPECT_EQ(distroless->id, "debian");
  EXPECT_FALSE(detectOs(fixtures::filesystemOf({{{"bin/app",
                                                  "\x7f"
                                                  "ELF"}}})));
}

TEST(ImageInventory, DpkgDatabase) {
  std::string status =
      "Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\n"
      "Source: openssl (3.0.11-1~deb12u2)\nVersion: 3.0.11-1~deb12u2\nDescription: x\n"
      " continuation: not a field\n\n"
      "Package: removed\nStatus: deinstall ok config-files\nVersion: 1.0\n\n"
      "Package: libgcc-s1\nStatus: install ok installed\nArchitecture: amd64\n"
      "Source: gcc-12\nVersion: 12.2.0-14\n\n"
      "Package: tzdata\nStatus: install ok installed\nArchitecture: all\n"
      "Version: 1:2024a+deb12u1\n";
  Filesystem fs = fixtures::filesystemOf(
      {{{"etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n"}, {"var/lib/dpkg/status", status}},
       {{"var/lib/dpkg/status.d/zlib1g",
         "Package: zlib1g\nVersion: 1:1.2.13.dfsg-1\n"
         "Architecture: amd64\nSource: zlib\n"},
        {"var/lib/dpkg/status.d/zlib1g.md5sums", "abc  usr/lib/libz.so\n"}}});
  auto pkgs = buildInventory(fs).packages;
  ASSERT_EQ(pkgs.size(), 4u);
  EXPECT_EQ(pkgs[0].name, "libgcc-s1");
  EXPECT_EQ(pkgs[0].source_name, "gcc-12");
  EXPECT_EQ(pkgs[0].source_version, "12.2.0-14");
  EXPECT_EQ(pkgs[1].name, "libssl3");
  EXPECT_EQ(pkgs[1].source_name, "openssl");
  EXPECT_EQ(pkgs[1].source_version, "3.0.11-1~deb12u2");
  EXPECT_EQ(pkgs[1].purl, "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12");
  EXPECT_EQ(pkgs[2].name, "tzdata");
  EXPECT_EQ(pkgs[2].purl, "pkg:deb/debian/tzdata@1%3A2024a%2Bdeb12u1?arch=all&distro=debian-12");
  EXPECT_EQ(pkgs[3].name, "zlib1g");
  EXPECT_EQ(pkgs[3].layer, 1u);
  EXPECT_EQ(pkgs[3].source_name, "zlib");
}

// This machine's own dpkg database as a live oracle: the same installed packages as
// dpkg-query reports.
TEST(ImageInventory, MatchesDpkgQueryOnThisMachine) {
  std::string status = test::readFile("/var/lib/dpkg/status");
  if (status.empty()) GTEST_SKIP() << "no dpkg database here";
  FILE* p =
      popen("dpkg-query -W -f='${db:Status-Status} ${Package} ${Version}\\n' 2>/dev/null", "r");
  ASSERT_NE(p, nullptr);
  std::set<std::string> expected;
  char line[1024];
  while (fgets(line, sizeof line, p)) {
    std::string l(line);
    if (!l.starts_with("installed ")) continue;
    l = l.substr(10);
    while (!l.empty() && l.back() == '\n') l.pop_back();
    expected.insert(l);
  }
  pclose(p);
  Filesystem fs = fixtures::filesystemOf({{{"var/lib/dpkg/status", status}}});
  std::set<std::string> got;
  for (const Package& pkg : buildInventory(fs).packages) got.insert(pkg.name + " " + pkg.version);
  EXPECT_GT(expected.size(), 50u);
  EXPECT_EQ(got, expected);
}

TEST(ImageCli, ScanReportsInventoryAndRefusesWhatIsNotAnImage) {
  test::TempDir d;
  std::string layer =
      fixtures::tarOf({{"./etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n"},
                       {"./var/lib/dpkg/status",
                        "Package: bash\nStatus: install ok installed\nVersion: 5.2.15-2+b2\n"
                        "Architecture: amd64\n"}},
                      "gzip");
  std::string path = d.write(
      "img.tar",
      fixtures::tarOf({{"manifest.json",
                        R"([{"Config":"c.json","RepoTags":["a:1"],"Layers":["l/layer.tar"]}])"},
                       {"c.json", config({layer})},
                       {"l/layer.tar", layer}}));
  auto json = test::runCli("image scan --format json " + path);
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_NE(json.out.find(R"("schema":"kubeharden/image/v1")"), std::string::npos);
  EXPECT_NE(json.out.find(R"("id":"debian","versionId":"12")"), std::string::npos) << json.out;
  EXPECT_NE(
      json.out.find(R"("purl":"pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64&distro=debian-12")"),
      std::string::npos)
      << json.out;
  auto text = test::runCli("image scan " + path);
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("1 layers, 2 files in the final filesystem, 1 packages (1 deb)"),
            std::string::npos)
      << text.out;
  auto bad = test::runCli("image scan " + d.write("x.yaml", "kind: Pod\n"));
  EXPECT_EQ(bad.exit_code, 3);
  EXPECT_NE(bad.err.find("not a container image"), std::string::npos) << bad.err;
  EXPECT_EQ(test::runCli("image scan --platform linux " + path).exit_code, 2);
}

}  // namespace
}  // namespace kh::image
