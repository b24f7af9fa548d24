#include "tests/unit/audit_gen.h"

#include <fmt/format.h>

#include <array>
#include <ctime>
#include <vector>

namespace kh::test {
namespace {

// xorshift64*: reproducible for a seed, on every platform.
struct Rng {
  uint64_t s;
  uint64_t next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 2685821657736338717ull;
  }
  size_t below(size_t n) { return static_cast<size_t>(next() % n); }
};

struct Req {
  std::string_view level = "Metadata", verb;
  std::string uri;
  std::string user, uid;
  std::string_view groups;  // a JSON array
  std::string imp_user;
  std::string ip;
  std::string_view ua;
  std::string_view resource, group, version = "v1", sub;
  std::string ns, name;
  int code = 200;
  std::string_view reason, message;
  std::string_view decision = "allow";
  std::string authz_reason;
  std::string request_object, response_object;
  bool long_running = false;
};

constexpr std::array<std::string_view, 10> kControllers = {
    "replicaset-controller",   "deployment-controller",     "endpointslice-controller",
    "daemon-set-controller",   "statefulset-controller",    "job-controller",
    "namespace-controller",    "generic-garbage-collector", "service-account-controller",
    "resourcequota-controller"};
constexpr std::array<std::string_view, 6> kWatched = {"pods",      "configmaps", "secrets",
                                                      "endpoints", "services",   "nodes"};
constexpr std::array<std::string_view, 3> kPeople = {"alice", "bob", "carol"};
constexpr std::array<std::string_view, 4> kNamespaces = {"web", "payments", "monitoring",
                                                         "default"};

class Writer {
 public:
  Writer(const AuditGenOptions& o, const std::function<void(std::string_view)>& out)
      : o_(o), out_(out), rng_{o.seed * 0x9E3779B97F4A7C15ull + 1} {
    buf_.reserve(1 << 21);
  }

  AuditGenStats run() {
    for (uint64_t i = 0; i < o_.requests; ++i) {
      if (o_.max_bytes && stats_.bytes + buf_.size() >= o_.max_bytes) break;
      now_ += 200 + rng_.below(1800);  // microseconds between requests
      Req r = (o_.planted_every && i % o_.planted_every == o_.planted_every - 1)
                  ? planted(planted_n_++)
                  : normal();
      emit(r);
      ++stats_.requests;
      if (buf_.size() >= (1 << 20)) flush();
    }
    flush();
    return stats_;
  }

 private:
  std::string node() { return fmt::format("system:node:node-{}", rng_.below(50)); }
  std::string ip() {
    return fmt::format("10.{}.{}.{}", rng_.below(4), rng_.below(256), 1 + rng_.below(254));
  }
  std::string rv() { return std::to_string(1000000 + rng_.below(9000000)); }

