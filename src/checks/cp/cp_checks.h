// The control-plane checks: CIS Kubernetes Benchmark flag rules over static-pod manifests and
// KubeletConfiguration files.
#pragma once

#include <memory>
#include <vector>

#include "checks/check.h"

namespace kh {

void addCpComponentChecks(std::vector<std::unique_ptr<Check>>& out);
void addCpKubeletChecks(std::vector<std::unique_ptr<Check>>& out);
void addAuditPolicyChecks(std::vector<std::unique_ptr<Check>>& out);
void addEncryptionChecks(std::vector<std::unique_ptr<Check>>& out);
void addAdmissionConfigChecks(std::vector<std::unique_ptr<Check>>& out);
void addKubeconfigChecks(std::vector<std::unique_ptr<Check>>& out);
void addCpChecks(std::vector<std::unique_ptr<Check>>& out);

}  // namespace kh
