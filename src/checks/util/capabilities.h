// Linux capability names as container runtimes read them: case-insensitive, with or without
// the CAP_ prefix ("cap_sys_admin" is SYS_ADMIN).
#pragma once

#include <string>
#include <string_view>

#include "model/node.h"

namespace kh {

std::string canonicalCapability(std::string_view name);
// Does the container's securityContext.capabilities.drop contain ALL?
bool dropsAll(const Node* container);

}  // namespace kh
