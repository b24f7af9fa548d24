// An image in a registry as an ImageSource: the reference resolved to a manifest for the
// platform (registry/client.h), the config fetched and checked, and layers that stream from the
// registry when forEachLayer reads them, through the same tar reader as a tarball's.
#pragma once

#include <string>
#include <vector>

#include "image/layout.h"
#include "registry/client.h"
#include "registry/reference.h"

namespace kh::image {

struct RemoteOptions {
  registry::ClientOptions client;
  registry::Credentials credentials;
};

Result<ImageSource> openRemoteImage(const registry::Reference& ref, const Platform& want,
                                    const RemoteOptions& opts);

}  // namespace kh::image
