// The type checker (cel/checker.h). Type parameters are unified through one substitution map for
// the whole expression, which a successful assignability test extends and a failed one leaves
// as it was; each overload's own type parameters are replaced by fresh ones (`_var0`, ...) for
// each call it is tried on; a parameter still free at the end is dyn. The rules (assignability,
// the more general of two types, where null may go) are the CEL language definition's gradual
// typing as cel-go's checker implements it, so that both accept and refuse the same expressions.
#include "cel/checker.h"

#include <fmt/format.h>

#include <optional>
#include <stdexcept>
#include <unordered_map>

namespace kh::cel {

const Type* Type::field(std::string_view f) const {
  if (!fields) return nullptr;
  for (const auto& [name, t] : *fields)
    if (name == f) return &t;
  return nullptr;
}

std::string Type::str() const {
  auto joined = [&] {
    std::string s;
    for (size_t k = 0; k < params.size(); ++k) {
      if (k) s += ", ";
      s += params[k].str();
    }
    return s;
  };
  switch (kind) {
    case TypeKind::kDyn:
      return "dyn";
    case TypeKind::kError:
      return "*error*";
    case TypeKind::kNull:
      return "null_type";
    case TypeKind::kBool:
      return "bool";
    case TypeKind::kInt:
      return "int";
    case TypeKind::kUint:
      return "uint";
    case TypeKind::kDouble:
      return "double";
    case TypeKind::kString:
      return "string";
    case TypeKind::kBytes:
      return "bytes";
    case TypeKind::kTimestamp:
      return "google.protobuf.Timestamp";
    case TypeKind::kDuration:
      return "google.protobuf.Duration";
    case TypeKind::kList:
      return "list(" + joined() + ")";
    case TypeKind::kMap:
      return "map(" + joined() + ")";
    case TypeKind::kType:
      return params.empty() ? "type" : "type(" + joined() + ")";
    case TypeKind::kOpaque:
      return params.empty() ? name : name + "(" + joined() + ")";
    case TypeKind::kStruct:
    case TypeKind::kParam:
      return name;
  }
  return name;
}

bool operator==(const Type& a, const Type& b) {
  return a.kind == b.kind && a.name == b.name && a.params == b.params;
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// Splits at the commas outside parentheses.
std::vector<std::string_view> splitTop(std::string_view s) {
  std::vector<std::string_view> out;
  int depth = 0;
  size_t start = 0;
  for (size_t k = 0; k < s.size(); ++k) {
    if (s[k] == '(') ++depth;
    if (s[k] == ')') --depth;
    if (s[k] == ',' && depth == 0) {
      out.push_back(trim(s.substr(start, k - start)));
      start = k + 1;
    }
  }
  if (!trim(s.substr(start)).empty()) out.push_back(trim(s.substr(start)));
  return out;
}

}  // namespace

Type parseType(std::string_view text) {
  text = trim(text);
  size_t open = text.find('(');
  std::string_view name = trim(text.substr(0, open));
  std::vector<Type> params;
  if (open != std::string_view::npos) {
    if (text.back() != ')') throw std::invalid_argument("bad type: " + std::string(text));
    for (std::string_view p : splitTop(text.substr(open + 1, text.size() - open - 2)))
      params.push_back(parseType(p));
  }
  static const std::pair<std::string_view, TypeKind> kSimple[] = {
      {"dyn", TypeKind::kDyn},
      {"null_type", TypeKind::kNull},
      {"bool", TypeKind::kBool},
      {"int", TypeKind::kInt},
      {"uint", TypeKind::kUint},
      {"double", TypeKind::kDouble},
      {"string", TypeKind::kString},
      {"bytes", TypeKind::kBytes},
      {"timestamp", TypeKind::kTimestamp},
      {"duration", TypeKind::kDuration}};
  for (const auto& [n, k] : kSimple)
    if (name == n && params.empty()) return Type(k);
  if (name == "list" && params.size() == 1) return Type::list(params[0]);
  if (name == "map" && params.size() == 2) return Type::map(params[0], params[1]);
  if (name == "type") return params.empty() ? Type(TypeKind::kType) : Type::typeOf(params[0]);
  if (name.size() == 1 && name[0] >= 'A' && name[0] <= 'Z' && params.empty())
    return Type::param(std::string(name));
  if (name.empty()) throw std::invalid_argument("bad type: " + std::string(text));
  return Type::opaque(std::string(name), std::move(params));
}

Overload overload(std::string name, bool receiver, std::string_view signature, int since) {
  Overload o;
  o.name = std::move(name);
  o.receiver = receiver;
  o.since = since;
  size_t arrow = signature.find("->");
  if (arrow == std::string_view::npos)
    throw std::invalid_argument("bad signature: " + std::string(signature));
  for (std::string_view p : splitTop(signature.substr(0, arrow))) o.params.push_back(parseType(p));
  o.result = parseType(signature.substr(arrow + 2));
  return o;
}

namespace checker_detail {

bool isDyn(const Type& t) {
  return t.kind == TypeKind::kDyn;
}
bool isDynOrError(const Type& t) {
  return t.kind == TypeKind::kDyn || t.kind == TypeKind::kError;
}

// Type parameters to what they stand for. Changes are journaled, so that a failed
// assignability test is undone in the time it took rather than by copying the whole map (an
// expression has as many type parameters as calls were tried).
class Mapping {
 public:
  const Type* find(const std::string& name) const {
    auto it = map_.find(name);
    return it == map_.end() ? nullptr : &it->second;
  }
  void set(const std::string& name, Type t) {
    auto it = map_.find(name);
    journal_.emplace_back(name, it == map_.end() ? std::nullopt : std::optional<Type>(it->second));
    map_[name] = std::move(t);
  }
  size_t mark() const { return journal_.size(); }
  void rollback(size_t mark) {
    for (; journal_.size() > mark; journal_.pop_back()) {
      auto& [name, old] = journal_.back();
      if (old)
        map_[name] = std::move(*old);
      else
        map_.erase(name);
    }
  }
  void commit() { journal_.clear(); }

