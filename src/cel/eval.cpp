#include "cel/eval.h"

#include <fmt/format.h>

#include <algorithm>
#include <new>
#include <optional>

#include "cel/internal.h"

namespace kh::cel {

std::span<const FunctionDecl> functionTable() {
  static const std::vector<FunctionDecl> table = [] {
    std::vector<FunctionDecl> t = standardFunctions();
    std::vector<FunctionDecl> k = kubernetesFunctions();
    t.insert(t.end(), k.begin(), k.end());
    return t;
  }();
  return table;
}

namespace plan_detail {

// What planning decided for one node (indexed by the node's id).
struct Ref {
  enum class Op : uint8_t {
    kUnplanned,
    kConst,   // `value`
    kError,   // `value` is the error evaluation meets (an undeclared name, ...)
    kGlobal,  // variable `slot`
    kLocal,   // comprehension variable at `slot` of the stack
    kSelect,  // field `value` (a string) of the operand; has() when test_only
    kAnd,
    kOr,
    kConditional,
    kNotStrictlyFalse,
    kEqual,  // _==_ and _!=_ (`slot` 1), which no library overloads
    kCall,   // `fns`, the receiver (when not namespaced) first
    kList,
    kMap,
    kComprehension,  // accumulator at `slot`, the iteration variables after it
  };
  Op op = Op::kUnplanned;
  bool namespaced = false;  // kCall: the target names the function's namespace; not evaluated
  uint32_t slot = 0;
  Value value;
  std::string_view name;                 // kCall: the function, for messages
  std::vector<const FunctionDecl*> fns;  // kCall: candidates, in table order
  std::shared_ptr<const void> prepared;  // kCall: what the function prepared at plan time
  CallCost cost = CallCost::kOne;        // kCall: how the call is charged
};

}  // namespace plan_detail
using plan_detail::Ref;

struct Program::Impl {
  std::unique_ptr<Expr> owned;  // when compiled from source
  const Expr* root = nullptr;
  std::vector<Ref> refs;
  std::vector<std::string> names;  // the variables'
  size_t stack_size = 0;
};

namespace {

const char* const kTypeNames[] = {"int",  "uint", "double",    "bool", "string",       "bytes",
                                  "list", "map",  "null_type", "type", "optional_type"};

class Planner {
 public:
  Planner(const Env& env, Program::Impl& p, std::vector<Issue>* issues)
      : env_(env), p_(p), issues_(issues) {}

  void run(const Expr& e) { planNode(e); }

 private:
  Ref& ref(const Expr& e) {
    auto id = static_cast<size_t>(e.id);
    if (id >= p_.refs.size()) p_.refs.resize(id + 1);
    return p_.refs[id];
  }

  std::optional<uint32_t> local(std::string_view name) const {
    for (size_t k = scopes_.size(); k-- > 0;)
      if (scopes_[k] == name) return static_cast<uint32_t>(k);
    return std::nullopt;
  }
  std::optional<uint32_t> global(std::string_view name) const {
    for (size_t k = 0; k < env_.variables.size(); ++k)
      if (env_.variables[k] == name) return static_cast<uint32_t>(k);
    return std::nullopt;
  }
  bool bound(std::string_view name) const { return local(name) || global(name); }

  void undeclared(const Expr& e, Ref& r, std::string_view name, std::string runtime) {
    if (env_.strict && issues_)
      issues_->push_back(
          {e.offset, fmt::format("undeclared reference to '{}' (in container '')", name)});
    r.op = Ref::Op::kError;
    r.value = Value::error(std::move(runtime));
  }

  void planNode(const Expr& e) {
    Ref& r = ref(e);
    switch (e.kind) {
      case ExprKind::kConst:
        r.op = Ref::Op::kConst;
        r.value = constant(e);
        return;
      case ExprKind::kIdent:
        return planIdent(e, r);
      case ExprKind::kSelect:
        return planSelect(e);
      case ExprKind::kCall:
        return planCall(e);
      case ExprKind::kList:
        r.op = Ref::Op::kList;
        for (const ExprPtr& a : e.args) planNode(*a);
        return;
      case ExprKind::kStruct:
        if (!e.text.empty()) {
          undeclared(e, r, e.text, "unknown type: " + e.text);
          return;
        }
        r.op = Ref::Op::kMap;
        for (const Entry& en : e.entries) {
          planNode(*en.key);
          planNode(*en.value);
        }
        return;
      case ExprKind::kComprehension:
        return planComprehension(e);
    }
  }

