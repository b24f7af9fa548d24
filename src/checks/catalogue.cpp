// The one list of every check kubeharden ships: each area's module adds its checks, one sorted
// line per check, and the Registry sorts the union by ID.
#include "checks/audit/audit_event_checks.h"
#include "checks/cluster/cluster_checks.h"
#include "checks/cp/cp_checks.h"
#include "checks/dockerfile/dockerfile_checks.h"
#include "checks/image/image_checks.h"
#include "checks/misc/misc_checks.h"
#include "checks/network/network_checks.h"
#include "checks/ns/ns_checks.h"
#include "checks/pod/pod_checks.h"
#include "checks/pss/pss_checks.h"
#include "checks/rbac/rbac_checks.h"
#include "checks/registry.h"
#include "checks/rel/rel_checks.h"
#include "checks/secrets/secrets_checks.h"

namespace kh {

std::vector<std::unique_ptr<Check>> makeCatalogue() {
  std::vector<std::unique_ptr<Check>> out;
  addAuditEventChecks(out);
  addClusterChecks(out);
  addCpChecks(out);
  addDockerfileChecks(out);
  addImageChecks(out);
  addMiscChecks(out);
  addNetworkChecks(out);
  addNsChecks(out);
  addPodChecks(out);
  addPssChecks(out);
  addRbacChecks(out);
  addRelChecks(out);
  addSecretsChecks(out);
  return out;
}

}  // namespace kh
