// Small string helpers shared by every layer. Pure functions, no allocation unless they return
// a std::string.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace kh {

std::string_view trim(std::string_view s);
std::vector<std::string_view> splitTrimmed(std::string_view s, char sep);  // empty items dropped
bool iequals(std::string_view a, std::string_view b);
// RFC 3986 percent-encoding of everything but the unreserved characters (A-Z a-z 0-9 - . _ ~),
// as URL query values and purl components need.
std::string percentEncode(std::string_view s);
// `needle` (lower-case ASCII) occurs in `hay` ignoring ASCII case; no allocation.
bool icontains(std::string_view hay, std::string_view needle);
std::string toUpper(std::string_view s);
std::string toLower(std::string_view s);
// The items (anything convertible to std::string_view) joined with `sep`.
template <typename Range>
std::string join(const Range& items, std::string_view sep) {
  std::string out;
  bool first = true;
  for (const auto& item : items) {
    if (!first) out += sep;
    out += std::string_view(item);
    first = false;
  }
  return out;
}
// Calls fn(line) for each line of `text`, without its '\n' (a '\r' before it is kept); a last line
// without '\n' counts, an empty text has none. When fn returns bool, false stops the walk.
template <typename Fn>
void forEachLine(std::string_view text, Fn fn) {
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(start, nl - start);
    start = nl + 1;
    if constexpr (std::is_same_v<decltype(fn(line)), bool>) {
      if (!fn(line)) return;
    } else {
      fn(line);
    }
  }
}
// A Go duration ("10s", "500ms", "1m30s", "1h"), in seconds; nullopt when malformed.
std::optional<double> parseDuration(std::string_view s);

// Shell-style glob with '*' and '?' only (used for exceptions by kind/namespace/name).
bool globMatch(std::string_view pattern, std::string_view text);

// The offset of the first byte that does not begin a well-formed UTF-8 sequence (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF, no sequence cut by the end), or npos.
size_t invalidUtf8At(std::string_view s);
// Is `date` (YYYY-MM-DD) strictly before `today` (YYYY-MM-DD)? Both must be valid dates.
bool isValidDate(std::string_view date);
// Today's date in UTC as YYYY-MM-DD; KUBEHARDEN_TODAY overrides it (tests use it).
std::string todayUtc();
// A UTC time as RFC 3339 to the second: 2026-11-23T21:00:00Z.
std::string rfc3339Utc(std::chrono::system_clock::time_point t);
// FNV-1a 64-bit, rendered as 16 hex digits. Used for stable fingerprints, not for security.
std::string fingerprintHex(std::string_view data);

// Standard base64 (RFC 4648, with padding); decoding accepts missing padding and fails (nullopt)
// on any other character.
std::string base64Encode(std::string_view bytes);
std::optional<std::string> base64Decode(std::string_view text);

// The whole file at `path` into `out`; false when it cannot be read.
bool readFileTo(const std::string& path, std::string& out);

}  // namespace kh