  static Value constant(const Expr& e) {
    switch (e.const_kind) {
      case ConstKind::kBool:
        return Value::boolean(e.bool_value);
      case ConstKind::kInt:
        return Value::integer(e.int_value);
      case ConstKind::kUint:
        return Value::unsignedInt(e.uint_value);
      case ConstKind::kDouble:
        return Value::dbl(e.double_value);
      case ConstKind::kString:
        return Value::borrowedString(e.text);
      case ConstKind::kBytes:
        return Value::borrowedString(e.text, Kind::kBytes);
      default:
        return Value::null();
    }
  }

  void planIdent(const Expr& e, Ref& r) {
    if (auto l = local(e.text)) {
      r.op = Ref::Op::kLocal;
      r.slot = *l;
      return;
    }
    if (auto g = global(e.text)) {
      r.op = Ref::Op::kGlobal;
      r.slot = *g;
      return;
    }
    for (const char* t : kTypeNames)
      if (e.text == t) {
        r.op = Ref::Op::kConst;
        r.value = Value::borrowedString(t, Kind::kType);
        return;
      }
    undeclared(e, r, e.text, "no such attribute: " + e.text);
  }

  void planSelect(const Expr& e) {
    // Name resolution: a variable named by the whole qualified name wins over field selection
    // on a shorter one (the operand's own planning tries the shorter names in turn).
    std::string q;
    if (!e.test_only && qualifiedName(e, q)) {
      std::string_view root = std::string_view(q).substr(0, q.find('.'));
      if (!local(root)) {
        if (auto g = global(q)) {
          Ref& r = ref(e);
          r.op = Ref::Op::kGlobal;
          r.slot = *g;
          return;
        }
        if ((q == "google.protobuf.Timestamp" || q == "google.protobuf.Duration") &&
            !global(root)) {
          Ref& r = ref(e);
          r.op = Ref::Op::kConst;
          r.value = Value::type(q);
          return;
        }
      }
    }
    planNode(*e.args[0]);
    Ref& r = ref(e);
    r.op = Ref::Op::kSelect;
    r.value = Value::borrowedString(e.text);
  }

  void planCall(const Expr& e) {
    const std::string& fn = e.text;
    Ref* r = &ref(e);
    if (fn == "_&&_" || fn == "_||_" || fn == "_?_:_" || fn == "@not_strictly_false") {
      r->op = fn == "_&&_"    ? Ref::Op::kAnd
              : fn == "_||_"  ? Ref::Op::kOr
              : fn == "_?_:_" ? Ref::Op::kConditional
                              : Ref::Op::kNotStrictlyFalse;
      for (const ExprPtr& a : e.args) planNode(*a);
      return;
    }
    if ((fn == "_==_" || fn == "_!=_") && e.args.size() == 2) {
      r->op = Ref::Op::kEqual;
      r->slot = fn == "_!=_";
      for (const ExprPtr& a : e.args) planNode(*a);
      return;
    }
    // `optional.of(x)`: a function in a namespace, written as a call on an identifier that is
    // not a variable.
    bool namespaced = e.target && e.target->kind == ExprKind::kIdent && !bound(e.target->text);
    std::string name = namespaced ? e.target->text + "." + fn : fn;
    bool receiver = e.target && !namespaced;
    if (receiver) planNode(*e.target);
    for (const ExprPtr& a : e.args) planNode(*a);
    r = &ref(e);  // planning the arguments may have grown the table
    r->op = Ref::Op::kCall;
    r->namespaced = namespaced;
    r->cost = callCostOf(name, receiver);
    size_t argc = e.args.size() + (receiver ? 1 : 0);
    bool named = false;
    for (const FunctionDecl& d : functionTable()) {
      if (d.name != name || (env_.k8s_minor != 0 && d.since > env_.k8s_minor)) continue;
      named = true;
      if (d.receiver != receiver || (d.args >= 0 && static_cast<size_t>(d.args) != argc)) continue;
      r->fns.push_back(&d);
      r->name = d.name;
    }
    if (!named) {
      undeclared(e, *r, name, "unbound function: " + name);
      return;
    }
    if (r->fns.empty()) return;  // no overload of this style and arity: an error when called
    if (r->fns.size() == 1 && r->fns[0]->prepare) {
      // Constant arguments, for the function to prepare once (a pattern to compile).
      std::vector<const Value*> consts;
      std::vector<Value> holder;
      holder.reserve(argc);
      auto add = [&](const Expr& a) {
        if (a.kind == ExprKind::kConst) {
          holder.push_back(constant(a));
          consts.push_back(&holder.back());
        } else {
          consts.push_back(nullptr);
        }
      };
      if (receiver) add(*e.target);
      for (const ExprPtr& a : e.args) add(*a);
      r->prepared = r->fns[0]->prepare(consts);
    }
  }

