#include "tests/unit/fake_apiserver.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <csignal>

#include "base/strings.h"
#include "tests/unit/image_util.h"

namespace kh::test {
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string toJson(const rapidjson::Value& v) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  v.Accept(w);
  return std::string(b.GetString(), b.GetSize());
}

std::string status(int code, const std::string& reason, const std::string& message) {
  return fmt::format(
      R"({{"kind":"Status","apiVersion":"v1","metadata":{{}},"status":"Failure","message":"{}","reason":"{}","code":{}}})",
      message, reason, code);
}

std::string urlDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

}  // namespace

std::string pluralOf(const std::string& kind) {
  static const std::map<std::string, std::string> kIrregular = {
      {"Endpoints", "endpoints"}, {"PodSecurityPolicy", "podsecuritypolicies"}};
  if (auto it = kIrregular.find(kind); it != kIrregular.end()) return it->second;
  std::string l = lower(kind);
  if (l.ends_with("y") && l.size() > 1 &&
      std::string("aeiou").find(l[l.size() - 2]) == std::string::npos)
    return l.substr(0, l.size() - 1) + "ies";
  if (l.ends_with("s") || l.ends_with("x") || l.ends_with("ch") || l.ends_with("sh"))
    return l + "es";
  return l + "s";
}

bool clusterScoped(const std::string& kind) {
  static const std::set<std::string> kCluster = {"Namespace",
                                                 "Node",
                                                 "PersistentVolume",
                                                 "ClusterRole",
                                                 "ClusterRoleBinding",
                                                 "StorageClass",
                                                 "CustomResourceDefinition",
                                                 "PriorityClass",
                                                 "ValidatingWebhookConfiguration",
                                                 "MutatingWebhookConfiguration",
                                                 "APIService",
                                                 "CSIDriver",
                                                 "CSINode",
                                                 "RuntimeClass",
                                                 "IngressClass",
                                                 "VolumeAttachment",
                                                 "ComponentStatus"};
  return kCluster.count(kind) > 0;
}

bool Pki::make(const TempDir& d, std::string* why) {
  dir = d.path() + "/pki";
  std::string script = fmt::format(R"(set -e
mkdir -p {0} && cd {0}
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
  -days 2 -subj /CN=fake-kubernetes-ca 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other-ca.key \
  -out other-ca.pem -days 2 -subj /CN=other-ca 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:kubernetes.default,DNS:localhost\nextendedKeyUsage=serverAuth\n' > server.ext
printf 'extendedKeyUsage=clientAuth\n' > client.ext
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out server.csr \
  -subj /CN=kube-apiserver 2>/dev/null
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
  -extfile server.ext -out server.pem 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout alice.key -out alice.csr \
  -subj /O=ops/CN=alice 2>/dev/null
openssl x509 -req -in alice.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
  -extfile client.ext -out alice.pem 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout mallory.key \
  -out mallory.csr -subj /CN=mallory 2>/dev/null
openssl x509 -req -in mallory.csr -CA other-ca.pem -CAkey other-ca.key -CAcreateserial -days 2 \
  -extfile client.ext -out mallory.pem 2>/dev/null
)",
                                   dir);
  std::string out;
  if (image::fixtures::shell(script + " 2>&1", &out) != 0) {
    *why = out;
    return false;
  }
  return true;
}

FakeApiServer::FakeApiServer(const Pki& pki, std::string version)
    : pki_(pki), version_(std::move(version)) {
  // The core group always exists, with Namespaces (kubectl asks for them).
  addResource({"", "v1", "namespaces", "Namespace", false, {}});
}

FakeApiServer::~FakeApiServer() {
  stop_ = true;
  if (listen_fd_ >= 0) ::shutdown(listen_fd_, SHUT_RDWR);
  if (acceptor_.joinable()) acceptor_.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : conn_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  for (auto& t : conns_)
    if (t.joinable()) t.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (ssl_ctx_) SSL_CTX_free(static_cast<SSL_CTX*>(ssl_ctx_));
}

