#include "checks/pod/pod_checks.h"

namespace kh {

void addPodChecks(std::vector<std::unique_ptr<Check>>& out) {
  out.push_back(makePodCapabilitiesDangerous());
  out.push_back(makePodCapabilitiesDropAll());
  out.push_back(makePodHostIpc());
  out.push_back(makePodHostNetwork());
  out.push_back(makePodHostPid());
  out.push_back(makePodHostPort());
  out.push_back(makePodHostpath());
  out.push_back(makePodHostpathSensitive());
  out.push_back(makePodPrivilegeEscalation());
  out.push_back(makePodPrivileged());
  out.push_back(makePodReadonlyRootFs());
  out.push_back(makePodRunAsNonRoot());
  out.push_back(makePodRunAsRootUser());
  out.push_back(makePodRuntimeSocket());
  out.push_back(makePodSaTokenAutomount());
  out.push_back(makePodSeccompMissing());
  out.push_back(makePodSeccompUnconfined());
  addPodHostExtraChecks(out);
  addPodIdentityChecks(out);
  addPodKernelChecks(out);
  addPodPolicyChecks(out);
  addPodReferenceChecks(out);
  addPodResourceChecks(out);
  addPodVolumeChecks(out);
}

}  // namespace kh