  void planComprehension(const Expr& e) {
    planNode(*e.iter_range);
    planNode(*e.accu_init);
    auto base = static_cast<uint32_t>(scopes_.size());
    scopes_.push_back(e.accu_var);
    scopes_.push_back(e.iter_var);
    if (!e.iter_var2.empty()) scopes_.push_back(e.iter_var2);
    p_.stack_size = std::max(p_.stack_size, scopes_.size());
    planNode(*e.loop_condition);
    planNode(*e.loop_step);
    scopes_.resize(base + 1);
    planNode(*e.result);
    scopes_.resize(base);
    Ref& r = ref(e);
    r.op = Ref::Op::kComprehension;
    r.slot = base;
  }

  const Env& env_;
  Program::Impl& p_;
  std::vector<Issue>* issues_;
  std::vector<std::string> scopes_;  // comprehension variables, innermost last
};

// A few values on the machine's stack (most calls take one to three arguments, most expressions
// nest fewer than three comprehensions), else on the heap; only the values asked for are made.
class Values {
 public:
  explicit Values(size_t n) : n_(n) {
    ptr_ = n <= kInline ? reinterpret_cast<Value*>(inline_) : heap_.emplace(n).data();
    if (n <= kInline)
      for (size_t k = 0; k < n; ++k) new (ptr_ + k) Value();
  }
  ~Values() {
    if (n_ <= kInline)
      for (size_t k = 0; k < n_; ++k) ptr_[k].~Value();
  }
  Values(const Values&) = delete;
  Values& operator=(const Values&) = delete;
  Value* data() { return ptr_; }

 private:
  static constexpr size_t kInline = 8;
  size_t n_;
  Value* ptr_;
  alignas(Value) unsigned char inline_[kInline * sizeof(Value)];
  std::optional<std::vector<Value>> heap_;
};

// Identifies "no such overload" among errors, so that the next candidate overload is tried.
bool isNoOverload(const Value& v) {
  return v.isError() && v.b;
}

class Machine {
 public:
  Machine(const Program::Impl& p, std::span<const Value> globals, Value* stack,
          const EvalOptions& opts)
      : p_(p),
        globals_(globals),
        stack_(stack),
        steps_left_(opts.max_steps),
        cost_limit_(opts.cost_limit),
        lazy_slot_(opts.lazy ? opts.lazy_slot : SIZE_MAX),
        lazy_(opts.lazy) {}

  // A cancelled evaluation (step bound, cost limit) ends whatever the operators around it
  // would absorb: its error is the result.
  Value run(const Expr& e) {
    Value v = eval(e);
    return cancelled_ ? cancel_ : v;
  }
  uint64_t cost() const { return cost_; }

  Value eval(const Expr& e) {
    if (cancelled_) return cancel_;
    if (steps_left_ == 0) return cancel("operation cancelled: step limit exceeded");
    --steps_left_;
    const Ref& r = p_.refs[static_cast<size_t>(e.id)];
    switch (r.op) {
      case Ref::Op::kConst:
      case Ref::Op::kError:
        return r.value;
      case Ref::Op::kGlobal:
        charge(1);
        if (r.slot == lazy_slot_) return lazy_->all();
        if (r.slot >= globals_.size())  // not given
          return Value::error("no such attribute: " + p_.names[r.slot]);
        return globals_[r.slot];
      case Ref::Op::kLocal:
        charge(1);
        return stack_[r.slot];
      case Ref::Op::kSelect:
        charge(1);
        return select(e, r);
      case Ref::Op::kAnd:
      case Ref::Op::kOr:
        return logical(e, r.op == Ref::Op::kAnd);
      case Ref::Op::kConditional: {
        Value c = eval(*e.args[0]);
        if (c.failed()) return c;
        if (c.kind != Kind::kBool) return noOverload("_?_:_", std::span<const Value>(&c, 1));
        return eval(*e.args[c.b ? 1 : 2]);
      }
      case Ref::Op::kNotStrictlyFalse: {
        Value v = eval(*e.args[0]);
        charge(1);
        return Value::boolean(v.kind != Kind::kBool || v.b);
      }
      case Ref::Op::kEqual: {
        Value a = eval(*e.args[0]);
        if (a.failed()) return a;
        Value b = eval(*e.args[1]);
        if (b.failed()) return b;
        // cel-go: the smaller operand's size times the string traversal factor (1 for scalars).
        charge((std::min(costSize(a), costSize(b)) + 9) / 10);
        return Value::boolean(equal(a, b) != (r.slot == 1));
      }
      case Ref::Op::kCall:
        return call(e, r);
      case Ref::Op::kList:
        return list(e);
      case Ref::Op::kMap:
        return map(e);
      case Ref::Op::kComprehension:
        return comprehension(e, r);
      case Ref::Op::kUnplanned:
        break;
    }
    return Value::error("internal error: expression not planned");
  }

