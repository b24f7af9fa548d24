// Environment and identity references: pod-duplicate-env, pod-deprecated-sa-field,
// pod-default-service-account, and the cross-object hints pod-missing-service-account and
// pod-missing-reference (Secrets and ConfigMaps absent from the input).
#include <fmt/format.h>

#include <set>

#include "checks/pod/pod_checks.h"
#include "checks/scan_index.h"

namespace kh {
namespace {

constexpr CheckMeta kDuplicateEnv{
    .id = "pod-duplicate-env",
    .title = "Container sets an environment variable twice",
    .severity = Severity::kLow,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Keep one entry per name: the last one silently wins, so a reviewed value "
        "can be overridden further down the list.",
    .refs = {.kube_linter = "duplicate-env-var", .kubescape = "C-0295"},
};

constexpr CheckMeta kDeprecatedSa{
    .id = "pod-deprecated-sa-field",
    .title = "Pod uses the deprecated serviceAccount field",
    .severity = Severity::kLow,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Use spec.serviceAccountName; tools that read only the current field see a "
        "different identity than the one the pod runs with.",
    .refs = {.kube_linter = "deprecated-service-account-field", .kubescape = "C-0294"},
};

constexpr CheckMeta kDefaultSa{
    .id = "pod-default-service-account",
    .title = "Pod runs as the default ServiceAccount, which has role bindings",
    .severity = Severity::kLow,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Give the workload its own ServiceAccount and bind roles to that one: every "
        "pod of the namespace that names no account runs as default and gets its "
        "permissions.",
    .refs = {.cis = "5.1.5",
             .nsa = "Protecting Pod service account tokens",
             .mitre = "T1078",
             .kube_linter = "default-service-account",
             .kubescape = "C-0189",
             .checkov = "CKV_K8S_41,CKV_K8S_42"},
    .whole_input = true,
};

constexpr CheckMeta kMissingSa{
    .id = "pod-missing-service-account",
    .title = "Pod names a ServiceAccount that is not in the input",
    .severity = Severity::kLow,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Add the ServiceAccount to the manifests, or fix the name; if it is managed "
        "elsewhere, suppress this hint for the workload.",
    .refs = {.kube_linter = "non-existent-service-account", .kubescape = "C-0307"},
    .whole_input = true,
};

constexpr CheckMeta kMissingRef{
    .id = "pod-missing-reference",
    .title = "Pod references a Secret or ConfigMap that is not in the input",
    .severity = Severity::kInfo,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Add the object to the manifests, mark the reference optional: true, or fix "
        "the name; a missing required reference keeps the pod from starting.",
    .refs = {.kube_linter = "env-value-from"},
    .whole_input = true,
};

void duplicateEnv(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  for (const ContainerRef& c : o.pod->containers) {
    const Node* env = get(c.node, "env");
    std::set<std::string_view> seen;
    uint32_t i = 0;
    for (const Node* e : seqOf(env)) {
      uint32_t idx = i++;
      const MapEntry* name = e->entry("name");
      if (!name || name->value->str().empty()) continue;
      if (seen.insert(name->value->str()).second) continue;
      sink.add(self.finding(o, name->key_pos, fmt::format("{}.env[{}].name", c.path, idx),
                            fmt::format("container \"{}\" sets {} again; this entry overrides "
                                        "the earlier one",
                                        c.name, name->value->str()),
                            c.name));
    }
  }
}

void deprecatedSa(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const MapEntry* e = o.pod->spec->entry("serviceAccount");
  if (!e || e->value->str().empty()) return;
  std::string_view current = getStr(o.pod->spec, "serviceAccountName");
  sink.add(self.finding(
      o, e->key_pos, o.pod->path + ".serviceAccount",
      current.empty() || current == e->value->str()
          ? fmt::format("pod sets the deprecated serviceAccount: {}", e->value->str())
          : fmt::format("pod sets serviceAccount: {} and serviceAccountName: {}; the API server "
                        "uses serviceAccountName",
                        e->value->str(), current)));
}

void defaultSa(const FnCheck& self, const Object& o, const CheckContext& ctx, FindingSink& sink) {
  if (!ctx.index || o.pod->serviceAccount() != "default") return;
  if (!ctx.index->isBoundServiceAccount(o.namespaceOrDefault(), "default")) return;
  const MapEntry* e = o.pod->spec->entry("serviceAccountName");
  sink.add(self.finding(o, e ? e->key_pos : o.pod->spec->pos, o.pod->path + ".serviceAccountName",
                        fmt::format("pod runs as ServiceAccount {}/default, which a binding in "
                                    "the input grants a role",
                                    o.namespaceOrDefault())));
}

void missingSa(const FnCheck& self, const Object& o, const CheckContext& ctx, FindingSink& sink) {
  std::string_view sa = o.pod->serviceAccount();
  if (!ctx.index || sa == "default") return;  // every namespace has a default ServiceAccount
  if (ctx.index->find("ServiceAccount", o.namespaceOrDefault(), sa)) return;
  // Manifests without a namespace land wherever they are applied: match by name alone.
  if (o.ref.namespace_.empty())
    for (const Object* s : ctx.index->ofKind("ServiceAccount"))
      if (s->ref.name == sa) return;
  const MapEntry* e = o.pod->spec->entry("serviceAccountName");
  if (!e) e = o.pod->spec->entry("serviceAccount");
  sink.add(self.finding(o, e->key_pos, fmt::format("{}.{}", o.pod->path, e->key),
                        fmt::format("ServiceAccount {} is not in the input", sa)));
}

struct Reference {
  std::string_view kind;  // Secret or ConfigMap
  std::string_view name;
  SourcePos pos;
  std::string path;
};

// Required references of the pod to Secrets and ConfigMaps.
std::vector<Reference> references(const PodSpecView& pod) {
  std::vector<Reference> out;
  auto add = [&](std::string_view kind, const MapEntry* ref, std::string_view name_key,
                 std::string path) {
    if (!ref || getTrue(ref->value, "optional")) return;
    std::string_view name = getStr(ref->value, name_key);
    if (!name.empty()) out.push_back({kind, name, ref->key_pos, std::move(path)});
  };
  for (const ContainerRef& c : pod.containers) {
    const Node* env = get(c.node, "env");
    uint32_t i = 0;
    for (const Node* e : seqOf(env)) {
      const Node* from = get(e, "valueFrom");
      std::string base = fmt::format("{}.env[{}].valueFrom", c.path, i++);
      add("Secret", getEntry(from, "secretKeyRef"), "name", base + ".secretKeyRef");
      add("ConfigMap", getEntry(from, "configMapKeyRef"), "name", base + ".configMapKeyRef");
    }
    const Node* env_from = get(c.node, "envFrom");
    i = 0;
    for (const Node* e : seqOf(env_from)) {
      std::string base = fmt::format("{}.envFrom[{}]", c.path, i++);
      add("Secret", e->entry("secretRef"), "name", base + ".secretRef");
      add("ConfigMap", e->entry("configMapRef"), "name", base + ".configMapRef");
    }
  }
  const Node* volumes = get(pod.spec, "volumes");
  uint32_t i = 0;
  for (const Node* v : seqOf(volumes)) {
    std::string base = fmt::format("{}.volumes[{}]", pod.path, i++);
    add("Secret", v->entry("secret"), "secretName", base + ".secret");
    add("ConfigMap", v->entry("configMap"), "name", base + ".configMap");
    const Node* sources = get(get(v, "projected"), "sources");
    uint32_t j = 0;
    for (const Node* s : seqOf(sources)) {
      std::string sb = fmt::format("{}.projected.sources[{}]", base, j++);
      add("Secret", s->entry("secret"), "name", sb + ".secret");
      add("ConfigMap", s->entry("configMap"), "name", sb + ".configMap");
    }
  }
  return out;
}

class MissingReference final : public Check {
 public:
  const CheckMeta& meta() const override { return kMissingRef; }
  Status configure(const Node* options) override {
    for (const MapEntry& e : mapOf(options)) {
      if (e.key != "secrets" || (!e.value->isTrue() && !e.value->isFalse()))
        return Error{fmt::format("check {}: unknown option '{}' (expected 'secrets: true' or "
                                 "'secrets: false')",
                                 kMissingRef.id, e.key),
                     "", e.key_pos};
      secrets_ = e.value->isTrue();
    }
    return {};
  }
  void check(const Object& o, const CheckContext& ctx, FindingSink& sink) const override;

