#include "vuln/version.h"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace kh::vuln {

namespace {

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}
bool isAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool isAlnum(char c) {
  return isDigit(c) || isAlpha(c);
}

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
enum ApkToken {
  kInvalid = -1,
  kDigitOrZero,
  kDigit,
  kLetter,
  kSuffix,
  kSuffixNo,
  kRevisionNo,
  kEnd
};

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
        case '.':
          n = kDigitOrZero;
          break;
        case '_':
          n = kSuffix;
          break;
        case '-':
          if (s.size() > 1 && s[1] == 'r') {
            n = kRevisionNo;
            s.remove_prefix(1);
          }
          break;
        default:
          break;
      }
      s.remove_prefix(1);
    }
    // A kind may only follow a lower one, except: .digit after a digit, _suffix after a
    // suffix number, a digit after a letter.
    if (n < type && !((n == kDigitOrZero && type == kDigit) ||
                      (n == kSuffix && type == kSuffixNo) || (n == kDigit && type == kLetter)))
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

// --- numbers as digit strings (no overflow, whatever their length) ------------------------

int compareDigits(std::string_view a, std::string_view b) {
  while (a.size() > 1 && a.front() == '0') a.remove_prefix(1);
  while (b.size() > 1 && b.front() == '0') b.remove_prefix(1);
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  int r = a.compare(b);
  return r < 0 ? -1 : r > 0 ? 1 : 0;
}

bool allDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!isDigit(c)) return false;
  return true;
}

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// --- PEP 440 -----------------------------------------------------------------------------

struct Pep440 {
  std::string epoch = "0";
  std::vector<std::string> release;
  int pre_kind = -1;  // 0 a, 1 b, 2 rc; -1 none
  std::string pre_num = "0";
  bool has_post = false, has_dev = false;
  std::string post_num = "0", dev_num = "0";
  std::vector<std::string> local;  // lower-cased segments
};

class Pep440Parser {
 public:
  explicit Pep440Parser(std::string_view s) : s_(s) {}
  std::optional<Pep440> parse() {
    Pep440 v;
    while (!s_.empty() && std::isspace(static_cast<unsigned char>(s_.front()))) s_.remove_prefix(1);
    while (!s_.empty() && std::isspace(static_cast<unsigned char>(s_.back()))) s_.remove_suffix(1);
    if (!s_.empty() && lower(s_.front()) == 'v') s_.remove_prefix(1);
    std::string n = digits();
    if (n.empty()) return std::nullopt;
    if (peek('!')) {
      s_.remove_prefix(1);
      v.epoch = n;
      n = digits();
      if (n.empty()) return std::nullopt;
    }
    v.release.push_back(n);
    while (s_.size() > 1 && s_[0] == '.' && isDigit(s_[1])) {
      s_.remove_prefix(1);
      v.release.push_back(digits());
    }
    // Pre-release: [-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?N?
    {
      std::string_view save = s_;
      sep();
      static constexpr std::pair<std::string_view, int> kPre[] = {
          {"alpha", 0}, {"beta", 1}, {"preview", 2}, {"pre", 2},
          {"rc", 2},    {"a", 0},    {"b", 1},       {"c", 2}};
      int kind = -1;
      for (const auto& [word, k] : kPre)
        if (word_at(word)) {
          kind = k;
          break;
        }
      if (kind >= 0) {
        v.pre_kind = kind;
        sep();  // a separator may follow even without a number ("1.0b." is 1.0b0)
        std::string num = digits();
        if (!num.empty()) v.pre_num = num;
      } else {
        s_ = save;
      }
    }
    // Post-release: -N, or [-_.]?(post|rev|r)[-_.]?N?
    {
      std::string_view save = s_;
      if (s_.size() > 1 && s_[0] == '-' && isDigit(s_[1])) {
        s_.remove_prefix(1);
        v.has_post = true;
        v.post_num = digits();
      } else {
        sep();
        bool found = false;
        for (std::string_view word : {"post", "rev", "r"})
          if (word_at(word)) {
            found = true;
            break;
          }
        if (found) {
          v.has_post = true;
          sep();
          std::string num = digits();
          if (!num.empty()) v.post_num = num;
        } else {
          s_ = save;
        }
      }
    }
    // Dev release: [-_.]?dev[-_.]?N?
    {
      std::string_view save = s_;
      sep();
      if (word_at("dev")) {
        v.has_dev = true;
        sep();
        std::string num = digits();
        if (!num.empty()) v.dev_num = num;
      } else {
        s_ = save;
      }
    }
    // Local version: +segment([-_.]segment)*
    if (peek('+')) {
      s_.remove_prefix(1);
      for (;;) {
        std::string seg;
        while (!s_.empty() && (isAlnum(s_.front()))) {
          seg += lower(s_.front());
          s_.remove_prefix(1);
        }
        if (seg.empty()) return std::nullopt;
        v.local.push_back(seg);
        if (!s_.empty() && (s_[0] == '.' || s_[0] == '-' || s_[0] == '_')) {
          s_.remove_prefix(1);
          continue;
        }
        break;
      }
    }
    if (!s_.empty()) return std::nullopt;
    while (v.release.size() > 1 && v.release.back().find_first_not_of('0') == std::string::npos)
      v.release.pop_back();  // 1.0.0 == 1
    return v;
  }

