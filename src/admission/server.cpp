#include "admission/server.h"

#include <fmt/format.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/stat.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>

#include "admission/deadline_stream.h"
#include "admission/handler.h"
#include "admission/image_verifier.h"
#include "admission/metrics.h"
#include "admission/mutate.h"
#include "admission/namespace_watch.h"
#include "base/strings.h"
#include "load/loader.h"
#include "pss/namespaces.h"
#include "scan/scan.h"

namespace kh::admission {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::string mtimeKey(const std::string& path) {
  struct stat st {};
  if (path.empty() || ::stat(path.c_str(), &st) != 0) return {};
  return fmt::format("{}.{}:{}", st.st_mtim.tv_sec, st.st_mtim.tv_nsec, st.st_size);
}

// Everything a decision needs from the config file, replaced whole on reload.
struct PolicyBundle {
  Config config;
  std::unique_ptr<Registry> registry;
  Policy policy;
  MutationPolicy mutation;
};

Result<std::shared_ptr<PolicyBundle>> loadPolicy(const std::string& path) {
  auto b = std::make_shared<PolicyBundle>();
  if (!path.empty()) {
    auto cfg = loadConfig(path);
    if (!cfg) return cfg.error();
    b->config = std::move(cfg.value());
  }
  auto reg = buildRegistry(b->config);
  if (!reg) return reg.error();
  b->registry = std::move(reg.value());
  b->policy = policyFromConfig(b->config, b->registry.get(), todayUtc());
  b->mutation.default_on = b->config.admission.mutate_by_default;
  if (!b->config.admission.verify_images.rules.empty()) {
    auto images = compileImagePolicy(b->config.admission.verify_images);
    if (!images) return images.error();
    if (!images.value()->root_warning.empty())
      std::fprintf(stderr, "kubeharden serve: warning: %s\n", images.value()->root_warning.c_str());
    b->policy.images = images.value();
  }
  // admission.policies: compiled once here, for every request of this configuration.
  if (!b->config.admission.policies.empty()) {
    policy::PolicyOptions po;
    po.k8s_minor = b->config.admission.kubernetes_minor;
    auto bundle = policy::loadBundle(b->config.admission.policies, po);
    if (!bundle) return bundle.error();
    for (const Diagnostic& d : bundle.value()->diagnostics)
      std::fprintf(stderr, "kubeharden serve: warning: %s:%u: %s\n", d.file.c_str(), d.pos.line,
                   d.message.c_str());
    b->policy.vap = bundle.value();
  }
  return b;
}

// What a reload watches: the config file, and the policy files and directories it names.
std::string policyKey(const std::string& config, const PolicyBundle* b) {
  std::string key = mtimeKey(config);
  if (!b) return key;
  for (const std::string& p : b->config.admission.policies) key += "|" + mtimeKey(p);
  if (b->policy.vap)
    for (const auto& f : b->policy.vap->files) key += "|" + mtimeKey(f->path);
  return key;
}

Result<std::shared_ptr<asio::ssl::context>> loadTls(const std::string& cert, const std::string& key,
                                                    double* expiry) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                   asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(cert, ec);
  if (ec) return Error{fmt::format("TLS certificate {}: {}", cert, ec.message())};
  ctx->use_private_key_file(key, asio::ssl::context::pem, ec);
  if (ec) return Error{fmt::format("TLS key {}: {}", key, ec.message())};
  if (X509* x = SSL_CTX_get0_certificate(ctx->native_handle())) {
    struct tm t {};
    if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &t) == 1) *expiry = static_cast<double>(timegm(&t));
  }
  return ctx;
}

class ServerImpl final : public Server {
 public:
  explicit ServerImpl(const ServerOptions& o) : opts_(o) {}