 private:
  [[gnu::noinline]] Value select(const Expr& e, const Ref& r) {
    if (lazy_ && lazyOperand(*e.args[0])) {
      charge(1);  // the variable's identifier
      Value v;
      bool found = lazy_->field(r.value.str(), &v);
      if (e.test_only) return Value::boolean(found);
      if (!found) return Value::error(fmt::format("no such key: {}", r.value.str()));
      return v;
    }
    Value operand = eval(*e.args[0]);
    if (operand.failed()) return operand;
    std::string_view field = r.value.str();
    // On an optional, selection is optional selection (the chain stays optional).
    if (operand.kind == Kind::kOptional) {
      if (e.test_only) {
        if (!operand.hasValue()) return Value::boolean(false);
        const Value& inner = operand.optValue();
        if (inner.kind != Kind::kMap) return noOverload("has", std::span<const Value>(&inner, 1));
        return Value::boolean(inner.findField(field, nullptr));
      }
      if (!operand.hasValue()) return operand;
      const Value& inner = operand.optValue();
      if (inner.kind != Kind::kMap) return Value::error(fmt::format("no such key: {}", field));
      Value v;
      return inner.findField(field, &v) ? Value::optionalOf(std::move(v)) : Value::optionalNone();
    }
    if (operand.kind != Kind::kMap)
      return Value::error(
          fmt::format("type '{}' does not support field selection", typeName(operand)));
    Value v;
    bool found = operand.findField(field, &v);
    if (e.test_only) return Value::boolean(found);
    if (!found) return Value::error(fmt::format("no such key: {}", field));
    return v;
  }

  bool lazyOperand(const Expr& operand) const {
    const Ref& o = p_.refs[static_cast<size_t>(operand.id)];
    return o.op == Ref::Op::kGlobal && o.slot == lazy_slot_;
  }

  [[gnu::noinline]] Value logical(const Expr& e, bool is_and) {
    Value l = eval(*e.args[0]);
    if (l.kind == Kind::kBool && l.b != is_and) return l;  // false && _, true || _
    Value r = eval(*e.args[1]);
    if (r.kind == Kind::kBool && r.b != is_and) return r;
    if (l.isUnknown()) return l;  // an unknown wins over an error: it may still decide
    if (r.isUnknown()) return r;
    if (l.isError()) return l;
    if (r.isError()) return r;
    if (l.kind == Kind::kBool && r.kind == Kind::kBool) return Value::boolean(is_and);
    Value both[2] = {l, r};
    return noOverload(is_and ? "_&&_" : "_||_", both);
  }

  [[gnu::noinline]] Value call(const Expr& e, const Ref& r) {
    size_t argc = e.args.size() + (e.target && !r.namespaced ? 1 : 0);
    Values held(argc);
    Value* args = held.data();
    size_t k = 0;
    if (e.target && !r.namespaced) {
      args[k] = eval(*e.target);
      if (args[k].failed()) return args[k];
      ++k;
    }
    for (const ExprPtr& a : e.args) {
      args[k] = eval(*a);
      if (args[k].failed()) return args[k];
      ++k;
    }
    std::span<const Value> in(args, argc);
    CallContext ctx;
    ctx.prepared = r.prepared.get();
    Value result;
    for (const FunctionDecl* d : r.fns) {
      result = d->fn(ctx, in);
      if (!isNoOverload(result)) {
        charge(r.cost == CallCost::kOne ? 1 : chargeCall(r.cost, in, result));
        return result;
      }
    }
    if (r.fns.empty()) {
      std::string name = e.target && r.namespaced ? e.target->text + "." + e.text : e.text;
      return noOverload(name, in);
    }
    return result;
  }

