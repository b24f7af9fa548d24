#include "checks/util/capabilities.h"

#include "base/strings.h"

namespace kh {

std::string canonicalCapability(std::string_view name) {
  std::string up = toUpper(trim(name));
  if (up.starts_with("CAP_")) up.erase(0, 4);
  return up;
}

bool dropsAll(const Node* container) {
  const Node* drop = get(get(get(container, "securityContext"), "capabilities"), "drop");
  if (!drop) return false;
  for (const Node* d : drop->seqItems())
    if (d->isString() && canonicalCapability(d->text) == "ALL") return true;
  return false;
}

}  // namespace kh
