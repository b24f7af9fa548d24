// The HTTP client against a scripted local server: redirects that never carry Authorization to
// another origin, retries with Retry-After, bodies resumed with Range after a cut (and when the
// server ignores Range), caps, timeouts, schemes, and URL helpers.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <string>

#include "net/http.h"
#include "tests/unit/http_test_server.h"

namespace kh::test {
namespace net_http_tests {

using net::Client;
using net::ClientOptions;
using net::Request;

ClientOptions fast() {
  ClientOptions o;
  o.allow_http = true;
  o.backoff = std::chrono::milliseconds(5);
  o.max_backoff = std::chrono::milliseconds(50);
  o.connect_timeout = std::chrono::seconds(5);
  o.stall_timeout = std::chrono::seconds(5);
  return o;
}

TEST(NetHttp, KeepsTheBodyAndTheHeaders) {
  TestHttpServer srv([](const HttpRequest& r, int fd) {
    TestHttpServer::respond(
        fd, 200, {{"Docker-Content-Digest", "sha256:abc"}, {"X-Seen", r.header("x-test")}},
        "hello");
  });
  Client c(fast());
  Request req;
  req.url = srv.url("/v2/");
  req.headers = {{"X-Test", "yes"}};
  auto r = c.fetch(req);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello");
  EXPECT_EQ(r->header("docker-content-digest"), "sha256:abc");
  EXPECT_EQ(r->header("x-seen"), "yes");
  EXPECT_EQ(r->attempts, 1);
  // HEAD: headers, no body.
  req.method = "HEAD";
  auto h = c.fetch(req);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(srv.requests().back().method, "HEAD");
  EXPECT_TRUE(h->body.empty());
}

TEST(NetHttp, RedirectsNeverCarryAuthorizationToAnotherOrigin) {
  TestHttpServer storage(
      [](const HttpRequest&, int fd) { TestHttpServer::respond(fd, 200, {}, "blob"); });
  TestHttpServer registry([&](const HttpRequest& r, int fd) {
    if (r.target == "/v2/a/blobs/x")
      TestHttpServer::respond(fd, 307, {{"Location", "/v2/a/blobs/x-moved"}}, "");
    else
      TestHttpServer::respond(fd, 307, {{"Location", storage.url("/bucket/x?sig=1")}}, "");
  });
  Client c(fast());
  Request req;
  req.url = registry.url("/v2/a/blobs/x");
  req.authorization = "Bearer s3cr3t";
  std::string got;
  net::Sink sink = [&](std::string_view d) {
    got.append(d);
    return true;
  };
  auto r = c.fetch(req, &sink);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(got, "blob");
  EXPECT_EQ(r->final_url, storage.url("/bucket/x?sig=1"));
  // The registry saw the credentials on both hops (same origin); the storage host never did.
  auto seen = registry.requests();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].header("authorization"), "Bearer s3cr3t");
  EXPECT_EQ(seen[1].header("authorization"), "Bearer s3cr3t");
  auto other = storage.requests();
  ASSERT_EQ(other.size(), 1u);
  EXPECT_EQ(other[0].header("authorization"), "");
  EXPECT_EQ(other[0].target, "/bucket/x?sig=1");
}

TEST(NetHttp, RedirectLoopsAndForbiddenSchemesStop) {
  TestHttpServer loop([](const HttpRequest&, int fd) {
    TestHttpServer::respond(fd, 302, {{"Location", "/again"}}, "");
  });
  ClientOptions o = fast();
  o.max_redirects = 3;
  Client c(o);
  Request req;
  req.url = loop.url("/start");
  auto r = c.fetch(req);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("redirected more than 3 times"), std::string::npos);
  EXPECT_EQ(loop.requests().size(), 4u);
  // Plain HTTP only where allowed.
  Client strict(ClientOptions{});
  auto h = strict.fetch(req);
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.error().message.find("is not allowed (http://)"), std::string::npos);
}

TEST(NetHttp, RetriesHonourRetryAfterAndGiveUpWithTheLastAnswer) {
  std::atomic<int> calls{0};
  TestHttpServer srv([&](const HttpRequest&, int fd) {
    int n = ++calls;
    if (n == 1)
      TestHttpServer::respond(fd, 429, {{"Retry-After", "0"}, {"RateLimit-Remaining", "0;w=21600"}},
                              "slow down");
    else if (n == 2)
      TestHttpServer::respond(fd, 503, {}, "");
    else
      TestHttpServer::respond(fd, 200, {}, "ok");
  });
  Client c(fast());
  Request req;
  req.url = srv.url("/v2/");
  auto r = c.fetch(req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->attempts, 3);
  // Always 429: after the attempts, the answer itself (the caller says "rate limited").
  TestHttpServer limited([](const HttpRequest&, int fd) {
    TestHttpServer::respond(fd, 429, {{"Retry-After", "0"}, {"RateLimit-Limit", "100;w=21600"}},
                            "");
  });
  ClientOptions o = fast();
  o.max_attempts = 3;
  Client c2(o);
  req.url = limited.url("/v2/");
  auto l = c2.fetch(req);
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->status, 429);
  EXPECT_EQ(l->attempts, 3);
  EXPECT_EQ(l->header("ratelimit-limit"), "100;w=21600");
  EXPECT_EQ(limited.requests().size(), 3u);
  // A Retry-After beyond what we are willing to wait is not waited for.
  TestHttpServer later([](const HttpRequest&, int fd) {
    TestHttpServer::respond(fd, 503, {{"Retry-After", "3600"}}, "");
  });
  req.url = later.url("/");
  auto w = c2.fetch(req);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->status, 503);
  EXPECT_EQ(w->attempts, 1);
  // 404 is an answer, not a failure to retry.
  TestHttpServer missing(
      [](const HttpRequest&, int fd) { TestHttpServer::respond(fd, 404, {}, "{}"); });
  req.url = missing.url("/");
  auto m = c2.fetch(req);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->status, 404);
  EXPECT_EQ(missing.requests().size(), 1u);
}