 private:
  // Secrets are meant to come from outside the repository (secrets-secret-object says so), so
  // a Secret absent from the input is the expected case unless the team keeps them there.
  bool secrets_ = false;
};

void MissingReference::check(const Object& o, const CheckContext& ctx, FindingSink& sink) const {
  if (!ctx.index) return;
  for (const Reference& r : references(*o.pod)) {
    if (r.kind == "Secret" && !secrets_) continue;
    // Created in every namespace by the API server (root CA bundle for service account tokens).
    if (r.kind == "ConfigMap" && r.name == "kube-root-ca.crt") continue;
    if (ctx.index->find(r.kind, o.namespaceOrDefault(), r.name)) continue;
    bool found = false;
    if (o.ref.namespace_.empty())
      for (const Object* x : ctx.index->ofKind(r.kind)) found |= x->ref.name == r.name;
    if (found) continue;
    sink.add(finding(o, r.pos, r.path, fmt::format("{} {} is not in the input", r.kind, r.name)));
  }
}

}  // namespace

void addPodReferenceChecks(std::vector<std::unique_ptr<Check>>& out) {
  out.push_back(std::make_unique<FnCheck>(kDuplicateEnv, duplicateEnv));
  out.push_back(std::make_unique<FnCheck>(kDeprecatedSa, deprecatedSa));
  out.push_back(std::make_unique<FnCheck>(kDefaultSa, defaultSa));
  out.push_back(std::make_unique<FnCheck>(kMissingSa, missingSa));
  out.push_back(std::make_unique<MissingReference>());
}

}  // namespace kh
