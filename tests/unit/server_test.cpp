// The admission server over real sockets (loopback): routes, keep-alive, body and header limits,
// the ?timeout= deadline, TLS 1.2+ with certificate reload, config reload and draining.
#include "admission/server.h"

#include <gtest/gtest.h>
#include <openssl/x509.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast.hpp>
#include <chrono>
#include <filesystem>
#include <thread>

#include "admission/metrics.h"
#include "tests/unit/test_util.h"

namespace kh::admission {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

const std::string kSrc = KH_SOURCE_DIR;

struct Running {
  std::unique_ptr<Server> server;
  std::thread thread;
  explicit Running(const ServerOptions& o) {
    auto s = Server::create(o);
    EXPECT_TRUE(s) << (s ? "" : s.error().describe());
    server = std::move(s.value());
    thread = std::thread([this] { server->run(); });
  }
  ~Running() {
    server->shutdown();
    thread.join();
  }
};

struct Reply {
  int status = 0;
  std::string body;
  bool keep_alive = false;
};

// One client connection (plain), several requests.
class Client {
 public:
  explicit Client(int port) : sock_(io_) {
    sock_.connect({asio::ip::make_address("127.0.0.1"), uint16_t(port)});
  }
  Reply send(http::verb verb, std::string target, std::string body = "") {
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, "localhost");
    req.body() = std::move(body);
    req.keep_alive(true);
    req.prepare_payload();
    http::write(sock_, req);
    http::response<http::string_body> res;
    http::read(sock_, buf_, res);
    return {static_cast<int>(res.result_int()), res.body(), res.keep_alive()};
  }
  tcp::socket& socket() { return sock_; }

 private:
  asio::io_context io_;
  tcp::socket sock_;
  beast::flat_buffer buf_;
};

ServerOptions plain() {
  ServerOptions o;
  o.listen.clear();
  o.insecure_listen = "127.0.0.1:0";
  return o;
}

TEST(Server, RoutesAndKeepAlive) {
  Running r(plain());
  Client c(r.server->port());
  EXPECT_EQ(c.send(http::verb::get, "/healthz").status, 200);
  EXPECT_EQ(c.send(http::verb::get, "/readyz").status, 200);
  std::string pod = test::readFile(kSrc + "/fuzz/corpus/admission/pod.json");
  for (int i = 0; i < 3; ++i) {  // one connection, several reviews
    Reply v = c.send(http::verb::post, "/validate?timeout=10s", pod);
    EXPECT_EQ(v.status, 200);
    EXPECT_TRUE(v.keep_alive);
    EXPECT_NE(v.body.find(R"("allowed":false)"), std::string::npos) << v.body;
    EXPECT_EQ(v.body.find(R"("patch")"), std::string::npos);
  }
  EXPECT_EQ(c.send(http::verb::post, "/mutate", pod).status, 200);
  EXPECT_EQ(c.send(http::verb::post, "/validate", "{").status, 400);
  EXPECT_EQ(c.send(http::verb::get, "/validate").status, 405);
  EXPECT_EQ(c.send(http::verb::get, "/nope").status, 404);
  Reply m = c.send(http::verb::get, "/metrics");
  EXPECT_NE(
      m.body.find(
          R"(kubeharden_admission_requests_total{endpoint="validate",operation="CREATE",kind="Pod",mode="baseline",decision="denied"} 3)"),
      std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("kubeharden_admission_decode_errors_total 1"), std::string::npos);
  EXPECT_NE(m.body.find(R"(kubeharden_admission_duration_seconds_bucket{le="0.0001"})"),
            std::string::npos);
}