std::string payload() {
  std::string s;
  for (int i = 0; i < 1000; ++i) s.push_back(static_cast<char>('a' + i % 26));
  return s;
}

TEST(NetHttp, ACutBodyResumesWithRange) {
  const std::string body = payload();
  TestHttpServer srv([&](const HttpRequest& r, int fd) {
    std::string range = r.header("range");
    if (range.empty()) {  // the first try: 400 bytes of 1000, then the connection drops
      TestHttpServer::writeAll(
          fd, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + body.substr(0, 400));
      return;
    }
    EXPECT_EQ(range, "bytes=400-");
    std::string rest = body.substr(400);
    TestHttpServer::respond(fd, 206, {{"Content-Range", "bytes 400-999/1000"}}, rest);
  });
  Client c(fast());
  Request req;
  req.url = srv.url("/blob");
  std::string got;
  net::Sink sink = [&](std::string_view d) {
    got.append(d);
    return true;
  };
  auto r = c.fetch(req, &sink);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 206);
  EXPECT_EQ(got, body);
  EXPECT_EQ(r->attempts, 2);
}

TEST(NetHttp, AResumeTheServerIgnoresSkipsWhatWasDelivered) {
  const std::string body = payload();
  std::atomic<int> calls{0};
  TestHttpServer srv([&](const HttpRequest&, int fd) {
    if (++calls == 1) {
      TestHttpServer::writeAll(
          fd, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + body.substr(0, 300));
      return;
    }
    TestHttpServer::respond(fd, 200, {}, body);  // Range ignored: everything again
  });
  Client c(fast());
  Request req;
  req.url = srv.url("/blob");
  std::string got;
  net::Sink sink = [&](std::string_view d) {
    got.append(d);
    return true;
  };
  auto r = c.fetch(req, &sink);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(got, body);
}

TEST(NetHttp, CapsTimeoutsAndAReceiverThatStops) {
  TestHttpServer big([](const HttpRequest&, int fd) {
    TestHttpServer::respond(fd, 200, {}, std::string(5000, 'x'));
  });
  Client c(fast());
  Request req;
  req.url = big.url("/");
  auto r = c.fetch(req, nullptr, 1000);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("sent more than 1000 bytes"), std::string::npos);
  net::Sink stop = [](std::string_view) { return false; };
  auto s = c.fetch(req, &stop);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("stopped by its receiver"), std::string::npos);
  // A server that accepts and never answers: the deadline ends it.
  TestHttpServer silent([](const HttpRequest&, int) { ::sleep(3); });
  ClientOptions o = fast();
  o.max_attempts = 1;
  o.total_timeout = std::chrono::seconds(1);
  Client t(o);
  req.url = silent.url("/");
  auto to = t.fetch(req);
  ASSERT_FALSE(to.ok());
  EXPECT_NE(to.error().message.find("timed out"), std::string::npos) << to.error().message;
  // Nothing listening.
  req.url = "http://127.0.0.1:1/";
  auto refused = t.fetch(req);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("cannot reach http://127.0.0.1:1"), std::string::npos)
      << refused.error().message;
}

TEST(NetHttp, UrlHelpersAndRetryAfter) {
  EXPECT_EQ(net::originOf("https://Registry.io/v2/x"), "https://registry.io:443");
  EXPECT_EQ(net::originOf("http://localhost:5000/v2/"), "http://localhost:5000");
  EXPECT_EQ(net::originOf("http://a/"), "http://a:80");
  EXPECT_EQ(net::originOf("https://[::1]:5000/x"), "https://[::1]:5000");
  EXPECT_NE(net::originOf("https://r.io/x"), net::originOf("http://r.io/x"));
  EXPECT_EQ(net::resolveUrl("https://r.io/v2/a/blobs/x", "/y"), "https://r.io/y");
  EXPECT_EQ(net::resolveUrl("https://r.io/v2/a/blobs/x", "y?z=1"), "https://r.io/v2/a/blobs/y?z=1");
  EXPECT_EQ(net::resolveUrl("https://r.io/v2/x", "//cdn.io/b"), "https://cdn.io/b");
  EXPECT_EQ(net::resolveUrl("https://r.io/v2/x", "http://cdn.io/b"), "http://cdn.io/b");
  auto now = std::chrono::system_clock::from_time_t(784111777);  // Sun, 06 Nov 1994 08:49:37 GMT
  EXPECT_EQ(Client::retryAfter("120", now), std::chrono::seconds(120));
  EXPECT_EQ(Client::retryAfter("Sun, 06 Nov 1994 08:50:37 GMT", now), std::chrono::seconds(60));
  EXPECT_EQ(Client::retryAfter("Sun, 06 Nov 1994 08:40:37 GMT", now), std::chrono::seconds(0));
  EXPECT_LT(Client::retryAfter("soon", now).count(), 0);
  EXPECT_LT(Client::retryAfter("", now).count(), 0);
}

}  // namespace net_http_tests
}  // namespace kh::test
