// Secrets outside containers' environments: secrets-configmap (credentials in ConfigMap data,
// whole config files included), secrets-configmap-pii (e-mail addresses), secrets-secret-object
// (Secret objects with data in the manifests), secrets-annotation (credentials in annotations)
// and secrets-env-secret-ref (opt-in: Secrets passed as environment variables).
#include <fmt/format.h>
#include <re2/re2.h>

#include "base/strings.h"
#include "checks/secrets/rules.h"
#include "checks/secrets/secrets_checks.h"

namespace kh {
namespace {

constexpr std::string_view kConfigMap[] = {"ConfigMap"};
constexpr std::string_view kSecret[] = {"Secret"};

constexpr CheckMeta kConfigMapSecrets{
    .id = "secrets-configmap",
    .title = "ConfigMap holds a credential",
    .severity = Severity::kHigh,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kConfigMap,
    .remediation =
        "Move the credential into a Secret (or an external secret store), reference "
        "it from the configuration, and rotate it: ConfigMaps are readable by "
        "everyone who can read the namespace's configuration.",
    .refs = {.cis = "5.4.1",
             .nsa = "Secrets",
             .mitre = "T1552",
             .trivy = "KSV-0109",
             .kubescape = "C-0012",
             .polaris = "sensitiveConfigmapContent"},
};

constexpr CheckMeta kPii{
    .id = "secrets-configmap-pii",
    .title = "ConfigMap holds e-mail addresses",
    .severity = Severity::kLow,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kConfigMap,
    .remediation =
        "Keep personal data out of ConfigMaps (a Secret, or the application's own "
        "store); role addresses are better than personal ones.",
    .refs = {.mitre = "T1552", .trivy = "KSV-01010"},
};

constexpr CheckMeta kSecretObject{
    .id = "secrets-secret-object",
    .title = "Secret with data is committed in the manifests",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kSecret,
    .remediation =
        "Keep secret values out of the repository: create the Secret from a secret "
        "store (External Secrets, Sealed Secrets, SOPS, Vault) or at deploy time.",
    .refs = {.cis = "5.4.2", .nsa = "Secrets", .mitre = "T1552"},
};

constexpr CheckMeta kAnnotation{
    .id = "secrets-annotation",
    .title = "Annotation holds a credential",
    .severity = Severity::kHigh,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kAll,
    .kinds = {},
    .remediation =
        "Remove the credential from metadata (annotations are readable by anyone who "
        "can list the object) and rotate it. For Secrets, apply them server-side "
        "(kubectl apply --server-side) so no copy lands in an annotation.",
    .refs = {.nsa = "Secrets", .mitre = "T1552"},
};

constexpr CheckMeta kEnvRef{
    .id = "secrets-env-secret-ref",
    .title = "Secret is passed as an environment variable",
    .severity = Severity::kLow,
    .group = "security",
    .enabled_by_default = false,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Mount the Secret as a file (a secret volume) instead: environment variables "
        "leak into child processes, crash dumps and logs.",
    .refs = {.cis = "5.4.1",
             .nsa = "Secrets",
             .mitre = "T1552",
             .kube_linter = "read-secret-from-env-var",
             .kubescape = "C-0207",
             .checkov = "CKV_K8S_35"},
};

// The data key's value: one line is a value, several lines (or a key that names a file) a
// config file to scan line by line.
void scanDataValue(std::string_view key, std::string_view value,
                   const std::function<void(std::string, std::string)>& report) {
  bool file = value.find('\n') != std::string_view::npos || key.find('.') != std::string_view::npos;
  if (!file) {
    if (auto rule = matchSecretValue(value))
      report(std::string(rule->id),
             fmt::format("holds a {} ({})", rule->title, redact(value, true)));
    else if (isCredentialName(key) && looksLikeSecretLiteral(value))
      report("credential-assignment",
             fmt::format("is named like a credential and holds a literal value ({})",
                         redact(trim(value), false)));
    return;
  }
  scanConfigText(value, [&](const ConfigSecret& s) {
    if (s.key.empty())
      report(s.rule_id,
             fmt::format("holds a {} on line {} ({})", s.title, s.line, redact(s.value, true)));
    else
      report(s.rule_id, fmt::format("assigns a literal to {} on line {} ({})", s.key, s.line,
                                    redact(s.value, false)));
  });
}

void configMapSecrets(const FnCheck& self, const Object& o, const CheckContext&,
                      FindingSink& sink) {
  const Node* data = get(o.root, "data");
  for (const MapEntry& e : mapOf(data)) {
    if (!e.value->isString()) continue;
    bool reported = false;  // one finding per key: the first thing found
    scanDataValue(e.key, e.value->text, [&](std::string, std::string what) {
      if (reported) return;
      reported = true;
      sink.add(self.finding(o, e.key_pos, fmt::format("data.{}", e.key),
                            fmt::format("ConfigMap key {} {}", e.key, what)));
    });
  }
}

bool personalAddress(std::string_view addr) {
  std::string lower = toLower(addr);
  std::string_view a = lower;
  size_t at = a.find('@');
  std::string_view local = a.substr(0, at), domain = a.substr(at + 1);
  for (std::string_view d : {"example.com", "example.org", "example.net", "localhost", "local"})
    if (domain == d || (domain.size() > d.size() && domain.ends_with(d) &&
                        domain[domain.size() - d.size() - 1] == '.'))
      return false;
  for (std::string_view l : {"git", "noreply", "no-reply", "donotreply", "root", "nobody"})
    if (local == l) return false;
  return !domain.ends_with(".svc") && !domain.ends_with(".cluster");
}

void configMapPii(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  static const RE2 kEmail(R"(([A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}))");
  const Node* data = get(o.root, "data");
  for (const MapEntry& e : mapOf(data)) {
    if (!e.value->isString()) continue;
    re2::StringPiece in(e.value->text.data(), e.value->text.size());
    std::string addr;
    size_t count = 0;
    while (RE2::FindAndConsume(&in, kEmail, &addr))
      if (personalAddress(addr)) ++count;
    if (count == 0) continue;
    sink.add(self.finding(o, e.key_pos, fmt::format("data.{}", e.key),
                          fmt::format("ConfigMap key {} holds {} e-mail address{}", e.key, count,
                                      count == 1 ? "" : "es")));
  }
}

void secretObject(const FnCheck& self, const Object& o, const CheckContext& ctx,
                  FindingSink& sink) {
  // In a cluster a Secret's data is where it belongs: the finding is about repositories.
  if (ctx.live) return;
  for (std::string_view field : {"data", "stringData"}) {
    const MapEntry* e = o.root->entry(field);
    if (!e || !e->value->isMap() || e->value->size == 0) continue;
    std::vector<std::string_view> keys;
    size_t empty = 0;
    for (const MapEntry& k : e->value->mapEntries()) {
      keys.push_back(k.key);
      empty += k.value->isNull() || (k.value->isString() && k.value->text.empty());
    }
    if (empty == keys.size()) continue;  // only empty values: a shape, not a secret
    std::string list = join(keys, ", ");
    if (list.size() > 120) {
      list.resize(117);
      list.append("...");
    }
    sink.add(self.finding(o, e->key_pos, std::string(field),
                          fmt::format("Secret {} carries {} value{} in {} ({})", o.ref.name,
                                      keys.size(), keys.size() == 1 ? "" : "s", field, list)));
  }
}

constexpr std::string_view kLastApplied = "kubectl.kubernetes.io/last-applied-configuration";

void annotationSecrets(const FnCheck& self, const Object& o, const CheckContext&,
                       FindingSink& sink) {
  auto scan = [&](const Node* ann, const std::string& base) {
    for (const MapEntry& e : mapOf(ann)) {
      if (!e.value->isString()) continue;
      std::string_view v = e.value->text;
      std::string path = fmt::format("{}.annotations.{}", base, e.key);
      if (e.key == kLastApplied) {
        // kubectl's copy of the applied object: a Secret's values are in it, base64 or not.
        if (o.ref.kind == "Secret" && (v.find("\"data\"") != std::string_view::npos ||
                                       v.find("\"stringData\"") != std::string_view::npos)) {
          sink.add(self.finding(o, e.key_pos, path,
                                "the last-applied-configuration annotation holds a copy of "
                                "the Secret's data"));
          continue;
        }
      }
      // The name part says whether the value is a credential; a prefix such as checksum/ may
      // say it is not.
      std::string_view name = e.key.substr(e.key.rfind('/') + 1);
      if (namesDigest(e.key)) name = {};
      std::string why;
      if (auto rule = matchSecretValue(v))
        why = fmt::format("holds a {} ({})", rule->title, redact(v, true));
      else if (!name.empty() && isCredentialName(name) && v.find('\n') == std::string_view::npos &&
               looksLikeSecretLiteral(v))
        why = fmt::format("is named like a credential and holds a literal value ({})",
                          redact(v, false));
      if (!why.empty())
        sink.add(self.finding(o, e.key_pos, path, fmt::format("annotation {} {}", e.key, why)));
    }
  };
  scan(o.annotations, "metadata");
  if (o.pod && o.pod->meta_path != "metadata")
    scan(get(o.pod->template_meta, "annotations"), o.pod->meta_path);
}

void envSecretRef(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  for (const ContainerRef& c : o.pod->containers) {
    const Node* env = get(c.node, "env");
    uint32_t i = 0;
    for (const Node* e : seqOf(env)) {
      uint32_t idx = i++;
      const MapEntry* ref = getEntry(get(e, "valueFrom"), "secretKeyRef");
      if (!ref) continue;
      sink.add(self.finding(o, ref->key_pos,
                            fmt::format("{}.env[{}].valueFrom.secretKeyRef", c.path, idx),
                            fmt::format("container \"{}\" reads Secret {} into environment "
                                        "variable {}",
                                        c.name, getStr(ref->value, "name"), getStr(e, "name")),
                            c.name));
    }
    const Node* from = get(c.node, "envFrom");
    i = 0;
    for (const Node* e : seqOf(from)) {
      uint32_t idx = i++;
      const MapEntry* ref = e->entry("secretRef");
      if (!ref) continue;
      sink.add(self.finding(o, ref->key_pos, fmt::format("{}.envFrom[{}].secretRef", c.path, idx),
                            fmt::format("container \"{}\" loads all of Secret {} into its "
                                        "environment",
                                        c.name, getStr(ref->value, "name")),
                            c.name));
    }
  }
}

}  // namespace

void addSecretsObjectChecks(std::vector<std::unique_ptr<Check>>& out) {
  out.push_back(std::make_unique<FnCheck>(kConfigMapSecrets, configMapSecrets));
  out.push_back(std::make_unique<FnCheck>(kPii, configMapPii));
  out.push_back(std::make_unique<FnCheck>(kSecretObject, secretObject));
  out.push_back(std::make_unique<FnCheck>(kAnnotation, annotationSecrets));
  out.push_back(std::make_unique<FnCheck>(kEnvRef, envSecretRef));
}

}  // namespace kh
