#include "admission/namespace_watch.h"

#include <fmt/format.h>
#include <sys/socket.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast.hpp>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "admission/deadline_stream.h"
#include "base/strings.h"
#include "load/json_reader.h"
#include "load/loader.h"

namespace kh::admission {

Result<std::shared_ptr<const NamespaceSnapshot>> loadNamespaceFile(const std::string& path) {
  auto snap = std::make_shared<NamespaceSnapshot>();
  if (path.empty()) return std::shared_ptr<const NamespaceSnapshot>(snap);
  auto file = std::make_shared<SourceFile>();
  loadFile(path, LoadOptions{}, *file);
  if (file->error) return *file->error;
  for (const Object& o : file->objects)
    if (o.ref.kind == "Namespace")
      snap->namespaces[std::string(o.ref.name)] = {file, o.labels, o.root};
  return std::shared_ptr<const NamespaceSnapshot>(snap);
}

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct Endpoint {
  bool tls = true;
  std::string host, port;
};

Result<Endpoint> parseServer(const KubeApiOptions& o) {
  std::string s = o.server;
  if (s.empty()) {
    const char* h = std::getenv("KUBERNETES_SERVICE_HOST");
    const char* p = std::getenv("KUBERNETES_SERVICE_PORT");
    if (!h || !*h || !p || !*p)
      return Error{
          "--watch-namespaces needs the Kubernetes API: KUBERNETES_SERVICE_HOST and "
          "KUBERNETES_SERVICE_PORT are not set (not in a cluster?); give --kube-api URL"};
    std::string host = h;
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    s = fmt::format("https://{}:{}", host, p);
  }
  Endpoint e;
  if (s.starts_with("https://")) {
    s = s.substr(8);
  } else if (s.starts_with("http://")) {
    e.tls = false;
    s = s.substr(7);
  } else {
    return Error{fmt::format("--kube-api {}: expected https://HOST:PORT", o.server)};
  }
  if (!s.empty() && s.back() == '/') s.pop_back();
  size_t colon = s.rfind(':');
  if (!s.empty() && s.front() == '[') {
    size_t close = s.find(']');
    if (close == std::string::npos) return Error{fmt::format("--kube-api {}: bad IPv6", s)};
    e.host = s.substr(1, close - 1);
    e.port =
        close + 1 < s.size() && s[close + 1] == ':' ? s.substr(close + 2) : (e.tls ? "443" : "80");
  } else if (colon != std::string::npos) {
    e.host = s.substr(0, colon);
    e.port = s.substr(colon + 1);
  } else {
    e.host = s;
    e.port = e.tls ? "443" : "80";
  }
  if (e.host.empty() || e.port.empty() ||
      e.port.find_first_not_of("0123456789") != std::string::npos)
    return Error{fmt::format("--kube-api {}: expected https://HOST:PORT", o.server)};
  return e;
}

std::string readWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

enum class Outcome { kOk, kExpired, kError, kStopped };

class WatchImpl final : public NamespaceWatch {
 public:
  WatchImpl(KubeApiOptions o, Endpoint e, Publish publish, Log log)
      : o_(std::move(o)), ep_(std::move(e)), publish_(std::move(publish)), log_(std::move(log)) {}
  ~WatchImpl() override { stop(); }

  void start() override {
    thread_ = std::thread([this] { loop(); });
  }
  void stop() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
      if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  bool synced() const override { return synced_; }
  uint64_t relists() const override { return relists_; }
  uint64_t events() const override { return events_; }

 private:
  using BodySink = std::function<bool(std::string_view)>;  // false: stop reading

  // One GET; the body goes to `sink` as it arrives. Returns the HTTP status (0 on transport
  // failure, with `err` set).
  // `s` reads with `deadline` (a DeadlineStream, or TLS over one), which is pushed forward
  // whenever data arrives.
  template <typename Stream>
  int exchange(Stream& s, Clock::time_point& deadline, const std::string& target,
               const BodySink& sink, std::string& err) {
    std::string token = readWhole(o_.token_file);
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, ep_.host);
    req.set(http::field::accept, "application/json");
    req.set(http::field::user_agent, "kubeharden");
    if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    deadline = Clock::now() + std::chrono::seconds(o_.idle_timeout_seconds);
    Stream& ds = s;
    beast::error_code ec;
    http::write(s, req, ec);
    if (ec) {
      err = "sending the request: " + ec.message();
      return 0;
    }
    beast::flat_buffer buf;
    http::response_parser<http::buffer_body> p;
    p.body_limit(std::numeric_limits<std::uint64_t>::max());
    http::read_header(ds, buf, p, ec);
    if (ec) {
      err = "reading the response: " + ec.message();
      return 0;
    }
    int status = p.get().result_int();
    std::string error_body;
    char chunk[64 * 1024];
    while (!p.is_done()) {
      p.get().body().data = chunk;
      p.get().body().size = sizeof chunk;
      deadline = Clock::now() + std::chrono::seconds(o_.idle_timeout_seconds);
      http::read_some(ds, buf, p, ec);  // returns with what has arrived
      if (ec == http::error::need_buffer) ec = {};
      if (ec) {
        err = "reading the response: " + ec.message();
        return 0;
      }
      std::string_view got(chunk, sizeof chunk - p.get().body().size);
      if (status != 200) {
        if (error_body.size() < 4096) error_body.append(got.substr(0, 4096));
        continue;
      }
      if (!sink(got)) break;
    }
    if (status != 200) err = fmt::format("HTTP {}: {}", status, error_body.substr(0, 300));
    return status;
  }

