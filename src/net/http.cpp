#include "net/http.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <memory>
#include <thread>

#include "base/strings.h"
#include "net/curl_api.h"

namespace kh::net {
namespace {

CURL* handle(void* p) {
  return static_cast<CURL*>(p);
}

std::string_view trimmed(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() &&
         (v.back() == '\r' || v.back() == '\n' || v.back() == ' ' || v.back() == '\t'))
    v.remove_suffix(1);
  return v;
}

// What one attempt collects.
struct Attempt {
  const Sink* sink = nullptr;
  size_t max_body = 0;
  size_t resume_from = 0;  // bytes already delivered by earlier attempts (Range asked from here)
  size_t skip = 0;         // bytes the server sends again (it ignored Range): dropped
  size_t delivered = 0;    // bytes handed to the sink (or kept) in this attempt
  bool sink_stopped = false;
  bool too_big = false;
  long status = 0;
  void* curl = nullptr;
  Response* resp = nullptr;
};

size_t onHeader(char* data, size_t size, size_t n, void* user) {
  auto* a = static_cast<Attempt*>(user);
  std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) {  // a new response (after 100 Continue or a proxy's CONNECT)
    a->resp->headers.clear();
    return size * n;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return size * n;
  a->resp->headers.emplace_back(toLower(trimmed(line.substr(0, colon))),
                                std::string(trimmed(line.substr(colon + 1))));
  return size * n;
}

size_t onBody(char* data, size_t size, size_t n, void* user) {
  auto* a = static_cast<Attempt*>(user);
  size_t len = size * n;
  if (a->status == 0) {
    CurlApi::get().easy_getinfo(handle(a->curl), CURLINFO_RESPONSE_CODE, &a->status);
    // Asked to resume and answered with the whole body: drop what was delivered already.
    if (a->status == 200 && a->resume_from > 0) a->skip = a->resume_from;
  }
  std::string_view chunk(data, len);
  bool ok2xx = a->status >= 200 && a->status < 300;
  if (a->sink && ok2xx) {
    if (a->skip) {
      size_t drop = std::min(a->skip, chunk.size());
      a->skip -= drop;
      chunk.remove_prefix(drop);
      if (chunk.empty()) return len;
    }
    if (!(*a->sink)(chunk)) {
      a->sink_stopped = true;
      return 0;  // libcurl reports a write error
    }
    a->delivered += chunk.size();
    return len;
  }
  // Kept: the body asked for, or an error answer's body (for its message).
  size_t cap = a->sink ? size_t{64} << 10 : a->max_body;
  if (a->resp->body.size() + chunk.size() > cap) {
    if (!a->sink) {
      a->too_big = true;
      return 0;
    }
    chunk = chunk.substr(0, cap - std::min(cap, a->resp->body.size()));
  }
  a->resp->body.append(chunk);
  if (ok2xx) a->delivered += chunk.size();
  return len;
}

// Transfer failures worth another attempt: the network, not the request.
bool retryableCode(CURLcode c) {
  switch (c) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

bool retryableStatus(long s) {
  return s == 408 || s == 429 || (s >= 500 && s <= 599 && s != 501);
}

std::string schemeOf(std::string_view url) {
  size_t p = url.find("://");
  return p == std::string_view::npos ? std::string() : toLower(url.substr(0, p));
}

const char* envFirst(const char* upper, const char* lower) {
  const char* v = std::getenv(upper);
  if (!v || !*v) v = std::getenv(lower);
  return v && *v ? v : nullptr;
}

// A proxy URL without its user name and password, for messages.
std::string withoutUserinfo(std::string_view proxy) {
  size_t scheme = proxy.find("://");
  size_t start = scheme == std::string_view::npos ? 0 : scheme + 3;
  size_t at = proxy.find('@', start);
  size_t slash = proxy.find('/', start);
  if (at == std::string_view::npos || (slash != std::string_view::npos && at > slash))
    return std::string(proxy);
  return std::string(proxy.substr(0, start)) + std::string(proxy.substr(at + 1));
}

// What kind of failure a transfer error is: what the caller may tell its user (lastFailure())
// and how the message below explains it.
Client::Failure classify(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_PROXY:
      return Client::Failure::kUnreachable;
    case CURLE_OPERATION_TIMEDOUT:
      return Client::Failure::kTimeout;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
      return Client::Failure::kTls;
    default:
      return Client::Failure::kOther;
  }
}

std::string describe(CURLcode rc, const char* detail, const std::string& url,
                     const std::string& proxy) {
  std::string what = detail && *detail ? detail : CurlApi::get().easy_strerror(rc);
  std::string origin = originOf(url);
  if (!proxy.empty()) origin += " (through the proxy " + withoutUserinfo(proxy) + ")";
  switch (classify(rc)) {
    case Client::Failure::kUnreachable:
      return fmt::format(
          "cannot reach {}: {} (network unreachable, or a proxy is needed: "
          "HTTPS_PROXY or --proxy)",
          origin, what);
    case Client::Failure::kTimeout:
      return fmt::format("{} timed out: {}", origin, what);
    case Client::Failure::kTls:
      return fmt::format("TLS with {} failed: {} (a private CA goes in --ca-cert)", origin, what);
    default:
      return fmt::format("request to {} failed: {}", origin, what);
  }
}

}  // namespace

