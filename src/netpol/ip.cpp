#include "netpol/ip.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <charconv>
#include <cstring>

namespace kh::netpol {

std::optional<IpRange> parseCidr(std::string_view s) {
  std::string addr(s);
  int bits = -1;
  if (size_t slash = s.find('/'); slash != std::string_view::npos) {
    addr = std::string(s.substr(0, slash));
    std::string_view b = s.substr(slash + 1);
    auto [p, ec] = std::from_chars(b.data(), b.data() + b.size(), bits);
    if (ec != std::errc() || p != b.data() + b.size()) return std::nullopt;
  }
  IpRange r;
  unsigned char buf[16];
  if (inet_pton(AF_INET, addr.c_str(), buf) == 1) {
    if (bits < 0) bits = 32;
    if (bits > 32) return std::nullopt;
    u128 a = (u128(buf[0]) << 24) | (u128(buf[1]) << 16) | (u128(buf[2]) << 8) | u128(buf[3]);
    u128 size = u128(1) << (32 - bits);
    r.lo = a & ~(size - 1) & 0xffffffffu;
    r.hi = r.lo + size - 1;
    return r;
  }
  if (inet_pton(AF_INET6, addr.c_str(), buf) == 1) {
    if (bits < 0) bits = 128;
    if (bits > 128) return std::nullopt;
    u128 a = 0;
    for (unsigned char c : buf) a = (a << 8) | c;
    r.v6 = true;
    u128 mask = bits == 0 ? 0 : (~u128(0)) << (128 - bits);
    r.lo = a & mask;
    r.hi = r.lo | ~mask;
    return r;
  }
  return std::nullopt;
}

IpRange fullSpace(bool v6) {
  IpRange r;
  r.v6 = v6;
  r.lo = 0;
  r.hi = v6 ? ~u128(0) : u128(0xffffffffu);
  return r;
}

std::string formatAddress(bool v6, u128 a) {
  char out[INET6_ADDRSTRLEN];
  unsigned char buf[16];
  if (!v6) {
    for (int i = 3; i >= 0; --i) {
      buf[i] = static_cast<unsigned char>(a & 0xff);
      a >>= 8;
    }
    inet_ntop(AF_INET, buf, out, sizeof out);
  } else {
    for (int i = 15; i >= 0; --i) {
      buf[i] = static_cast<unsigned char>(a & 0xff);
      a >>= 8;
    }
    inet_ntop(AF_INET6, buf, out, sizeof out);
  }
  return out;
}

std::string formatRange(const IpRange& r) {
  return fmt::format("{}-{}", formatAddress(r.v6, r.lo), formatAddress(r.v6, r.hi));
}

}  // namespace kh::netpol
