#include "registry/pull_secrets.h"

#include <fmt/format.h>
#include <fnmatch.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <map>

#include "base/json_util.h"
#include "base/strings.h"

namespace kh::registry {
namespace {

struct Url {
  std::vector<std::string> host_parts;
  std::string port, path;
};

// A key or an image name as a schemeless URL: host[:port][/path].
Url splitUrl(std::string_view s) {
  if (s.starts_with("https://"))
    s.remove_prefix(8);
  else if (s.starts_with("http://"))
    s.remove_prefix(7);
  Url u;
  size_t slash = s.find('/');
  std::string_view host = s.substr(0, slash);
  if (slash != std::string_view::npos) u.path = std::string(s.substr(slash));
  // host:port, [v6]:port; a host without a port (or one that does not parse) is the host alone.
  size_t colon = host.rfind(':');
  if (colon != std::string_view::npos && colon + 1 < host.size() &&
      (host.front() != '[' || host[colon - 1] == ']') &&
      (host.front() == '[' || host.find(':') == colon)) {
    u.port = std::string(host.substr(colon + 1));
    host = host.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  }
  for (size_t from = 0;;) {  // every part, empty ones too
    size_t dot = host.find('.', from);
    u.host_parts.emplace_back(host.substr(from, dot - from));
    if (dot == std::string_view::npos) break;
    from = dot + 1;
  }
  return u;
}

// The keyring's form of a key: the scheme, and an API path ("/v1/", "/v2/"), left out.
std::string keyringKey(std::string_view key) {
  if (key.starts_with("https://"))
    key.remove_prefix(8);
  else if (key.starts_with("http://"))
    key.remove_prefix(7);
  size_t slash = key.find('/');
  std::string host(key.substr(0, slash));
  std::string_view path = slash == std::string_view::npos ? "" : key.substr(slash);
  if (path.starts_with("/v1/") || path.starts_with("/v2/")) path.remove_prefix(3);
  return path.empty() || path == "/" ? host : host + std::string(path);
}

bool addEntries(const rapidjson::Value& auths, const std::string& secret,
                std::vector<PullSecretEntry>& out, std::string* why) {
  if (!auths.IsObject()) {
    *why = "its registries are not a JSON object";
    return false;
  }
  for (auto it = auths.MemberBegin(); it != auths.MemberEnd(); ++it) {
    PullSecretEntry e;
    e.secret = secret;
    e.key = it->name.GetString();
    e.username = std::string(jsonString(it->value, "username"));
    e.password = std::string(jsonString(it->value, "password"));
    // `auth` (base64 of user:password) wins over the separate fields, as for the kubelet.
    if (std::string_view auth = jsonString(it->value, "auth"); !auth.empty()) {
      auto decoded = base64Decode(auth);
      size_t colon = decoded ? decoded->find(':') : std::string::npos;
      if (colon == std::string::npos) {
        *why = fmt::format("the `auth` of registry {} is not base64 of user:password", e.key);
        return false;
      }
      e.username = decoded->substr(0, colon);
      e.password = decoded->substr(colon + 1);
    }
    out.push_back(std::move(e));
  }
  return true;
}

}  // namespace

Result<std::vector<PullSecretEntry>> parsePullSecret(std::string_view secret_json) {
  rapidjson::Document d;
  d.Parse(secret_json.data(), secret_json.size());
  return parsePullSecret(d);
}

Result<std::vector<PullSecretEntry>> parsePullSecret(const rapidjson::Value& d) {
  if (!d.IsObject()) return Error{"a pull secret is not a JSON object", {}, {}};
  const rapidjson::Value& meta = jsonMember(d, "metadata");
  std::string name = fmt::format("{}/{}", jsonString(meta, "namespace"), jsonString(meta, "name"));
  std::string_view type = jsonString(d, "type");
  const char* field = type == "kubernetes.io/dockerconfigjson" ? ".dockerconfigjson"
                      : type == "kubernetes.io/dockercfg"      ? ".dockercfg"
                                                               : nullptr;
  auto fail = [&](const std::string& why) {
    return Error{fmt::format("pull secret {}: {}", name, why), {}, {}};
  };
  if (!field)
    return fail(
        fmt::format("type {} is not kubernetes.io/dockerconfigjson or "
                    "kubernetes.io/dockercfg (the kubelet ignores it)",
                    type.empty() ? "(none)" : type));
  std::string_view encoded = jsonString(jsonMember(d, "data"), field);
  if (encoded.empty()) return fail(fmt::format("no data[{}]", field));
  auto decoded = base64Decode(encoded);
  if (!decoded) return fail(fmt::format("data[{}] is not base64", field));
  rapidjson::Document config;
  config.Parse(decoded->data(), decoded->size());
  if (!config.IsObject()) return fail(fmt::format("data[{}] is not a JSON object", field));
  std::vector<PullSecretEntry> out;
  std::string why;
  // .dockerconfigjson wraps the registries in `auths`; the legacy .dockercfg is the map alone.
  bool wrapped = type == "kubernetes.io/dockerconfigjson";
  if (!addEntries(wrapped ? jsonMember(config, "auths") : config, name, out, &why))
    return fail(why);
  return out;
}

bool pullSecretKeyMatches(std::string_view key, const Reference& ref) {
  Url glob = splitUrl(keyringKey(key));
  Url target = splitUrl(ref.domain + "/" + ref.repository);
  if (glob.port != target.port || glob.host_parts.size() != target.host_parts.size() ||
      !target.path.starts_with(glob.path))
    return false;
  for (size_t i = 0; i < glob.host_parts.size(); ++i)
    if (fnmatch(glob.host_parts[i].c_str(), target.host_parts[i].c_str(), 0) != 0) return false;
  return true;
}

std::vector<const PullSecretEntry*> pullSecretsFor(const std::vector<PullSecretEntry>& entries,
                                                   const Reference& ref) {
  // The keyring: entries by normalized key, keys in reverse lexical order (more specific paths
  // first), each key's entries in the order given.
  std::map<std::string, std::vector<const PullSecretEntry*>, std::greater<>> index;
  for (const PullSecretEntry& e : entries) index[keyringKey(e.key)].push_back(&e);
  std::vector<const PullSecretEntry*> out;
  for (const auto& [key, list] : index)
    if (pullSecretKeyMatches(key, ref)) out.insert(out.end(), list.begin(), list.end());
  // Docker Hub: credentials kept under index.docker.io serve its images when nothing matched.
  if (out.empty() && ref.isDockerHub())
    if (auto it = index.find("index.docker.io"); it != index.end()) out = it->second;
  return out;
}

}  // namespace kh::registry