  Status start() {
    auto p = loadPolicy(opts_.config);
    if (!p) return p.error();
    policy_ = p.value();
    policy_key_ = policyKey(opts_.config, policy_.get());
    loadClusterReport();
    auto n = loadNamespaceFile(opts_.namespaces);
    if (!n) return n.error();
    namespaces_ = n.value();
    metrics_.namespaces(namespaces_->namespaces.size());
    if (opts_.watch_namespaces) {
      auto w = NamespaceWatch::create(
          opts_.kube,
          [this](std::shared_ptr<const NamespaceSnapshot> snap) {
            metrics_.namespaces(snap->namespaces.size());
            std::lock_guard<std::mutex> lock(policy_mu_);
            namespaces_ = std::move(snap);
          },
          [this](const std::string& msg) { log("namespaces", msg); });
      if (!w) return w.error();
      watch_ = std::move(w.value());
    }
    if (!opts_.listen.empty()) {
      if (opts_.tls_cert.empty() || opts_.tls_key.empty())
        return Error{
            "--tls-cert and --tls-key are required to serve HTTPS (or use only "
            "--insecure-listen for tests)"};
      double expiry = 0;
      auto t = loadTls(opts_.tls_cert, opts_.tls_key, &expiry);
      if (!t) return t.error();
      tls_ = t.value();
      tls_key_ = mtimeKey(opts_.tls_cert) + mtimeKey(opts_.tls_key);
      metrics_.certificateExpiry(expiry);
      auto a = bindTcp(opts_.listen);
      if (!a) return a.error();
      tls_acceptor_ = std::move(a.value());
    }
    if (!opts_.insecure_listen.empty()) {
      if (opts_.insecure_listen.starts_with("unix:")) {
        std::string path = opts_.insecure_listen.substr(5);
        std::filesystem::remove(path);
        unix_acceptor_ = std::make_unique<asio::local::stream_protocol::acceptor>(
            io_, asio::local::stream_protocol::endpoint(path));
      } else {
        auto a = bindTcp(opts_.insecure_listen);
        if (!a) return a.error();
        plain_acceptor_ = std::move(a.value());
      }
    }
    if (!tls_acceptor_ && !plain_acceptor_ && !unix_acceptor_)
      return Error{"nothing to listen on (--listen or --insecure-listen)"};
    ready_ = true;
    return {};
  }

  void run() override {
    std::vector<std::thread> acceptors;
    if (tls_acceptor_) acceptors.emplace_back([this] { acceptLoop(*tls_acceptor_, true); });
    if (plain_acceptor_) acceptors.emplace_back([this] { acceptLoop(*plain_acceptor_, false); });
    if (unix_acceptor_) acceptors.emplace_back([this] { acceptUnix(); });
    std::thread watcher([this] { watchFiles(); });
    if (watch_) watch_->start();
    for (std::thread& t : acceptors) t.join();
    {
      std::unique_lock<std::mutex> lock(conn_mu_);
      conn_cv_.wait_for(lock, std::chrono::seconds(30), [this] { return connections_ == 0; });
    }
    stop_watch_ = true;
    watcher.join();
    if (watch_) watch_->stop();
  }

  void shutdown() override {
    if (draining_.exchange(true)) return;
    ready_ = false;
    // shutdown() wakes a thread blocked in accept() (close() alone does not, on Linux).
    if (tls_acceptor_) ::shutdown(tls_acceptor_->native_handle(), SHUT_RDWR);
    if (plain_acceptor_) ::shutdown(plain_acceptor_->native_handle(), SHUT_RDWR);
    if (unix_acceptor_) ::shutdown(unix_acceptor_->native_handle(), SHUT_RDWR);
    // Keep-alive connections waiting for their next request are closed now; those in the middle
    // of one finish it and answer with Connection: close.
    std::lock_guard<std::mutex> lock(conn_mu_);
    for (const auto& [fd, idle] : idle_)
      if (idle) ::shutdown(fd, SHUT_RDWR);
  }

  int port() const override {
    if (plain_acceptor_) return plain_acceptor_->local_endpoint().port();
    return tlsPort();
  }
  int tlsPort() const override {
    return tls_acceptor_ ? tls_acceptor_->local_endpoint().port() : 0;
  }

