// The Kubernetes API client: GET requests over net::Client with what a Connection says (the
// server's CA alone, or insecure-skip-tls-verify; tls-server-name; proxy-url; client
// certificates; bearer tokens, a token file re-read for every request, basic auth;
// impersonation headers; exec credential plugins, their credential kept until it expires and
// fetched again once after a 401). Read-only by construction: GET, and the SelfSubjectReview
// that asks who we are. Credentials go
// in the Authorization header to the API server's origin only and never into messages.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "cluster/exec_credential.h"
#include "cluster/kubeconfig.h"
#include "net/http.h"

namespace kh::cluster {

struct ApiOptions {
  std::chrono::seconds timeout{30};  // per request (connect and stall)
  int max_attempts = 5;              // 429/5xx/dropped connections, honouring Retry-After
  std::string user_agent = "kubeharden";
  // Client-side rate limit (a token bucket, as client-go's): requests per second on average and
  // the burst allowed; qps 0 is unlimited.
  double qps = 20;
  int burst = 40;
};

// Thread-safe: requests may be made from several threads at once (`cluster scan --parallel`).
class Api {
 public:
  // Reads the CA and client certificate files now (an error names the file).
  static Result<std::unique_ptr<Api>> create(const Connection& c, const ApiOptions& o);

  // GET `path` (with its query); the answer whatever its status, an Error only when there was
  // none (unreachable, TLS, timeout) or the credentials could not be read.
  // `retry`: 429/5xx and dropped connections are retried (with Retry-After); discovery of a
  // group version asks once, since an aggregated API that is down answers 503 every time.
  Result<net::Response> get(const std::string& path, const std::string& accept = "application/json",
                            bool retry = true);

  // Who the server says we are: a SelfSubjectReview (authentication.k8s.io/v1, Kubernetes
  // 1.28+; v1beta1 before). The one request that is not a GET, and it changes nothing. Empty
  // when the server does not offer it or refuses it.
  struct Identity {
    std::string username;
    std::vector<std::string> groups;
  };
  std::optional<Identity> whoAmI();

  // The one write there is, made only when asked (`cluster scan --report-configmap`): the
  // ConfigMap NS/NAME holding `data` (key -> value), created or replaced by server-side apply
  // (field manager kubeharden). Never used while reading.
  Result<net::Response> applyConfigMap(
      const std::string& ns, const std::string& name,
      const std::vector<std::pair<std::string, std::string>>& data);

  const std::string& server() const { return server_; }
  // Things the user should know (insecure-skip-tls-verify in use).
  const std::vector<std::string>& warnings() const { return warnings_; }
  uint64_t requests() const { return requests_; }
  uint64_t bytes() const { return bytes_; }

 private:
  Api(const Connection& c, net::ClientOptions o);
  // The Authorization header for the next request; runs the exec plugin when its credential is
  // missing or expired (`refresh`: after a 401). Under mu_.
  Result<std::string> authorization(bool refresh);
  // A connection of the pool for one request (a new one when none is idle), and its return.
  // Connections made before the client certificate changed are dropped on return.
  struct Lease {
    std::unique_ptr<net::Client> client;
    uint64_t generation = 0;
    bool retry = true;
  };
  Lease lease(bool retry);
  void impersonate(net::Request& req) const;
  void giveBack(Lease l);

  Connection conn_;
  net::ClientOptions opts_;  // under mu_ (an exec plugin may change the client certificate)
  std::optional<ExecCredential> exec_;
  std::string server_, base_url_;
  std::vector<std::string> warnings_;
  std::atomic<uint64_t> requests_{0}, bytes_{0};
  // Thread-safe: concurrent get()s share the credentials, the token bucket and a pool of
  // connections (one net::Client, that is one curl handle, per request in flight).
  std::mutex mu_;
  std::vector<std::unique_ptr<net::Client>> idle_, idle_once_;
  uint64_t generation_ = 0;
  // The token bucket: tokens now (negative: reserved by waiting requests), and when counted.
  double qps_ = 0, tokens_ = 0;
  int burst_ = 0;
  std::chrono::steady_clock::time_point refilled_;
  void waitForToken();
};

}  // namespace kh::cluster
