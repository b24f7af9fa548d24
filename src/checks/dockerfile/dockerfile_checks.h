// The Dockerfile checks (kind Dockerfile): hadolint's DL rules and the security checks of Trivy
// and Checkov that hadolint lacks. See docs/dockerfile-differences.md for where they differ from
// hadolint on purpose.
#pragma once

#include <memory>
#include <vector>

#include "checks/check.h"

namespace kh {

void addDockerfileChecks(std::vector<std::unique_ptr<Check>>& out);

void addDockerfileLangChecks(std::vector<std::unique_ptr<Check>>& out);
void addDockerfileLabelChecks(std::vector<std::unique_ptr<Check>>& out);
void addDockerfilePackageChecks(std::vector<std::unique_ptr<Check>>& out);
void addDockerfileRpmChecks(std::vector<std::unique_ptr<Check>>& out);
void addDockerfileRunChecks(std::vector<std::unique_ptr<Check>>& out);
void addDockerfileSecurityChecks(std::vector<std::unique_ptr<Check>>& out);
void addDockerfileShellcheckChecks(std::vector<std::unique_ptr<Check>>& out);
void addDockerfileStructureChecks(std::vector<std::unique_ptr<Check>>& out);
void addDockerfileStyleChecks(std::vector<std::unique_ptr<Check>>& out);

}  // namespace kh
