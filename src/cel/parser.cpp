#include "cel/parser.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <optional>

#include "cel/text.h"

namespace kh::cel {
namespace {

enum class Tok : uint8_t {
  kEof,
  kError,  // a character (or an unfinished literal) no token begins with
  kIdent,
  kEscIdent,  // `a-b.c`: a field name with characters an identifier cannot have
  kInt,
  kUint,
  kDouble,
  kString,
  kBytes,
  kTrue,
  kFalse,
  kNull,
  kIn,
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kLBrace,
  kRBrace,
  kDot,
  kComma,
  kColon,
  kQuestion,
  kPlus,
  kMinus,
  kStar,
  kSlash,
  kPercent,
  kNot,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kAnd,
  kOr,
};

struct Token {
  Tok kind = Tok::kEof;
  uint32_t begin = 0, end = 0;  // byte offsets
};

constexpr std::array<std::string_view, 17> kReserved = {
    "as",  "break", "const",   "continue",  "else",   "for", "function", "if",   "import",
    "let", "loop",  "package", "namespace", "return", "var", "void",     "while"};

bool isReserved(std::string_view s) {
  return std::find(kReserved.begin(), kReserved.end(), s) != kReserved.end();
}

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}
bool isHex(char c) {
  return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool isIdentStart(char c) {
  return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool isIdentPart(char c) {
  return isIdentStart(c) || isDigit(c);
}
int hexValue(char c) {
  if (isDigit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

class Lexer {
 public:
  explicit Lexer(std::string_view src) : s_(src) {}

  Token next() {
    skipSpace();
    Token t;
    t.begin = static_cast<uint32_t>(p_);
    if (p_ >= s_.size()) {
      t.kind = Tok::kEof;
      t.end = t.begin;
      return t;
    }
    char c = s_[p_];
    auto one = [&](Tok k, size_t len = 1) {
      t.kind = k;
      p_ += len;
      t.end = static_cast<uint32_t>(p_);
      return t;
    };
    auto peek = [&](size_t k) { return p_ + k < s_.size() ? s_[p_ + k] : '\0'; };
    // Strings and bytes, with their prefixes (r, b, and both in either order and case).
    {
      size_t q = p_;
      bool raw = false, bytes = false;
      for (int k = 0; k < 2 && q < s_.size(); ++k) {
        char x = s_[q];
        if ((x == 'r' || x == 'R') && !raw) {
          raw = true;
          ++q;
        } else if ((x == 'b' || x == 'B') && !bytes) {
          bytes = true;
          ++q;
        } else {
          break;
        }
      }
      if (q < s_.size() && (s_[q] == '"' || s_[q] == '\'')) {
        size_t save = p_;
        p_ = q;
        if (string(raw)) {
          t.kind = bytes ? Tok::kBytes : Tok::kString;
          t.end = static_cast<uint32_t>(p_);
          return t;
        }
        p_ = save;
        // An unfinished string: the rest of the line cannot be lexed.
        size_t eol = s_.find_first_of("\r\n", q);
        p_ = eol == std::string_view::npos ? s_.size() : eol;
        t.kind = Tok::kError;
        t.end = static_cast<uint32_t>(p_);
        return t;
      }
    }
    if (isIdentStart(c)) {
      size_t q = p_;
      while (q < s_.size() && isIdentPart(s_[q])) ++q;
      std::string_view w = s_.substr(p_, q - p_);
      Tok k = w == "true"    ? Tok::kTrue
              : w == "false" ? Tok::kFalse
              : w == "null"  ? Tok::kNull
              : w == "in"    ? Tok::kIn
                             : Tok::kIdent;
      return one(k, q - p_);
    }
    if (isDigit(c) || (c == '.' && isDigit(peek(1)))) return number();
    if (c == '`') {
      size_t q = p_ + 1;
      while (q < s_.size() &&
             (isIdentPart(s_[q]) || s_[q] == '.' || s_[q] == '-' || s_[q] == '/' || s_[q] == ' '))
        ++q;
      if (q < s_.size() && s_[q] == '`' && q > p_ + 1) return one(Tok::kEscIdent, q + 1 - p_);
    }
    switch (c) {
      case '(':
        return one(Tok::kLParen);
      case ')':
        return one(Tok::kRParen);
      case '[':
        return one(Tok::kLBracket);
      case ']':
        return one(Tok::kRBracket);
      case '{':
        return one(Tok::kLBrace);
      case '}':
        return one(Tok::kRBrace);
      case '.':
        return one(Tok::kDot);
      case ',':
        return one(Tok::kComma);
      case ':':
        return one(Tok::kColon);
      case '?':
        return one(Tok::kQuestion);
      case '+':
        return one(Tok::kPlus);
      case '-':
        return one(Tok::kMinus);
      case '*':
        return one(Tok::kStar);
      case '/':
        return one(Tok::kSlash);
      case '%':
        return one(Tok::kPercent);
      case '!':
        return peek(1) == '=' ? one(Tok::kNe, 2) : one(Tok::kNot);
      case '=':
        if (peek(1) == '=') return one(Tok::kEq, 2);
        break;
      case '<':
        return peek(1) == '=' ? one(Tok::kLe, 2) : one(Tok::kLt);
      case '>':
        return peek(1) == '=' ? one(Tok::kGe, 2) : one(Tok::kGt);
      case '&':
        if (peek(1) == '&') return one(Tok::kAnd, 2);
        break;
      case '|':
        if (peek(1) == '|') return one(Tok::kOr, 2);
        break;
      default:
        break;
    }
    // Not a token: one code point.
    size_t q = p_;
    decodeUtf8(s_, q);
    return one(Tok::kError, q - p_);
  }

 private:
  void skipSpace() {
    for (;;) {
      while (p_ < s_.size() && (s_[p_] == ' ' || s_[p_] == '\t' || s_[p_] == '\n' ||
                                s_[p_] == '\r' || s_[p_] == '\f'))
        ++p_;
      if (p_ + 1 < s_.size() && s_[p_] == '/' && s_[p_ + 1] == '/') {
        while (p_ < s_.size() && s_[p_] != '\n' && s_[p_] != '\r') ++p_;
        continue;
      }
      return;
    }
  }

  // A quoted literal at p_ (its quote); true with p_ after it, when well formed. Escapes are
  // checked here (an invalid one makes the token an error, as the grammar's lexer does); they
  // are decoded by the parser.
  bool string(bool raw) {
    char q = s_[p_];
    bool triple = p_ + 2 < s_.size() && s_[p_ + 1] == q && s_[p_ + 2] == q;
    size_t i = p_ + (triple ? 3 : 1);
    while (i < s_.size()) {
      char c = s_[i];
      if (triple) {
        if (c == q && i + 2 < s_.size() && s_[i + 1] == q && s_[i + 2] == q) {
          p_ = i + 3;
          return true;
        }
      } else {
        if (c == q) {
          p_ = i + 1;
          return true;
        }
        if (c == '\n' || c == '\r') return false;
      }
      if (c == '\\' && !raw) {
        size_t n = escapeLength(i);
        if (n == 0) return false;
        i += n;
        continue;
      }
      ++i;
    }
    return false;
  }

  // Length of the escape sequence at s_[i] (a backslash), 0 when it is not one.
  size_t escapeLength(size_t i) const {
    if (i + 1 >= s_.size()) return 0;
    char c = s_[i + 1];
    auto hexRun = [&](size_t from, size_t n) {
      if (from + n > s_.size()) return false;
      for (size_t k = 0; k < n; ++k)
        if (!isHex(s_[from + k])) return false;
      return true;
    };
    switch (c) {
      case 'a':
      case 'b':
      case 'f':
      case 'n':
      case 'r':
      case 't':
      case 'v':
      case '"':
      case '\'':
      case '\\':
      case '?':
      case '`':
        return 2;
      case 'x':
      case 'X':
        return hexRun(i + 2, 2) ? 4 : 0;
      case 'u':
        return hexRun(i + 2, 4) ? 6 : 0;
      case 'U':
        return hexRun(i + 2, 8) ? 10 : 0;
      default:
        if (c >= '0' && c <= '3' && i + 3 < s_.size() && s_[i + 2] >= '0' && s_[i + 2] <= '7' &&
            s_[i + 3] >= '0' && s_[i + 3] <= '7')
          return 4;
        return 0;
    }
  }

  Token number() {
    Token t;
    t.begin = static_cast<uint32_t>(p_);
    size_t i = p_;
    auto digits = [&] {
      size_t from = i;
      while (i < s_.size() && isDigit(s_[i])) ++i;
      return i > from;
    };
    auto exponent = [&] {
      if (i < s_.size() && (s_[i] == 'e' || s_[i] == 'E')) {
        size_t save = i++;
        if (i < s_.size() && (s_[i] == '+' || s_[i] == '-')) ++i;
        if (!digits()) {
          i = save;
          return false;
        }
        return true;
      }
      return false;
    };
    if (s_[i] == '0' && i + 2 < s_.size() && s_[i + 1] == 'x' && isHex(s_[i + 2])) {
      i += 2;
      while (i < s_.size() && isHex(s_[i])) ++i;
      t.kind = Tok::kInt;
    } else if (s_[i] == '.') {
      ++i;
      digits();
      exponent();
      t.kind = Tok::kDouble;
    } else {
      digits();
      t.kind = Tok::kInt;
      if (i + 1 < s_.size() && s_[i] == '.' && isDigit(s_[i + 1])) {
        ++i;
        digits();
        exponent();
        t.kind = Tok::kDouble;
      } else if (exponent()) {
        t.kind = Tok::kDouble;
      }
    }
    if (t.kind == Tok::kInt && i < s_.size() && (s_[i] == 'u' || s_[i] == 'U')) {
      ++i;
      t.kind = Tok::kUint;
    }
    p_ = i;
    t.end = static_cast<uint32_t>(p_);
    return t;
  }

  std::string_view s_;
  size_t p_ = 0;
};

// Decodes a string or bytes literal token (prefixes, quotes, escapes). Strings: escapes give code
// points; bytes: \x and octal give octets and the text is its UTF-8. False with `why` when an
// escape is not allowed there.
bool decodeLiteral(std::string_view tok, bool bytes, std::string& out, std::string& why) {
  size_t i = 0;
  bool raw = false;
  while (i < tok.size() && tok[i] != '"' && tok[i] != '\'') {
    if (tok[i] == 'r' || tok[i] == 'R') raw = true;
    ++i;
  }
  char q = tok[i];
  bool triple = tok.size() - i >= 6 && tok[i + 1] == q && tok[i + 2] == q;
  size_t from = i + (triple ? 3 : 1), to = tok.size() - (triple ? 3 : 1);
  out.clear();
  for (size_t k = from; k < to;) {
    char c = tok[k];
    if (c != '\\' || raw) {
      out += c;
      ++k;
      continue;
    }
    char e = tok[k + 1];
    auto hex = [&](size_t at, size_t n) {
      uint32_t v = 0;
      for (size_t j = 0; j < n; ++j) v = v * 16 + static_cast<uint32_t>(hexValue(tok[at + j]));
      return v;
    };
    if (char c = unescapeLetter(e)) {
      out += c;
      k += 2;
      continue;
    }
    switch (e) {
      case 'x':
      case 'X': {
        uint32_t v = hex(k + 2, 2);
        if (bytes)
          out += static_cast<char>(v);
        else
          appendUtf8(out, v);
        k += 4;
        break;
      }
      case 'u':
      case 'U': {
        size_t n = e == 'u' ? 4 : 8;
        uint32_t v = hex(k + 2, n);
        if (bytes) {
          why = "unicode escape sequences are not allowed in bytes literals";
          return false;
        }
        if ((v >= 0xd800 && v < 0xe000) || v > 0x10ffff) {
          why = "invalid unicode code point";
          return false;
        }
        appendUtf8(out, v);
        k += 2 + n;
        break;
      }
      default:
        if (e >= '0' && e <= '3') {
          uint32_t v =
              static_cast<uint32_t>((e - '0') * 64 + (tok[k + 2] - '0') * 8 + (tok[k + 3] - '0'));
          if (bytes)
            out += static_cast<char>(v);
          else
            appendUtf8(out, v);
          k += 4;
        } else {  // \" \' \\ \? \`
          out += e;
          k += 2;
        }
    }
  }
  return true;
}

struct SyntaxError {};  // unwinds the parser at the first syntax error

class Parser {
 public:
  Parser(std::string_view src, const ParseOptions& o) : src_(src), lex_(src), o_(o) { advance(); }

  ParseResult run() {
    ParseResult r;
    try {
      ExprPtr e = expr();
      if (tok_.kind != Tok::kEof) syntax(tok_, "expecting the end of the expression");
      // The tree's depth, as cel-go's visitor bounds it (chains of operators count here, where
      // the nesting limit above counts nested expressions).
      if (errors_.empty() && e->height > o_.max_recursion_depth)
        error(-1, "max recursion depth exceeded");
      if (errors_.empty()) r.expr = std::move(e);
    } catch (const SyntaxError&) {
      // A syntax error stops the tree's construction: the other errors found on the way (which
      // cel-go finds only in a tree) are not said.
      std::vector<Issue> keep;
      for (Issue& i : errors_)
        if (i.offset < 0 || i.message.starts_with("Syntax error:")) keep.push_back(std::move(i));
      errors_ = std::move(keep);
    }
    std::stable_sort(errors_.begin(), errors_.end(),
                     [](const Issue& a, const Issue& b) { return a.offset < b.offset; });
    r.errors = std::move(errors_);
    r.max_id = next_id_ - 1;
    return r;
  }

 private:
  // --- tokens ---
  void advance() { tok_ = lex_.next(); }
  bool accept(Tok k) {
    if (tok_.kind != k) return false;
    advance();
    return true;
  }
  std::string_view text(const Token& t) const { return src_.substr(t.begin, t.end - t.begin); }
  std::string describe(const Token& t) const {
    return t.kind == Tok::kEof ? "the end of the expression" : fmt::format("'{}'", text(t));
  }
  [[noreturn]] void syntax(const Token& t, std::string_view expecting) {
    if (t.kind == Tok::kError)
      error(t.begin, fmt::format("Syntax error: token recognition error at: '{}'", text(t)));
    else
      error(t.begin, fmt::format("Syntax error: unexpected {}, {}", describe(t), expecting));
    throw SyntaxError{};
  }
  void expect(Tok k, std::string_view what) {
    if (!accept(k)) syntax(tok_, fmt::format("expecting {}", what));
  }
  void error(int64_t offset, std::string message) {
    errors_.push_back({offset, std::move(message)});
  }

  // --- nodes ---
  ExprPtr node(ExprKind k, uint32_t offset) {
    auto e = std::make_unique<Expr>();
    e->id = next_id_++;
    e->kind = k;
    e->offset = offset;
    return e;
  }
  ExprPtr ident(std::string name, uint32_t offset) {
    ExprPtr e = node(ExprKind::kIdent, offset);
    e->text = std::move(name);
    return e;
  }
  ExprPtr call(std::string fn, uint32_t offset, std::vector<ExprPtr> args,
               ExprPtr target = nullptr) {
    ExprPtr e = node(ExprKind::kCall, offset);
    e->text = std::move(fn);
    e->args = std::move(args);
    e->target = std::move(target);
    int h = e->target ? e->target->height : 0;
    for (const ExprPtr& a : e->args) h = std::max(h, a->height);
    e->height = h + 1;
    return e;
  }
  ExprPtr call2(std::string fn, uint32_t offset, ExprPtr a, ExprPtr b) {
    std::vector<ExprPtr> args;
    args.push_back(std::move(a));
    args.push_back(std::move(b));
    return call(std::move(fn), offset, std::move(args));
  }
  ExprPtr boolConst(bool v, uint32_t offset) {
    ExprPtr e = node(ExprKind::kConst, offset);
    e->const_kind = ConstKind::kBool;
    e->bool_value = v;
    return e;
  }
  ExprPtr intConst(int64_t v, uint32_t offset) {
    ExprPtr e = node(ExprKind::kConst, offset);
    e->const_kind = ConstKind::kInt;
    e->int_value = v;
    return e;
  }
  // A placeholder for what could not be built (an error is recorded).
  ExprPtr bad(uint32_t offset) { return ident("<error>", offset); }

  // --- grammar ---
  struct Depth {
    Parser& p;
    explicit Depth(Parser& parser) : p(parser) {
      if (++p.depth_ > p.o_.max_recursion_depth) {
        p.error(-1,
                fmt::format("expression recursion limit exceeded: {}", p.o_.max_recursion_depth));
        throw SyntaxError{};
      }
    }
    ~Depth() { --p.depth_; }
  };

  ExprPtr expr() {
    Depth d(*this);
    ExprPtr cond = logical(Tok::kOr);
    if (tok_.kind != Tok::kQuestion) return cond;
    uint32_t at = tok_.begin;
    advance();
    ExprPtr yes = logical(Tok::kOr);
    expect(Tok::kColon, "':'");
    ExprPtr no = expr();
    std::vector<ExprPtr> args;
    args.push_back(std::move(cond));
    args.push_back(std::move(yes));
    args.push_back(std::move(no));
    return call("_?_:_", at, std::move(args));
  }

  // `a || b || c` and `a && b && c`: terms balanced into a tree, as cel-go builds them.
  ExprPtr logical(Tok op) {
    std::vector<ExprPtr> terms;
    std::vector<uint32_t> ops;
    terms.push_back(op == Tok::kOr ? logical(Tok::kAnd) : relation());
    while (tok_.kind == op) {
      ops.push_back(tok_.begin);
      advance();
      terms.push_back(op == Tok::kOr ? logical(Tok::kAnd) : relation());
    }
    if (terms.size() == 1) return std::move(terms[0]);
    int h = 0;
    for (const ExprPtr& t : terms) h = std::max(h, t->height);
    ExprPtr top = balanced(op == Tok::kOr ? "_||_" : "_&&_", terms, ops, 0, terms.size() - 1);
    top->height = h + 1;  // one level for the whole chain, as cel-go's visitor counts it
    return top;
  }
  ExprPtr balanced(const char* fn, std::vector<ExprPtr>& terms, const std::vector<uint32_t>& ops,
                   size_t lo, size_t hi) {
    if (lo == hi) return std::move(terms[lo]);
    size_t mid = (lo + hi) / 2;  // the operator between terms[mid] and terms[mid + 1]
    ExprPtr left = balanced(fn, terms, ops, lo, mid);
    ExprPtr right = balanced(fn, terms, ops, mid + 1, hi);
    return call2(fn, ops[mid], std::move(left), std::move(right));
  }

  ExprPtr relation() {
    ExprPtr left = addition();
    for (;;) {
      const char* fn = nullptr;
      switch (tok_.kind) {
        case Tok::kLt:
          fn = "_<_";
          break;
        case Tok::kLe:
          fn = "_<=_";
          break;
        case Tok::kGt:
          fn = "_>_";
          break;
        case Tok::kGe:
          fn = "_>=_";
          break;
        case Tok::kEq:
          fn = "_==_";
          break;
        case Tok::kNe:
          fn = "_!=_";
          break;
        case Tok::kIn:
          fn = "@in";
          break;
        default:
          return left;
      }
      uint32_t at = tok_.begin;
      advance();
      left = call2(fn, at, std::move(left), addition());
    }
  }

  ExprPtr addition() {
    ExprPtr left = multiplication();
    while (tok_.kind == Tok::kPlus || tok_.kind == Tok::kMinus) {
      const char* fn = tok_.kind == Tok::kPlus ? "_+_" : "_-_";
      uint32_t at = tok_.begin;
      advance();
      left = call2(fn, at, std::move(left), multiplication());
    }
    return left;
  }

  ExprPtr multiplication() {
    ExprPtr left = unary();
    while (tok_.kind == Tok::kStar || tok_.kind == Tok::kSlash || tok_.kind == Tok::kPercent) {
      const char* fn = tok_.kind == Tok::kStar ? "_*_" : tok_.kind == Tok::kSlash ? "_/_" : "_%_";
      uint32_t at = tok_.begin;
      advance();
      left = call2(fn, at, std::move(left), unary());
    }
    return left;
  }

  // `!`+ member and `-`+ member: an even run is the operand itself, an odd one one operator. A
  // single `-` before a number is the number's sign (`-1` is a constant, `4--4` is `4 - -4`).
  ExprPtr unary() {
    if (tok_.kind == Tok::kNot || tok_.kind == Tok::kMinus) {
      Tok op = tok_.kind;
      uint32_t at = tok_.begin;
      size_t count = 0;
      Token first = tok_;
      while (tok_.kind == op) {
        ++count;
        advance();
      }
      // `-` then a number: the number takes the last `-` as its sign when the run is one long
      // (a longer run is operators all, the grammar's greedy choice).
      if (op == Tok::kMinus && count == 1 &&
          (tok_.kind == Tok::kInt || tok_.kind == Tok::kDouble)) {
        return member(literal(&first));
      }
      ExprPtr operand = member(primary());
      if (count % 2 == 0) return operand;
      std::vector<ExprPtr> args;
      args.push_back(std::move(operand));
      return call(op == Tok::kNot ? "!_" : "-_", at, std::move(args));
    }
    return member(primary());
  }

  // Selections, calls on a receiver, indexing, after a primary.
  ExprPtr member(ExprPtr e) {
    for (;;) {
      if (tok_.kind == Tok::kDot) {
        uint32_t at = tok_.begin;
        advance();
        bool opt = false;
        if (tok_.kind == Tok::kQuestion) {
          opt = true;
          advance();
        }
        if (tok_.kind != Tok::kIdent && tok_.kind != Tok::kEscIdent)
          syntax(tok_, "expecting a field name");
        Token id = tok_;
        advance();
        std::string name = fieldName(id);
        if (opt) {
          if (!o_.optional_syntax) {
            error(at, "unsupported syntax '.?'");
          }
          ExprPtr field = node(ExprKind::kConst, id.begin);
          field->const_kind = ConstKind::kString;
          field->text = name;
          e = call2("_?._", at, std::move(e), std::move(field));
          continue;
        }
        if (tok_.kind == Tok::kLParen) {
          uint32_t open = tok_.begin;
          advance();
          std::vector<ExprPtr> args = exprList(Tok::kRParen, "')'");
          e = receiverCall(std::move(e), name, open, std::move(args));
          continue;
        }
        ExprPtr sel = node(ExprKind::kSelect, at);
        sel->text = name;
        sel->height = e->height + 1;
        sel->args.push_back(std::move(e));
        e = std::move(sel);
        continue;
      }
      if (tok_.kind == Tok::kLBracket) {
        uint32_t at = tok_.begin;
        advance();
        bool opt = false;
        if (tok_.kind == Tok::kQuestion) {
          opt = true;
          if (!o_.optional_syntax) error(at, "unsupported syntax '[?'");
          advance();
        }
        ExprPtr index = expr();
        expect(Tok::kRBracket, "']'");
        e = call2(opt ? "_[?_]" : "_[_]", at, std::move(e), std::move(index));
        continue;
      }
      return e;
    }
  }

  std::vector<ExprPtr> exprList(Tok close, std::string_view what) {
    std::vector<ExprPtr> out;
    if (accept(close)) return out;
    for (;;) {
      out.push_back(expr());
      if (accept(close)) return out;
      expect(Tok::kComma, fmt::format("',' or {}", what));
    }
  }

  ExprPtr primary() {
    switch (tok_.kind) {
      case Tok::kLParen: {
        advance();
        ExprPtr e = expr();
        expect(Tok::kRParen, "')'");
        return e;
      }
      case Tok::kLBracket:
        return listLiteral();
      case Tok::kLBrace:
        return mapLiteral();
      case Tok::kDot:
      case Tok::kIdent:
        return name();
      case Tok::kInt:
      case Tok::kUint:
      case Tok::kDouble:
      case Tok::kString:
      case Tok::kBytes:
      case Tok::kTrue:
      case Tok::kFalse:
      case Tok::kNull:
        return literal(nullptr);
      default:
        syntax(tok_, "expecting an expression");
    }
  }

  // An identifier, a global call, or a message literal (a qualified name, then `{`).
  ExprPtr name() {
    bool leading_dot = false;
    if (tok_.kind == Tok::kDot) {
      leading_dot = true;
      advance();
      if (tok_.kind != Tok::kIdent) syntax(tok_, "expecting an identifier");
    }
    Token id = tok_;
    advance();
    std::string n(text(id));
    if (isReserved(n)) error(id.begin, "reserved identifier: " + n);
    std::string full = (leading_dot ? "." : "") + n;
    if (tok_.kind == Tok::kLParen) {
      uint32_t open = tok_.begin;
      advance();
      std::vector<ExprPtr> args = exprList(Tok::kRParen, "')'");
      return globalCall(full, open, std::move(args));
    }
    // A message literal: `a.b.C{...}`. Look past `.IDENT` runs for a `{`.
    {
      Lexer probe = lex_;
      Token t = tok_;
      std::string qualified = full;
      bool is_message = false;
      for (;;) {
        if (t.kind == Tok::kLBrace) {
          is_message = true;
          break;
        }
        if (t.kind != Tok::kDot) break;
        Token f = probe.next();
        if (f.kind != Tok::kIdent) break;
        qualified += "." + std::string(text(f));
        t = probe.next();
      }
      if (is_message) {
        while (tok_.kind != Tok::kLBrace) advance();  // the `.IDENT`s just read
        return messageLiteral(qualified);
      }
    }
    return ident(full, id.begin);
  }

  ExprPtr literal(const Token* sign) {
    Token t = tok_;
    advance();
    uint32_t at = sign ? sign->begin : t.begin;
    std::string_view body = text(t);
    ExprPtr e = node(ExprKind::kConst, at);
    switch (t.kind) {
      case Tok::kInt: {
        std::string digits = (sign ? "-" : "") + std::string(body);
        bool hex = body.size() > 2 && body[0] == '0' && body[1] == 'x';
        if (hex) digits = (sign ? "-" : "") + std::string(body.substr(2));
        errno = 0;
        char* end = nullptr;
        long long v = std::strtoll(digits.c_str(), &end, hex ? 16 : 10);
        e->const_kind = ConstKind::kInt;
        if (errno == ERANGE || *end != '\0') {
          error(at, "invalid int literal");
          return bad(at);
        }
        e->int_value = v;
        return e;
      }
      case Tok::kUint: {
        std::string_view digits = body.substr(0, body.size() - 1);
        bool hex = digits.size() > 2 && digits[0] == '0' && digits[1] == 'x';
        std::string d(hex ? digits.substr(2) : digits);
        errno = 0;
        char* end = nullptr;
        unsigned long long v = std::strtoull(d.c_str(), &end, hex ? 16 : 10);
        e->const_kind = ConstKind::kUint;
        if (errno == ERANGE || *end != '\0') {
          error(at, "invalid uint literal");
          return bad(at);
        }
        e->uint_value = v;
        return e;
      }
      case Tok::kDouble: {
        std::string d = (sign ? "-" : "") + std::string(body);
        errno = 0;
        char* end = nullptr;
        double v = std::strtod(d.c_str(), &end);
        e->const_kind = ConstKind::kDouble;
        if (std::isinf(v) || *end != '\0') {
          error(at, "invalid double literal");
          return bad(at);
        }
        e->double_value = v;
        return e;
      }
      case Tok::kString:
      case Tok::kBytes: {
        bool bytes = t.kind == Tok::kBytes;
        std::string why;
        e->const_kind = bytes ? ConstKind::kBytes : ConstKind::kString;
        if (!decodeLiteral(body, bytes, e->text, why)) {
          error(at, why);
          return bad(at);
        }
        return e;
      }
      case Tok::kTrue:
      case Tok::kFalse:
        e->const_kind = ConstKind::kBool;
        e->bool_value = t.kind == Tok::kTrue;
        return e;
      default:
        e->const_kind = ConstKind::kNull;
        return e;
    }
  }

  ExprPtr listLiteral() {
    ExprPtr e = node(ExprKind::kList, tok_.begin);
    advance();
    while (tok_.kind != Tok::kRBracket) {
      if (tok_.kind == Tok::kQuestion) {
        if (!o_.optional_syntax) error(tok_.begin, "unsupported syntax '?'");
        e->optional_indices.push_back(static_cast<uint32_t>(e->args.size()));
        advance();
      }
      e->args.push_back(expr());
      e->height = std::max(e->height, e->args.back()->height + 1);
      if (tok_.kind == Tok::kRBracket) break;
      expect(Tok::kComma, "',' or ']'");
    }
    advance();
    return e;
  }

  ExprPtr mapLiteral() {
    ExprPtr e = node(ExprKind::kStruct, tok_.begin);
    advance();
    while (tok_.kind != Tok::kRBrace) {
      Entry en;
      if (tok_.kind == Tok::kQuestion) {
        if (!o_.optional_syntax) error(tok_.begin, "unsupported syntax '?'");
        en.optional = true;
        advance();
      }
      en.key = expr();
      if (tok_.kind != Tok::kColon) syntax(tok_, "expecting ':'");
      en.offset = tok_.begin;
      en.id = next_id_++;
      advance();
      en.value = expr();
      e->height = std::max({e->height, en.value->height + 1, en.key ? en.key->height + 1 : 1});
      e->entries.push_back(std::move(en));
      if (tok_.kind == Tok::kRBrace) break;
      expect(Tok::kComma, "',' or '}'");
    }
    advance();
    return e;
  }

  ExprPtr messageLiteral(const std::string& type) {
    ExprPtr e = node(ExprKind::kStruct, tok_.begin);
    e->text = type;
    advance();  // {
    while (tok_.kind != Tok::kRBrace) {
      Entry en;
      if (tok_.kind == Tok::kQuestion) {
        if (!o_.optional_syntax) error(tok_.begin, "unsupported syntax '?'");
        en.optional = true;
        advance();
      }
      if (tok_.kind != Tok::kIdent && tok_.kind != Tok::kEscIdent)
        syntax(tok_, "expecting a field name");
      en.field = fieldName(tok_);
      advance();
      if (tok_.kind != Tok::kColon) syntax(tok_, "expecting ':'");
      en.offset = tok_.begin;
      en.id = next_id_++;
      advance();
      en.value = expr();
      e->height = std::max({e->height, en.value->height + 1, en.key ? en.key->height + 1 : 1});
      e->entries.push_back(std::move(en));
      if (tok_.kind == Tok::kRBrace) break;
      expect(Tok::kComma, "',' or '}'");
    }
    advance();
    return e;
  }

  // A field name (after `.`, or in a message literal): an identifier, reserved words included,
  // or a quoted one (`a-b`) where the option allows it.
  std::string fieldName(const Token& t) {
    std::string_view v = text(t);
    if (t.kind == Tok::kEscIdent) {
      if (!o_.identifier_escapes) error(t.begin, "unsupported syntax: '`'");
      return std::string(v.substr(1, v.size() - 2));
    }
    return std::string(v);  // reserved words are field names like any other
  }

  // --- macros ---
  ExprPtr globalCall(const std::string& fn, uint32_t at, std::vector<ExprPtr> args) {
    if (fn == "has" && args.size() == 1) {
      Expr* a = args[0].get();
      if (a->kind != ExprKind::kSelect) {
        error(a->offset, "invalid argument to has() macro");
        return bad(at);
      }
      a->test_only = true;
      a->height += 1;  // the has() call written around it
      // The select keeps its id; the macro call's is not used.
      return std::move(args[0]);
    }
    return call(fn, at, std::move(args));
  }

  // The iteration variable's name, or empty (with `error` said at it) when the argument is not a
  // simple identifier.
  std::string iterVar(const Expr& a, const char* not_simple) {
    if (a.kind != ExprKind::kIdent || a.text == "<error>" || a.text.starts_with(".")) {
      error(a.offset, not_simple);
      return {};
    }
    if (a.text == kAccumulator || a.text == "__result__") {
      error(a.offset, "iteration variable overwrites accumulator variable");
      return {};
    }
    return a.text;
  }

  ExprPtr comprehension(uint32_t at, std::string v1, std::string v2, ExprPtr range, ExprPtr init,
                        ExprPtr cond, ExprPtr step, ExprPtr result) {
    ExprPtr c = node(ExprKind::kComprehension, at);
    c->iter_var = std::move(v1);
    c->iter_var2 = std::move(v2);
    c->accu_var = kAccumulator;
    c->iter_range = std::move(range);
    c->accu_init = std::move(init);
    c->loop_condition = std::move(cond);
    c->loop_step = std::move(step);
    c->result = std::move(result);
    return c;
  }
  ExprPtr acc(uint32_t at) { return ident(kAccumulator, at); }
  ExprPtr unaryCall(const char* fn, uint32_t at, ExprPtr a) {
    std::vector<ExprPtr> v;
    v.push_back(std::move(a));
    return call(fn, at, std::move(v));
  }
  ExprPtr listOf(uint32_t at, ExprPtr a) {
    ExprPtr l = node(ExprKind::kList, at);
    l->args.push_back(std::move(a));
    return l;
  }
  ExprPtr ternary(uint32_t at, ExprPtr c, ExprPtr yes, ExprPtr no) {
    std::vector<ExprPtr> v;
    v.push_back(std::move(c));
    v.push_back(std::move(yes));
    v.push_back(std::move(no));
    return call("_?_:_", at, std::move(v));
  }

  // A call `target.fn(args)`, or the macro it is; either way as high as the call written.
  ExprPtr receiverCall(ExprPtr target, const std::string& fn, uint32_t at,
                       std::vector<ExprPtr> args) {
    int h = target->height;
    for (const ExprPtr& a : args) h = std::max(h, a->height);
    ExprPtr e = expandReceiverCall(std::move(target), fn, at, std::move(args));
    e->height = h + 1;
    return e;
  }

  ExprPtr expandReceiverCall(ExprPtr target, const std::string& fn, uint32_t at,
                             std::vector<ExprPtr> args) {
    size_t n = args.size();
    bool quantifier = fn == "all" || fn == "exists" || fn == "exists_one" || fn == "existsOne";
    bool two = o_.two_variable_macros;
    if (quantifier && (n == 2 || (n == 3 && two))) {
      std::string v1 = iterVar(*args[0], "argument must be a simple name");
      std::string v2 = n == 3 ? iterVar(*args[1], "argument must be a simple name") : "";
      if (v1.empty() || (n == 3 && v2.empty())) return bad(at);
      ExprPtr pred = std::move(args[n - 1]);
      uint32_t p = pred->offset;
      if (fn == "all")
        return comprehension(at, v1, v2, std::move(target), boolConst(true, p),
                             unaryCall("@not_strictly_false", p, acc(p)),
                             call2("_&&_", p, acc(p), std::move(pred)), acc(p));
      if (fn == "exists")
        return comprehension(at, v1, v2, std::move(target), boolConst(false, p),
                             unaryCall("@not_strictly_false", p, unaryCall("!_", p, acc(p))),
                             call2("_||_", p, acc(p), std::move(pred)), acc(p));
      return comprehension(
          at, v1, v2, std::move(target), intConst(0, p), boolConst(true, p),
          ternary(p, std::move(pred), call2("_+_", p, acc(p), intConst(1, p)), acc(p)),
          call2("_==_", p, acc(p), intConst(1, p)));
    }
    if ((fn == "map" && (n == 2 || n == 3)) || (fn == "filter" && n == 2)) {
      std::string v = iterVar(*args[0], "argument is not an identifier");
      if (v.empty()) return bad(at);
      uint32_t p = args[n - 1]->offset;
      ExprPtr element = fn == "filter" ? ident(v, args[0]->offset) : std::move(args[n - 1]);
      ExprPtr step = call2("_+_", p, acc(p), listOf(p, std::move(element)));
      if (fn == "filter" || n == 3) step = ternary(p, std::move(args[1]), std::move(step), acc(p));
      ExprPtr init = node(ExprKind::kList, p);
      return comprehension(at, v, "", std::move(target), std::move(init), boolConst(true, p),
                           std::move(step), acc(p));
    }
    if (two && (fn == "transformList" || fn == "transformMap" || fn == "transformMapEntry") &&
        (n == 3 || n == 4)) {
      std::string v1 = iterVar(*args[0], "argument must be a simple name");
      std::string v2 = iterVar(*args[1], "argument must be a simple name");
      if (v1.empty() || v2.empty()) return bad(at);
      uint32_t p = args[n - 1]->offset;
      ExprPtr step;
      ExprPtr init;
      if (fn == "transformList") {
        step = call2("_+_", p, acc(p), listOf(p, std::move(args[n - 1])));
        init = node(ExprKind::kList, p);
      } else {
        std::vector<ExprPtr> ins;
        ins.push_back(acc(p));
        if (fn == "transformMap") ins.push_back(ident(v1, args[0]->offset));
        ins.push_back(std::move(args[n - 1]));
        step = call("cel.@mapInsert", p, std::move(ins));
        init = node(ExprKind::kStruct, p);
      }
      if (n == 4) step = ternary(p, std::move(args[2]), std::move(step), acc(p));
      return comprehension(at, v1, v2, std::move(target), std::move(init), boolConst(true, p),
                           std::move(step), acc(p));
    }
    if (o_.bind_macro && fn == "bind" && n == 3 && target->kind == ExprKind::kIdent &&
        target->text == "cel") {
      if (args[0]->kind != ExprKind::kIdent) {
        error(args[0]->offset, "cel.bind() variable names must be simple identifiers");
        return bad(at);
      }
      std::string v = args[0]->text;
      uint32_t p = args[2]->offset;
      ExprPtr c = comprehension(at, "#unused", "", node(ExprKind::kList, p), std::move(args[1]),
                                boolConst(false, p), ident(v, p), std::move(args[2]));
      c->accu_var = v;
      return c;
    }
    if (o_.sort_by_macro && fn == "sortBy" && n == 2) {
      // bind @__sortBy_input__ = target in
      //   @__sortBy_input__.@sortByAssociatedKeys(@__sortBy_input__.map(v, key))
      ExprKind k = target->kind;
      if (k != ExprKind::kList && k != ExprKind::kSelect && k != ExprKind::kIdent &&
          k != ExprKind::kComprehension && k != ExprKind::kCall) {
        error(target->offset,
              "sortBy can only be applied to a list, identifier, comprehension, call or select "
              "expression");
        return bad(at);
      }
      const char* input = "@__sortBy_input__";
      uint32_t p = args[1]->offset;
      std::vector<ExprPtr> keys;
      keys.push_back(std::move(args[0]));
      keys.push_back(std::move(args[1]));
      ExprPtr mapped = expandReceiverCall(ident(input, at), "map", at, std::move(keys));
      std::vector<ExprPtr> call_args;
      call_args.push_back(std::move(mapped));
      ExprPtr sorted = call("@sortByAssociatedKeys", at, std::move(call_args), ident(input, at));
      ExprPtr c = comprehension(at, "#unused", "", node(ExprKind::kList, p), std::move(target),
                                boolConst(false, p), ident(input, p), std::move(sorted));
      c->accu_var = input;
      return c;
    }
    if (o_.optional_macros && (fn == "optMap" || fn == "optFlatMap") && n == 2) {
      if (args[0]->kind != ExprKind::kIdent) {
        error(args[0]->offset, fmt::format("{}() variable name must be a simple identifier", fn));
        return bad(at);
      }
      std::string v = args[0]->text;
      uint32_t p = args[1]->offset;
      // target.hasValue() ? optional.of(bind v = target.value() in f) : optional.none(), the
      // target written once in the source and twice in the tree.
      // Each optMap doubles its target, so a chain of them grows the tree exponentially: past
      // a bound (ours; cel-go has none) the expression is refused rather than expanded.
      if (next_id_ + (next_id_ - target->id) > kMaxExpandedNodes) {
        error(at, fmt::format("expression too large: more than {} nodes after expanding {}()",
                              kMaxExpandedNodes, fn));
        return bad(at);
      }
      ExprPtr copy = clone(*target);
      ExprPtr has = call("hasValue", at, {}, std::move(target));
      ExprPtr value = call("value", at, {}, std::move(copy));
      ExprPtr bound = comprehension(at, "#unused", "", node(ExprKind::kList, p), std::move(value),
                                    boolConst(false, p), ident(v, p), std::move(args[1]));
      bound->accu_var = v;
      if (fn == "optMap") bound = unaryCall("optional.of", p, std::move(bound));
      return ternary(at, std::move(has), std::move(bound), call("optional.none", p, {}));
    }
    return call(fn, at, std::move(args), std::move(target));
  }

  // A deep copy with fresh ids.
  ExprPtr clone(const Expr& e) {
    ExprPtr c = node(e.kind, e.offset);
    c->const_kind = e.const_kind;
    c->bool_value = e.bool_value;
    c->int_value = e.int_value;
    c->uint_value = e.uint_value;
    c->double_value = e.double_value;
    c->text = e.text;
    c->test_only = e.test_only;
    if (e.target) c->target = clone(*e.target);
    for (const ExprPtr& a : e.args) c->args.push_back(clone(*a));
    c->optional_indices = e.optional_indices;
    for (const Entry& en : e.entries) {
      Entry x;
      x.id = next_id_++;
      x.offset = en.offset;
      x.optional = en.optional;
      x.field = en.field;
      if (en.key) x.key = clone(*en.key);
      x.value = clone(*en.value);
      c->entries.push_back(std::move(x));
    }
    c->iter_var = e.iter_var;
    c->iter_var2 = e.iter_var2;
    c->accu_var = e.accu_var;
    for (auto [from, to] :
         {std::pair{&e.iter_range, &c->iter_range}, std::pair{&e.accu_init, &c->accu_init},
          std::pair{&e.loop_condition, &c->loop_condition}, std::pair{&e.loop_step, &c->loop_step},
          std::pair{&e.result, &c->result}})
      if (*from) *to = clone(**from);
    return c;
  }

  std::string_view src_;
  Lexer lex_;
  const ParseOptions& o_;
  Token tok_;
  std::vector<Issue> errors_;
  int64_t next_id_ = 1;
  static constexpr int64_t kMaxExpandedNodes = 100000;
  int depth_ = 0;
};

// Is the code point shown two columns wide (East Asian wide and full-width forms, emoji)?
bool wide(uint32_t cp) {
  return (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0x303e) ||
         (cp >= 0x3041 && cp <= 0x33ff) || (cp >= 0x3400 && cp <= 0x4dbf) ||
         (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0xa000 && cp <= 0xa4cf) ||
         (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
         (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
         (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1f64f) ||
         (cp >= 0x1f900 && cp <= 0x1f9ff) || (cp >= 0x20000 && cp <= 0x3fffd);
}

}  // namespace

ParseResult parse(std::string_view source, const ParseOptions& opts) {
  size_t code_points = 0;
  for (size_t i = 0; i < source.size();) {
    decodeUtf8(source, i);
    ++code_points;
  }
  if (code_points > opts.max_code_points) {
    ParseResult r;
    r.errors.push_back({-1, fmt::format("expression code point size exceeds limit: size: {}, "
                                        "limit {}",
                                        code_points, opts.max_code_points)});
    return r;
  }
  return Parser(source, opts).run();
}

Location locate(std::string_view source, int64_t offset) {
  Location l;
  if (offset < 0) return l;
  l.line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < static_cast<size_t>(offset) && i < source.size(); ++i)
    if (source[i] == '\n') {
      ++l.line;
      line_start = i + 1;
    }
  for (size_t i = line_start; i < static_cast<size_t>(offset) && i < source.size();) {
    decodeUtf8(source, i);
    ++l.column;
  }
  return l;
}

std::string formatIssues(std::string_view source, std::string_view description,
                         const std::vector<Issue>& issues) {
  std::string out;
  for (const Issue& is : issues) {
    if (!out.empty()) out += '\n';
    Location l = locate(source, is.offset);
    if (l.line < 1) {  // no place: "-1:0", as cel-go says it
      out += fmt::format("ERROR: {}:-1:0: {}", description, is.message);
      continue;
    }
    out += fmt::format("ERROR: {}:{}:{}: {}", description, l.line, l.column + 1, is.message);
    // The line, tabs as spaces; then a dot per code point before the column and a caret.
    size_t start = 0;
    for (int n = 1; n < l.line; ++n) start = source.find('\n', start) + 1;
    size_t end = source.find('\n', start);
    std::string_view line = source.substr(start, end == std::string_view::npos ? end : end - start);
    std::string shown(line);
    std::replace(shown.begin(), shown.end(), '\t', ' ');
    out += "\n | " + shown + "\n | ";
    size_t i = 0;
    for (int c = 0; c < l.column && i < line.size(); ++c)
      out += wide(decodeUtf8(line, i)) ? "\xef\xbc\x8e" : ".";  // U+FF0E for a wide character
    out += i < line.size() && wide(decodeUtf8(line, i)) ? "\xef\xbc\xbe" : "^";  // U+FF3E
  }
  return out;
}

}  // namespace kh::cel
