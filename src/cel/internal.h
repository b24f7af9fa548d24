// What the CEL engine's own files share (not part of its interface): the owned payloads, the
// calendar arithmetic, and the function table the planner resolves calls against.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cel/value.h"

namespace kh::cel {

struct StringPayload : Payload {
  explicit StringPayload(std::string v) : s(std::move(v)) {}
  std::string s;
};
struct ListPayload : Payload {
  explicit ListPayload(List v) : items(std::move(v)) {}
  List items;
};
struct MapPayload : Payload {
  explicit MapPayload(Map v) : entries(std::move(v)) {}
  Map entries;
};
struct OptionalPayload : Payload {
  explicit OptionalPayload(Value v) : value(std::move(v)) {}
  Value value;
};

inline constexpr int64_t kNano = 1000000000;
inline constexpr int64_t kMaxDuration = 315576000000;  // 10,000 years of 365.25 days

// Days since 1970-01-01 of a civil date, and back (the proleptic Gregorian calendar).
int64_t daysFromCivil(int64_t y, int64_t m, int64_t d);
struct Civil {
  int64_t year, month, day, hour, minute, second;
  int64_t day_of_week, day_of_year;  // 0 = Sunday; 0 = January 1st
};
Civil civilFrom(int64_t seconds);

// Whether argument k is there and of that kind.
inline bool argIs(std::span<const Value> a, size_t k, Kind kind) {
  return k < a.size() && a[k].kind == kind;
}
inline Value stringValue(std::string_view s) {
  return Value::string(std::string(s));
}

// The kinds a map key may have: int, uint, bool, string.
inline bool validMapKey(const Value& k) {
  return k.kind == Kind::kInt || k.kind == Kind::kUint || k.kind == Kind::kBool ||
         k.kind == Kind::kString;
}

// "no such overload: fn(int, string)".
Value noOverload(std::string_view fn, std::span<const Value> args);

// What a function sees of the evaluation: the budget it may charge for work proportional to its
// inputs, and what the planner prepared for this call (a compiled constant pattern, ...).
struct CallContext {
  const void* prepared = nullptr;
};

// A function of the standard library or an extension, as the planner binds a call to it: all
// overloads of one name and call style, told apart at run time by the arguments' kinds (the
// receiver of `x.f(y)` is args[0]).
using Function = Value (*)(CallContext& ctx, std::span<const Value> args);

// Called at plan time when a call's arguments are constants (args has them; the others are
// null): what to prepare for every run (owned by the program), or null.
using Preparer = std::shared_ptr<const void> (*)(std::span<const Value* const> constant_args);

struct FunctionDecl {
  std::string_view name;  // `size`, `_+_`, `optional.of`, `strings.quote`
  bool receiver;          // called as x.name(...)
  Function fn;
  int args = -1;  // how many it takes, the receiver included (-1: the function checks)
  // The first Kubernetes minor version whose CEL environment has it (0: every version; the
  // CEL standard library).
  int since = 0;
  Preparer prepare = nullptr;
};

// How a call is charged (cel-go's runtime cost of its standard library, Kubernetes' cost
// estimator for its libraries); every other function costs 1.
enum class CallCost : uint8_t {
  kOne,
  kTraverse,         // ceil(size(arg0) * 0.1): startsWith, trim, url, quantity, ...
  kTraverseTwice,    // ceil(size(arg0) * 0.2): replace, split, ip.isCanonical
  kConversion,       // string(bytes) and bytes(string) traverse; other conversions 1
  kJoin,             // ceil(size(result) * 0.2)
  kIn,               // the list's size (a map's lookup: 1)
  kCompare,          // strings and bytes: ceil(min(size) * 0.1); other values 1
  kAdd,              // strings and bytes: ceil((m + n) * 0.1); other values 1
  kRegex,            // ceil((1 + size(text)) * 0.1) * ceil(size(pattern) * 0.25)
  kContains,         // ceil(size(s) * 0.1) * ceil(size(sub) * 0.1)
  kListTraversal,    // the traversal cost of arg0 (a list's elements, a string's length)
  kAuthorizerCheck,  // 350,000
  kContainsIp,
  kContainsCidr,
  kListOutput,       // lists extension: 11 + the result's size (slice, reverse, lists.range)
  kListFlatten,      // 11 + depth * size(arg0)
  kListSelfCompare,  // 11 + 2 (2.1 for strings, bytes) * size(arg0)^2 (sort, distinct)
  kListSortBy,       // the same on the keys (arg1)
};
CallCost callCostOf(std::string_view function, bool receiver);
uint64_t chargeCall(CallCost c, std::span<const Value> args, const Value& result);
// The size CEL's cost model gives a value: code points of a string, bytes, elements; else 1.
uint64_t costSize(const Value& v);

// Every function the engine knows, of every library.
std::span<const FunctionDecl> functionTable();
std::vector<FunctionDecl> standardFunctions();
std::vector<FunctionDecl> kubernetesFunctions();

// RFC 3339 text as a timestamp, or an error (stdlib.cpp).
Value parseTimestamp(std::string_view t);

}  // namespace kh::cel
