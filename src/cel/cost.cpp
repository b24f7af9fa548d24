// The runtime cost of an evaluation as Kubernetes measures it: cel-go's cost of its standard
// library (interpreter/runtimecost.go) and Kubernetes' estimator for its libraries
// (k8s.io/apiserver pkg/cel/library/cost.go), read for facts. Identifiers, selections, literals
// and comprehensions are charged by the evaluator (eval.cpp); calls here.
#include <cmath>

#include "cel/internal.h"

namespace kh::cel {

namespace {

constexpr double kStringTraversal = 0.1;  // common.StringTraversalCostFactor
constexpr double kRegexLength = 0.25;     // common.RegexStringLengthCostFactor

uint64_t ceilOf(double v) {
  return static_cast<uint64_t>(std::ceil(v));
}

bool textual(const Value& v) {
  return v.kind == Kind::kString || v.kind == Kind::kBytes;
}

// Kubernetes' traversalCost: a string or bytes by length (0.1 per byte, rounded down), lists and
// maps by their elements, anything else 1.
uint64_t traversal(const Value& v) {
  switch (v.kind) {
    case Kind::kString:
    case Kind::kBytes:
      return static_cast<uint64_t>(static_cast<double>(v.str().size()) * kStringTraversal);
    case Kind::kList: {
      uint64_t c = 0;
      for (size_t k = 0; k < v.size(); ++k) c += traversal(v.item(k));
      return c;
    }
    case Kind::kMap: {
      uint64_t c = 0;
      for (size_t k = 0; k < v.size(); ++k) c += traversal(v.key(k)) + traversal(v.val(k));
      return c;
    }
    default:
      return 1;
  }
}

}  // namespace

uint64_t costSize(const Value& v) {
  switch (v.kind) {
    case Kind::kString: {
      uint64_t n = 0;
      for (unsigned char c : v.str()) n += (c & 0xc0) != 0x80;
      return n;
    }
    case Kind::kBytes:
      return v.str().size();
    case Kind::kList:
    case Kind::kMap:
      return v.size();
    default:
      return 1;
  }
}

CallCost callCostOf(std::string_view f, bool receiver) {
  if (f == "startsWith" || f == "endsWith" || f == "url" || f == "lowerAscii" ||
      f == "upperAscii" || f == "substring" || f == "trim" || f == "cidr" || f == "isIP" ||
      f == "isCIDR" || f == "quantity" || f == "isQuantity" || (f == "ip" && !receiver))
    return CallCost::kTraverse;
  if (f == "replace" || f == "split" || f == "ip.isCanonical") return CallCost::kTraverseTwice;
  if (f == "string" || f == "bytes") return CallCost::kConversion;
  if (f == "join") return CallCost::kJoin;
  if (f == "@in") return CallCost::kIn;
  if (f == "_<_" || f == "_<=_" || f == "_>_" || f == "_>=_") return CallCost::kCompare;
  if (f == "_+_") return CallCost::kAdd;
  if (f == "matches" || f == "find" || f == "findAll") return CallCost::kRegex;
  if (f == "contains") return CallCost::kContains;
  if (f == "isSorted" || f == "sum" || f == "max" || f == "min" || f == "indexOf" ||
      f == "lastIndexOf")
    return CallCost::kListTraversal;
  if (f == "slice" || f == "reverse" || f == "lists.range") return CallCost::kListOutput;
  if (f == "flatten") return CallCost::kListFlatten;
  if (f == "sort" || f == "distinct") return CallCost::kListSelfCompare;
  if (f == "@sortByAssociatedKeys") return CallCost::kListSortBy;
  if (f == "check") return CallCost::kAuthorizerCheck;
  if (f == "containsIP") return CallCost::kContainsIp;
  if (f == "containsCIDR") return CallCost::kContainsCidr;
  return CallCost::kOne;
}

// cel-go's lists extension (version 3): the call (1) and the list it makes (10), plus a factor
// times a size, truncated.
uint64_t allocatingListCall(double factor, uint64_t size) {
  return static_cast<uint64_t>(static_cast<double>(size) * factor) + 1 + 10;
}
// A worst-case quadratic comparison of a list's elements with each other.
uint64_t selfCompare(const Value& list) {
  uint64_t n = list.kind == Kind::kList ? list.size() : 0;
  double factor = 2.0;
  if (n > 0 && textual(list.item(0))) factor += kStringTraversal;
  return allocatingListCall(factor, n * n);
}

uint64_t chargeCall(CallCost c, std::span<const Value> a, const Value& result) {
  auto size = [&](size_t k) { return k < a.size() ? costSize(a[k]) : 1; };
  switch (c) {
    case CallCost::kListOutput:
      return allocatingListCall(1, result.kind == Kind::kList ? result.size() : 0);
    case CallCost::kListFlatten: {
      double depth = a.size() == 2 && a[1].kind == Kind::kInt ? static_cast<double>(a[1].i) : 1;
      return allocatingListCall(std::max(depth, 0.0), size(0));
    }
    case CallCost::kListSelfCompare:
      return a.empty() ? 1 : selfCompare(a[0]);
    case CallCost::kListSortBy:
      return a.size() < 2 ? 1 : selfCompare(a[1]);
    case CallCost::kOne:
      return 1;
    case CallCost::kTraverse:
      return ceilOf(static_cast<double>(size(0)) * kStringTraversal);
    case CallCost::kTraverseTwice:
      return ceilOf(static_cast<double>(size(0)) * 2 * kStringTraversal);
    case CallCost::kConversion:
      if (result.kind == Kind::kString && !a.empty() && a[0].kind == Kind::kBytes)
        return ceilOf(static_cast<double>(size(0)) * kStringTraversal);
      if (result.kind == Kind::kBytes && !a.empty() && a[0].kind == Kind::kString)
        return ceilOf(static_cast<double>(size(0)) * kStringTraversal);
      return 1;
    case CallCost::kJoin:
      return ceilOf(static_cast<double>(costSize(result)) * 2 * kStringTraversal);
    case CallCost::kIn:
      return a.size() == 2 && a[1].kind == Kind::kList ? costSize(a[1]) : 1;
    case CallCost::kCompare:
      if (a.size() == 2 && textual(a[0]) && textual(a[1]))
        return ceilOf(static_cast<double>(std::min(size(0), size(1))) * kStringTraversal);
      return 1;
    case CallCost::kAdd:
      if (a.size() == 2 && textual(a[0]) && textual(a[1]))
        return ceilOf(static_cast<double>(size(0) + size(1)) * kStringTraversal);
      return 1;
    case CallCost::kRegex:
      return ceilOf((1.0 + static_cast<double>(size(0))) * kStringTraversal) *
             ceilOf(static_cast<double>(size(1)) * kRegexLength);
    case CallCost::kContains:
      return ceilOf(static_cast<double>(size(0)) * kStringTraversal) *
             ceilOf(static_cast<double>(size(1)) * kStringTraversal);
    case CallCost::kListTraversal:
      return a.empty() ? 1 : traversal(a[0]);
    case CallCost::kAuthorizerCheck:
      return 350000;
    case CallCost::kContainsIp: {
      uint64_t cidr = size(0), other = size(1);
      uint64_t cost = ceilOf(static_cast<double>(cidr + cidr) * kStringTraversal);
      if (a.size() == 2 && a[1].kind == Kind::kString)
        cost += ceilOf(static_cast<double>(other) * kStringTraversal);
      return cost;
    }
    case CallCost::kContainsCidr: {
      uint64_t cidr = size(0), other = size(1);
      uint64_t cost = ceilOf(static_cast<double>(cidr + cidr) * kStringTraversal) +
                      ceilOf(static_cast<double>(cidr) * kStringTraversal) + 1;
      if (a.size() == 2 && a[1].kind == Kind::kString)
        cost += ceilOf(static_cast<double>(other) * kStringTraversal);
      return cost;
    }
  }
  return 1;
}

}  // namespace kh::cel
