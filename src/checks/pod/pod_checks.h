// Factories of the pod-area checks (one per file in this folder) and the area's module.
// Checks have no header of their own: nothing but the module ever names their classes.
#pragma once

#include <memory>
#include <vector>

#include "checks/check.h"

namespace kh {

std::unique_ptr<Check> makePodCapabilitiesDangerous();
std::unique_ptr<Check> makePodCapabilitiesDropAll();
std::unique_ptr<Check> makePodHostIpc();
std::unique_ptr<Check> makePodHostNetwork();
std::unique_ptr<Check> makePodHostPid();
std::unique_ptr<Check> makePodHostPort();
std::unique_ptr<Check> makePodHostpath();
std::unique_ptr<Check> makePodHostpathSensitive();
std::unique_ptr<Check> makePodPrivilegeEscalation();
std::unique_ptr<Check> makePodPrivileged();
std::unique_ptr<Check> makePodReadonlyRootFs();
std::unique_ptr<Check> makePodRunAsNonRoot();
std::unique_ptr<Check> makePodRunAsRootUser();
std::unique_ptr<Check> makePodRuntimeSocket();
std::unique_ptr<Check> makePodSaTokenAutomount();
std::unique_ptr<Check> makePodSeccompMissing();
std::unique_ptr<Check> makePodSeccompUnconfined();

// Files holding several small checks add them all.
void addPodHostExtraChecks(std::vector<std::unique_ptr<Check>>& out);
void addPodIdentityChecks(std::vector<std::unique_ptr<Check>>& out);
void addPodKernelChecks(std::vector<std::unique_ptr<Check>>& out);
void addPodPolicyChecks(std::vector<std::unique_ptr<Check>>& out);
void addPodReferenceChecks(std::vector<std::unique_ptr<Check>>& out);
void addPodResourceChecks(std::vector<std::unique_ptr<Check>>& out);
void addPodVolumeChecks(std::vector<std::unique_ptr<Check>>& out);

void addPodChecks(std::vector<std::unique_ptr<Check>>& out);

}  // namespace kh
