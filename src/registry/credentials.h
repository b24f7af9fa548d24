// Where a pull's credentials come from, in this order (docs/image.md):
//   1. the command line: --username with --password-stdin, or --registry-token, for the
//      registry of the reference they were given with only;
//   2. --authfile FILE, or $REGISTRY_AUTH_FILE (the containers auth.json format);
//   3. the Docker config ($DOCKER_CONFIG/config.json or ~/.docker/config.json): credHelpers for
//      the registry, then credsStore, then auths (`auth`, `username`/`password`,
//      `identitytoken`), helpers run through the docker-credential-* protocol;
//   4. the containers auth.json ($XDG_RUNTIME_DIR/containers/auth.json, then
//      ~/.config/containers/auth.json);
//   5. anonymous.
// Docker Hub's entries are looked up under the keys Docker writes (https://index.docker.io/v1/
// first). A helper that fails or does not answer in time is a warning and the next source is
// tried. Secrets are never put in messages.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "base/result.h"
#include "registry/client.h"
#include "registry/reference.h"

namespace kh::registry {

struct CredentialSources {
  std::string username, password;  // from the command line
  std::string registry_token;
  std::string authfile;  // --authfile (else $REGISTRY_AUTH_FILE)
  // The environment, passed in so tests control it: DOCKER_CONFIG, HOME, XDG_RUNTIME_DIR,
  // REGISTRY_AUTH_FILE, PATH (for docker-credential-* helpers).
  std::string docker_config, home, xdg_runtime_dir, registry_auth_file, path;
  std::chrono::seconds helper_timeout{10};

  // Fills the environment fields from this process's environment.
  static CredentialSources fromEnvironment();
};

struct FoundCredentials {
  Credentials credentials;            // anonymous when nothing matched
  std::vector<std::string> warnings;  // helpers that failed, files that could not be read
};

FoundCredentials findCredentials(const Reference& ref, const CredentialSources& src);

// The keys an auth file entry for `ref` may be stored under, most specific first.
std::vector<std::string> authKeys(const Reference& ref);

}  // namespace kh::registry
