// CEL's static types (the CEL language definition, "Gradual Type Checking"), as the checker
// (cel/checker.h) deduces them: the primitive types, list and map, type(T), the well-known
// timestamp and duration, abstract types with parameters (`optional_type(T)`, the Kubernetes
// libraries' `kubernetes.Quantity`, `net.IP`, ...), object types with declared fields (the
// API server's `kubernetes.AdmissionRequest`), type parameters, `dyn` and the error type.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kh::cel {

enum class TypeKind : uint8_t {
  kDyn,
  kError,
  kNull,
  kBool,
  kInt,
  kUint,
  kDouble,
  kString,
  kBytes,
  kTimestamp,
  kDuration,
  kList,    // params: element
  kMap,     // params: key, value
  kType,    // params: the type it denotes, or none
  kOpaque,  // name + params (optional_type(T), kubernetes.Quantity, ...)
  kStruct,  // name + fields
  kParam,   // a type parameter (name)
};

struct Type;
using Fields = std::vector<std::pair<std::string, Type>>;

struct Type {
  TypeKind kind = TypeKind::kDyn;
  std::string name;                      // kOpaque, kStruct, kParam
  std::vector<Type> params;              // kList, kMap, kType, kOpaque
  std::shared_ptr<const Fields> fields;  // kStruct

  Type() = default;
  explicit Type(TypeKind k) : kind(k) {}

  static Type list(Type elem) {
    Type t(TypeKind::kList);
    t.params.push_back(std::move(elem));
    return t;
  }
  static Type map(Type key, Type value) {
    Type t(TypeKind::kMap);
    t.params.push_back(std::move(key));
    t.params.push_back(std::move(value));
    return t;
  }
  static Type typeOf(Type of) {
    Type t(TypeKind::kType);
    t.params.push_back(std::move(of));
    return t;
  }
  static Type opaque(std::string name, std::vector<Type> params = {}) {
    Type t(TypeKind::kOpaque);
    t.name = std::move(name);
    t.params = std::move(params);
    return t;
  }
  static Type optional(Type of) { return opaque("optional_type", {std::move(of)}); }
  static Type param(std::string name) {
    Type t(TypeKind::kParam);
    t.name = std::move(name);
    return t;
  }
  static Type object(std::string name, Fields fields) {
    Type t(TypeKind::kStruct);
    t.name = std::move(name);
    t.fields = std::make_shared<const Fields>(std::move(fields));
    return t;
  }

  bool isOptional() const { return kind == TypeKind::kOpaque && name == "optional_type"; }
  // The type of a field of an object type, or null.
  const Type* field(std::string_view f) const;

  // As cel-go prints it: `int`, `list(string)`, `map(string, int)`, `optional_type(int)`,
  // `google.protobuf.Timestamp`, `null_type`, `type(int)`, `dyn`.
  std::string str() const;
};

// The same type (same kind, name and parameters).
bool operator==(const Type& a, const Type& b);

// A type written as the checker's declarations write it: `int`, `list(A)`, `map(K, V)`,
// `optional_type(T)`, `timestamp`, `duration`, `type(A)`, `dyn`, `null_type`, a dotted name
// (`kubernetes.Quantity`) for an abstract type; a single capital letter is a type parameter.
Type parseType(std::string_view text);

}  // namespace kh::cel
