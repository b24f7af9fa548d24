// exec credential plugins (client.authentication.k8s.io/v1 and v1beta1), as client-go runs them:
// the command (from PATH, or a path), its args, the process environment plus the plugin's env,
// and KUBERNETES_EXEC_INFO (an ExecCredential whose spec says interactive: false, with the
// cluster when provideClusterInfo is set). The plugin prints an ExecCredential whose status holds
// a token or a client certificate and key, and optionally an expirationTimestamp. kubeharden
// never runs interactively: a plugin with interactiveMode Always is refused up front. The
// plugin's output (a credential) never reaches a message; its installHint does when it is
// missing.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "base/result.h"
#include "cluster/kubeconfig.h"

namespace kh::cluster {

struct ExecCredential {
  std::string token;
  std::string client_cert_pem, client_key_pem;
  std::optional<int64_t> expires;  // Unix seconds
};

Result<ExecCredential> runExecPlugin(const ExecConfig& x, const ClusterEntry& cluster,
                                     std::chrono::milliseconds timeout);

}  // namespace kh::cluster