std::string FakeApiServer::url() const {
  return fmt::format("https://127.0.0.1:{}", port_);
}

void FakeApiServer::addResource(ApiResource r) {
  for (ApiResource& e : resources_)
    if (e.group == r.group && e.version == r.version && e.resource == r.resource) {
      for (auto& i : r.items) e.items.push_back(std::move(i));
      return;
    }
  resources_.push_back(std::move(r));
}

void FakeApiServer::addObjects(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (!d.IsObject()) return;
  std::vector<rapidjson::Value*> objects;
  if (d.HasMember("items") && d["items"].IsArray()) {
    for (auto& v : d["items"].GetArray()) objects.push_back(&v);
  } else if (d.HasMember("kind")) {
    objects.push_back(&d);
  } else {
    for (auto& m : d.GetObject()) objects.push_back(&m.value);  // the recorded-cluster map
  }
  for (rapidjson::Value* o : objects) {
    if (!o->IsObject() || !o->HasMember("kind") || !o->HasMember("apiVersion")) continue;
    std::string kind = (*o)["kind"].GetString(), api = (*o)["apiVersion"].GetString();
    o->RemoveMember("kind");
    o->RemoveMember("apiVersion");
    size_t slash = api.find('/');
    ApiResource r;
    r.group = slash == std::string::npos ? "" : api.substr(0, slash);
    r.version = slash == std::string::npos ? api : api.substr(slash + 1);
    r.kind = kind;
    r.resource = pluralOf(kind);
    r.namespaced = !clusterScoped(kind);
    std::string ns;
    if (o->HasMember("metadata") && (*o)["metadata"].HasMember("namespace"))
      ns = (*o)["metadata"]["namespace"].GetString();
    std::map<std::string, std::string> labels;
    if (o->HasMember("metadata") && (*o)["metadata"].HasMember("labels") &&
        (*o)["metadata"]["labels"].IsObject())
      for (const auto& l : (*o)["metadata"]["labels"].GetObject())
        if (l.value.IsString()) labels[l.name.GetString()] = l.value.GetString();
    r.items.push_back({ns, toJson(*o), labels});
    addResource(std::move(r));
  }
}

void FakeApiServer::addToken(const std::string& token, const std::string& user) {
  tokens_[token] = user;
}
void FakeApiServer::addBasic(const std::string& user, const std::string& password) {
  basic_[base64Encode(user + ":" + password)] = user;
}
void FakeApiServer::forbid(const std::string& resource) {
  forbidden_.insert(resource);
}
void FakeApiServer::forbidClusterWide(const std::string& resource) {
  forbidden_wide_.insert(resource);
}
void FakeApiServer::expireFirstContinue(const std::string& resource) {
  expire_once_.insert(resource);
}
void FakeApiServer::throttle(int count) {
  throttle_ = count;
}
void FakeApiServer::staleGroup(const std::string& gv) {
  stale_.insert(gv);
}

std::vector<ApiRequest> FakeApiServer::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

void FakeApiServer::start() {
  // A client that hangs up mid-answer must not kill the test process (OpenSSL writes with
  // write(2), which raises SIGPIPE on a closed socket).
  std::signal(SIGPIPE, SIG_IGN);
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  ssl_ctx_ = ctx;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_use_certificate_chain_file(ctx, pki_.path("server.pem").c_str());
  SSL_CTX_use_PrivateKey_file(ctx, pki_.path("server.key").c_str(), SSL_FILETYPE_PEM);
  SSL_CTX_load_verify_locations(ctx, pki_.path("ca.pem").c_str(), nullptr);
  SSL_CTX_set_client_CA_list(ctx, SSL_load_client_CA_file(pki_.path("ca.pem").c_str()));
  // A client certificate is optional (bearer tokens too), but must verify when sent.
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  // Clients resume TLS sessions on new connections (libcurl does after a timed-out request);
  // with peer verification on, OpenSSL refuses resumption without a session ID context.
  static const unsigned char kSessionContext[] = "kubeharden-fake-apiserver";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::listen(listen_fd_, 128);
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] {
    while (!stop_) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        if (stop_) return;
        continue;
      }
      std::lock_guard<std::mutex> lock(mu_);
      conn_fds_.push_back(fd);
      conns_.emplace_back([this, fd] { serve(fd); });
    }
  });
}