// The scheduled cluster scan's summary, mounted from its ConfigMap: its counts on /metrics,
// re-read when the file changes (a ConfigMap update swaps it), a bad document reported and the
// previous counts kept.
TEST(Server, ClusterReportMetrics) {
  test::TempDir d;
  std::string file = d.path() + "/summary.json";
  ServerOptions o = plain();
  o.cluster_report = file;  // not there yet: no scan has run
  Running r(o);
  Client c(r.server->port());
  EXPECT_EQ(c.send(http::verb::get, "/metrics").body.find("kubeharden_cluster_"),
            std::string::npos);
  d.write("summary.json", R"({"schema":"kubeharden/cluster-summary/v1","unixTime":1796000000,
    "cluster":{"context":"prod","kubernetesVersion":"v1.33.4","objects":1234,"complete":false,"checksNotEvaluated":7},
    "bySeverity":{"critical":2,"high":5,"medium":0,"low":1,"info":0},
    "byCheck":{"pod-privileged":{"critical":2},"cluster-version-cve":{"high":5}}})");
  std::string body;
  for (int i = 0; i < 40 && body.find("kubeharden_cluster_findings") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    body = c.send(http::verb::get, "/metrics").body;
  }
  for (
      const char* line :
      {R"(kubeharden_cluster_findings{severity="critical"} 2)",
       R"(kubeharden_cluster_findings{severity="high"} 5)",
       R"(kubeharden_cluster_check_findings{check="pod-privileged",severity="critical"} 2)",
       "kubeharden_cluster_scan_complete 0", "kubeharden_cluster_scan_objects 1234",
       "kubeharden_cluster_checks_not_evaluated 7",
       R"(kubeharden_cluster_scan_timestamp_seconds{context="prod",kubernetes_version="v1.33.4"} 1796000000)"})
    EXPECT_NE(body.find(line), std::string::npos) << line << "\n" << body;
  // Not a summary: the counts stay as they were.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  d.write("summary.json", R"({"schema":"something/else"})");
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  EXPECT_NE(c.send(http::verb::get, "/metrics")
                .body.find(R"(kubeharden_cluster_findings{severity="critical"} 2)"),
            std::string::npos);
  admission::Metrics m;
  EXPECT_FALSE(m.clusterSummary("{"));
  EXPECT_FALSE(m.clusterSummary(R"({"schema":"kubeharden/scan/v1"})"));
}

TEST(Server, BodyLimitAndDeadline) {
  ServerOptions o = plain();
  o.max_body_bytes = 4096;
  Running r(o);
  Client big(r.server->port());
  EXPECT_EQ(big.send(http::verb::post, "/validate", std::string(10000, ' ')).status, 413);
  Client c(r.server->port());
  std::string pod = test::readFile(kSrc + "/fuzz/corpus/admission/pod.json");
  // No time at all: the configured decision (allow) with a warning and an audit annotation.
  Reply late = c.send(http::verb::post, "/validate?timeout=0s", pod);
  EXPECT_EQ(late.status, 200);
  EXPECT_NE(late.body.find(R"("allowed":true)"), std::string::npos) << late.body;
  EXPECT_NE(late.body.find("kubeharden.io/deadline"), std::string::npos);
  EXPECT_NE(
      c.send(http::verb::get, "/metrics").body.find("kubeharden_admission_deadline_hits_total 1"),
      std::string::npos);
  // A generous timeout is no deadline: the real decision (this pod is privileged: denied).
  Reply in_time = c.send(http::verb::post, "/validate?timeout=30s", pod);
  EXPECT_NE(in_time.body.find(R"("allowed":false)"), std::string::npos) << in_time.body;
  EXPECT_EQ(in_time.body.find("kubeharden.io/deadline"), std::string::npos);
}

TEST(Server, DeadlineDecisionCanDeny) {
  ServerOptions o = plain();
  o.deadline_allows = false;
  Running r(o);
  Client c(r.server->port());
  std::string pod = test::readFile(kSrc + "/fuzz/corpus/admission/pod.json");
  Reply late = c.send(http::verb::post, "/validate?timeout=0s", pod);
  EXPECT_EQ(late.status, 200);
  EXPECT_NE(late.body.find(R"("allowed":false)"), std::string::npos) << late.body;
  EXPECT_NE(late.body.find("did not finish in time"), std::string::npos) << late.body;
  EXPECT_NE(late.body.find("kubeharden.io/deadline"), std::string::npos);
}