 private:
  Result<std::unique_ptr<tcp::acceptor>> bindTcp(const std::string& hostport) {
    size_t colon = hostport.rfind(':');
    if (colon == std::string::npos)
      return Error{fmt::format("listen address '{}' is not HOST:PORT", hostport)};
    std::string host = hostport.substr(0, colon);
    if (host.starts_with('[')) host = host.substr(1, host.size() - 2);
    int port = std::atoi(hostport.c_str() + colon + 1);
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(host.empty() ? "0.0.0.0" : host, ec);
    if (ec) return Error{fmt::format("listen address '{}': {}", hostport, ec.message())};
    auto acc = std::make_unique<tcp::acceptor>(io_);
    tcp::endpoint ep(addr, static_cast<uint16_t>(port));
    acc->open(ep.protocol(), ec);
    if (!ec) acc->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acc->bind(ep, ec);
    if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return Error{fmt::format("cannot listen on {}: {}", hostport, ec.message())};
    return acc;
  }

  void acceptLoop(tcp::acceptor& acc, bool tls) {
    while (!draining_) {
      tcp::socket sock(io_);
      boost::system::error_code ec;
      acc.accept(sock, ec);
      if (ec) {
        if (draining_) break;
        continue;
      }
      sock.set_option(tcp::no_delay(true), ec);
      spawn([this, s = std::move(sock), tls]() mutable {
        if (tls)
          serveTls(std::move(s));
        else
          serve(s);
      });
    }
  }

  void acceptUnix() {
    while (!draining_) {
      asio::local::stream_protocol::socket sock(io_);
      boost::system::error_code ec;
      unix_acceptor_->accept(sock, ec);
      if (ec) {
        if (draining_) break;
        continue;
      }
      spawn([this, s = std::move(sock)]() mutable { serve(s); });
    }
  }

  template <typename Fn>
  void spawn(Fn fn) {
    {
      std::lock_guard<std::mutex> lock(conn_mu_);
      ++connections_;
    }
    std::thread([this, fn = std::move(fn)]() mutable {
      try {
        fn();
      } catch (...) {  // a connection's failure ends that connection only
      }
      std::lock_guard<std::mutex> lock(conn_mu_);
      --connections_;
      conn_cv_.notify_all();
    }).detach();
  }

  void serveTls(tcp::socket sock) {
    std::shared_ptr<asio::ssl::context> ctx;
    {
      std::lock_guard<std::mutex> lock(tls_mu_);
      ctx = tls_;  // this connection keeps the certificate it started with
    }
    int fd = sock.native_handle();
    Clock::time_point deadline = Clock::now() + std::chrono::seconds(opts_.header_timeout_seconds);
    DeadlineStream<tcp::socket> raw(sock, fd, deadline);
    asio::ssl::stream<DeadlineStream<tcp::socket>&> stream(raw, *ctx);
    boost::system::error_code ec;
    stream.handshake(asio::ssl::stream_base::server, ec);
    if (ec) return;
    serve(stream, fd, deadline);
    stream.shutdown(ec);
  }

  static void setTimeout(int fd, int seconds) {
    struct timeval tv {
      seconds, 0
    };
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }

  template <typename Socket>
  void serve(Socket& sock) {
    int fd = sock.native_handle();
    Clock::time_point deadline;
    DeadlineStream<Socket> guarded(sock, fd, deadline);
    serve(guarded, fd, deadline);
  }

