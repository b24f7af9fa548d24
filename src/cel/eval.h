// The CEL evaluator, first part (issue #24; docs/design/cel.md "Evaluator"): values of the core
// types (null, bool, int, uint, double, string, bytes, list, map, type, error) and a direct
// evaluation of a parsed expression: literals, variables, field selection and has(), the
// logical operators with error absorption, the conditional, comprehensions (the macros),
// arithmetic with overflow and division errors, equality and ordering across numeric types,
// membership, indexing, size, conversions and the string predicates. Node-backed values (the
// input document without a copy), timestamps and durations, the extension and Kubernetes
// libraries, the type checker and cost limits come next.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cel/ast.h"

namespace kh::cel {

enum class Kind : uint8_t {
  kNull,
  kBool,
  kInt,
  kUint,
  kDouble,
  kString,
  kBytes,
  kList,
  kMap,
  kType,
  kOptional,   // optional.of(x) (opt holds x) or optional.none() (opt empty)
  kTimestamp,  // i: seconds since the Unix epoch, u: nanoseconds (0..999,999,999)
  kDuration,   // i: seconds, u: nanoseconds of the same sign folded in (see durationNanos)
  kError,
};

struct Value;
using List = std::vector<Value>;
using Map = std::vector<std::pair<Value, Value>>;  // in insertion order

struct Value {
  Kind kind = Kind::kNull;
  bool b = false;
  int64_t i = 0;
  uint64_t u = 0;
  double d = 0;
  std::shared_ptr<const std::string> text;  // string, bytes, type name, error message
  std::shared_ptr<const List> list;
  std::shared_ptr<const Map> map;
  std::shared_ptr<const Value> opt;  // kOptional: the value, or null for none

  static Value null() { return {}; }
  static Value boolean(bool v);
  static Value integer(int64_t v);
  static Value unsignedInt(uint64_t v);
  static Value dbl(double v);
  static Value string(std::string v);
  static Value bytes(std::string v);
  static Value listOf(List v);
  static Value mapOf(Map v);
  static Value type(std::string name);
  static Value error(std::string message);
  static Value optionalOf(Value v);
  static Value optionalNone();
  // Seconds and nanoseconds (any; normalised). Errors outside CEL's ranges: timestamps from
  // 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z, durations within +-315,576,000,000 s.
  static Value timestamp(int64_t seconds, int64_t nanos);
  static Value duration(int64_t seconds, int64_t nanos);

  bool isError() const { return kind == Kind::kError; }
  const std::string& str() const;  // string, bytes, type name, error message
};

// The name of a value's type as CEL's `type()` says it: int, uint, double, bool, string, bytes,
// list, map, null_type, type, optional_type, google.protobuf.Timestamp, google.protobuf.Duration.
std::string typeName(const Value& v);

// RFC 3339 in UTC with the fraction trimmed (2009-02-13T23:31:30.5Z), and seconds with the
// fraction trimmed (1.5s), as CEL's string() writes them.
std::string formatTimestamp(const Value& v);
std::string formatDuration(const Value& v);

// A value written as a CEL literal (for messages and tests): 1, 2u, 3.5, "s", b"\x01", [1, 2],
// {"k": 1}, int, error(...).
std::string toString(const Value& v);

// Variables by name.
struct Activation {
  std::map<std::string, Value, std::less<>> vars;
};

// Evaluates `e`. Every node visited costs a step; past `max_steps` the evaluation stops with the
// error "operation cancelled: step limit exceeded" (a safety bound until the cost model of
// Kubernetes is in: no expression runs unbounded).
Value evaluate(const Expr& e, const Activation& vars, uint64_t max_steps = 10'000'000);

// CEL equality (heterogeneous: numbers of different kinds compare by value; values of different
// types are not equal; NaN equals nothing). Errors are not values here: both sides must be
// values.
bool equal(const Value& a, const Value& b);

}  // namespace kh::cel
