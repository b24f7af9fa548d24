// Kubernetes resource quantities (resource.Quantity): a decimal number with an optional binary
// suffix (Ki, Mi, Gi, Ti, Pi, Ei), decimal suffix (n, u, m, k, M, G, T, P, E) or decimal exponent
// (e3, E-2). "100m" CPU is 0.1; "1Gi" memory is 1073741824; "1e3" is 1000.
#pragma once

#include <optional>
#include <string_view>

namespace kh {

// The value in base units, or nothing for text that is not a quantity.
std::optional<double> parseQuantity(std::string_view s);

}  // namespace kh
