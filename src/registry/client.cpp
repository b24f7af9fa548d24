#include "registry/client.h"

#include <fmt/format.h>
#include <rapidjson/document.h>

#include "registry/auth.h"
#include "registry/digest.h"

namespace kh::registry {
namespace {

constexpr size_t kMaxManifest = size_t{4} << 20;  // the distribution spec's limit for manifests

bool isIndexType(std::string_view t) {
  return t == kOciIndex || t == kDockerList;
}

std::string percentEncode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == ':' || c == '/')
      out += static_cast<char>(c);
    else
      out += fmt::format("%{:02X}", c);
  }
  return out;
}

// The registry's own words from an error body ({"errors":[{"code","message"}]}), if any.
std::string registryMessage(std::string_view body) {
  rapidjson::Document d;
  d.Parse(body.data(), body.size());
  if (d.HasParseError() || !d.IsObject()) return {};
  auto e = d.FindMember("errors");
  if (e == d.MemberEnd() || !e->value.IsArray() || e->value.Empty()) return {};
  const auto& first = e->value[0];
  std::string code, msg;
  if (first.IsObject()) {
    if (auto c = first.FindMember("code"); c != first.MemberEnd() && c->value.IsString())
      code = c->value.GetString();
    if (auto m = first.FindMember("message"); m != first.MemberEnd() && m->value.IsString())
      msg = m->value.GetString();
  }
  if (code.empty()) return msg;
  return msg.empty() ? code : fmt::format("{}: {}", code, msg);
}

}  // namespace

Client::Client(Reference ref, Credentials creds, ClientOptions opts)
    : ref_(std::move(ref)), creds_(std::move(creds)), opts_(std::move(opts)), http_([&] {
        net::ClientOptions h = opts_.http;
        h.allow_http = opts_.plain_http;
        return h;
      }()) {
  scheme_known_ = !opts_.plain_http;
  if (!creds_.registry_token.empty()) authorization_ = "Bearer " + creds_.registry_token;
}

Client Client::clone() const {
  Client c(ref_, creds_, opts_);
  c.authorization_ = authorization_;
  c.tried_anonymous_ = tried_anonymous_;
  c.scheme_ = scheme_;
  c.scheme_known_ = scheme_known_;
  return c;
}

std::string Client::url(const std::string& path) const {
  return fmt::format("{}://{}/v2/{}", scheme_, ref_.apiHost(), path);
}

Error Client::statusError(const net::Response& r, std::string_view what) const {
  std::string where = fmt::format("{} ({})", ref_.name(), ref_.apiHost());
  std::string said = registryMessage(r.body);
  std::string tail = said.empty() ? "" : fmt::format(" (the registry says: {})", said);
  switch (r.status) {
    case 401:
      return Error{fmt::format("{}: unauthorized to pull {}{}: log in (docker login, or "
                               "--username with --password-stdin)",
                               where, what, tail),
                   {},
                   {}};
    case 403:
      return Error{fmt::format("{}: forbidden to pull {}{}", where, what, tail), {}, {}};
    case 404:
      return Error{fmt::format("{}: {} not found{}", where, what, tail), {}, {}};
    case 429: {
      std::string limits;
      for (const auto& [k, v] : r.headers)
        if (k.starts_with("ratelimit-") || k.starts_with("x-ratelimit") || k == "retry-after")
          limits += fmt::format("{}{}: {}", limits.empty() ? "" : ", ", k, v);
      return Error{fmt::format("{}: rate limited while pulling {}{}{}", where, what,
                               limits.empty() ? "" : " (" + limits + ")", tail),
                   {},
                   {}};
    }
    default:
      return Error{fmt::format("{}: HTTP {} for {}{}", where, r.status, what, tail), {}, {}};
  }
}

