// Container image references, normalised as the container runtime resolves them:
// "nginx" is docker.io/library/nginx:latest; "localhost:5000/app" has registry localhost:5000;
// a digest pins the image whatever the tag says.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kh {

struct ImageRef {
  std::string registry;    // docker.io, ghcr.io, localhost:5000, ...
  std::string repository;  // library/nginx
  std::string tag;         // empty when none was written
  std::string digest;      // sha256:... or empty
  bool implicit_tag() const { return tag.empty() && digest.empty(); }
  // registry/repository[:tag][@digest], with the implicit :latest written out.
  std::string normalized() const;
};

// Nothing for an empty or malformed reference.
std::optional<ImageRef> parseImageRef(std::string_view ref);

}  // namespace kh
