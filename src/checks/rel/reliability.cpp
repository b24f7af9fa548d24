// rel-*: the reliability checks of the catalogue (REL-01 to REL-16).
#include <fmt/format.h>

#include <algorithm>

#include "base/strings.h"
#include "checks/rel/rel_checks.h"
#include "checks/scan_index.h"
#include "model/label_selector.h"

namespace kh {
namespace {

constexpr std::string_view kScaled[] = {"Deployment", "StatefulSet"};
constexpr std::string_view kRolling[] = {"Deployment", "DaemonSet", "StatefulSet"};
constexpr std::string_view kSelectorKinds[] = {"Deployment", "DaemonSet", "StatefulSet",
                                               "ReplicaSet"};
constexpr std::string_view kHpa[] = {"HorizontalPodAutoscaler"};
constexpr std::string_view kPdb[] = {"Deployment", "StatefulSet", "PodDisruptionBudget"};
constexpr std::string_view kJobs[] = {"Job", "CronJob"};
constexpr std::string_view kPod[] = {"Pod"};
constexpr std::string_view kServiceMonitor[] = {"ServiceMonitor"};

constexpr CheckMeta rel(std::string_view id, std::string_view title, Scope scope,
                        std::span<const std::string_view> kinds, std::string_view remediation,
                        CheckRefs refs, Severity sev = Severity::kLow) {
  return CheckMeta{.id = id,
                   .title = title,
                   .severity = sev,
                   .group = "reliability",
                   .enabled_by_default = false,
                   .scope = scope,
                   .kinds = kinds,
                   .remediation = remediation,
                   .refs = refs};
}

constexpr CheckMeta kLiveness =
    rel("rel-liveness-probe", "Long-running container has no liveness probe", Scope::kPodSpec, {},
        "Add a livenessProbe that fails when the process is stuck (not when a dependency is "
        "down).",
        {.kube_linter = "no-liveness-probe",
         .kubescape = "C-0056",
         .polaris = "livenessProbeMissing",
         .checkov = "CKV_K8S_8"});
constexpr CheckMeta kReadiness =
    rel("rel-readiness-probe", "Long-running container has no readiness probe", Scope::kPodSpec, {},
        "Add a readinessProbe so traffic reaches the pod only when it can serve.",
        {.kube_linter = "no-readiness-probe",
         .kubescape = "C-0018",
         .polaris = "readinessProbeMissing",
         .checkov = "CKV_K8S_9"});
constexpr CheckMeta kProbePort =
    rel("rel-probe-port", "Probe targets a port name the container does not define",
        Scope::kPodSpec, {}, "Use the name of one of the container's ports, or a number.",
        {.kube_linter = "liveness-port,readiness-port,startup-port"});
constexpr CheckMeta kReplicas = wholeInput(
    rel("rel-replicas", "Workload runs a single replica", Scope::kKinds, kScaled,
        "Run at least two replicas (or let a HorizontalPodAutoscaler with minReplicas >= 2 scale "
        "it) so one pod's eviction is not an outage.",
        {.kube_linter = "minimum-three-replicas", .polaris = "deploymentMissingReplicas"}));
constexpr CheckMeta kSpread = wholeInput(
    rel("rel-spread", "Replicated workload is not spread across nodes", Scope::kKinds, kScaled,
        "Add topologySpreadConstraints (or a podAntiAffinity) on kubernetes.io/hostname so "
        "replicas do not share a node.",
        {.kube_linter = "no-anti-affinity", .polaris = "topologySpreadConstraint"}));
constexpr CheckMeta kPdbMeta = wholeInput(
    rel("rel-pdb", "Disruption budget is missing or blocks every eviction", Scope::kKinds, kPdb,
        "Give replicated workloads a PodDisruptionBudget that allows at least one eviction "
        "(maxUnavailable: 1).",
        {.kube_linter = "pdb-max-unavailable,pdb-min-available",
         .polaris = "missingPodDisruptionBudget,pdbDisruptionsIsZero"}));
constexpr CheckMeta kHpaMeta = wholeInput(
    rel("rel-hpa", "HorizontalPodAutoscaler is ineffective", Scope::kKinds, kHpa,
        "Set minReplicas of at least 2, maxReplicas above it, and a scaleTargetRef that exists.",
        {.kube_linter = "hpa-minimum-three-replicas,dangling-horizontalpodautoscaler",
         .kubescape = "C-0300",
         .polaris = "hpaMinAvailability,hpaMaxAvailability"}));
constexpr CheckMeta kPriority =
    rel("rel-priority-class", "Pod has no priority class", Scope::kPodSpec, {},
        "Set priorityClassName so the scheduler knows what to preempt first under pressure.",
        {.kube_linter = "priority-class-name", .polaris = "priorityClassNotSet"});
constexpr CheckMeta kStrategy =
    rel("rel-update-strategy", "Workload does not roll updates", Scope::kKinds, kRolling,
        "Use the RollingUpdate strategy (the default) so updates replace pods gradually.",
        {.kube_linter = "no-rolling-update-strategy", .kubescape = "C-0305"});
constexpr CheckMeta kSelector =
    rel("rel-selector-mismatch", "Selector does not match the pod template's labels", Scope::kKinds,
        kSelectorKinds,
        "Make spec.selector match spec.template.metadata.labels (the API server rejects it "
        "otherwise).",
        {.kube_linter = "mismatching-selector", .kubescape = "C-0296"}, Severity::kMedium);
constexpr CheckMeta kJobTtl =
    rel("rel-job-ttl", "Job lifetime is not managed", Scope::kKinds, kJobs,
        "Set ttlSecondsAfterFinished on standalone Jobs; leave it off Jobs a CronJob manages "
        "(its history limits clean up).",
        {.kube_linter = "job-ttl-seconds-after-finished"});
constexpr CheckMeta kRestart =
    rel("rel-restart-policy", "Bare Pod is never restarted", Scope::kKinds, kPod,
        "Use restartPolicy Always (or OnFailure), or run the pod from a controller.",
        {.kube_linter = "restart-policy"});
constexpr CheckMeta kDns =
    rel("rel-dnsconfig", "Pod does not tune DNS ndots", Scope::kPodSpec, {},
        "Set spec.dnsConfig.options ndots (e.g. 2) so external names are not tried against every "
        "search domain first.",
        {.kube_linter = "dnsconfig-options"}, Severity::kInfo);
constexpr CheckMeta kMonitor = wholeInput(
    rel("rel-servicemonitor", "ServiceMonitor selects no Service", Scope::kKinds, kServiceMonitor,
        "Fix the ServiceMonitor's selector or namespaceSelector to match the Service to scrape.",
        {.kube_linter = "dangling-servicemonitor"}));
constexpr CheckMeta kLabels =
    rel("rel-labels", "Workload lacks required labels", Scope::kPodSpec, {},
        "Add the labels your organisation requires (by default app.kubernetes.io/name) to the "
        "object.",
        {.kube_linter = "required-label-owner",
         .kubescape = "C-0076,C-0077",
         .polaris = "metadataAndInstanceMismatched"},
        Severity::kInfo);
constexpr CheckMeta kSorted =
    rel("rel-sorted-keys", "Manifest keys are not sorted", Scope::kAll, {},
        "Sort the keys of every map alphabetically (as kubectl and most formatters write them).",
        {.kube_linter = "sorted-keys"}, Severity::kInfo);

// Kinds whose pods run to completion: probes and spreading do not apply.
bool runsToCompletion(const Object& o) {
  return o.ref.kind == "Job" || o.ref.kind == "CronJob" || o.ref.kind == "PodTemplate";
}

template <bool kLive>
void probe(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  if (runsToCompletion(o)) return;
  std::string_view field = kLive ? "livenessProbe" : "readinessProbe";
  for (const ContainerRef& c : o.pod->containers) {
    if (c.list != ContainerList::kRegular) continue;
    if (get(c.node, field)) continue;
    sink.add(self.finding(o, c.node->pos, fmt::format("{}.{}", c.path, field),
                          fmt::format("container \"{}\" has no {}", c.name, field), c.name));
  }
}

void probePort(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  for (const ContainerRef& c : o.pod->containers) {
    std::vector<std::string_view> names;
    const Node* ports = get(c.node, "ports");
    for (const Node* p : seqOf(ports)) names.push_back(getStr(p, "name"));
    for (std::string_view pr : {"livenessProbe", "readinessProbe", "startupProbe"}) {
      for (std::string_view h : {"httpGet", "tcpSocket", "grpc"}) {
        const MapEntry* port = getEntry(get(get(c.node, pr), h), "port");
        if (!port || !port->value->isString() || port->value->asInt()) continue;
        if (std::find(names.begin(), names.end(), port->value->text) != names.end()) continue;
        sink.add(self.finding(o, port->key_pos, fmt::format("{}.{}.{}.port", c.path, pr, h),
                              fmt::format("container \"{}\" {} targets port \"{}\", which it "
                                          "does not define",
                                          c.name, pr, port->value->text),
                              c.name));
      }
    }
  }
}

int64_t replicasOf(const Object& o) {
  const Node* r = get(get(o.root, "spec"), "replicas");
  return r && r->asInt() ? *r->asInt() : 1;  // the API default
}

// The HorizontalPodAutoscaler of the input that scales `o`, if any.
const Object* hpaFor(const Object& o, const CheckContext& ctx) {
  if (!ctx.index) return nullptr;
  for (const Object* h : ctx.index->ofKind("HorizontalPodAutoscaler")) {
    const Node* ref = get(get(h->root, "spec"), "scaleTargetRef");
    if (h->namespaceOrDefault() == o.namespaceOrDefault() && getStr(ref, "kind") == o.ref.kind &&
        getStr(ref, "name") == o.ref.name)
      return h;
  }
  return nullptr;
}

void replicas(const FnCheck& self, const Object& o, const CheckContext& ctx, FindingSink& sink) {
  if (hpaFor(o, ctx)) return;  // the autoscaler decides (rel-hpa judges its minimum)
  if (replicasOf(o) >= 2) return;
  const MapEntry* e = getEntry(get(o.root, "spec"), "replicas");
  sink.add(self.finding(o, e ? e->key_pos : o.root->pos, "spec.replicas",
                        fmt::format("{} runs {} replica{}", o.displayName(), replicasOf(o),
                                    e ? "" : " (replicas is not set)")));
}

void spread(const FnCheck& self, const Object& o, const CheckContext& ctx, FindingSink& sink) {
  if (!o.pod) return;  // a Deployment without a usable template
  if (replicasOf(o) < 2 && !hpaFor(o, ctx)) return;
  const Node* spec = o.pod->spec;
  const Node* tsc = get(spec, "topologySpreadConstraints");
  if (tsc && !tsc->seqItems().empty()) return;
  if (get(get(spec, "affinity"), "podAntiAffinity")) return;
  sink.add(self.finding(o, spec->pos, o.pod->path + ".topologySpreadConstraints",
                        fmt::format("{} has several replicas but no topology spread constraint "
                                    "or pod anti-affinity",
                                    o.displayName())));
}

std::optional<LabelSelector> selectorOf(const Node* n) {
  std::vector<std::string> warnings;
  return parseSelector(n, warnings, "");
}

void pdb(const FnCheck& self, const Object& o, const CheckContext& ctx, FindingSink& sink) {
  if (o.ref.kind == "PodDisruptionBudget") {
    const Node* spec = get(o.root, "spec");
    const MapEntry* mu = getEntry(spec, "maxUnavailable");
    const MapEntry* ma = getEntry(spec, "minAvailable");
    bool blocks = (mu && (mu->value->text == "0" || mu->value->text == "0%")) ||
                  (ma && ma->value->text == "100%");
    if (!blocks) return;
    const MapEntry* at = mu ? mu : ma;
    Finding f = self.finding(o, at->key_pos, fmt::format("spec.{}", at->key),
                             fmt::format("PodDisruptionBudget {} allows no voluntary eviction "
                                         "({}: {}); node drains hang",
                                         o.ref.name, at->key, at->value->text));
    f.rule = "blocks-disruption";
    sink.add(std::move(f));
    return;
  }
  if (!o.pod || replicasOf(o) < 2 || !ctx.index) return;
  Labels labels = labelsOf(get(o.pod->template_meta, "labels"));
  for (const Object* p : ctx.index->ofKind("PodDisruptionBudget")) {
    if (p->namespaceOrDefault() != o.namespaceOrDefault()) continue;
    auto sel = selectorOf(get(get(p->root, "spec"), "selector"));
    if (sel && !sel->matchesEverything() && sel->matches(labels)) return;
  }
  Finding f = self.finding(o, o.metadata ? o.metadata->pos : o.root->pos, "metadata",
                           fmt::format("{} runs {} replicas and no PodDisruptionBudget selects "
                                       "its pods",
                                       o.displayName(), replicasOf(o)));
  f.rule = "missing";
  sink.add(std::move(f));
}

void hpa(const FnCheck& self, const Object& o, const CheckContext& ctx, FindingSink& sink) {
  const Node* spec = get(o.root, "spec");
  const MapEntry* min = getEntry(spec, "minReplicas");
  const MapEntry* max = getEntry(spec, "maxReplicas");
  int64_t lo = min && min->value->asInt() ? *min->value->asInt() : 1;
  int64_t hi = max && max->value->asInt() ? *max->value->asInt() : 0;
  auto add = [&](SourcePos pos, std::string path, std::string msg, std::string_view rule) {
    Finding f = self.finding(o, pos, std::move(path), std::move(msg));
    f.rule = rule;
    sink.add(std::move(f));
  };
  if (lo < 2)
    add(min ? min->key_pos : (spec ? spec->pos : o.root->pos), "spec.minReplicas",
        fmt::format("HorizontalPodAutoscaler {} scales down to {} replica", o.ref.name, lo),
        "min-replicas");
  if (max && hi <= lo)
    add(max->key_pos, "spec.maxReplicas",
        fmt::format("maxReplicas {} is not above minReplicas {}: the autoscaler cannot scale", hi,
                    lo),
        "no-range");
  const MapEntry* ref = getEntry(spec, "scaleTargetRef");
  if (ref && ctx.index) {
    std::string_view kind = getStr(ref->value, "kind"), name = getStr(ref->value, "name");
    bool found = ctx.index->find(kind, o.ref.namespace_, name);
    if (!found && o.ref.namespace_.empty())
      for (const Object* x : ctx.index->ofKind(kind)) found |= x->ref.name == name;
    if (!found)
      add(ref->key_pos, "spec.scaleTargetRef",
          fmt::format("scale target {} {} is not in the input", kind, name), "dangling");
  }
}

void priority(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  if (!getStr(o.pod->spec, "priorityClassName").empty()) return;
  sink.add(self.finding(o, o.pod->spec->pos, o.pod->path + ".priorityClassName",
                        fmt::format("{} sets no priorityClassName", o.displayName())));
}

void strategy(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  std::string_view field = o.ref.kind == "Deployment" ? "strategy" : "updateStrategy";
  const MapEntry* t = getEntry(get(get(o.root, "spec"), field), "type");
  if (!t || t->value->str().empty() || t->value->str() == "RollingUpdate") return;
  sink.add(self.finding(
      o, t->key_pos, fmt::format("spec.{}.type", field),
      fmt::format("{} updates with {}: {}", o.displayName(), t->value->text,
                  t->value->str() == "Recreate" ? "every pod stops before new ones start"
                                                : "pods change only when deleted by hand")));
}

void selector(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const MapEntry* e = getEntry(get(o.root, "spec"), "selector");
  if (!e || !o.pod) return;
  auto sel = selectorOf(e->value);
  if (!sel || sel->matchesEverything()) return;
  if (sel->matches(labelsOf(get(o.pod->template_meta, "labels")))) return;
  sink.add(self.finding(
      o, e->key_pos, "spec.selector",
      fmt::format("the selector of {} does not match its pod template's labels", o.displayName())));
}

void jobTtl(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  if (o.ref.kind == "Job") {
    const Node* owners = get(o.metadata, "ownerReferences");
    if (owners && !owners->seqItems().empty()) return;  // created by a CronJob or operator
    if (get(get(o.root, "spec"), "ttlSecondsAfterFinished")) return;
    Finding f =
        self.finding(o, o.root->pos, "spec.ttlSecondsAfterFinished",
                     fmt::format("Job {} is never cleaned up after it finishes", o.ref.name));
    f.rule = "missing";
    sink.add(std::move(f));
    return;
  }
  const MapEntry* ttl =
      getEntry(get(get(get(o.root, "spec"), "jobTemplate"), "spec"), "ttlSecondsAfterFinished");
  if (!ttl) return;
  Finding f = self.finding(o, ttl->key_pos, "spec.jobTemplate.spec.ttlSecondsAfterFinished",
                           fmt::format("CronJob {} sets ttlSecondsAfterFinished, which deletes "
                                       "Jobs its history limits should keep",
                                       o.ref.name));
  f.rule = "cronjob-ttl";
  sink.add(std::move(f));
}

void restart(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const MapEntry* e = getEntry(get(o.root, "spec"), "restartPolicy");
  if (!e || e->value->str() != "Never") return;
  const Node* owners = get(o.metadata, "ownerReferences");
  if (owners && !owners->seqItems().empty()) return;
  sink.add(self.finding(
      o, e->key_pos, "spec.restartPolicy",
      fmt::format("bare Pod {} has restartPolicy Never: a crash ends it", o.ref.name)));
}

void dns(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Node* options = get(get(o.pod->spec, "dnsConfig"), "options");
  for (const Node* opt : seqOf(options))
    if (getStr(opt, "name") == "ndots") return;
  sink.add(self.finding(o, o.pod->spec->pos, o.pod->path + ".dnsConfig",
                        fmt::format("{} keeps the default ndots:5", o.displayName())));
}

void monitor(const FnCheck& self, const Object& o, const CheckContext& ctx, FindingSink& sink) {
  if (!ctx.index) return;
  const Node* spec = get(o.root, "spec");
  auto sel = selectorOf(get(spec, "selector"));
  const Node* ns_sel = get(spec, "namespaceSelector");
  bool any_ns = getTrue(ns_sel, "any");
  std::vector<std::string_view> names;
  const Node* match = get(ns_sel, "matchNames");
  for (const Node* n : seqOf(match)) names.push_back(n->str());
  for (const Object* s : ctx.index->ofKind("Service")) {
    bool ns_ok = any_ns || (names.empty() ? s->namespaceOrDefault() == o.namespaceOrDefault()
                                          : std::find(names.begin(), names.end(),
                                                      s->namespaceOrDefault()) != names.end());
    if (ns_ok && sel && sel->matches(labelsOf(s->labels))) return;
  }
  const MapEntry* e = getEntry(spec, "selector");
  sink.add(
      self.finding(o, e ? e->key_pos : o.root->pos, "spec.selector",
                   fmt::format("ServiceMonitor {} selects no Service in the input", o.ref.name)));
}

class RequiredLabels final : public Check {
 public:
  const CheckMeta& meta() const override { return kLabels; }
  Status configure(const Node* options) override {
    for (const MapEntry& e : mapOf(options)) {
      if (e.key != "required" || !e.value->isSeq())
        return Error{fmt::format("check {}: unknown option '{}' (expected 'required: [...]')",
                                 kLabels.id, e.key),
                     "", e.key_pos};
      required_.clear();
      for (const Node* n : e.value->seqItems()) required_.emplace_back(n->text);
    }
    return {};
  }
  void check(const Object& o, const CheckContext&, FindingSink& sink) const override {
    std::vector<std::string_view> missing;
    for (const std::string& l : required_)
      if (!get(o.labels, l)) missing.push_back(l);
    if (missing.empty()) return;
    sink.add(finding(o, o.labels ? o.labels->pos : (o.metadata ? o.metadata->pos : o.root->pos),
                     "metadata.labels",
                     fmt::format("{} lacks label{} {}", o.displayName(),
                                 missing.size() == 1 ? "" : "s", join(missing, ", "))));
  }

