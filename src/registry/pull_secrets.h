// Image pull secrets as the kubelet uses them (docs/cluster.md, "Images"): the registry
// credentials of `kubernetes.io/dockerconfigjson` Secrets (`.dockerconfigjson`, an `auths` map)
// and legacy `kubernetes.io/dockercfg` Secrets (`.dockercfg`, the map alone), and which of them
// the kubelet's keyring would offer for an image:
//   - a key is a registry, with or without a scheme, a port and a path ("registry.example.com",
//     "https://index.docker.io/v1/", "*.example.com:5000/team"); "/v1/" and "/v2/" at the start
//     of its path are the API's, not a repository's, and are left out;
//   - it matches an image when the port is the same, the host has as many dot-separated parts
//     and each part matches the key's as a shell glob (`*`, `?`, `[...]`), and the key's path is
//     a prefix of the image's repository path;
//   - the keys that match are tried most specific first (the kubelet's reverse lexical order),
//     whatever secret holds them; Docker Hub images are also looked up as index.docker.io.
// The values never leave this module except in the Credentials a pull uses.
#pragma once

#include <rapidjson/fwd.h>

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "registry/client.h"
#include "registry/reference.h"

namespace kh::registry {

struct PullSecretEntry {
  std::string secret;  // namespace/name, for messages
  std::string key;     // as written in the Secret
  std::string username, password;
};

// The entries of one Secret object (JSON, as the API serves it). Secrets of other types, or whose
// data is not the format their type says, give an error naming the secret and what is wrong
// (never a value).
Result<std::vector<PullSecretEntry>> parsePullSecret(std::string_view secret_json);
// The same for a Secret already parsed (an item of a SecretList page).
Result<std::vector<PullSecretEntry>> parsePullSecret(const rapidjson::Value& secret);

// Does the keyring key `key` match the image repository `ref` (kubelet semantics, above)?
bool pullSecretKeyMatches(std::string_view key, const Reference& ref);

// The entries the kubelet would try for `ref`, in its order (most specific key first; for equal
// keys, the order of `entries`).
std::vector<const PullSecretEntry*> pullSecretsFor(const std::vector<PullSecretEntry>& entries,
                                                   const Reference& ref);

}  // namespace kh::registry