 private:
  std::unordered_map<std::string, Type> map_;
  std::vector<std::pair<std::string, std::optional<Type>>> journal_;
};

const Type* find(const Mapping& m, const Type& t) {
  return t.kind == TypeKind::kParam ? m.find(t.name) : nullptr;
}

Type substitute(const Mapping& m, const Type& t, bool free_to_dyn) {
  if (const Type* s = find(m, t)) return substitute(m, *s, free_to_dyn);
  if (free_to_dyn && t.kind == TypeKind::kParam) return Type(TypeKind::kDyn);
  if (t.params.empty()) return t;
  Type out = t;
  for (Type& p : out.params) p = substitute(m, p, free_to_dyn);
  return out;
}

// Whether `t` does not occur in `within` (with the substitutions): no parameter may stand for a
// type that contains it.
bool notReferencedIn(const Mapping& m, const Type& t, const Type& within) {
  if (t == within) return false;
  if (within.kind == TypeKind::kParam) {
    const Type* s = find(m, within);
    return !s || notReferencedIn(m, t, *s);
  }
  for (const Type& p : within.params)
    if (!notReferencedIn(m, t, p)) return false;
  return true;
}

bool isEqualOrLessSpecific(const Type& a, const Type& b) {
  if (isDyn(a) || a.kind == TypeKind::kParam) return true;
  if (isDyn(b) || b.kind == TypeKind::kParam) return false;
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case TypeKind::kOpaque:
    case TypeKind::kList:
    case TypeKind::kMap:
    case TypeKind::kType:
      if (a.name != b.name || a.params.size() != b.params.size()) return false;
      for (size_t k = 0; k < a.params.size(); ++k)
        if (!isEqualOrLessSpecific(a.params[k], b.params[k])) return false;
      return true;
    default:
      return a == b;
  }
}

// Of two types known to agree, the more general one; null joined with what may be null is the
// other type (`[msg, null]` is a list of the message type).
const Type& mostGeneral(const Type& a, const Type& b) {
  if (a.kind == TypeKind::kNull && b.kind != TypeKind::kNull) return b;
  if (b.kind == TypeKind::kNull) return a;
  return isEqualOrLessSpecific(a, b) ? a : b;
}

// Where null may be assigned: abstract types (optionals), and what proto3 lets be null
// (timestamps, durations, messages).
bool nullable(const Type& t) {
  switch (t.kind) {
    case TypeKind::kOpaque:
    case TypeKind::kNull:
    case TypeKind::kTimestamp:
    case TypeKind::kDuration:
    case TypeKind::kStruct:
      return true;
    default:
      return false;
  }
}

bool assignable(Mapping& m, const Type& a, const Type& b);

bool assignableList(Mapping& m, const std::vector<Type>& a, const std::vector<Type>& b) {
  if (a.size() != b.size()) return false;
  for (size_t k = 0; k < a.size(); ++k)
    if (!assignable(m, a[k], b[k])) return false;
  return true;
}

// Whether `a` may stand for the parameter `b`: it agrees with what `b` already stands for (the
// more general of the two is kept), or `b` stands for nothing yet and is bound to `a`.
// Second: whether `b` already stood for something.
std::pair<bool, bool> validSubstitution(Mapping& m, const Type& a, const Type& b) {
  if (a == b) return {true, true};
  if (const Type* bound = find(m, b)) {
    Type sub = *bound;
    if (a == sub) return {true, true};
    if (assignable(m, a, sub)) {
      Type general = mostGeneral(a, sub);
      if (notReferencedIn(m, b, general)) m.set(b.name, std::move(general));
      return {true, true};
    }
    return {false, true};
  }
  if (notReferencedIn(m, b, a)) {
    m.set(b.name, a);
    return {true, false};
  }
  return {false, false};
}

bool assignable(Mapping& m, const Type& a, const Type& b) {
  if (b.kind == TypeKind::kParam) {
    auto [valid, bound] = validSubstitution(m, a, b);
    if (valid) return true;
    if (bound) return false;
  }
  if (a.kind == TypeKind::kParam) return validSubstitution(m, b, a).first;
  if (isDynOrError(a) || isDynOrError(b)) return true;
  if (a.kind == TypeKind::kNull) return nullable(b);
  if (b.kind == TypeKind::kNull) return nullable(a);
  switch (a.kind) {
    case TypeKind::kType:
      return b.kind == TypeKind::kType;
    case TypeKind::kOpaque:
    case TypeKind::kList:
    case TypeKind::kMap:
      return a.kind == b.kind && a.name == b.name && assignableList(m, a.params, b.params);
    default:
      return a.kind == b.kind && a.name == b.name;
  }
}

std::string signature(const std::vector<Type>& args, bool receiver) {
  std::string s;
  size_t k = 0;
  if (receiver && !args.empty()) {
    s = args[0].str() + ".";
    k = 1;
  }
  s += "(";
  for (size_t first = k; k < args.size(); ++k) {
    if (k > first) s += ", ";
    s += args[k].str();
  }
  return s + ")";
}

void collectParams(const Type& t, std::vector<std::string>& out) {
  if (t.kind == TypeKind::kParam) {
    for (const std::string& n : out)
      if (n == t.name) return;
    out.push_back(t.name);
  }
  for (const Type& p : t.params) collectParams(p, out);
}

class Checker {
 public:
  explicit Checker(const CheckEnv& env) : env_(env) {}

