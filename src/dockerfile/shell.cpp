#include "dockerfile/shell.h"

#include <cctype>
#include <string>
#include <vector>

namespace kh::dockerfile::shell {
namespace {

constexpr int kMaxDepth = 64;

bool isBlank(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}
bool isOperatorChar(char c) {
  return c == ';' || c == '&' || c == '|' || c == '(' || c == ')' || c == '<' || c == '>' ||
         c == '\n';
}
bool isNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

enum class Tok : uint8_t { kWord, kOp, kNewline, kRedirect, kOpen, kClose, kCaseEnd, kEnd };

struct Token {
  Tok kind = Tok::kEnd;
  Op op = Op::kSeq;
  Word word;
  bool heredoc = false;  // a << or <<- redirect
  bool strip_tabs = false;
  bool has_target = true;  // a redirect whose target word follows (not `>&2`)
};

struct Failure {
  std::string_view message;
  uint32_t offset;
};

class Splitter {
 public:
  Splitter(Arena& arena, std::vector<Command>& out) : arena_(arena), out_(out) {}

  // Splits `text` (at `base` in the whole script) into commands at nesting `depth`.
  bool run(std::string_view text, uint32_t base, int depth) {
    if (depth > kMaxDepth) return fail("nesting too deep", base);
    Lexer lx{text, base, 0, depth};
    std::vector<Word> args, assigns;
    int nest = 0;  // subshells and groups
    bool piped_in = false;
    enum class Mode { kNormal, kSkipClause, kCaseWord, kCasePattern } mode = Mode::kNormal;
    bool expect_fn_paren = false;
    auto finish = [&](Op op) {
      if (!args.empty()) {
        Command c;
        c.args = copy(args);
        c.assignments = copy(assigns);
        c.next = op;
        c.piped_in = piped_in;
        c.depth = static_cast<uint16_t>(depth + nest);
        out_.push_back(c);
        piped_in = op == Op::kPipe;
      } else if (op != Op::kPipe) {
        piped_in = false;
      }
      args.clear();
      assigns.clear();
      expect_fn_paren = false;
    };
    while (true) {
      Token t;
      if (!lex(lx, t)) return false;
      if (t.kind == Tok::kEnd) {
        finish(Op::kEnd);
        return true;
      }
      switch (t.kind) {
        case Tok::kNewline:
        case Tok::kOp:
          if (mode == Mode::kSkipClause) mode = Mode::kNormal;
          finish(t.kind == Tok::kNewline ? Op::kSeq : t.op);
          break;
        case Tok::kCaseEnd:
          finish(Op::kSeq);
          mode = Mode::kCasePattern;
          break;
        case Tok::kOpen:
          if (expect_fn_paren && args.size() == 1) {  // name() { ...; }: a definition
            args.clear();
            Token close;
            if (!lex(lx, close)) return false;
            break;
          }
          if (mode == Mode::kCasePattern) break;  // (pattern)
          finish(Op::kSeq);
          ++nest;
          break;
        case Tok::kClose:
          if (mode == Mode::kCasePattern) {
            args.clear();
            mode = Mode::kNormal;
            break;
          }
          finish(Op::kSeq);
          if (nest > 0) --nest;
          break;
        case Tok::kRedirect: {
          if (!t.has_target) break;
          Token target;  // the redirect's target word is not an argument
          if (!lex(lx, target)) return false;
          if (t.heredoc && target.kind == Tok::kWord)
            lx.pending.push_back({target.word.text, t.strip_tabs});
          break;
        }
        case Tok::kWord: {
          std::string_view w = t.word.text;
          bool at_start = args.empty() && !t.word.quoted;
          if (mode == Mode::kSkipClause) break;
          if (mode == Mode::kCaseWord) {
            if (w == "in") mode = Mode::kCasePattern;
            break;
          }
          if (mode == Mode::kCasePattern) {
            if (w == "esac") mode = Mode::kNormal;
            break;  // pattern words up to `)`
          }
          if (at_start && assigns.empty()) {
            if (w == "if" || w == "then" || w == "else" || w == "elif" || w == "fi" || w == "do" ||
                w == "done" || w == "while" || w == "until" || w == "!" || w == "time")
              break;
            if (w == "{") {
              ++nest;
              break;
            }
            if (w == "}") {
              if (nest > 0) --nest;
              break;
            }
            if (w == "for" || w == "select") {
              mode = Mode::kSkipClause;
              break;
            }
            if (w == "case") {
              mode = Mode::kCaseWord;
              break;
            }
            if (w == "esac") break;
            if (w == "function") {
              mode = Mode::kSkipClause;  // function name [()] { ...
              break;
            }
          }
          if (at_start && isAssignment(w)) {
            assigns.push_back(t.word);
            break;
          }
          if (w == "}" && !t.word.quoted && nest > 0) {  // `cmd; }` without a newline
            finish(Op::kSeq);
            --nest;
            break;
          }
          args.push_back(t.word);
          expect_fn_paren = args.size() == 1;
          break;
        }
        case Tok::kEnd:
          break;
      }
    }
  }