 private:
  bool peek(char c) const { return !s_.empty() && s_[0] == c; }
  void sep() {
    if (!s_.empty() && (s_[0] == '.' || s_[0] == '-' || s_[0] == '_')) s_.remove_prefix(1);
  }
  std::string digits() {
    size_t i = 0;
    while (i < s_.size() && isDigit(s_[i])) ++i;
    std::string out(s_.substr(0, i));
    s_.remove_prefix(i);
    return out;
  }
  bool word_at(std::string_view w) {
    if (s_.size() < w.size()) return false;
    for (size_t i = 0; i < w.size(); ++i)
      if (lower(s_[i]) != w[i]) return false;
    s_.remove_prefix(w.size());
    return true;
  }
  std::string_view s_;
};

int comparePep440Parsed(const Pep440& x, const Pep440& y) {
  if (int r = compareDigits(x.epoch, y.epoch)) return r;
  for (size_t i = 0; i < std::max(x.release.size(), y.release.size()); ++i) {
    std::string_view a = i < x.release.size() ? std::string_view(x.release[i]) : "0";
    std::string_view b = i < y.release.size() ? std::string_view(y.release[i]) : "0";
    if (int r = compareDigits(a, b)) return r;
  }
  // Pre-release rank: a dev release of the release itself comes before its pre-releases.
  auto preRank = [](const Pep440& v) {
    if (v.pre_kind < 0 && !v.has_post && v.has_dev) return -1;
    if (v.pre_kind < 0) return 3;
    return v.pre_kind;
  };
  int px = preRank(x), py = preRank(y);
  if (px != py) return px < py ? -1 : 1;
  if (x.pre_kind >= 0)
    if (int r = compareDigits(x.pre_num, y.pre_num)) return r;
  if (x.has_post != y.has_post) return x.has_post ? 1 : -1;
  if (x.has_post)
    if (int r = compareDigits(x.post_num, y.post_num)) return r;
  if (x.has_dev != y.has_dev) return x.has_dev ? -1 : 1;
  if (x.has_dev)
    if (int r = compareDigits(x.dev_num, y.dev_num)) return r;
  // Local: none < any; segment by segment, numbers above words, then the longer.
  for (size_t i = 0; i < std::min(x.local.size(), y.local.size()); ++i) {
    bool nx = allDigits(x.local[i]), ny = allDigits(y.local[i]);
    if (nx != ny) return nx ? 1 : -1;
    int r = nx ? compareDigits(x.local[i], y.local[i]) : x.local[i].compare(y.local[i]);
    if (r) return r < 0 ? -1 : 1;
  }
  if (x.local.size() != y.local.size()) return x.local.size() < y.local.size() ? -1 : 1;
  return 0;
}

