// kubeconfig, read as client-go (and so kubectl) reads it (docs/cluster.md):
//   - `--kubeconfig FILE` alone when given (it must exist); else the files of KUBECONFIG
//     (colon-separated, duplicates dropped, missing ones skipped with a warning when all are
//     missing); else ~/.kube/config;
//   - merged: the first file that defines a cluster, user or context name wins that entry whole;
//     the first file that sets current-context wins it;
//   - relative paths (certificate-authority, client-certificate, client-key, tokenFile, and an
//     exec command that contains a '/') resolve against the directory of the file that named
//     them;
//   - the context: --context, else current-context; its cluster and user, unless --cluster or
//     --user replace them; the namespace from --namespace, else the context's, else "default";
//   - in a pod with no kubeconfig: the service account (KUBERNETES_SERVICE_HOST/PORT, its token
//     file re-read per request, its CA and namespace).
// Reading only: no I/O beyond the kubeconfig files themselves (credentials files are read when
// connecting, by the client). Secrets are never put in messages.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"

namespace kh::cluster {

struct ExecConfig {
  std::string api_version;  // client.authentication.k8s.io/v1 or v1beta1
  std::string command;
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  std::string install_hint;
  bool provide_cluster_info = false;
  std::string interactive_mode;  // Never, IfAvailable, Always ("" as IfAvailable)
};

struct ClusterEntry {
  std::string server;
  std::string certificate_authority;       // a file (absolute once resolved)
  std::string certificate_authority_data;  // PEM bytes (decoded from base64)
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;
  std::string proxy_url;
  bool disable_compression = false;
  std::string origin;  // the file that defined it
};

struct UserEntry {
  std::string client_certificate, client_certificate_data;  // file, or PEM bytes
  std::string client_key, client_key_data;
  std::string token, token_file;
  std::string username, password;
  std::string as, as_uid;
  std::vector<std::string> as_groups;
  std::optional<ExecConfig> exec;
  std::string auth_provider;  // the legacy auth-provider's name (refused when connecting)
  std::string origin;
};

struct ContextEntry {
  std::string cluster, user, namespace_;
  std::string origin;
};

// The merged kubeconfig.
struct KubeConfig {
  std::map<std::string, ClusterEntry> clusters;
  std::map<std::string, UserEntry> users;
  std::map<std::string, ContextEntry> contexts;
  std::string current_context;
  std::vector<std::string> files;     // read, in precedence order
  std::vector<std::string> warnings;  // e.g. every KUBECONFIG file missing
};

// Where the kubeconfig files are: the flag, and the environment (passed in so tests control it).
struct KubeConfigSources {
  std::string explicit_path;   // --kubeconfig
  std::string kubeconfig_env;  // $KUBECONFIG
  std::string home;            // $HOME
  static KubeConfigSources fromEnvironment(std::string explicit_path);
};

// Reads and merges the files. Errors: an explicit file that does not exist, a file that is not a
// kubeconfig (with its line), a base64 field that does not decode.
Result<KubeConfig> loadKubeConfig(const KubeConfigSources& src);

// Parses one file's text (for tests and fuzzing); `path` resolves its relative paths.
Result<KubeConfig> parseKubeConfig(std::string_view text, const std::string& path);

struct Overrides {
  std::string context, cluster, user, namespace_;
  std::string as;
  std::vector<std::string> as_groups;
};

// What to connect to, and as whom.
struct Connection {
  std::string context, cluster_name, user_name;  // empty in cluster
  std::string namespace_ = "default";
  ClusterEntry cluster;
  UserEntry user;
  bool in_cluster = false;
};

// The connection the kubeconfig and overrides select. Errors name the missing context, cluster
// or user, or the inconsistency (a CA and insecure-skip-tls-verify together; a file and data
// for one credential; several authentication methods).
Result<Connection> resolveConnection(const KubeConfig& cfg, const Overrides& o);

// The pod's own service account: KUBERNETES_SERVICE_HOST and _PORT, and the files of
// `sa_dir` (token, ca.crt, namespace; /var/run/secrets/kubernetes.io/serviceaccount).
struct InClusterSources {
  std::string host, port;
  std::string sa_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
  static InClusterSources fromEnvironment();
};
Result<Connection> inClusterConnection(const InClusterSources& src, const Overrides& o);

// kubectl's choice: the kubeconfig when one was given or exists, else in-cluster when in a pod.
Result<Connection> connect(const KubeConfigSources& files, const InClusterSources& pod,
                           const Overrides& o, std::vector<std::string>* warnings);

}  // namespace kh::cluster
