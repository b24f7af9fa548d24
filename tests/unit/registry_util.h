// The real Docker distribution registry (Debian's docker-registry) for tests: started on a
// loopback port with a generated config, stopped when destroyed; and the tools the registry tests
// need.
#pragma once

#include <sys/types.h>

#include <string>

#include "tests/unit/test_util.h"

namespace kh::test {

// Is `tool` on PATH?
bool have(const char* tool);

#define KH_NEED_REGISTRY_TOOLS()                                                           \
  if (!::kh::test::have("docker-registry") || !::kh::test::have("skopeo") ||               \
      !::kh::test::have("htpasswd") || !::kh::test::have("openssl"))                       \
  GTEST_SKIP()                                                                             \
      << "needs docker-registry, skopeo, apache2-utils and openssl (scripts/install-deps " \
         "installs them)"

// A loopback TCP port nobody listens on now, and whether one accepts connections.
int freePort();
bool accepts(int port);

// docker-registry serving from a temporary directory until destroyed.
class Registry {
 public:
  // `extra_http` goes under http: (tls, ...), `auth` at the top level; `all_interfaces`: listen
  // on every address, not only 127.0.0.1. Its log goes to DIR/registry-PORT.log.
  Registry(const TempDir& d, const std::string& extra_http, const std::string& auth,
           bool all_interfaces = false);
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;
  bool up() const;
  std::string host() const;  // 127.0.0.1:PORT

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace kh::test