  // Connects and runs one GET over plain TCP or TLS (verifying the API server's certificate
  // against the CA file and its name).
  int httpGet(const std::string& target, const BodySink& sink, std::string& err) {
    asio::io_context io;
    tcp::resolver resolver(io);
    beast::error_code ec;
    auto addrs = resolver.resolve(ep_.host, ep_.port, ec);
    if (ec) {
      err = fmt::format("resolving {}: {}", ep_.host, ec.message());
      return 0;
    }
    tcp::socket sock(io);
    asio::connect(sock, addrs, ec);
    if (ec) {
      err = fmt::format("connecting to {}:{}: {}", ep_.host, ep_.port, ec.message());
      return 0;
    }
    int fd = sock.native_handle();
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return 0;
      fd_ = fd;
    }
    struct Clear {
      WatchImpl* w;
      ~Clear() {
        std::lock_guard<std::mutex> lock(w->mu_);
        w->fd_ = -1;
      }
    } clear{this};
    sock.set_option(asio::socket_base::keep_alive(true), ec);
    Clock::time_point deadline = Clock::now() + std::chrono::seconds(30);
    DeadlineStream<tcp::socket> raw(sock, fd, deadline);
    if (!ep_.tls) return exchange(raw, deadline, target, sink, err);
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.set_options(asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3 |
                    asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
    ctx.load_verify_file(o_.ca_file, ec);
    if (ec) {
      err = fmt::format("CA file {}: {}", o_.ca_file, ec.message());
      return 0;
    }
    ctx.set_verify_mode(asio::ssl::verify_peer);
    asio::ssl::stream<DeadlineStream<tcp::socket>&> tls(raw, ctx);
    tls.set_verify_callback(asio::ssl::host_name_verification(ep_.host));
    beast::error_code addr_ec;
    asio::ip::make_address(ep_.host, addr_ec);
    if (addr_ec) SSL_set_tlsext_host_name(tls.native_handle(), ep_.host.c_str());
    tls.handshake(asio::ssl::stream_base::client, ec);
    if (ec) {
      err = fmt::format("TLS with {}: {}", ep_.host, ec.message());
      return 0;
    }
    return exchange(tls, deadline, target, sink, err);
  }

  // LIST every namespace (paginated) into a fresh map; returns the list's resourceVersion.
  Outcome list(std::string& rv) {
    std::map<std::string, NamespaceEntry, std::less<>> fresh;
    std::string cont;
    do {
      std::string target = fmt::format("/api/v1/namespaces?limit={}", o_.page_size);
      if (!cont.empty()) target += "&continue=" + percentEncode(cont);
      std::string body, err;
      bool too_big = false;
      int status = httpGet(
          target,
          [&](std::string_view b) {
            if (body.size() + b.size() > kMaxList) {
              too_big = true;
              return false;
            }
            body.append(b);
            return true;
          },
          err);
      if (stop_) return Outcome::kStopped;
      if (too_big) err = "the namespace list is larger than 256 MiB";
      if (status != 200 || too_big) {
        log_("namespace list: " + err);
        return Outcome::kError;
      }
      auto arena = std::make_shared<Arena>();
      auto root = parseJson(body, *arena, JsonLimits{.max_bytes = kMaxList, .max_depth = 100});
      if (!root) {
        log_("namespace list: not JSON: " + root.error().describe());
        return Outcome::kError;
      }
      const Node* meta = get(root.value(), "metadata");
      rv = std::string(getStr(meta, "resourceVersion"));
      cont = std::string(getStr(meta, "continue"));
      for (const Node* item : seqOf(get(root.value(), "items"))) {
        const Node* m = get(item, "metadata");
        std::string_view name = getStr(m, "name");
        if (!name.empty()) fresh[std::string(name)] = {arena, get(m, "labels"), item};
      }
    } while (!cont.empty());
    current_ = std::move(fresh);
    ++relists_;
    publish_(std::make_shared<const NamespaceSnapshot>(NamespaceSnapshot{current_}));
    synced_ = true;
    return Outcome::kOk;
  }