ProxyChoice chooseProxy(std::string_view url, const std::string& override_proxy) {
  ProxyChoice c;
  if (!override_proxy.empty()) {
    c.proxy = override_proxy;
  } else {
    const char* v = schemeOf(url) == "https" ? envFirst("HTTPS_PROXY", "https_proxy")
                                             : envFirst("HTTP_PROXY", "http_proxy");
    if (v) c.proxy = v;
  }
  const char* no = envFirst("NO_PROXY", "no_proxy");
  std::string list = no ? no : "";
  if (list == "*") {
    c.proxy.clear();  // nothing is proxied
  } else {
    c.no_proxy = list.empty() ? "" : list + ",";
    c.no_proxy += "localhost,127.0.0.0/8,::1";
  }
  return c;
}

std::string Response::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k == name) return v;
  return {};
}

std::string originOf(std::string_view url) {
  std::string scheme = schemeOf(url);
  size_t start = url.find("://");
  start = start == std::string_view::npos ? 0 : start + 3;
  size_t end = url.find_first_of("/?#", start);
  std::string host = toLower(url.substr(start, end == std::string_view::npos ? end : end - start));
  if (size_t at = host.rfind('@'); at != std::string::npos) host.erase(0, at + 1);  // userinfo
  bool has_port = host.starts_with('[') ? host.find("]:") != std::string::npos
                                        : host.find(':') != std::string::npos;
  if (!has_port) host += scheme == "http" ? ":80" : ":443";
  return scheme + "://" + host;
}

std::string resolveUrl(std::string_view base, std::string_view location) {
  if (location.find("://") != std::string_view::npos) return std::string(location);
  std::string scheme = schemeOf(base);
  size_t start = base.find("://");
  start = start == std::string_view::npos ? 0 : start + 3;
  if (location.starts_with("//")) return scheme + ":" + std::string(location);
  size_t path = base.find('/', start);
  std::string root(base.substr(0, path == std::string_view::npos ? base.size() : path));
  if (location.starts_with('/')) return root + std::string(location);
  // Relative to the base's directory.
  std::string_view dir = path == std::string_view::npos ? "/" : base.substr(path);
  dir = dir.substr(0, dir.find_first_of("?#"));
  dir = dir.substr(0, dir.rfind('/') + 1);
  return root + std::string(dir) + std::string(location);
}

std::chrono::milliseconds Client::retryAfter(std::string_view value,
                                             std::chrono::system_clock::time_point now) {
  value = trimmed(value);
  if (value.empty()) return std::chrono::milliseconds(-1);
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (value.size() > 9) return std::chrono::milliseconds(-1);
    return std::chrono::seconds(std::stol(std::string(value)));
  }
  std::tm tm{};
  std::string v(value);
  if (!strptime(v.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm)) return std::chrono::milliseconds(-1);
  auto at = std::chrono::system_clock::from_time_t(timegm(&tm));
  auto d = std::chrono::duration_cast<std::chrono::milliseconds>(at - now);
  return d.count() < 0 ? std::chrono::milliseconds(0) : d;
}

Client::Client(ClientOptions opts) : opts_(std::move(opts)) {}