  Failure failure() const { return failure_; }

 private:
  struct Pending {
    std::string_view delimiter;
    bool strip_tabs;
  };
  struct Lexer {
    std::string_view s;
    uint32_t base;
    size_t p;
    int depth;
    std::vector<Pending> pending = {};
  };

  static bool isAssignment(std::string_view w) {
    size_t eq = w.find('=');
    if (eq == std::string_view::npos || eq == 0) return false;
    if (std::isdigit(static_cast<unsigned char>(w[0]))) return false;
    for (size_t i = 0; i < eq; ++i)
      if (!isNameChar(w[i]) && !(w[i] == '+' && i + 1 == eq)) return false;
    return true;
  }

  bool fail(std::string_view msg, uint32_t offset) {
    if (failure_.message.empty()) failure_ = {msg, offset};
    return false;
  }

  std::span<const Word> copy(const std::vector<Word>& v) {
    auto* arr = arena_.makeArray<Word>(v.size());
    std::copy(v.begin(), v.end(), arr);
    return {arr, v.size()};
  }

  // Skips the bodies of here-documents that were opened on the line just ended.
  void skipHeredocs(Lexer& lx) {
    for (const Pending& h : lx.pending) {
      while (lx.p < lx.s.size()) {
        size_t nl = lx.s.find('\n', lx.p);
        std::string_view line =
            lx.s.substr(lx.p, nl == std::string_view::npos ? std::string_view::npos : nl - lx.p);
        lx.p = nl == std::string_view::npos ? lx.s.size() : nl + 1;
        if (h.strip_tabs)
          while (!line.empty() && line.front() == '\t') line.remove_prefix(1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line == h.delimiter) break;
      }
    }
    lx.pending.clear();
  }