  // WATCH from `rv` until the server ends the stream (kOk: watch again from the updated rv), the
  // version is gone (kExpired: list again) or something fails (kError).
  Outcome watch(std::string& rv) {
    std::string target = fmt::format(
        "/api/v1/namespaces?watch=1&allowWatchBookmarks=true&timeoutSeconds={}&resourceVersion={}",
        o_.watch_timeout_seconds, percentEncode(rv));
    std::string pending, err;
    Outcome outcome = Outcome::kOk;
    int status = httpGet(
        target,
        [&](std::string_view b) {
          pending.append(b);
          bool changed = false;
          size_t start = 0;
          for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
            std::string_view line(pending.data() + start, nl - start);
            if (line.find_first_not_of(" \r\t") == std::string_view::npos) continue;
            outcome = event(line, rv, changed);
            if (outcome != Outcome::kOk) break;
          }
          pending.erase(0, start);
          if (changed)
            publish_(std::make_shared<const NamespaceSnapshot>(NamespaceSnapshot{current_}));
          if (pending.size() > kMaxList) {
            log_("namespace watch: an event larger than 256 MiB");
            outcome = Outcome::kError;
          }
          return outcome == Outcome::kOk;
        },
        err);
    if (stop_) return Outcome::kStopped;
    if (outcome != Outcome::kOk) return outcome;
    if (status == 410) return Outcome::kExpired;
    if (status != 200) {
      log_("namespace watch: " + err);
      return Outcome::kError;
    }
    return Outcome::kOk;
  }

  Outcome event(std::string_view line, std::string& rv, bool& changed) {
    auto arena = std::make_shared<Arena>(4096);
    auto root = parseJson(line, *arena, JsonLimits{.max_bytes = kMaxList, .max_depth = 100});
    if (!root) {
      log_("namespace watch: an event that is not JSON: " + root.error().describe());
      return Outcome::kError;
    }
    std::string_view type = getStr(root.value(), "type");
    const Node* obj = get(root.value(), "object");
    const Node* meta = get(obj, "metadata");
    if (type == "ERROR") {
      auto code = get(obj, "code") ? get(obj, "code")->asInt() : std::nullopt;
      if (code == 410) return Outcome::kExpired;
      log_(fmt::format("namespace watch: error event: {}", getStr(obj, "message")));
      return Outcome::kError;
    }
    ++events_;
    if (std::string_view v = getStr(meta, "resourceVersion"); !v.empty()) rv = std::string(v);
    std::string_view name = getStr(meta, "name");
    if (name.empty()) return Outcome::kOk;  // BOOKMARK, or nothing to keep
    if (type == "ADDED" || type == "MODIFIED") {
      current_[std::string(name)] = {arena, get(meta, "labels"), obj};
      changed = true;
    } else if (type == "DELETED") {
      if (auto it = current_.find(name); it != current_.end()) {
        current_.erase(it);
        changed = true;
      }
    }
    return Outcome::kOk;
  }

  // Waits `seconds` unless stopped; false when stopped.
  bool pause(double seconds) {
    std::unique_lock<std::mutex> lock(mu_);
    return !cv_.wait_for(lock, std::chrono::duration<double>(seconds),
                         [this] { return stop_.load(); });
  }

  void loop() {
    double backoff = 0.5;
    while (!stop_) {
      std::string rv;
      Outcome l = list(rv);
      if (l == Outcome::kStopped) return;
      if (l != Outcome::kOk) {
        if (!pause(backoff)) return;
        backoff = std::min(backoff * 2, 30.0);
        continue;
      }
      backoff = 0.5;
      // Watch until the version expires; transient failures retry the watch after a pause.
      int failures = 0;
      while (!stop_) {
        Outcome w = watch(rv);
        if (w == Outcome::kStopped) return;
        if (w == Outcome::kExpired) break;
        if (w == Outcome::kOk) {
          failures = 0;
          continue;
        }
        if (++failures >= 5) break;  // list again
        if (!pause(std::min(0.5 * (1 << failures), 30.0))) return;
      }
    }
  }

  static constexpr size_t kMaxList = 256u << 20;
  KubeApiOptions o_;
  Endpoint ep_;
  Publish publish_;
  Log log_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> stop_{false};  // set under mu_ (for cv_), read anywhere
  int fd_ = -1;
  std::atomic<bool> synced_{false};
  std::atomic<uint64_t> relists_{0}, events_{0};
  std::map<std::string, NamespaceEntry, std::less<>> current_;
};

}  // namespace

Result<std::unique_ptr<NamespaceWatch>> NamespaceWatch::create(const KubeApiOptions& o,
                                                               Publish publish, Log log) {
  auto ep = parseServer(o);
  if (!ep) return ep.error();
  if (ep.value().tls && readWhole(o.ca_file).empty())
    return Error{fmt::format("--kube-ca {}: cannot read the API server's CA", o.ca_file)};
  return std::unique_ptr<NamespaceWatch>(
      new WatchImpl(o, std::move(ep.value()), std::move(publish), std::move(log)));
}

}  // namespace kh::admission