void FakeApiServer::serve(int fd) {
  struct timeval tv {
    10, 0
  };
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  SSL* ssl = SSL_new(static_cast<SSL_CTX*>(ssl_ctx_));
  SSL_set_fd(ssl, fd);
  if (SSL_accept(ssl) == 1) {
    std::string user;
    if (X509* peer = SSL_get1_peer_certificate(ssl)) {
      if (SSL_get_verify_result(ssl) == X509_V_OK) {
        char cn[256] = {0};
        X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof cn);
        user = cn;
      }
      X509_free(peer);
    }
    std::string in;
    char buf[16384];
    for (bool open = true; open && !stop_;) {
      size_t head;
      while ((head = in.find("\r\n\r\n")) == std::string::npos) {
        int n = SSL_read(ssl, buf, sizeof buf);
        if (n <= 0) {
          open = false;
          break;
        }
        in.append(buf, static_cast<size_t>(n));
      }
      if (!open) break;
      std::string header = in.substr(0, head);
      in.erase(0, head + 4);
      std::vector<std::string> lines;
      for (std::string_view l : splitTrimmed(header, '\n')) lines.emplace_back(trim(l));
      if (lines.empty()) break;
      std::string method = lines[0].substr(0, lines[0].find(' '));
      std::string target = lines[0].substr(method.size() + 1);
      target = target.substr(0, target.rfind(' '));
      std::map<std::string, std::string> headers;
      std::string impersonate;
      for (size_t i = 1; i < lines.size(); ++i) {
        size_t colon = lines[i].find(':');
        if (colon == std::string::npos) continue;
        std::string name = lower(lines[i].substr(0, colon));
        std::string value(trim(lines[i].substr(colon + 1)));
        if (name == "impersonate-user" || name == "impersonate-group")
          impersonate += (impersonate.empty() ? "" : ",") + value;
        headers[name] = value;
      }
      size_t length = headers.count("content-length") ? std::stoul(headers["content-length"]) : 0;
      while (in.size() < length) {
        int n = SSL_read(ssl, buf, sizeof buf);
        if (n <= 0) break;
        in.append(buf, static_cast<size_t>(n));
      }
      std::string body = in.substr(0, std::min(length, in.size()));
      in.erase(0, std::min(length, in.size()));
      std::string who = user;
      if (who.empty() && headers["authorization"].starts_with("Bearer ")) {
        auto it = tokens_.find(headers["authorization"].substr(7));
        if (it != tokens_.end()) who = "token:" + it->second;
      }
      if (who.empty() && headers["authorization"].starts_with("Basic ")) {
        auto it = basic_.find(headers["authorization"].substr(6));
        if (it != basic_.end()) who = "basic:" + it->second;
      }
      Answer a;
      if (who.empty() && !headers.count("authorization") && target != "/version") {
        a = {401, status(401, "Unauthorized", "Unauthorized"), "application/json", {}};
      } else if (who.empty() && headers.count("authorization")) {
        a = {401, status(401, "Unauthorized", "Unauthorized"), "application/json", {}};
      } else if (throttle_ > 0) {
        --throttle_;
        a = {429,
             status(429, "TooManyRequests", "slow down"),
             "application/json",
             {{"Retry-After", "1"}}};
      } else {
        a = method == "PATCH" ? apply(target, headers["content-type"], body)
                              : route(method, target, who, headers["accept"]);
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back({method, target, who, headers["accept"], impersonate, a.status});
      }
      std::string out = fmt::format("HTTP/1.1 {} X\r\nContent-Type: {}\r\nContent-Length: {}\r\n",
                                    a.status, a.content_type, a.body.size());
      for (const auto& [k, v] : a.headers) out += k + ": " + v + "\r\n";
      bool close = lower(headers["connection"]) == "close";
      if (close) out += "Connection: close\r\n";
      out += "\r\n" + a.body;
      if (SSL_write(ssl, out.data(), static_cast<int>(out.size())) <= 0 || close) break;
    }
    SSL_shutdown(ssl);
  }
  SSL_free(ssl);
  ::close(fd);
}