Status Client::authenticate(const net::Response& unauthorized, bool with_credentials) {
  std::vector<Challenge> challenges = parseChallenges(unauthorized.header("www-authenticate"));
  const Challenge* bearer = nullptr;
  const Challenge* basic = nullptr;
  for (const Challenge& c : challenges) {
    if (c.scheme == "bearer" && !bearer) bearer = &c;
    if (c.scheme == "basic" && !basic) basic = &c;
  }
  bool have = with_credentials && !creds_.username.empty() && creds_.identity_token.empty();
  if (bearer) {
    std::string realm = bearer->param("realm");
    if (realm.empty())
      return Error{fmt::format("{}: the Bearer challenge names no realm", ref_.apiHost()), {}, {}};
    // Only ever `pull`, whatever scope the challenge asks for.
    std::string token_url =
        fmt::format("{}{}scope={}", realm, realm.find('?') == std::string::npos ? "?" : "&",
                    percentEncode(fmt::format("repository:{}:pull", ref_.repository)));
    if (std::string service = bearer->param("service"); !service.empty())
      token_url += "&service=" + percentEncode(service);
    net::Request req;
    req.url = token_url;
    if (with_credentials && !creds_.identity_token.empty()) {
      // An identity token is an OAuth2 refresh token: POSTed as a form, not Basic.
      req.method = "POST";
      req.url = realm;
      req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
      req.body =
          fmt::format("grant_type=refresh_token&client_id=kubeharden&refresh_token={}&scope={}",
                      percentEncode(creds_.identity_token),
                      percentEncode(fmt::format("repository:{}:pull", ref_.repository)));
      if (std::string service = bearer->param("service"); !service.empty())
        req.body += "&service=" + percentEncode(service);
      have = true;
    } else if (have) {
      req.authorization = basicAuthorization(creds_.username, creds_.password);
    }
    // The token endpoint may be another host: it gets its own origin check in net::Client, and
    // the credentials here were given for it by the registry's challenge.
    net::ClientOptions h = opts_.http;
    h.allow_http = opts_.plain_http || realm.starts_with("http://127.0.0.1") ||
                   realm.starts_with("http://localhost");
    net::Client token_client(h);
    auto r = token_client.fetch(req, nullptr, size_t{1} << 20);
    if (!r)
      return Error{fmt::format("{}: the token endpoint {} failed: {}", ref_.name(),
                               net::originOf(realm), r.error().message),
                   {},
                   {}};
    if (r->status == 401 || r->status == 403) {
      if (have)
        return Error{
            fmt::format("{}: the token endpoint refused the credentials from {} (HTTP "
                        "{})",
                        ref_.name(), creds_.source.empty() ? "the command line" : creds_.source,
                        r->status),
            {},
            {}};
      return statusError(*r, "a token");
    }
    if (r->status != 200) return statusError(*r, "a token");
    auto t = parseTokenResponse(r->body);
    if (!t) return Error{fmt::format("{}: {}", net::originOf(realm), t.error().message), {}, {}};
    authorization_ = "Bearer " + t->value;
    return {};
  }
  if (basic && have) {
    authorization_ = basicAuthorization(creds_.username, creds_.password);
    return {};
  }
  return statusError(unauthorized, "the image");
}

Result<net::Response> Client::get(const std::string& path, const std::string& accept,
                                  const net::Sink* sink, size_t max_body) {
  net::Request req;
  req.url = url(path);
  if (!accept.empty()) req.headers.emplace_back("Accept", accept);
  bool with_credentials = true;
  for (int round = 0; round < 3; ++round) {
    req.authorization = authorization_;
    auto r = http_.fetch(req, sink, max_body);
    if (!r && !scheme_known_ &&
        r.error().message.find("wrong version number") != std::string::npos) {
      // The server speaks plain HTTP (allowed here): use it from now on.
      scheme_ = "http";
      req.url = url(path);
      r = http_.fetch(req, sink, max_body);
    }
    if (r) scheme_known_ = true;
    if (!r) {
      Error e = r.error();
      e.message = fmt::format("{}: {}", ref_.name(), e.message);
      return e;
    }
    if (r->status != 401) return r;
    // A challenge: get (or renew) a token, then ask again. Refused stored credentials on a
    // public repository: fall back to anonymous, with a warning.
    Status s = authenticate(r.value(), with_credentials);
    if (!s) {
      if (with_credentials && !creds_.anonymous() && !tried_anonymous_) {
        tried_anonymous_ = true;
        with_credentials = false;
        Status anon = authenticate(r.value(), false);
        if (anon) {
          warnings_.push_back(fmt::format("{}; pulling anonymously instead", s.error().message));
          continue;
        }
      }
      return s.error();
    }
    if (round == 2) break;
  }
  net::Response last;
  last.status = 401;
  return statusError(last, "the image");
}

Result<Fetched> Client::manifest(const std::string& ident) {
  net::Response missing;
  auto m = fetchManifest(ident, &missing);
  if (!m) return m.error();
  if (!m.value()) return statusError(missing, fmt::format("manifest {}", ident));
  return std::move(*m.value());
}

Result<std::optional<Fetched>> Client::manifestIfAny(const std::string& ident) {
  net::Response missing;
  return fetchManifest(ident, &missing);
}