  [[gnu::noinline]] Value list(const Expr& e) {
    charge(10);  // common.ListCreateBaseCost
    List items;
    items.reserve(e.args.size());
    for (size_t k = 0; k < e.args.size(); ++k) {
      Value v = eval(*e.args[k]);
      if (v.failed()) return v;
      if (std::find(e.optional_indices.begin(), e.optional_indices.end(), k) !=
          e.optional_indices.end()) {
        if (v.kind != Kind::kOptional)
          return Value::error("cannot initialize optional list element from non-optional value");
        if (!v.hasValue()) continue;
        v = Value(v.optValue());
      }
      items.push_back(std::move(v));
    }
    return Value::listOf(std::move(items));
  }

  [[gnu::noinline]] Value map(const Expr& e) {
    charge(30);  // common.MapCreateBaseCost
    Map m;
    m.reserve(e.entries.size());
    for (const Entry& en : e.entries) {
      Value k = eval(*en.key);
      if (k.failed()) return k;
      Value v = eval(*en.value);
      if (v.failed()) return v;
      if (en.optional) {
        if (v.kind != Kind::kOptional)
          return Value::error("cannot initialize optional entry from non-optional value");
        if (!v.hasValue()) continue;
        v = Value(v.optValue());
      }
      if (!validMapKey(k)) return Value::error("unsupported key type: " + typeName(k));
      for (const auto& have : m)
        if (equal(have.first, k)) return Value::error("Failed with repeated key: " + toString(k));
      m.emplace_back(std::move(k), std::move(v));
    }
    return Value::mapOf(std::move(m));
  }

  [[gnu::noinline]] Value comprehension(const Expr& e, const Ref& r) {
    Value range = eval(*e.iter_range);
    if (range.failed()) return range;
    if (range.kind != Kind::kList && range.kind != Kind::kMap)
      return Value::error("expected a list or a map for iteration, got " + typeName(range));
    uint32_t s = r.slot;
    stack_[s] = eval(*e.accu_init);
    bool two = !e.iter_var2.empty();
    bool is_list = range.kind == Kind::kList;
    size_t n = range.size();
    for (size_t k = 0; k < n; ++k) {
      if (is_list) {
        if (two) {
          stack_[s + 1] = Value::integer(static_cast<int64_t>(k));
          stack_[s + 2] = range.item(k);
        } else {
          stack_[s + 1] = range.item(k);
        }
      } else {
        stack_[s + 1] = range.key(k);
        if (two) stack_[s + 2] = range.val(k);
      }
      Value cond = eval(*e.loop_condition);
      if (cond.kind == Kind::kBool && !cond.b) break;
      stack_[s] = eval(*e.loop_step);
    }
    return eval(*e.result);
  }

  void charge(uint64_t n) {
    cost_ += n;
    if (cost_ > cost_limit_ && !cancelled_)
      cancel("operation cancelled: actual cost limit exceeded");
  }
  Value cancel(const char* why) {
    cancelled_ = true;
    cancel_ = Value::error(why);
    return cancel_;
  }

