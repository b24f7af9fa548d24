#include "cluster/read.h"

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>

#include "base/json_util.h"
#include "base/strings.h"

namespace kh::cluster {
namespace {

std::string urlEncode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
      out += static_cast<char>(c);
    else
      out += fmt::format("%{:02X}", c);
  }
  return out;
}

// The Status message of an error answer, or its HTTP status.
std::string statusMessage(const net::Response& r) {
  rapidjson::Document d;
  d.Parse(r.body.data(), r.body.size());
  std::string_view m = jsonString(d, "message");
  return m.empty() ? fmt::format("HTTP {}", r.status) : std::string(m);
}

Result<rapidjson::Document> getJson(Api& api, const std::string& path, long* status,
                                    bool retry = true) {
  auto r = api.get(path, "application/json", retry);
  if (!r) return r.error();
  *status = r.value().status;
  rapidjson::Document d;
  if (r.value().status != 200) {
    return Error{fmt::format("{}: {}", path, statusMessage(r.value())), {}, {}};
  }
  d.Parse(r.value().body.data(), r.value().body.size());
  if (d.HasParseError() || !d.IsObject())
    return Error{fmt::format("{}: the answer is not a JSON object", path), {}, {}};
  return d;
}

void addResources(const rapidjson::Document& list, const std::string& group,
                  const std::string& version, std::vector<ResourceType>& out) {
  const rapidjson::Value& rs = jsonMember(list, "resources");
  if (!rs.IsArray()) return;
  for (const auto& r : rs.GetArray()) {
    std::string name(jsonString(r, "name"));
    if (name.empty() || name.find('/') != std::string::npos) continue;  // subresources
    const rapidjson::Value& verbs = jsonMember(r, "verbs");
    bool listable = false;
    if (verbs.IsArray())
      for (const auto& v : verbs.GetArray())
        listable |= v.IsString() && std::string_view(v.GetString()) == "list";
    if (!listable) continue;
    ResourceType t;
    t.group = group;
    t.version = version;
    t.resource = name;
    t.kind = std::string(jsonString(r, "kind"));
    const rapidjson::Value& ns = jsonMember(r, "namespaced");
    t.namespaced = !ns.IsBool() || ns.GetBool();
    out.push_back(std::move(t));
  }
}

// Aggregated discovery (apidiscovery.k8s.io v2, v2beta1 before 1.30): every group's resources
// in one answer each for /api and /apis.
constexpr const char* kAggregatedAccept =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
    "application/json";

// The resources of an APIGroupDiscoveryList: each group's preferred (first) version.
void addAggregated(const rapidjson::Document& list, Discovery& d) {
  const rapidjson::Value& items = jsonMember(list, "items");
  if (!items.IsArray()) return;
  for (const auto& g : items.GetArray()) {
    std::string group(jsonString(jsonMember(g, "metadata"), "name"));
    const rapidjson::Value& versions = jsonMember(g, "versions");
    if (!versions.IsArray() || versions.Empty()) continue;
    const rapidjson::Value& v = versions[0];
    std::string version(jsonString(v, "version"));
    if (version.empty()) continue;
    std::string gv = group.empty() ? version : group + "/" + version;
    if (jsonString(v, "freshness") == "Stale") {
      // An aggregated API that is down: its group is unavailable, not the scan.
      d.unavailable.emplace_back(gv, "stale in the server's aggregated discovery");
      continue;
    }
    const rapidjson::Value& rs = jsonMember(v, "resources");
    if (!rs.IsArray()) continue;
    for (const auto& r : rs.GetArray()) {
      std::string name(jsonString(r, "resource"));
      const rapidjson::Value& verbs = jsonMember(r, "verbs");
      bool listable = false;
      if (verbs.IsArray())
        for (const auto& verb : verbs.GetArray())
          listable |= verb.IsString() && std::string_view(verb.GetString()) == "list";
      if (name.empty() || !listable) continue;
      ResourceType t;
      t.group = group;
      t.version = version;
      t.resource = name;
      t.kind = std::string(jsonString(jsonMember(r, "responseKind"), "kind"));
      t.namespaced = jsonString(r, "scope") != "Cluster";
      d.types.push_back(std::move(t));
    }
  }
}

