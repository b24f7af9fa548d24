// Linux capability names as container runtimes read them: case-insensitive, with or without
// the CAP_ prefix ("cap_sys_admin" is SYS_ADMIN).
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "model/node.h"

namespace kh {

std::string canonicalCapability(std::string_view name);
// Does the container's securityContext.capabilities.drop contain ALL?
bool dropsAll(const Node* container);

// The capabilities pod-capabilities-dangerous reports by default (each close to root on the node).
std::span<const std::string_view> defaultDangerousCapabilities();
// The capabilities the Pod Security Standards baseline level lets a container add.
bool baselineCapability(std::string_view canonical);

}  // namespace kh
