// The namespace watch against a fake Kubernetes API server over TLS (loopback): paginated LIST,
// WATCH from the list's resourceVersion with events split across chunks, bookmarks, 410 Gone and
// the re-list, token rotation, certificate verification, and the webhook using the labels.
#include "admission/namespace_watch.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast.hpp>
#include <condition_variable>
#include <fstream>
#include <functional>
#include <mutex>
#include <thread>

#include "admission/server.h"
#include "tests/unit/fake_https.h"
#include "tests/unit/http_test_client.h"
#include "tests/unit/test_util.h"

namespace kh::admission {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

const std::string kSrc = KH_SOURCE_DIR;

using TlsStream = kh::test::FakeHttps::TlsStream;

// Writes one HTTP/1.1 chunk.
void chunk(TlsStream& s, std::string_view data) {
  std::string c = fmt::format("{:x}\r\n{}\r\n", data.size(), data);
  asio::write(s, asio::buffer(c));
}

// A Kubernetes API server that answers GETs with `handler(target, authorization, stream)`,
// which writes the whole response itself.
class FakeApi : public kh::test::FakeHttps {
 public:
  using Handler =
      std::function<void(const std::string& target, const std::string& auth, TlsStream& s)>;
  explicit FakeApi(Handler h)
      : FakeHttps([h = std::move(h)](const Request& r, TlsStream& s) {
          h(std::string(r.target()), std::string(r[http::field::authorization]), s);
        }) {}
};

std::string ns(std::string_view name, std::string_view enforce) {
  std::string labels =
      enforce.empty() ? "{}" : fmt::format(R"({{"kubeharden.io/enforce":"{}"}})", enforce);
  return fmt::format(R"({{"metadata":{{"name":"{}","labels":{}}}}})", name, labels);
}

void writeJson(TlsStream& s, int status, const std::string& body) {
  kh::test::writeResponse(s, status, body);
}

void startChunked(TlsStream& s) {
  std::string h =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
  asio::write(s, asio::buffer(h));
}

// The enforce label of each namespace in a snapshot, "name=level;..." (level empty if none).
std::string describe(const NamespaceSnapshot& s) {
  std::string o;
  for (const auto& [name, e] : s.namespaces)
    o += name + "=" + std::string(getStr(e.labels, "kubeharden.io/enforce")) + ";";
  return o;
}

template <typename F>
bool waitFor(F f, int ms = 10000) {
  for (int i = 0; i < ms / 10; ++i) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return f();
}

struct Recorder {
  std::mutex mu;
  std::vector<std::string> snapshots, targets, auths, logs;
  std::shared_ptr<const NamespaceSnapshot> last;
  bool has(const std::string& s) {
    std::lock_guard<std::mutex> l(mu);
    return std::find(snapshots.begin(), snapshots.end(), s) != snapshots.end();
  }
};

TEST(NamespaceWatch, ListWatchRelist) {
  test::TempDir d;
  std::string token = d.write("token", "tok-1\n");
  Recorder rec;
  std::atomic<int> lists{0};
  std::mutex gate_mu;
  std::condition_variable gate;
  bool release_first_watch = false;
  FakeApi api([&](const std::string& target, const std::string& auth, TlsStream& s) {
    {
      std::lock_guard<std::mutex> l(rec.mu);
      rec.targets.push_back(target);
      rec.auths.push_back(auth);
    }
    if (target == "/api/v1/namespaces?limit=2") {
      if (++lists == 1)
        writeJson(s, 200,
                  R"({"kind":"NamespaceList","metadata":{"resourceVersion":"5","continue":"a b"},)"
                  R"("items":[)" +
                      ns("ns-a", "restricted") + "," + ns("ns-b", "") + "]}");
      else
        writeJson(s, 200,
                  R"({"kind":"NamespaceList","metadata":{"resourceVersion":"20"},"items":[)" +
                      ns("ns-z", "baseline") + "]}");
    } else if (target == "/api/v1/namespaces?limit=2&continue=a%20b") {
      writeJson(s, 200,
                R"({"kind":"NamespaceList","metadata":{"resourceVersion":"7"},"items":[)" +
                    ns("ns-c", "") + "]}");
    } else if (target.find("watch=1") != std::string::npos &&
               target.find("resourceVersion=7") != std::string::npos) {
      startChunked(s);
      std::string added = R"({"type":"ADDED","object":)" + ns("ns-d", "privileged") + "}\n";
      chunk(s, added.substr(0, 10));  // an event split across chunks
      chunk(s, added.substr(10));
      chunk(s, R"({"type":"MODIFIED","object":)" + ns("ns-a", "") + "}\n" +
                   R"({"type":"DELETED","object":)" + ns("ns-b", "") + "}\n");
      chunk(s, R"({"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"12"}}})"
               "\n");
      {
        std::unique_lock<std::mutex> l(gate_mu);
        gate.wait_for(l, std::chrono::seconds(30), [&] { return release_first_watch; });
      }
      chunk(s, R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired"}})"
               "\n");
      chunk(s, "");
    } else if (target.find("watch=1") != std::string::npos) {
      startChunked(s);
      // Held open until the client goes away.
      char b[16];
      boost::system::error_code e;
      s.next_layer().read_some(asio::buffer(b), e);
    } else {
      writeJson(s, 404, R"({"kind":"Status","code":404})");
    }
  });

  KubeApiOptions o;
  o.server = api.url();
  o.token_file = token;
  o.ca_file = kSrc + "/tests/admission/tls/cert-a.pem";
  o.page_size = 2;
  auto w = NamespaceWatch::create(
      o,
      [&](std::shared_ptr<const NamespaceSnapshot> s) {
        std::lock_guard<std::mutex> l(rec.mu);
        rec.snapshots.push_back(describe(*s));
        rec.last = s;
      },
      [&](const std::string& m) {
        std::lock_guard<std::mutex> l(rec.mu);
        rec.logs.push_back(m);
      });
  ASSERT_TRUE(w) << w.error().describe();
  w.value()->start();
  // Both pages make one snapshot.
  EXPECT_TRUE(waitFor([&] { return rec.has("ns-a=restricted;ns-b=;ns-c=;"); }));
  EXPECT_TRUE(w.value()->synced());
  // The events, including the one split across chunks, as they arrive (the stream stays open).
  EXPECT_TRUE(waitFor([&] { return rec.has("ns-a=;ns-c=;ns-d=privileged;"); }, 5000))
      << ::testing::PrintToString(rec.snapshots);
  // The token is re-read: the re-list after 410 Gone uses the rotated one.
  d.write("token", "tok-2\n");
  {
    std::lock_guard<std::mutex> l(gate_mu);
    release_first_watch = true;
  }
  gate.notify_all();
  EXPECT_TRUE(waitFor([&] { return rec.has("ns-z=baseline;"); }))
      << ::testing::PrintToString(rec.snapshots);
  EXPECT_TRUE(waitFor([&] { return w.value()->relists() == 2; }));
  EXPECT_TRUE(waitFor([&] {
    std::lock_guard<std::mutex> l(rec.mu);
    return std::any_of(rec.targets.begin(), rec.targets.end(), [](const std::string& t) {
      return t.find("resourceVersion=20") != std::string::npos;
    });
  }));
  w.value()->stop();  // wakes the watch held open
  std::lock_guard<std::mutex> l(rec.mu);
  EXPECT_EQ(rec.auths.front(), "Bearer tok-1");
  EXPECT_EQ(rec.auths.back(), "Bearer tok-2");
  bool first_watch_ok = false;
  for (const std::string& t : rec.targets)
    if (t.find("watch=1") != std::string::npos && t.find("resourceVersion=7") != std::string::npos)
      first_watch_ok = t.find("allowWatchBookmarks=true") != std::string::npos;
  EXPECT_TRUE(first_watch_ok) << ::testing::PrintToString(rec.targets);
  EXPECT_EQ(w.value()->events(), 4u);  // ADDED, MODIFIED, DELETED, BOOKMARK
  EXPECT_TRUE(rec.logs.empty()) << ::testing::PrintToString(rec.logs);
}

