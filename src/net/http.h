// The one HTTP client (libcurl, loaded on demand): used by the vulnerability database update,
// the registry client and, later, the cluster client.
//
// - Every request has a connect timeout, a stall timeout (too few bytes for too long) and an
//   optional total deadline: nothing hangs.
// - Redirects are followed here, not by libcurl (at most `max_redirects`), so that the
//   Authorization header is sent only to the scheme, host and port it was given for: blob
//   storage behind a registry's redirect never sees the registry credentials.
// - 408, 429 and 5xx answers and dropped connections are retried with exponential backoff,
//   honouring Retry-After (seconds or an HTTP date); a body that was cut off resumes with Range
//   where it stopped (or skips what it already delivered when the server ignores Range).
// - Proxies come from HTTPS_PROXY/HTTP_PROXY (upper case first, then lower case, as Go-based
//   tools read them) or ClientOptions::proxy; NO_PROXY (host names, domain suffixes, IP
//   addresses, CIDRs, "*") exempts hosts, and loopback hosts are never proxied. TLS is verified
//   against the system roots plus `ca_file`; plain HTTP and unverified TLS only where the caller
//   allows them.
// - Credentials never reach a log: Request::authorization is a separate field that errors and
//   traces leave out.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace kh::net {

struct Request {
  std::string method = "GET";  // GET, HEAD, POST, PATCH or PUT (the last three send body)
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // besides Authorization
  std::string authorization;  // "Bearer ..." / "Basic ...": sent to the request's origin only
  std::string body;           // POST only (with its Content-Type in `headers`)
};

struct Response {
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower case, last answer's
  std::string body;       // when no sink was given (capped by max_body)
  std::string final_url;  // after redirects
  int attempts = 1;       // requests made, retries included
  // The first value of header `name` (lower case), or empty.
  std::string header(std::string_view name) const;
};

struct ClientOptions {
  std::string ca_file;  // added to the system roots
  // Trust exactly these CA certificates (PEM bytes) instead of the system roots: a Kubernetes
  // API server's own CA.
  std::string ca_pem;
  // TLS client authentication: a certificate (chain) and its private key, PEM bytes.
  std::string client_cert_pem, client_key_pem;
  // Connect to another address than the URL's host ("HOST:PORT:ADDRESS:PORT", libcurl's
  // CONNECT_TO): the URL's host is then the name TLS verifies (kubeconfig's tls-server-name).
  std::string connect_to;
  bool insecure_tls = false;  // do not verify certificates (the caller names the hosts)
  bool allow_http = false;    // plain http:// URLs (the caller decides for which hosts)
  std::string proxy;          // overrides the environment's proxies when set
  std::chrono::seconds connect_timeout{15};
  std::chrono::seconds stall_timeout{30};  // fewer than 1 KiB/s for this long aborts
  std::chrono::seconds total_timeout{0};   // 0: none beyond the stall timeout
  // Every request (with its retries) ends by this time: the admission webhook's deadline.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  int max_redirects = 10;
  int max_attempts = 5;  // 1 + retries
  // Attempts that may end in a timeout (a stalled peer) before giving up; 0: max_attempts. A
  // server that stalls once tends to stall again: the Kubernetes API client gives it two.
  int max_timeout_attempts = 0;
  std::chrono::milliseconds backoff{500};  // doubled per retry, capped at max_backoff
  std::chrono::milliseconds max_backoff{30000};
  std::string user_agent = "kubeharden";
};

// The proxy a request to `url` goes through (empty: none), and the hosts libcurl must reach
// directly whatever the proxy (its CURLOPT_NOPROXY list: NO_PROXY's entries and loopback).
struct ProxyChoice {
  std::string proxy, no_proxy;
};
ProxyChoice chooseProxy(std::string_view url, const std::string& override_proxy);

// Receives body bytes as they arrive; returns false to abort (the fetch fails with its error).
using Sink = std::function<bool(std::string_view)>;

class Client {
 public:
  explicit Client(ClientOptions opts);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  Client(Client&& o) noexcept : opts_(std::move(o.opts_)), curl_(o.curl_), failure_(o.failure_) {
    o.curl_ = nullptr;
  }
  Client& operator=(Client&&) = delete;

  // Performs `req`. With a sink, the body streams into it (only for a 2xx answer; other bodies
  // are kept in Response::body for the error message, up to 64 KiB); without one it is kept, up
  // to `max_body` bytes (more is an error). A non-2xx status is not an error here: the caller
  // reads Response::status. Errors: the library missing, connection failures after the
  // retries, timeouts, TLS failures (with the certificate problem), too many redirects, a
  // redirect to a scheme that is not allowed.
  Result<Response> fetch(const Request& req, const Sink* sink = nullptr,
                         size_t max_body = size_t{16} << 20);

  // The options in force.
  const ClientOptions& options() const { return opts_; }

  // What kind of transport failure the last fetch's error was (kNone after a fetch that got an
  // answer, whatever its status): for callers that act on it, such as not trying the same
  // unreachable host again.
  enum class Failure { kNone, kUnreachable, kTimeout, kTls, kOther };
  Failure lastFailure() const { return failure_; }

  // Parses a Retry-After value (delta seconds or an IMF-fixdate) relative to now; negative
  // when absent or unreadable. Exposed for tests.
  static std::chrono::milliseconds retryAfter(std::string_view value,
                                              std::chrono::system_clock::time_point now);

 private:
  ClientOptions opts_;
  void* curl_ = nullptr;  // one easy handle, reused (connection reuse); not thread-safe
  Failure failure_ = Failure::kNone;
};

// The scheme://host:port of a URL (the port made explicit), for comparing origins.
std::string originOf(std::string_view url);
// Resolves `location` (absolute, scheme-relative or path) against `base`.
std::string resolveUrl(std::string_view base, std::string_view location);

}  // namespace kh::net