// Invalid versions: before every valid one, among themselves as strings.
template <typename Parsed, typename Cmp>
int withFallback(std::string_view a, std::string_view b, const std::optional<Parsed>& x,
                 const std::optional<Parsed>& y, Cmp cmp) {
  if (x && y) return cmp(*x, *y);
  if (x) return 1;
  if (y) return -1;
  int r = a.compare(b);
  return r < 0 ? -1 : r > 0 ? 1 : 0;
}

// --- SemVer (npm) ------------------------------------------------------------------------

struct Semver {
  std::string_view major, minor, patch;
  std::vector<std::string_view> pre;
};

bool numericId(std::string_view s) {
  return allDigits(s) && (s.size() == 1 || s[0] != '0');
}

bool validId(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!isAlnum(c) && c != '-') return false;
  return true;
}

std::optional<Semver> parseSemver(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  if (!s.empty() && (s.front() == 'v' || s.front() == '=')) s.remove_prefix(1);
  size_t plus = s.find('+');
  if (plus != std::string_view::npos) {
    std::string_view build = s.substr(plus + 1);
    for (size_t at = 0; at <= build.size();) {
      size_t dot = build.find('.', at);
      if (dot == std::string_view::npos) dot = build.size();
      if (!validId(build.substr(at, dot - at))) return std::nullopt;
      at = dot + 1;
    }
    s = s.substr(0, plus);
  }
  size_t dash = s.find('-');
  std::string_view main = s.substr(0, dash);
  Semver v;
  std::string_view parts[3];
  for (int i = 0; i < 3; ++i) {
    size_t dot = main.find('.');
    parts[i] = main.substr(0, i < 2 ? dot : std::string_view::npos);
    if (!numericId(parts[i])) return std::nullopt;
    if (i < 2) {
      if (dot == std::string_view::npos) return std::nullopt;
      main.remove_prefix(dot + 1);
    }
  }
  v.major = parts[0];
  v.minor = parts[1];
  v.patch = parts[2];
  if (dash != std::string_view::npos) {
    std::string_view pre = s.substr(dash + 1);
    for (size_t at = 0; at <= pre.size();) {
      size_t dot = pre.find('.', at);
      if (dot == std::string_view::npos) dot = pre.size();
      std::string_view id = pre.substr(at, dot - at);
      if (!validId(id) || (allDigits(id) && !numericId(id))) return std::nullopt;
      v.pre.push_back(id);
      at = dot + 1;
    }
  }
  return v;
}

int compareSemverParsed(const Semver& x, const Semver& y) {
  for (auto [a, b] : {std::pair{x.major, y.major}, {x.minor, y.minor}, {x.patch, y.patch}})
    if (int r = compareDigits(a, b)) return r;
  if (x.pre.empty() != y.pre.empty()) return x.pre.empty() ? 1 : -1;
  for (size_t i = 0; i < std::min(x.pre.size(), y.pre.size()); ++i) {
    bool nx = allDigits(x.pre[i]), ny = allDigits(y.pre[i]);
    if (nx != ny) return nx ? -1 : 1;
    int r = nx ? compareDigits(x.pre[i], y.pre[i]) : x.pre[i].compare(y.pre[i]);
    if (r) return r < 0 ? -1 : 1;
  }
  if (x.pre.size() != y.pre.size()) return x.pre.size() < y.pre.size() ? -1 : 1;
  return 0;
}

// --- Go ----------------------------------------------------------------------------------

