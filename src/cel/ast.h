// The abstract syntax of a CEL expression (docs/policies.md; the CEL language definition,
// "Syntax"), as the parser leaves it: constants, identifiers, field selections (and the `has()`
// test), calls (operators are calls of their internal names: `_+_`, `_&&_`, `_?_:_`, `@in`, `_[_]`,
// `_?._`, `_[?_]`, ...), list and map/message literals, and the comprehensions that macros
// (`all`, `exists`, `map`, ...) expand into. Every node has an id, unique in its expression, and
// the offset of its first character in the source for messages.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace kh::cel {

enum class ExprKind : uint8_t { kConst, kIdent, kSelect, kCall, kList, kStruct, kComprehension };
enum class ConstKind : uint8_t { kNull, kBool, kInt, kUint, kDouble, kString, kBytes };

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

// One entry of a map literal (`key: value`) or a message literal (`field: value`); `?key: value`
// is an optional entry (set only when the value is an optional with a value).
struct Entry {
  int64_t id = 0;
  uint32_t offset = 0;
  bool optional = false;
  std::string field;  // message literals
  ExprPtr key;        // map literals
  ExprPtr value;
};

struct Expr {
  int64_t id = 0;
  uint32_t offset = 0;  // byte offset in the source
  ExprKind kind = ExprKind::kConst;
  // Levels of the tree from here down as cel-go's parser counts them against its depth limit
  // (a chain of `&&` or `||` is one level; a macro, the call it was written as).
  int32_t height = 1;

  // kConst
  ConstKind const_kind = ConstKind::kNull;
  bool bool_value = false;
  int64_t int_value = 0;
  uint64_t uint_value = 0;
  double double_value = 0;
  std::string text;  // string and bytes constants; kIdent: the name; kSelect: the field;
                     // kCall: the function; kStruct: the message name (empty for a map)

  // kSelect: operand (args[0]); has(): test_only
  bool test_only = false;
  // kCall: target (receiver-style calls `x.f(y)`), args; kSelect: args[0] is the operand;
  // kList: args are the elements
  ExprPtr target;
  std::vector<ExprPtr> args;
  std::vector<uint32_t> optional_indices;  // kList: elements written `?e`

  // kStruct
  std::vector<Entry> entries;

  // kComprehension
  std::string iter_var, iter_var2, accu_var;
  ExprPtr iter_range, accu_init, loop_condition, loop_step, result;

  const Expr* operand() const { return args.empty() ? nullptr : args[0].get(); }
};

// `a.b.c` as one qualified name, when `e` is a chain of selections on an identifier (not a
// `has()` test).
inline bool qualifiedName(const Expr& e, std::string& out) {
  if (e.kind == ExprKind::kIdent) {
    out = e.text;
    return true;
  }
  if (e.kind != ExprKind::kSelect || e.test_only || !qualifiedName(*e.args[0], out)) return false;
  out += ".";
  out += e.text;
  return true;
}

// Calls `f(const Expr&)` on each direct child of `e` (receiver, arguments, entries, the parts of
// a comprehension), for walks that treat every node alike.
template <class F>
void forEachChild(const Expr& e, F&& f) {
  auto one = [&](const ExprPtr& c) {
    if (c) f(*c);
  };
  one(e.target);
  for (const ExprPtr& a : e.args) one(a);
  for (const Entry& en : e.entries) {
    one(en.key);
    one(en.value);
  }
  one(e.iter_range);
  one(e.accu_init);
  one(e.loop_condition);
  one(e.loop_step);
  one(e.result);
}

// The accumulator the macros use (cel-go's; "__result__" in older versions is refused as an
// iteration variable too).
inline constexpr const char* kAccumulator = "@result";

}  // namespace kh::cel