  Req normal() {
    Req r;
    r.ip = ip();
    size_t k = rng_.below(100);
    if (k < 30) {  // a component's watch: a long-running request
      bool kubelet = k < 10;
      r.user = kubelet ? node()
                       : fmt::format("system:serviceaccount:kube-system:{}",
                                     kControllers[rng_.below(kControllers.size())]);
      r.groups = kubelet ? R"(["system:nodes","system:authenticated"])"
                         : R"(["system:serviceaccounts","system:serviceaccounts:kube-system",)"
                           R"("system:authenticated"])";
      r.ua = kubelet ? "kubelet/v1.35.2 (linux/amd64) kubernetes/1d5ac20"
                     : "kube-controller-manager/v1.35.2 (linux/amd64) kubernetes/1d5ac20/"
                       "shared-informers";
      r.verb = "watch";
      r.resource = kWatched[rng_.below(kWatched.size())];
      r.uri = fmt::format(
          "/api/v1/{}?allowWatchBookmarks=true&resourceVersion={}&"
          "timeout=7m46s&timeoutSeconds=466&watch=true",
          r.resource, rv());
      r.long_running = true;
    } else if (k < 60) {  // node leases and leader election
      bool lease = k < 50;
      r.user = lease ? node() : "system:kube-scheduler";
      r.groups =
          lease ? R"(["system:nodes","system:authenticated"])" : R"(["system:authenticated"])";
      r.ua = lease ? "kubelet/v1.35.2 (linux/amd64) kubernetes/1d5ac20"
                   : "kube-scheduler/v1.35.2 (linux/amd64) kubernetes/1d5ac20/leader-election";
      r.verb = k % 2 ? "update" : "get";
      r.resource = "leases";
      r.group = "coordination.k8s.io";
      r.ns = lease ? "kube-node-lease" : "kube-system";
      r.name = lease ? r.user.substr(12) : "kube-scheduler";
      r.uri = fmt::format("/apis/coordination.k8s.io/v1/namespaces/{}/leases/{}", r.ns, r.name);
    } else if (k < 70) {  // node status, with its patch logged at Request
      r.user = node();
      r.groups = R"(["system:nodes","system:authenticated"])";
      r.ua = "kubelet/v1.35.2 (linux/amd64) kubernetes/1d5ac20";
      r.level = "Request";
      r.verb = "patch";
      r.resource = "nodes";
      r.sub = "status";
      r.name = r.user.substr(12);
      r.uri = fmt::format("/api/v1/nodes/{}/status?timeout=10s", r.name);
      r.request_object = fmt::format(
          R"({{"status":{{"$setElementOrder/conditions":[{{"type":"MemoryPressure"}},)"
          R"({{"type":"DiskPressure"}},{{"type":"PIDPressure"}},{{"type":"Ready"}}],)"
          R"("conditions":[{{"lastHeartbeatTime":"2026-12-07T00:00:00Z","type":"Ready"}}],)"
          R"("allocatable":{{"cpu":"3920m","memory":"15Gi","pods":"110"}}}}}})");
    } else if (k < 80) {  // controllers' lists
      r.user = fmt::format("system:serviceaccount:kube-system:{}",
                           kControllers[rng_.below(kControllers.size())]);
      r.groups = R"(["system:serviceaccounts","system:authenticated"])";
      r.ua = "kube-controller-manager/v1.35.2 (linux/amd64) kubernetes/1d5ac20";
      r.verb = "list";
      r.resource = kWatched[rng_.below(kWatched.size())];
      r.uri = fmt::format("/api/v1/{}?limit=500&resourceVersion=0", r.resource);
    } else if (k < 88) {  // people with kubectl
      r.user = std::string(kPeople[rng_.below(kPeople.size())]);
      r.uid = "u-" + r.user;
      r.groups = R"(["devs","system:authenticated"])";
      r.ua = "kubectl/v1.35.2 (linux/amd64) kubernetes/1d5ac20";
      r.verb = k % 2 ? "list" : "get";
      r.resource = k % 3 ? "pods" : "deployments";
      if (r.resource == "deployments") r.group = "apps";
      r.ns = std::string(kNamespaces[rng_.below(kNamespaces.size())]);
      if (r.user == "carol" && k % 4 == 0) {  // refused, but not a Secret: nobody's finding
        r.ns = "kube-system";
        r.code = 403;
        r.decision = "forbid";
        r.reason = "Forbidden";
        r.message = "pods is forbidden: User \"carol\" cannot list resource \"pods\"";
      }
      r.uri = fmt::format("/{}/namespaces/{}/{}{}", r.group.empty() ? "api/v1" : "apis/apps/v1",
                          r.ns, r.resource, r.verb == "list" ? "?limit=500" : "/web-0");
      if (r.verb == "get") r.name = "web-0";
    } else if (k < 93) {  // the ReplicaSet controller creating a plain pod
      r.user = "system:serviceaccount:kube-system:replicaset-controller";
      r.groups = R"(["system:serviceaccounts","system:authenticated"])";
      r.ua =
          "kube-controller-manager/v1.35.2 (linux/amd64) kubernetes/1d5ac20/"
          "system:serviceaccount:kube-system:replicaset-controller";
      r.level = "Request";
      r.verb = "create";
      r.resource = "pods";
      r.ns = std::string(kNamespaces[rng_.below(kNamespaces.size())]);
      r.uri = fmt::format("/api/v1/namespaces/{}/pods", r.ns);
      r.code = 201;
      r.request_object = pod(false);
    } else if (k < 96) {  // kubelets reading the Secrets of their pods: components, not people
      r.user = node();
      r.groups = R"(["system:nodes","system:authenticated"])";
      r.ua = "kubelet/v1.35.2 (linux/amd64) kubernetes/1d5ac20";
      r.verb = "get";
      r.resource = "secrets";
      r.ns = std::string(kNamespaces[rng_.below(kNamespaces.size())]);
      r.name = "db";
      r.uri = fmt::format("/api/v1/namespaces/{}/secrets/db", r.ns);
    } else if (k < 98) {  // anonymous health checks: what the default roles allow
      r.user = "system:anonymous";
      r.groups = R"(["system:unauthenticated"])";
      r.ua = "kube-probe/1.35";
      r.verb = "get";
      r.uri = k % 2 ? "/readyz" : "/livez?verbose";
    } else {  // a person deploying a plain Deployment
      r.user = "alice";
      r.uid = "u-alice";
      r.groups = R"(["devs","system:authenticated"])";
      r.ua = "kubectl/v1.35.2 (linux/amd64) kubernetes/1d5ac20";
      r.level = "Request";
      r.verb = "create";
      r.resource = "deployments";
      r.group = "apps";
      r.ns = "web";
      r.name = "web";
      r.code = 201;
      r.uri = "/apis/apps/v1/namespaces/web/deployments?fieldManager=kubectl-client-side-apply";
      r.request_object = fmt::format(
          R"({{"kind":"Deployment","apiVersion":"apps/v1","metadata":{{"name":"web",)"
          R"("namespace":"web"}},"spec":{{"replicas":2,"selector":{{"matchLabels":{{"app":"web"}}}},)"
          R"("template":{{"metadata":{{"labels":{{"app":"web"}}}},"spec":{}}}}}}})",
          podSpec(false));
    }
    return r;
  }