std::optional<Semver> parseGo(std::string_view v) {
  if (!v.starts_with("v")) return std::nullopt;
  v.remove_prefix(1);
  auto number = [&](std::string_view& s) -> std::optional<std::string_view> {
    size_t i = 0;
    while (i < s.size() && isDigit(s[i])) ++i;
    std::string_view n = s.substr(0, i);
    if (n.empty() || (n.size() > 1 && n[0] == '0')) return std::nullopt;
    s.remove_prefix(i);
    return n;
  };
  Semver out;
  auto major = number(v);
  if (!major) return std::nullopt;
  out.major = *major;
  out.minor = out.patch = "0";
  if (v.empty()) return out;  // v1
  if (v[0] != '.') return std::nullopt;
  v.remove_prefix(1);
  auto minor = number(v);
  if (!minor) return std::nullopt;
  out.minor = *minor;
  if (v.empty()) return out;  // v1.2
  if (v[0] != '.') return std::nullopt;
  v.remove_prefix(1);
  auto patch = number(v);
  if (!patch) return std::nullopt;
  out.patch = *patch;
  auto idents = [](std::string_view s, bool pre, std::vector<std::string_view>* into) {
    for (size_t at = 0; at <= s.size();) {
      size_t dot = s.find('.', at);
      if (dot == std::string_view::npos) dot = s.size();
      std::string_view id = s.substr(at, dot - at);
      if (!validId(id) || (pre && allDigits(id) && !numericId(id))) return false;
      if (into) into->push_back(id);
      at = dot + 1;
    }
    return true;
  };
  size_t plus = v.find('+');
  std::string_view build = plus == std::string_view::npos ? std::string_view() : v.substr(plus + 1);
  if (plus != std::string_view::npos && !idents(build, false, nullptr)) return std::nullopt;
  v = v.substr(0, plus);
  if (v.empty()) return out;
  if (v[0] != '-' || !idents(v.substr(1), true, &out.pre)) return std::nullopt;
  return out;
}

// --- RubyGems ----------------------------------------------------------------------------

struct GemSegment {
  bool number;
  std::string_view text;
};

std::vector<GemSegment> gemSegments(std::string_view v) {
  std::vector<GemSegment> out;
  size_t i = 0;
  while (i < v.size()) {
    if (isDigit(v[i])) {
      size_t j = i;
      while (j < v.size() && isDigit(v[j])) ++j;
      out.push_back({true, v.substr(i, j - i)});
      i = j;
    } else if (isAlpha(v[i])) {
      size_t j = i;
      while (j < v.size() && isAlpha(v[j])) ++j;
      out.push_back({false, v.substr(i, j - i)});
      i = j;
    } else {
      if (v[i] == '-') out.push_back({false, "pre"});  // "1.0-1" is "1.0.pre.1"
      ++i;
    }
  }
  // Canonical form: trailing zeros dropped from the numeric part and from the rest.
  size_t first_string = 0;
  while (first_string < out.size() && out[first_string].number) ++first_string;
  auto isZero = [](const GemSegment& s) {
    return s.number && s.text.find_first_not_of('0') == std::string_view::npos;
  };
  std::vector<GemSegment> canon;
  size_t end = first_string;
  while (end > 0 && isZero(out[end - 1])) --end;
  canon.insert(canon.end(), out.begin(), out.begin() + static_cast<std::ptrdiff_t>(end));
  size_t tail = out.size();
  while (tail > first_string && isZero(out[tail - 1])) --tail;
  canon.insert(canon.end(), out.begin() + static_cast<std::ptrdiff_t>(first_string),
               out.begin() + static_cast<std::ptrdiff_t>(tail));
  return canon;
}

// --- Maven -------------------------------------------------------------------------------

struct MvnItem {
  enum Kind { kInt, kString, kList } kind = kList;
  std::string value;  // kInt: digits without leading zeros; kString: the qualifier (aliased)
  std::vector<MvnItem> items;
};

std::string qualifierRank(const std::string& q) {
  static constexpr std::string_view kOrder[] = {"alpha",    "beta", "milestone", "rc",
                                                "snapshot", "",     "sp"};
  for (size_t i = 0; i < 7; ++i)
    if (q == kOrder[i]) return std::to_string(i);
  return "7-" + q;  // unknown qualifiers: after all known ones, alphabetically
}

