// Policy-driven and context checks: pod-resource-bounds (requests and limits within configured
// bounds), pod-runtime-class (opt-in: a sandboxed runtime class), pod-git-sync-injection (git-sync
// options that run commands) and pod-sensitive-mounts (opt-in: inventory of mounted Secrets and
// claims).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>

#include "checks/pod/pod_checks.h"
#include "model/quantity.h"

namespace kh {
namespace {

constexpr CheckMeta kBounds{
    .id = "pod-resource-bounds",
    .title = "Container requests or limits are outside the allowed bounds",
    .severity = Severity::kLow,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Bring the request or limit within the bounds your platform allows (or agree "
        "an exception with a reason).",
    .refs = {.nsa = "Resource policies",
             .mitre = "T1496",
             .kubescape = "C-0009",
             .polaris = "resourceMinimum,resourceMaximum"},
};

constexpr CheckMeta kRuntime{
    .id = "pod-runtime-class",
    .title = "Pod does not use a sandboxed runtime class",
    .severity = Severity::kLow,
    .group = "security",
    .enabled_by_default = false,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Set spec.runtimeClassName to a sandboxed runtime (gVisor, Kata) for "
        "workloads that run untrusted code.",
    .refs = {.nsa = "Hardening container environments", .mitre = "T1611", .kubescape = "C-0297"},
};

constexpr CheckMeta kGitSync{
    .id = "pod-git-sync-injection",
    .title = "git-sync is configured to run commands",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Remove --git-config, --exechook-command and --askpass-url (and their "
        "GITSYNC_/GIT_SYNC_ variables) unless reviewed: they make git-sync run "
        "commands or fetch credentials chosen by whoever edits the pod.",
    .refs = {.mitre = "T1609", .checkov = "CKV_K8S_159"},
};

constexpr CheckMeta kMounts{
    .id = "pod-sensitive-mounts",
    .title = "Workload mounts Secrets or persistent volumes",
    .severity = Severity::kInfo,
    .group = "security",
    .enabled_by_default = false,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Review that each mounted Secret and claim is needed: a compromise of this "
        "workload exposes them.",
    .refs = {.mitre = "T1552", .kubescape = "C-0255,C-0257,C-0258"},
};

struct Bound {
  std::optional<double> min, max;
  std::string min_text, max_text;
};

// options: {cpu: {min: 10m, max: "4"}, memory: {min: 16Mi, max: 8Gi}}; bounds apply to both
// requests and limits that are set.
class ResourceBounds final : public Check {
 public:
  const CheckMeta& meta() const override { return kBounds; }
  Status configure(const Node* options) override {
    for (const MapEntry& e : mapOf(options)) {
      Bound* b = e.key == "cpu" ? &cpu_ : e.key == "memory" ? &memory_ : nullptr;
      if (!b || !e.value->isMap())
        return Error{fmt::format("check {}: unknown option '{}' (expected cpu or memory, each "
                                 "with min and max)",
                                 kBounds.id, e.key),
                     "", e.key_pos};
      for (const MapEntry& m : e.value->mapEntries()) {
        auto q = parseQuantity(m.value->text);
        if ((m.key != "min" && m.key != "max") || !q)
          return Error{fmt::format("check {}: {}.{} must be min or max with a quantity such as "
                                   "100m or 512Mi",
                                   kBounds.id, e.key, m.key),
                       "", m.key_pos};
        (m.key == "min" ? b->min : b->max) = q;
        (m.key == "min" ? b->min_text : b->max_text) = std::string(m.value->text);
      }
    }
    return {};
  }
  void check(const Object& o, const CheckContext&, FindingSink& sink) const override {
    if (!cpu_.min && !cpu_.max && !memory_.min && !memory_.max) return;
    for (const ContainerRef& c : o.pod->containers) {
      if (c.list == ContainerList::kEphemeral) continue;
      for (std::string_view kind : {"requests", "limits"}) {
        const Node* m = get(get(c.node, "resources"), kind);
        for (std::string_view res : {"cpu", "memory"}) {
          const Bound& b = res == "cpu" ? cpu_ : memory_;
          const MapEntry* e = getEntry(m, res);
          if (!e) continue;
          auto q = parseQuantity(e->value->text);
          if (!q) continue;
          std::string why;
          if (b.min && *q < *b.min) why = fmt::format("below the minimum {}", b.min_text);
          if (b.max && *q > *b.max) why = fmt::format("above the maximum {}", b.max_text);
          if (why.empty()) continue;
          sink.add(finding(o, e->key_pos, fmt::format("{}.resources.{}.{}", c.path, kind, res),
                           fmt::format("container \"{}\" {} {} {} is {}", c.name, res, kind,
                                       e->value->text, why),
                           c.name));
        }
      }
    }
  }

 private:
  Bound cpu_, memory_;
};

class RuntimeClass final : public Check {
 public:
  const CheckMeta& meta() const override { return kRuntime; }
  Status configure(const Node* options) override {
    for (const MapEntry& e : mapOf(options)) {
      if (e.key != "allowed" || !e.value->isSeq())
        return Error{fmt::format("check {}: unknown option '{}' (expected 'allowed: [...]')",
                                 kRuntime.id, e.key),
                     "", e.key_pos};
      allowed_.clear();
      for (const Node* n : e.value->seqItems()) allowed_.emplace_back(n->text);
    }
    return {};
  }
  void check(const Object& o, const CheckContext&, FindingSink& sink) const override {
    const MapEntry* e = o.pod->spec->entry("runtimeClassName");
    std::string_view rc = e ? e->value->str() : std::string_view();
    if (std::find(allowed_.begin(), allowed_.end(), rc) != allowed_.end()) return;
    sink.add(finding(o, e ? e->key_pos : o.pod->spec->pos, o.pod->path + ".runtimeClassName",
                     rc.empty() ? fmt::format("pod runs on the default runtime (allowed: {})",
                                              fmt::join(allowed_, ", "))
                                : fmt::format("runtime class {} is not one of {}", rc,
                                              fmt::join(allowed_, ", "))));
  }

 private:
  std::vector<std::string> allowed_ = {"gvisor", "kata", "kata-qemu", "kata-clh", "kata-fc"};
};

void gitSync(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  static constexpr std::array<std::string_view, 3> kFlags = {"git-config", "exechook-command",
                                                             "askpass-url"};
  for (const ContainerRef& c : o.pod->containers) {
    if (getStr(c.node, "image").find("git-sync") == std::string_view::npos) continue;
    for (std::string_view field : {"command", "args"}) {
      const Node* list = get(c.node, field);
      uint32_t i = 0;
      for (const Node* a : seqOf(list)) {
        uint32_t idx = i++;
        std::string_view t = a->str();
        if (t.starts_with("--"))
          t.remove_prefix(2);
        else if (t.starts_with("-"))
          t.remove_prefix(1);
        else
          continue;
        std::string_view name = t.substr(0, t.find('='));
        for (std::string_view f : kFlags) {
          std::string under(f);
          std::replace(under.begin(), under.end(), '-', '_');
          if (name != f && name != under) continue;
          sink.add(self.finding(o, a->pos, fmt::format("{}.{}[{}]", c.path, field, idx),
                                fmt::format("git-sync container \"{}\" sets --{}", c.name, f),
                                c.name));
        }
      }
    }
    const Node* env = get(c.node, "env");
    uint32_t i = 0;
    for (const Node* e : seqOf(env)) {
      uint32_t idx = i++;
      std::string_view n = getStr(e, "name");
      for (std::string_view f : kFlags) {
        std::string var(f);
        std::transform(var.begin(), var.end(), var.begin(), [](char ch) {
          return ch == '-' ? '_' : static_cast<char>(std::toupper(ch));
        });
        if (n != "GITSYNC_" + var && n != "GIT_SYNC_" + var) continue;
        sink.add(self.finding(o, e->pos, fmt::format("{}.env[{}]", c.path, idx),
                              fmt::format("git-sync container \"{}\" sets {}", c.name, n), c.name));
      }
    }
  }
}

void mounts(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Node* volumes = get(o.pod->spec, "volumes");
  uint32_t i = 0;
  for (const Node* v : seqOf(volumes)) {
    uint32_t idx = i++;
    std::string what;
    if (const Node* s = get(v, "secret"))
      what = fmt::format("Secret {}", getStr(s, "secretName"));
    else if (const Node* p = get(v, "persistentVolumeClaim"))
      what = fmt::format("PersistentVolumeClaim {}", getStr(p, "claimName"));
    if (what.empty()) continue;
    sink.add(self.finding(o, v->pos, fmt::format("{}.volumes[{}]", o.pod->path, idx),
                          fmt::format("{} mounts {}", o.displayName(), what)));
  }
}

}  // namespace

void addPodPolicyChecks(std::vector<std::unique_ptr<Check>>& out) {
  out.push_back(std::make_unique<ResourceBounds>());
  out.push_back(std::make_unique<RuntimeClass>());
  out.push_back(std::make_unique<FnCheck>(kGitSync, gitSync));
  out.push_back(std::make_unique<FnCheck>(kMounts, mounts));
}

}  // namespace kh
