// The admission webhook server: HTTPS (TLS 1.2 and 1.3) with HTTP/1.1 keep-alive, one thread per
// connection (a slow or hostile client holds only its own thread), the pure decision of
// handler.h behind POST /validate and POST /mutate, GET /healthz, /readyz and /metrics.
// Certificate, key and config file are reloaded when they change, without dropping
// connections. SIGTERM (shutdown()) turns readiness off, lets requests in flight finish and
// closes keep-alive connections after their next answer.
#pragma once

#include <memory>
#include <string>

#include "admission/namespace_watch.h"
#include "base/result.h"

namespace kh::admission {

struct ServerOptions {
  std::string listen = "0.0.0.0:8443";  // HTTPS; empty to serve only the insecure listener
  std::string insecure_listen;          // HOST:PORT or unix:/path, plain HTTP (tests, bench)
  std::string tls_cert, tls_key;
  std::string config;      // config file (admission section, checks, exceptions); may be empty
  std::string namespaces;  // YAML file of Namespace objects whose labels set modes; may be empty
  // The scheduled cluster scan's summary (the mounted ConfigMap's summary.json), exported as
  // kubeharden_cluster_* metrics and re-read when it changes; may be empty or not exist yet.
  std::string cluster_report;
  // Keep every namespace's labels current from the Kubernetes API (in cluster, or `kube`).
  bool watch_namespaces = false;
  KubeApiOptions kube;
  bool log_decisions = false;
  double deadline_fraction = 0.8;  // answer before this share of the request's ?timeout=
  bool deadline_allows = true;     // at the deadline: allow (with warning) or deny
  size_t max_body_bytes = 7u << 20;
  int idle_timeout_seconds = 120;   // keep-alive idle time (the API server reuses for 90 s)
  int header_timeout_seconds = 10;  // to read one request's header and body
};

class Server {
 public:
  static Result<std::unique_ptr<Server>> create(const ServerOptions& opts);
  virtual ~Server() = default;
  // Serves until shutdown(); returns once every connection is closed.
  virtual void run() = 0;
  // Thread-safe; also what SIGTERM does.
  virtual void shutdown() = 0;
  // The bound port of the insecure (or, without one, the TLS) listener: for tests with port 0.
  virtual int port() const = 0;
  virtual int tlsPort() const = 0;
};

}  // namespace kh::admission
