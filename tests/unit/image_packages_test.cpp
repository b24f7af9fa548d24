// Package analysers: apk, rpm (SQLite from Debian's rpm, Berkeley DB from db5.3_load, NDB),
// npm, Python, RubyGems, Composer, Java archives, Go build info and cargo-auditable in real ELF
// files (gcc and objcopy make them), the layer that introduced each package, files owned by OS
// packages, licence normalisation and purls.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <set>

#include "image/analyzers.h"
#include "image/inventory.h"
#include "image/licenses.h"
#include "image/rpmdb.h"
#include "tests/unit/image_util.h"
#include "tests/unit/test_util.h"

namespace kh::image {
namespace {

using fixtures::Member;
using fixtures::shell;
using fixtures::tarOf;

const Package* find(const std::vector<Package>& ps, std::string_view name) {
  for (const Package& p : ps)
    if (p.name == name) return &p;
  return nullptr;
}

TEST(ImagePackages, ApkDatabaseWithOwnedFiles) {
  std::string db =
      "C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\no:musl\nF:lib\nR:ld-musl-x86_64.so.1\n\n"
      "P:py3-six\nV:1.16.0-r4\nA:noarch\nL:MIT\no:py-six\n"
      "F:usr/lib/python3.11/site-packages/six-1.16.0.dist-info\nR:METADATA\n\n"
      "P:busybox\nV:1.36.1-r15\nA:x86_64\nL:GPL-2.0-only\n";
  std::string metadata = "Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\nLicense: MIT\n";
  Filesystem fs = fixtures::filesystemOf(
      {{{"etc/os-release", "ID=alpine\nVERSION_ID=3.19.1\n"},
        {"lib/apk/db/installed", db},
        {"usr/lib/python3.11/site-packages/six-1.16.0.dist-info/METADATA", metadata},
        {"app/venv/lib/six-1.16.0.dist-info/METADATA", metadata}}});
  Inventory inv = buildInventory(fs);
  ASSERT_EQ(inv.packages.size(), 4u);
  const Package* six = find(inv.packages, "py3-six");
  ASSERT_TRUE(six);
  EXPECT_EQ(six->source_name, "py-six");
  EXPECT_EQ(six->purl, "pkg:apk/alpine/py3-six@1.16.0-r4?arch=noarch&distro=3.19.1");
  EXPECT_EQ(find(inv.packages, "busybox")->licenses, std::vector<std::string>{"GPL-2.0-only"});
  EXPECT_EQ(find(inv.packages, "musl")->source_name, "musl");
  // The pip package inside py3-six's files is not reported twice; the app's copy is.
  EXPECT_EQ(inv.dropped_owned, 1u);
  const Package* pip = find(inv.packages, "six");
  ASSERT_TRUE(pip);
  EXPECT_EQ(pip->path, "app/venv/lib/six-1.16.0.dist-info/METADATA");
  EXPECT_EQ(pip->purl, "pkg:pypi/six@1.16.0");
}

// --- rpm ----------------------------------------------------------------------------------

struct RpmFixture {
  kh::test::TempDir dir;
  std::string sqlite;  // rpmdb.sqlite bytes, written by Debian's rpm
  std::string query;   // rpm -qa of it: name epoch version release arch license
};

const RpmFixture& rpmFixture() {
  static RpmFixture* f = [] {
    auto* f = new RpmFixture;
    const std::string d = f->dir.path();
    f->dir.write(
        "top/SPECS/a.spec",
        "Name: hello-kh\nVersion: 1.2.3\nRelease: 4.el9\nEpoch: 2\nSummary: t\n"
        "License: MIT and (GPLv2+ or BSD)\nBuildArch: noarch\n%description\nt\n"
        "%install\nmkdir -p %{buildroot}/usr/lib/python3.9/site-packages/foo-1.0.dist-info\n"
        "echo x > %{buildroot}/usr/lib/python3.9/site-packages/foo-1.0.dist-info/METADATA\n"
        "%files\n/usr/lib/python3.9/site-packages/foo-1.0.dist-info/METADATA\n");
    f->dir.write("top/SPECS/b.spec",
                 "Name: libkh\nVersion: 0.9\nRelease: 1\nSummary: t\nLicense: ASL 2.0\n"
                 "BuildArch: noarch\n%description\nt\n%files\n");
    std::string out;
    int rc =
        shell(fmt::format("cd {0} && for s in a b; do rpmbuild --quiet --define '_topdir {0}/top' "
                          "-bb top/SPECS/$s.spec || exit 1; done && mkdir db && "
                          "rpm --dbpath {0}/db --initdb && rpm --dbpath {0}/db -i --justdb "
                          "--nodeps --ignorearch --ignoreos top/RPMS/noarch/*.rpm",
                          d),
              &out);
    EXPECT_EQ(rc, 0) << "rpmbuild/rpm (Debian package rpm, from scripts/install-deps): " << out;
    f->sqlite = kh::test::readFile(d + "/db/rpmdb.sqlite");
    shell(fmt::format("rpm --dbpath {}/db -qa --qf '%{{NAME}} %{{EPOCH}} %{{VERSION}}-%{{RELEASE}} "
                      "%{{ARCH}} %{{LICENSE}}\\n' | sort",
                      d),
          &f->query);
    return f;
  }();
  return *f;
}

std::string rpmSummary(const std::vector<Package>& ps) {
  std::vector<std::string> lines;
  for (const Package& p : ps)
    lines.push_back(fmt::format("{} {} {} {} {}", p.name, p.epoch.empty() ? "(none)" : p.epoch,
                                p.version, p.arch, p.licenses.empty() ? "" : p.licenses[0]));
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

TEST(ImagePackagesRpm, SqliteDatabaseAgreesWithRpmItself) {
  const RpmFixture& f = rpmFixture();
  ASSERT_FALSE(f.sqlite.empty());
  std::vector<std::string> owned;
  auto pkgs = rpm::packages(f.sqlite, &owned);
  ASSERT_TRUE(pkgs) << pkgs.error().message;
  EXPECT_EQ(rpmSummary(pkgs.value()), f.query);  // rpm -qa as the oracle
  const Package* hello = find(pkgs.value(), "hello-kh");
  ASSERT_TRUE(hello);
  EXPECT_EQ(hello->source_name, "hello-kh");
  EXPECT_EQ(hello->source_version, "1.2.3-4.el9");
  EXPECT_NE(std::find(owned.begin(), owned.end(),
                      "usr/lib/python3.9/site-packages/foo-1.0.dist-info/METADATA"),
            owned.end());
}

// Berkeley DB hash file, written by Berkeley DB itself (db5.3_load) from the same headers.
TEST(ImagePackagesRpm, BerkeleyDbHashDatabase) {
  const RpmFixture& f = rpmFixture();
  auto blobs = rpm::headerBlobs(f.sqlite);
  ASSERT_TRUE(blobs);
  ASSERT_EQ(blobs.value().size(), 2u);
  auto hex = [](std::string_view s) {
    std::string out;
    for (unsigned char c : s) out += fmt::format("\\{:02x}", c);
    return out;
  };
  std::string input;
  uint32_t key = 0;  // record 0 holds a counter, as in rpm's own Packages files
  input += hex(std::string(4, '\0')) + "\n" + hex(std::string("\x03\0\0\0", 4)) + "\n";
  for (const std::string& b : blobs.value()) {
    ++key;
    input += hex(std::string_view(reinterpret_cast<const char*>(&key), 4)) + "\n" + hex(b) + "\n";
  }
  // Small pages force the headers onto overflow pages, as real ones are.
  std::string in = f.dir.write("bdb.txt", input), out;
  ASSERT_EQ(shell(fmt::format("rm -f {0}/Packages && db5.3_load -T -t hash -c db_pagesize=512 "
                              "-f {1} {0}/Packages",
                              f.dir.path(), in),
                  &out),
            0)
      << out;
  std::string db = kh::test::readFile(f.dir.path() + "/Packages");
  auto pkgs = rpm::packages(db, nullptr);
  ASSERT_TRUE(pkgs) << pkgs.error().message;
  EXPECT_EQ(rpmSummary(pkgs.value()), f.query);
  // A small header stored inline (H_KEYDATA) too: a 64 KiB page holds it on the page itself.
  ASSERT_EQ(shell(fmt::format("rm -f {0}/P2 && db5.3_load -T -t hash -c db_pagesize=65536 "
                              "-f {1} {0}/P2",
                              f.dir.path(), in)),
            0);
  auto inline_pkgs = rpm::packages(kh::test::readFile(f.dir.path() + "/P2"), nullptr);
  ASSERT_TRUE(inline_pkgs);
  EXPECT_EQ(rpmSummary(inline_pkgs.value()), f.query);
}

// NDB (SUSE): no tool on Debian writes it; built here from the format's description.
TEST(ImagePackagesRpm, NdbDatabase) {
  const RpmFixture& f = rpmFixture();
  auto blobs = rpm::headerBlobs(f.sqlite);
  ASSERT_TRUE(blobs);
  auto le = [](std::string& s, size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) s[at + i] = static_cast<char>(v >> (8 * i));
  };
  std::string db(4096, '\0');
  le(db, 0, 'R' | 'p' << 8 | 'm' << 16 | 'P' << 24);
  le(db, 12, 1);  // one slot page
  uint32_t idx = 0;
  for (const std::string& b : blobs.value()) {
    ++idx;
    size_t blk = db.size() / 16;
    std::string blob(16, '\0');
    le(blob, 0, 'B' | 'l' << 8 | 'b' << 16 | 'S' << 24);
    le(blob, 4, idx);
    le(blob, 12, static_cast<uint32_t>(b.size()));
    db += blob + b;
    db.resize((db.size() + 15) / 16 * 16, '\0');
    size_t slot = 32 + (idx - 1) * 16;
    le(db, slot, 'S' | 'l' << 8 | 'o' << 16 | 't' << 24);
    le(db, slot + 4, idx);
    le(db, slot + 8, static_cast<uint32_t>(blk));
    le(db, slot + 12, static_cast<uint32_t>((b.size() + 31) / 16));
  }
  auto pkgs = rpm::packages(db, nullptr);
  ASSERT_TRUE(pkgs) << pkgs.error().message;
  EXPECT_EQ(rpmSummary(pkgs.value()), f.query);
}

TEST(ImagePackagesRpm, InImagesWithPurlsAndOwnedFiles) {
  const RpmFixture& f = rpmFixture();
  Filesystem fs =
      fixtures::filesystemOf({{{"etc/os-release", "ID=\"almalinux\"\nVERSION_ID=\"9.3\"\n"},
                               {"var/lib/rpm/rpmdb.sqlite", f.sqlite},
                               {"usr/lib/python3.9/site-packages/foo-1.0.dist-info/METADATA",
                                "Name: foo\nVersion: 1.0\n"}}});
  Inventory inv = buildInventory(fs);
  ASSERT_EQ(inv.packages.size(), 2u) << "foo is owned by hello-kh";
  const Package* hello = find(inv.packages, "hello-kh");
  ASSERT_TRUE(hello);
  EXPECT_EQ(hello->purl,
            "pkg:rpm/almalinux/hello-kh@1.2.3-4.el9?arch=noarch&epoch=2&distro=almalinux-9.3");
  EXPECT_EQ(hello->licenses,
            std::vector<std::string>{"MIT AND (GPL-2.0-or-later OR BSD-3-Clause)"});
  EXPECT_EQ(find(inv.packages, "libkh")->licenses, std::vector<std::string>{"Apache-2.0"});
}

TEST(ImagePackagesRpm, CorruptDatabasesAreErrorsNotCrashes) {
  const RpmFixture& f = rpmFixture();
  EXPECT_FALSE(rpm::packages("not a database at all", nullptr));
  for (size_t cut : {size_t{100}, size_t{4096}, f.sqlite.size() / 2}) {
    auto r = rpm::packages(std::string_view(f.sqlite).substr(0, cut), nullptr);
    if (r) {
      EXPECT_LE(r.value().size(), 2u);
    }
  }
  std::string garbled = f.sqlite;
  for (size_t i = 4096; i < garbled.size(); i += 97) garbled[i] = static_cast<char>(i);
  auto r = rpm::packages(garbled, nullptr);
  if (r) {
    EXPECT_LE(r.value().size(), 2u);
  }
  EXPECT_FALSE(rpm::parseHeader("\0\0\0\xff\0\0\0\x10", nullptr));
}

// --- Language packages --------------------------------------------------------------------

TEST(ImagePackagesLang, NpmPythonGemComposer) {
  auto npm = parseNpmPackageJson(R"({"name":"@babel/core","version":"7.23.0","license":"MIT"})");
  ASSERT_TRUE(npm);
  EXPECT_EQ(npm->name, "@babel/core");
  EXPECT_EQ(npm->licenses, std::vector<std::string>{"MIT"});
  auto old = parseNpmPackageJson(
      R"({"name":"x","version":"1.0.0","licenses":[{"type":"MIT"},{"type":"Apache 2.0"}]})");
  ASSERT_TRUE(old);
  EXPECT_EQ(old->licenses, (std::vector<std::string>{"MIT", "Apache-2.0"}));
  EXPECT_FALSE(parseNpmPackageJson(R"({"name":"no-version"})"));
  EXPECT_FALSE(parseNpmPackageJson("{broken"));

  auto py = parsePythonMetadata(
      "Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\nLicense: Apache 2.0\n\n"
      "Name: not-a-header\n");
  ASSERT_TRUE(py);
  EXPECT_EQ(py->name, "requests");
  EXPECT_EQ(py->licenses, std::vector<std::string>{"Apache-2.0"});
  auto classified = parsePythonMetadata(
      "Name: ptyprocess\nVersion: 0.7.0\nLicense: UNKNOWN\n"
      "Classifier: License :: OSI Approved :: ISC License (ISCL)\n");
  ASSERT_TRUE(classified);
  EXPECT_EQ(classified->licenses, std::vector<std::string>{"ISC"});
  auto expr = parsePythonMetadata("Name: a\nVersion: 1\nLicense-Expression: MIT OR Apache-2.0\n");
  EXPECT_EQ(expr->licenses, std::vector<std::string>{"MIT OR Apache-2.0"});

  auto gem = parseGemspec(
      "# -*- encoding: utf-8 -*-\nGem::Specification.new do |s|\n"
      "  s.name = \"rake\".freeze\n  s.version = \"13.0.6\"\n"
      "  s.licenses = [\"MIT\".freeze]\nend\n");
  ASSERT_TRUE(gem);
  EXPECT_EQ(gem->name + " " + gem->version, "rake 13.0.6");
  EXPECT_EQ(gem->licenses, std::vector<std::string>{"MIT"});

  auto v2 = parseComposerInstalled(
      R"({"packages":[{"name":"monolog/monolog","version":"v3.5.0","license":["MIT"]},)"
      R"({"name":"psr/log","version":"3.0.0"}],"dev":true})");
  ASSERT_EQ(v2.size(), 2u);
  EXPECT_EQ(v2[0].version, "3.5.0");
  EXPECT_EQ(v2[0].licenses, std::vector<std::string>{"MIT"});
  auto v1 = parseComposerInstalled(R"([{"name":"a/b","version":"1.0.0"}])");
  ASSERT_EQ(v1.size(), 1u);
}

TEST(ImagePackagesLang, JavaArchivesNestedAndFallbacks) {
  std::string pom_props =
      "#Generated\ngroupId=org.apache.commons\nartifactId=commons-lang3\n"
      "version=3.12.0\n";
  std::string pom_xml =
      "<project><licenses><license><name>Apache License, Version 2.0</name></license>"
      "</licenses></project>";
  std::string inner = fixtures::zipOf(
      {{"META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\n"},
       {"META-INF/maven/org.apache.commons/commons-lang3/pom.properties", pom_props},
       {"META-INF/maven/org.apache.commons/commons-lang3/pom.xml", pom_xml}});
  std::string manifest_only = fixtures::zipOf(
      {{"META-INF/MANIFEST.MF",
        "Manifest-Version: 1.0\r\nImplementation-Title: guava\r\nImplementation-Version: "
        "32.1.2-jre\r\nImplementation-Vendor-Id: com.google.guava\r\n"}});
  std::string name_only = fixtures::zipOf({{"a/B.class", "cafebabe"}});
  std::string war = fixtures::zipOf({{"WEB-INF/lib/commons-lang3-3.12.0.jar", inner},
                                     {"WEB-INF/lib/guava-32.1.2-jre.jar", manifest_only},
                                     {"WEB-INF/lib/tiny-lib-2.0.1.jar", name_only}});
  auto pkgs = parseJavaArchive(war, "opt/app.war");
  ASSERT_EQ(pkgs.size(), 3u);
  std::set<std::string> got;
  for (const Package& p : pkgs) got.insert(p.name + "@" + p.version + " " + p.path);
  EXPECT_EQ(got,
            (std::set<std::string>{
                "org.apache.commons:commons-lang3@3.12.0 "
                "opt/app.war!WEB-INF/lib/commons-lang3-3.12.0.jar",
                "com.google.guava:guava@32.1.2-jre opt/app.war!WEB-INF/lib/guava-32.1.2-jre.jar",
                "tiny-lib@2.0.1 opt/app.war!WEB-INF/lib/tiny-lib-2.0.1.jar"}));
  EXPECT_EQ(find(pkgs, "org.apache.commons:commons-lang3")->licenses,
            std::vector<std::string>{"Apache-2.0"});
  EXPECT_TRUE(parseJavaArchive("PK\x03\x04 truncated", "x.jar").empty());
}

// --- Binaries: real ELF files from gcc, with sections added by objcopy --------------------

std::string uvarint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
  return out;
}

std::string elfWithSection(const kh::test::TempDir& d, const std::string& name,
                           const std::string& section, const std::string& address = "") {
  static int n = 0;
  std::string id = std::to_string(++n);
  d.write("main.c", "int main(void) { return 0; }\n");
  std::string sec = d.write("sec" + id, section), out;
  std::string addr =
      address.empty()
          ? ""
          : fmt::format(" --set-section-flags {0}=alloc,load,data --change-section-address {0}={1}",
                        name, address);
  int rc = shell(fmt::format("cd {0} && gcc -o bin{1} main.c && objcopy --add-section {2}={3}{4} "
                             "bin{1} bin{1}.out",
                             d.path(), id, name, sec, addr),
                 &out);
  EXPECT_EQ(rc, 0) << out;
  return kh::test::readFile(d.path() + "/bin" + id + ".out");
}

const std::string kModinfo =
    "path\texample.com/app\nmod\texample.com/app\t(devel)\t\n"
    "dep\tgithub.com/gorilla/mux\tv1.8.0\th1:abc=\n"
    "dep\tgolang.org/x/net\tv0.17.0\th1:def=\n=>\tgolang.org/x/net\tv0.19.0\th1:ghi=\n"
    "dep\texample.com/local\tv0.0.0\t\n=>\t../local\t\t\n"
    "dep\texample.com/dev\t(devel)\t\n=>\texample.com/other\tv9.9.9\th1:x=\n"
    "build\t-compiler=gc\n";

std::string sentinel(const std::string& s) {
  return std::string(16, '\x30') + s + std::string(16, '\x31');
}

TEST(ImagePackagesBinaries, GoBuildInfo) {
  kh::test::TempDir d;
  // Go 1.18+: the strings inline after the 32-byte header.
  std::string header =
      std::string("\xff Go buildinf:", 14) + '\x08' + '\x02' + std::string(16, '\0');
  std::string mod = sentinel(kModinfo);
  std::string info = header + uvarint(14) + "go1.21.5 X:foo" + uvarint(mod.size()) + mod;
  auto pkgs = parseGoBinary(elfWithSection(d, ".go.buildinfo", info));
  std::set<std::string> got;
  for (const Package& p : pkgs) got.insert(p.name + "@" + p.version);
  EXPECT_EQ(got, (std::set<std::string>{"stdlib@v1.21.5", "github.com/gorilla/mux@v1.8.0",
                                        "golang.org/x/net@v0.19.0"}));
  // Before Go 1.18: pointers to (pointer, length) string headers, resolved through the
  // section's virtual address.
  uint64_t base = 0x900000;
  std::string v = "go1.16.15",
              m = sentinel("path\tx\nmod\tx\tv1.0.0\t\ndep\tgithub.com/a/b\tv0.1.0\th1:x=\n");
  std::string old = std::string("\xff Go buildinf:", 14) + '\x08' + '\x00';
  auto u64 = [](uint64_t x) { return std::string(reinterpret_cast<const char*>(&x), 8); };
  // Layout: header (16) + 2 pointers (16) + 2 string headers (32) + data.
  uint64_t hv = base + 32, hm = base + 48, dv = base + 64, dm = dv + v.size();
  old += u64(hv) + u64(hm) + u64(dv) + u64(v.size()) + u64(dm) + u64(m.size()) + v + m;
  auto legacy = parseGoBinary(elfWithSection(d, ".go.buildinfo", old, "0x900000"));
  got.clear();
  for (const Package& p : legacy) got.insert(p.name + "@" + p.version);
  EXPECT_EQ(got, (std::set<std::string>{"stdlib@v1.16.15", "x@v1.0.0", "github.com/a/b@v0.1.0"}));
  // Not Go, not ELF.
  EXPECT_TRUE(parseGoBinary(elfWithSection(d, ".note.x", "nothing")).empty());
  EXPECT_TRUE(parseGoBinary("#!/bin/sh\necho hi\n").empty());
}

TEST(ImagePackagesBinaries, RustCargoAuditable) {
  kh::test::TempDir d;
  std::string json =
      R"({"packages":[{"name":"app","version":"0.1.0","source":"local","root":true},)"
      R"({"name":"serde","version":"1.0.193","source":"crates.io"},)"
      R"({"name":"cc","version":"1.0.83","source":"crates.io","kind":"build"}]})";
  uLongf n = compressBound(json.size());
  std::string z(n, '\0');
  ASSERT_EQ(compress(reinterpret_cast<Bytef*>(z.data()), &n,
                     reinterpret_cast<const Bytef*>(json.data()), json.size()),
            Z_OK);
  z.resize(n);
  auto pkgs = parseRustAuditable(elfWithSection(d, ".dep-v0", z));
  std::set<std::string> got;
  for (const Package& p : pkgs) got.insert(p.type + ":" + p.name + "@" + p.version);
  EXPECT_EQ(got, (std::set<std::string>{"cargo:app@0.1.0", "cargo:serde@1.0.193"}));
  EXPECT_TRUE(parseRustAuditable(elfWithSection(d, ".dep-v0", "not zlib")).empty());
}

TEST(ImagePackagesBinaries, ExecutablesAreFoundByMagicInLayers) {
  kh::test::TempDir d;
  std::string header =
      std::string("\xff Go buildinf:", 14) + '\x08' + '\x02' + std::string(16, '\0');
  std::string mod = sentinel("path\tm\nmod\tm\tv2.0.0\t\n");
  std::string elf = elfWithSection(d, ".go.buildinfo",
                                   header + uvarint(8) + "go1.22.0" + uvarint(mod.size()) + mod);
  Filesystem fs =
      fixtures::filesystemOf({{{"usr/bin/tool", elf, 'x'}, {"data/not-executable", elf}}});
  Inventory inv = buildInventory(fs);
  std::set<std::string> got;
  for (const Package& p : inv.packages) got.insert(p.path + " " + p.name + "@" + p.version);
  EXPECT_EQ(got, (std::set<std::string>{"usr/bin/tool m@v2.0.0", "usr/bin/tool stdlib@v1.22.0"}));
  EXPECT_EQ(find(inv.packages, "m")->purl, "pkg:golang/m@v2.0.0");
}

// --- Assembly: layers, purls, licences ------------------------------------------------------

TEST(ImagePackagesAssembly, IntroducingLayer) {
  auto status = [](const std::vector<std::pair<std::string, std::string>>& pkgs) {
    std::string s;
    for (const auto& [n, v] : pkgs)
      s += fmt::format("Package: {}\nStatus: install ok installed\nVersion: {}\n\n", n, v);
    return s;
  };
  Filesystem fs = fixtures::filesystemOf({
      {{"var/lib/dpkg/status", status({{"base", "1"}, {"libc", "2.36"}})}},
      {{"etc/unrelated", "x"}},
      {{"var/lib/dpkg/status", status({{"base", "1"}, {"libc", "2.36"}, {"curl", "7.88"}})}},
      {{"var/lib/dpkg/status", status({{"base", "1"}, {"libc", "2.37"}, {"curl", "7.88"}})},
       {"usr/lib/node_modules/left-pad/package.json", R"({"name":"left-pad","version":"1.3.0"})"}},
  });
  Inventory inv = buildInventory(fs);
  EXPECT_EQ(find(inv.packages, "base")->layer, 0u);
  EXPECT_EQ(find(inv.packages, "curl")->layer, 2u);
  EXPECT_EQ(find(inv.packages, "libc")->layer, 3u);  // upgraded there
  EXPECT_EQ(find(inv.packages, "left-pad")->layer, 3u);
  // A deleted language package is not in the final filesystem.
  Filesystem gone = fixtures::filesystemOf(
      {{{"app/node_modules/a/package.json", R"({"name":"a","version":"1.0.0"})"}},
       {{"app/node_modules/.wh.a", ""}}});
  EXPECT_TRUE(buildInventory(gone).packages.empty());
}

TEST(ImagePackagesAssembly, DebianCopyrightLicences) {
  Filesystem fs = fixtures::filesystemOf(
      {{{"var/lib/dpkg/status",
         "Package: zlib1g\nStatus: install ok installed\nVersion: 1:1.2.13\n"},
        {"usr/share/doc/zlib1g/copyright",
         "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
         "Files: *\nCopyright: x\nLicense: Zlib\n\nFiles: debian/*\nLicense: GPL-2+\n"
         " text of the licence\n"}}});
  EXPECT_EQ(buildInventory(fs).packages[0].licenses,
            (std::vector<std::string>{"Zlib", "GPL-2.0-or-later"}));
  // A doc directory linked to another package's (Debian policy 12.5) shares its copyright file;
  // a link to a directory without one gives nothing, and a loop is no crash.
  Filesystem linked = fixtures::filesystemOf(
      {{{"var/lib/dpkg/status",
         "Package: gcc-12-base\nStatus: install ok installed\nVersion: 12.2.0-14\n\n"
         "Package: cpp-12\nStatus: install ok installed\nVersion: 12.2.0-14\n\n"
         "Package: libstray\nStatus: install ok installed\nVersion: 1\n\n"
         "Package: loop-a\nStatus: install ok installed\nVersion: 1\n"},
        {"usr/share/doc/gcc-12-base/copyright",
         "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
         "Files: *\nLicense: GPL-3+\n"},
        {"usr/share/doc/cpp-12", "", 'l', "gcc-12-base"},
        {"usr/share/doc/libstray", "", 'l', "/usr/share/doc/nothing-here"},
        {"usr/share/doc/loop-a", "", 'l', "loop-b"},
        {"usr/share/doc/loop-b", "", 'l', "loop-a"}}});
  Inventory li = buildInventory(linked);
  EXPECT_EQ(find(li.packages, "cpp-12")->licenses, std::vector<std::string>{"GPL-3.0-or-later"});
  EXPECT_EQ(find(li.packages, "gcc-12-base")->licenses,
            std::vector<std::string>{"GPL-3.0-or-later"});
  EXPECT_TRUE(find(li.packages, "libstray")->licenses.empty());
  EXPECT_TRUE(find(li.packages, "loop-a")->licenses.empty());
  EXPECT_EQ(parseDebianCopyright("This package is free; see /usr/share/common-licenses/GPL-3.\n"),
            std::vector<std::string>{"GPL-3.0-only"});
}

TEST(ImagePackagesAssembly, LicenceNormalisation) {
  EXPECT_EQ(normaliseLicense("GPLv2+"), "GPL-2.0-or-later");
  EXPECT_EQ(normaliseLicense("ASL 2.0"), "Apache-2.0");
  EXPECT_EQ(normaliseLicense("Expat"), "MIT");
  EXPECT_EQ(normaliseLicense("mit"), "MIT");
  EXPECT_EQ(normaliseLicense("BSD-3-clause"), "BSD-3-Clause");
  EXPECT_EQ(normaliseLicense("The Apache Software License, Version 2.0"), "Apache-2.0");
  EXPECT_EQ(normaliseLicense("License :: OSI Approved :: MIT License"), "MIT");
  EXPECT_EQ(normaliseLicense("GPLv2+ and LGPLv2+"), "GPL-2.0-or-later AND LGPL-2.0-or-later");
  EXPECT_EQ(normaliseLicense("(MIT OR Apache-2.0)"), "(MIT OR Apache-2.0)");
  EXPECT_EQ(normaliseLicense("GPL-2.0-only WITH Classpath-exception-2.0"),
            "GPL-2.0-only WITH Classpath-exception-2.0");
  // Unknown parts keep the declared text: never a guess.
  EXPECT_EQ(normaliseLicense("GPL-3+ with Bison exception"), "GPL-3+ with Bison exception");
  EXPECT_EQ(normaliseLicense("Proprietary blob"), "Proprietary blob");
  EXPECT_TRUE(isSpdxExpression("MIT AND (GPL-2.0-or-later OR BSD-3-Clause)"));
  EXPECT_FALSE(isSpdxExpression("MIT AND whatever"));
}

TEST(ImagePackagesAssembly, Purls) {
  auto purl = [](std::string type, std::string name, std::string version) {
    Package p;
    p.type = std::move(type);
    p.name = std::move(name);
    p.version = std::move(version);
    return purlOf(p, std::nullopt);
  };
  EXPECT_EQ(purl("npm", "@angular/core", "16.0.0"), "pkg:npm/%40angular/core@16.0.0");
  EXPECT_EQ(purl("pypi", "Django_Rest", "3.0"), "pkg:pypi/django-rest@3.0");
  EXPECT_EQ(purl("maven", "org.apache.commons:commons-lang3", "3.12.0"),
            "pkg:maven/org.apache.commons/commons-lang3@3.12.0");
  EXPECT_EQ(purl("golang", "github.com/gorilla/mux", "v1.8.0"),
            "pkg:golang/github.com/gorilla/mux@v1.8.0");
  EXPECT_EQ(purl("composer", "monolog/monolog", "3.5.0"), "pkg:composer/monolog/monolog@3.5.0");
  EXPECT_EQ(purl("gem", "rake", "13.0.6"), "pkg:gem/rake@13.0.6");
  EXPECT_EQ(purl("cargo", "serde", "1.0.193"), "pkg:cargo/serde@1.0.193");
}

}  // namespace
}  // namespace kh::image