TEST(Server, ASlowClientHoldsOnlyItsOwnConnection) {
  ServerOptions o = plain();
  o.header_timeout_seconds = 1;
  Running r(o);
  Client slow(r.server->port());
  asio::write(slow.socket(), asio::buffer(std::string("POST /validate HTTP/1.1\r\nHo")));
  auto start = std::chrono::steady_clock::now();
  Client fast(r.server->port());
  EXPECT_EQ(fast.send(http::verb::get, "/healthz").status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  // The trickling request is cut off once its header time is over.
  char byte;
  boost::system::error_code ec;
  slow.socket().read_some(asio::buffer(&byte, 1), ec);
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset ||
              ec == http::error::end_of_stream || !ec)
      << ec.message();
  // ... after its 1 s header time, not the 120 s keep-alive idle time.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

std::string peerCommonName(int port) {
  asio::io_context io;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.set_verify_mode(asio::ssl::verify_none);
  asio::ssl::stream<tcp::socket> s(io, ctx);
  s.next_layer().connect({asio::ip::make_address("127.0.0.1"), uint16_t(port)});
  s.handshake(asio::ssl::stream_base::client);
  X509* cert = SSL_get_peer_certificate(s.native_handle());
  char cn[256] = {0};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
  X509_free(cert);
  std::string version = SSL_get_version(s.native_handle());
  EXPECT_TRUE(version == "TLSv1.2" || version == "TLSv1.3") << version;
  return cn;
}

TEST(Server, TlsWithCertificateAndConfigReload) {
  test::TempDir d;
  namespace fs = std::filesystem;
  fs::copy_file(kSrc + "/tests/admission/tls/cert-a.pem", d.path() + "/cert.pem");
  fs::copy_file(kSrc + "/tests/admission/tls/key-a.pem", d.path() + "/key.pem");
  std::string cfg = d.write("c.yaml", "admission:\n  defaults: {enforce: baseline}\n");
  ServerOptions o;
  o.listen = "127.0.0.1:0";
  o.insecure_listen = "127.0.0.1:0";
  o.tls_cert = d.path() + "/cert.pem";
  o.tls_key = d.path() + "/key.pem";
  o.config = cfg;
  Running r(o);
  EXPECT_EQ(peerCommonName(r.server->tlsPort()), "kubeharden-test-a");
  // A TLS 1.1 client is refused.
  {
    asio::io_context io;
    asio::ssl::context old(asio::ssl::context::tlsv11_client);
    asio::ssl::stream<tcp::socket> s(io, old);
    s.next_layer().connect({asio::ip::make_address("127.0.0.1"), uint16_t(r.server->tlsPort())});
    boost::system::error_code ec;
    s.handshake(asio::ssl::stream_base::client, ec);
    EXPECT_TRUE(ec) << "TLS 1.1 accepted";
  }
  std::string pod = test::readFile(kSrc + "/fuzz/corpus/admission/pod.json");
  Client keep(r.server->port());
  EXPECT_NE(keep.send(http::verb::post, "/validate", pod).body.find(R"("allowed":false)"),
            std::string::npos);
  // New certificate and a config that enforces nothing: picked up without a restart.
  fs::copy_file(kSrc + "/tests/admission/tls/cert-b.pem", d.path() + "/cert.pem",
                fs::copy_options::overwrite_existing);
  fs::copy_file(kSrc + "/tests/admission/tls/key-b.pem", d.path() + "/key.pem",
                fs::copy_options::overwrite_existing);
  d.write("c.yaml", "admission:\n  defaults: {enforce: privileged}\n");
  std::string cn;
  for (int i = 0; i < 40 && cn != "kubeharden-test-b"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    cn = peerCommonName(r.server->tlsPort());
  }
  EXPECT_EQ(cn, "kubeharden-test-b");
  std::string body;
  for (int i = 0; i < 40; ++i) {
    body = keep.send(http::verb::post, "/validate", pod).body;  // same connection, still open
    if (body.find(R"("allowed":true)") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_NE(body.find(R"("allowed":true)"), std::string::npos) << body;
  EXPECT_NE(keep.send(http::verb::get, "/metrics")
                .body.find("kubeharden_admission_policy_reloads_total 1"),
            std::string::npos);
}

TEST(Server, StartupErrorsAreClear) {
  ServerOptions o;
  o.listen = "127.0.0.1:0";
  auto s = Server::create(o);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("--tls-cert"), std::string::npos);
  o.tls_cert = "/nonexistent.pem";
  o.tls_key = "/nonexistent.key";
  auto t = Server::create(o);
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().message.find("/nonexistent.pem"), std::string::npos);
}

}  // namespace
}  // namespace kh::admission

namespace kh::admission {
namespace {

TEST(Metrics, ExpositionEscapesLabelsAndCountsBuckets) {
  Metrics m;
  m.request("validate", "CREATE", "Po\"d\\x\ny", "restricted", "allowed", 0.00005);
  m.request("validate", "CREATE", "Pod", "baseline", "denied", 0.002);
  std::string out = m.render();
  EXPECT_NE(out.find(R"(kind="Po\"d\\x\ny",mode="restricted",decision="allowed"} 1)"),
            std::string::npos)
      << out;
  // 0.05 ms falls in the first bucket, 2 ms in the 2.5 ms one (cumulative counts).
  EXPECT_NE(out.find(R"(kubeharden_admission_duration_seconds_bucket{le="0.0001"} 1)"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find(R"(kubeharden_admission_duration_seconds_bucket{le="0.001"} 1)"),
            std::string::npos);
  EXPECT_NE(out.find(R"(kubeharden_admission_duration_seconds_bucket{le="0.0025"} 2)"),
            std::string::npos);
  EXPECT_NE(out.find(R"(kubeharden_admission_duration_seconds_count 2)"), std::string::npos);
}

}  // namespace
}  // namespace kh::admission