  CheckResult run(const Expr& e) {
    CheckResult r;
    r.type = substitute(m_, check(e), true);
    r.issues = std::move(issues_);
    return r;
  }

 private:
  void issue(const Expr& e, std::string message) {
    issues_.push_back({e.offset, std::move(message)});
  }
  void mismatch(const Expr& e, const Type& expected, const Type& found) {
    issue(e, fmt::format("expected type '{}' but found '{}'", substitute(m_, expected, true).str(),
                         substitute(m_, found, true).str()));
  }
  Type undeclared(const Expr& e, std::string_view name) {
    issue(e, fmt::format("undeclared reference to '{}' (in container '')", name));
    return Type(TypeKind::kError);
  }

  Type fresh() { return Type::param(fmt::format("_var{}", next_var_++)); }

  bool isAssignable(const Type& a, const Type& b) {
    size_t mark = m_.mark();
    if (!assignable(m_, a, b)) {
      m_.rollback(mark);
      return false;
    }
    m_.commit();
    return true;
  }
  bool isAssignableList(const std::vector<Type>& a, const std::vector<Type>& b) {
    size_t mark = m_.mark();
    if (!assignableList(m_, a, b)) {
      m_.rollback(mark);
      return false;
    }
    m_.commit();
    return true;
  }

  const Type* local(std::string_view name) const {
    for (size_t k = scopes_.size(); k-- > 0;)
      if (scopes_[k].first == name) return &scopes_[k].second;
    return nullptr;
  }
  const Type* global(std::string_view name) const {
    for (const auto& [n, t] : env_.variables)
      if (n == name) return &t;
    return nullptr;
  }

