#include "pss/pss.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>

#include "base/strings.h"
#include "model/pod_spec.h"

namespace kh::pss {

struct ContainerFacts {
  std::string_view name;
  const Node* node = nullptr;
  const Node* sc = nullptr;  // securityContext map, or null when absent/null
  const Node* privileged = nullptr;
  const Node* ape = nullptr;
  const Node* run_as_non_root = nullptr;
  const Node* run_as_user = nullptr;
  const Node* proc_mount = nullptr;
  const Node* seccomp = nullptr;
  const Node* selinux = nullptr;
  const Node* host_process = nullptr;
  const Node* apparmor = nullptr;
  const Node* capabilities = nullptr;
  const Node* ports = nullptr;
  const Node* liveness = nullptr;
  const Node* readiness = nullptr;
  const Node* startup = nullptr;
  const Node* lifecycle = nullptr;
  bool ephemeral = false;
  // The AppArmor type the API server copies from the container's deprecated annotation into
  // securityContext.appArmorProfile when a Pod is created without that field (see gather).
  std::string_view apparmor_from_annotation;
};

Scratch::Scratch() : containers(new std::vector<ContainerFacts>()) {}
Scratch::~Scratch() {
  delete containers;
}

namespace {

// --- small helpers mirroring PSA's formatting --------------------------------------------

bool present(const Node* n) {
  return n && !n->isNull();
}
bool isTrue(const Node* n) {
  return n && n->isTrue();
}

std::string_view pluralize(std::string_view one, std::string_view many, size_t n) {
  return n == 1 ? one : many;
}

// `"a", "b"` (no escaping, as PSA's joinQuote).
std::string joinQuote(const std::vector<std::string_view>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    out += '"';
    out += items[i];
    out += '"';
  }
  return out;
}

// Go's %q for the strings PSA quotes with it.
std::string goQuote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += fmt::format("\\x{:02x}", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
  return out;
}

// Sorted, de-duplicated (Go's sets.String List()).
std::vector<std::string_view> sortedSet(std::vector<std::string_view> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

// "container \"a\"" / "containers \"a\", \"b\"".
std::string containersPhrase(const std::vector<std::string_view>& names) {
  return fmt::format("{} {}", pluralize("container", "containers", names.size()), joinQuote(names));
}

std::string_view typeOf(const Node* profile) {
  return profile ? getStr(profile, "type") : std::string_view();
}

// --- the facts of one pod, gathered in one pass over each map ------------------------------

struct PodFacts {
  const Node* spec = nullptr;
  const Node* annotations = nullptr;
  const Node* sc = nullptr;
  const Node* run_as_non_root = nullptr;
  const Node* run_as_user = nullptr;
  const Node* seccomp = nullptr;
  const Node* selinux = nullptr;
  const Node* host_process = nullptr;
  const Node* apparmor = nullptr;
  const Node* sysctls = nullptr;
  const Node* volumes = nullptr;
  bool host_network = false, host_pid = false, host_ipc = false;
  bool windows = false;
  bool host_users_false = false;
  bool pod = false;  // a Pod's own spec, not a template (see Subject)
  const std::vector<ContainerFacts>* containers = nullptr;
};

void readSecurityContext(const Node* sc, ContainerFacts& c) {
  for (const MapEntry& e : sc->mapEntries()) {
    std::string_view k = e.key;
    if (k == "privileged")
      c.privileged = e.value;
    else if (k == "allowPrivilegeEscalation")
      c.ape = e.value;
    else if (k == "runAsNonRoot")
      c.run_as_non_root = e.value;
    else if (k == "runAsUser")
      c.run_as_user = e.value;
    else if (k == "procMount")
      c.proc_mount = e.value;
    else if (k == "seccompProfile")
      c.seccomp = e.value;
    else if (k == "seLinuxOptions")
      c.selinux = e.value;
    else if (k == "windowsOptions")
      c.host_process = get(e.value, "hostProcess");
    else if (k == "appArmorProfile")
      c.apparmor = e.value;
    else if (k == "capabilities")
      c.capabilities = e.value;
  }
}

// The deprecated annotation's value as the field the API server derives from it (pod strategy's
// applyAppArmorVersionSkew): the type, or empty when the value gives no valid field.
std::string_view appArmorTypeOfAnnotation(std::string_view value) {
  if (value == "runtime/default") return "RuntimeDefault";
  if (value == "unconfined") return "Unconfined";
  if (value.starts_with("localhost/") && value.size() > 10) return "Localhost";
  return {};
}

PodFacts gather(Subject subject, const Node* meta, const Node* spec,
                std::vector<ContainerFacts>& containers) {
  PodFacts p;
  p.spec = spec;
  p.pod = subject == Subject::kPod;
  const Node* ann = get(meta, "annotations");
  p.annotations = ann && ann->isMap() ? ann : nullptr;
  containers.clear();
  const Node* lists[3] = {nullptr, nullptr, nullptr};
  for (const MapEntry& e : spec->mapEntries()) {
    std::string_view k = e.key;
    if (k == "securityContext")
      p.sc = e.value->isMap() ? e.value : nullptr;
    else if (k == "hostNetwork")
      p.host_network = e.value->isTrue();
    else if (k == "hostPID")
      p.host_pid = e.value->isTrue();
    else if (k == "hostIPC")
      p.host_ipc = e.value->isTrue();
    else if (k == "hostUsers")
      p.host_users_false = e.value->isFalse();
    else if (k == "os")
      p.windows = getStr(e.value, "name") == "windows";
    else if (k == "volumes")
      p.volumes = e.value;
    else if (k == "initContainers")
      lists[0] = e.value;
    else if (k == "containers")
      lists[1] = e.value;
    else if (k == "ephemeralContainers")
      lists[2] = e.value;
  }
  if (p.sc) {
    for (const MapEntry& e : p.sc->mapEntries()) {
      std::string_view k = e.key;
      if (k == "runAsNonRoot")
        p.run_as_non_root = e.value;
      else if (k == "runAsUser")
        p.run_as_user = e.value;
      else if (k == "seccompProfile")
        p.seccomp = e.value;
      else if (k == "seLinuxOptions")
        p.selinux = e.value;
      else if (k == "windowsOptions")
        p.host_process = get(e.value, "hostProcess");
      else if (k == "appArmorProfile")
        p.apparmor = e.value;
      else if (k == "sysctls")
        p.sysctls = e.value;
    }
  }
  for (const Node* list : lists) {
    for (const Node* c : seqOf(list)) {
      if (!c->isMap()) continue;
      ContainerFacts f;
      f.node = c;
      f.ephemeral = list == lists[2];
      for (const MapEntry& e : c->mapEntries()) {
        std::string_view k = e.key;
        if (k == "name")
          f.name = e.value->str();
        else if (k == "securityContext" && e.value->isMap())
          f.sc = e.value;
        else if (k == "ports")
          f.ports = e.value;
        else if (k == "livenessProbe")
          f.liveness = e.value;
        else if (k == "readinessProbe")
          f.readiness = e.value;
        else if (k == "startupProbe")
          f.startup = e.value;
        else if (k == "lifecycle")
          f.lifecycle = e.value;
      }
      if (f.sc) readSecurityContext(f.sc, f);
      containers.push_back(f);
    }
  }
  // Creating a Pod (not a template), the API server copies a container's deprecated AppArmor
  // annotation into its appArmorProfile field when the field is unset, the annotation gives a
  // valid profile and that profile differs from the pod's; PSA, a validating admission plugin,
  // sees the result. Windows pods are left alone.
  if (p.pod && !p.windows && p.annotations) {
    constexpr std::string_view kPrefix = "container.apparmor.security.beta.kubernetes.io/";
    for (ContainerFacts& c : containers) {
      if (present(c.apparmor) || c.name.empty()) continue;
      std::string key = fmt::format("{}{}", kPrefix, c.name);
      const Node* ann = get(p.annotations, key);
      if (!ann || !ann->isString()) continue;
      std::string_view type = appArmorTypeOfAnnotation(ann->text);
      if (type.empty()) continue;
      bool same_as_pod = present(p.apparmor) && typeOf(p.apparmor) == type &&
                         getStr(p.apparmor, "localhostProfile") ==
                             (type == "Localhost" ? ann->text.substr(10) : std::string_view());
      if (!same_as_pod) c.apparmor_from_annotation = type;
    }
  }
  p.containers = &containers;
  return p;
}

// --- the checks -------------------------------------------------------------------------

using CheckFn = bool (*)(const PodFacts&, int minor, Violation&);

// pod-level and container-level "bad setters" joined the PSA way: "pod and containers "a"".
std::string setters(bool pod, const std::vector<std::string_view>& containers) {
  std::vector<std::string> parts;
  if (pod) parts.emplace_back("pod");
  if (!containers.empty()) parts.push_back(containersPhrase(containers));
  return join(parts, " and ");
}

bool allowPrivilegeEscalation(const PodFacts& p, int minor, Violation& v) {
  if (minor >= 25 && p.windows) return true;
  std::vector<std::string_view> bad;
  for (const ContainerFacts& c : *p.containers)
    if (!c.sc || !present(c.ape) || !c.ape->isFalse()) bad.push_back(c.name);
  if (bad.empty()) return true;
  v.reason = "allowPrivilegeEscalation != false";
  v.detail = fmt::format("{} must set securityContext.allowPrivilegeEscalation=false",
                         containersPhrase(bad));
  return false;
}

bool allowedAppArmorAnnotation(std::string_view v) {
  return v.empty() || v == "runtime/default" || v.starts_with("localhost/");
}

bool appArmorProfile(const PodFacts& p, int, Violation& v) {
  bool pod_bad = false;
  std::vector<std::string_view> values, containers;
  auto allowedType = [](std::string_view t) { return t == "RuntimeDefault" || t == "Localhost"; };
  if (present(p.apparmor) && !allowedType(typeOf(p.apparmor))) {
    pod_bad = true;
    values.push_back(typeOf(p.apparmor));
  }
  for (const ContainerFacts& c : *p.containers) {
    std::string_view type = present(c.apparmor) ? typeOf(c.apparmor) : c.apparmor_from_annotation;
    if ((present(c.apparmor) || !type.empty()) && !allowedType(type)) {
      containers.push_back(c.name);
      values.push_back(type);
    }
  }
  std::vector<std::string> annotations;
  constexpr std::string_view kPrefix = "container.apparmor.security.beta.kubernetes.io/";
  for (const MapEntry& e : mapOf(p.annotations)) {
    if (e.key.starts_with(kPrefix) && !allowedAppArmorAnnotation(e.value->text))
      annotations.push_back(fmt::format("{}={}", e.key, goQuote(e.value->text)));
  }
  if (!pod_bad && containers.empty() && annotations.empty()) return true;
  std::sort(annotations.begin(), annotations.end());
  std::vector<std::string_view> list = sortedSet(values);
  for (const std::string& a : annotations) list.push_back(a);
  std::string who = setters(pod_bad, containers);
  if (!annotations.empty()) {
    if (!who.empty()) who += " and ";
    who += pluralize("annotation", "annotations", annotations.size());
  }
  v.reason = std::string(
      pluralize("forbidden AppArmor profile", "forbidden AppArmor profiles", list.size()));
  v.detail = fmt::format("{} must not set AppArmor profile type to {}", who, joinQuote(list));
  return false;
}

constexpr std::array<std::string_view, 13> kBaselineCapabilities = {
    "AUDIT_WRITE",      "CHOWN",   "DAC_OVERRIDE", "FOWNER",  "FSETID", "KILL",      "MKNOD",
    "NET_BIND_SERVICE", "SETFCAP", "SETGID",       "SETPCAP", "SETUID", "SYS_CHROOT"};

const Node* capsList(const ContainerFacts& c, std::string_view which) {
  return present(c.capabilities) ? get(c.capabilities, which) : nullptr;
}

bool capabilitiesBaseline(const PodFacts& p, int, Violation& v) {
  std::vector<std::string_view> bad, caps;
  for (const ContainerFacts& c : *p.containers) {
    if (!c.sc || !present(c.capabilities)) continue;
    bool valid = true;
    const Node* add = capsList(c, "add");
    for (const Node* cap : seqOf(add)) {
      if (std::find(kBaselineCapabilities.begin(), kBaselineCapabilities.end(), cap->text) ==
          kBaselineCapabilities.end()) {
        valid = false;
        caps.push_back(cap->text);
      }
    }
    if (!valid) bad.push_back(c.name);
  }
  if (bad.empty()) return true;
  v.reason = "non-default capabilities";
  v.detail = fmt::format("{} must not include {} in securityContext.capabilities.add",
                         containersPhrase(bad), joinQuote(sortedSet(caps)));
  return false;
}

bool capabilitiesRestricted(const PodFacts& p, int minor, Violation& v) {
  if (minor >= 25 && p.windows) return true;
  std::vector<std::string_view> missing_drop, adding, caps;
  for (const ContainerFacts& c : *p.containers) {
    if (!c.sc || !present(c.capabilities)) {
      missing_drop.push_back(c.name);
      continue;
    }
    bool dropped_all = false;
    const Node* drop = capsList(c, "drop");
    for (const Node* d : seqOf(drop)) dropped_all |= d->text == "ALL";
    if (!dropped_all) missing_drop.push_back(c.name);
    bool forbidden = false;
    const Node* add = capsList(c, "add");
    for (const Node* a : seqOf(add)) {
      if (a->text != "NET_BIND_SERVICE") {
        forbidden = true;
        caps.push_back(a->text);
      }
    }
    if (forbidden) adding.push_back(c.name);
  }
  std::vector<std::string> details;
  if (!missing_drop.empty())
    details.push_back(fmt::format(R"({} must set securityContext.capabilities.drop=["ALL"])",
                                  containersPhrase(missing_drop)));
  if (!adding.empty())
    details.push_back(fmt::format("{} must not include {} in securityContext.capabilities.add",
                                  containersPhrase(adding), joinQuote(sortedSet(caps))));
  if (details.empty()) return true;
  v.reason = "unrestricted capabilities";
  v.detail = join(details, "; ");
  return false;
}

bool hostNamespaces(const PodFacts& p, int, Violation& v) {
  std::vector<std::string> set;
  if (p.host_network) set.emplace_back("hostNetwork=true");
  if (p.host_pid) set.emplace_back("hostPID=true");
  if (p.host_ipc) set.emplace_back("hostIPC=true");
  if (set.empty()) return true;
  v.reason = "host namespaces";
  v.detail = join(set, ", ");
  return false;
}

bool hostPathVolumes(const PodFacts& p, int, Violation& v) {
  std::vector<std::string_view> bad;
  for (const Node* vol : seqOf(p.volumes))
    if (present(get(vol, "hostPath"))) bad.push_back(getStr(vol, "name"));
  if (bad.empty()) return true;
  v.reason = "hostPath volumes";
  v.detail = fmt::format("{} {}", pluralize("volume", "volumes", bad.size()), joinQuote(bad));
  return false;
}

bool hostPorts(const PodFacts& p, int, Violation& v) {
  std::vector<std::string_view> bad;
  std::vector<std::string> ports;
  for (const ContainerFacts& c : *p.containers) {
    bool valid = true;
    const Node* list = c.ports;
    // A Pod on the host network gets hostPort = containerPort for every port of its containers
    // and init containers that sets none (SetDefaults_Pod; templates no longer since v1.28).
    bool defaulted = p.pod && p.host_network && !c.ephemeral;
    for (const Node* port : seqOf(list)) {
      const Node* host = get(port, "hostPort");
      int64_t hp = host ? host->asInt().value_or(0) : 0;
      const Node* container = get(port, "containerPort");
      if (defaulted && hp == 0 && container) hp = container->asInt().value_or(0);
      if (hp != 0) {
        valid = false;
        ports.push_back(std::to_string(hp));
      }
    }
    if (!valid) bad.push_back(c.name);
  }
  if (bad.empty()) return true;
  std::sort(ports.begin(), ports.end());  // Go sorts the set of port strings as strings
  ports.erase(std::unique(ports.begin(), ports.end()), ports.end());
  v.reason = "hostPort";
  v.detail = fmt::format("{} {} {} {}", containersPhrase(bad), pluralize("uses", "use", bad.size()),
                         pluralize("hostPort", "hostPorts", ports.size()), join(ports, ", "));
  return false;
}

void forbiddenHosts(const Node* handler, std::vector<std::string_view>& out) {
  for (std::string_view kind : {"httpGet", "tcpSocket"}) {
    std::string_view host = getStr(get(handler, kind), "host");
    if (!host.empty()) out.push_back(host);
  }
}

bool hostProbesAndHostLifecycle(const PodFacts& p, int, Violation& v) {
  std::vector<std::string_view> bad, hosts;
  for (const ContainerFacts& c : *p.containers) {
    size_t before = hosts.size();
    for (const Node* probe : {c.liveness, c.readiness, c.startup}) forbiddenHosts(probe, hosts);
    if (c.lifecycle) {
      forbiddenHosts(get(c.lifecycle, "postStart"), hosts);
      forbiddenHosts(get(c.lifecycle, "preStop"), hosts);
    }
    if (hosts.size() > before) bad.push_back(c.name);
  }
  if (bad.empty()) return true;
  bad = sortedSet(bad);
  hosts = sortedSet(hosts);
  v.reason = "probe or lifecycle host";
  v.detail =
      fmt::format("{} {} {} {}", containersPhrase(bad), pluralize("uses", "use", bad.size()),
                  pluralize("probe or lifecycle host", "probe or lifecycle hosts", hosts.size()),
                  joinQuote(hosts));
  return false;
}

bool privileged(const PodFacts& p, int, Violation& v) {
  std::vector<std::string_view> bad;
  for (const ContainerFacts& c : *p.containers)
    if (isTrue(c.privileged)) bad.push_back(c.name);
  if (bad.empty()) return true;
  v.reason = "privileged";
  v.detail = fmt::format("{} must not set securityContext.privileged=true", containersPhrase(bad));
  return false;
}

bool procMountStrict(const PodFacts& p, Violation& v) {
  std::vector<std::string_view> bad, types;
  for (const ContainerFacts& c : *p.containers) {
    if (!c.sc || !present(c.proc_mount)) continue;
    if (c.proc_mount->text != "Default") {
      bad.push_back(c.name);
      types.push_back(c.proc_mount->text);
    }
  }
  if (bad.empty()) return true;
  v.reason = "procMount";
  v.detail = fmt::format("{} must not set securityContext.procMount to {}", containersPhrase(bad),
                         joinQuote(sortedSet(types)));
  return false;
}

bool procMount(const PodFacts& p, int minor, Violation& v) {
  if (minor >= 35 && p.host_users_false) return true;  // user-namespace relaxation, 1.35+
  return procMountStrict(p, v);
}

bool procMountRestricted(const PodFacts& p, int, Violation& v) {
  return procMountStrict(p, v);
}

bool seLinuxOptions(const PodFacts& p, int minor, Violation& v) {
  std::vector<std::string_view> types;
  bool set_user = false, set_role = false;
  auto valid = [&](const Node* o) {
    bool ok = true;
    std::string_view t = getStr(o, "type");
    if (!allowedSeLinuxType(t, minor)) {
      ok = false;
      types.push_back(t);
    }
    if (!getStr(o, "user").empty()) {
      ok = false;
      set_user = true;
    }
    if (!getStr(o, "role").empty()) {
      ok = false;
      set_role = true;
    }
    return ok;
  };
  bool pod_bad = present(p.selinux) && !valid(p.selinux);
  std::vector<std::string_view> bad;
  for (const ContainerFacts& c : *p.containers)
    if (present(c.selinux) && !valid(c.selinux)) bad.push_back(c.name);
  if (!pod_bad && bad.empty()) return true;
  std::vector<std::string> data;
  if (!types.empty()) {
    auto set = sortedSet(types);
    data.push_back(fmt::format("{} {}", pluralize("type", "types", set.size()), joinQuote(set)));
  }
  if (set_user) data.emplace_back("user may not be set");
  if (set_role) data.emplace_back("role may not be set");
  v.reason = "seLinuxOptions";
  v.detail = fmt::format("{} set forbidden securityContext.seLinuxOptions: {}",
                         setters(pod_bad, bad), join(data, "; "));
  return false;
}

bool validSeccompType(std::string_view t) {
  return t == "RuntimeDefault" || t == "Localhost";
}

bool validSeccompAnnotation(std::string_view v) {
  return v == "runtime/default" || v == "docker/default" || v.starts_with("localhost/");
}

// Before 1.19 PSA judged the alpha annotations; from 1.19 the fields.
bool seccompProfileBaseline(const PodFacts& p, int minor, Violation& v) {
  if (minor < 19) {
    std::vector<std::string> forbidden;
    auto consider = [&](std::string_view key) {
      const Node* val = p.annotations ? p.annotations->get(key) : nullptr;
      if (val && !validSeccompAnnotation(val->text))
        forbidden.push_back(fmt::format("{}={}", key, goQuote(val->text)));
    };
    consider("seccomp.security.alpha.kubernetes.io/pod");
    for (const ContainerFacts& c : *p.containers)
      consider(fmt::format("container.seccomp.security.alpha.kubernetes.io/{}", c.name));
    if (forbidden.empty()) return true;
    std::sort(forbidden.begin(), forbidden.end());
    forbidden.erase(std::unique(forbidden.begin(), forbidden.end()), forbidden.end());
    v.reason = "seccompProfile";
    v.detail =
        fmt::format("forbidden {} {}", pluralize("annotation", "annotations", forbidden.size()),
                    join(forbidden, ", "));
    return false;
  }
  std::vector<std::string_view> values, bad;
  bool pod_bad = present(p.seccomp) && !validSeccompType(typeOf(p.seccomp));
  if (pod_bad) values.push_back(typeOf(p.seccomp));
  for (const ContainerFacts& c : *p.containers) {
    if (c.sc && present(c.seccomp) && !validSeccompType(typeOf(c.seccomp))) {
      bad.push_back(c.name);
      values.push_back(typeOf(c.seccomp));
    }
  }
  if (!pod_bad && bad.empty()) return true;
  v.reason = "seccompProfile";
  v.detail = fmt::format("{} must not set securityContext.seccompProfile.type to {}",
                         setters(pod_bad, bad), joinQuote(sortedSet(values)));
  return false;
}

bool seccompProfileRestricted(const PodFacts& p, int minor, Violation& v) {
  if (minor >= 25 && p.windows) return true;
  std::vector<std::string_view> values, explicit_bad, implicit_bad;
  bool pod_bad = false, pod_set = false;
  if (present(p.seccomp)) {
    if (validSeccompType(typeOf(p.seccomp))) {
      pod_set = true;
    } else {
      pod_bad = true;
      values.push_back(typeOf(p.seccomp));
    }
  }
  for (const ContainerFacts& c : *p.containers) {
    if (c.sc && present(c.seccomp)) {
      if (!validSeccompType(typeOf(c.seccomp))) {
        explicit_bad.push_back(c.name);
        values.push_back(typeOf(c.seccomp));
      }
    } else if (!pod_set) {
      implicit_bad.push_back(c.name);
    }
  }
  v.reason = "seccompProfile";
  if (pod_bad || !explicit_bad.empty()) {
    v.detail = fmt::format("{} must not set securityContext.seccompProfile.type to {}",
                           setters(pod_bad, explicit_bad), joinQuote(sortedSet(values)));
    return false;
  }
  if (!implicit_bad.empty()) {
    v.detail = fmt::format(
        R"(pod or {} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")",
        containersPhrase(implicit_bad));
    return false;
  }
  return true;
}

struct Sysctl {
  std::string_view name;
  int since;
};
constexpr std::array<Sysctl, 14> kSafeSysctls = {{
    {"kernel.shm_rmid_forced", 0},
    {"net.ipv4.ip_local_port_range", 0},
    {"net.ipv4.tcp_syncookies", 0},
    {"net.ipv4.ping_group_range", 0},
    {"net.ipv4.ip_unprivileged_port_start", 0},
    {"net.ipv4.ip_local_reserved_ports", 27},
    {"net.ipv4.tcp_keepalive_time", 29},
    {"net.ipv4.tcp_fin_timeout", 29},
    {"net.ipv4.tcp_keepalive_intvl", 29},
    {"net.ipv4.tcp_keepalive_probes", 29},
    {"net.ipv4.tcp_rmem", 32},
    {"net.ipv4.tcp_wmem", 32},
    {"net.ipv4.tcp_slow_start_after_idle", 37},
    {"net.ipv4.tcp_notsent_lowat", 37},
}};

}  // namespace

