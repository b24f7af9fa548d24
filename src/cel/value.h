// CEL values (issue #24; docs/design/cel.md "Values"): null, bool, int, uint, double, string,
// bytes, list, map, type, optional, timestamp, duration, the Kubernetes library types (opaque
// objects: quantity, IP, CIDR, URL, semver, ...), errors and unknowns.
//
// A value is 40 bytes and copies without allocating. Lists, maps and strings either own their
// contents (shared, immutable) or borrow them: from the input document (a `Node` of an object,
// oldObject, params, namespaceObject: evaluated in place, never copied, as Kubernetes evaluates
// unstructured objects) or from the program (string constants). Borrowed contents outlive every
// evaluation that sees them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kh {
struct Node;
}

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
  kOptional,   // optional.of(x) or optional.none()
  kTimestamp,  // i: seconds since the Unix epoch, u: nanoseconds (0..999,999,999)
  kDuration,   // i: seconds, u: nanoseconds of the same sign (as int64 bits)
  kOpaque,     // a library type (Opaque)
  kError,
  kUnknown,  // what cannot be known offline (an authorizer check without RBAC objects, ...)
};

struct Value;
using List = std::vector<Value>;
using Map = std::vector<std::pair<Value, Value>>;  // in insertion order

// What an owned value holds; the kind says which of the payloads below it is.
struct Payload {
  virtual ~Payload() = default;
};

// A value of a library type: its CEL type name, equality and (where the type has one) order.
struct Opaque : Payload {
  virtual std::string_view typeName() const = 0;
  virtual bool equals(const Opaque& other) const = 0;
  // -1, 0, 1; 2 when the two are not ordered (other types, or a type without order).
  virtual int compare(const Opaque&) const { return 2; }
  // The value written for messages (`quantity("1Gi")`).
  virtual std::string debug() const = 0;
};

struct Value {
  Kind kind = Kind::kNull;
  bool b = false;
  union {
    int64_t i = 0;         // int, timestamp and duration seconds
    const char* chars;     // string, bytes, type, error, unknown: the text
    const kh::Node* node;  // a list or map borrowed from the input document
  };
  union {
    uint64_t u = 0;  // uint, timestamp and duration nanoseconds
    double d;        // double
    size_t len;      // the text's length
  };
  std::shared_ptr<const Payload> obj;  // owned contents (none when borrowed)

  static Value null() { return {}; }
  static Value boolean(bool v) {
    Value x;
    x.kind = Kind::kBool;
    x.b = v;
    return x;
  }
  static Value integer(int64_t v) {
    Value x;
    x.kind = Kind::kInt;
    x.i = v;
    return x;
  }
  static Value unsignedInt(uint64_t v) {
    Value x;
    x.kind = Kind::kUint;
    x.u = v;
    return x;
  }
  static Value dbl(double v) {
    Value x;
    x.kind = Kind::kDouble;
    x.d = v;
    return x;
  }
  static Value string(std::string v);
  static Value bytes(std::string v);
  static Value listOf(List v);
  static Value mapOf(Map v);
  static Value type(std::string name);
  static Value error(std::string message);
  static Value unknown(std::string why);
  static Value optionalOf(Value v);
  static Value optionalNone();
  static Value opaque(std::shared_ptr<const Opaque> v);
  // Text that outlives the value (a program's constant, a document's scalar): not copied.
  static Value borrowedString(std::string_view v, Kind kind = Kind::kString);
  // A node of a document, as CEL sees unstructured data: null, bool, int, double, string, list,
  // map (keys are strings). A null pointer is null.
  static Value fromNode(const kh::Node* n);
  // Seconds and nanoseconds (any; normalised). Errors outside CEL's ranges: timestamps from
  // 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z, durations within +-315,576,000,000 s.
  static Value timestamp(int64_t seconds, int64_t nanos);
  // RFC 3339 text (`2024-05-01T10:00:00Z`) as a timestamp, or an error.
  static Value timestampFromText(std::string_view text);
  static Value duration(int64_t seconds, int64_t nanos);

  bool isError() const { return kind == Kind::kError; }
  bool isUnknown() const { return kind == Kind::kUnknown; }
  // An error or an unknown: what stops an evaluation (both propagate).
  bool failed() const { return kind >= Kind::kError; }

  // string, bytes, type name, error message, unknown's reason
  std::string_view str() const { return {chars, len}; }

  // Lists and maps (borrowed or owned).
  size_t size() const;
  Value item(size_t k) const;  // list element
  Value key(size_t k) const;   // map entry, in order
  Value val(size_t k) const;
  // Map lookup by CEL equality of keys (1 == 1u == 1.0); false when absent.
  bool find(const Value& key, Value* out) const;
  bool findField(std::string_view key, Value* out) const;  // a string key

  // Optionals: whether one holds a value, and the value.
  bool hasValue() const { return obj != nullptr; }
  const Value& optValue() const;

  const Opaque& opaqueValue() const { return static_cast<const Opaque&>(*obj); }
};

// The name of a value's type as CEL's `type()` says it: int, uint, double, bool, string, bytes,
// list, map, null_type, type, optional_type, google.protobuf.Timestamp, google.protobuf.Duration,
// or a library type's name.
std::string typeName(const Value& v);

// RFC 3339 in UTC with the fraction trimmed (2009-02-13T23:31:30.5Z), and seconds with the
// fraction trimmed (1.5s), as CEL's string() writes them.
std::string formatTimestamp(const Value& v);
std::string formatDuration(const Value& v);

// A value written as a CEL literal (for messages and tests): 1, 2u, 3.5, "s", b"\x01", [1, 2],
// {"k": 1}, int, error(...).
std::string toString(const Value& v);

// CEL equality (heterogeneous: numbers of different kinds compare by value; values of different
// types are not equal; NaN equals nothing). Both sides must be values (not errors).
bool equal(const Value& a, const Value& b);

// Order of two values of one comparable type (numbers across their kinds; bool, string, bytes,
// timestamp, duration; library types with an order): -1, 0, 1, or 2 when they are not ordered
// (other types, NaN).
int compareValues(const Value& a, const Value& b);

// Comparison of two numbers of any numeric kinds: -1, 0, 1, or 2 when unordered (NaN).
int compareNumbers(const Value& a, const Value& b);
inline bool numeric(const Value& v) {
  return v.kind == Kind::kInt || v.kind == Kind::kUint || v.kind == Kind::kDouble;
}

}  // namespace kh::cel
