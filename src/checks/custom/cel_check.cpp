#include "checks/custom/cel_check.h"

#include <fmt/format.h>

#include "cel/eval.h"

namespace kh {
namespace {

class CelCheck final : public Check {
 public:
  explicit CelCheck(const CustomCheck& c) : c_(c) {
    for (const std::string& k : c_.kinds) kinds_.push_back(k);
    meta_.id = c_.id;
    meta_.title = c_.title;
    meta_.severity = c_.severity;
    meta_.group = "custom";
    meta_.enabled_by_default = true;
    meta_.scope = kinds_.empty() ? Scope::kAll : Scope::kKinds;
    meta_.kinds = kinds_;
    meta_.remediation = c_.remediation;
  }

  Status compile(const std::string& file) {
    cel::Env env;
    env.variables = {"object"};
    env.strict = true;
    env.homogeneous_literals = true;  // as in Kubernetes' environments
    auto one = [&](const std::string& src, SourcePos pos, std::string_view what, cel::TypeKind want,
                   std::shared_ptr<const cel::Program>& out) -> Status {
      if (src.empty()) return {};
      env.parse.description = "<input>";
      cel::CompileResult r = cel::compile(src, env);
      if (!r.ok())
        return Error{fmt::format("customChecks {}: {}: {}", c_.id, what, r.message), file, pos};
      if (r.type.kind != want)
        return Error{fmt::format("customChecks {}: {}: must evaluate to {} (its type is {})", c_.id,
                                 what, cel::Type(want).str(), r.type.str()),
                     file, pos};
      out = r.program;
      return {};
    };
    if (Status s = one(c_.expression, c_.expression_pos, "expression", cel::TypeKind::kBool, expr_);
        !s)
      return s;
    return one(c_.message_expression, c_.message_expression_pos, "messageExpression",
               cel::TypeKind::kString, message_);
  }

  const CheckMeta& meta() const override { return meta_; }

  void check(const Object& o, const CheckContext&, FindingSink& sink) const override {
    if (o.dockerfile) return;
    cel::Value object = cel::Value::fromNode(o.root);
    std::span<const cel::Value> vars(&object, 1);
    cel::EvalOptions opts;
    opts.cost_limit = cel::kPerCallCostLimit;
    cel::Value r = expr_->evaluate(vars, opts);
    if (r.kind == cel::Kind::kBool && r.b) return;
    std::string msg;
    if (r.failed()) {
      msg = fmt::format("expression '{}' resulted in error: {}", c_.expression, r.str());
    } else if (r.kind != cel::Kind::kBool) {
      msg = fmt::format("expression '{}' resulted in {}, not a bool", c_.expression,
                        cel::typeName(r));
    } else {
      if (message_) {
        cel::Value m = message_->evaluate(vars, opts);
        if (m.kind == cel::Kind::kString) msg = std::string(m.str());
      }
      if (msg.empty()) msg = c_.message;
      if (msg.empty()) msg = "failed expression: " + c_.expression;
    }
    sink.add(finding(o, o.root->pos, "", std::move(msg)));
  }

 private:
  CustomCheck c_;
  std::vector<std::string_view> kinds_;
  CheckMeta meta_{};
  std::shared_ptr<const cel::Program> expr_, message_;
};

}  // namespace

Result<std::vector<std::unique_ptr<Check>>> makeCustomChecks(const Config& cfg) {
  std::vector<std::unique_ptr<Check>> out;
  for (const CustomCheck& c : cfg.custom_checks) {
    auto check = std::make_unique<CelCheck>(c);
    if (Status s = check->compile(cfg.file); !s) return s.error();
    out.push_back(std::move(check));
  }
  return out;
}

}  // namespace kh
