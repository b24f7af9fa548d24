#include "image/remote.h"

#include <fmt/format.h>

#include <memory>
#include <mutex>

namespace kh::image {

Result<ImageSource> openRemoteImage(const registry::Reference& ref, const Platform& want,
                                    const RemoteOptions& opts) {
  auto client = std::make_shared<registry::Client>(ref, opts.credentials, opts.client);
  auto resolved = client->resolve(want);
  if (!resolved) return resolved.error();
  registry::Resolved& r = resolved.value();
  ImageSource img;
  img.path = ref.canonical();
  img.format = "registry";
  img.index_digest = r.index_digest;
  img.manifest_digest = r.manifest_digest;
  img.config_digest = r.config_digest;
  img.platform = r.platform;
  img.platforms = r.platforms;
  img.config = std::move(r.config);
  img.repo_tags.push_back(ref.familiar());
  std::vector<registry::RemoteLayer> remote = r.layers;
  for (const auto& l : remote) {
    img.layers.push_back(LayerInfo{l.digest, "", l.media_type, l.digest, l.size, l.foreign});
    if (l.foreign)
      img.warnings.push_back(fmt::format(
          "layer {} is non-distributable (foreign): not fetched, so not scanned", l.digest));
  }
  // The layers' diff IDs come from the config, in order, checked as for archives.
  if (Status s = applyConfig(img); !s) return s.error();
  for (const std::string& w : client->warnings()) img.warnings.push_back(w);
  auto mu = std::make_shared<std::mutex>();
  img.fetch_layer = [client, mu, remote](
                        size_t i, const std::function<bool(std::string_view)>& sink) -> Status {
    if (i >= remote.size()) return Error{"no such layer", {}, {}};
    if (remote[i].foreign) return {};
    registry::Client mine = [&] {
      std::lock_guard<std::mutex> lock(*mu);
      return client->clone();
    }();
    return mine.blob(remote[i].digest, remote[i].size, sink);
  };
  return img;
}

}  // namespace kh::image
