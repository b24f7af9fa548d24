#include "registry/reference.h"

#include <fmt/format.h>

#include <cctype>

namespace kh::registry {
namespace {

bool lowerAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool alnum(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0;
}
bool hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool word(char c) {
  return alnum(c) || c == '_';
}

// path-component := [a-z0-9]+ (separator [a-z0-9]+)*, separator := [_.] | __ | -+
bool validComponent(std::string_view c) {
  if (c.empty() || !lowerAlnum(c.front()) || !lowerAlnum(c.back())) return false;
  for (size_t i = 0; i < c.size();) {
    if (lowerAlnum(c[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < c.size() && !lowerAlnum(c[j])) ++j;
    std::string_view sep = c.substr(i, j - i);
    bool ok = sep == "." || sep == "_" || sep == "__" ||
              sep.find_first_not_of('-') == std::string_view::npos;
    if (!ok) return false;
    i = j;
  }
  return true;
}

// domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
bool validDomainComponent(std::string_view c) {
  if (c.empty() || !alnum(c.front()) || !alnum(c.back())) return false;
  for (char ch : c)
    if (!alnum(ch) && ch != '-') return false;
  return true;
}

bool validDomain(std::string_view d) {
  std::string_view host = d;
  if (d.starts_with('[')) {  // [IPv6]:port
    size_t close = d.find(']');
    if (close == std::string_view::npos || close < 3) return false;
    for (char c : d.substr(1, close - 1))
      if (!hex(c) && c != ':' && c != '.') return false;
    std::string_view rest = d.substr(close + 1);
    if (rest.empty()) return true;
    if (rest.front() != ':' || rest.size() < 2) return false;
    for (char c : rest.substr(1))
      if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    return true;
  }
  if (size_t colon = d.rfind(':'); colon != std::string_view::npos) {
    std::string_view port = d.substr(colon + 1);
    if (port.empty()) return false;
    for (char c : port)
      if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    host = d.substr(0, colon);
  }
  if (host.empty()) return false;
  for (size_t start = 0;;) {
    size_t dot = host.find('.', start);
    if (!validDomainComponent(
            host.substr(start, dot == std::string_view::npos ? dot : dot - start)))
      return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

}  // namespace

bool isValidDigest(std::string_view d) {
  size_t colon = d.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string_view algo = d.substr(0, colon), value = d.substr(colon + 1);
  // algorithm := component ([+._-] component)*, component := [a-z][a-z0-9]*
  bool start = true;
  for (char c : algo) {
    if (start) {
      if (!(c >= 'a' && c <= 'z')) return false;
      start = false;
    } else if (c == '+' || c == '.' || c == '_' || c == '-') {
      start = true;
    } else if (!lowerAlnum(c)) {
      return false;
    }
  }
  if (start) return false;
  auto lowerHex = [](std::string_view v) {
    for (char c : v)
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
  };
  if (algo == "sha256") return value.size() == 64 && lowerHex(value);
  if (algo == "sha512") return value.size() == 128 && lowerHex(value);
  if (value.size() < 32) return false;
  for (char c : value)
    if (!hex(c)) return false;
  return true;
}

Result<Reference> parseReference(std::string_view text) {
  auto fail = [&](std::string why) -> Result<Reference> {
    return Error{fmt::format("invalid image reference '{}': {}", text, why), {}, {}};
  };
  if (text.empty()) return fail("it is empty");
  for (char c : text)
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f)
      return fail("it holds white space or control characters");
  if (text.size() == 64) {
    bool all_hex = true;
    for (char c : text) all_hex = all_hex && hex(c);
    if (all_hex) return fail("a 64-digit hexadecimal string is an image ID, not a reference");
  }
  Reference r;
  std::string_view rest = text;
  if (size_t at = rest.find('@'); at != std::string_view::npos) {
    std::string_view digest = rest.substr(at + 1);
    if (!isValidDigest(digest))
      return fail(
          fmt::format("'{}' is not a digest (sha256: and 64 lower-case hex digits)", digest));
    r.digest = std::string(digest);
    rest = rest.substr(0, at);
  }
  // A tag follows the last ':' that comes after the last '/' (localhost:5000/app has none).
  size_t slash = rest.rfind('/');
  size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    std::string_view tag = rest.substr(colon + 1);
    bool ok = !tag.empty() && tag.size() <= 128 && word(tag.front());
    for (char c : tag) ok = ok && (word(c) || c == '.' || c == '-');
    if (!ok)
      return fail(
          fmt::format("'{}' is not a tag (letters, digits, _ . -, at most 128, not "
                      "starting with . or -)",
                      tag));
    r.tag = std::string(tag);
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) return fail("it names no repository");
  // The first component is a registry when it has a '.' or a ':', is localhost, or has upper
  // case (Docker's rule); otherwise the image is on Docker Hub.
  std::string_view remote = rest;
  size_t first = rest.find('/');
  if (first != std::string_view::npos) {
    std::string_view head = rest.substr(0, first);
    bool upper = false;
    for (char c : head) upper = upper || (c >= 'A' && c <= 'Z');
    if (head.find_first_of(".:") != std::string_view::npos || head == "localhost" || upper) {
      if (!validDomain(head)) return fail(fmt::format("'{}' is not a registry host[:port]", head));
      r.domain = std::string(head);
      remote = rest.substr(first + 1);
    }
  }
  if (r.domain.empty() || r.domain == "index.docker.io") r.domain = "docker.io";
  if (remote.empty()) return fail("it names no repository");
  for (size_t start = 0;;) {
    size_t s = remote.find('/', start);
    std::string_view comp = remote.substr(start, s == std::string_view::npos ? s : s - start);
    if (!validComponent(comp)) {
      for (char c : comp)
        if (c >= 'A' && c <= 'Z') return fail("repository names must be lower case");
      return fail(
          fmt::format("'{}' is not a repository path component (lower-case letters and "
                      "digits, separated by '.', '_', '__' or dashes)",
                      comp));
    }
    if (s == std::string_view::npos) break;
    start = s + 1;
  }
  r.repository = std::string(remote);
  if (r.domain == "docker.io" && r.repository.find('/') == std::string::npos)
    r.repository = "library/" + r.repository;
  // The limit is on the normalised name (docker.io/library/ counted), as Docker checks it.
  if (r.name().size() > 255)
    return fail(fmt::format("the name {} is longer than 255 characters", r.name().size()));
  if (r.tag.empty() && r.digest.empty()) r.tag = "latest";
  return r;
}

std::string Reference::name() const {
  return domain + "/" + repository;
}

std::string Reference::canonical() const {
  std::string s = name();
  if (!tag.empty()) s += ":" + tag;
  if (!digest.empty()) s += "@" + digest;
  return s;
}

std::string Reference::familiar() const {
  std::string s = name();
  if (isDockerHub()) {
    // library/ goes only from official images (library/nginx, not library/a/b).
    std::string short_name =
        repository.starts_with("library/") && repository.find('/', 8) == std::string::npos
            ? repository.substr(8)
            : repository;
    // Only when the short form reads back as Docker Hub: a first component that looks like a
    // registry (docker.io/foo.com/app) keeps the domain.
    std::string_view head = std::string_view(short_name).substr(0, short_name.find('/'));
    bool looks_like_domain =
        short_name.find('/') != std::string::npos &&
        (head.find_first_of(".:") != std::string_view::npos || head == "localhost");
    if (!looks_like_domain) s = short_name;
  }
  if (!tag.empty()) s += ":" + tag;
  if (!digest.empty()) s += "@" + digest;
  return s;
}

std::string Reference::apiHost() const {
  return isDockerHub() ? std::string("registry-1.docker.io") : domain;
}

bool Reference::isLoopback() const {
  std::string_view host = domain;
  if (host.starts_with('[')) return host.starts_with("[::1]");
  host = host.substr(0, host.find(':'));
  return host == "localhost" || host.starts_with("127.");
}

std::string Platform::str() const {
  return variant.empty() ? fmt::format("{}/{}", os, architecture)
                         : fmt::format("{}/{}/{}", os, architecture, variant);
}

bool Platform::satisfies(const Platform& want) const {
  if (os != want.os || architecture != want.architecture) return false;
  if (want.variant.empty()) return true;
  return variant == want.variant || (variant.empty() && want.variant == "v8");
}

Result<Platform> parsePlatform(std::string_view text) {
  Platform p;
  std::string_view parts[3];
  size_t n = 0;
  for (size_t start = 0; n < 4;) {
    size_t s = text.find('/', start);
    if (n == 3)
      return Error{fmt::format("--platform '{}': expected os/arch[/variant]", text), {}, {}};
    parts[n++] = text.substr(start, s == std::string_view::npos ? s : s - start);
    if (s == std::string_view::npos) break;
    start = s + 1;
  }
  if (n < 2 || parts[0].empty() || parts[1].empty() || (n == 3 && parts[2].empty()))
    return Error{fmt::format("--platform '{}': expected os/arch[/variant], such as linux/amd64 or "
                             "linux/arm64/v8",
                             text),
                 {},
                 {}};
  for (size_t i = 0; i < n; ++i)
    for (char c : parts[i])
      if (!lowerAlnum(c) && c != '_' && c != '-' && c != '.')
        return Error{
            fmt::format("--platform '{}': '{}' is not a platform name", text, parts[i]), {}, {}};
  p.os = std::string(parts[0]);
  p.architecture = std::string(parts[1]);
  if (n == 3) p.variant = std::string(parts[2]);
  return p;
}

}  // namespace kh::registry
