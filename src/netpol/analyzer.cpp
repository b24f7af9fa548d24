#include "netpol/analyzer.h"

#include <algorithm>
#include <map>

namespace kh::netpol {

Analyzer::Analyzer(const Model& m) : m_(m) {
  size_t n = m.workloads.size();
  ingress_of_.resize(n);
  egress_of_.resize(n);
  for (const Policy& p : m.policies) {
    for (size_t w = 0; w < n; ++w) {
      if (!selects(p, w)) continue;
      if (p.ingress) ingress_of_[w].push_back(&p);
      if (p.egress) egress_of_[w].push_back(&p);
    }
  }
  auto index = [&](const Policy& p, const std::vector<Rule>& rules) {
    std::vector<RuleIndex> out;
    for (const Rule& r : rules) {
      RuleIndex idx;
      idx.matched.assign((n + 63) / 64, 0);
      for (size_t w = 0; w < n; ++w) {
        bool match = false;
        for (const Peer& peer : r.peers) match = match || peerMatches(p, peer, w);
        if (match) idx.matched[w / 64] |= uint64_t(1) << (w % 64);
      }
      out.push_back(std::move(idx));
    }
    return out;
  };
  for (const Policy& p : m.policies) {
    ingress_rules_.push_back(index(p, p.ingress_rules));
    egress_rules_.push_back(index(p, p.egress_rules));
  }
  // Split the external space at every ipBlock boundary.
  for (bool v6 : {false, true}) {
    if (v6 && !m.has_v6) continue;
    IpRange full = fullSpace(v6);
    std::vector<u128> cuts = {full.lo};
    auto cut = [&](const IpRange& r) {
      if (r.v6 != v6) return;
      cuts.push_back(r.lo);
      if (r.hi != full.hi) cuts.push_back(r.hi + 1);
    };
    for (const Policy& p : m.policies)
      for (const auto* rules : {&p.ingress_rules, &p.egress_rules})
        for (const Rule& r : *rules)
          for (const Peer& peer : r.peers) {
            if (peer.kind != Peer::Kind::kIpBlock) continue;
            cut(peer.cidr);
            for (const IpRange& e : peer.except) cut(e);
          }
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    for (size_t i = 0; i < cuts.size(); ++i) {
      IpRange r;
      r.v6 = v6;
      r.lo = cuts[i];
      r.hi = i + 1 < cuts.size() ? cuts[i + 1] - 1 : full.hi;
      external_.push_back(r);
    }
  }
}

bool Analyzer::selects(const Policy& p, size_t w) const {
  const Workload& wl = m_.workloads[w];
  return wl.ns == p.ns && p.pod_selector.matches(wl.labels);
}

bool Analyzer::peerMatches(const Policy& p, const Peer& peer, size_t w) const {
  if (peer.kind == Peer::Kind::kIpBlock) return false;  // pod IPs are unknown offline
  const Workload& wl = m_.workloads[w];
  bool ns_ok;
  if (peer.namespaces) {
    const Namespace* ns = m_.findNamespace(wl.ns);
    ns_ok = ns && peer.namespaces->matches(ns->labels);
  } else {
    ns_ok = wl.ns == p.ns;
  }
  return ns_ok && (!peer.pods || peer.pods->matches(wl.labels));
}

ConnSet Analyzer::portsFor(const Rule& r, const Endpoint& dst) const {
  if (r.all_ports) return ConnSet::all();
  ConnSet c;
  for (const PortEntry& e : r.ports) {
    switch (e.kind) {
      case PortEntry::Kind::kAll:
        c.add(e.protocol, PortSet::all());
        break;
      case PortEntry::Kind::kNumbers:
        c.add(e.protocol, PortSet::range(e.lo, e.hi));
        break;
      case PortEntry::Kind::kNamed:
        if (!dst.workload) break;  // named ports never match ipBlock destinations
        for (const NamedPort& np : m_.workloads[*dst.workload].ports)
          if (np.name == e.name && np.protocol == e.protocol)
            c.add(e.protocol, PortSet::range(np.port, np.port));
        break;
    }
  }
  return c;
}

bool Analyzer::ruleMatches(const Policy&, const Rule& r, const RuleIndex& idx,
                           const Endpoint& other) const {
  if (r.all_peers) return true;
  if (other.workload) return idx.has(*other.workload);
  for (const Peer& peer : r.peers)
    if (peer.matchesIp(other.ip)) return true;
  return false;
}

SideExplanation Analyzer::side(const Endpoint& self, const Endpoint& other, bool ingress) const {
  SideExplanation s;
  size_t w = *self.workload;
  s.policies = selecting(w, ingress);
  s.isolated = !s.policies.empty();
  if (!s.isolated) {
    s.allowed = ConnSet::all();
    return s;
  }
  const Endpoint& dst = ingress ? self : other;
  for (const Policy* p : s.policies) {
    size_t pi = static_cast<size_t>(p - m_.policies.data());
    const auto& rules = ingress ? p->ingress_rules : p->egress_rules;
    const auto& idx = ingress ? ingress_rules_[pi] : egress_rules_[pi];
    for (size_t i = 0; i < rules.size(); ++i) {
      if (!ruleMatches(*p, rules[i], idx[i], other)) continue;
      ConnSet c = portsFor(rules[i], dst);
      if (c.empty()) continue;
      s.allowed.add(c);
      s.allows.push_back({p, i, std::move(c)});
    }
  }
  return s;
}

ConnSet Analyzer::sideAllowed(const Endpoint& self, const Endpoint& other, bool ingress) const {
  size_t w = *self.workload;
  const Endpoint& dst = ingress ? self : other;
  ConnSet allowed;
  for (const Policy* p : selecting(w, ingress)) {
    size_t pi = static_cast<size_t>(p - m_.policies.data());
    const auto& rules = ingress ? p->ingress_rules : p->egress_rules;
    const auto& idx = ingress ? ingress_rules_[pi] : egress_rules_[pi];
    for (size_t i = 0; i < rules.size(); ++i)
      if (ruleMatches(*p, rules[i], idx[i], other)) allowed.add(portsFor(rules[i], dst));
  }
  return allowed;
}

std::vector<uint64_t> Analyzer::egressCandidates(size_t src) const {
  size_t n = m_.workloads.size();
  std::vector<uint64_t> bits((n + 63) / 64, 0);
  auto all = [&] {
    std::fill(bits.begin(), bits.end(), ~uint64_t(0));
    if (n % 64) bits.back() = (uint64_t(1) << (n % 64)) - 1;
  };
  if (!egressIsolated(src)) {
    all();
    return bits;
  }
  for (const Policy* p : egress_of_[src]) {
    size_t pi = static_cast<size_t>(p - m_.policies.data());
    for (size_t i = 0; i < p->egress_rules.size(); ++i) {
      if (p->egress_rules[i].all_peers) {
        all();
        return bits;
      }
      const auto& m = egress_rules_[pi][i].matched;
      for (size_t k = 0; k < bits.size(); ++k) bits[k] |= m[k];
    }
  }
  return bits;
}

SideExplanation Analyzer::egress(const Endpoint& src, const Endpoint& dst) const {
  if (!src.workload) {  // external sources: only the pod side is evaluated
    SideExplanation s;
    s.allowed = ConnSet::all();
    return s;
  }
  return side(src, dst, false);
}

SideExplanation Analyzer::ingress(const Endpoint& src, const Endpoint& dst) const {
  if (!dst.workload) {
    SideExplanation s;
    s.allowed = ConnSet::all();
    return s;
  }
  return side(dst, src, true);
}

ConnSet Analyzer::connections(const Endpoint& src, const Endpoint& dst) const {
  bool e_iso = src.workload && egressIsolated(*src.workload);
  bool i_iso = dst.workload && ingressIsolated(*dst.workload);
  if (!e_iso && !i_iso) return ConnSet::all();
  if (!e_iso) return sideAllowed(dst, src, true);
  ConnSet out = sideAllowed(src, dst, false);
  if (!i_iso || out.empty()) return out;
  return out.intersect(sideAllowed(dst, src, true));
}

std::vector<Connection> connectionList(const Analyzer& a) {
  const Model& m = a.model();
  std::vector<Connection> out;
  size_t n = m.workloads.size();
  for (size_t s = 0; s < n; ++s) {
    // Only destinations that some egress rule of s can reach at all.
    std::vector<uint64_t> candidates = a.egressCandidates(s);
    for (size_t k = 0; k < candidates.size(); ++k) {
      for (uint64_t word = candidates[k]; word; word &= word - 1) {
        size_t d = k * 64 + static_cast<size_t>(__builtin_ctzll(word));
        if (d == s) continue;
        ConnSet c = a.connections({s, {}}, {d, {}});
        if (!c.empty())
          out.push_back({m.workloads[s].display, m.workloads[d].display, std::move(c)});
      }
    }
  }
  // External peers, merging adjacent ranges that have the same connections.
  auto external = [&](size_t w, bool outbound) {
    std::optional<IpRange> run;
    ConnSet run_conns;
    auto flush = [&] {
      if (!run || run_conns.empty()) return;
      std::string ext = formatRange(*run) + "[External]";
      if (outbound)
        out.push_back({m.workloads[w].display, ext, run_conns});
      else
        out.push_back({ext, m.workloads[w].display, run_conns});
    };
    for (const IpRange& r : a.externalRanges()) {
      Endpoint e{std::nullopt, r}, self{w, {}};
      ConnSet c = outbound ? a.connections(self, e) : a.connections(e, self);
      if (run && run->v6 == r.v6 && run->hi + 1 == r.lo && c == run_conns) {
        run->hi = r.hi;
        continue;
      }
      flush();
      run = r;
      run_conns = std::move(c);
    }
    flush();
  };
  for (size_t w = 0; w < n; ++w) {
    external(w, true);
    external(w, false);
  }
  std::sort(out.begin(), out.end(), [](const Connection& x, const Connection& y) {
    return std::tie(x.src, x.dst) < std::tie(y.src, y.dst);
  });
  return out;
}

}  // namespace kh::netpol
