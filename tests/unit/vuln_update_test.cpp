// `kubeharden image db update` against a fake HTTPS mirror on loopback (never the internet): the
// archive URLs, ETag skipping (If-None-Match, 304), a changed archive re-imported, a missing
// ecosystem (404), a certificate the client must refuse, an unreachable mirror, and HTTPS only.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <mutex>

#include "tests/unit/fake_https.h"
#include "tests/unit/image_util.h"
#include "tests/unit/test_util.h"
#include "vuln/update.h"

namespace kh::vuln {
namespace {

namespace http = boost::beast::http;

std::string osv(std::string_view id, std::string_view eco, std::string_view name,
                std::string_view fixed) {
  return fmt::format(
      R"({{"id":"{}","modified":"2024-01-01T00:00:00Z","affected":[{{"package":{{"ecosystem":"{}","name":"{}"}},"ranges":[{{"type":"ECOSYSTEM","events":[{{"introduced":"0"}},{{"fixed":"{}"}}]}}]}}]}})",
      id, eco, name, fixed);
}

TEST(VulnUpdate, ArchiveUrls) {
  EXPECT_EQ(archiveUrl("https://osv-vulnerabilities.storage.googleapis.com", "PyPI"),
            "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip");
  EXPECT_EQ(archiveUrl("https://mirror.example/osv/", "Rocky Linux"),
            "https://mirror.example/osv/Rocky%20Linux/all.zip");
  EXPECT_EQ(archiveUrl("https://m", "crates.io"), "https://m/crates.io/all.zip");
}

struct Mirror {
  std::mutex mu;
  std::map<std::string, std::pair<std::string, std::string>> files;  // path -> (etag, body)
  std::vector<std::string> log;                                      // "GET path If-None-Match"
  kh::test::FakeHttps server{
      [this](const kh::test::FakeHttps::Request& r, kh::test::FakeHttps::TlsStream& s) {
        std::unique_lock lock(mu);
        std::string path(r.target()), inm(r[http::field::if_none_match]);
        log.push_back(fmt::format("{} {} {}", std::string(r.method_string()), path, inm));
        auto it = files.find(path);
        if (it == files.end()) {
          lock.unlock();
          return kh::test::writeResponse(s, 404, "no such object");
        }
        auto [etag, body] = it->second;
        lock.unlock();
        if (inm == etag)
          return kh::test::writeResponse(s, 304, "", fmt::format("ETag: {}\r\n", etag));
        kh::test::writeResponse(s, 200, body,
                                fmt::format("Content-Type: application/zip\r\nETag: {}\r\n", etag));
      }};
};

TEST(VulnUpdate, DownloadsSkipsByEtagAndFailsClearly) {
  kh::test::TempDir d;
  Mirror m;
  m.files["/PyPI/all.zip"] = {
      "\"p1\"",
      image::fixtures::zipOf({{"PYSEC-1.json", osv("PYSEC-1", "PyPI", "django", "3.2.1")}})};
  m.files["/Go/all.zip"] = {
      "\"g1\"",
      image::fixtures::zipOf({{"GO-1.json", osv("GO-1", "Go", "example.com/m", "1.2.0")}})};
  std::string db = d.path() + "/cache/v.db";
  std::string ca = std::string(KH_SOURCE_DIR) + "/tests/admission/tls/cert-a.pem";
  std::string common =
      fmt::format("image db update --db {} --source {} --ca-cert {}", db, m.server.url(), ca);

  auto first = kh::test::runCli(common + " --ecosystem PyPI,Go");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find("PyPI"), std::string::npos);
  EXPECT_NE(first.out.find("2 new"), std::string::npos) << first.out;
  EXPECT_EQ(m.log, (std::vector<std::string>{"GET /PyPI/all.zip ", "GET /Go/all.zip "}));
  auto status = kh::test::runCli(fmt::format("image db status --db {}", db));
  EXPECT_NE(status.out.find("2 advisories"), std::string::npos) << status.out;
  // Nothing is left behind next to the database.
  size_t entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(d.path() + "/cache"))
    entries += e.path().filename().string().starts_with(".kubeharden-download") ? 100 : 1;
  EXPECT_EQ(entries, 1u) << "only v.db";

  // Again: the mirror is asked with the ETags it gave and answers 304; nothing is downloaded.
  m.log.clear();
  auto again = kh::test::runCli(common + " --ecosystem PyPI,Go");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(m.log,
            (std::vector<std::string>{"GET /PyPI/all.zip \"p1\"", "GET /Go/all.zip \"g1\""}));
  EXPECT_NE(again.out.find("unchanged (ETag)"), std::string::npos) << again.out;

  // A new PyPI archive: downloaded and imported (the record is newer), Go still skipped.
  m.files["/PyPI/all.zip"] = {
      "\"p2\"",
      image::fixtures::zipOf({{"PYSEC-1.json", osv("PYSEC-1", "PyPI", "django", "3.2.1")},
                              {"PYSEC-2.json", osv("PYSEC-2", "PyPI", "flask", "2.0.0")}})};
  auto changed = kh::test::runCli(common + " --ecosystem PyPI,Go");
  ASSERT_EQ(changed.exit_code, 0) << changed.err;
  EXPECT_NE(changed.out.find("1 new"), std::string::npos) << changed.out;
  EXPECT_NE(changed.out.find("1 unchanged"), std::string::npos) << changed.out;

  // An ecosystem the mirror does not have: named, exit 3, the others still imported.
  auto missing = kh::test::runCli(common + " --ecosystem Nope,Go");
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_NE(missing.err.find("no archive for 'Nope' (HTTP 404)"), std::string::npos) << missing.err;

  // A certificate signed by someone else: refused, database unchanged.
  std::string before = kh::test::readFile(db);
  auto untrusted =
      kh::test::runCli(fmt::format("image db update --db {} --source {} --cacert "
                                   "{}/tests/admission/tls/cert-b.pem --ecosystem PyPI",
                                   db, m.server.url(), KH_SOURCE_DIR));
  EXPECT_EQ(untrusted.exit_code, 3);
  EXPECT_NE(untrusted.err.find("TLS with https://127.0.0.1"), std::string::npos) << untrusted.err;
  EXPECT_NE(untrusted.err.find("is unchanged"), std::string::npos) << untrusted.err;
  EXPECT_EQ(kh::test::readFile(db), before);
}

TEST(VulnUpdate, OfflineAndHttpsOnly) {
  kh::test::TempDir d;
  std::string db = d.path() + "/v.db";
  // A port nothing listens on: connection refused, which is what offline looks like here.
  int port = 0;
  {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    port = a.local_endpoint().port();
  }
  auto offline = kh::test::runCli(fmt::format(
      "image db update --db {} --source https://127.0.0.1:{} --ecosystem PyPI,Go,npm", db, port));
  EXPECT_EQ(offline.exit_code, 3);
  EXPECT_NE(offline.err.find("2 more ecosystem(s) not tried"), std::string::npos) << offline.err;
  EXPECT_FALSE(std::filesystem::exists(db)) << "no empty database left behind";
  EXPECT_NE(offline.err.find("cannot reach 127.0.0.1"), std::string::npos) << offline.err;
  EXPECT_NE(offline.err.find("offline?"), std::string::npos);
  EXPECT_NE(offline.err.find("kubeharden image db import"), std::string::npos);
  auto http = kh::test::runCli(
      fmt::format("image db update --db {} --source http://127.0.0.1:{}", db, port));
  EXPECT_EQ(http.exit_code, 2);
  EXPECT_NE(http.err.find("https://"), std::string::npos) << http.err;
}

}  // namespace
}  // namespace kh::vuln
