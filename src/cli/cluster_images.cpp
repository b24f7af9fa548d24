#include "cli/cluster_images.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>

#include "base/json_util.h"
#include "base/process.h"
#include "base/scratch_dir.h"
#include "base/strings.h"
#include "registry/reference.h"

extern char** environ;

namespace kh {
namespace {

std::string_view str(const rapidjson::Value& v, const char* key) {
  return jsonString(v, key);
}

// "docker-pullable://repo@sha256:...", "docker.io/library/nginx@sha256:...", "sha256:...".
std::string repoDigest(std::string_view image_id) {
  if (size_t s = image_id.find("://"); s != std::string_view::npos) image_id.remove_prefix(s + 3);
  size_t at = image_id.find("@sha256:");
  if (at == std::string_view::npos || at == 0) return {};
  return std::string(image_id);
}

// The auth file (containers auth.json) of `img`'s pull secrets' first entry for its registry,
// as the kubelet would try them, in a new private directory; the secret it came from, or empty
// when none of them holds credentials for it.
std::string pullSecretAuthFile(const RunningImage& img,
                               const std::vector<registry::PullSecretEntry>& all,
                               std::optional<ScratchDir>& dir) {
  auto ref = registry::parseReference(img.ref);
  if (!ref || img.pull_secrets.empty()) return {};
  std::vector<registry::PullSecretEntry> mine;  // the image's secrets' entries, in their order
  for (const std::string& name : img.pull_secrets)
    for (const registry::PullSecretEntry& e : all)
      if (e.secret == name) mine.push_back(e);
  std::vector<const registry::PullSecretEntry*> found = registry::pullSecretsFor(mine, *ref);
  if (found.empty()) return {};
  const registry::PullSecretEntry& e = *found.front();
  dir.emplace("kubeharden-pull");
  if (dir->path().empty()) return {};
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  w.StartObject();
  w.Key("auths");
  w.StartObject();
  w.Key(ref->name().c_str());
  w.StartObject();
  w.Key("auth");
  w.String(base64Encode(e.username + ":" + e.password).c_str());
  w.EndObject();
  w.EndObject();
  w.EndObject();
  std::string path = dir->path() + "/auth.json";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return {};
  bool ok = ::write(fd, b.GetString(), b.GetSize()) == static_cast<ssize_t>(b.GetSize());
  ::close(fd);
  return ok ? e.secret : std::string();
}

}  // namespace

std::vector<RunningImage> runningImages(
    const std::vector<std::pair<std::string, std::string>>& pages) {
  // ReplicaSets' Deployments first, so a Pod of a ReplicaSet names its Deployment.
  std::map<std::string, std::string> rs_owner;  // ns/rs -> ns/Deployment/name
  std::vector<rapidjson::Document> pods;
  for (const auto& [name, text] : pages) {
    rapidjson::Document d;
    d.Parse(text.data(), text.size());
    if (!d.IsObject()) continue;
    std::string_view kind = str(d, "kind");
    if (kind == "ReplicaSetList") {
      for (const auto& rs : jsonMember(d, "items").GetArray()) {
        const rapidjson::Value& meta = jsonMember(rs, "metadata");
        const rapidjson::Value& owners = jsonMember(meta, "ownerReferences");
        if (!owners.IsArray()) continue;
        for (const auto& o : owners.GetArray())
          if (jsonMember(o, "controller").IsBool() && jsonMember(o, "controller").GetBool() &&
              str(o, "kind") == "Deployment")
            rs_owner[fmt::format("{}/{}", str(meta, "namespace"), str(meta, "name"))] =
                fmt::format("{}/Deployment/{}", str(meta, "namespace"), str(o, "name"));
      }
    } else if (kind == "PodList") {
      pods.push_back(std::move(d));
    }
  }
  std::map<std::string, RunningImage> out;
  for (const rapidjson::Document& page : pods) {
    const rapidjson::Value& items = jsonMember(page, "items");
    if (!items.IsArray()) continue;
    for (const auto& pod : items.GetArray()) {
      const rapidjson::Value& meta = jsonMember(pod, "metadata");
      std::string ns(str(meta, "namespace"));
      std::string workload = fmt::format("{}/Pod/{}", ns, str(meta, "name"));
      const rapidjson::Value& owners = jsonMember(meta, "ownerReferences");
      if (owners.IsArray())
        for (const auto& o : owners.GetArray()) {
          if (!jsonMember(o, "controller").IsBool() || !jsonMember(o, "controller").GetBool())
            continue;
          workload = fmt::format("{}/{}/{}", ns, str(o, "kind"), str(o, "name"));
          if (auto it = rs_owner.find(fmt::format("{}/{}", ns, str(o, "name")));
              str(o, "kind") == "ReplicaSet" && it != rs_owner.end())
            workload = it->second;
        }
      std::vector<std::string> secrets;
      const rapidjson::Value& pull = jsonMember(jsonMember(pod, "spec"), "imagePullSecrets");
      if (pull.IsArray())
        for (const auto& p : pull.GetArray())
          if (!str(p, "name").empty()) secrets.push_back(fmt::format("{}/{}", ns, str(p, "name")));
      const rapidjson::Value& status = jsonMember(pod, "status");
      for (const char* list :
           {"initContainerStatuses", "containerStatuses", "ephemeralContainerStatuses"}) {
        const rapidjson::Value& statuses = jsonMember(status, list);
        if (!statuses.IsArray()) continue;
        for (const auto& cs : statuses.GetArray()) {
          std::string ref = repoDigest(str(cs, "imageID"));
          bool by_tag = ref.empty();
          if (by_tag) ref = std::string(str(cs, "image"));
          if (ref.empty()) continue;
          RunningImage& img = out[ref];
          img.ref = ref;
          img.by_tag = by_tag;
          img.workloads.insert(workload);
          for (const std::string& ps : secrets)
            if (std::find(img.pull_secrets.begin(), img.pull_secrets.end(), ps) ==
                img.pull_secrets.end())
              img.pull_secrets.push_back(ps);
        }
      }
    }
  }
  std::vector<RunningImage> v;
  for (auto& [ref, img] : out) v.push_back(std::move(img));
  return v;
}

std::vector<std::pair<std::string, std::string>> scanRunningImages(
    const std::vector<RunningImage>& images, const ImagesArgs& a, const std::string& self,
    const std::vector<registry::PullSecretEntry>* pull_secrets) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) env.emplace_back(*e);
  std::vector<std::pair<std::string, std::string>> docs;
  size_t done = 0;
  for (const RunningImage& img : images) {
    std::vector<std::string> argv = {self, "image", "scan",         "--ref",     img.ref,
                                     "-f", "json",  "--no-secrets", "--fail-on", "none"};
    if (!a.db.empty()) argv.insert(argv.end(), {"--db", a.db});
    if (!a.cache_dir.empty()) argv.insert(argv.end(), {"--cache-dir", a.cache_dir});
    for (const std::string& r : a.insecure) argv.insert(argv.end(), {"--insecure", r});
    // The credentials of its pull secrets, in an auth file only the child reads.
    std::optional<ScratchDir> auth_dir;
    std::string used_secret;
    if (pull_secrets) {
      used_secret = pullSecretAuthFile(img, *pull_secrets, auth_dir);
      if (!used_secret.empty())
        argv.insert(argv.end(), {"--authfile", auth_dir->path() + "/auth.json"});
    }
    ProcessOptions po;
    po.env = env;
    po.timeout = std::chrono::seconds(a.timeout);
    ProcessResult r = runProcess(argv, po);
    auth_dir.reset();  // the auth file goes as soon as the child is done
    std::string error;
    rapidjson::Document result;
    if (!r.started)
      error = r.start_error;
    else if (r.timed_out)
      error = fmt::format("not scanned within {} s", a.timeout);
    else if (r.exit_code != 0) {
      // image scan's own message, first line: what failed (never a credential).
      std::string_view e = r.err;
      size_t nl = e.find('\n');
      while (nl != std::string_view::npos &&
             e.substr(0, nl).find("warning:") != std::string::npos) {
        e.remove_prefix(nl + 1);
        nl = e.find('\n');
      }
      error = std::string(e.substr(0, nl));
      if (error.starts_with("kubeharden image: ")) error = error.substr(18);
      if (error.empty()) error = fmt::format("image scan exited with {}", r.exit_code);
    } else {
      result.Parse(r.out.data(), r.out.size());
      if (!result.IsObject() || !jsonMember(result, "images").IsArray() ||
          jsonMember(result, "images").Empty())
        error = "image scan gave no report";
    }
    ++done;
    std::string how =
        used_secret.empty() ? "" : fmt::format(" (credentials of pull secret {})", used_secret);
    std::fprintf(stderr, "image %zu/%zu: %s: %s%s\n", done, images.size(), img.ref.c_str(),
                 error.empty() ? "scanned" : error.c_str(), how.c_str());
    rapidjson::StringBuffer b;
    rapidjson::Writer<rapidjson::StringBuffer> w(b);
    w.StartObject();
    w.Key("apiVersion");
    w.String("kubeharden.io/v1");
    w.Key("kind");
    w.String("ImageScan");
    w.Key("metadata");
    w.StartObject();
    w.Key("name");
    w.String(img.ref.c_str());
    w.EndObject();
    w.Key("image");
    w.String(img.ref.c_str());
    w.Key("byTag");
    w.Bool(img.by_tag);
    w.Key("workloads");
    w.StartArray();
    for (const std::string& wl : img.workloads) w.String(wl.c_str());
    w.EndArray();
    if (!used_secret.empty()) {
      w.Key("pullSecret");  // its name: where the credentials came from, never a value
      w.String(used_secret.c_str());
    }
    w.Key("scanned");
    w.Bool(error.empty());
    if (!error.empty()) {
      w.Key("error");
      w.String(error.c_str());
    } else {
      const rapidjson::Value& one = jsonMember(result, "images")[0];
      const rapidjson::Value& vulns = jsonMember(one, "vulnerabilities");
      w.Key("vulnerabilitiesScanned");
      w.Bool(vulns.IsArray());
      w.Key("vulnerabilities");
      w.StartArray();
      if (vulns.IsArray())
        for (const auto& v : vulns.GetArray()) {
          w.StartObject();
          for (const char* k : {"id", "severity"}) {
            w.Key(k);
            std::string_view s = str(v, k);
            w.String(s.data() ? s.data() : "", static_cast<rapidjson::SizeType>(s.size()));
          }
          const rapidjson::Value& pkg = jsonMember(v, "package");
          for (const char* k : {"name", "version"}) {
            w.Key(k[0] == 'n' ? "package" : "version");
            std::string_view s = str(pkg, k);
            w.String(s.data() ? s.data() : "", static_cast<rapidjson::SizeType>(s.size()));
          }
          w.Key("fixed");
          std::string_view f = str(v, "fixed");
          w.String(f.data() ? f.data() : "", static_cast<rapidjson::SizeType>(f.size()));
          w.EndObject();
        }
      w.EndArray();
    }
    w.EndObject();
    docs.emplace_back(fmt::format("image {}", img.ref), std::string(b.GetString(), b.GetSize()));
  }
  return docs;
}

}  // namespace kh