  // `stream` reads with `deadline` (a DeadlineStream, or TLS over one).
  template <typename Stream>
  void serve(Stream& stream, int fd, Clock::time_point& deadline) {
    struct Forget {  // the connection's entry goes when it ends
      ServerImpl* self;
      int fd;
      ~Forget() {
        std::lock_guard<std::mutex> lock(self->conn_mu_);
        self->idle_.erase(fd);
      }
    } forget{this, fd};
    beast::flat_buffer buf;
    for (;;) {
      // Waiting for the next request may take the keep-alive idle time; reading it, no longer
      // than the header timeout once its first byte arrived.
      deadline = Clock::now() + std::chrono::seconds(opts_.idle_timeout_seconds);
      http::request_parser<http::string_body> parser;
      parser.body_limit(opts_.max_body_bytes);
      parser.header_limit(16 * 1024);
      boost::system::error_code ec;
      if (buf.size() == 0) {
        if (!markIdle(fd, true)) return;  // draining: no new request on this connection
        buf.commit(stream.read_some(buf.prepare(16 * 1024), ec));
        markIdle(fd, false);
        if (ec) return;
      }
      deadline = Clock::now() + std::chrono::seconds(opts_.header_timeout_seconds);
      http::read(stream, buf, parser, ec);
      if (ec == http::error::body_limit) {
        respondPlain(stream, http::status::payload_too_large, "request body over 7 MiB\n", false);
        return;
      }
      if (ec) {
        if (ec != http::error::end_of_stream)
          respondPlain(stream, http::status::bad_request, "malformed HTTP request\n", false);
        return;
      }
      auto req = parser.release();
      bool keep = req.keep_alive() && !draining_;
      auto res = route(req);
      res.keep_alive(keep);
      res.prepare_payload();
      http::write(stream, res, ec);
      if (ec || !keep) return;
    }
  }

  // Records whether the connection waits for a request; false when the server is draining.
  bool markIdle(int fd, bool idle) {
    std::lock_guard<std::mutex> lock(conn_mu_);
    if (idle && draining_) return false;
    idle_[fd] = idle;
    return true;
  }

  template <typename Stream>
  void respondPlain(Stream& stream, http::status status, std::string body, bool keep) {
    http::response<http::string_body> res{status, 11};
    res.set(http::field::content_type, "text/plain");
    res.body() = std::move(body);
    res.keep_alive(keep);
    res.prepare_payload();
    boost::system::error_code ec;
    http::write(stream, res, ec);
  }