MvnItem mvnInt(std::string_view digits) {
  while (digits.size() > 1 && digits.front() == '0') digits.remove_prefix(1);
  return {MvnItem::kInt, std::string(digits), {}};
}

MvnItem mvnString(std::string_view s, bool followed_by_digit) {
  std::string v(s);
  if (followed_by_digit && v.size() == 1) {
    if (v == "a") v = "alpha";
    if (v == "b") v = "beta";
    if (v == "m") v = "milestone";
  }
  if (v == "ga" || v == "final" || v == "release") v.clear();
  if (v == "cr") v = "rc";
  return {MvnItem::kString, v, {}};
}

bool mvnIsNull(const MvnItem& i) {
  switch (i.kind) {
    case MvnItem::kInt:
      return i.value == "0";
    case MvnItem::kString:
      return i.value.empty();
    default:
      return i.items.empty();
  }
}

void mvnNormalize(MvnItem& list) {
  for (size_t k = list.items.size(); k-- > 0;) {
    if (mvnIsNull(list.items[k])) {
      list.items.erase(list.items.begin() + static_cast<std::ptrdiff_t>(k));
    } else if (list.items[k].kind != MvnItem::kList) {
      break;
    }
  }
}

MvnItem parseMaven(std::string_view version) {
  std::string v;
  for (char c : version) v += lower(c);
  MvnItem root;
  std::vector<MvnItem*> stack{&root};
  MvnItem* list = &root;
  bool digit = false;
  size_t start = 0;
  auto item = [&](bool is_digit, std::string_view buf) {
    return is_digit ? mvnInt(buf) : mvnString(buf, false);
  };
  auto sublist = [&] {
    list->items.push_back(MvnItem{});
    list = &list->items.back();
    stack.push_back(list);
  };
  for (size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (c == '.' || c == '-') {
      if (i == start)
        list->items.push_back(mvnInt("0"));
      else
        list->items.push_back(item(digit, std::string_view(v).substr(start, i - start)));
      start = i + 1;
      if (c == '-') sublist();
    } else if (isDigit(c)) {
      if (!digit && i > start) {
        // A qualifier after a '.' counts as after a '-': 1.0.0.X1 < 1.0.0-X2.
        if (!list->items.empty()) sublist();
        list->items.push_back(mvnString(std::string_view(v).substr(start, i - start), true));
        start = i;
        sublist();
      }
      digit = true;
    } else {
      if (digit && i > start) {
        list->items.push_back(mvnInt(std::string_view(v).substr(start, i - start)));
        start = i;
        sublist();
      }
      digit = false;
    }
  }
  if (v.size() > start) {
    if (!digit && !list->items.empty()) sublist();  // the same for a final qualifier
    list->items.push_back(item(digit, std::string_view(v).substr(start)));
  }
  // Normalise innermost lists first (they were pushed last).
  for (size_t k = stack.size(); k-- > 0;) mvnNormalize(*stack[k]);
  return root;
}

int mvnCompare(const MvnItem* a, const MvnItem* b);

// An item against nothing (the other version ended).
int mvnCompareNull(const MvnItem& a) {
  switch (a.kind) {
    case MvnItem::kInt:
      return a.value == "0" ? 0 : 1;
    case MvnItem::kString: {
      int r = qualifierRank(a.value).compare("5");
      return r < 0 ? -1 : r > 0 ? 1 : 0;
    }
    default:
      for (const MvnItem& i : a.items)
        if (int r = mvnCompareNull(i)) return r;
      return 0;
  }
}

