// IPv4 and IPv6 address ranges as 128-bit intervals, for ipBlocks and the external address space.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kh::netpol {

using u128 = unsigned __int128;

struct IpRange {
  bool v6 = false;
  u128 lo = 0, hi = 0;  // inclusive; IPv4 uses the low 32 bits
  bool contains(const IpRange& o) const { return v6 == o.v6 && lo <= o.lo && o.hi <= hi; }
  bool overlaps(const IpRange& o) const { return v6 == o.v6 && lo <= o.hi && o.lo <= hi; }
  friend bool operator==(const IpRange&, const IpRange&) = default;
};

// "10.0.0.0/8", "2001:db8::/32"; a plain address is a /32 or /128. Host bits are masked off.
std::optional<IpRange> parseCidr(std::string_view s);
IpRange fullSpace(bool v6);
std::string formatAddress(bool v6, u128 a);
std::string formatRange(const IpRange& r);  // "0.0.0.0-9.255.255.255"

}  // namespace kh::netpol