std::string FakeApiServer::discovery(const std::string& gv) const {
  std::string out;
  for (const ApiResource& r : resources_) {
    if (r.apiVersion() != gv) continue;
    out += fmt::format(
        R"({}{{"name":"{}","singularName":"{}","namespaced":{},"kind":"{}","verbs":["get","list","watch"]}})",
        out.empty() ? "" : ",", r.resource, lower(r.kind), r.namespaced ? "true" : "false", r.kind);
  }
  return fmt::format(
      R"({{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"{}","resources":[{}]}})", gv,
      out);
}

std::string FakeApiServer::aggregatedDiscovery(bool core, const std::string& v) const {
  // One item per group, its one version, its resources (in the order first added).
  std::vector<std::string> gvs;
  for (const ApiResource& r : resources_)
    if (r.group.empty() == core && std::find(gvs.begin(), gvs.end(), r.apiVersion()) == gvs.end())
      gvs.push_back(r.apiVersion());
  std::string items;
  for (const std::string& gv : gvs) {
    std::string group = core ? "" : gv.substr(0, gv.find('/'));
    std::string version = core ? gv : gv.substr(gv.find('/') + 1);
    std::string resources;
    if (!stale_.count(gv))
      for (const ApiResource& r : resources_) {
        if (r.apiVersion() != gv) continue;
        resources += fmt::format(
            R"({}{{"resource":"{}","responseKind":{{"group":"{}","version":"{}","kind":"{}"}},"scope":"{}","singularResource":"{}","verbs":["get","list","watch"]}})",
            resources.empty() ? "" : ",", r.resource, group, version, r.kind,
            r.namespaced ? "Namespaced" : "Cluster", lower(r.kind));
      }
    items += fmt::format(
        R"({}{{"metadata":{{{}"creationTimestamp":null}},"versions":[{{"version":"{}","resources":[{}],"freshness":"{}"}}]}})",
        items.empty() ? "" : ",", core ? "" : fmt::format(R"("name":"{}",)", group), version,
        resources, stale_.count(gv) ? "Stale" : "Current");
  }
  return fmt::format(
      R"({{"kind":"APIGroupDiscoveryList","apiVersion":"apidiscovery.k8s.io/{}","metadata":{{}},"items":[{}]}})",
      v, items);
}

// Server-side apply of a ConfigMap (the one write kubeharden makes, when asked): stored as
// sent, 201 the first time and 200 after, as the API server answers.
FakeApiServer::Answer FakeApiServer::apply(const std::string& target,
                                           const std::string& content_type,
                                           const std::string& body) {
  std::string path = target.substr(0, target.find('?'));
  std::vector<std::string> parts;
  for (std::string_view p : splitTrimmed(path, '/')) parts.emplace_back(p);
  if (parts.size() != 6 || parts[0] != "api" || parts[2] != "namespaces" ||
      parts[4] != "configmaps")
    return {405,
            status(405, "MethodNotAllowed", "the fake applies ConfigMaps only"),
            "application/json",
            {}};
  if (content_type != "application/apply-patch+yaml" ||
      target.find("fieldManager=") == std::string::npos)
    return {415,
            status(415, "UnsupportedMediaType", "server-side apply with a field manager"),
            "application/json",
            {}};
  if (forbidden_.count("configmaps"))
    return {403,
            status(403, "Forbidden",
                   fmt::format("configmaps \\\"{}\\\" is forbidden: cannot patch resource "
                               "\\\"configmaps\\\" in namespace \\\"{}\\\"",
                               parts[5], parts[3])),
            "application/json",
            {}};
  std::lock_guard<std::mutex> lock(mu_);
  bool created = !applied_.count(parts[3] + "/" + parts[5]);
  applied_[parts[3] + "/" + parts[5]] = body;
  return {created ? 201 : 200, body, "application/json", {}};
}

