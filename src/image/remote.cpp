#include "image/remote.h"

#include <fmt/format.h>
#include <rapidjson/document.h>

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
  // The layers' diff IDs come from the config, in order.
  rapidjson::Document c;
  c.Parse(img.config.data(), img.config.size());
  std::vector<std::string> diff_ids;
  if (c.IsObject() && c.HasMember("rootfs") && c["rootfs"].IsObject() &&
      c["rootfs"].HasMember("diff_ids") && c["rootfs"]["diff_ids"].IsArray())
    for (const auto& d : c["rootfs"]["diff_ids"].GetArray())
      if (d.IsString()) diff_ids.emplace_back(d.GetString());
  if (diff_ids.size() != r.layers.size())
    return Error{fmt::format("{}: the config lists {} layers, the manifest {}", ref.familiar(),
                             diff_ids.size(), r.layers.size()),
                 {},
                 {}};
  std::vector<registry::RemoteLayer> remote = r.layers;
  for (size_t i = 0; i < remote.size(); ++i) {
    img.layers.push_back(LayerInfo{remote[i].digest, diff_ids[i], remote[i].media_type,
                                   remote[i].digest, remote[i].size, remote[i].foreign});
    if (remote[i].foreign)
      img.warnings.push_back(
          fmt::format("layer {} is non-distributable (foreign): not fetched, "
                      "so not scanned",
                      remote[i].digest));
  }
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