 private:
  std::vector<std::string> required_ = {"app.kubernetes.io/name"};
};

// The first map below `n` (depth first) whose keys are out of order.
const MapEntry* firstUnsorted(const Node* n, std::string& path, const std::string& base) {
  if (n->isMap()) {
    auto entries = n->mapEntries();
    for (size_t i = 1; i < entries.size(); ++i)
      if (entries[i].key < entries[i - 1].key) {
        path =
            base.empty() ? std::string(entries[i].key) : base + "." + std::string(entries[i].key);
        return &entries[i];
      }
    for (const MapEntry& e : entries)
      if (const MapEntry* u = firstUnsorted(
              e.value, path, base.empty() ? std::string(e.key) : base + "." + std::string(e.key)))
        return u;
  } else if (n->isSeq()) {
    uint32_t i = 0;
    for (const Node* item : n->seqItems())
      if (const MapEntry* u = firstUnsorted(item, path, fmt::format("{}[{}]", base, i++))) return u;
  }
  return nullptr;
}

void sorted(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  std::string path;
  const MapEntry* e = firstUnsorted(o.root, path, "");
  if (!e) return;
  sink.add(self.finding(o, e->key_pos, path,
                        fmt::format("key {} comes after a key that sorts later", e->key)));
}

}  // namespace

void addRelChecks(std::vector<std::unique_ptr<Check>>& out) {
  out.push_back(std::make_unique<FnCheck>(kLiveness, probe<true>));
  out.push_back(std::make_unique<FnCheck>(kReadiness, probe<false>));
  out.push_back(std::make_unique<FnCheck>(kProbePort, probePort));
  out.push_back(std::make_unique<FnCheck>(kReplicas, replicas));
  out.push_back(std::make_unique<FnCheck>(kSpread, spread));
  out.push_back(std::make_unique<FnCheck>(kPdbMeta, pdb));
  out.push_back(std::make_unique<FnCheck>(kHpaMeta, hpa));
  out.push_back(std::make_unique<FnCheck>(kPriority, priority));
  out.push_back(std::make_unique<FnCheck>(kStrategy, strategy));
  out.push_back(std::make_unique<FnCheck>(kSelector, selector));
  out.push_back(std::make_unique<FnCheck>(kJobTtl, jobTtl));
  out.push_back(std::make_unique<FnCheck>(kRestart, restart));
  out.push_back(std::make_unique<FnCheck>(kDns, dns));
  out.push_back(std::make_unique<FnCheck>(kMonitor, monitor));
  out.push_back(std::make_unique<RequiredLabels>());
  out.push_back(std::make_unique<FnCheck>(kSorted, sorted));
}

}  // namespace kh