  http::response<http::string_body> route(const http::request<http::string_body>& req) {
    std::string_view target(req.target().data(), req.target().size());
    std::string_view path = target.substr(0, target.find('?'));
    std::string_view query = target.find('?') == std::string_view::npos
                                 ? std::string_view()
                                 : target.substr(target.find('?') + 1);
    auto text = [&](http::status s, std::string body, std::string_view type = "text/plain") {
      http::response<http::string_body> res{s, req.version()};
      res.set(http::field::content_type, beast::string_view(type.data(), type.size()));
      res.body() = std::move(body);
      return res;
    };
    if (req.method() == http::verb::get && path == "/healthz")
      return text(http::status::ok, "ok\n");
    if (req.method() == http::verb::get && path == "/readyz")
      return ready_ && (!watch_ || watch_->synced())
                 ? text(http::status::ok, "ready\n")
                 : text(http::status::service_unavailable, "not ready\n");
    if (req.method() == http::verb::get && path == "/metrics")
      return text(http::status::ok, metrics_.render(), "text/plain; version=0.0.4");
    if (path != "/validate" && path != "/mutate")
      return text(http::status::not_found, "not found\n");
    if (req.method() != http::verb::post)
      return text(http::status::method_not_allowed, "POST an AdmissionReview\n");
    bool mutating = path == "/mutate";
    auto start = Clock::now();
    // The API server's ?timeout= (rounded up to seconds): answer within the configured share.
    double budget = 10;
    for (std::string_view kv : splitTrimmed(query, '&'))
      if (kv.starts_with("timeout="))
        if (auto d = parseDuration(kv.substr(8))) budget = *d;
    Arena arena;
    auto decoded = decodeRequest(req.body(), arena, JsonLimits{.max_bytes = opts_.max_body_bytes});
    if (!decoded) {
      metrics_.decodeError();
      return text(http::status::bad_request, decoded.error().describe() + "\n");
    }
    const AdmissionRequest& r = decoded.value();
    std::shared_ptr<PolicyBundle> policy;
    std::shared_ptr<const NamespaceSnapshot> namespaces;
    {
      std::lock_guard<std::mutex> lock(policy_mu_);
      policy = policy_;
      namespaces = namespaces_;
    }
    const Node* labels = namespaces->labels(r.namespace_);
    // Images the verifyImages rules govern: their verdicts (from the cache, or registries) by a
    // deadline that leaves room to decide and answer before the API server's.
    std::vector<ImageUse> images = imagesToVerify(r, policy->policy, labels, mutating);
    ImageVerdicts verdicts;
    if (std::any_of(images.begin(), images.end(),
                    [](const ImageUse& u) { return u.needs_verification; })) {
      double share = budget * opts_.deadline_fraction;
      auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(share - std::min(0.1, share / 10)));
      verdicts = verifier_.verify(*policy->policy.images, images, deadline);
      ImageVerifier::Stats st = verifier_.stats();
      metrics_.imageVerifications(st.hits, st.misses, st.timeouts);
    }
    AdmissionResponse resp;
    if (mutating) {
      resp.uid = std::string(r.uid);
      resp.patch = mutationPatch(r, policy->mutation, labels);
      if (policy->policy.images)
        resp.patch = joinPatches(resp.patch, pinPatch(images, *policy->policy.images, verdicts));
    } else {
      resp =
          decide(r, policy->policy, labels, &verdicts, &images, namespaces->object(r.namespace_));
    }
    double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    if (elapsed > budget * opts_.deadline_fraction) {
      // Never silence: the configured decision, said in a warning and an audit annotation.
      metrics_.deadlineHit();
      resp = AdmissionResponse{};
      resp.uid = std::string(r.uid);
      resp.allowed = opts_.deadline_allows;
      if (!resp.allowed) resp.message = "kubeharden: the decision did not finish in time";
      resp.warnings.push_back("kubeharden: the decision did not finish in time");
      resp.audit_annotations["kubeharden.io/deadline"] =
          fmt::format("{:.3f}s of {:.3f}s", elapsed, budget);
    }
    std::string body = encodeResponse(r.api_version, resp, mutating);
    double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    pss::NamespacePolicy modes =
        pss::policyFromLabels(labels, "kubeharden.io", policy->policy.defaults);
    metrics_.request(mutating ? "mutate" : "validate", std::string(r.operation),
                     std::string(r.kind.kind),
                     std::string(pss::levelName(modes.enforce.policy.level)),
                     mutating ? (resp.patch.empty() ? "unchanged" : "patched")
                              : (resp.allowed ? "allowed" : "denied"),
                     seconds);
    if (opts_.log_decisions) logDecision(r, resp, mutating, seconds);
    return text(http::status::ok, std::move(body), "application/json");
  }

  // One structured line on stderr for events other than decisions.
  void log(std::string_view component, const std::string& message) {
    std::string line = fmt::format(R"({{"level":"warning","component":"{}","message":"{}"}})",
                                   component, jsonEscape(message));
    std::lock_guard<std::mutex> lock(log_mu_);
    std::fprintf(stderr, "%s\n", line.c_str());
  }

  static std::string jsonEscape(std::string_view s) {
    std::string o;
    for (char c : s) {
      if (c == '"' || c == '\\') o += '\\';
      if (static_cast<unsigned char>(c) < 0x20) continue;
      o += c;
    }
    return o;
  }

  void logDecision(const AdmissionRequest& r, const AdmissionResponse& resp, bool mutating,
                   double seconds) {
    auto esc = jsonEscape;
    std::string line = fmt::format(
        R"({{"uid":"{}","endpoint":"{}","operation":"{}","kind":"{}","namespace":"{}","name":"{}","user":"{}","allowed":{},"patched":{},"micros":{},"message":"{}"}})",
        esc(r.uid), mutating ? "mutate" : "validate", esc(r.operation), esc(r.kind.kind),
        esc(r.namespace_), esc(r.name), esc(r.username), resp.allowed ? "true" : "false",
        resp.patch.empty() ? "false" : "true", static_cast<int64_t>(seconds * 1e6),
        esc(resp.message));
    std::lock_guard<std::mutex> lock(log_mu_);
    std::fprintf(stderr, "%s\n", line.c_str());
  }

  // The cluster summary file, when it changed (a mounted ConfigMap changes by a symlink swap,
  // which mtimeKey follows); missing is fine (no scheduled scan has run yet).
  void loadClusterReport() {
    if (opts_.cluster_report.empty()) return;
    std::string k = mtimeKey(opts_.cluster_report);
    if (k == cluster_report_key_) return;
    cluster_report_key_ = k;
    std::string text;
    if (!readFileTo(opts_.cluster_report, text)) return;
    if (Status st = metrics_.clusterSummary(text); !st)
      std::fprintf(stderr, "kubeharden serve: %s: %s\n", opts_.cluster_report.c_str(),
                   st.error().describe().c_str());
  }

  void watchFiles() {
    while (!stop_watch_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      std::shared_ptr<const PolicyBundle> current;
      {
        std::lock_guard<std::mutex> lock(policy_mu_);
        current = policy_;
      }
      if (std::string k = policyKey(opts_.config, current.get());
          !opts_.config.empty() && k != policy_key_) {
        policy_key_ = k;
        if (auto p = loadPolicy(opts_.config)) {
          policy_key_ = policyKey(opts_.config, p.value().get());
          std::lock_guard<std::mutex> lock(policy_mu_);
          policy_ = p.value();
          metrics_.policyReload();
        } else {
          std::fprintf(stderr, "kubeharden serve: config not reloaded: %s\n",
                       p.error().describe().c_str());
        }
      }
      loadClusterReport();
      if (tls_ && mtimeKey(opts_.tls_cert) + mtimeKey(opts_.tls_key) != tls_key_) {
        tls_key_ = mtimeKey(opts_.tls_cert) + mtimeKey(opts_.tls_key);
        double expiry = 0;
        if (auto t = loadTls(opts_.tls_cert, opts_.tls_key, &expiry)) {
          std::lock_guard<std::mutex> lock(tls_mu_);
          tls_ = t.value();
          metrics_.certificateExpiry(expiry);
        } else {
          std::fprintf(stderr, "kubeharden serve: certificate not reloaded: %s\n",
                       t.error().describe().c_str());
        }
      }
    }
  }

  ServerOptions opts_;
  asio::io_context io_;
  std::unique_ptr<tcp::acceptor> tls_acceptor_, plain_acceptor_;
  std::unique_ptr<asio::local::stream_protocol::acceptor> unix_acceptor_;
  std::mutex tls_mu_, policy_mu_, log_mu_, conn_mu_;
  std::condition_variable conn_cv_;
  std::shared_ptr<asio::ssl::context> tls_;
  std::shared_ptr<PolicyBundle> policy_;
  std::shared_ptr<const NamespaceSnapshot> namespaces_;
  std::unique_ptr<NamespaceWatch> watch_;
  std::string policy_key_, tls_key_;
  Metrics metrics_;
  std::string cluster_report_key_;
  ImageVerifier verifier_{registrySource()};
  std::atomic<bool> ready_{false}, draining_{false}, stop_watch_{false};
  size_t connections_ = 0;
  std::map<int, bool> idle_;  // connection fd -> waiting for its next request
};

}  // namespace

Result<std::unique_ptr<Server>> Server::create(const ServerOptions& opts) {
  auto s = std::make_unique<ServerImpl>(opts);
  if (Status st = s->start(); !st) return st.error();
  return std::unique_ptr<Server>(std::move(s));
}

}  // namespace kh::admission
