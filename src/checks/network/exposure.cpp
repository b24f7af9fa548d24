// Services, Ingresses and container ports: how workloads are exposed.
// network-service-external-ips, network-exposed-service (opt-in), network-ingress-no-tls,
// network-ingress-nginx-injection, network-ssh-port, network-privileged-port,
// network-service-selects-nothing, network-service-target-port, network-ingress-backend-missing
// (opt-in) and network-sensitive-interface.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "checks/network/network_checks.h"
#include "checks/scan_index.h"
#include "model/label_selector.h"

namespace kh {
namespace {

constexpr std::string_view kService[] = {"Service"};
constexpr std::string_view kIngress[] = {"Ingress"};

constexpr CheckMeta kExternalIps{
    .id = "network-service-external-ips",
    .title = "Service sets externalIPs",
    .severity = Severity::kHigh,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kService,
    .remediation =
        "Remove spec.externalIPs and use a LoadBalancer Service; enable the "
        "DenyServiceExternalIPs admission plugin (CVE-2020-8554).",
    .refs = {.nsa = "Network separation", .mitre = "T1557", .trivy = "KSV-0108"},
};

constexpr CheckMeta kExposed{
    .id = "network-exposed-service",
    .title = "Service is exposed outside the cluster",
    .severity = Severity::kLow,
    .group = "security",
    .enabled_by_default = false,
    .scope = Scope::kKinds,
    .kinds = kService,
    .remediation =
        "Use a ClusterIP Service behind an Ingress or Gateway with TLS and "
        "authentication, unless the service is meant to be reached directly.",
    .refs = {.nsa = "Network separation",
             .mitre = "T1133",
             .kube_linter = "exposed-services",
             .kubescape = "C-0256"},
};

constexpr CheckMeta kNoTls{
    .id = "network-ingress-no-tls",
    .title = "Ingress serves hosts without TLS",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kIngress,
    .remediation =
        "Add a spec.tls entry (with a certificate Secret, e.g. from cert-manager) "
        "that covers every host of the rules.",
    .refs = {.nsa = "Network separation",
             .mitre = "T1040",
             .kubescape = "C-0263",
             .polaris = "tlsSettingsMissing"},
};

constexpr CheckMeta kNginx{
    .id = "network-ingress-nginx-injection",
    .title = "Ingress uses ingress-nginx annotations that inject configuration",
    .severity = Severity::kHigh,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kIngress,
    .remediation =
        "Remove the snippet annotation (and keep allow-snippet-annotations off in the "
        "controller); values of auth-url, auth-tls-match-cn and mirror-* must be "
        "plain URLs or names.",
    .refs = {.mitre = "T1190",
             .trivy = "KCV-0093",
             .kubescape = "C-0059",
             .checkov = "CKV_K8S_152,CKV_K8S_153,CKV_K8S_154"},
};

constexpr CheckMeta kSsh{
    .id = "network-ssh-port",
    .title = "Container exposes an SSH port",
    .severity = Severity::kLow,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Do not run an SSH server in a container: use kubectl exec (audited, "
        "RBAC-controlled) or an ephemeral debug container.",
    .refs = {.mitre = "T1021", .kube_linter = "ssh-port", .kubescape = "C-0042"},
};

constexpr CheckMeta kPrivPort{
    .id = "network-privileged-port",
    .title = "Container listens on a privileged port",
    .severity = Severity::kLow,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Listen on a port of 1024 or above and map the Service port to it; ports "
        "below 1024 need root or NET_BIND_SERVICE.",
    .refs = {.nsa = "Non-root containers", .kube_linter = "privileged-ports", .trivy = "KSV-0117"},
};

constexpr CheckMeta kSelectsNothing{
    .id = "network-service-selects-nothing",
    .title = "Service selects no workload",
    .severity = Severity::kLow,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kService,
    .remediation =
        "Fix spec.selector to match the labels of the intended pod template; a "
        "dangling Service can later capture any pod that happens to get the labels.",
    .refs = {.kube_linter = "dangling-service", .kubescape = "C-0293"},
    .whole_input = true,
};

constexpr CheckMeta kTargetPort{
    .id = "network-service-target-port",
    .title = "Service targets a port name no selected container defines",
    .severity = Severity::kLow,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kService,
    .remediation =
        "Use the name of a containerPort of the selected pods (same protocol), or a "
        "number.",
    .refs = {.kube_linter = "invalid-target-ports"},
    .whole_input = true,
};

constexpr CheckMeta kBackend{
    .id = "network-ingress-backend-missing",
    .title = "Ingress routes to a Service that is not in the input",
    .severity = Severity::kLow,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kIngress,
    .remediation = "Fix the backend's service name, or add the Service.",
    .refs = {.kube_linter = "dangling-ingress", .kubescape = "C-0298"},
    .whole_input = true,
};

constexpr CheckMeta kSensitive{
    .id = "network-sensitive-interface",
    .title = "Administrative interface is exposed outside the cluster",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kService,
    .remediation =
        "Keep administrative UIs on ClusterIP and reach them through kubectl "
        "port-forward or an authenticating proxy.",
    .refs = {.nsa = "Network separation",
             .mitre = "T1133",
             .kubescape = "C-0021",
             .checkov = "CKV_K8S_33"},
};

bool externallyExposed(const Object& svc) {
  const Node* spec = get(svc.root, "spec");
  std::string_view type = getStr(spec, "type");
  const Node* ips = get(spec, "externalIPs");
  return type == "LoadBalancer" || type == "NodePort" || (ips && !ips->seqItems().empty());
}

// The workloads of the input in the Service's namespace whose pod template labels the
// Service's selector matches. Empty selector: none (the Service has manual Endpoints).
std::vector<const Object*> selected(const Object& svc, const CheckContext& ctx) {
  std::vector<const Object*> out;
  const Node* sel = get(get(svc.root, "spec"), "selector");
  if (!ctx.index || !sel || !sel->isMap() || sel->size == 0) return out;
  for (const Object* o : ctx.index->workloadsIn(svc.namespaceOrDefault())) {
    const Node* labels = get(o->pod->template_meta, "labels");
    bool all = true;
    for (const MapEntry& e : sel->mapEntries()) {
      const Node* v = get(labels, e.key);
      all &= v && v->text == e.value->text;
    }
    if (all) out.push_back(o);
  }
  return out;
}

void externalIps(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const MapEntry* e = getEntry(get(o.root, "spec"), "externalIPs");
  if (!e || e->value->seqItems().empty()) return;
  sink.add(self.finding(o, e->key_pos, "spec.externalIPs",
                        fmt::format("Service {} claims {} external IP{}: traffic to them from "
                                    "anywhere in the cluster is redirected to it",
                                    o.ref.name, e->value->seqItems().size(),
                                    e->value->seqItems().size() == 1 ? "" : "s")));
}

void exposed(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const MapEntry* e = getEntry(get(o.root, "spec"), "type");
  if (!e) return;
  std::string_view t = e->value->str();
  if (t != "LoadBalancer" && t != "NodePort") return;
  sink.add(self.finding(o, e->key_pos, "spec.type",
                        fmt::format("Service {} is of type {}", o.ref.name, t)));
}

// Does TLS host `pattern` (possibly "*.example.com") cover `host`?
bool tlsCovers(std::string_view pattern, std::string_view host) {
  if (pattern == host) return true;
  if (!pattern.starts_with("*.")) return false;
  size_t dot = host.find('.');
  return dot != std::string_view::npos && host.substr(dot) == pattern.substr(1);
}

void noTls(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Node* spec = get(o.root, "spec");
  const Node* tls = get(spec, "tls");
  std::vector<std::string_view> covered;
  bool any_tls = false;
  for (const Node* t : seqOf(tls)) {
    any_tls = true;
    const Node* hosts = get(t, "hosts");
    for (const Node* h : seqOf(hosts)) covered.push_back(h->str());
  }
  if (!any_tls) {
    sink.add(self.finding(
        o, spec ? spec->pos : o.root->pos, "spec.tls",
        fmt::format("Ingress {} has no tls section: it serves plain HTTP", o.ref.name)));
    return;
  }
  const Node* rules = get(spec, "rules");
  uint32_t i = 0;
  for (const Node* r : seqOf(rules)) {
    uint32_t idx = i++;
    const MapEntry* host = r->entry("host");
    if (!host || host->value->str().empty()) continue;
    bool ok = false;
    for (std::string_view c : covered) ok |= tlsCovers(c, host->value->str());
    if (ok) continue;
    sink.add(self.finding(o, host->key_pos, fmt::format("spec.rules[{}].host", idx),
                          fmt::format("host {} of Ingress {} is not covered by its tls section",
                                      host->value->str(), o.ref.name)));
  }
}

constexpr std::string_view kNginxPrefix = "nginx.ingress.kubernetes.io/";

void nginx(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  for (const MapEntry& e :
       o.annotations ? o.annotations->mapEntries() : std::span<const MapEntry>()) {
    if (!e.key.starts_with(kNginxPrefix)) continue;
    std::string_view name = e.key.substr(kNginxPrefix.size());
    std::string path = fmt::format("metadata.annotations.{}", e.key);
    if (name.ends_with("-snippet") || name == "configuration-snippet") {
      Finding f = self.finding(o, e.key_pos, path,
                               fmt::format("annotation {} injects raw nginx configuration "
                                           "(CVE-2021-25742)",
                                           e.key));
      f.rule = "snippet";
      sink.add(std::move(f));
      continue;
    }
    bool checked = name == "auth-url" || name == "auth-tls-match-cn" || name == "auth-signin" ||
                   name.starts_with("mirror-");
    if (!checked || e.value->text.find_first_of("\"'{};#\n\\") == std::string_view::npos) continue;
    Finding f = self.finding(o, e.key_pos, path,
                             fmt::format("annotation {} holds characters that end the nginx "
                                         "directive it is copied into (CVE-2025-1097, "
                                         "CVE-2025-1098, CVE-2025-24514)",
                                         e.key));
    f.rule = "injection";
    f.severity = Severity::kCritical;
    sink.add(std::move(f));
  }
}

template <typename Fn>
void eachContainerPort(const Object& o, Fn fn) {
  for (const ContainerRef& c : o.pod->containers) {
    const Node* ports = get(c.node, "ports");
    uint32_t i = 0;
    for (const Node* p : seqOf(ports)) {
      uint32_t idx = i++;
      const MapEntry* cp = p->entry("containerPort");
      auto n = cp ? cp->value->asInt() : std::nullopt;
      if (n) fn(c, cp, *n, fmt::format("{}.ports[{}].containerPort", c.path, idx));
    }
  }
}

void ssh(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  eachContainerPort(
      o, [&](const ContainerRef& c, const MapEntry* e, int64_t port, std::string path) {
        if (port != 22 && port != 2222) return;
        sink.add(self.finding(o, e->key_pos, std::move(path),
                              fmt::format("container \"{}\" exposes port {} (SSH)", c.name, port),
                              c.name));
      });
}

void privPort(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  eachContainerPort(
      o, [&](const ContainerRef& c, const MapEntry* e, int64_t port, std::string path) {
        if (port <= 0 || port >= 1024 || port == 22) return;  // 22 is network-ssh-port's
        sink.add(self.finding(
            o, e->key_pos, std::move(path),
            fmt::format("container \"{}\" listens on privileged port {}", c.name, port), c.name));
      });
}

void selectsNothing(const FnCheck& self, const Object& o, const CheckContext& ctx,
                    FindingSink& sink) {
  const MapEntry* e = getEntry(get(o.root, "spec"), "selector");
  if (!e || !e->value->isMap() || e->value->size == 0) return;
  if (!selected(o, ctx).empty()) return;
  std::vector<std::string> pairs;
  for (const MapEntry& kv : e->value->mapEntries())
    pairs.push_back(fmt::format("{}={}", kv.key, kv.value->text));
  sink.add(self.finding(o, e->key_pos, "spec.selector",
                        fmt::format("Service {} selects {} but no workload in the input has "
                                    "those pod labels",
                                    o.ref.name, fmt::join(pairs, ","))));
}

void targetPort(const FnCheck& self, const Object& o, const CheckContext& ctx, FindingSink& sink) {
  const Node* ports = get(get(o.root, "spec"), "ports");
  bool named = false;  // only named target ports need the selected workloads
  for (const Node* p : seqOf(ports))
    if (const Node* tp = get(p, "targetPort"); tp && tp->isString() && !tp->asInt()) named = true;
  if (!named) return;
  auto pods = selected(o, ctx);
  if (pods.empty()) return;  // network-service-selects-nothing says so
  uint32_t i = 0;
  for (const Node* p : seqOf(ports)) {
    uint32_t idx = i++;
    const MapEntry* tp = p->entry("targetPort");
    if (!tp || !tp->value->isString() || tp->value->asInt()) continue;
    std::string_view name = tp->value->text;
    std::string_view proto = getStr(p, "protocol");
    if (proto.empty()) proto = "TCP";
    bool found = false;
    for (const Object* w : pods)
      for (const ContainerRef& c : w->pod->containers) {
        const Node* cps = get(c.node, "ports");
        for (const Node* cp : seqOf(cps)) {
          std::string_view cproto = getStr(cp, "protocol");
          if (cproto.empty()) cproto = "TCP";
          found |= getStr(cp, "name") == name && cproto == proto;
        }
      }
    if (found) continue;
    sink.add(self.finding(o, tp->key_pos, fmt::format("spec.ports[{}].targetPort", idx),
                          fmt::format("no container of the selected workloads defines a {} port "
                                      "named {}",
                                      proto, name)));
  }
}

void backend(const FnCheck& self, const Object& o, const CheckContext& ctx, FindingSink& sink) {
  if (!ctx.index) return;
  auto check = [&](const Node* b, const std::string& path) {
    const MapEntry* svc = getEntry(get(b, "service"), "name");
    if (!svc) svc = getEntry(b, "serviceName");  // networking.k8s.io/v1beta1
    if (!svc || svc->value->str().empty()) return;
    if (ctx.index->find("Service", o.ref.namespace_, svc->value->str())) return;
    sink.add(
        self.finding(o, svc->key_pos, path,
                     fmt::format("backend Service {} is not in the input", svc->value->str())));
  };
  const Node* spec = get(o.root, "spec");
  if (const Node* d = get(spec, "defaultBackend")) check(d, "spec.defaultBackend");
  const Node* rules = get(spec, "rules");
  uint32_t i = 0;
  for (const Node* r : seqOf(rules)) {
    const Node* paths = get(get(r, "http"), "paths");
    uint32_t j = 0;
    for (const Node* p : seqOf(paths))
      check(get(p, "backend"), fmt::format("spec.rules[{}].http.paths[{}].backend", i, j++));
    ++i;
  }
}

// Image name fragments of administrative UIs that should not face the outside world.
constexpr std::string_view kAdminImages[] = {
    "kubernetesui/dashboard", "kubernetes-dashboard", "argoproj/argocd",
    "argoproj/argocli",       "jenkins/jenkins",      "kubeflow",
    "weaveworks/scope",       "rayproject/ray",
};

void sensitive(const FnCheck& self, const Object& o, const CheckContext& ctx, FindingSink& sink) {
  if (!externallyExposed(o)) return;
  for (const Object* w : selected(o, ctx)) {
    for (const ContainerRef& c : w->pod->containers) {
      std::string_view image = getStr(c.node, "image");
      for (std::string_view a : kAdminImages) {
        if (image.find(a) == std::string_view::npos) continue;
        const Node* spec = get(o.root, "spec");
        sink.add(self.finding(o, spec ? spec->pos : o.root->pos, "spec.type",
                              fmt::format("Service {} exposes {} (image {}) outside the cluster",
                                          o.ref.name, w->displayName(), image)));
        return;
      }
    }
  }
}

}  // namespace

void addNetworkExposureChecks(std::vector<std::unique_ptr<Check>>& out) {
  out.push_back(std::make_unique<FnCheck>(kExternalIps, externalIps));
  out.push_back(std::make_unique<FnCheck>(kExposed, exposed));
  out.push_back(std::make_unique<FnCheck>(kNoTls, noTls));
  out.push_back(std::make_unique<FnCheck>(kNginx, nginx));
  out.push_back(std::make_unique<FnCheck>(kSsh, ssh));
  out.push_back(std::make_unique<FnCheck>(kPrivPort, privPort));
  out.push_back(std::make_unique<FnCheck>(kSelectsNothing, selectsNothing));
  out.push_back(std::make_unique<FnCheck>(kTargetPort, targetPort));
  out.push_back(std::make_unique<FnCheck>(kBackend, backend));
  out.push_back(std::make_unique<FnCheck>(kSensitive, sensitive));
}

}  // namespace kh
