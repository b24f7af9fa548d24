#include "vuln/version.h"

#include <cctype>
#include <cstdint>

namespace kh::vuln {

namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool isAlnum(char c) { return isDigit(c) || isAlpha(c); }

// --- Debian ------------------------------------------------------------------------------

// dpkg's weight of a character in the non-digit parts: '~' below the end, the end below
// letters, letters below everything else.
int order(std::string_view s, size_t i) {
  if (i >= s.size()) return 0;
  char c = s[i];
  if (isDigit(c)) return 0;
  if (isAlpha(c)) return static_cast<unsigned char>(c);
  if (c == '~') return -1;
  return static_cast<unsigned char>(c) + 256;
}

int verrevcmp(std::string_view a, std::string_view b) {
  size_t i = 0, j = 0;
  auto at = [](std::string_view s, size_t k) { return k < s.size() ? s[k] : '\0'; };
  while (i < a.size() || j < b.size()) {
    while ((i < a.size() && !isDigit(a[i])) || (j < b.size() && !isDigit(b[j]))) {
      int ac = order(a, i), bc = order(b, j);
      if (ac != bc) return ac - bc;
      ++i;
      ++j;
    }
    while (at(a, i) == '0') ++i;
    while (at(b, j) == '0') ++j;
    int first_diff = 0;
    while (isDigit(at(a, i)) && isDigit(at(b, j))) {
      if (!first_diff) first_diff = at(a, i) - at(b, j);
      ++i;
      ++j;
    }
    if (isDigit(at(a, i))) return 1;
    if (isDigit(at(b, j))) return -1;
    if (first_diff) return first_diff;
  }
  return 0;
}

struct DebVersion {
  uint64_t epoch = 0;
  std::string_view upstream, revision;
};

DebVersion parseDebian(std::string_view v) {
  DebVersion out;
  size_t colon = v.find(':');
  if (colon != std::string_view::npos) {
    for (char c : v.substr(0, colon)) {
      if (!isDigit(c)) break;
      out.epoch = out.epoch * 10 + static_cast<uint64_t>(c - '0');
      if (out.epoch > UINT32_MAX) out.epoch = UINT32_MAX;  // dpkg rejects larger epochs
    }
    v.remove_prefix(colon + 1);
  }
  size_t dash = v.rfind('-');
  if (dash != std::string_view::npos) {
    out.upstream = v.substr(0, dash);
    out.revision = v.substr(dash + 1);
  } else {
    out.upstream = v;
  }
  return out;
}

// --- RPM ---------------------------------------------------------------------------------

struct Evr {
  std::string_view epoch, version, release;
  bool has_release = false;
};

Evr parseEvr(std::string_view s) {
  Evr e;
  size_t colon = s.find(':');
  if (colon != std::string_view::npos) {
    bool digits = colon > 0;
    for (char c : s.substr(0, colon)) digits &= isDigit(c);
    if (digits) {
      e.epoch = s.substr(0, colon);
      s.remove_prefix(colon + 1);
    }
  }
  size_t dash = s.rfind('-');
  if (dash != std::string_view::npos) {
    e.version = s.substr(0, dash);
    e.release = s.substr(dash + 1);
    e.has_release = true;
  } else {
    e.version = s;
  }
  return e;
}

// --- apk ---------------------------------------------------------------------------------

// Token kinds in the order apk-tools ranks them: a version that goes on where the other ends is
// newer, unless what follows is a pre-release suffix.
enum ApkToken { kInvalid = -1, kDigitOrZero, kDigit, kLetter, kSuffix, kSuffixNo, kRevisionNo, kEnd };

struct ApkReader {
  std::string_view s;
  int type = kDigit;

  void nextType() {
    int n = kInvalid;
    if (s.empty()) {
      n = kEnd;
    } else if ((type == kDigit || type == kDigitOrZero) && s[0] >= 'a' && s[0] <= 'z') {
      n = kLetter;
    } else if (type == kLetter && isDigit(s[0])) {
      n = kDigit;
    } else if (type == kSuffix && isDigit(s[0])) {
      n = kSuffixNo;
    } else {
      switch (s[0]) {
        case '.': n = kDigitOrZero; break;
        case '_': n = kSuffix; break;
        case '-':
          if (s.size() > 1 && s[1] == 'r') {
            n = kRevisionNo;
            s.remove_prefix(1);
          }
          break;
        default: break;
      }
      s.remove_prefix(1);
    }
    // A kind may only follow a lower one, except: .digit after a digit, _suffix after a
    // suffix number, a digit after a letter.
    if (n < type && !((n == kDigitOrZero && type == kDigit) || (n == kSuffix && type == kSuffixNo) ||
                      (n == kDigit && type == kLetter)))
      n = kInvalid;
    type = n;
  }

