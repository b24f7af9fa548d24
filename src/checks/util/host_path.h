// Host-path classification shared by the hostPath checks, so each hostPath volume is reported by
// exactly one of them: runtime sockets (critical), sensitive host directories (high), others.
#pragma once

#include <string>
#include <string_view>

namespace kh {

enum class HostPathClass { kRuntimeSocket, kSensitive, kOther };

// Lexically normalised absolute path: no "//", "/./", "..", or trailing "/".
std::string normalizeHostPath(std::string_view p);
HostPathClass classifyHostPath(std::string_view path);

}  // namespace kh
