// Facts shared by the checks of an image's configuration (image-config-*) and of the Dockerfile
// that builds it (dockerfile-*): one judgement of the same thing, whichever input shows it.
#pragma once

#include <string_view>

namespace kh {

// Does a USER value (`name[:group]`, `uid[:gid]`) run as root? Empty (no USER) does too.
bool isRootUser(std::string_view user);

// Is an ADD source fetched from the network (http(s)://, ftp://, git@..., a git URL), rather
// than taken from the build context?
bool isRemoteSource(std::string_view src);

// Is `port` (as EXPOSE or ExposedPorts write it: `22`, `22/tcp`) the SSH port over TCP?
bool isSshPort(std::string_view port);

}  // namespace kh
