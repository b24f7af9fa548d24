// Image references as the container ecosystem parses them (the distribution project's reference
// grammar, with Docker's normalisation): `nginx` is docker.io/library/nginx:latest,
// `localhost:5000/app`, `registry:5000/a/b:tag`, `name:tag@sha256:...` (the digest wins for
// what is pulled; the tag is kept for the report). Pure parsing, no I/O.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace kh::registry {

struct Reference {
  std::string domain;      // "docker.io", "ghcr.io", "localhost:5000", "[::1]:5000"
  std::string repository;  // "library/nginx", "org/app"
  std::string tag;         // "1.27"; "latest" when neither a tag nor a digest was given
  std::string digest;      // "sha256:<64 hex>", or empty

  // What the registry is asked for: the digest when there is one, else the tag.
  const std::string& identifier() const { return digest.empty() ? tag : digest; }
  // domain/repository
  std::string name() const;
  // The canonical form: domain/repository[:tag][@digest].
  std::string canonical() const;
  // The short form people type: docker.io/library/ left out, as docker prints it.
  std::string familiar() const;
  // The host the distribution API is served from: registry-1.docker.io for Docker Hub.
  std::string apiHost() const;
  bool isDockerHub() const { return domain == "docker.io"; }
  // A loopback registry (localhost, 127.0.0.0/8, [::1]), where plain HTTP is allowed.
  bool isLoopback() const;
};

// Parses `text` as a reference. Errors (upper case in the repository, a malformed tag or
// digest, a 64-hex string, too long, ...) say what is wrong, for exit 2.
Result<Reference> parseReference(std::string_view text);

// Is `d` a valid digest (algorithm:hex, with sha256 = 64 and sha512 = 128 lower-case hex)?
bool isValidDigest(std::string_view d);

// A platform, os/architecture[/variant], as OCI indexes name them ("linux/amd64",
// "linux/arm64/v8", "linux/arm/v7").
struct Platform {
  std::string os = "linux", architecture = "amd64", variant;
  std::string str() const;
  // Is an image of this platform one for `want`? The variant counts when `want` names one,
  // and an arm64 image without a variant is v8.
  bool satisfies(const Platform& want) const;
};
Result<Platform> parsePlatform(std::string_view text);

}  // namespace kh::registry