TEST(NamespaceWatch, RefusesAServerItCannotVerify) {
  Recorder rec;
  FakeApi api([&](const std::string&, const std::string&, TlsStream& s) {
    writeJson(s, 200, R"({"metadata":{"resourceVersion":"1"},"items":[]})");
  });
  KubeApiOptions o;
  o.server = api.url();
  o.token_file = "/nonexistent";
  o.ca_file = kSrc + "/tests/admission/tls/cert-b.pem";  // not the server's
  auto w = NamespaceWatch::create(
      o, [&](std::shared_ptr<const NamespaceSnapshot>) { rec.snapshots.push_back("x"); },
      [&](const std::string& m) {
        std::lock_guard<std::mutex> l(rec.mu);
        rec.logs.push_back(m);
      });
  ASSERT_TRUE(w);
  w.value()->start();
  EXPECT_TRUE(waitFor([&] {
    std::lock_guard<std::mutex> l(rec.mu);
    return !rec.logs.empty();
  }));
  w.value()->stop();
  EXPECT_FALSE(w.value()->synced());
  EXPECT_TRUE(rec.snapshots.empty());
  EXPECT_NE(rec.logs.front().find("TLS with 127.0.0.1"), std::string::npos) << rec.logs.front();

  // Options it cannot use are refused up front.
  o.server = "ftp://x";
  EXPECT_FALSE(NamespaceWatch::create(o, nullptr, nullptr));
  o.server = "https://127.0.0.1:1";
  o.ca_file = "/nonexistent";
  auto bad = NamespaceWatch::create(o, nullptr, nullptr);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("cannot read the API server's CA"), std::string::npos);
}