int mvnCompare(const MvnItem* a, const MvnItem* b) {
  if (!a && !b) return 0;
  if (!b) return mvnCompareNull(*a);
  if (!a) return -mvnCompareNull(*b);
  switch (a->kind) {
    case MvnItem::kInt:
      if (b->kind == MvnItem::kInt) return compareDigits(a->value, b->value);
      return 1;  // 1.1 > 1-sp, 1.1 > 1-1
    case MvnItem::kString:
      if (b->kind == MvnItem::kString) {
        int r = qualifierRank(a->value).compare(qualifierRank(b->value));
        return r < 0 ? -1 : r > 0 ? 1 : 0;
      }
      return -1;  // 1.any < 1.1, 1.any < 1-1
    default:
      if (b->kind == MvnItem::kInt) return -1;    // 1-1 < 1.0.x
      if (b->kind == MvnItem::kString) return 1;  // 1-1 > 1-sp
      for (size_t i = 0; i < std::max(a->items.size(), b->items.size()); ++i) {
        const MvnItem* l = i < a->items.size() ? &a->items[i] : nullptr;
        const MvnItem* r = i < b->items.size() ? &b->items[i] : nullptr;
        if (int c = mvnCompare(l, r)) return c;
      }
      return 0;
  }
}

}  // namespace

int compareMaven(std::string_view a, std::string_view b) {
  MvnItem x = parseMaven(a), y = parseMaven(b);
  return mvnCompare(&x, &y);
}

int compareGo(std::string_view a, std::string_view b) {
  auto withV = [](std::string_view s) {
    std::string out;
    if (!s.starts_with("v")) out += 'v';
    out.append(s);
    return out;
  };
  std::string x = withV(a), y = withV(b);
  auto px = parseGo(x), py = parseGo(y);
  if (!px || !py) return px ? 1 : py ? -1 : 0;
  return compareSemverParsed(*px, *py);
}

int compareGem(std::string_view a, std::string_view b) {
  auto x = gemSegments(a), y = gemSegments(b);
  for (size_t i = 0; i < std::max(x.size(), y.size()); ++i) {
    GemSegment l = i < x.size() ? x[i] : GemSegment{true, "0"};
    GemSegment r = i < y.size() ? y[i] : GemSegment{true, "0"};
    if (l.number != r.number) return l.number ? 1 : -1;
    int c = l.number ? compareDigits(l.text, r.text) : l.text.compare(r.text);
    if (c) return c < 0 ? -1 : 1;
  }
  return 0;
}

int comparePep440(std::string_view a, std::string_view b) {
  auto x = Pep440Parser(a).parse(), y = Pep440Parser(b).parse();
  return withFallback(a, b, x, y, comparePep440Parsed);
}

int compareSemver(std::string_view a, std::string_view b) {
  return withFallback(a, b, parseSemver(a), parseSemver(b), compareSemverParsed);
}

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

// ---- Composer -------------------------------------------------------------------------------

