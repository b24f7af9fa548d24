#include "netpol/lint.h"

#include <fmt/format.h>

namespace kh::netpol {
namespace {

// Position of a path such as {"spec", "ingress", 0, "from", 1} below an object's root.
struct Step {
  std::string_view key;
  int index = -1;
};

SourcePos posAt(const Object* o, std::initializer_list<Step> steps) {
  const Node* n = o->root;
  SourcePos pos = n->pos;
  for (const Step& s : steps) {
    if (s.index >= 0) {
      if (!n->isSeq() || static_cast<uint32_t>(s.index) >= n->size) break;
      n = n->items[s.index];
      pos = n->pos;
    } else {
      const MapEntry* e = n->entry(s.key);
      if (!e) break;
      pos = e->key_pos;
      n = e->value;
    }
  }
  return pos;
}

std::string_view dirName(bool ingress) {
  return ingress ? "ingress" : "egress";
}

bool allowsUdp53(const Rule& r) {
  if (r.all_ports) return true;
  for (const PortEntry& e : r.ports) {
    if (e.protocol != Protocol::kUDP) continue;
    if (e.kind == PortEntry::Kind::kAll) return true;
    if (e.kind == PortEntry::Kind::kNumbers && e.lo <= 53 && 53 <= e.hi) return true;
    if (e.kind == PortEntry::Kind::kNamed)
      return true;  // resolved per destination; give the benefit
  }
  return false;
}

bool isEverywhere(const IpRange& r) {
  return r.lo == 0 && r == fullSpace(r.v6);
}

}  // namespace

std::vector<LintFinding> lint(const Analyzer& a) {
  const Model& m = a.model();
  std::vector<LintFinding> out;
  size_t n = m.workloads.size();

  // Namespaces declared in the input that lack a default-deny policy for a direction. (A chart
  // that does not ship its Namespace says nothing about the namespace's policies.)
  for (const auto& [ns_name, ns] : m.namespaces) {
    if (!ns.object) continue;
    for (bool ingress : {true, false}) {
      bool has = false;
      for (const Policy& p : m.policies)
        has |= p.ns == ns_name && p.pod_selector.matchesEverything() &&
               (ingress ? p.ingress : p.egress);
      if (has) continue;
      out.push_back(
          {"network-no-default-deny", dirName(ingress), ns.object, "metadata.name",
           posAt(ns.object, {{"metadata"}, {"name"}}),
           fmt::format("namespace {} has no default-deny {} NetworkPolicy (podSelector: {{}} "
                       "with policyTypes [{}]): pods without a policy of their own accept {} "
                       "traffic",
                       ns_name, dirName(ingress), ingress ? "Ingress" : "Egress",
                       ingress ? "all incoming" : "all outgoing")});
    }
  }

  // Workloads not isolated per direction.
  for (size_t w = 0; w < n; ++w) {
    for (bool ingress : {true, false}) {
      if (ingress ? a.ingressIsolated(w) : a.egressIsolated(w)) continue;
      const Workload& wl = m.workloads[w];
      out.push_back(
          {"network-workload-not-isolated", dirName(ingress), wl.object,
           wl.object->pod ? wl.object->pod->path : "spec", posAt(wl.object, {{"metadata"}}),
           fmt::format("{} is not selected by any NetworkPolicy for {}: all {} traffic is allowed",
                       wl.display, dirName(ingress), dirName(ingress))});
    }
  }

  for (const Policy& p : m.policies) {
    const Object* o = p.object;
    bool selects_any = false;
    for (size_t w = 0; w < n && !selects_any; ++w) selects_any = a.selects(p, w);
    if (!selects_any)
      out.push_back(
          {"network-policy-selects-nothing", "", o, "spec.podSelector",
           posAt(o, {{"spec"}, {"podSelector"}}),
           fmt::format("NetworkPolicy {} selects no workload in the input", p.display())});

    for (bool ingress : {true, false}) {
      const auto& rules = ingress ? p.ingress_rules : p.egress_rules;
      std::string_view rules_key = ingress ? "ingress" : "egress";
      std::string_view peers_key = ingress ? "from" : "to";
      for (size_t i = 0; i < rules.size(); ++i) {
        const Rule& r = rules[i];
        int ri = static_cast<int>(i);
        std::string rule_path = fmt::format("spec.{}[{}]", rules_key, i);
        // Allow-all rules and 0.0.0.0/0.
        if (r.all_peers && r.all_ports) {
          out.push_back(
              {"network-allow-all", "", o, rule_path, posAt(o, {{"spec"}, {rules_key}, {"", ri}}),
               fmt::format("NetworkPolicy {}: {} rule {} allows every {} on every port",
                           p.display(), rules_key, i, ingress ? "source" : "destination")});
        }
        for (size_t j = 0; j < r.peers.size(); ++j) {
          const Peer& peer = r.peers[j];
          int pj = static_cast<int>(j);
          std::string peer_path = fmt::format("{}.{}[{}]", rule_path, peers_key, j);
          SourcePos peer_pos = posAt(o, {{"spec"}, {rules_key}, {"", ri}, {peers_key}, {"", pj}});
          if (peer.kind == Peer::Kind::kIpBlock) {
            if (isEverywhere(peer.cidr) && peer.except.empty())
              out.push_back({"network-allow-all", "", o, peer_path + ".ipBlock", peer_pos,
                             fmt::format("NetworkPolicy {}: ipBlock {} admits every address",
                                         p.display(), peer.cidr.v6 ? "::/0" : "0.0.0.0/0")});
            continue;
          }
          // A namespaceSelector that selects no namespace of the input points outside it
          // (kube-system's DNS, a monitoring namespace): nothing there to judge.
          if (peer.namespaces) {
            bool in_input = false;
            for (const auto& [name, ns] : a.model().namespaces)
              in_input = in_input || peer.namespaces->matches(ns.labels);
            if (!in_input) continue;
          }
          bool any = false;
          for (size_t w = 0; w < n && !any; ++w) any = a.peerMatches(p, peer, w);
          if (!any)
            out.push_back(
                {"network-peer-matches-nothing", "", o, peer_path, peer_pos,
                 fmt::format(
                     "NetworkPolicy {}: {} rule {} peer {} matches no workload in the input",
                     p.display(), rules_key, i, j)});
        }
        // Named ports that no relevant pod defines (with that protocol).
        for (size_t k = 0; k < r.ports.size(); ++k) {
          const PortEntry& e = r.ports[k];
          if (e.kind != PortEntry::Kind::kNamed) continue;
          bool resolved = false;
          for (size_t w = 0; w < n && !resolved; ++w) {
            bool relevant = ingress ? a.selects(p, w) : r.all_peers || [&] {
              for (const Peer& peer : r.peers)
                if (a.peerMatches(p, peer, w)) return true;
              return false;
            }();
            if (!relevant) continue;
            for (const NamedPort& np : m.workloads[w].ports)
              resolved |= np.name == e.name && np.protocol == e.protocol;
          }
          if (!resolved)
            out.push_back(
                {"network-named-port-unresolved", "", o,
                 fmt::format("{}.ports[{}].port", rule_path, k),
                 posAt(o, {{"spec"},
                           {rules_key},
                           {"", ri},
                           {"ports"},
                           {"", static_cast<int>(k)},
                           {"port"}}),
                 fmt::format(
                     "NetworkPolicy {}: named port \"{}\" ({}) is not defined on any {} pod, so "
                     "the entry matches nothing",
                     p.display(), e.name, protocolName(e.protocol),
                     ingress ? "selected" : "destination")});
        }
      }
    }
  }

  // Egress isolation that blocks DNS.
  for (size_t w = 0; w < n; ++w) {
    if (!a.egressIsolated(w)) continue;
    bool dns = false;
    for (const Policy* p : a.selecting(w, false))
      for (const Rule& r : p->egress_rules) dns |= allowsUdp53(r);
    if (dns) continue;
    const Workload& wl = m.workloads[w];
    out.push_back({"network-egress-blocks-dns", "", wl.object,
                   wl.object->pod ? wl.object->pod->path : "spec", posAt(wl.object, {{"metadata"}}),
                   fmt::format("{} is egress-isolated and no egress rule allows UDP port 53: name "
                               "resolution will fail",
                               wl.display)});
  }
  return out;
}

}  // namespace kh::netpol