// Aggregated discovery: true when the server answered both with APIGroupDiscoveryLists; false
// (and nothing added) when it answered in the legacy form, so the caller falls back.
Result<bool> discoverAggregated(Api& api, Discovery& d) {
  Discovery got;
  for (const char* path : {"/api", "/apis"}) {
    auto r = api.get(path, kAggregatedAccept, false);
    if (!r) return r.error();
    if (r.value().status != 200)
      return Error{fmt::format("{}: {}", path, statusMessage(r.value())), {}, {}};
    rapidjson::Document doc;
    doc.Parse(r.value().body.data(), r.value().body.size());
    if (doc.HasParseError() || !doc.IsObject())
      return Error{fmt::format("{}: the answer is not a JSON object", path), {}, {}};
    if (jsonString(doc, "kind") != "APIGroupDiscoveryList") return false;
    addAggregated(doc, got);
  }
  for (auto& t : got.types) d.types.push_back(std::move(t));
  for (auto& u : got.unavailable) d.unavailable.push_back(std::move(u));
  return true;
}

}  // namespace

std::string secretsAsMetadata(std::string_view page) {
  rapidjson::Document in;
  in.Parse(page.data(), page.size());
  rapidjson::Document out(rapidjson::kObjectType);
  auto& al = out.GetAllocator();
  out.AddMember("apiVersion", "v1", al);
  out.AddMember("kind", "SecretList", al);
  rapidjson::Value items(rapidjson::kArrayType);
  const rapidjson::Value& list = jsonMember(in, "items");
  if (list.IsArray())
    for (const auto& item : list.GetArray()) {
      const rapidjson::Value& meta = jsonMember(item, "metadata");
      if (!meta.IsObject()) continue;
      rapidjson::Value m(meta, al);
      if (m.HasMember("annotations") && m["annotations"].IsObject()) {
        auto& ann = m["annotations"];
        constexpr const char* kLastApplied = "kubectl.kubernetes.io/last-applied-configuration";
        if (auto it = ann.FindMember(kLastApplied); it != ann.MemberEnd()) {
          std::string_view v =
              it->value.IsString() ? std::string_view(it->value.GetString()) : std::string_view();
          bool values = v.find("\"data\"") != std::string_view::npos ||
                        v.find("\"stringData\"") != std::string_view::npos;
          it->value.SetString(values ? R"j({"data":"(values redacted by kubeharden)"})j"
                                     : "(redacted by kubeharden)",
                              al);
        }
      }
      rapidjson::Value o(rapidjson::kObjectType);
      o.AddMember("metadata", m, al);
      items.PushBack(o, al);
    }
  out.AddMember("items", items, al);
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  out.Accept(w);
  return std::string(b.GetString(), b.GetSize());
}

std::string mergePages(const std::vector<std::string_view>& pages) {
  rapidjson::Document out(rapidjson::kObjectType);
  auto& al = out.GetAllocator();
  rapidjson::Value items(rapidjson::kArrayType);
  for (size_t i = 0; i < pages.size(); ++i) {
    rapidjson::Document p;
    p.Parse(pages[i].data(), pages[i].size());
    if (!p.IsObject()) continue;
    if (i == 0) {
      // Copied by length: a member may be missing (an empty view with no data) or hold NULs.
      auto copy = [&](std::string_view v) {
        return rapidjson::Value(v.empty() ? "" : v.data(),
                                static_cast<rapidjson::SizeType>(v.size()), al);
      };
      out.AddMember("apiVersion", copy(jsonString(p, "apiVersion")), al);
      out.AddMember("kind", copy(jsonString(p, "kind")), al);
    }
    const rapidjson::Value& list = jsonMember(p, "items");
    if (list.IsArray())
      for (const auto& item : list.GetArray()) items.PushBack(rapidjson::Value(item, al), al);
  }
  out.AddMember("items", items, al);
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  out.Accept(w);
  return std::string(b.GetString(), b.GetSize());
}

std::string ResourceType::listPath(const std::string& ns) const {
  std::string base = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
  if (!ns.empty() && namespaced) base += "/namespaces/" + ns;
  return base + "/" + resource;
}