bool safeSysctl(std::string_view name, int minor) {
  for (const Sysctl& k : kSafeSysctls)
    if (k.name == name && minor >= k.since) return true;
  return false;
}

bool allowedSeLinuxType(std::string_view t, int minor) {
  return t.empty() || t == "container_t" || t == "container_init_t" || t == "container_kvm_t" ||
         (minor >= 31 && t == "container_engine_t");
}

namespace {

bool sysctls(const PodFacts& p, int minor, Violation& v) {
  std::vector<std::string> bad;
  for (const Node* s : seqOf(p.sysctls)) {
    std::string_view name = getStr(s, "name");
    if (!safeSysctl(name, minor)) bad.emplace_back(name);
  }
  if (bad.empty()) return true;
  v.reason = "forbidden sysctls";
  v.detail = join(bad, ", ");  // in spec order, as PSA lists them
  return false;
}

bool windowsHostProcess(const PodFacts& p, int, Violation& v) {
  std::vector<std::string_view> bad;
  for (const ContainerFacts& c : *p.containers)
    if (isTrue(c.host_process)) bad.push_back(c.name);
  bool pod_bad = isTrue(p.host_process);
  if (!pod_bad && bad.empty()) return true;
  v.reason = "hostProcess";
  v.detail = fmt::format("{} must not set securityContext.windowsOptions.hostProcess=true",
                         setters(pod_bad, bad));
  return false;
}

// The allowed inline volume sources of the restricted level, and the restricted ones in the
// order PSA names them (the first present decides a volume's type).
constexpr std::array<std::string_view, 9> kAllowedVolumes = {
    "configMap", "csi",   "downwardAPI", "emptyDir", "ephemeral", "image", "persistentVolumeClaim",
    "projected", "secret"};
constexpr std::array<std::string_view, 21> kRestrictedVolumes = {"hostPath",
                                                                 "gcePersistentDisk",
                                                                 "awsElasticBlockStore",
                                                                 "gitRepo",
                                                                 "nfs",
                                                                 "iscsi",
                                                                 "glusterfs",
                                                                 "rbd",
                                                                 "flexVolume",
                                                                 "cinder",
                                                                 "cephfs",
                                                                 "flocker",
                                                                 "fc",
                                                                 "azureFile",
                                                                 "vsphereVolume",
                                                                 "quobyte",
                                                                 "azureDisk",
                                                                 "photonPersistentDisk",
                                                                 "portworxVolume",
                                                                 "scaleIO",
                                                                 "storageos"};

bool restrictedVolumes(const PodFacts& p, int, Violation& v) {
  std::vector<std::string_view> bad, types;
  for (const Node* vol : seqOf(p.volumes)) {
    bool allowed = false;
    for (std::string_view k : kAllowedVolumes) allowed |= present(get(vol, k));
    // A volume without a source is defaulted to emptyDir before PSA sees it.
    if (allowed || !volumeSource(vol).entry) continue;
    bad.push_back(getStr(vol, "name"));
    std::string_view type = "unknown";
    for (std::string_view k : kRestrictedVolumes) {
      if (present(get(vol, k))) {
        type = k;
        break;
      }
    }
    types.push_back(type);
  }
  if (bad.empty()) return true;
  types = sortedSet(types);
  v.reason = "restricted volume types";
  v.detail =
      fmt::format("{} {} {} {} {}", pluralize("volume", "volumes", bad.size()), joinQuote(bad),
                  pluralize("uses", "use", bad.size()),
                  pluralize("restricted volume type", "restricted volume types", types.size()),
                  joinQuote(types));
  return false;
}

bool runAsNonRoot(const PodFacts& p, int minor, Violation& v) {
  if (minor >= 35 && p.host_users_false) return true;
  bool pod_bad = false, pod_true = false;
  if (present(p.run_as_non_root)) {
    if (p.run_as_non_root->isTrue())
      pod_true = true;
    else
      pod_bad = true;
  }
  std::vector<std::string_view> explicit_bad, implicit_bad;
  for (const ContainerFacts& c : *p.containers) {
    if (c.sc && present(c.run_as_non_root)) {
      if (!c.run_as_non_root->isTrue()) explicit_bad.push_back(c.name);
    } else if (!pod_true) {
      implicit_bad.push_back(c.name);
    }
  }
  v.reason = "runAsNonRoot != true";
  if (pod_bad || !explicit_bad.empty()) {
    v.detail = fmt::format("{} must not set securityContext.runAsNonRoot=false",
                           setters(pod_bad, explicit_bad));
    return false;
  }
  if (!implicit_bad.empty()) {
    v.detail = fmt::format("pod or {} must set securityContext.runAsNonRoot=true",
                           containersPhrase(implicit_bad));
    return false;
  }
  return true;
}

bool isZero(const Node* n) {
  auto i = present(n) ? n->asInt() : std::nullopt;
  return i && *i == 0;
}

bool runAsUser(const PodFacts& p, int minor, Violation& v) {
  if (minor >= 35 && p.host_users_false) return true;
  bool pod_bad = isZero(p.run_as_user);
  std::vector<std::string_view> bad;
  for (const ContainerFacts& c : *p.containers)
    if (c.sc && isZero(c.run_as_user)) bad.push_back(c.name);
  if (!pod_bad && bad.empty()) return true;
  v.reason = "runAsUser=0";
  v.detail = fmt::format("{} must not set runAsUser=0", setters(pod_bad, bad));
  return false;
}

// --- the registry ------------------------------------------------------------------------

struct CheckDef {
  std::string_view id;
  Level level;
  int since;                   // MinimumVersion minor of the first revision
  std::string_view overrides;  // the baseline check a restricted one replaces, if any
  CheckFn fn;
};

// PSA's order: baseline IDs sorted, then restricted IDs sorted (byte order).
constexpr std::array<CheckDef, 19> kChecks = {{
    {"appArmorProfile", Level::kBaseline, 0, "", appArmorProfile},
    {"capabilities_baseline", Level::kBaseline, 0, "", capabilitiesBaseline},
    {"hostNamespaces", Level::kBaseline, 0, "", hostNamespaces},
    {"hostPathVolumes", Level::kBaseline, 0, "", hostPathVolumes},
    {"hostPorts", Level::kBaseline, 0, "", hostPorts},
    {"hostProbesAndHostLifecycle", Level::kBaseline, 34, "", hostProbesAndHostLifecycle},
    {"privileged", Level::kBaseline, 0, "", privileged},
    {"procMount", Level::kBaseline, 0, "", procMount},
    {"seLinuxOptions", Level::kBaseline, 0, "", seLinuxOptions},
    {"seccompProfile_baseline", Level::kBaseline, 0, "", seccompProfileBaseline},
    {"sysctls", Level::kBaseline, 0, "", sysctls},
    {"windowsHostProcess", Level::kBaseline, 0, "", windowsHostProcess},
    {"allowPrivilegeEscalation", Level::kRestricted, 8, "", allowPrivilegeEscalation},
    {"capabilities_restricted", Level::kRestricted, 22, "capabilities_baseline",
     capabilitiesRestricted},
    {"procMount_restricted", Level::kRestricted, 35, "procMount", procMountRestricted},
    {"restrictedVolumes", Level::kRestricted, 0, "hostPathVolumes", restrictedVolumes},
    {"runAsNonRoot", Level::kRestricted, 0, "", runAsNonRoot},
    {"runAsUser", Level::kRestricted, 23, "", runAsUser},
    {"seccompProfile_restricted", Level::kRestricted, 19, "seccompProfile_baseline",
     seccompProfileRestricted},
}};

bool active(const CheckDef& c, Level level, int minor) {
  if (c.since > minor) return false;
  if (c.level == Level::kRestricted) return level == Level::kRestricted;
  if (level != Level::kRestricted) return true;
  for (const CheckDef& r : kChecks)  // a baseline check overridden by an active restricted one
    if (r.level == Level::kRestricted && r.overrides == c.id && r.since <= minor) return false;
  return true;
}

// The active checks of every (level, version), computed once: evaluate() must not re-derive
// overrides on every call.
struct CheckTable {
  std::array<std::array<std::vector<const CheckDef*>, kLatestMinor + 1>, 2> lists;
  CheckTable() {
    for (int l = 0; l < 2; ++l) {
      Level level = l == 0 ? Level::kBaseline : Level::kRestricted;
      for (int minor = 0; minor <= kLatestMinor; ++minor)
        for (const CheckDef& c : kChecks)
          if (active(c, level, minor)) lists[l][minor].push_back(&c);
    }
  }
  const std::vector<const CheckDef*>& of(Level level, int minor) const {
    return lists[level == Level::kRestricted ? 1 : 0][minor];
  }
};

const CheckTable& table() {
  static const CheckTable t;
  return t;
}

}  // namespace

