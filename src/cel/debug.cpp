// debugString: an expression as cel-go's debug printer writes it, the form in which the CEL
// conformance and parser suites state the expected trees.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

#include "cel/parser.h"
#include "cel/text.h"

namespace kh::cel {
namespace {

// A double as Go's strconv.FormatFloat(v, 'g', -1, 64): the shortest digits that read back as
// the same value, in exponent form when the exponent is below -4 or at least 6 (two exponent
// digits at the least).
std::string goFloat(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == 0) return std::signbit(v) ? "-0" : "0";
  char sci[64];
  auto r = std::to_chars(sci, sci + sizeof sci, v, std::chars_format::scientific);
  std::string s(sci, r.ptr);
  size_t e = s.find('e');
  int exp = std::atoi(s.c_str() + e + 1);
  if (exp < -4 || exp >= 6) {
    std::string mant = s.substr(0, e);
    return fmt::format("{}e{}{:02d}", mant, exp < 0 ? '-' : '+', std::abs(exp));
  }
  char fixed[400];
  auto f = std::to_chars(fixed, fixed + sizeof fixed, v, std::chars_format::fixed);
  return std::string(fixed, f.ptr);
}

// Is the code point printable as Go's unicode.IsPrint sees it: letters, marks, numbers,
// punctuation, symbols and the ASCII space; not the controls, the other spaces and separators,
// the format characters, surrogates, private use and unassigned code points. Without the Unicode
// tables this is exact for the categories and approximate for unassigned code points (the
// planes with none assigned, the specials block's gap, non-characters).
bool printable(uint32_t cp) {
  if (cp == 0x20) return true;
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return false;  // Cc
  static constexpr uint32_t kSpacesAndFormats[][2] = {
      {0xa0, 0xa0},       {0xad, 0xad},       {0x600, 0x605},     {0x61c, 0x61c},
      {0x6dd, 0x6dd},     {0x70f, 0x70f},     {0x890, 0x891},     {0x8e2, 0x8e2},
      {0x1680, 0x1680},   {0x180e, 0x180e},   {0x2000, 0x200f},   {0x2028, 0x202f},
      {0x205f, 0x2064},   {0x2066, 0x206f},   {0x3000, 0x3000},   {0xfeff, 0xfeff},
      {0xfff0, 0xfffb},   {0x110bd, 0x110bd}, {0x110cd, 0x110cd}, {0x13430, 0x1343f},
      {0x1bca0, 0x1bca3}, {0x1d173, 0x1d17a}, {0xe0000, 0xe00ff}};
  for (const auto& r : kSpacesAndFormats)
    if (cp >= r[0] && cp <= r[1]) return false;
  if (cp >= 0xd800 && cp < 0xe000) return false;                                // Cs
  if (cp >= 0xe000 && cp <= 0xf8ff) return false;                               // Co
  if ((cp & 0xfffe) == 0xfffe || (cp >= 0xfdd0 && cp <= 0xfdef)) return false;  // non-characters
  if (cp >= 0x40000 && cp <= 0xdffff) return false;  // planes 4-13: unassigned
  if (cp >= 0xe01f0) return false;  // the rest of plane 14 unassigned; 15-16 private use
  return cp <= 0x10ffff;
}

// A string as Go's strconv.Quote writes it.
std::string goQuote(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    // Decode one code point; a byte that does not begin a valid sequence is \xNN.
    int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    uint32_t cp = n == 1 ? c : c & (0x7f >> n);
    bool valid = n > 0 && i + n <= s.size();
    for (int k = 1; valid && k < n; ++k) {
      unsigned char d = static_cast<unsigned char>(s[i + k]);
      valid = (d & 0xc0) == 0x80;
      cp = (cp << 6) | (d & 0x3f);
    }
    if (valid && n > 1) {
      static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
      valid = cp >= kMin[n] && cp <= 0x10ffff && !(cp >= 0xd800 && cp < 0xe000);
    }
    if (!valid) {
      out += fmt::format("\\x{:02x}", c);
      ++i;
      continue;
    }
    if (const char* esc = escapeOf(cp)) {
      out += esc;
    } else {
      if (printable(cp))
        out.append(s.substr(i, n));
      else if (cp < 0x80)
        out += fmt::format("\\x{:02x}", cp);
      else if (cp < 0x10000)
        out += fmt::format("\\u{:04x}", cp);
      else
        out += fmt::format("\\U{:08x}", cp);
    }
    i += n;
  }
  return out + "\"";
}

class Writer {
 public:
  explicit Writer(bool kinds) : kinds_(kinds) {}

