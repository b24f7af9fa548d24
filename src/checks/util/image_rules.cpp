#include "checks/util/image_rules.h"

#include "base/strings.h"

namespace kh {

bool isRootUser(std::string_view user) {
  std::string_view name = trim(user.substr(0, user.find(':')));
  return name.empty() || name == "root" || name == "0";
}

bool isRemoteSource(std::string_view src) {
  return src.starts_with("git@") ||
         (src.find("://") != std::string_view::npos && !src.starts_with("file:"));
}

bool isSshPort(std::string_view port) {
  size_t slash = port.find('/');
  std::string_view number = port.substr(0, slash);
  std::string_view proto = slash == std::string_view::npos ? "tcp" : port.substr(slash + 1);
  return number == "22" && (proto == "tcp" || proto == "TCP");
}

}  // namespace kh