  bool lex(Lexer& lx, Token& t) {
    std::string_view s = lx.s;
    size_t& p = lx.p;
    while (true) {
      while (p < s.size() && isBlank(s[p])) ++p;
      if (p + 1 < s.size() && s[p] == '\\' && s[p + 1] == '\n') {
        p += 2;
        continue;
      }
      if (p < s.size() && s[p] == '#') {
        while (p < s.size() && s[p] != '\n') ++p;
        continue;
      }
      break;
    }
    t = Token{};
    if (p >= s.size()) {
      t.kind = Tok::kEnd;
      return true;
    }
    char c = s[p];
    uint32_t at = lx.base + static_cast<uint32_t>(p);
    auto op = [&](Tok kind, Op o, size_t len) {
      t.kind = kind;
      t.op = o;
      t.word.offset = at;
      p += len;
      return true;
    };
    if (c == '\n') {
      ++p;
      skipHeredocs(lx);
      t.kind = Tok::kNewline;
      return true;
    }
    // Redirections, with an optional file descriptor number: 2>&1, >>, <<-EOF, &>...
    size_t q = p;
    while (q < s.size() && std::isdigit(static_cast<unsigned char>(s[q]))) ++q;
    if (q < s.size() && (s[q] == '<' || s[q] == '>')) {
      char r = s[q];
      size_t len = 1;
      if (r == '<' && s.compare(q, 3, "<<<") == 0) {
        len = 3;
      } else if (r == '<' && s.compare(q, 3, "<<-") == 0) {
        len = 3;
        t.heredoc = true;
        t.strip_tabs = true;
      } else if (r == '<' && s.compare(q, 2, "<<") == 0) {
        len = 2;
        t.heredoc = true;
      } else if (q + 1 < s.size() && (s[q + 1] == '>' || s[q + 1] == '&' || s[q + 1] == '|' ||
                                      (r == '<' && s[q + 1] == '>'))) {
        len = 2;
      }
      p = q + len;
      // `>&2`, `<&-`: the target is a descriptor, written right after
      if (s[p - 1] == '&') {
        size_t d = p;
        while (d < s.size() && (std::isdigit(static_cast<unsigned char>(s[d])) || s[d] == '-')) ++d;
        if (d > p) {
          p = d;
          t.kind = Tok::kRedirect;
          t.has_target = false;
          return true;
        }
      }
      t.kind = Tok::kRedirect;
      t.word.offset = at;
      return true;
    }
    if (c == '&' && p + 1 < s.size() && s[p + 1] == '>') {  // &> and &>>
      p += s.compare(p, 3, "&>>") == 0 ? 3 : 2;
      t.kind = Tok::kRedirect;
      return true;
    }
    if (s.compare(p, 2, "&&") == 0) return op(Tok::kOp, Op::kAnd, 2);
    if (s.compare(p, 2, "||") == 0) return op(Tok::kOp, Op::kOr, 2);
    if (s.compare(p, 2, ";;") == 0 || s.compare(p, 2, ";&") == 0)
      return op(Tok::kCaseEnd, Op::kSeq, 2);
    if (c == ';') return op(Tok::kOp, Op::kSeq, 1);
    if (s.compare(p, 2, "|&") == 0) return op(Tok::kOp, Op::kPipe, 2);
    if (c == '|') return op(Tok::kOp, Op::kPipe, 1);
    if (c == '&') return op(Tok::kOp, Op::kBackground, 1);
    if (c == '(') return op(Tok::kOpen, Op::kSeq, 1);
    if (c == ')') return op(Tok::kClose, Op::kSeq, 1);
    return word(lx, t);
  }

  bool word(Lexer& lx, Token& t) {
    std::string_view s = lx.s;
    size_t& p = lx.p;
    size_t start = p;
    std::string text;
    bool plain = true;  // text equals the source slice
    Word w;
    w.offset = lx.base + static_cast<uint32_t>(start);
    while (p < s.size()) {
      char c = s[p];
      if (isBlank(c) || isOperatorChar(c)) break;
      if (c == '\'') {
        plain = false;
        w.quoted = true;
        size_t close = s.find('\'', p + 1);
        if (close == std::string_view::npos) return fail("unterminated single quote", at(lx, p));
        text.append(s.substr(p + 1, close - p - 1));
        p = close + 1;
        continue;
      }
      if (c == '"') {
        plain = false;
        w.quoted = true;
        ++p;
        bool closed = false;
        while (p < s.size()) {
          char d = s[p];
          if (d == '"') {
            ++p;
            closed = true;
            break;
          }
          if (d == '\\' && p + 1 < s.size()) {
            char e = s[p + 1];
            if (e == '$' || e == '`' || e == '"' || e == '\\') {
              text += e;
              p += 2;
              continue;
            }
            if (e == '\n') {
              p += 2;
              continue;
            }
            text += d;
            ++p;
            continue;
          }
          if (d == '$' || d == '`') {
            size_t from = p;
            if (!dollar(lx, w)) return false;
            text.append(s.substr(from, p - from));
            continue;
          }
          text += d;
          ++p;
        }
        if (!closed) return fail("unterminated double quote", at(lx, start));
        continue;
      }
      if (c == '\\') {
        plain = false;
        if (p + 1 < s.size()) {
          if (s[p + 1] != '\n') text += s[p + 1];
          p += 2;
        } else {
          ++p;
        }
        continue;
      }
      if (c == '$' || c == '`') {
        size_t from = p;
        if (!dollar(lx, w)) return false;
        w.unquoted_expansion |= last_real_;
        text.append(s.substr(from, p - from));
        continue;
      }
      text += c;
      ++p;
    }
    w.length = static_cast<uint32_t>(p - start);
    w.text = plain ? s.substr(start, p - start) : arena_.copy(text);
    if (w.text.empty() && !w.quoted) w.text = s.substr(start, p - start);
    t.kind = Tok::kWord;
    t.word = w;
    return true;
  }