namespace {

// The stability names Composer writes: a, b, p/pl, rc spelled out.
std::string composerStability(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (s == "a") return "alpha";
  if (s == "b") return "beta";
  if (s == "p" || s == "pl") return "patch";
  if (s == "rc") return "RC";
  return s;
}

// PHP's canonical form: '-', '_', '+' and other non-alphanumerics become one '.', and a '.' goes
// between a digit and a non-digit (a character after a digit stays, even when it is not
// alphanumeric, as PHP has it).
std::string phpCanonical(std::string_view v) {
  std::string out;
  if (v.empty()) return out;
  auto dig = [](char c) { return c >= '0' && c <= '9'; };
  auto ndig = [&](char c) { return !dig(c) && c != '.'; };
  auto dot = [&] {
    if (out.back() != '.') out += '.';
  };
  out += v[0];
  char prev = v[0];
  for (size_t i = 1; i < v.size(); ++i) {
    char c = v[i];
    if (c == '-' || c == '_' || c == '+') {
      dot();
    } else if ((ndig(prev) && dig(c)) || (dig(prev) && ndig(c))) {
      dot();
      out += c;
    } else if (!std::isalnum(static_cast<unsigned char>(c))) {
      dot();
    } else {
      out += c;
    }
    prev = c;
  }
  return out;
}

// The order of PHP's special words; a part matches a word it starts with; a number is "#".
// Parts that match no word come first.
int phpSpecialCompare(std::string_view a, std::string_view b) {
  static const std::pair<std::string_view, int> kForms[] = {
      {"dev", 0}, {"alpha", 1}, {"a", 1}, {"beta", 2}, {"b", 2},
      {"RC", 3},  {"rc", 3},    {"#", 4}, {"pl", 5},   {"p", 5}};
  auto order = [](std::string_view w) {
    for (const auto& [name, o] : kForms)
      if (w.starts_with(name)) return o;
    return -1;
  };
  int x = order(a), y = order(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

// PHP's version_compare (C strings: a NUL ends them).
int phpVersionCompare(std::string_view va, std::string_view vb) {
  va = va.substr(0, va.find('\0'));
  vb = vb.substr(0, vb.find('\0'));
  if (va.empty() || vb.empty()) return va.empty() == vb.empty() ? 0 : va.empty() ? -1 : 1;
  std::string a = va[0] == '#' ? std::string(va) : phpCanonical(va);
  std::string b = vb[0] == '#' ? std::string(vb) : phpCanonical(vb);
  auto at = [](const std::string& s, size_t i) { return i < s.size() ? s[i] : '\0'; };
  auto isDig = [](char c) { return c >= '0' && c <= '9'; };
  auto number = [](std::string_view s) {  // strtol: the leading digits, saturating
    int64_t n = 0;
    for (char c : s) {
      if (c < '0' || c > '9') break;
      n = n > (INT64_MAX - 9) / 10 ? INT64_MAX : n * 10 + (c - '0');
    }
    return n;
  };
  size_t p1 = 0, p2 = 0;
  bool n1 = true, n2 = true;
  int r = 0;
  while (at(a, p1) && at(b, p2) && n1 && n2) {
    size_t e1 = a.find('.', p1), e2 = b.find('.', p2);
    n1 = e1 != std::string::npos;
    n2 = e2 != std::string::npos;
    std::string_view s1 = std::string_view(a).substr(p1, (n1 ? e1 : a.size()) - p1);
    std::string_view s2 = std::string_view(b).substr(p2, (n2 ? e2 : b.size()) - p2);
    bool d1 = isDig(at(a, p1)), d2 = isDig(at(b, p2));
    if (d1 && d2) {
      int64_t x = number(s1), y = number(s2);
      r = x < y ? -1 : x > y ? 1 : 0;
    } else if (!d1 && !d2) {
      r = phpSpecialCompare(s1, s2);
    } else {
      r = d1 ? phpSpecialCompare("#N#", s2) : phpSpecialCompare(s1, "#N#");
    }
    if (r != 0) return r;
    if (n1) p1 = e1 + 1;
    if (n2) p2 = e2 + 1;
  }
  if (n1) return isDig(at(a, p1)) ? 1 : phpVersionCompare(std::string_view(a).substr(p1), "#N#");
  if (n2) return isDig(at(b, p2)) ? -1 : phpVersionCompare("#N#", std::string_view(b).substr(p2));
  return 0;
}

}  // namespace

std::optional<std::string> normaliseComposer(std::string_view input) {
  // PHP's trim(): spaces, tabs, newlines, NUL and vertical tab at both ends.
  std::string_view t = input;
  constexpr std::string_view kTrim(" \t\n\r\0\x0B", 6);
  size_t lead = t.find_first_not_of(kTrim);
  t = lead == std::string_view::npos ? std::string_view()
                                     : t.substr(lead, t.find_last_not_of(kTrim) - lead + 1);
  std::string v(t);
  static const RE2 kAlias(R"(([^,\s]+) +as +([^,\s]+))");
  static const RE2 kFlag(R"((?i)([^,\s@]+)@(?:stable|RC|beta|alpha|dev))");
  static const RE2 kMaster(R"((?i)(?:dev-)?(?:master|trunk|default))");
  static const RE2 kBuild(R"(([^,\s+]+)\+[^\s]+)");
  static const std::string kModifier =
      R"([._-]?(?:(stable|beta|b|RC|alpha|a|patch|pl|p)((?:[.-]?\d+)*)?)?([.-]?dev)?)";
  static const RE2 kClassical("(?i)v?(\\d{1,5})(\\.\\d+)?(\\.\\d+)?(\\.\\d+)?" + kModifier);
  static const RE2 kDate("(?i)v?(\\d{4}(?:[.:-]?\\d{2}){1,6}(?:[.:-]?\\d{1,3}){0,2})" + kModifier);
  static const RE2 kDevSuffix(R"((?i)(.*?)[.-]?dev)");
  static const RE2 kNumericBranch(
      R"((?i)v?(\d+)(\.(?:\d+|[x*]))?(\.(?:\d+|[x*]))?(\.(?:\d+|[x*]))?)");
  std::string first, second;
  if (RE2::FullMatch(v, kAlias, &first, &second)) v = first;
  if (RE2::FullMatch(v, kFlag, &first)) v = first;
  if (RE2::FullMatch(v, kMaster)) {
    std::string l = v;
    for (char& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return l.starts_with("dev-") ? "dev-" + v.substr(4) : "dev-" + v;
  }
  if (v.size() > 4 && (v.compare(0, 4, "dev-") == 0 || v.compare(0, 4, "DEV-") == 0 ||
                       v.compare(0, 4, "Dev-") == 0))
    return "dev-" + v.substr(4);
  if (RE2::FullMatch(v, kBuild, &first)) v = first;
  std::string m[7];
  std::string out;
  bool matched = false;
  if (RE2::FullMatch(v, kClassical, &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], &m[6])) {
    out = m[0] + (m[1].empty() ? ".0" : m[1]) + (m[2].empty() ? ".0" : m[2]) +
          (m[3].empty() ? ".0" : m[3]);
    matched = true;
  } else if (RE2::FullMatch(v, kDate, &m[0], &m[4], &m[5], &m[6])) {
    out = m[0];
    for (char& c : out)
      if (c < '0' || c > '9') c = '.';
    matched = true;
  }
  if (matched) {
    // m[4] stability, m[5] its number, m[6] a -dev suffix.
    if (!m[4].empty()) {
      std::string s = composerStability(m[4]);
      if (s == "stable") return out;
      std::string n = m[5];
      size_t skip = 0;
      while (skip < n.size() && (n[skip] == '.' || n[skip] == '-')) ++skip;
      out += "-" + s + n.substr(skip);
    }
    if (!m[6].empty()) out += "-dev";
    return out;
  }
  if (RE2::FullMatch(v, kDevSuffix, &first)) {
    std::string b[4];
    if (RE2::FullMatch(first, kNumericBranch, &b[0], &b[1], &b[2], &b[3])) {
      std::string r;
      for (int i = 0; i < 4; ++i) {
        std::string part = b[i];
        if (i > 0) part = part.empty() ? "x" : part.substr(1);
        if (part == "x" || part == "X" || part == "*") part = "9999999";
        r += (i ? "." : "") + part;
      }
      return r + "-dev";
    }
    // "feature-dev" is not a version Composer accepts (only "dev-feature" is).
  }
  return std::nullopt;
}

int compareComposer(std::string_view a, std::string_view b) {
  std::optional<std::string> x = normaliseComposer(a), y = normaliseComposer(b);
  // PHP's version_compare is not even reflexive on some strings Composer rejects ("1.#" against
  // itself is -1): the same version is the same version here.
  if (x ? y && *x == *y : a == b) return 0;
  // Branches (dev-*) come before every numbered version, as version_compare has it ("dev" before
  // any number); Composer calls two branches incomparable, so among themselves they are ordered
  // by name, which keeps the order total.
  bool bx = x && x->starts_with("dev-"), by = y && y->starts_with("dev-");
  if (bx && by) return x->compare(*y) < 0 ? -1 : x->compare(*y) > 0 ? 1 : 0;
  if (bx != by && x && y) return bx ? -1 : 1;
  return phpVersionCompare(x ? *x : a, y ? *y : b);
}

}  // namespace kh::vuln