// The webhook follows the labels it watches: the privileged pod of namespace "shop" is denied
// under the default enforce level (baseline) until the API says shop is privileged.
TEST(NamespaceWatch, WebhookUsesWatchedLabels) {
  FakeApi api([&](const std::string& target, const std::string&, TlsStream& s) {
    if (target.find("watch=1") == std::string::npos) {
      writeJson(
          s, 200,
          R"({"metadata":{"resourceVersion":"3"},"items":[)" + ns("shop", "privileged") + "]}");
    } else {
      startChunked(s);
      char b[16];
      boost::system::error_code e;
      s.next_layer().read_some(asio::buffer(b), e);
    }
  });
  ServerOptions so;
  so.listen.clear();
  so.insecure_listen = "127.0.0.1:0";
  so.watch_namespaces = true;
  so.kube.server = api.url();
  so.kube.token_file = "/nonexistent";
  so.kube.ca_file = kSrc + "/tests/admission/tls/cert-a.pem";
  auto server = Server::create(so);
  ASSERT_TRUE(server) << server.error().describe();
  std::thread t([&] { server.value()->run(); });
  auto post = [&](const std::string& target, const std::string& body) {
    return test::localHttp(server.value()->port(), target, body);
  };
  EXPECT_TRUE(waitFor([&] { return post("/readyz", "").status == 200; }));
  std::string pod = test::readFile(kSrc + "/fuzz/corpus/admission/pod.json");
  auto r = post("/validate", pod);
  EXPECT_EQ(r.status, 200u);
  EXPECT_NE(r.body.find(R"("allowed":true)"), std::string::npos) << r.body;
  EXPECT_NE(post("/metrics", "").body.find("kubeharden_admission_namespaces 1"), std::string::npos);
  server.value()->shutdown();
  t.join();
}

}  // namespace
}  // namespace kh::admission