Result<std::optional<Fetched>> Client::referrers(const std::string& digest) {
  auto r = get(fmt::format("{}/referrers/{}", ref_.repository, digest), kOciIndex, nullptr,
               kMaxManifest);
  if (!r) return r.error();
  if (r->status == 200) {
    rapidjson::Document d;
    d.Parse(r->body.data(), r->body.size());
    if (d.HasParseError() || !d.IsObject() || !d.HasMember("manifests"))
      return Error{
          fmt::format("{}: the referrers of {} are not an image index", ref_.name(), digest),
          {},
          {}};
    Fetched f;
    f.media_type = kOciIndex;
    f.digest = sha256Digest(r->body);
    f.body = std::move(r->body);
    return std::optional<Fetched>(std::move(f));
  }
  if (r->status != 404) return statusError(r.value(), fmt::format("the referrers of {}", digest));
  // No referrers API (Docker's registry 2.8, for one): the referrers tag schema.
  std::string tag = digest;
  if (size_t colon = tag.find(':'); colon != std::string::npos) tag[colon] = '-';
  return manifestIfAny(tag);
}

Result<std::optional<Fetched>> Client::fetchManifest(const std::string& ident,
                                                     net::Response* missing) {
  std::string accept =
      fmt::format("{}, {}, {}, {}", kOciIndex, kOciManifest, kDockerList, kDockerManifest);
  auto r =
      get(fmt::format("{}/manifests/{}", ref_.repository, ident), accept, nullptr, kMaxManifest);
  if (!r) return r.error();
  std::string what = fmt::format("manifest {}", ident);
  if (r->status == 404) {
    *missing = std::move(r.value());
    return std::optional<Fetched>();
  }
  if (r->status != 200) return statusError(r.value(), what);
  Fetched f;
  f.body = std::move(r->body);
  f.digest = sha256Digest(f.body);
  if (ident.starts_with("sha256:") && f.digest != ident)
    return Error{fmt::format("{}: the {} the registry sent has digest {}: tampered or corrupt, "
                             "refused",
                             ref_.name(), what, f.digest),
                 {},
                 {}};
  if (std::string dcd = r->header("docker-content-digest");
      !dcd.empty() && dcd.starts_with("sha256:") && dcd != f.digest)
    return Error{fmt::format("{}: the {} has digest {} but the registry says {} "
                             "(Docker-Content-Digest): refused",
                             ref_.name(), what, f.digest, dcd),
                 {},
                 {}};
  rapidjson::Document d;
  d.Parse(f.body.data(), f.body.size());
  if (d.HasParseError() || !d.IsObject())
    return Error{fmt::format("{}: the {} is not JSON", ref_.name(), what), {}, {}};
  std::string content_type = r->header("content-type");
  content_type = content_type.substr(0, content_type.find(';'));
  if (auto mt = d.FindMember("mediaType"); mt != d.MemberEnd() && mt->value.IsString())
    f.media_type = mt->value.GetString();
  if (f.media_type.empty()) f.media_type = content_type;
  int64_t schema = 0;
  if (auto sv = d.FindMember("schemaVersion"); sv != d.MemberEnd() && sv->value.IsInt64())
    schema = sv->value.GetInt64();
  if (schema == 1 || f.media_type.starts_with("application/vnd.docker.distribution.manifest.v1"))
    return Error{fmt::format("{}: the {} is a Docker schema-1 manifest, which is deprecated and "
                             "not supported: push the image again with a current client",
                             ref_.name(), what),
                 {},
                 {}};
  if (f.media_type.empty() && d.HasMember("manifests")) f.media_type = kOciIndex;
  if (f.media_type.empty() && d.HasMember("layers")) f.media_type = kOciManifest;
  return std::optional<Fetched>(std::move(f));
}

Result<std::string> Client::smallBlob(const std::string& digest, size_t max) {
  auto r = get(fmt::format("{}/blobs/{}", ref_.repository, digest), "", nullptr, max);
  if (!r) return r.error();
  if (r->status != 200) return statusError(r.value(), fmt::format("blob {}", digest));
  if (sha256Digest(r->body) != digest)
    return Error{
        fmt::format("{}: blob {} does not match its digest: refused", ref_.name(), digest), {}, {}};
  return std::move(r->body);
}

Status Client::blob(const std::string& digest, int64_t size, const net::Sink& sink) {
  Sha256 hash;
  int64_t got = 0;
  bool too_long = false;
  net::Sink check = [&](std::string_view bytes) {
    got += static_cast<int64_t>(bytes.size());
    if (size > 0 && got > size) {
      too_long = true;
      return false;
    }
    hash.update(bytes);
    return sink(bytes);
  };
  auto r = get(fmt::format("{}/blobs/{}", ref_.repository, digest), "", &check, 0);
  if (too_long)
    return Error{fmt::format("{}: blob {} is longer than the {} bytes its manifest says: refused",
                             ref_.name(), digest, size),
                 {},
                 {}};
  if (!r) return r.error();
  if (r->status != 200 && r->status != 206)
    return statusError(r.value(), fmt::format("blob {}", digest));
  if (size > 0 && got != size)
    return Error{fmt::format("{}: blob {} has {} bytes, its manifest says {}: refused", ref_.name(),
                             digest, got, size),
                 {},
                 {}};
  if (std::string actual = hash.digest(); actual != digest)
    return Error{fmt::format("{}: blob {} does not match its digest (got {}): refused", ref_.name(),
                             digest, actual),
                 {},
                 {}};
  return {};
}

