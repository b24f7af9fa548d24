// kubeharden serve: the admission webhook server (see admission/server.h and
// docs/design/admission.md). SIGTERM or SIGINT drains and exits 0.
#include <csignal>
#include <cstdio>
#include <thread>

#include "admission/server.h"
#include "cli/commands.h"

namespace kh {

Runner addServeCommand(CLI::App& app) {
  auto o = std::make_shared<admission::ServerOptions>();
  app.add_option("--listen", o->listen, "HTTPS address (HOST:PORT)")->capture_default_str();
  app.add_option("--insecure-listen", o->insecure_listen,
                 "Also serve plain HTTP on HOST:PORT or unix:/path: FOR TESTS AND BENCHMARKS ONLY");
  app.add_option("--tls-cert", o->tls_cert, "Serving certificate (PEM chain); reloaded on change");
  app.add_option("--tls-key", o->tls_key, "Its private key (PEM); reloaded on change");
  app.add_option("-c,--config", o->config,
                 "Config file (admission section, checks, exceptions); reloaded on change");
  app.add_option(
         "--cluster-report", o->cluster_report,
         "The scheduled cluster scan's summary (summary.json of the ConfigMap `cluster scan "
         "--report-configmap` writes, mounted): its counts on /metrics, re-read on change")
      ->type_name("FILE");
  app.add_option("--namespaces", o->namespaces,
                 "YAML file of Namespace objects whose kubeharden.io labels set each namespace's "
                 "modes");
  app.add_flag("--watch-namespaces", o->watch_namespaces,
               "Keep every namespace's labels current from the Kubernetes API (list and watch; "
               "in cluster by default)");
  app.add_option("--kube-api", o->kube.server,
                 "API server URL for --watch-namespaces (default: in-cluster "
                 "KUBERNETES_SERVICE_HOST:PORT)");
  app.add_option("--kube-token", o->kube.token_file, "Bearer token file (re-read per request)")
      ->capture_default_str();
  app.add_option("--kube-ca", o->kube.ca_file, "CA bundle of the API server")
      ->capture_default_str();
  auto on_deadline = std::make_shared<std::string>("allow");
  app.add_option("--on-deadline", *on_deadline,
                 "Answer given when a decision would miss the API server's timeout (with a "
                 "warning and an audit annotation)")
      ->check(CLI::IsMember({"allow", "deny"}))
      ->capture_default_str();
  app.add_flag("--log-decisions", o->log_decisions, "One JSON line per decision on stderr");
  return [o, on_deadline] {
    o->deadline_allows = *on_deadline == "allow";
    // Signals are taken by a thread of our own (sigwait), never by a handler.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
    auto server = admission::Server::create(*o);
    if (!server) {
      std::fprintf(stderr, "kubeharden serve: %s\n", server.error().describe().c_str());
      return kExitUsage;
    }
    admission::Server* s = server.value().get();
    std::thread signals([s, set] {
      int sig = 0;
      sigwait(&set, &sig);
      s->shutdown();
    });
    signals.detach();
    if (!o->insecure_listen.empty())
      std::fprintf(stderr,
                   "kubeharden serve: WARNING: plain HTTP on %s (--insecure-listen): for tests "
                   "and benchmarks only, never for an API server\n",
                   o->insecure_listen.c_str());
    std::fprintf(stderr, "kubeharden serve: listening (https %d, http %d)\n", s->tlsPort(),
                 s->port());
    s->run();
    return kExitClean;
  };
}

}  // namespace kh