Client::~Client() {
  if (curl_) CurlApi::get().easy_cleanup(handle(curl_));
}

Result<Response> Client::fetch(const Request& req, const Sink* sink, size_t max_body) {
  const CurlApi& api = CurlApi::get();
  failure_ = Failure::kOther;  // until an answer arrives
  if (!api.error.empty()) return Error{api.error, {}, {}};
  if (!curl_) curl_ = api.easy_init();
  if (!curl_) return Error{"libcurl could not be initialised", {}, {}};
  CURL* c = handle(curl_);
  auto deadline =
      opts_.total_timeout.count() > 0
          ? std::min(opts_.deadline, std::chrono::steady_clock::now() + opts_.total_timeout)
          : opts_.deadline;
  const std::string origin = originOf(req.url);
  std::string url = req.url;
  std::string method = req.method;
  Response resp;
  int redirects = 0;
  size_t delivered = 0;  // body bytes handed over so far (resumes start here)
  std::chrono::milliseconds backoff = opts_.backoff;
  int timeouts = 0;
  for (int attempt = 1;; ++attempt) {
    std::string scheme = schemeOf(url);
    if (scheme != "https" && !(scheme == "http" && opts_.allow_http))
      return Error{fmt::format("{} is not allowed ({}): only HTTPS, or plain HTTP where "
                               "--insecure names the registry",
                               originOf(url), scheme.empty() ? "no scheme" : scheme + "://"),
                   {},
                   {}};
    api.easy_reset(c);
    resp.headers.clear();
    resp.body.clear();
    resp.status = 0;
    resp.attempts = attempt;
    Attempt a;
    a.sink = sink;
    a.max_body = max_body;
    a.curl = c;
    a.resp = &resp;
    a.resume_from = sink ? delivered : 0;
    char errbuf[CURL_ERROR_SIZE] = {0};
    curl_slist* headers = nullptr;
    for (const auto& [k, v] : req.headers)
      headers = api.slist_append(headers, fmt::format("{}: {}", k, v).c_str());
    // Credentials only for the origin they were given for.
    if (!req.authorization.empty() && originOf(url) == origin)
      headers = api.slist_append(headers, ("Authorization: " + req.authorization).c_str());
    if (delivered > 0 && sink)
      headers = api.slist_append(headers, fmt::format("Range: bytes={}-", delivered).c_str());
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> guard(headers, api.slist_free_all);
    api.easy_setopt(c, CURLOPT_URL, url.c_str());
    api.easy_setopt(c, CURLOPT_PROTOCOLS_STR, opts_.allow_http ? "http,https" : "https");
    api.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    api.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    api.easy_setopt(c, CURLOPT_USERAGENT, opts_.user_agent.c_str());
    api.easy_setopt(c, CURLOPT_CONNECTTIMEOUT, static_cast<long>(opts_.connect_timeout.count()));
    api.easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    api.easy_setopt(c, CURLOPT_LOW_SPEED_TIME, static_cast<long>(opts_.stall_timeout.count()));
    if (deadline != std::chrono::steady_clock::time_point::max()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        failure_ = Failure::kTimeout;
        return Error{opts_.total_timeout.count() > 0
                         ? fmt::format("{} did not answer within {} s", originOf(url),
                                       opts_.total_timeout.count())
                         : fmt::format("{} did not answer before the deadline", originOf(url)),
                     {},
                     {}};
      }
      api.easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(left.count()));
    }
    api.easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    // Large bodies (layers) arrive in 512 KiB pieces rather than libcurl's 16 KiB: 32x fewer
    // callbacks, copies into the caller's pipe and thread wake-ups.
    api.easy_setopt(c, CURLOPT_BUFFERSIZE, 512L * 1024);
    api.easy_setopt(c, CURLOPT_WRITEFUNCTION, onBody);
    api.easy_setopt(c, CURLOPT_WRITEDATA, &a);
    api.easy_setopt(c, CURLOPT_HEADERFUNCTION, onHeader);
    api.easy_setopt(c, CURLOPT_HEADERDATA, &a);
    api.easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    if (method == "HEAD") api.easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (method == "POST" || method == "PATCH" || method == "PUT") {
      api.easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
      api.easy_setopt(c, CURLOPT_POSTFIELDS, req.body.c_str());
      // A body sent as POST does, under the method asked for (cluster scan's one server-side
      // apply is a PATCH).
      if (method != "POST") api.easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
    }
    if (!opts_.ca_file.empty()) api.easy_setopt(c, CURLOPT_CAINFO, opts_.ca_file.c_str());
    // Blobs are copied by libcurl when set (CURL_BLOB_COPY).
    auto blob = [&](CURLoption o, const std::string& pem) {
      curl_blob b{const_cast<char*>(pem.data()), pem.size(), CURL_BLOB_COPY};
      api.easy_setopt(c, o, &b);
    };
    if (!opts_.ca_pem.empty()) {
      // Only these: the distribution's default bundle and directory are switched off.
      api.easy_setopt(c, CURLOPT_CAINFO, static_cast<const char*>(nullptr));
      api.easy_setopt(c, CURLOPT_CAPATH, static_cast<const char*>(nullptr));
      blob(CURLOPT_CAINFO_BLOB, opts_.ca_pem);
    }
    if (!opts_.client_cert_pem.empty()) {
      api.easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
      blob(CURLOPT_SSLCERT_BLOB, opts_.client_cert_pem);
      api.easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
      blob(CURLOPT_SSLKEY_BLOB, opts_.client_key_pem);
    }
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> connect_to(
        opts_.connect_to.empty() ? nullptr : api.slist_append(nullptr, opts_.connect_to.c_str()),
        api.slist_free_all);
    if (connect_to) api.easy_setopt(c, CURLOPT_CONNECT_TO, connect_to.get());
    if (opts_.insecure_tls) {
      api.easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
      api.easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    // The proxy is chosen here, not by libcurl: it reads only the lower-case http_proxy and
    // would proxy loopback addresses; "" turns its own environment reading off.
    ProxyChoice proxy = chooseProxy(url, opts_.proxy);
    api.easy_setopt(c, CURLOPT_PROXY, proxy.proxy.c_str());
    api.easy_setopt(c, CURLOPT_NOPROXY, proxy.no_proxy.c_str());
    CURLcode rc = api.easy_perform(c);
    api.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp.status);
    if (a.status == 0) a.status = resp.status;
    resp.final_url = url;
    if (a.sink_stopped) return Error{"the transfer was stopped by its receiver", {}, {}};
    if (a.too_big)
      return Error{fmt::format("{} sent more than {} bytes", originOf(url), max_body), {}, {}};
    delivered += a.delivered;
    if (rc != CURLE_OK) {
      timeouts += rc == CURLE_OPERATION_TIMEDOUT;
      bool timeouts_left = opts_.max_timeout_attempts <= 0 || timeouts < opts_.max_timeout_attempts;
      if (retryableCode(rc) && timeouts_left && attempt < opts_.max_attempts &&
          std::chrono::steady_clock::now() + backoff < deadline) {
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, opts_.max_backoff);
        continue;
      }
      failure_ = classify(rc);
      return Error{describe(rc, errbuf, url, proxy.proxy), {}, {}};
    }
    failure_ = Failure::kNone;  // an answer, whatever its status
    long s = resp.status;
    if (s >= 300 && s < 400 && s != 304) {
      std::string location = resp.header("location");
      if (location.empty()) return resp;
      failure_ = Failure::kOther;
      if (++redirects > opts_.max_redirects)
        return Error{
            fmt::format("{} redirected more than {} times", origin, opts_.max_redirects), {}, {}};
      url = resolveUrl(url, location);
      if (s == 303 || ((s == 301 || s == 302) && method == "POST")) method = "GET";
      --attempt;  // a redirect is not a retry
      continue;
    }
    if (retryableStatus(s) && attempt < opts_.max_attempts) {
      auto wait = retryAfter(resp.header("retry-after"), std::chrono::system_clock::now());
      if (wait.count() < 0) wait = backoff;
      if (wait <= opts_.max_backoff && std::chrono::steady_clock::now() + wait < deadline) {
        std::this_thread::sleep_for(wait);
        backoff = std::min(backoff * 2, opts_.max_backoff);
        continue;
      }
    }
    return resp;
  }
}

}  // namespace kh::net
