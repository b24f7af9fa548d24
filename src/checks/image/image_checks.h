// Factories of the image-area checks and the area's module.
#pragma once

#include <memory>
#include <vector>

#include "checks/check.h"

namespace kh {

std::unique_ptr<Check> makeImageLatestTag();

void addImageKnownVulnerableChecks(std::vector<std::unique_ptr<Check>>& out);
void addImageRegistryChecks(std::vector<std::unique_ptr<Check>>& out);
// Checks of an image's own configuration (kind ImageConfig, from `kubeharden image scan`).
void addImageConfigChecks(std::vector<std::unique_ptr<Check>>& out);
void addImageChecks(std::vector<std::unique_ptr<Check>>& out);

}  // namespace kh