  // The value of the token at hand (and moves to the next one).
  int64_t take() {
    static constexpr std::string_view kPre[] = {"alpha", "beta", "pre", "rc"};
    static constexpr std::string_view kPost[] = {"cvs", "svn", "git", "hg", "p"};
    if (s.empty()) {
      type = kEnd;
      return 0;
    }
    int64_t v = 0;
    size_t i = 0;
    int next = kInvalid;
    switch (type) {
      case kDigitOrZero:
        if (s[0] == '0') {  // leading zeros: a fraction, smaller the more zeros
          while (i < s.size() && s[i] == '0') ++i;
          next = kDigit;
          v = -static_cast<int64_t>(i);
          break;
        }
        [[fallthrough]];
      case kDigit:
      case kSuffixNo:
      case kRevisionNo:
        while (i < s.size() && isDigit(s[i]) && v < (int64_t{1} << 56)) v = v * 10 + (s[i++] - '0');
        while (i < s.size() && isDigit(s[i])) ++i;
        break;
      case kLetter:
        v = static_cast<unsigned char>(s[i++]);
        break;
      case kSuffix: {
        bool found = false;
        for (size_t k = 0; k < 4 && !found; ++k)
          if (s.starts_with(kPre[k])) {
            v = static_cast<int64_t>(k) - 4;
            i = kPre[k].size();
            found = true;
          }
        for (size_t k = 0; k < 5 && !found; ++k)
          if (s.starts_with(kPost[k])) {
            v = static_cast<int64_t>(k);
            i = kPost[k].size();
            found = true;
          }
        if (found) break;
        type = kInvalid;
        return -1;
      }
      default:
        type = kInvalid;
        return -1;
    }
    s.remove_prefix(i);
    if (s.empty()) {
      type = kEnd;
    } else if (next != kInvalid) {
      type = next;
    } else {
      nextType();
    }
    return v;
  }
};

}  // namespace

int compareApk(std::string_view a, std::string_view b) {
  ApkReader x{a}, y{b};
  int64_t av = 0, bv = 0;
  while (x.type == y.type && x.type != kEnd && x.type != kInvalid && av == bv) {
    av = x.take();
    bv = y.take();
  }
  if (av != bv) return av < bv ? -1 : 1;
  if (x.type == y.type) return 0;
  // Equal so far: the one that goes on is newer, unless it goes on with a pre-release suffix.
  if (x.type == kSuffix) {
    ApkReader t = x;
    if (t.take() < 0) return -1;
  }
  if (y.type == kSuffix) {
    ApkReader t = y;
    if (t.take() < 0) return 1;
  }
  if (x.type > y.type) return -1;
  if (y.type > x.type) return 1;
  return 0;
}

int compareDebian(std::string_view a, std::string_view b) {
  DebVersion x = parseDebian(a), y = parseDebian(b);
  if (x.epoch != y.epoch) return x.epoch < y.epoch ? -1 : 1;
  if (int r = verrevcmp(x.upstream, y.upstream)) return r < 0 ? -1 : 1;
  int r = verrevcmp(x.revision, y.revision);
  return r < 0 ? -1 : r > 0 ? 1 : 0;
}

int rpmvercmp(std::string_view a, std::string_view b) {
  if (a == b) return 0;
  size_t i = 0, j = 0;
  auto at = [](std::string_view s, size_t k) { return k < s.size() ? s[k] : '\0'; };
  while (i < a.size() || j < b.size()) {
    while (i < a.size() && !isAlnum(a[i]) && a[i] != '~' && a[i] != '^') ++i;
    while (j < b.size() && !isAlnum(b[j]) && b[j] != '~' && b[j] != '^') ++j;
    // '~' sorts before everything, the end included.
    if (at(a, i) == '~' || at(b, j) == '~') {
      if (at(a, i) != '~') return 1;
      if (at(b, j) != '~') return -1;
      ++i;
      ++j;
      continue;
    }
    // '^' sorts after the end, but before any other segment.
    if (at(a, i) == '^' || at(b, j) == '^') {
      if (i >= a.size()) return -1;
      if (j >= b.size()) return 1;
      if (at(a, i) != '^') return 1;
      if (at(b, j) != '^') return -1;
      ++i;
      ++j;
      continue;
    }
    if (!(i < a.size() && j < b.size())) break;
    size_t si = i, sj = j;
    bool num = isDigit(a[i]);
    if (num) {
      while (isDigit(at(a, si))) ++si;
      while (isDigit(at(b, sj))) ++sj;
    } else {
      while (isAlpha(at(a, si))) ++si;
      while (isAlpha(at(b, sj))) ++sj;
    }
    // A segment of another kind: numbers are newer than letters.
    if (sj == j) return num ? 1 : -1;
    std::string_view x = a.substr(i, si - i), y = b.substr(j, sj - j);
    if (num) {
      while (x.size() > 1 && x.front() == '0') x.remove_prefix(1);
      while (y.size() > 1 && y.front() == '0') y.remove_prefix(1);
      if (x.size() != y.size()) return x.size() > y.size() ? 1 : -1;
    }
    if (int r = x.compare(y)) return r < 0 ? -1 : 1;
    i = si;
    j = sj;
  }
  if (i >= a.size() && j >= b.size()) return 0;
  return i >= a.size() ? -1 : 1;
}

int compareRpm(std::string_view a, std::string_view b) {
  Evr x = parseEvr(a), y = parseEvr(b);
  if (int r = rpmvercmp(x.epoch.empty() ? "0" : x.epoch, y.epoch.empty() ? "0" : y.epoch)) return r;
  if (int r = rpmvercmp(x.version, y.version)) return r;
  return rpmvercmp(x.release, y.release);  // a missing release is an empty one, as rpmver has it
}

}  // namespace kh::vuln