  void expr(const Expr& e) {
    switch (e.kind) {
      case ExprKind::kConst:
        append(constant(e));
        break;
      case ExprKind::kIdent:
        append(e.text);
        break;
      case ExprKind::kSelect:
        expr(*e.args[0]);
        append(".");
        append(e.text);
        if (e.test_only) append("~test-only~");
        break;
      case ExprKind::kCall:
        if (e.target) {
          expr(*e.target);
          append(".");
        }
        append(e.text);
        append("(");
        if (!e.args.empty()) {
          ++indent_;
          line();
          for (size_t i = 0; i < e.args.size(); ++i) {
            if (i) {
              append(",");
              line();
            }
            expr(*e.args[i]);
          }
          --indent_;
          line();
        }
        append(")");
        break;
      case ExprKind::kList:
        append("[");
        if (!e.args.empty()) {
          line();
          ++indent_;
          for (size_t i = 0; i < e.args.size(); ++i) {
            if (i) {
              append(",");
              line();
            }
            if (std::find(e.optional_indices.begin(), e.optional_indices.end(), i) !=
                e.optional_indices.end())
              append("?");
            expr(*e.args[i]);
          }
          --indent_;
          line();
        }
        append("]");
        break;
      case ExprKind::kStruct:
        append(e.text);
        append("{");
        if (!e.entries.empty()) {
          line();
          ++indent_;
          for (size_t i = 0; i < e.entries.size(); ++i) {
            const Entry& en = e.entries[i];
            if (i) {
              append(",");
              line();
            }
            if (en.optional) append("?");
            if (en.key)
              expr(*en.key);
            else
              append(en.field);
            append(":");
            expr(*en.value);
            if (kinds_) append("^#*expr.Expr_CreateStruct_Entry#");
          }
          --indent_;
          line();
        }
        append("}");
        break;
      case ExprKind::kComprehension:
        append("__comprehension__(");
        ++indent_;
        line();
        append("// Variable");
        line();
        append(e.iter_var);
        append(",");
        line();
        if (!e.iter_var2.empty()) {
          append(e.iter_var2);
          append(",");
          line();
        }
        part("Target", *e.iter_range);
        append("// Accumulator");
        line();
        append(e.accu_var);
        append(",");
        line();
        part("Init", *e.accu_init);
        part("LoopCondition", *e.loop_condition);
        part("LoopStep", *e.loop_step);
        append("// Result");
        line();
        expr(*e.result);
        append(")");
        --indent_;
        break;
    }
    if (kinds_) append(kindName(e));
  }

  std::string take() { return std::move(out_); }

 private:
  void part(const char* name, const Expr& e) {
    append(std::string("// ") + name);
    line();
    expr(e);
    append(",");
    line();
  }
  static std::string constant(const Expr& e) {
    switch (e.const_kind) {
      case ConstKind::kBool:
        return e.bool_value ? "true" : "false";
      case ConstKind::kInt:
        return std::to_string(e.int_value);
      case ConstKind::kUint:
        return std::to_string(e.uint_value) + "u";
      case ConstKind::kDouble:
        return goFloat(e.double_value);
      case ConstKind::kString:
        return goQuote(e.text);
      case ConstKind::kBytes:
        return "b" + goQuote(e.text);
      default:
        return "null";
    }
  }
  static std::string kindName(const Expr& e) {
    switch (e.kind) {
      case ExprKind::kConst: {
        static constexpr const char* kConsts[] = {"NullValue",   "BoolValue",   "Int64Value",
                                                  "Uint64Value", "DoubleValue", "StringValue",
                                                  "BytesValue"};
        return fmt::format("^#*expr.Constant_{}#", kConsts[static_cast<int>(e.const_kind)]);
      }
      case ExprKind::kIdent:
        return "^#*expr.Expr_IdentExpr#";
      case ExprKind::kSelect:
        return "^#*expr.Expr_SelectExpr#";
      case ExprKind::kCall:
        return "^#*expr.Expr_CallExpr#";
      case ExprKind::kList:
        return "^#*expr.Expr_ListExpr#";
      case ExprKind::kStruct:
        return "^#*expr.Expr_StructExpr#";
      default:
        return "^#*expr.Expr_ComprehensionExpr#";
    }
  }
  void append(std::string_view s) {
    if (line_start_) {
      line_start_ = false;
      out_.append(2 * static_cast<size_t>(indent_), ' ');
    }
    out_ += s;
  }
  void line() {
    out_ += '\n';
    line_start_ = true;
  }

  bool kinds_;
  std::string out_;
  int indent_ = 0;
  bool line_start_ = true;
};

}  // namespace

std::string debugString(const Expr& e, bool kinds) {
  Writer w(kinds);
  w.expr(e);
  return w.take();
}

}  // namespace kh::cel
