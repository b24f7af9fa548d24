#include <fmt/format.h>

#include "checks/secrets/rules.h"
#include "checks/secrets/secrets_checks.h"

namespace kh {
namespace {

constexpr CheckMeta kEnvLiteralMeta{
    .id = "secrets-env-literal",
    .title = "Credential written as a literal environment value",
    .severity = Severity::kHigh,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Move the value into a Secret (or an external secret store) and reference it "
        "with valueFrom.secretKeyRef or a mounted file; rotate the exposed credential.",
    .refs = {.cis = "5.4.1",
             .nsa = "Secrets",
             .pss = "",
             .mitre = "T1552",
             .kube_linter = "env-var-secret",
             .trivy = "",
             .kubescape = "C-0012",
             .polaris = "sensitiveContainerEnvVar",
             .checkov = ""},
};

class SecretsEnvLiteral final : public Check {
 public:
  const CheckMeta& meta() const override { return kEnvLiteralMeta; }
  void check(const Object& o, const CheckContext&, FindingSink& sink) const override {
    for (const ContainerRef& c : o.pod->containers) {
      const Node* env = c.node->get("env");
      if (!env) continue;
      uint32_t i = 0;
      for (const Node* e : env->seqItems()) {
        const MapEntry* value = e->entry("value");
        std::string_view name = getStr(e, "name");
        if (value && value->value->isString()) {
          std::string_view v = value->value->text;
          std::string why;
          if (auto rule = matchSecretValue(v)) {
            why = fmt::format("holds a literal {} ({})", rule->title, redact(v, true));
          } else if (isCredentialName(name) && !isPlaceholderValue(v)) {
            why = fmt::format("is named like a credential and holds a literal value ({})",
                              redact(v, false));
          }
          if (!why.empty()) {
            sink.add(finding(
                o, value->key_pos, fmt::format("{}.env[{}].value", c.path, i),
                fmt::format("container \"{}\": environment variable {} {}", c.name, name, why),
                c.name));
          }
        }
        ++i;
      }
    }
  }
};

}  // namespace

std::unique_ptr<Check> makeSecretsEnvLiteral() {
  return std::make_unique<SecretsEnvLiteral>();
}

}  // namespace kh
