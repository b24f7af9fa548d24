// The distribution client: manifests (OCI and Docker, indexes resolved to a platform) and blobs
// streamed with their digests checked, over net::Client, with the registry's authentication
// (anonymous, Basic, or the Bearer token flow with `pull` scope only). One Client per
// repository; not thread-safe (one per thread for parallel blob downloads, sharing a token
// through TokenCache is a later step).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "net/http.h"
#include "registry/reference.h"

namespace kh::registry {

struct Credentials {
  std::string username, password;  // Basic, and for the token endpoint
  std::string registry_token;      // a bearer token to present as is (--registry-token)
  std::string identity_token;      // an OAuth2 refresh token (Docker's identitytoken)
  std::string source;              // where they came from, for messages ("--username", ...)
  bool anonymous() const {
    return username.empty() && registry_token.empty() && identity_token.empty();
  }
};

struct ClientOptions {
  net::ClientOptions http;
  // Plain HTTP allowed (loopback registries, or --insecure names it): HTTPS is tried first, and
  // HTTP used when the server does not speak TLS.
  bool plain_http = false;
};

// The media types a manifest request accepts, in this order.
inline constexpr const char* kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr const char* kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr const char* kDockerList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr const char* kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";

struct Fetched {
  std::string media_type;
  std::string digest;  // of the body, checked
  std::string body;
};

struct RemoteLayer {
  std::string digest, media_type;
  int64_t size = 0;
  bool foreign = false;  // non-distributable: not fetched
};

struct Resolved {
  std::string index_digest;     // when the reference named an index
  std::string manifest_digest;  // the image manifest's
  std::string media_type;
  std::vector<std::string> platforms;  // what the index offers
  Platform platform;                   // of the chosen manifest (from the index or the config)
  std::string config_digest;
  std::string config;  // the image config JSON, checked against config_digest
  std::vector<RemoteLayer> layers;
};

class Client {
 public:
  Client(Reference ref, Credentials creds, ClientOptions opts);

  // GET /v2/<repo>/manifests/<ident> with the four media types accepted; the body's digest is
  // checked against `ident` when it is a digest and against Docker-Content-Digest when the
  // registry sends one. Schema-1 manifests are refused.
  Result<Fetched> manifest(const std::string& ident);
  // The same, but a manifest the registry does not have (404) is no error: nullopt.
  Result<std::optional<Fetched>> manifestIfAny(const std::string& ident);
  // The OCI 1.1 referrers of `digest` (an image index listing the artifacts whose subject it
  // is): the referrers API, and where the registry has none (404) the referrers tag
  // `sha256-<hex>` that clients maintain instead. nullopt when neither exists.
  Result<std::optional<Fetched>> referrers(const std::string& digest);
  // The reference's image for `want`: an index resolved to its manifest (attestations never
  // chosen), the config fetched and checked.
  Result<Resolved> resolve(const Platform& want);
  // Streams a blob into `sink`, checking its size and digest as it goes.
  Status blob(const std::string& digest, int64_t size, const net::Sink& sink);
  // Fetches a small blob (a config) whole.
  Result<std::string> smallBlob(const std::string& digest, size_t max);

  // Things the user should know that are not errors (credentials refused, fell back to
  // anonymous).
  const std::vector<std::string>& warnings() const { return warnings_; }
  const Reference& reference() const { return ref_; }
  // Another client for the same repository holding the same token (for parallel downloads).
  Client clone() const;

 private:
  Result<net::Response> get(const std::string& path, const std::string& accept,
                            const net::Sink* sink, size_t max_body);
  Status authenticate(const net::Response& unauthorized, bool with_credentials);
  // A manifest, or nullopt with the 404 answer in `missing`.
  Result<std::optional<Fetched>> fetchManifest(const std::string& ident, net::Response* missing);
  Error statusError(const net::Response& r, std::string_view what) const;
  std::string url(const std::string& path) const;

  Reference ref_;
  Credentials creds_;
  ClientOptions opts_;
  net::Client http_;
  std::string scheme_ = "https";
  bool scheme_known_ = false;
  std::string authorization_;
  bool tried_anonymous_ = false;
  std::vector<std::string> warnings_;
};

}  // namespace kh::registry
