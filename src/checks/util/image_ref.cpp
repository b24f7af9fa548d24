#include "checks/util/image_ref.h"

#include <cctype>

#include "base/strings.h"

namespace kh {

std::optional<ImageRef> parseImageRef(std::string_view in) {
  std::string_view s = trim(in);
  if (s.empty() || s.find_first_of(" \t\n") != std::string_view::npos) return std::nullopt;
  ImageRef r;
  if (size_t at = s.find('@'); at != std::string_view::npos) {
    r.digest = std::string(s.substr(at + 1));
    s = s.substr(0, at);
    if (r.digest.find(':') == std::string::npos) return std::nullopt;
  }
  // The first component is a registry when it has a '.' or ':', is "localhost", or has capitals.
  std::string_view rest = s;
  if (size_t slash = s.find('/'); slash != std::string_view::npos) {
    std::string_view first = s.substr(0, slash);
    bool upper = false;
    for (char c : first) upper |= std::isupper(static_cast<unsigned char>(c)) != 0;
    if (first.find_first_of(".:") != std::string_view::npos || first == "localhost" || upper) {
      r.registry = std::string(first);
      rest = s.substr(slash + 1);
    }
  }
  if (size_t colon = rest.rfind(':');
      colon != std::string_view::npos && rest.find('/', colon) == std::string_view::npos) {
    r.tag = std::string(rest.substr(colon + 1));
    rest = rest.substr(0, colon);
    if (r.tag.empty()) return std::nullopt;
  }
  if (rest.empty()) return std::nullopt;
  if (r.registry.empty() || r.registry == "index.docker.io") r.registry = "docker.io";
  r.repository = std::string(rest);
  if (r.registry == "docker.io" && r.repository.find('/') == std::string::npos)
    r.repository = "library/" + r.repository;
  return r;
}

std::string ImageRef::normalized() const {
  std::string out = registry + "/" + repository;
  if (!tag.empty()) out += ":" + tag;
  if (tag.empty() && digest.empty()) out += ":latest";
  if (!digest.empty()) out += "@" + digest;
  return out;
}

}  // namespace kh