  // A type's name as an identifier: its type.
  static std::optional<Type> typeName(std::string_view name) {
    static const char* const kSimple[] = {"int",    "uint",  "double",   "bool",
                                          "string", "bytes", "null_type"};
    for (const char* n : kSimple)
      if (name == n) return Type::typeOf(parseType(n));
    if (name == "list") return Type::typeOf(Type::list(Type()));
    if (name == "map") return Type::typeOf(Type::map(Type(), Type()));
    if (name == "type") return Type::typeOf(Type(TypeKind::kType));
    if (name == "optional_type") return Type::typeOf(Type::optional(Type()));
    return std::nullopt;
  }

  Type check(const Expr& e) {
    switch (e.kind) {
      case ExprKind::kConst:
        return constant(e);
      case ExprKind::kIdent:
        return ident(e);
      case ExprKind::kSelect:
        return select(e);
      case ExprKind::kCall:
        return call(e);
      case ExprKind::kList:
        return list(e);
      case ExprKind::kStruct:
        return mapOrMessage(e);
      case ExprKind::kComprehension:
        return comprehension(e);
    }
    return Type(TypeKind::kError);
  }

  static Type constant(const Expr& e) {
    switch (e.const_kind) {
      case ConstKind::kNull:
        return Type(TypeKind::kNull);
      case ConstKind::kBool:
        return Type(TypeKind::kBool);
      case ConstKind::kInt:
        return Type(TypeKind::kInt);
      case ConstKind::kUint:
        return Type(TypeKind::kUint);
      case ConstKind::kDouble:
        return Type(TypeKind::kDouble);
      case ConstKind::kString:
        return Type(TypeKind::kString);
      case ConstKind::kBytes:
        return Type(TypeKind::kBytes);
    }
    return Type(TypeKind::kError);
  }

  Type ident(const Expr& e) {
    if (const Type* t = local(e.text)) return *t;
    if (const Type* t = global(e.text)) return *t;
    if (auto t = typeName(e.text)) return *t;
    return undeclared(e, e.text);
  }

  Type select(const Expr& e) {
    std::string q;
    if (!e.test_only && qualifiedName(e, q)) {
      std::string_view root = std::string_view(q).substr(0, q.find('.'));
      if (!local(root)) {
        if (const Type* t = global(q)) return *t;
        if (!global(root)) {
          if (q == "google.protobuf.Timestamp") return Type::typeOf(Type(TypeKind::kTimestamp));
          if (q == "google.protobuf.Duration") return Type::typeOf(Type(TypeKind::kDuration));
        }
      }
    }
    Type t = selectField(e, *e.args[0], e.text, false);
    if (e.test_only) return Type(TypeKind::kBool);
    return substitute(m_, t, false);
  }

