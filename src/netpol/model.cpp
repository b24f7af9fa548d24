#include "netpol/model.h"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>

namespace kh::netpol {
namespace {

constexpr std::string_view kNameLabel = "kubernetes.io/metadata.name";

const Node* labelsNode(const Object& o) {
  if (o.ref.kind == "Pod" || !o.pod) return o.labels;
  return get(o.pod->template_meta, "labels");
}

std::vector<PortEntry> parsePorts(const Node* ports) {
  std::vector<PortEntry> out;
  for (const Node* p : seqOf(ports)) {
    PortEntry e;
    std::string_view proto = getStr(p, "protocol");
    if (!proto.empty()) e.protocol = parseProtocol(proto).value_or(Protocol::kTCP);
    const Node* port = get(p, "port");
    if (port && !port->isNull()) {
      if (auto num = port->asInt()) {
        e.kind = PortEntry::Kind::kNumbers;
        e.lo = e.hi = static_cast<uint16_t>(std::clamp<int64_t>(*num, 1, 65535));
        if (auto end = get(p, "endPort") ? get(p, "endPort")->asInt() : std::nullopt)
          e.hi = static_cast<uint16_t>(std::clamp<int64_t>(*end, e.lo, 65535));
      } else {
        e.kind = PortEntry::Kind::kNamed;
        e.name = port->text;
      }
    }
    out.push_back(e);
  }
  return out;
}

std::vector<Rule> parseRules(const Node* rules, std::string_view peers_key, Model& m,
                             const std::string& where) {
  std::vector<Rule> out;
  for (const Node* r : seqOf(rules)) {
    Rule rule;
    const Node* peers = get(r, peers_key);
    rule.all_peers = !peers || peers->seqItems().empty();
    for (const Node* p : seqOf(peers)) {
      Peer peer;
      if (const Node* ip = get(p, "ipBlock")) {
        peer.kind = Peer::Kind::kIpBlock;
        auto cidr = parseCidr(getStr(ip, "cidr"));
        if (!cidr) {
          m.warnings.push_back(
              fmt::format("{}: ipBlock cidr '{}' is not a CIDR; the peer matches nothing", where,
                          getStr(ip, "cidr")));
          continue;
        }
        peer.cidr = *cidr;
        m.has_v6 |= cidr->v6;
        const Node* ex = get(ip, "except");
        for (const Node* e : seqOf(ex))
          if (auto x = parseCidr(e->text)) peer.except.push_back(*x);
      } else {
        peer.pods = parseSelector(get(p, "podSelector"), m.warnings, where);
        peer.namespaces = parseSelector(get(p, "namespaceSelector"), m.warnings, where);
        if (!peer.pods && !peer.namespaces) {
          m.warnings.push_back(
              fmt::format("{}: a peer with no selector and no ipBlock (the API rejects it); "
                          "it matches nothing",
                          where));
          continue;
        }
      }
      rule.peers.push_back(std::move(peer));
    }
    const Node* ports = get(r, "ports");
    rule.ports = parsePorts(ports);
    rule.all_ports = rule.ports.empty();
    out.push_back(std::move(rule));
  }
  return out;
}

// --- which workload a pod-bearing object stands for ---------------------------------------

// The kinds whose objects own pods (directly or through another controller) and can stand for
// them in a connection list.
bool isController(std::string_view kind) {
  return kind == "Deployment" || kind == "ReplicaSet" || kind == "StatefulSet" ||
         kind == "DaemonSet" || kind == "Job" || kind == "CronJob" ||
         kind == "ReplicationController";
}

using OwnerIndex = std::unordered_map<std::string, const Object*>;

std::string ownerKey(std::string_view ns, std::string_view kind, std::string_view name) {
  return fmt::format("{}\x1f{}\x1f{}", ns, kind, name);
}

// The entry of metadata.ownerReferences marked controller: true (the API allows one at most).
const Node* controllerRef(const Object& o) {
  for (const Node* ref : seqOf(get(o.metadata, "ownerReferences")))
    if (getTrue(ref, "controller")) return ref;
  return nullptr;
}

struct WorkloadId {
  std::string_view kind, name;
};

// A pod created by a controller is represented by that controller, so all its pods are one
// peer; a controller created by another one that is also in the input (a Deployment's
// ReplicaSet, a CronJob's Job) by the topmost. A Pod's own controller stands for it even when
// the input lacks that controller, except a Node: the kubelet names the Node as the controller
// of a static pod's mirror, and each static pod (etcd-<node>, kube-apiserver-<node>, ...) is a
// workload of its own. A ReplicaSet that is absent from the input but named
// <deployment>-<pod-template-hash> belongs to that Deployment when the Deployment is present
// (the deployment controller names its ReplicaSets so).
WorkloadId workloadOf(const Object& o, const OwnerIndex& owned) {
  WorkloadId id{o.ref.kind, o.ref.name};
  std::string_view ns = o.namespaceOrDefault();
  const Object* cur = &o;
  for (int depth = 0; cur && depth < 8; ++depth) {  // owner chains are short; cycles are not
    const Node* ref = controllerRef(*cur);
    std::string_view kind = getStr(ref, "kind"), name = getStr(ref, "name");
    if (!ref || kind.empty() || name.empty() || kind == "Node") break;
    auto it = owned.find(ownerKey(ns, kind, name));
    const Object* owner = it == owned.end() ? nullptr : it->second;
    if (!owner) {
      // Only a Pod is replaced by an owner the input lacks: a controller that is present
      // stands for itself.
      if (cur != &o || o.ref.kind != "Pod") break;
      id = {kind, name};
      std::string_view hash = getStr(o.labels, "pod-template-hash");
      if (kind == "ReplicaSet" && !hash.empty() && name.size() > hash.size() + 1 &&
          name.ends_with(hash) && name[name.size() - hash.size() - 1] == '-') {
        std::string_view deployment = name.substr(0, name.size() - hash.size() - 1);
        if (owned.count(ownerKey(ns, "Deployment", deployment))) id = {"Deployment", deployment};
      }
      break;
    }
    id = {owner->ref.kind, owner->ref.name};
    cur = owner;
  }
  return id;
}

}  // namespace

bool Peer::matchesIp(const IpRange& r) const {
  if (kind != Kind::kIpBlock || !cidr.contains(r)) return false;
  for (const IpRange& e : except)
    if (e.overlaps(r)) return false;
  return true;
}

std::string Policy::display() const {
  return fmt::format("{}/{}", ns, name);
}

const Namespace* Model::findNamespace(std::string_view name) const {
  auto it = namespaces.find(name);
  return it == namespaces.end() ? nullptr : &it->second;
}

const Workload* Model::findWorkload(std::string_view ref) const {
  for (const Workload& w : workloads)
    if (w.display == ref) return &w;
  std::string_view ns = "default", name = ref;
  if (size_t slash = ref.find('/'); slash != std::string_view::npos) {
    ns = ref.substr(0, slash);
    name = ref.substr(slash + 1);
  }
  const Workload* found = nullptr;
  for (const Workload& w : workloads) {
    if (w.ns != ns || w.name != name) continue;
    if (found) return nullptr;  // ambiguous: several kinds share the name
    found = &w;
  }
  return found;
}

Model buildModel(const std::vector<const Object*>& objects) {
  Model m;
  auto touchNamespace = [&](std::string_view name) -> Namespace& {
    auto it = m.namespaces.find(name);
    if (it == m.namespaces.end()) {
      Namespace ns;
      ns.name = std::string(name);
      it = m.namespaces.emplace(ns.name, std::move(ns)).first;
      it->second.labels.emplace_back(kNameLabel, it->first);
    }
    return it->second;
  };
  std::map<std::string, size_t> by_display;
  OwnerIndex owned;
  for (const Object* o : objects)
    if (isController(o->ref.kind))
      owned.emplace(ownerKey(o->namespaceOrDefault(), o->ref.kind, o->ref.name), o);
  for (const Object* o : objects) {
    std::string_view kind = o->ref.kind;
    if (kind == "Namespace" && o->ref.api_version == "v1") {
      Namespace& ns = touchNamespace(o->ref.name);
      ns.declared = true;
      ns.object = o;
      ns.labels = labelsOf(o->labels);
      std::erase_if(ns.labels, [](const auto& kv) { return kv.first == kNameLabel; });
      ns.labels.emplace_back(kNameLabel, m.namespaces.find(o->ref.name)->first);
      continue;
    }
    if (kind == "NetworkPolicy" && o->ref.api_version == "networking.k8s.io/v1") {
      Policy p;
      p.object = o;
      p.ns = o->namespaceOrDefault();
      p.name = o->ref.name;
      touchNamespace(p.ns);
      const Node* spec = get(o->root, "spec");
      std::string where = fmt::format("NetworkPolicy {}/{}", p.ns, p.name);
      p.pod_selector =
          parseSelector(get(spec, "podSelector"), m.warnings, where).value_or(LabelSelector{});
      const Node* egress = get(spec, "egress");
      if (const Node* types = get(spec, "policyTypes")) {
        for (const Node* t : types->seqItems()) {
          p.ingress |= t->text == "Ingress";
          p.egress |= t->text == "Egress";
        }
      } else {
        p.ingress = true;  // defaulting: Ingress always, Egress when egress rules exist
        p.egress = egress && !egress->seqItems().empty();
      }
      p.ingress_rules = parseRules(get(spec, "ingress"), "from", m, where);
      p.egress_rules = parseRules(egress, "to", m, where);
      m.policies.push_back(std::move(p));
      continue;
    }
    if (!o->pod) continue;  // every workload kind, and custom resources with a pod template
    Workload w;
    w.ns = std::string(o->namespaceOrDefault());
    WorkloadId id = workloadOf(*o, owned);
    w.name = std::string(id.name);
    w.kind = std::string(id.kind);
    w.display = fmt::format("{}/{}[{}]", w.ns, w.name, w.kind);
    if (by_display.count(w.display)) continue;
    w.labels = labelsOf(labelsNode(*o));
    w.object = o;
    for (const ContainerRef& c : o->pod->containers) {
      if (c.list == ContainerList::kEphemeral) continue;
      const Node* ports = c.node->get("ports");
      for (const Node* p : seqOf(ports)) {
        auto num = get(p, "containerPort") ? get(p, "containerPort")->asInt() : std::nullopt;
        if (!num || *num < 1 || *num > 65535) continue;
        std::string_view proto = getStr(p, "protocol");
        w.ports.push_back(
            {getStr(p, "name"), static_cast<uint16_t>(*num),
             proto.empty() ? Protocol::kTCP : parseProtocol(proto).value_or(Protocol::kTCP)});
      }
    }
    touchNamespace(w.ns);
    by_display[w.display] = m.workloads.size();
    m.workloads.push_back(std::move(w));
  }
  std::sort(m.workloads.begin(), m.workloads.end(),
            [](const Workload& a, const Workload& b) { return a.display < b.display; });
  std::sort(m.policies.begin(), m.policies.end(), [](const Policy& a, const Policy& b) {
    return std::tie(a.ns, a.name) < std::tie(b.ns, b.name);
  });
  return m;
}

}  // namespace kh::netpol
