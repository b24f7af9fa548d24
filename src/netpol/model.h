// The NetworkPolicy model built from the loaded objects (no I/O): workloads as peers, namespaces
// with the `kubernetes.io/metadata.name` label, and v1 NetworkPolicies with their policyTypes
// defaulted as the API server does. See docs/netpol.md for the semantics.
//
// Strings are views into the documents (the SourceFiles must outlive the Model) or into the
// Model's own storage. Immutable after build(); thread-safe to read.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/label_selector.h"
#include "model/object.h"
#include "netpol/connset.h"
#include "netpol/ip.h"

namespace kh::netpol {

using kh::Labels;
using kh::LabelSelector;

struct Peer {
  enum class Kind { kPods, kIpBlock } kind = Kind::kPods;
  std::optional<LabelSelector> pods;        // podSelector
  std::optional<LabelSelector> namespaces;  // namespaceSelector
  IpRange cidr;
  std::vector<IpRange> except;
  bool matchesIp(const IpRange& r) const;  // r lies inside cidr and outside every except
};

struct PortEntry {
  Protocol protocol = Protocol::kTCP;
  enum class Kind { kAll, kNumbers, kNamed } kind = Kind::kAll;
  uint16_t lo = 1, hi = 65535;
  std::string_view name;
};

struct Rule {
  bool all_peers = true;  // from/to missing or empty: every source or destination
  std::vector<Peer> peers;
  bool all_ports = true;  // ports missing or empty
  std::vector<PortEntry> ports;
};

struct Policy {
  const Object* object = nullptr;
  std::string_view ns, name;
  LabelSelector pod_selector;
  bool ingress = false, egress = false;  // effective policyTypes
  std::vector<Rule> ingress_rules, egress_rules;
  std::string display() const;  // "ns/name"
};

struct NamedPort {
  std::string_view name;
  uint16_t port;
  Protocol protocol;
};

struct Workload {
  std::string ns, name, kind;
  Labels labels;
  std::vector<NamedPort> ports;
  const Object* object = nullptr;
  std::string display;  // "ns/name[Kind]"
};

struct Namespace {
  std::string name;
  Labels labels;
  bool declared = false;
  const Object* object = nullptr;  // the Namespace object, when declared
};

struct Model {
  std::vector<Workload> workloads;  // sorted by display
  std::map<std::string, Namespace, std::less<>> namespaces;
  std::vector<Policy> policies;       // sorted by ns/name
  std::vector<std::string> warnings;  // e.g. malformed selectors, bad CIDRs
  bool has_v6 = false;                // some ipBlock is IPv6

  const Namespace* findNamespace(std::string_view name) const;
  // Resolves "ns/name", "ns/name[Kind]" or "name" (namespace default); nullptr when unknown.
  const Workload* findWorkload(std::string_view ref) const;
};

Model buildModel(const std::vector<const Object*>& objects);

}  // namespace kh::netpol