  Type selectField(const Expr& e, const Expr& operand, std::string_view field, bool optional) {
    Type target = substitute(m_, check(operand), false);
    bool was_optional = target.isOptional();
    if (was_optional) target = Type(target.params[0]);
    Type result;
    switch (target.kind) {
      case TypeKind::kMap:
        result = target.params[1];
        break;
      case TypeKind::kStruct:
        if (const Type* f = target.field(field)) {
          result = *f;
        } else {
          issue(e, fmt::format("undefined field '{}'", field));
          result = Type(TypeKind::kError);
        }
        break;
      case TypeKind::kParam:
        isAssignable(Type(), target);
        result = Type();
        break;
      default:
        if (!isDynOrError(target))
          issue(e, fmt::format("type '{}' does not support field selection", target.str()));
        result = Type();
    }
    if (was_optional || optional) return Type::optional(std::move(result));
    return result;
  }

  Type call(const Expr& e) {
    const std::string& fn = e.text;
    if (fn == "_?._" && e.args.size() == 2) {
      const Expr& field = *e.args[1];
      if (field.kind != ExprKind::kConst || field.const_kind != ConstKind::kString) {
        issue(field, "unsupported optional field selection");
        return Type(TypeKind::kError);
      }
      return substitute(m_, selectField(e, *e.args[0], field.text, true), false);
    }
    std::vector<Type> args;
    args.reserve(e.args.size() + 1);
    std::vector<Type> argTypes;
    for (const ExprPtr& a : e.args) argTypes.push_back(check(*a));
    if (!e.target) {
      auto found = overloads(fn);
      if (found.empty()) return undeclared(e, fn);
      return resolve(e, fn, found, false, std::move(argTypes));
    }
    std::string q;
    if (qualifiedName(*e.target, q)) {
      std::string name = q + "." + fn;
      if (auto found = overloads(name); !found.empty())
        return resolve(e, name, found, false, std::move(argTypes));
    }
    args.push_back(check(*e.target));
    for (Type& t : argTypes) args.push_back(std::move(t));
    auto found = overloads(fn);
    if (found.empty()) return undeclared(e, fn);
    return resolve(e, fn, found, true, std::move(args));
  }

  Type resolve(const Expr& e, std::string_view name, const std::vector<const Overload*>& overloads,
               bool receiver, std::vector<Type> args) {
    std::optional<Type> result;
    for (const Overload* o : overloads) {
      if (o->receiver != receiver || o->params.size() != args.size()) continue;
      std::vector<Type> params = o->params;
      Type res = o->result;
      std::vector<std::string> names;
      for (const Type& p : params) collectParams(p, names);
      collectParams(res, names);
      if (!names.empty()) {
        Mapping fresh_vars;
        for (const std::string& n : names) fresh_vars.set(n, fresh());
        for (Type& p : params) p = substitute(fresh_vars, p, false);
        res = substitute(fresh_vars, res, false);
      }
      if (!isAssignableList(args, params)) continue;
      Type r = substitute(m_, res, false);
      if (!result)
        result = std::move(r);
      else if (!isDyn(*result) && !(r == *result))
        result = Type();
    }
    if (!result) {
      for (Type& a : args) a = substitute(m_, a, true);
      issue(e, fmt::format("found no matching overload for '{}' applied to '{}'", name,
                           signature(args, receiver)));
      return Type(TypeKind::kError);
    }
    return *result;
  }

  // The element type of a literal so far joined with the next one's.
  Type join(const Expr& at, std::optional<Type>& previous, const Type& current) {
    if (!previous) return current;
    if (isAssignable(*previous, current)) return mostGeneral(*previous, current);
    if (!env_.homogeneous_literals) return Type();
    mismatch(at, *previous, current);
    return *previous;
  }

