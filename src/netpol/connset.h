// Connection sets: for each protocol (TCP, UDP, SCTP) a set of destination port intervals over
// 1-65535. Exact, not sampled; operations are linear in the number of intervals. Value type.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kh::netpol {

enum class Protocol : uint8_t { kTCP = 0, kUDP = 1, kSCTP = 2 };
constexpr int kProtocols = 3;
std::string_view protocolName(Protocol p);
std::optional<Protocol> parseProtocol(std::string_view s);  // "TCP", "UDP", "SCTP"

struct PortRange {
  uint16_t lo, hi;  // inclusive, 1..65535
  friend bool operator==(const PortRange&, const PortRange&) = default;
};

class PortSet {
 public:
  static PortSet all() { return PortSet({{1, 65535}}); }
  static PortSet range(uint16_t lo, uint16_t hi) { return PortSet({{lo, hi}}); }
  PortSet() = default;
  bool empty() const { return ranges_.empty(); }
  bool isAll() const { return ranges_.size() == 1 && ranges_[0].lo == 1 && ranges_[0].hi == 65535; }
  bool contains(uint16_t port) const;
  void add(const PortSet& other);  // union
  PortSet intersect(const PortSet& other) const;
  const std::vector<PortRange>& ranges() const { return ranges_; }
  std::string toString() const;  // "80,443,8000-8080"
  friend bool operator==(const PortSet&, const PortSet&) = default;

 private:
  explicit PortSet(std::vector<PortRange> r) : ranges_(std::move(r)) {}
  std::vector<PortRange> ranges_;  // sorted, disjoint, non-adjacent
};

class ConnSet {
 public:
  static ConnSet all();
  static ConnSet none() { return ConnSet(); }
  void add(Protocol p, const PortSet& ports) { sets_[static_cast<int>(p)].add(ports); }
  void add(const ConnSet& other);
  ConnSet intersect(const ConnSet& other) const;
  bool empty() const;
  bool isAll() const;
  bool allows(Protocol p, uint16_t port) const { return sets_[static_cast<int>(p)].contains(port); }
  const PortSet& of(Protocol p) const { return sets_[static_cast<int>(p)]; }
  // "All Connections", or "SCTP 1-65535,TCP 80,443,UDP 53" (SCTP, TCP, UDP order).
  std::string toString() const;
  friend bool operator==(const ConnSet&, const ConnSet&) = default;

 private:
  std::array<PortSet, kProtocols> sets_;
};

}  // namespace kh::netpol
