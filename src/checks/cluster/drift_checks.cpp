// cluster-replica-image-drift, cluster-replica-spec-drift, cluster-ephemeral-container,
// cluster-replicaset-stale: the guides' "analyse pods of the same workload for differences".
// Replicas of one controller are created from one template and should run alike; a pod that
// differs was changed after creation, created while admission differed, or adopted (a bare pod
// with matching labels becomes the ReplicaSet's). Pods without a controller are misc-naked-pod's.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "base/strings.h"
#include "checks/cluster/cluster_checks.h"
#include "checks/scan_index.h"

namespace kh {
namespace {

constexpr std::string_view kPod[] = {"Pod"};
constexpr std::string_view kReplicaSet[] = {"ReplicaSet"};

constexpr CheckRefs kDriftRefs{.nsa = "Audit logging and threat detection", .mitre = "T1525,T1610"};

// A controller's identity: the owner reference with controller: true.
struct Owner {
  std::string_view ns, kind, name, uid;
  auto operator<=>(const Owner&) const = default;
};

std::optional<Owner> controllerOf(const Object& pod) {
  for (const Node* ref : seqOf(get(pod.metadata, "ownerReferences"))) {
    if (!getTrue(ref, "controller")) continue;
    std::string_view kind = getStr(ref, "kind");
    if (kind != "ReplicaSet" && kind != "StatefulSet" && kind != "DaemonSet" &&
        kind != "ReplicationController")
      return std::nullopt;  // Jobs' pods differ by design (completion index)
    return Owner{pod.ref.namespace_, kind, getStr(ref, "name"), getStr(ref, "uid")};
  }
  return std::nullopt;
}

// A Node subtree as canonical text: maps sorted by key, so equal values compare equal however
// they were written.
void canonical(const Node* n, std::string& out) {
  if (!n) {
    out += "~";
    return;
  }
  switch (n->type) {
    case NodeType::kMap: {
      std::vector<const MapEntry*> es;
      for (const MapEntry& e : n->mapEntries()) es.push_back(&e);
      std::sort(es.begin(), es.end(),
                [](const MapEntry* a, const MapEntry* b) { return a->key < b->key; });
      out += '{';
      for (const MapEntry* e : es) {
        out += e->key;
        out += ':';
        canonical(e->value, out);
        out += ',';
      }
      out += '}';
      return;
    }
    case NodeType::kSeq:
      out += '[';
      for (const Node* i : n->seqItems()) {
        canonical(i, out);
        out += ',';
      }
      out += ']';
      return;
    case NodeType::kNull:
      out += "~";
      return;
    case NodeType::kString:
      out += '"';
      out += n->text;
      out += '"';
      return;
    default:
      out += n->text;
  }
}

std::string canonical(const Node* n) {
  std::string s;
  canonical(n, s);
  return s;
}

// The projected volume the ServiceAccount admission plugin adds, with a random name per pod.
bool isTokenVolume(std::string_view name) {
  return name.starts_with("kube-api-access-");
}

// The security-relevant parts of a pod's spec, each with a label, comparable across replicas.
// Left out: what differs between replicas by design (node, hostname, the token volume's name,
// a StatefulSet's per-replica claim names, a DaemonSet's per-node affinity).
std::vector<std::pair<std::string, std::string>> specFacts(const Object& pod) {
  std::vector<std::pair<std::string, std::string>> out;
  const Node* spec = get(pod.root, "spec");
  for (std::string_view f :
       {"hostNetwork", "hostPID", "hostIPC", "hostUsers", "shareProcessNamespace",
        "serviceAccountName", "automountServiceAccountToken", "securityContext", "runtimeClassName",
        "priorityClassName"})
    if (const Node* v = get(spec, f)) out.emplace_back(std::string(f), canonical(v));
  for (std::string_view list : {"initContainers", "containers"}) {
    std::set<std::string_view> names;
    for (const Node* c : seqOf(get(spec, list))) {
      std::string_view name = getStr(c, "name");
      names.insert(name);
      std::string base = fmt::format("{}[{}]", list, name);
      for (std::string_view f :
           {"image", "command", "args", "securityContext", "env", "envFrom", "ports", "workingDir"})
        if (const Node* v = get(c, f)) out.emplace_back(base + "." + std::string(f), canonical(v));
      std::string mounts;
      for (const Node* m : seqOf(get(c, "volumeMounts")))
        if (!isTokenVolume(getStr(m, "name"))) canonical(m, mounts);
      if (!mounts.empty()) out.emplace_back(base + ".volumeMounts", mounts);
    }
    out.emplace_back(std::string(list), fmt::format("{}", fmt::join(names, ",")));
  }
  for (const Node* v : seqOf(get(spec, "volumes"))) {
    std::string_view name = getStr(v, "name");
    if (isTokenVolume(name)) continue;
    std::string value;
    for (const MapEntry& e : v->mapEntries()) {
      if (e.key == "name") continue;
      // A StatefulSet's claims are named per replica (data-web-0): the type is what matters.
      if (e.key == "persistentVolumeClaim")
        value += "persistentVolumeClaim";
      else
        value += std::string(e.key) + "=" + canonical(e.value);
    }
    out.emplace_back(fmt::format("volumes[{}]", name), std::move(value));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string_view creationOf(const Object* o) {
  return getStr(o->metadata, "creationTimestamp");
}

// The value most replicas have; on a tie, the oldest replica's (most likely the original).
template <typename Value>
Value baselineOf(const std::vector<std::pair<const Object*, Value>>& values) {
  std::map<Value, size_t> counts;
  for (const auto& [o, v] : values) ++counts[v];
  size_t best = 0;
  for (const auto& [v, n] : counts) best = std::max(best, n);
  std::vector<Value> top;
  for (const auto& [v, n] : counts)
    if (n == best) top.push_back(v);
  if (top.size() == 1) return top[0];
  const std::pair<const Object*, Value>* oldest = nullptr;
  for (const auto& pv : values)
    if (std::find(top.begin(), top.end(), pv.second) != top.end() &&
        (!oldest || std::pair(creationOf(pv.first), pv.first->ref.name) <
                        std::pair(creationOf(oldest->first), oldest->first->ref.name)))
      oldest = &pv;
  return oldest->second;
}

std::string ownerName(const Owner& o) {
  return fmt::format("{} {}/{}", o.kind, o.ns, o.name);
}

// Pods grouped by their controller, in input order.
std::map<Owner, std::vector<const Object*>> podsByOwner(const ScanIndex& index) {
  std::map<Owner, std::vector<const Object*>> out;
  for (const Object* p : index.ofKind("Pod"))
    if (auto o = controllerOf(*p)) out[*o].push_back(p);
  return out;
}

// The digest part of a container status's imageID (docker-pullable://repo@sha256:...,
// repo@sha256:..., sha256:...).
std::string_view digestOf(std::string_view image_id) {
  size_t at = image_id.find("sha256:");
  return at == std::string_view::npos ? image_id : image_id.substr(at);
}

// --- cluster-replica-image-drift -------------------------------------------------------------

constexpr CheckMeta kImageDrift = wholeInput({
    .id = "cluster-replica-image-drift",
    .title = "Replicas run different images under one image reference",
    .severity = Severity::kHigh,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kPod,
    .remediation = "Find out why the tag resolves to another image (a tag moved in the registry, "
                   "a node's cached image), pin images by digest, and replace the odd pods.",
    .refs = kDriftRefs,
});

void imageDriftFinish(const FnCheck& self, const CheckContext& ctx, FindingSink& sink) {
  if (!ctx.index) return;
  // Nodes' architectures: a multi-architecture image resolves to a different digest per
  // platform, so replicas are compared within one architecture.
  std::map<std::string_view, std::string_view> arch;
  for (const Object* n : ctx.index->ofKind("Node"))
    arch[n->ref.name] = getStr(get(get(n->root, "status"), "nodeInfo"), "architecture");
  for (const auto& [owner, pods] : podsByOwner(*ctx.index)) {
    // (architecture, container, image reference) -> each pod's digest.
    std::map<std::tuple<std::string_view, std::string_view, std::string_view>,
             std::vector<std::pair<const Object*, std::string_view>>>
        digests;
    std::map<std::pair<const Object*, std::string_view>, std::pair<const Node*, std::string>> where;
    for (const Object* p : pods) {
      std::string_view a = arch[getStr(get(p->root, "spec"), "nodeName")];
      const Node* status = get(p->root, "status");
      for (std::string_view list : {"initContainerStatuses", "containerStatuses"}) {
        size_t i = 0;
        for (const Node* cs : seqOf(get(status, list))) {
          std::string_view id = digestOf(getStr(cs, "imageID"));
          std::string_view name = getStr(cs, "name");
          if (!id.empty() && !name.empty()) {
            digests[{a, name, getStr(cs, "image")}].emplace_back(p, id);
            where[{p, name}] = {get(cs, "imageID"), fmt::format("status.{}[{}].imageID", list, i)};
          }
          ++i;
        }
      }
    }
    for (const auto& [key, values] : digests) {
      std::set<std::string_view> distinct;
      for (const auto& [p, d] : values) distinct.insert(d);
      if (distinct.size() < 2) continue;
      std::string_view base = baselineOf(values);
      size_t on_base = 0;
      for (const auto& [p, d] : values) on_base += d == base;
      for (const auto& [p, d] : values) {
        if (d == base) continue;
        const auto& [node, path] = where[{p, std::get<1>(key)}];
        sink.add(self.finding(
            *p, node->pos, path,
            fmt::format("container {} runs {} as {} while {} of {} pods of {} run it as {}: the "
                        "same reference names two images",
                        std::get<1>(key), std::get<2>(key), d, on_base, values.size(),
                        ownerName(owner), base),
            std::get<1>(key)));
      }
    }
  }
}

// --- cluster-replica-spec-drift --------------------------------------------------------------

constexpr CheckMeta kSpecDrift = wholeInput({
    .id = "cluster-replica-spec-drift",
    .title = "Replica's spec differs from its siblings'",
    .severity = Severity::kHigh,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kPod,
    .remediation = "Find out how the pod came to differ (an image set on the pod itself, a pod "
                   "adopted through matching labels, admission that changed in between) and "
                   "delete it so the controller recreates it from the template.",
    .refs = kDriftRefs,
});

void specDriftFinish(const FnCheck& self, const CheckContext& ctx, FindingSink& sink) {
  if (!ctx.index) return;
  for (const auto& [owner, pods] : podsByOwner(*ctx.index)) {
    if (pods.size() < 2) continue;
    std::map<std::string, std::vector<std::pair<const Object*, std::string>>> by_fact;
    std::vector<std::vector<std::pair<std::string, std::string>>> facts;
    for (const Object* p : pods) facts.push_back(specFacts(*p));
    std::set<std::string> labels;
    for (const auto& f : facts)
      for (const auto& [label, value] : f) labels.insert(label);
    for (size_t i = 0; i < pods.size(); ++i) {
      std::map<std::string_view, std::string_view> mine;
      for (const auto& [label, value] : facts[i]) mine[label] = value;
      for (const std::string& label : labels)
        by_fact[label].emplace_back(pods[i], std::string(mine.count(label) ? mine[label] : "~"));
    }
    std::map<const Object*, std::vector<std::string>> differs;
    for (const auto& [label, values] : by_fact) {
      std::string base = baselineOf(values);
      for (const auto& [p, v] : values)
        if (v != base) differs[p].push_back(label);
    }
    for (const Object* p : pods) {
      auto it = differs.find(p);
      if (it == differs.end()) continue;
      const Node* spec = get(p->root, "spec");
      sink.add(self.finding(
          *p, spec ? spec->pos : p->root->pos, "spec",
          fmt::format("Pod {} differs from the other {} pods of {} in {}", p->ref.name,
                      pods.size() - 1, ownerName(owner), fmt::join(it->second, ", "))));
    }
  }
}

// --- cluster-ephemeral-container -------------------------------------------------------------

constexpr CheckMeta kEphemeral = wholeInput({
    .id = "cluster-ephemeral-container",
    .title = "Pod has an ephemeral (debug) container",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kPod,
    .remediation = "Confirm who ran `kubectl debug` and why (the audit log has it); restart the "
                   "pod to remove the container, and restrict pods/ephemeralcontainers in RBAC.",
    .refs = {.nsa = "Audit logging and threat detection", .mitre = "T1609"},
});

void ephemeral(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Node* list = get(get(o.root, "spec"), "ephemeralContainers");
  std::map<std::string_view, std::string_view> state;
  for (const Node* s : seqOf(get(get(o.root, "status"), "ephemeralContainerStatuses"))) {
    const Node* st = get(s, "state");
    state[getStr(s, "name")] = get(st, "running")      ? "running"
                               : get(st, "terminated") ? "terminated"
                                                       : "waiting";
  }
  size_t i = 0;
  for (const Node* c : seqOf(list)) {
    std::string_view name = getStr(c, "name");
    auto it = state.find(name);
    sink.add(self.finding(
        o, c->pos, fmt::format("spec.ephemeralContainers[{}]", i++),
        fmt::format("ephemeral container {} ({}{}{}) was added to Pod {}: someone attached a "
                    "debug container, with the pod's namespaces and volumes",
                    name, getStr(c, "image"), it == state.end() ? "" : ", ",
                    it == state.end() ? "" : it->second, o.ref.name),
        name));
  }
}

// --- cluster-replicaset-stale ----------------------------------------------------------------

constexpr CheckMeta kStale = wholeInput({
    .id = "cluster-replicaset-stale",
    .title = "Old ReplicaSet still runs pods after its Deployment's rollout finished",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kReplicaSet,
    .remediation = "Scale the old ReplicaSet to zero (or find what holds it: a paused rollout, "
                   "pods it adopted) so only the current template runs.",
    .refs = kDriftRefs,
});

void staleReplicaSet(const FnCheck& self, const Object& o, const CheckContext& ctx,
                     FindingSink& sink) {
  if (!ctx.index) return;
  const Node* replicas = get(get(o.root, "status"), "replicas");
  if (!replicas || replicas->asInt().value_or(0) <= 0) return;
  for (const Node* ref : seqOf(get(o.metadata, "ownerReferences"))) {
    if (!getTrue(ref, "controller") || getStr(ref, "kind") != "Deployment") continue;
    const Object* d = ctx.index->find("Deployment", o.ref.namespace_, getStr(ref, "name"));
    if (!d) return;
    constexpr std::string_view kRevision = "deployment.kubernetes.io/revision";
    std::string_view mine = o.annotation(kRevision), current = d->annotation(kRevision);
    if (mine.empty() || current.empty() || mine == current) return;
    // During a rollout old ReplicaSets run pods by design: only a finished one counts.
    const Node* status = get(d->root, "status");
    if (getTrue(get(d->root, "spec"), "paused")) return;
    int64_t want = get(get(d->root, "spec"), "replicas")
                       ? get(get(d->root, "spec"), "replicas")->asInt().value_or(1)
                       : 1;
    const Node* updated = get(status, "updatedReplicas");
    const Node* observed = get(status, "observedGeneration");
    const Node* generation = get(d->metadata, "generation");
    if (!updated || updated->asInt().value_or(-1) < want) return;
    if (observed && generation && observed->asInt() < generation->asInt()) return;
    sink.add(self.finding(o, replicas->pos, "status.replicas",
                          fmt::format("ReplicaSet {} (revision {}) still runs {} pods although "
                                      "Deployment {} finished rolling out revision {}",
                                      o.ref.name, mine, *replicas->asInt(), d->ref.name, current)));
    return;
  }
}

}  // namespace

void addDriftChecks(std::vector<std::unique_ptr<Check>>& out) {
  out.push_back(std::make_unique<FnCheck>(kEphemeral, ephemeral));
  out.push_back(std::make_unique<FnCheck>(kImageDrift, nullptr, imageDriftFinish));
  out.push_back(std::make_unique<FnCheck>(kSpecDrift, nullptr, specDriftFinish));
  out.push_back(std::make_unique<FnCheck>(kStale, staleReplicaSet));
}

}  // namespace kh