  static std::string podSpec(bool privileged) {
    return fmt::format(
        R"({{"containers":[{{"name":"app","image":"registry.example.com/app:1.4.2",)"
        R"("ports":[{{"containerPort":8080,"protocol":"TCP"}}],"resources":{{"limits":)"
        R"({{"cpu":"500m","memory":"256Mi"}}}},"securityContext":{}}}]}})",
        privileged ? R"({"privileged":true})"
                   : R"({"allowPrivilegeEscalation":false,"runAsNonRoot":true})");
  }
  std::string pod(bool privileged) {
    return fmt::format(
        R"({{"kind":"Pod","apiVersion":"v1","metadata":{{"generateName":"web-7d9c-",)"
        R"("labels":{{"app":"web"}}}},"spec":{}}})",
        podSpec(privileged));
  }

  // The suspicious requests, in turn; each is one finding of the check it is counted under.
  Req planted(uint64_t n) {
    Req r;
    r.ip = fmt::format("203.0.113.{}", 1 + n % 250);
    r.ua = "kubectl/v1.35.2 (linux/amd64) kubernetes/1d5ac20";
    r.groups = R"(["devs","system:authenticated"])";
    switch (n % 7) {
      case 0:  // exec, a long-running request upgraded to a stream
      case 6:  // the same through impersonation
        r.user = "alice";
        if (n % 7 == 6) {
          r.user = "bob";
          r.imp_user = "system:serviceaccount:ops:deployer";
        }
        r.verb = "create";
        r.resource = "pods";
        r.sub = "exec";
        r.ns = "web";
        r.name = fmt::format("web-{}", n % 5);
        r.uri = fmt::format(
            "/api/v1/namespaces/web/pods/{}/exec?command=sh&container=app&"
            "stdin=true&stdout=true&tty=true",
            r.name);
        r.code = 101;
        r.long_running = true;
        ++stats_.planted["audit-event-exec"];
        break;
      case 1:  // a privileged pod
        r.user = "alice";
        r.level = "Request";
        r.verb = "create";
        r.resource = "pods";
        r.ns = "web";
        r.uri = "/api/v1/namespaces/web/pods";
        r.code = 201;
        r.request_object = pod(true);
        ++stats_.planted["audit-event-pod-insecure"];
        break;
      case 2:  // a person reads a Secret
        r.user = "bob";
        r.verb = "get";
        r.resource = "secrets";
        r.ns = "payments";
        r.name = "stripe";
        r.uri = "/api/v1/namespaces/payments/secrets/stripe";
        ++stats_.planted["audit-event-secret-read"];
        break;
      case 3:  // a workload's token probing Secrets
        r.user = "system:serviceaccount:web:app";
        r.groups =
            R"(["system:serviceaccounts","system:serviceaccounts:web","system:authenticated"])";
        r.ua = "curl/8.5.0";
        r.verb = "list";
        r.resource = "secrets";
        r.uri = "/api/v1/secrets";
        r.code = 403;
        r.decision = "forbid";
        r.reason = "Forbidden";
        r.message =
            "secrets is forbidden: User \"system:serviceaccount:web:app\" cannot list resource "
            "\"secrets\" in API group \"\" at the cluster scope";
        ++stats_.planted["audit-event-secret-read-denied"];
        break;
      case 4:  // anonymous, allowed beyond health checks
        r.user = "system:anonymous";
        r.groups = R"(["system:unauthenticated"])";
        r.ua = "python-requests/2.31.0";
        r.verb = "list";
        r.resource = "pods";
        r.ns = "default";
        r.uri = "/api/v1/namespaces/default/pods";
        r.authz_reason =
            "RBAC: allowed by ClusterRoleBinding \"oops\" of ClusterRole \"view\" to "
            "Group \"system:unauthenticated\"";
        ++stats_.planted["audit-event-anonymous-allowed"];
        break;
      default:  // 5: a NodePort Service
        r.user = "carol";
        r.level = "Request";
        r.verb = "create";
        r.resource = "services";
        r.ns = "web";
        r.uri = "/api/v1/namespaces/web/services";
        r.code = 201;
        r.request_object =
            R"({"kind":"Service","apiVersion":"v1","metadata":{"name":"admin","namespace":"web"},)"
            R"("spec":{"type":"NodePort","selector":{"app":"admin"},"ports":[{"port":80,)"
            R"("targetPort":8080}]}})";
        ++stats_.planted["audit-event-service-exposed"];
        break;
    }
    return r;
  }

