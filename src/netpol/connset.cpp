#include "netpol/connset.h"

#include <fmt/format.h>

#include <algorithm>

namespace kh::netpol {

std::string_view protocolName(Protocol p) {
  switch (p) {
    case Protocol::kTCP:
      return "TCP";
    case Protocol::kUDP:
      return "UDP";
    case Protocol::kSCTP:
      return "SCTP";
  }
  return "TCP";
}

std::optional<Protocol> parseProtocol(std::string_view s) {
  if (s == "TCP") return Protocol::kTCP;
  if (s == "UDP") return Protocol::kUDP;
  if (s == "SCTP") return Protocol::kSCTP;
  return std::nullopt;
}

bool PortSet::contains(uint16_t port) const {
  for (const PortRange& r : ranges_)
    if (port >= r.lo && port <= r.hi) return true;
  return false;
}

void PortSet::add(const PortSet& other) {
  if (other.ranges_.empty()) return;
  std::vector<PortRange> all = ranges_;
  all.insert(all.end(), other.ranges_.begin(), other.ranges_.end());
  std::sort(all.begin(), all.end(),
            [](const PortRange& a, const PortRange& b) { return a.lo < b.lo; });
  std::vector<PortRange> merged;
  for (const PortRange& r : all) {
    if (!merged.empty() &&
        static_cast<uint32_t>(r.lo) <= static_cast<uint32_t>(merged.back().hi) + 1) {
      merged.back().hi = std::max(merged.back().hi, r.hi);
    } else {
      merged.push_back(r);
    }
  }
  ranges_ = std::move(merged);
}

PortSet PortSet::intersect(const PortSet& other) const {
  std::vector<PortRange> out;
  size_t i = 0, j = 0;
  while (i < ranges_.size() && j < other.ranges_.size()) {
    uint16_t lo = std::max(ranges_[i].lo, other.ranges_[j].lo);
    uint16_t hi = std::min(ranges_[i].hi, other.ranges_[j].hi);
    if (lo <= hi) out.push_back({lo, hi});
    if (ranges_[i].hi < other.ranges_[j].hi)
      ++i;
    else
      ++j;
  }
  return PortSet(std::move(out));
}

std::string PortSet::toString() const {
  std::string s;
  for (const PortRange& r : ranges_) {
    if (!s.empty()) s += ',';
    if (r.lo == r.hi)
      s += std::to_string(r.lo);
    else
      s += fmt::format("{}-{}", r.lo, r.hi);
  }
  return s;
}

ConnSet ConnSet::all() {
  ConnSet c;
  for (PortSet& p : c.sets_) p = PortSet::all();
  return c;
}

void ConnSet::add(const ConnSet& other) {
  for (int i = 0; i < kProtocols; ++i) sets_[i].add(other.sets_[i]);
}

ConnSet ConnSet::intersect(const ConnSet& other) const {
  ConnSet c;
  for (int i = 0; i < kProtocols; ++i) c.sets_[i] = sets_[i].intersect(other.sets_[i]);
  return c;
}

bool ConnSet::empty() const {
  for (const PortSet& p : sets_)
    if (!p.empty()) return false;
  return true;
}

bool ConnSet::isAll() const {
  for (const PortSet& p : sets_)
    if (!p.isAll()) return false;
  return true;
}

std::string ConnSet::toString() const {
  if (isAll()) return "All Connections";
  std::string s;
  for (Protocol p : {Protocol::kSCTP, Protocol::kTCP, Protocol::kUDP}) {
    const PortSet& ps = of(p);
    if (ps.empty()) continue;
    if (!s.empty()) s += ',';
    s += fmt::format("{} {}", protocolName(p), ps.toString());
  }
  return s.empty() ? "No Connections" : s;
}

}  // namespace kh::netpol