  const Program::Impl& p_;
  std::span<const Value> globals_;
  Value* stack_;
  uint64_t steps_left_;
  uint64_t cost_limit_;
  size_t lazy_slot_;
  LazyFields* lazy_;
  uint64_t cost_ = 0;
  bool cancelled_ = false;
  Value cancel_;
};

}  // namespace

Program::Program(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Program::~Program() = default;

const Expr& Program::expr() const {
  return *impl_->root;
}

Value Program::evaluate(std::span<const Value> variables, const EvalOptions& opts) const {
  const Impl& p = *impl_;
  Values stack(p.stack_size);
  Machine m(p, variables, stack.data(), opts);
  Value v = m.run(*p.root);
  if (opts.actual_cost) *opts.actual_cost = m.cost();
  return v;
}

namespace {

// Kubernetes' literal validators (1.29; cel-go's ValidateDurationLiterals,
// ValidateTimestampLiterals, ValidateRegexLiterals): a constant first argument of `duration()`,
// `timestamp()` or `matches()` that would fail when evaluated is a compile error at the literal,
// `invalid duration argument`. As cel-go does it, the first argument apart from a receiver: the
// pattern of `s.matches(re)`, the text of `matches(s, re)`.
void validateLiterals(const Expr& e, std::vector<Issue>& issues) {
  if (e.kind == ExprKind::kCall && !e.args.empty() && e.args[0]->kind == ExprKind::kConst &&
      ((!e.target && (e.text == "duration" || e.text == "timestamp")) || e.text == "matches")) {
    const Expr& lit = *e.args[0];
    Value arg = lit.const_kind == ConstKind::kString ? Value::borrowedString(lit.text)
                : lit.const_kind == ConstKind::kInt  ? Value::integer(lit.int_value)
                                                     : Value::null();
    Value result;
    for (const FunctionDecl& d : functionTable()) {
      if (d.name != e.text || d.receiver) continue;
      CallContext ctx;
      if (e.text == "matches") {
        if (arg.kind != Kind::kString) break;
        Value args[2] = {Value::borrowedString(""), arg};
        result = d.fn(ctx, std::span<const Value>(args, 2));
      } else {
        result = d.fn(ctx, std::span<const Value>(&arg, 1));
      }
      break;
    }
    if (result.isError() && !result.str().starts_with("no such overload"))
      issues.push_back({lit.offset, fmt::format("invalid {} argument", e.text)});
  }
  forEachChild(e, [&](const Expr& c) { validateLiterals(c, issues); });
}

}  // namespace

CheckEnv checkEnv(const Env& env) {
  CheckEnv c;
  c.k8s_minor = env.k8s_minor;
  c.homogeneous_literals = env.homogeneous_literals;
  for (size_t k = 0; k < env.variables.size(); ++k)
    c.variables.emplace_back(env.variables[k], k < env.types.size() ? env.types[k] : Type());
  return c;
}

std::shared_ptr<const Program> plan(const Expr& e, const Env& env, std::vector<Issue>* issues) {
  auto impl = std::make_unique<Program::Impl>();
  impl->root = &e;
  impl->names = env.variables;
  std::vector<Issue> found;
  Planner(env, *impl, &found).run(e);
  if (!found.empty()) {
    if (issues) issues->insert(issues->end(), found.begin(), found.end());
    return nullptr;
  }
  return std::make_shared<const Program>(std::move(impl));
}

CompileResult compile(std::string_view source, const Env& env) {
  CompileResult out;
  ParseResult parsed = parse(source, env.parse);
  if (!parsed.ok()) {
    out.issues = std::move(parsed.errors);
    out.message = formatIssues(source, env.parse.description, out.issues);
    return out;
  }
  if (env.strict) {
    CheckResult checked = check(*parsed.expr, checkEnv(env));
    if (!checked.ok()) {
      out.issues = std::move(checked.issues);
      out.message = formatIssues(source, env.parse.description, out.issues);
      return out;
    }
    out.type = std::move(checked.type);
    if (env.k8s_minor == 0 || env.k8s_minor >= 29) {
      validateLiterals(*parsed.expr, out.issues);
      if (!out.issues.empty()) {
        out.message = formatIssues(source, env.parse.description, out.issues);
        return out;
      }
    }
  }
  auto impl = std::make_unique<Program::Impl>();
  impl->owned = std::move(parsed.expr);
  impl->root = impl->owned.get();
  impl->names = env.variables;
  Planner(env, *impl, &out.issues).run(*impl->root);
  if (!out.issues.empty()) {
    out.message = formatIssues(source, env.parse.description, out.issues);
    return out;
  }
  out.program = std::make_shared<const Program>(std::move(impl));
  return out;
}

Value evaluate(const Expr& e, const Activation& vars, uint64_t max_steps) {
  Env env;
  std::vector<Value> values;
  for (const auto& [name, v] : vars.vars) {
    env.variables.push_back(name);
    values.push_back(v);
  }
  std::shared_ptr<const Program> p = plan(e, env, nullptr);
  EvalOptions opts;
  opts.max_steps = max_steps;
  return p->evaluate(values, opts);
}

std::optional<int> parseKubernetesMinor(std::string_view v) {
  if (v.starts_with("v")) v.remove_prefix(1);
  if (!v.starts_with("1.")) return std::nullopt;
  v.remove_prefix(2);
  int minor = 0;
  size_t k = 0;
  for (; k < v.size() && k < 3 && v[k] >= '0' && v[k] <= '9'; ++k)
    minor = minor * 10 + (v[k] - '0');
  if (k == 0 || (k < v.size() && v[k] != '.')) return std::nullopt;
  if (minor < kMinK8sMinor || minor > kMaxK8sMinor) return std::nullopt;
  return minor;
}

}  // namespace kh::cel
