#include <fmt/format.h>

#include "base/result.h"

namespace kh {

std::string Error::describe() const {
  if (file.empty()) return message;
  if (!pos.known()) return fmt::format("{}: {}", file, message);
  return fmt::format("{}:{}:{}: {}", file, pos.line, pos.col, message);
}

}  // namespace kh