std::string FakeApiServer::applied(const std::string& ns_name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = applied_.find(ns_name);
  return it == applied_.end() ? std::string() : it->second;
}

FakeApiServer::Answer FakeApiServer::route(const std::string& method, const std::string& target,
                                           const std::string& user, const std::string& accept) {
  std::string path = target.substr(0, target.find('?'));
  std::map<std::string, std::string> q;
  if (size_t at = target.find('?'); at != std::string::npos)
    for (std::string_view kv : splitTrimmed(std::string_view(target).substr(at + 1), '&')) {
      size_t eq = kv.find('=');
      q[std::string(kv.substr(0, eq))] =
          eq == std::string_view::npos ? "" : urlDecode(kv.substr(eq + 1));
    }
  // Who am I: the one POST a read-only client may send (it changes nothing).
  if (method == "POST" && path == "/apis/authentication.k8s.io/v1/selfsubjectreviews") {
    std::string name = user.starts_with("token:") || user.starts_with("basic:")
                           ? user.substr(user.find(':') + 1)
                           : user;
    return {
        201,
        fmt::format(
            R"({{"kind":"SelfSubjectReview","apiVersion":"authentication.k8s.io/v1","metadata":{{}},"status":{{"userInfo":{{"username":"{}","groups":["system:authenticated"]}}}}}})",
            name),
        "application/json",
        {}};
  }
  if (method != "GET")
    return {
        405, status(405, "MethodNotAllowed", "the fake serves GET only"), "application/json", {}};
  if (path == "/version")
    return {
        200,
        fmt::format(
            R"({{"major":"1","minor":"{}","gitVersion":"{}","gitCommit":"0","gitTreeState":"clean","buildDate":"2026-11-01T00:00:00Z","goVersion":"go1.23","compiler":"gc","platform":"linux/amd64"}})",
            version_.substr(3, version_.find('.', 3) - 3), version_),
        "application/json",
        {}};
  // Aggregated discovery (apidiscovery.k8s.io/v2, v2beta1) when the client asks for it first.
  if ((path == "/api" || path == "/apis") && !legacy_discovery_ &&
      accept.starts_with("application/json;g=apidiscovery.k8s.io;v=v2")) {
    std::string v =
        accept.starts_with("application/json;g=apidiscovery.k8s.io;v=v2;") ? "v2" : "v2beta1";
    return {200,
            aggregatedDiscovery(path == "/api", v),
            "application/json;g=apidiscovery.k8s.io;v=" + v + ";as=APIGroupDiscoveryList",
            {}};
  }
  if (path == "/api")
    return {
        200,
        fmt::format(
            R"({{"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[{{"clientCIDR":"0.0.0.0/0","serverAddress":"127.0.0.1:{}"}}]}})",
            port_),
        "application/json",
        {}};
  if (path == "/apis") {
    std::vector<std::string> gvs;
    for (const ApiResource& r : resources_)
      if (!r.group.empty() && std::find(gvs.begin(), gvs.end(), r.apiVersion()) == gvs.end())
        gvs.push_back(r.apiVersion());
    std::string groups;
    for (const std::string& gv : gvs) {
      std::string g = gv.substr(0, gv.find('/')), v = gv.substr(gv.find('/') + 1);
      groups += fmt::format(
          R"({}{{"name":"{}","versions":[{{"groupVersion":"{}","version":"{}"}}],"preferredVersion":{{"groupVersion":"{}","version":"{}"}}}})",
          groups.empty() ? "" : ",", g, gv, v, gv, v);
    }
    return {200,
            fmt::format(R"({{"kind":"APIGroupList","apiVersion":"v1","groups":[{}]}})", groups),
            "application/json",
            {}};
  }
  // /api/v1[/namespaces/NS]/RESOURCE, /apis/G/V[/namespaces/NS]/RESOURCE
  std::vector<std::string> parts;
  for (std::string_view p : splitTrimmed(path, '/')) parts.emplace_back(p);
  size_t base = parts.size() >= 2 && parts[0] == "api" ? 2 : parts.size() >= 3 ? 3 : 0;
  if (base == 0)
    return {404,
            status(404, "NotFound", "the server could not find the requested resource"),
            "application/json",
            {}};
  std::string gv = base == 2 ? parts[1] : parts[1] + "/" + parts[2];
  if (parts.size() == base) {
    if (stale_.count(gv))
      return {
          503,
          status(503, "ServiceUnavailable", "the server is currently unable to handle the request"),
          "application/json",
          {}};
    return {200, discovery(gv), "application/json", {}};
  }
  std::string ns;
  size_t at = base;
  if (parts.size() >= base + 3 && parts[base] == "namespaces") {
    ns = parts[base + 1];
    at = base + 2;
  }
  if (parts.size() != at + 1)
    return {404, status(404, "NotFound", "the fake serves lists only"), "application/json", {}};
  for (const ApiResource& r : resources_)
    if (r.apiVersion() == gv && r.resource == parts[at]) return list(r, ns, q, user, accept);
  return {404,
          status(404, "NotFound", "the server could not find the requested resource"),
          "application/json",
          {}};
}

