// Privilege-escalation paths: from each subject, the shortest chain of steps to cluster-admin-
// equivalent power, built on the risk analysis (risks.h). A step either reaches admin directly
// (impersonation, webhook control, CSR approval, nodes/proxy, bind-or-escalate with binding
// creation, full wildcard) or becomes another identity (create pods, mint tokens or read token
// secrets in a namespace: its ServiceAccounts; exec or ephemeral containers: the accounts of the
// pods running there). Service accounts also act with their implicit groups' permissions.
#pragma once

#include <string>
#include <vector>

#include "rbac/risks.h"

namespace kh::rbac {

struct Step {
  std::string from,
      to;           // node names: "ServiceAccount ns/name", "User u", "Group g", "cluster-admin"
  std::string how;  // e.g. "create pods in namespace ops (runs as any ServiceAccount there)"
  std::vector<Grant> via;
};

struct EscalationPath {
  std::string start;
  std::vector<Step> steps;  // the last one ends at "cluster-admin"
};

// `workload_accounts`: (namespace, service account) of every workload in the input (for exec).
std::vector<EscalationPath> escalationPaths(
    const Model& m, const std::vector<Risk>& risks,
    const std::vector<std::pair<std::string, std::string>>& workload_accounts);

}  // namespace kh::rbac