  static uint32_t at(const Lexer& lx, size_t p) { return lx.base + static_cast<uint32_t>(p); }

  // At a `$` or a backtick: consumes the expansion or substitution, splitting the commands of a
  // substitution at one more level of depth.
  bool dollar(Lexer& lx, Word& w) {
    std::string_view s = lx.s;
    size_t& p = lx.p;
    bool was = w.expansion;
    w.expansion = true;
    last_real_ = true;
    if (s[p] == '`') {
      size_t close = p + 1;
      while (close < s.size() && s[close] != '`') close += s[close] == '\\' ? 2 : 1;
      if (close >= s.size()) return fail("unterminated backquote substitution", at(lx, p));
      if (!run(s.substr(p + 1, close - p - 1), at(lx, p + 1), lx.depth + 1)) return false;
      p = close + 1;
      last_real_ = true;
      return true;
    }
    if (p + 1 >= s.size()) {
      ++p;
      return true;
    }
    char n = s[p + 1];
    if (n == '(') {
      bool arith = p + 2 < s.size() && s[p + 2] == '(';
      size_t close = matchParen(s, p + 1);
      if (close == std::string_view::npos)
        return fail(arith ? "unterminated $(( arithmetic" : "unterminated $( substitution",
                    at(lx, p));
      if (!arith && !run(s.substr(p + 2, close - p - 2), at(lx, p + 2), lx.depth + 1)) return false;
      p = close + 1;
      last_real_ = true;
      return true;
    }
    if (n == '{') {
      int level = 0;
      size_t q = p + 1;
      for (; q < s.size(); ++q) {
        if (s[q] == '{')
          ++level;
        else if (s[q] == '}' && --level == 0)
          break;
        else if (s[q] == '\\')
          ++q;
      }
      if (q >= s.size()) return fail("unterminated ${ expansion", at(lx, p));
      p = q + 1;
      return true;
    }
    if (n == '\'') {  // $'...' ANSI-C quoting
      size_t q = p + 2;
      while (q < s.size() && s[q] != '\'') q += s[q] == '\\' ? 2 : 1;
      if (q >= s.size()) return fail("unterminated $' quote", at(lx, p));
      p = q + 1;
      return true;
    }
    if (isNameChar(n)) {
      p += 2;
      if (!std::isdigit(static_cast<unsigned char>(n)))
        while (p < s.size() && isNameChar(s[p])) ++p;
      return true;
    }
    if (n == '@' || n == '*' || n == '#' || n == '?' || n == '-' || n == '$' || n == '!') {
      p += 2;
      return true;
    }
    w.expansion = was;  // a lone $ is a literal
    last_real_ = false;
    ++p;
    return true;
  }

  // The `)` that closes the `(` at `open`, skipping quotes and nested parentheses.
  static size_t matchParen(std::string_view s, size_t open) {
    int level = 0;
    for (size_t q = open; q < s.size(); ++q) {
      char c = s[q];
      if (c == '\\') {
        ++q;
      } else if (c == '\'') {
        q = s.find('\'', q + 1);
        if (q == std::string_view::npos) return q;
      } else if (c == '"') {
        ++q;
        while (q < s.size() && s[q] != '"') q += s[q] == '\\' ? 2 : 1;
        if (q >= s.size()) return std::string_view::npos;
      } else if (c == '(') {
        ++level;
      } else if (c == ')' && --level == 0) {
        return q;
      }
    }
    return std::string_view::npos;
  }

  Arena& arena_;
  std::vector<Command>& out_;
  bool last_real_ = false;  // the last dollar() read an expansion, not a lone $
  Failure failure_{};
};

}  // namespace

Script parse(std::string_view text, Arena& arena) {
  std::vector<Command> commands;
  Splitter sp(arena, commands);
  Script out;
  if (!sp.run(text, 0, 0)) {
    out.error = sp.failure().message;
    out.error_offset = sp.failure().offset;
  }
  auto* arr = arena.makeArray<Command>(commands.size());
  std::copy(commands.begin(), commands.end(), arr);
  out.commands = std::span<const Command>(arr, commands.size());
  return out;
}

std::string_view programName(std::string_view word) {
  size_t slash = word.rfind('/');
  return slash == std::string_view::npos ? word : word.substr(slash + 1);
}

}  // namespace kh::dockerfile::shell
