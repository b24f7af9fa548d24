// Identity and privilege details: pod-low-uid and pod-low-gid (opt-in), pod-root-group,
// pod-no-security-context, pod-sudo-command and pod-capabilities-added.
#include <fmt/format.h>

#include <algorithm>

#include "checks/pod/pod_checks.h"
#include "checks/util/capabilities.h"

namespace kh {
namespace {

constexpr CheckMeta kLowUid{
    .id = "pod-low-uid",
    .title = "Container runs with a UID that may exist on the node",
    .severity = Severity::kLow,
    .group = "security",
    .enabled_by_default = false,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Run as a UID above 10000 (securityContext.runAsUser) so that a process that "
        "escapes the container does not share a UID with a user of the node.",
    .refs = {.nsa = "Non-root containers",
             .mitre = "T1611",
             .trivy = "KSV-0020",
             .checkov = "CKV_K8S_40"},
};

constexpr CheckMeta kLowGid{
    .id = "pod-low-gid",
    .title = "Container runs with a GID that may exist on the node",
    .severity = Severity::kLow,
    .group = "security",
    .enabled_by_default = false,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation = "Run with a GID above 10000 (securityContext.runAsGroup).",
    .refs = {.nsa = "Non-root containers", .mitre = "T1611", .trivy = "KSV-0021"},
};

constexpr CheckMeta kRootGroup{
    .id = "pod-root-group",
    .title = "Pod runs with the root group",
    .severity = Severity::kLow,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Use a non-zero runAsGroup and fsGroup, and remove 0 from "
        "supplementalGroups; files owned by group root are then out of reach.",
    .refs = {.nsa = "Non-root containers",
             .mitre = "T1611",
             .kube_linter = "run-as-non-root",
             .trivy = "KSV-0116,KSV-0021"},
};

constexpr CheckMeta kNoContext{
    .id = "pod-no-security-context",
    .title = "Container has no security context at all",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Give the pod or the container a securityContext (runAsNonRoot, "
        "allowPrivilegeEscalation: false, capabilities.drop [ALL], seccompProfile).",
    .refs = {.cis = "5.7.3",
             .nsa = "Hardening container environments",
             .trivy = "KSV-0118",
             .kubescape = "C-0211",
             .checkov = "CKV_K8S_29,CKV_K8S_30"},
};

constexpr CheckMeta kSudo{
    .id = "pod-sudo-command",
    .title = "Container command uses sudo",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Do not rely on sudo in a container: run the program as the user it needs, "
        "and grant the single capability it needs if any.",
    .refs = {.mitre = "T1548", .kubescape = "C-0062"},
};

constexpr CheckMeta kAdded{
    .id = "pod-capabilities-added",
    .title = "Container adds capabilities beyond what it should need",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Remove the capability from securityContext.capabilities.add; the restricted "
        "level allows only NET_BIND_SERVICE.",
    .refs = {.cis = "5.2.9",
             .nsa = "Linux capabilities",
             .pss = "baseline:capabilities_baseline,restricted:capabilities_restricted",
             .mitre = "T1611",
             .trivy = "KSV-0022,KSV-0106",
             .kubescape = "C-0200,C-0219",
             .checkov = "CKV_K8S_25"},
};

// Per container: the effective integer field (container over pod), reported when `bad` holds.
template <typename Pred>
void effectiveInt(const FnCheck& self, const Object& o, std::string_view field, Pred bad,
                  std::string_view what, FindingSink& sink) {
  if (o.pod->windows) return;
  for (const ContainerRef& c : o.pod->containers) {
    auto hit = effectiveField(*o.pod, c, field);
    if (!hit) continue;
    auto v = hit->value->asInt();
    if (!v || !bad(*v)) continue;
    sink.add(self.finding(o, hit->pos, hit->path,
                          fmt::format("container \"{}\" runs with {} {}{}", c.name, what, *v,
                                      hit->from_pod ? " (set at pod level)" : ""),
                          c.name));
  }
}

void lowUid(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  // UID 0 is pod-run-as-root-user's finding.
  effectiveInt(
      self, o, "runAsUser", [](int64_t v) { return v > 0 && v <= 10000; }, "UID", sink);
}

void lowGid(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  // GID 0 is pod-root-group's finding.
  effectiveInt(
      self, o, "runAsGroup", [](int64_t v) { return v > 0 && v <= 10000; }, "GID", sink);
}

void rootGroup(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const PodSpecView& pod = *o.pod;
  if (pod.windows) return;
  const Node* psc = pod.podSecurityContext();
  const std::string psc_path = pod.path + ".securityContext";
  auto zero = [](const Node* n) { return n && n->asInt() && *n->asInt() == 0; };
  // Pod-level settings apply to every container: one finding each, at the field.
  for (std::string_view f : {"runAsGroup", "fsGroup"}) {
    const MapEntry* e = getEntry(psc, f);
    if (e && zero(e->value))
      sink.add(self.finding(o, e->key_pos, fmt::format("{}.{}", psc_path, f),
                            fmt::format("pod sets {}: 0 (the root group)", f)));
  }
  if (const MapEntry* e = getEntry(psc, "supplementalGroups")) {
    uint32_t i = 0;
    for (const Node* g : e->value->seqItems()) {
      if (zero(g))
        sink.add(self.finding(o, g->pos, fmt::format("{}.supplementalGroups[{}]", psc_path, i),
                              "pod adds the root group (0) to supplementalGroups"));
      ++i;
    }
  }
  for (const ContainerRef& c : pod.containers) {
    const MapEntry* e = getEntry(get(c.node, "securityContext"), "runAsGroup");
    if (e && zero(e->value))
      sink.add(self.finding(
          o, e->key_pos, c.path + ".securityContext.runAsGroup",
          fmt::format("container \"{}\" sets runAsGroup: 0 (the root group)", c.name), c.name));
  }
}

bool emptyContext(const Node* sc) {
  return !sc || sc->isNull() || (sc->isMap() && sc->size == 0);
}

void noContext(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const PodSpecView& pod = *o.pod;
  if (!emptyContext(pod.podSecurityContext())) return;
  for (const ContainerRef& c : pod.containers) {
    if (c.list == ContainerList::kEphemeral) continue;  // debugging containers come and go
    if (!emptyContext(get(c.node, "securityContext"))) continue;
    sink.add(self.finding(o, c.node->pos, c.path + ".securityContext",
                          fmt::format("container \"{}\" has no securityContext, and neither has "
                                      "the pod: it runs with every runtime default",
                                      c.name),
                          c.name));
  }
}

// Is "sudo" a word of `s` (a command, or a shell script passed to sh -c)?
bool mentionsSudo(std::string_view s) {
  auto word = [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-' || ch == '.';
  };
  for (size_t at = s.find("sudo"); at != std::string_view::npos; at = s.find("sudo", at + 1)) {
    bool start = at == 0 || !word(s[at - 1]);
    bool end = at + 4 == s.size() || !word(s[at + 4]);
    if (start && end) return true;
  }
  return false;
}

void sudo(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  for (const ContainerRef& c : o.pod->containers) {
    for (std::string_view field : {"command", "args"}) {
      const Node* list = get(c.node, field);
      uint32_t i = 0;
      for (const Node* arg : seqOf(list)) {
        if (arg->isString() && mentionsSudo(arg->text)) {
          sink.add(self.finding(o, arg->pos, fmt::format("{}.{}[{}]", c.path, field, i),
                                fmt::format("container \"{}\" runs sudo in its {}", c.name, field),
                                c.name));
          break;  // one finding per list
        }
        ++i;
      }
    }
  }
}

constexpr std::string_view kRuleBaseline = "baseline";
constexpr std::string_view kRuleRestricted = "restricted";

void added(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  if (o.pod->windows) return;
  auto dangerous = defaultDangerousCapabilities();
  for (const ContainerRef& c : o.pod->containers) {
    const Node* add = get(get(get(c.node, "securityContext"), "capabilities"), "add");
    uint32_t i = 0;
    for (const Node* cap : seqOf(add)) {
      std::string name = canonicalCapability(cap->text);
      std::string path = fmt::format("{}.securityContext.capabilities.add[{}]", c.path, i++);
      // The dangerous ones are pod-capabilities-dangerous's (high) findings.
      if (std::find(dangerous.begin(), dangerous.end(), name) != dangerous.end()) continue;
      if (name == "NET_BIND_SERVICE") continue;
      bool baseline = baselineCapability(name);
      Finding f = self.finding(
          o, cap->pos, path,
          baseline ? fmt::format("container \"{}\" adds {}; the restricted level allows only "
                                 "NET_BIND_SERVICE",
                                 c.name, name)
                   : fmt::format("container \"{}\" adds {}, which is outside the baseline set",
                                 c.name, name),
          c.name);
      f.rule = baseline ? kRuleRestricted : kRuleBaseline;
      f.severity = baseline ? Severity::kLow : Severity::kMedium;
      sink.add(std::move(f));
    }
  }
}

}  // namespace

void addPodIdentityChecks(std::vector<std::unique_ptr<Check>>& out) {
  out.push_back(std::make_unique<FnCheck>(kLowUid, lowUid));
  out.push_back(std::make_unique<FnCheck>(kLowGid, lowGid));
  out.push_back(std::make_unique<FnCheck>(kRootGroup, rootGroup));
  out.push_back(std::make_unique<FnCheck>(kNoContext, noContext));
  out.push_back(std::make_unique<FnCheck>(kSudo, sudo));
  out.push_back(std::make_unique<FnCheck>(kAdded, added));
}

}  // namespace kh
