// cosign's container-image signatures: the legacy `sha256-<hex>.sig` / `.att` manifests (one
// layer per signature, the signature and its verification material in layer annotations) turned
// into Bundles verifyBundle checks, and the simple-signing payload those signatures sign, which
// must name the image's digest. Pure: the caller fetches the manifests and blobs.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "base/result.h"
#include "sigstore/bundle.h"

namespace kh::sigstore {

inline constexpr const char* kSimpleSigningType =
    "application/vnd.dev.cosign.simplesigning.v1+json";
inline constexpr const char* kDsseLayerType = "application/vnd.dsse.envelope.v1+json";
inline constexpr const char* kBundleArtifactType = "application/vnd.dev.sigstore.bundle.v0.3+json";

// One layer of a legacy cosign manifest as a Bundle: `media_type` is the layer's, `payload` its
// blob, `annotations` its annotations (the signature, certificate, chain, Rekor bundle and
// RFC 3161 timestamp, in either spelling cosign has used). A simple-signing layer gives a
// message signature over the payload; a DSSE layer (attestations) the envelope it holds.
Result<Bundle> bundleFromCosignLayer(std::string_view media_type, std::string_view payload,
                                     const std::map<std::string, std::string>& annotations);

// Checks that a simple-signing payload signs `digest` ("sha256:..."): critical.type is "cosign
// container image signature", critical.image.docker-manifest-digest equals digest (member names
// compared without regard to case, as cosign does; the value exactly).
Status checkSimpleSigning(std::string_view payload, std::string_view digest);

}  // namespace kh::sigstore