std::optional<Level> parseLevel(std::string_view s) {
  if (s == "privileged") return Level::kPrivileged;
  if (s == "baseline") return Level::kBaseline;
  if (s == "restricted") return Level::kRestricted;
  return std::nullopt;
}

std::string_view levelName(Level l) {
  switch (l) {
    case Level::kPrivileged:
      return "privileged";
    case Level::kBaseline:
      return "baseline";
    case Level::kRestricted:
      return "restricted";
  }
  return "privileged";
}

std::optional<Policy> parseVersion(std::string_view s, Level level) {
  Policy p;
  p.level = level;
  if (s == "latest") return p;
  if (!s.starts_with("v1.") || s.size() < 4 || s.size() > 8) return std::nullopt;
  std::string_view digits = s.substr(3);
  if (digits.size() > 1 && digits[0] == '0') return std::nullopt;
  int minor = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), minor);
  if (ec != std::errc() || ptr != digits.data() + digits.size() || minor < 0) return std::nullopt;
  p.latest = false;
  p.minor = minor;
  return p;
}

std::string policyLabel(const Policy& p) {
  return p.latest ? fmt::format("{}:latest", levelName(p.level))
                  : fmt::format("{}:v1.{}", levelName(p.level), p.minor);
}

std::string effectiveVersion(const Policy& p) {
  return fmt::format("v1.{}", p.effectiveMinor());
}

void evaluate(const Policy& policy, Subject subject, const Node* meta, const Node* spec,
              Scratch& scratch, std::vector<Violation>& out) {
  if (policy.level == Level::kPrivileged || !spec || !spec->isMap()) return;
  int minor = policy.effectiveMinor();
  PodFacts facts = gather(subject, meta, spec, *scratch.containers);
  Violation v;
  for (const CheckDef* c : table().of(policy.level, minor)) {
    if (!c->fn(facts, minor, v)) {
      v.check = c->id;
      out.push_back(std::move(v));
      v = Violation{};
    }
  }
}

std::string joinViolations(const std::vector<Violation>& violations) {
  std::string out;
  for (const Violation& v : violations) {
    if (!out.empty()) out += ", ";
    out += v.reason;
    if (!v.detail.empty()) {
      out += " (";
      out += v.detail;
      out += ")";
    }
  }
  return out;
}

std::vector<std::string_view> checkIds(const Policy& policy) {
  std::vector<std::string_view> ids;
  if (policy.level == Level::kPrivileged) return ids;
  for (const CheckDef* c : table().of(policy.level, policy.effectiveMinor())) ids.push_back(c->id);
  return ids;
}

}  // namespace kh::pss