FakeApiServer::Answer FakeApiServer::list(const ApiResource& r, const std::string& ns,
                                          const std::map<std::string, std::string>& q,
                                          const std::string& user, const std::string& accept) {
  if (stalled_.count(r.resource)) {
    // A server that accepted the request and never answers: hold the connection until the
    // client gives up (or the fake stops).
    for (int i = 0; i < 600 && !stop_; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return {503, status(503, "ServiceUnavailable", "stalled"), "application/json", {}};
  }
  if (forbidden_.count(r.resource))
    return {
        403,
        status(403, "Forbidden",
               fmt::format("{} is forbidden: User \\\"{}\\\" cannot list resource \\\"{}\\\" in "
                           "API group \\\"{}\\\" at the cluster scope",
                           r.resource, user, r.resource, r.group)),
        "application/json",
        {}};
  if (ns.empty() && r.namespaced && forbidden_wide_.count(r.resource))
    return {403,
            status(403, "Forbidden",
                   fmt::format("{} is forbidden: User \\\"{}\\\" cannot list resource \\\"{}\\\" "
                               "in API group \\\"{}\\\" at the cluster scope",
                               r.resource, user, r.resource, r.group)),
            "application/json",
            {}};
  // Selectors: labels (k=v, k!=v, k, !k) and the namespace field (metadata.namespace=/!=),
  // comma-separated, all of them.
  auto matches = [&](const ApiResource::Item& i) {
    if (auto l = q.find("labelSelector"); l != q.end())
      for (std::string_view term : splitTrimmed(l->second, ',')) {
        size_t ne = term.find("!="), eq = term.find('=');
        if (ne != std::string_view::npos) {
          auto it = i.labels.find(std::string(term.substr(0, ne)));
          if (it != i.labels.end() && it->second == term.substr(ne + 2)) return false;
        } else if (eq != std::string_view::npos) {
          auto it = i.labels.find(std::string(term.substr(0, eq)));
          size_t v = term[eq + 1] == '=' ? eq + 2 : eq + 1;
          if (it == i.labels.end() || it->second != term.substr(v)) return false;
        } else if (term.starts_with('!')) {
          if (i.labels.count(std::string(term.substr(1)))) return false;
        } else if (!i.labels.count(std::string(term))) {
          return false;
        }
      }
    if (auto f = q.find("fieldSelector"); f != q.end())
      for (std::string_view term : splitTrimmed(f->second, ',')) {
        if (term.starts_with("metadata.namespace!=")) {
          if (i.ns == term.substr(20)) return false;
        } else if (term.starts_with("metadata.namespace=")) {
          if (i.ns != term.substr(term.find('=') + 1)) return false;
        } else if (term.starts_with("type=") && r.resource == "secrets") {
          // Secrets' own field (the API server supports it for them only).
          rapidjson::Document o;
          o.Parse(i.json.c_str());
          const auto* t = o.IsObject() && o.HasMember("type") && o["type"].IsString()
                              ? o["type"].GetString()
                              : "Opaque";
          if (term.substr(5) != t) return false;
        } else if (term.starts_with("metadata.name=")) {
          if (i.json.find(fmt::format(R"("name":"{}")", term.substr(14))) == std::string::npos)
            return false;
        }
      }
    return true;
  };
  std::vector<const ApiResource::Item*> items;
  for (const auto& i : r.items)
    if ((ns.empty() || i.ns == ns) && matches(i)) items.push_back(&i);
  size_t offset = 0;
  if (auto c = q.find("continue"); c != q.end() && !c->second.empty()) {
    if (expire_once_.erase(r.resource))
      return {410,
              status(410, "Expired",
                     "The provided continue parameter is too old to display a consistent list "
                     "result. You can start a new list without the continue parameter."),
              "application/json",
              {}};
    auto decoded = base64Decode(c->second);
    if (!decoded || !decoded->starts_with(r.resource + ":"))
      return {400, status(400, "BadRequest", "invalid continue token"), "application/json", {}};
    offset = std::stoul(decoded->substr(r.resource.size() + 1));
  }
  size_t limit = items.size();
  if (auto l = q.find("limit"); l != q.end() && !l->second.empty() && std::stoul(l->second) > 0)
    limit = std::stoul(l->second);
  size_t end = std::min(items.size(), offset + limit);
  // PartialObjectMetadataList, when asked first: each item's metadata alone, as the API server
  // answers.
  bool metadata = accept.starts_with("application/json;as=PartialObjectMetadataList");
  std::string body;
  for (size_t i = offset; i < end; ++i) {
    std::string item = items[i]->json;
    if (metadata) {
      rapidjson::Document o;
      o.Parse(item.c_str());
      item = R"({"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":)" +
             toJson(o["metadata"]) + "}";
    }
    body += (i > offset ? "," : "") + item;
  }
  std::string meta = R"("resourceVersion":"1000")";
  if (end < items.size())
    meta += fmt::format(R"(,"continue":"{}","remainingItemCount":{})",
                        base64Encode(fmt::format("{}:{}", r.resource, end)), items.size() - end);
  return {
      200,
      metadata
          ? fmt::format(
                R"({{"kind":"PartialObjectMetadataList","apiVersion":"meta.k8s.io/v1","metadata":{{{}}},"items":[{}]}})",
                meta, body)
          : fmt::format(R"({{"kind":"{}List","apiVersion":"{}","metadata":{{{}}},"items":[{}]}})",
                        r.kind, r.apiVersion(), meta, body),
      "application/json",
      {}};
}

std::string FakeApiServer::writeKubeconfig(const TempDir& d, const std::string& token,
                                           const std::string& name) const {
  return d.write(name, fmt::format(R"(current-context: fake
clusters: [{{name: fake, cluster: {{server: "{}", certificate-authority: {}}}}}]
users: [{{name: scanner, user: {{token: {}}}}}]
contexts: [{{name: fake, context: {{cluster: fake, user: scanner}}}}]
)",
                                   url(), pki_.path("ca.pem"), token));
}

}  // namespace kh::test
