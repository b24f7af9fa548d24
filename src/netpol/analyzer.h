// Connectivity analysis over a Model, exactly per NetworkPolicy v1 semantics: per-direction
// isolation, additive rules, src egress AND dst ingress, named ports resolved per destination.
// The external address space is split into disjoint ranges at every ipBlock boundary and each
// range is a peer. Built once per model (rule-to-workload matches precomputed); read-only after.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "netpol/model.h"

namespace kh::netpol {

// One side of a connection, explained: is the pod isolated in that direction, by which
// policies, and which rules allow which connections.
struct SideExplanation {
  bool isolated = false;
  std::vector<const Policy*> policies;  // policies selecting the pod in this direction
  struct Allow {
    const Policy* policy;
    size_t rule;  // index in the policy's ingress or egress rules
    ConnSet conns;
  };
  std::vector<Allow> allows;
  ConnSet allowed;  // everything this side lets through
};

// A peer: a workload (index into model.workloads) or an external address range.
struct Endpoint {
  std::optional<size_t> workload;
  IpRange ip;
};

class Analyzer {
 public:
  explicit Analyzer(const Model& m);
  const Model& model() const { return m_; }

  ConnSet connections(const Endpoint& src, const Endpoint& dst) const;
  SideExplanation egress(const Endpoint& src, const Endpoint& dst) const;   // src's side
  SideExplanation ingress(const Endpoint& src, const Endpoint& dst) const;  // dst's side

  // The external address space as disjoint ranges split at every ipBlock boundary (IPv4 always;
  // IPv6 too when some policy has an IPv6 ipBlock).
  const std::vector<IpRange>& externalRanges() const { return external_; }

  bool ingressIsolated(size_t w) const { return !ingress_of_[w].empty(); }
  bool egressIsolated(size_t w) const { return !egress_of_[w].empty(); }
  const std::vector<const Policy*>& selecting(size_t w, bool ingress) const {
    return ingress ? ingress_of_[w] : egress_of_[w];
  }
  bool peerMatches(const Policy& p, const Peer& peer, size_t w) const;
  bool selects(const Policy& p, size_t w) const;

 private:
  struct RuleIndex {
    std::vector<uint64_t> matched;  // bitset: workloads matched by the rule's peers
    bool has(size_t w) const { return (matched[w / 64] >> (w % 64)) & 1; }
  };
  SideExplanation side(const Endpoint& self, const Endpoint& other, bool ingress) const;
  // What one side lets through, without the explanation (the connlist hot path).
  ConnSet sideAllowed(const Endpoint& self, const Endpoint& other, bool ingress) const;

 public:
  // Destinations src's egress rules can reach at all (every workload when not isolated or when a
  // rule has no peers), as a bitset over model.workloads.
  std::vector<uint64_t> egressCandidates(size_t src) const;

 private:
  ConnSet portsFor(const Rule& r, const Endpoint& dst) const;
  bool ruleMatches(const Policy& p, const Rule& r, const RuleIndex& idx,
                   const Endpoint& other) const;

  const Model& m_;
  std::vector<std::vector<const Policy*>> ingress_of_, egress_of_;
  std::vector<std::vector<RuleIndex>> ingress_rules_, egress_rules_;  // per policy, per rule
  std::vector<IpRange> external_;
};

// Connlist lines, sorted, self-pairs omitted; adjacent external ranges with equal connections
// are merged.
struct Connection {
  std::string src, dst;
  ConnSet conns;
};
std::vector<Connection> connectionList(const Analyzer& a);

}  // namespace kh::netpol