Result<Resolved> Client::resolve(const Platform& want) {
  auto top = manifest(ref_.identifier());
  if (!top) return top.error();
  Resolved res;
  Fetched m = std::move(top.value());
  if (isIndexType(m.media_type)) {
    res.index_digest = m.digest;
    rapidjson::Document d;
    d.Parse(m.body.data(), m.body.size());
    std::string chosen;
    auto list = d.FindMember("manifests");
    if (list != d.MemberEnd() && list->value.IsArray()) {
      for (const auto& e : list->value.GetArray()) {
        if (!e.IsObject() || !e.HasMember("digest") || !e["digest"].IsString()) continue;
        auto ann = e.FindMember("annotations");
        if (ann != e.MemberEnd() && ann->value.IsObject()) {
          auto t = ann->value.FindMember("vnd.docker.reference.type");
          if (t != ann->value.MemberEnd() && t->value.IsString() &&
              std::string_view(t->value.GetString()) == "attestation-manifest")
            continue;
        }
        Platform p;
        auto pl = e.FindMember("platform");
        if (pl != e.MemberEnd() && pl->value.IsObject()) {
          auto str = [&](const char* k) -> std::string {
            auto it = pl->value.FindMember(k);
            return it != pl->value.MemberEnd() && it->value.IsString() ? it->value.GetString()
                                                                       : std::string();
          };
          p.os = str("os");
          p.architecture = str("architecture");
          p.variant = str("variant");
        }
        if (p.os == "unknown") continue;  // attestations without the annotation
        res.platforms.push_back(p.str());
        if (chosen.empty() && p.satisfies(want)) {
          chosen = e["digest"].GetString();
          res.platform = p;
        }
      }
    }
    if (chosen.empty()) {
      std::string offered;
      for (const std::string& p : res.platforms) offered += (offered.empty() ? "" : ", ") + p;
      return Error{fmt::format("{}: no {} image in the index {}; it offers {} (choose with "
                               "--platform)",
                               ref_.familiar(), want.str(), res.index_digest,
                               offered.empty() ? "nothing" : offered),
                   {},
                   {}};
    }
    auto inner = manifest(chosen);
    if (!inner) return inner.error();
    m = std::move(inner.value());
    if (isIndexType(m.media_type))
      return Error{
          fmt::format("{}: nested image indexes are not supported", ref_.familiar()), {}, {}};
  }
  res.manifest_digest = m.digest;
  res.media_type = m.media_type;
  rapidjson::Document d;
  d.Parse(m.body.data(), m.body.size());
  auto cfg = d.FindMember("config");
  if (cfg == d.MemberEnd() || !cfg->value.IsObject() || !cfg->value.HasMember("digest") ||
      !cfg->value["digest"].IsString())
    return Error{fmt::format("{}: manifest {} names no config", ref_.familiar(), m.digest), {}, {}};
  res.config_digest = cfg->value["digest"].GetString();
  auto layers = d.FindMember("layers");
  if (layers != d.MemberEnd() && layers->value.IsArray())
    for (const auto& l : layers->value.GetArray()) {
      if (!l.IsObject() || !l.HasMember("digest") || !l["digest"].IsString()) continue;
      RemoteLayer rl;
      rl.digest = l["digest"].GetString();
      if (l.HasMember("mediaType") && l["mediaType"].IsString())
        rl.media_type = l["mediaType"].GetString();
      if (l.HasMember("size") && l["size"].IsInt64()) rl.size = l["size"].GetInt64();
      rl.foreign = rl.media_type.find("foreign") != std::string::npos ||
                   rl.media_type.find("nondistributable") != std::string::npos;
      res.layers.push_back(std::move(rl));
    }
  auto config = smallBlob(res.config_digest, size_t{8} << 20);
  if (!config) return config.error();
  res.config = std::move(config.value());
  if (res.index_digest.empty()) {
    rapidjson::Document c;
    c.Parse(res.config.data(), res.config.size());
    if (c.IsObject()) {
      if (c.HasMember("os") && c["os"].IsString()) res.platform.os = c["os"].GetString();
      if (c.HasMember("architecture") && c["architecture"].IsString())
        res.platform.architecture = c["architecture"].GetString();
      res.platform.variant =
          c.HasMember("variant") && c["variant"].IsString() ? c["variant"].GetString() : "";
    }
  }
  return res;
}

}  // namespace kh::registry