  // An optional element or entry (`[?x]`, `{?k: v}`): what the optional holds.
  Type unwrapOptional(const Expr& at, const Type& t) {
    Type s = substitute(m_, t, false);
    if (s.isOptional()) return s.params[0];
    if (!isDyn(s)) mismatch(at, Type::optional(s), s);
    return s;
  }

  Type list(const Expr& e) {
    std::optional<Type> elem;
    for (size_t k = 0; k < e.args.size(); ++k) {
      Type t = check(*e.args[k]);
      bool opt = false;
      for (uint32_t i : e.optional_indices) opt = opt || i == k;
      if (opt) t = unwrapOptional(*e.args[k], t);
      elem = join(*e.args[k], elem, t);
    }
    return Type::list(elem ? *elem : fresh());
  }

  Type mapOrMessage(const Expr& e) {
    if (!e.text.empty()) {
      Type err = undeclared(e, e.text);
      for (const Entry& en : e.entries) check(*en.value);
      return err;
    }
    std::optional<Type> key, value;
    for (const Entry& en : e.entries) {
      Type k = check(*en.key);
      key = join(*en.key, key, k);
      Type v = check(*en.value);
      if (en.optional) v = unwrapOptional(*en.value, v);
      value = join(*en.value, value, v);
    }
    if (!key) return Type::map(fresh(), fresh());
    return Type::map(*key, *value);
  }

  Type comprehension(const Expr& e) {
    Type range = substitute(m_, check(*e.iter_range), false);
    Type accu = check(*e.accu_init);
    size_t base = scopes_.size();
    scopes_.emplace_back(e.accu_var, accu);
    Type var, var2;
    bool two = !e.iter_var2.empty();
    switch (range.kind) {
      case TypeKind::kList:
        var = range.params[0];
        if (two) {
          var2 = var;
          var = Type(TypeKind::kInt);
        }
        break;
      case TypeKind::kMap:
        var = range.params[0];
        if (two) var2 = range.params[1];
        break;
      case TypeKind::kDyn:
      case TypeKind::kError:
      case TypeKind::kParam:
        isAssignable(Type(), range);
        break;
      default:
        issue(*e.iter_range,
              fmt::format("expression of type '{}' cannot be range of a comprehension (must be "
                          "list, map, or dynamic)",
                          range.str()));
        var = var2 = Type(TypeKind::kError);
    }
    scopes_.emplace_back(e.iter_var, var);
    if (two) scopes_.emplace_back(e.iter_var2, var2);
    Type cond = check(*e.loop_condition);
    if (!isAssignable(Type(TypeKind::kBool), cond))
      mismatch(*e.loop_condition, Type(TypeKind::kBool), cond);
    Type step = check(*e.loop_step);
    if (!isAssignable(accu, step)) mismatch(*e.loop_step, accu, step);
    scopes_.resize(base + 1);
    Type result = check(*e.result);
    scopes_.resize(base);
    return substitute(m_, result, false);
  }

  // The overloads of a function the environment has (its version's), none when undeclared.
  std::vector<const Overload*> overloads(std::string_view name) const {
    static const auto index = [] {
      std::unordered_map<std::string_view, std::vector<const Overload*>> m;
      for (const Overload& o : libraryOverloads()) m[o.name].push_back(&o);
      return m;
    }();
    std::vector<const Overload*> out;
    if (auto it = index.find(name); it != index.end())
      for (const Overload* o : it->second)
        if (env_.k8s_minor == 0 || o->since <= env_.k8s_minor) out.push_back(o);
    for (const Overload& o : env_.functions)
      if (o.name == name) out.push_back(&o);
    return out;
  }

  const CheckEnv& env_;
  Mapping m_;
  int next_var_ = 0;
  std::vector<std::pair<std::string, Type>> scopes_;  // comprehension variables, innermost last
  std::vector<Issue> issues_;
};

}  // namespace checker_detail

CheckResult check(const Expr& e, const CheckEnv& env) {
  return checker_detail::Checker(env).run(e);
}

}  // namespace kh::cel
