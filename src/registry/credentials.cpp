#include "registry/credentials.h"

#include <fmt/format.h>
#include <rapidjson/document.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "base/process.h"
#include "base/strings.h"
#include "registry/auth.h"

namespace kh::registry {
namespace {

std::string envOr(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

std::string str(const rapidjson::Value& o, const char* key) {
  if (!o.IsObject()) return {};
  auto it = o.FindMember(key);
  return it != o.MemberEnd() && it->value.IsString() ? it->value.GetString() : std::string();
}

// An auths entry: `auth` (base64 user:password), or `username`/`password`, or `identitytoken`.
bool fromEntry(const rapidjson::Value& e, Credentials& c) {
  if (std::string auth = str(e, "auth"); !auth.empty()) {
    auto decoded = base64Decode(auth);
    if (decoded) {
      size_t colon = decoded->find(':');
      if (colon != std::string::npos) {
        c.username = decoded->substr(0, colon);
        c.password = decoded->substr(colon + 1);
      }
    }
  }
  if (c.username.empty()) {
    c.username = str(e, "username");
    c.password = str(e, "password");
  }
  if (std::string id = str(e, "identitytoken"); !id.empty()) {
    c.identity_token = id;
    if (c.username.empty()) c.username = "<token>";
  }
  if (std::string rt = str(e, "registrytoken"); !rt.empty()) c.registry_token = rt;
  return !c.username.empty() || !c.registry_token.empty();
}

// The scheme-less, path-less form of an auths key ("https://index.docker.io/v1/" ->
// "index.docker.io"); namespaced keys (registry/namespace) keep their path.
std::string normalKey(std::string_view key) {
  for (std::string_view scheme : {"https://", "http://"})
    if (key.starts_with(scheme)) key.remove_prefix(scheme.size());
  while (key.ends_with('/')) key.remove_suffix(1);
  for (std::string_view v : {"/v1", "/v2"})
    if (key.ends_with(v)) key.remove_suffix(v.size());
  return std::string(key);
}

bool isHubAlias(std::string_view host) {
  return host == "docker.io" || host == "index.docker.io" || host == "registry-1.docker.io";
}

// Looks `ref` up in an auth file's `auths`: the keys Docker and podman write, most specific
// first, then any key that names the same host.
bool lookupAuths(const rapidjson::Value& auths, const Reference& ref, Credentials& c) {
  if (!auths.IsObject()) return false;
  for (const std::string& key : authKeys(ref)) {
    auto it = auths.FindMember(key.c_str());
    if (it != auths.MemberEnd() && fromEntry(it->value, c)) return true;
  }
  for (auto it = auths.MemberBegin(); it != auths.MemberEnd(); ++it) {
    std::string k = normalKey(it->name.GetString());
    bool same = k == ref.domain || (ref.isDockerHub() && isHubAlias(k));
    if (same && fromEntry(it->value, c)) return true;
  }
  return false;
}

// The docker-credential-* protocol: `get` with the server URL on stdin, JSON on stdout.
enum class HelperResult { kFound, kNotFound, kFailed };

HelperResult runHelper(const std::string& helper, const Reference& ref,
                       const CredentialSources& src, Credentials& c,
                       std::vector<std::string>& warnings) {
  std::string name = "docker-credential-" + helper;
  std::string bin = findExecutable(name, src.path);
  if (bin.empty()) {
    warnings.push_back(
        fmt::format("credential helper {} is configured but not installed (not in "
                    "PATH); trying the next source",
                    name));
    return HelperResult::kFailed;
  }
  ProcessOptions po;
  po.env = {"PATH=" + src.path, "HOME=" + src.home};
  if (!src.docker_config.empty()) po.env.push_back("DOCKER_CONFIG=" + src.docker_config);
  po.timeout = src.helper_timeout;
  po.max_output = size_t{1} << 20;
  po.input = (ref.isDockerHub() ? std::string("https://index.docker.io/v1/") : ref.domain) + "\n";
  ProcessResult p = runProcess({bin, "get"}, po);
  if (!p.started) {
    warnings.push_back(fmt::format("credential helper {} could not run: {}; trying the next source",
                                   name, p.start_error));
    return HelperResult::kFailed;
  }
  if (p.timed_out) {
    warnings.push_back(
        fmt::format("credential helper {} did not answer within {} s and was "
                    "stopped; trying the next source",
                    name, src.helper_timeout.count()));
    return HelperResult::kFailed;
  }
  if (p.exit_code != 0) {
    std::string said = p.out + p.err;
    if (said.find("not found") != std::string::npos) return HelperResult::kNotFound;
    // The helper's words may hold anything; only its exit status is repeated.
    warnings.push_back(
        fmt::format("credential helper {} failed (exit {}); trying the next "
                    "source",
                    name, p.exit_code));
    return HelperResult::kFailed;
  }
  rapidjson::Document d;
  d.Parse(p.out.c_str());
  if (d.HasParseError() || !d.IsObject()) {
    warnings.push_back(
        fmt::format("credential helper {} did not answer with JSON; trying the "
                    "next source",
                    name));
    return HelperResult::kFailed;
  }
  std::string user = str(d, "Username"), secret = str(d, "Secret");
  if (secret.empty()) return HelperResult::kNotFound;
  if (user == "<token>") {
    c.identity_token = secret;
    c.username = user;
  } else {
    c.username = user;
    c.password = secret;
  }
  c.source = "credential helper " + name;
  return HelperResult::kFound;
}

// Reads an auth file; a file that is missing is no error, one that is not JSON is a warning.
bool parseAuthFile(const std::string& path, rapidjson::Document& d,
                   std::vector<std::string>& warnings) {
  std::string text;
  if (path.empty() || !readFileTo(path, text)) return false;
  d.Parse(text.c_str());
  if (d.HasParseError() || !d.IsObject()) {
    warnings.push_back(fmt::format("{} is not a JSON object; its credentials are not used", path));
    return false;
  }
  return true;
}

}  // namespace

CredentialSources CredentialSources::fromEnvironment() {
  CredentialSources s;
  s.docker_config = envOr("DOCKER_CONFIG");
  s.home = envOr("HOME");
  s.xdg_runtime_dir = envOr("XDG_RUNTIME_DIR");
  s.registry_auth_file = envOr("REGISTRY_AUTH_FILE");
  s.path = envOr("PATH");
  return s;
}

std::vector<std::string> authKeys(const Reference& ref) {
  std::vector<std::string> keys;
  // podman's namespaced keys: registry/ns/repo, registry/ns.
  std::string name = ref.name();
  for (std::string n = name; n.find('/') != std::string::npos; n = n.substr(0, n.rfind('/')))
    keys.push_back(n);
  if (ref.isDockerHub()) {
    for (const char* k :
         {"https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io",
          "https://registry-1.docker.io", "https://index.docker.io"})
      keys.emplace_back(k);
  } else {
    keys.push_back(ref.domain);
    keys.push_back("https://" + ref.domain);
    keys.push_back("http://" + ref.domain);
  }
  return keys;
}

FoundCredentials findCredentials(const Reference& ref, const CredentialSources& src) {
  FoundCredentials f;
  Credentials& c = f.credentials;
  // 1. The command line.
  if (!src.registry_token.empty()) {
    c.registry_token = src.registry_token;
    c.source = "--registry-token";
    return f;
  }
  if (!src.username.empty()) {
    c.username = src.username;
    c.password = src.password;
    c.source = "--username";
    return f;
  }
  // 2. --authfile / $REGISTRY_AUTH_FILE.
  std::string authfile = !src.authfile.empty() ? src.authfile : src.registry_auth_file;
  if (!authfile.empty()) {
    rapidjson::Document d;
    if (parseAuthFile(authfile, d, f.warnings) && d.HasMember("auths") &&
        lookupAuths(d["auths"], ref, c)) {
      c.source = authfile;
      return f;
    }
    c = {};
  }
  // 3. The Docker config.
  std::string docker_dir = !src.docker_config.empty() ? src.docker_config
                           : !src.home.empty()        ? src.home + "/.docker"
                                                      : std::string();
  if (!docker_dir.empty()) {
    std::string path = docker_dir + "/config.json";
    rapidjson::Document d;
    if (parseAuthFile(path, d, f.warnings)) {
      std::string helper;
      if (auto h = d.FindMember("credHelpers"); h != d.MemberEnd() && h->value.IsObject())
        for (const std::string& key : authKeys(ref)) {
          if (auto it = h->value.FindMember(key.c_str());
              it != h->value.MemberEnd() && it->value.IsString()) {
            helper = it->value.GetString();
            break;
          }
        }
      if (helper.empty()) helper = str(d, "credsStore");
      if (!helper.empty()) {
        HelperResult r = runHelper(helper, ref, src, c, f.warnings);
        if (r == HelperResult::kFound) return f;
        c = {};
      }
      if (d.HasMember("auths") && lookupAuths(d["auths"], ref, c)) {
        c.source = path;
        return f;
      }
      c = {};
    }
  }
  // 4. The containers auth.json.
  for (const std::string& path :
       {src.xdg_runtime_dir.empty() ? std::string() : src.xdg_runtime_dir + "/containers/auth.json",
        src.home.empty() ? std::string() : src.home + "/.config/containers/auth.json"}) {
    rapidjson::Document d;
    if (parseAuthFile(path, d, f.warnings) && d.HasMember("auths") &&
        lookupAuths(d["auths"], ref, c)) {
      c.source = path;
      return f;
    }
    c = {};
  }
  return f;  // 5. anonymous
}

}  // namespace kh::registry
