// misc-agent-sandbox: Agent Sandboxes (agents.x-k8s.io Sandbox and SandboxTemplate, pods that run
// code an AI agent generated) without the guard rails such code needs: a sandboxed runtime,
// egress isolation, resource ceilings and pinned images. Their pod templates also get every pod
// check (kubeharden finds spec.podTemplate).
#include <fmt/format.h>

#include "checks/misc/misc_checks.h"
#include "checks/scan_index.h"
#include "checks/util/image_ref.h"
#include "model/label_selector.h"

namespace kh {
namespace {

constexpr std::string_view kKinds[] = {"Sandbox", "SandboxTemplate"};

constexpr CheckMeta kAgentSandboxMeta{
    .id = "misc-agent-sandbox",
    .title = "Agent Sandbox lacks isolation for untrusted code",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kKinds,
    .remediation =
        "Give the sandbox a sandboxed runtimeClassName (gVisor, Kata), an egress "
        "NetworkPolicy, CPU and memory limits on every container, and images pinned "
        "by digest.",
    .refs = {.nsa = "Hardening container environments",
             .mitre = "T1611",
             .kubescape = "C-0301,C-0303,C-0304"},
};

bool agentsGroup(const Object& o) {
  return o.ref.api_version.find("agents.x-k8s.io/") != std::string_view::npos;
}

// Does a NetworkPolicy of the input isolate the pods' egress?
bool egressIsolated(const Object& o, const CheckContext& ctx) {
  if (!ctx.index) return false;
  Labels labels = labelsOf(get(o.pod->template_meta, "labels"));
  for (const Object* np : ctx.index->ofKind("NetworkPolicy")) {
    if (np->namespaceOrDefault() != o.namespaceOrDefault()) continue;
    const Node* spec = get(np->root, "spec");
    bool egress = get(spec, "egress") != nullptr;
    for (const Node* t : seqOf(get(spec, "policyTypes"))) egress |= t->str() == "Egress";
    if (!egress) continue;
    std::vector<std::string> warnings;
    auto sel = parseSelector(get(spec, "podSelector"), warnings, "");
    if (!sel || sel->matches(labels)) return true;  // an empty selector selects every pod
  }
  return false;
}

class AgentSandbox final : public Check {
 public:
  const CheckMeta& meta() const override { return kAgentSandboxMeta; }
  bool appliesTo(const Object& o) const override { return agentsGroup(o) && o.pod; }
  void check(const Object& o, const CheckContext& ctx, FindingSink& sink) const override {
    if (!appliesTo(o)) return;
    const PodSpecView& pod = *o.pod;
    auto add = [&](SourcePos pos, std::string path, std::string msg, std::string_view rule) {
      Finding f = finding(o, pos, std::move(path), std::move(msg));
      f.rule = rule;
      sink.add(std::move(f));
    };
    std::string_view rc = getStr(pod.spec, "runtimeClassName");
    if (rc.empty() || rc == "runc")
      add(nearestPos(pod.spec, {"runtimeClassName"}), pod.path + ".runtimeClassName",
          fmt::format("{} runs agent code on the node's kernel (no sandboxed runtimeClassName)",
                      o.displayName()),
          "sandbox-runtime");
    if (!ctx.single_object && !egressIsolated(o, ctx))
      add(o.root->pos, "spec",
          fmt::format("no NetworkPolicy in the input restricts the egress of "
                      "{}: agent code can reach any address",
                      o.displayName()),
          "egress");
    for (const ContainerRef& c : pod.containers) {
      const Node* limits = get(get(c.node, "resources"), "limits");
      if (!get(limits, "cpu") || !get(limits, "memory"))
        add(nearestPos(c.node, {"resources", "limits"}), c.path + ".resources.limits",
            fmt::format("container \"{}\" has no CPU and memory limits", c.name),
            "resource-ceilings");
      const MapEntry* img = c.node->entry("image");
      auto ref = img ? parseImageRef(img->value->str()) : std::nullopt;
      if (img && ref && ref->digest.empty())
        add(img->key_pos, c.path + ".image",
            fmt::format("container \"{}\" image {} is not pinned by digest", c.name,
                        img->value->text),
            "image-provenance");
    }
  }
};

}  // namespace

void addMiscAgentSandboxChecks(std::vector<std::unique_ptr<Check>>& out) {
  out.push_back(std::make_unique<AgentSandbox>());
}

}  // namespace kh
