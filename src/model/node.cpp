#include "model/node.h"

#include <cmath>

namespace kh {

std::optional<int64_t> Node::asInt() const {
  if (type == NodeType::kInt) return int_value;
  if (type == NodeType::kFloat && std::isfinite(float_value) &&
      float_value == std::floor(float_value) && std::fabs(float_value) < 9.2e18)
    return static_cast<int64_t>(float_value);
  return std::nullopt;
}

}  // namespace kh