  // MicroTime as the API server writes it: 2026-12-07T00:00:00.123456Z.
  std::string time(uint64_t micros) {
    uint64_t sec = micros / 1000000;
    if (sec != cached_sec_) {
      std::time_t t = static_cast<std::time_t>(kStart + sec);
      std::tm tm{};
      gmtime_r(&t, &tm);
      char b[32];
      std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%S", &tm);
      cached_ = b;
      cached_sec_ = sec;
    }
    return fmt::format("{}.{:06}Z", cached_, micros % 1000000);
  }

  void emit(const Req& r) {
    uint64_t id = ++ids_;
    std::string audit_id =
        fmt::format("{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}", static_cast<uint32_t>(rng_.next()),
                    id & 0xffff, (id >> 16) & 0xfff, rng_.below(0x1000), id);
    std::string received = time(now_);
    std::vector<std::string_view> stages = {"RequestReceived"};
    if (r.long_running) stages.push_back("ResponseStarted");
    stages.push_back("ResponseComplete");
    uint64_t t = now_;
    for (std::string_view stage : stages) {
      bool first = stage == "RequestReceived";
      t += first ? 0 : (r.long_running && stage == "ResponseComplete" ? 30000000 : 1500);
      auto it = std::back_inserter(buf_);
      fmt::format_to(it,
                     R"({{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"{}",)"
                     R"("auditID":"{}","stage":"{}","requestURI":"{}","verb":"{}",)"
                     R"("user":{{"username":"{}",)",
                     r.level, audit_id, stage, r.uri, r.verb, r.user);
      if (!r.uid.empty()) fmt::format_to(it, R"("uid":"{}",)", r.uid);
      fmt::format_to(it, R"("groups":{}}},)", r.groups.empty() ? "[]" : r.groups);
      if (!r.imp_user.empty())
        fmt::format_to(it,
                       R"("impersonatedUser":{{"username":"{}","groups":)"
                       R"(["system:serviceaccounts","system:authenticated"]}},)",
                       r.imp_user);
      fmt::format_to(it, R"("sourceIPs":["{}"],"userAgent":"{}",)", r.ip, r.ua);
      if (!r.resource.empty()) {
        fmt::format_to(it, R"("objectRef":{{"resource":"{}",)", r.resource);
        if (!r.ns.empty()) fmt::format_to(it, R"("namespace":"{}",)", r.ns);
        if (!r.name.empty()) fmt::format_to(it, R"("name":"{}",)", r.name);
        if (!r.group.empty()) fmt::format_to(it, R"("apiGroup":"{}",)", r.group);
        fmt::format_to(it, R"("apiVersion":"{}")", r.version);
        if (!r.sub.empty()) fmt::format_to(it, R"(,"subresource":"{}")", r.sub);
        buf_ += "},";
      }
      if (!first) {
        if (r.code >= 400)
          fmt::format_to(it,
                         R"("responseStatus":{{"metadata":{{}},"status":"Failure","message":)"
                         R"("{}","reason":"{}","code":{}}},)",
                         escape(r.message), r.reason, r.code);
        else
          fmt::format_to(it, R"("responseStatus":{{"metadata":{{}},"code":{}}},)", r.code);
        if (r.level != "Metadata" && !r.request_object.empty())
          fmt::format_to(it, R"("requestObject":{},)", r.request_object);
        if (r.level == "RequestResponse" && !r.response_object.empty())
          fmt::format_to(it, R"("responseObject":{},)", r.response_object);
      }
      fmt::format_to(it, R"("requestReceivedTimestamp":"{}","stageTimestamp":"{}")", received,
                     time(t));
      if (!first)
        fmt::format_to(it,
                       R"(,"annotations":{{"authorization.k8s.io/decision":"{}",)"
                       R"("authorization.k8s.io/reason":"{}"}})",
                       r.decision, escape(r.authz_reason));
      buf_ += "}\n";
      ++stats_.events;
    }
  }

  static std::string escape(std::string_view s) {
    std::string out;
    for (char c : s) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    return out;
  }

  void flush() {
    if (buf_.empty()) return;
    stats_.bytes += buf_.size();
    out_(buf_);
    buf_.clear();
  }

  static constexpr int64_t kStart = 1796601600;  // 2026-12-07T00:00:00Z
  const AuditGenOptions& o_;
  const std::function<void(std::string_view)>& out_;
  Rng rng_;
  AuditGenStats stats_;
  std::string buf_;
  uint64_t now_ = 0, ids_ = 0, planted_n_ = 0;
  uint64_t cached_sec_ = UINT64_MAX;
  std::string cached_;
};

}  // namespace

AuditGenStats generateAuditLog(const AuditGenOptions& o,
                               const std::function<void(std::string_view)>& out) {
  return Writer(o, out).run();
}

}  // namespace kh::test