std::string clusterInfoDocument(const Discovery& d, const std::string& context,
                                const std::string& server) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("apiVersion");
  w.String("kubeharden.io/v1");
  w.Key("kind");
  w.String("ClusterInfo");
  w.Key("metadata");
  w.StartObject();
  w.Key("name");
  w.String(context.empty() ? "cluster" : context.c_str());
  w.EndObject();
  w.Key("server");
  w.String(server.c_str());
  w.Key("version");
  w.StartObject();
  for (const auto& [k, v] : d.version_fields) {
    w.Key(k.c_str());
    w.String(v.c_str());
  }
  w.EndObject();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

Result<Discovery> discover(Api& api) {
  Discovery d;
  long status = 0;
  // Asked once: an unreachable or misconfigured server fails fast, as kubectl does.
  auto version = getJson(api, "/version", &status, false);
  if (!version) return version.error();
  d.git_version = std::string(jsonString(version.value(), "gitVersion"));
  if (version.value().IsObject())
    for (const auto& m : version.value().GetObject())
      if (m.value.IsString())
        d.version_fields.emplace_back(m.name.GetString(), m.value.GetString());
  auto aggregated = discoverAggregated(api, d);
  if (!aggregated) return aggregated.error();
  if (aggregated.value()) {
    d.aggregated = true;
    return d;
  }
  // Legacy discovery: a server before 1.26 (or one that does not offer the aggregated form).
  auto core = getJson(api, "/api/v1", &status);
  if (!core) return core.error();
  addResources(core.value(), "", "v1", d.types);
  auto groups = getJson(api, "/apis", &status);
  if (!groups) return groups.error();
  const rapidjson::Value& list = jsonMember(groups.value(), "groups");
  if (list.IsArray())
    for (const auto& g : list.GetArray()) {
      std::string name(jsonString(g, "name"));
      std::string gv(jsonString(jsonMember(g, "preferredVersion"), "groupVersion"));
      if (name.empty() || gv.empty()) continue;
      std::string version = gv.substr(gv.find('/') + 1);
      auto rl = getJson(api, "/apis/" + gv, &status, false);
      if (!rl) {
        // An aggregated API that is down makes its group unavailable, not the scan.
        d.unavailable.emplace_back(gv, rl.error().message);
        continue;
      }
      addResources(rl.value(), name, version, d.types);
    }
  return d;
}

TypeCoverage listType(Api& api, const ResourceType& t, const ListOptions& o,
                      const std::function<void(std::string page)>& on_page) {
  TypeCoverage cov;
  cov.type = t;
  std::vector<std::string> pages;
  size_t objects = 0;
  std::string token;
  for (;;) {
    std::string path = fmt::format("{}?limit={}", t.listPath(o.namespace_), o.page_size);
    if (!o.label_selector.empty()) path += "&labelSelector=" + urlEncode(o.label_selector);
    if (!o.field_selector.empty()) path += "&fieldSelector=" + urlEncode(o.field_selector);
    if (!token.empty()) path += "&continue=" + urlEncode(token);
    auto r = api.get(path, o.accept);
    if (!r) {
      cov.state = TypeCoverage::State::kFailed;
      cov.message = r.error().describe();
      return cov;
    }
    const net::Response& resp = r.value();
    if (resp.status == 410 && !token.empty() && !cov.restarted) {
      cov.restarted = true;  // the snapshot the token named is gone: start over, once
      pages.clear();
      objects = 0;
      token.clear();
      continue;
    }
    if (resp.status == 403 || resp.status == 401) {
      cov.state = TypeCoverage::State::kForbidden;
      cov.message = statusMessage(resp);
      return cov;
    }
    if (resp.status != 200) {
      cov.state = TypeCoverage::State::kFailed;
      cov.message = statusMessage(resp);
      return cov;
    }
    rapidjson::Document d;
    d.Parse(resp.body.data(), resp.body.size());
    if (d.HasParseError() || !d.IsObject()) {
      cov.state = TypeCoverage::State::kFailed;
      cov.message = "the list is not a JSON object";
      return cov;
    }
    const rapidjson::Value& items = jsonMember(d, "items");
    objects += items.IsArray() ? items.Size() : 0;
    token = std::string(jsonString(jsonMember(d, "metadata"), "continue"));
    pages.push_back(std::move(r.value().body));
    if (token.empty()) break;
  }
  cov.objects = objects;
  cov.pages = pages.size();
  for (std::string& p : pages) on_page(std::move(p));
  return cov;
}

}  // namespace kh::cluster
