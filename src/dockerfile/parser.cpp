#include "dockerfile/parser.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>
#include <string>

#include "base/strings.h"

namespace kh::dockerfile {
namespace {

constexpr std::pair<std::string_view, Keyword> kKeywords[] = {
    {"ADD", Keyword::kAdd},
    {"ARG", Keyword::kArg},
    {"CMD", Keyword::kCmd},
    {"COPY", Keyword::kCopy},
    {"ENTRYPOINT", Keyword::kEntrypoint},
    {"ENV", Keyword::kEnv},
    {"EXPOSE", Keyword::kExpose},
    {"FROM", Keyword::kFrom},
    {"HEALTHCHECK", Keyword::kHealthcheck},
    {"LABEL", Keyword::kLabel},
    {"MAINTAINER", Keyword::kMaintainer},
    {"ONBUILD", Keyword::kOnbuild},
    {"RUN", Keyword::kRun},
    {"SHELL", Keyword::kShell},
    {"STOPSIGNAL", Keyword::kStopsignal},
    {"USER", Keyword::kUser},
    {"VOLUME", Keyword::kVolume},
    {"WORKDIR", Keyword::kWorkdir},
};

bool isBlank(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trimBlank(std::string_view s) {
  while (!s.empty() && (isBlank(s.front()) || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (isBlank(s.back()) || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

struct Line {
  std::string_view text;  // without the newline (and a \r before it)
  uint32_t number;
};

// The arguments of one instruction as they are assembled: the joined text and where each piece
// came from.
struct Logical {
  std::string text;
  std::vector<Segment> segments;
  void add(std::string_view piece, SourcePos pos) {
    if (piece.empty()) return;
    segments.push_back({static_cast<uint32_t>(text.size()), pos});
    text.append(piece);
  }
};

SourcePos posIn(std::span<const Segment> segments, size_t offset) {
  if (segments.empty()) return {};
  auto it = std::upper_bound(segments.begin(), segments.end(), offset,
                             [](size_t off, const Segment& s) { return off < s.offset; });
  const Segment& s = it == segments.begin() ? segments.front() : *(it - 1);
  uint32_t delta = offset >= s.offset ? static_cast<uint32_t>(offset - s.offset) : 0;
  return {s.pos.line, s.pos.col + delta};
}

bool isPosixShell(std::string_view program) {
  std::string_view p = shell::programName(program);
  return p == "sh" || p == "bash" || p == "ash" || p == "dash" || p == "ksh" || p == "zsh" ||
         p == "mksh" || p == "busybox";
}

// The position of body[offset] of a heredoc.
SourcePos heredocPos(const Heredoc& h, size_t offset) {
  std::string_view before = h.body.substr(0, std::min(offset, h.body.size()));
  uint32_t line =
      h.body_pos.line + static_cast<uint32_t>(std::count(before.begin(), before.end(), '\n'));
  size_t nl = before.rfind('\n');
  uint32_t col = static_cast<uint32_t>(nl == std::string_view::npos ? offset + 1 : offset - nl);
  return {line, col};
}

class Parser {
 public:
  Parser(std::string_view text, std::string_view file, Arena& arena, std::vector<Diagnostic>& diags,
         const ParseLimits& limits)
      : file_(file), arena_(arena), diags_(diags), limits_(limits) {
    uint32_t n = 1;
    size_t start = 0;
    while (start <= text.size()) {
      size_t nl = text.find('\n', start);
      std::string_view line =
          text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (nl == std::string_view::npos) {
        if (!line.empty()) lines_.push_back({line, n});
        break;
      }
      lines_.push_back({line, n++});
      start = nl + 1;
    }
  }

  Result<const Dockerfile*> run() {
    size_t i = 0;
    if (auto e = directives(i)) return *e;
    while (i < lines_.size()) {
      const Line& line = lines_[i];
      std::string_view t = line.text;
      size_t lead = 0;
      while (lead < t.size() && isBlank(t[lead])) ++lead;
      if (lead == t.size()) {
        ++i;
        continue;
      }
      if (t[lead] == '#') {
        comment(line, lead);
        ++i;
        continue;
      }
      if (instructions_.size() >= limits_.max_instructions)
        return error(line.number,
                     fmt::format("more than {} instructions", limits_.max_instructions));
      auto inst = instruction(i, lead);
      if (!inst) return inst.error();
      instructions_.push_back(std::move(inst.value()));
    }
    if (instructions_.empty())
      diags_.push_back(
          {"dockerfile-empty", "the Dockerfile has no instructions", std::string(file_), {1, 1}});
    return finish();
  }

 private:
  // --- directives and comments ---------------------------------------------------------

  std::optional<Error> directives(size_t& i) {
    for (; i < lines_.size(); ++i) {
      std::string_view t = lines_[i].text;
      if (t.empty() || t[0] != '#') return std::nullopt;
      std::string_view rest = trimBlank(t.substr(1));
      size_t eq = rest.find('=');
      if (eq == std::string_view::npos) return std::nullopt;
      std::string_view name = trimBlank(rest.substr(0, eq));
      std::string_view value = trimBlank(rest.substr(eq + 1));
      if (name.empty() || !std::isalpha(static_cast<unsigned char>(name[0])) ||
          !std::all_of(name.begin(), name.end(),
                       [](char c) { return std::isalnum(static_cast<unsigned char>(c)); }))
        return std::nullopt;
      std::string lower(name);
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower != "syntax" && lower != "escape" && lower != "check")
        return std::nullopt;  // not a directive: a comment, and the end of the directives
      for (const Directive& d : directives_)
        if (d.name == lower)
          return Error{fmt::format("only one {} parser directive can be used", lower),
                       std::string(file_),
                       {lines_[i].number, 1}};
      if (lower == "escape") {
        if (value != "\\" && value != "`")
          return Error{fmt::format("invalid escape token '{}': it must be \\ or `", value),
                       std::string(file_),
                       {lines_[i].number, 1}};
        escape_ = value[0];
      }
      directives_.push_back({arena_.copy(lower), value, {lines_[i].number, 1}});
    }
    return std::nullopt;
  }

  void comment(const Line& line, size_t hash) {
    comments_.push_back(
        {trimBlank(line.text.substr(hash + 1)), {line.number, static_cast<uint32_t>(hash + 1)}});
  }

  Error error(uint32_t line, std::string msg) const {
    return Error{std::move(msg), std::string(file_), {line, 1}};
  }

  // A physical line that continues on the next: it ends in the escape character, maybe
  // followed by blanks. `piece` loses both.
  bool continues(std::string_view& piece) const {
    std::string_view t = piece;
    while (!t.empty() && isBlank(t.back())) t.remove_suffix(1);
    if (t.empty() || t.back() != escape_) return false;
    t.remove_suffix(1);
    piece = t;
    return true;
  }

  // --- one instruction -----------------------------------------------------------------

  Result<Instruction> instruction(size_t& i, size_t lead) {
    const Line& first = lines_[i];
    std::string_view t = first.text;
    size_t kw_end = lead;
    while (kw_end < t.size() && !isBlank(t[kw_end]) &&
           !(t[kw_end] == escape_ && kw_end + 1 == t.size()))
      ++kw_end;
    std::string_view word = t.substr(lead, kw_end - lead);
    SourcePos pos{first.number, static_cast<uint32_t>(lead + 1)};
    Logical logical;
    size_t rest = kw_end;
    while (rest < t.size() && isBlank(t[rest])) ++rest;
    std::string_view piece = t.substr(rest);
    bool more = continues(piece);
    logical.add(piece, {first.number, static_cast<uint32_t>(rest + 1)});
    uint32_t end_line = first.number;
    ++i;
    while (more && i < lines_.size()) {
      const Line& l = lines_[i];
      std::string_view lt = l.text;
      size_t nb = 0;
      while (nb < lt.size() && isBlank(lt[nb])) ++nb;
      if (nb == lt.size()) {
        diags_.push_back({"dockerfile-empty-continuation",
                          "empty line inside a continued instruction (BuildKit ignores it; a "
                          "future version may refuse it)",
                          std::string(file_),
                          {l.number, 1}});
        ++i;
        continue;
      }
      if (lt[nb] == '#') {
        comment(l, nb);
        ++i;
        continue;
      }
      std::string_view p = lt;
      more = continues(p);
      logical.add(p, {l.number, 1});
      end_line = l.number;
      ++i;
      if (logical.text.size() > limits_.max_line_bytes)
        return error(first.number,
                     fmt::format("instruction longer than {} bytes", limits_.max_line_bytes));
    }
    auto inst = build(word, pos, std::move(logical), false);
    if (!inst) return inst.error();
    Instruction& in = inst.value();
    in.end_line = end_line;
    if (in.keyword == Keyword::kRun || in.keyword == Keyword::kCopy ||
        in.keyword == Keyword::kAdd) {
      if (auto e = heredocs(in, i)) return *e;
    } else if (in.inner &&
               (in.inner->keyword == Keyword::kRun || in.inner->keyword == Keyword::kCopy ||
                in.inner->keyword == Keyword::kAdd)) {
      if (auto e = heredocs(const_cast<Instruction&>(*in.inner), i)) return *e;
      in.end_line = in.inner->end_line;
    }
    return inst;
  }

  // The instruction `word` with arguments `logical` (also ONBUILD's inner one).
  Result<Instruction> build(std::string_view word, SourcePos pos, Logical logical, bool nested) {
    Instruction in;
    in.keyword = keywordOf(word);
    in.name = word;
    in.pos = pos;
    in.end_line = pos.line;
    if (in.keyword == Keyword::kUnknown)
      return Error{fmt::format("unknown instruction: {}", word), std::string(file_), pos};
    std::string_view text = arena_.copy(logical.text);
    auto* segs = arena_.makeArray<Segment>(logical.segments.size());
    std::copy(logical.segments.begin(), logical.segments.end(), segs);
    std::span<const Segment> segments(segs, logical.segments.size());

    // Flags: leading `--name[=value]` words.
    size_t p = 0;
    std::vector<Flag> flags;
    while (true) {
      while (p < text.size() && isBlank(text[p])) ++p;
      if (in.keyword == Keyword::kOnbuild || text.compare(p, 2, "--") != 0) break;
      size_t start = p;
      std::string value;
      bool has_value = false;
      size_t name_end = p + 2;
      while (name_end < text.size() && !isBlank(text[name_end]) && text[name_end] != '=')
        ++name_end;
      p = name_end;
      if (p < text.size() && text[p] == '=') {
        has_value = true;
        ++p;
        char quote = 0;
        for (; p < text.size(); ++p) {
          char c = text[p];
          if (quote) {
            if (c == quote)
              quote = 0;
            else
              value += c;
          } else if (c == '"' || c == '\'') {
            quote = c;
          } else if (isBlank(c)) {
            break;
          } else {
            value += c;
          }
        }
      }
      std::string_view name = text.substr(start + 2, name_end - start - 2);
      if (name.empty()) {  // a bare `--`: BuildKit reads it as the end of the flags
        p = start + 2;
        break;
      }
      flags.push_back({name, arena_.copy(value), has_value, posIn(segments, start)});
    }
    while (p < text.size() && isBlank(text[p])) ++p;
    size_t end = text.size();
    while (end > p && isBlank(text[end - 1])) --end;
    in.args = text.substr(p, end - p);
    in.segments = shift(segments, p, end);
    auto* fl = arena_.makeArray<Flag>(flags.size());
    std::copy(flags.begin(), flags.end(), fl);
    in.flags = std::span<const Flag>(fl, flags.size());

    if (in.keyword == Keyword::kOnbuild) {
      if (nested) {
        // ONBUILD ONBUILD is refused by BuildKit; the check for it needs the instruction, so
        // only the inner keyword is checked here.
      }
      size_t w = 0;
      while (w < in.args.size() && !isBlank(in.args[w])) ++w;
      if (w == 0) return Error{"ONBUILD requires at least one argument", std::string(file_), pos};
      std::string_view inner_word = in.args.substr(0, w);
      size_t r = w;
      while (r < in.args.size() && isBlank(in.args[r])) ++r;
      Logical inner;
      inner.text = std::string(in.args.substr(r));
      std::span<const Segment> inner_segs = shift(in.segments, r, in.args.size());
      inner.segments.assign(inner_segs.begin(), inner_segs.end());
      auto sub = build(inner_word, in.posAt(w - inner_word.size()), std::move(inner), true);
      if (!sub) return sub.error();
      in.inner = arena_.make<Instruction>(std::move(sub.value()));
      return in;
    }
    return arguments(std::move(in));
  }

  // The segments of text[from, to), renumbered from 0.
  std::span<const Segment> shift(std::span<const Segment> segments, size_t from, size_t to) {
    std::vector<Segment> out;
    for (size_t k = 0; k < segments.size(); ++k) {
      const Segment& s = segments[k];
      size_t next = k + 1 < segments.size() ? segments[k + 1].offset : SIZE_MAX;
      if (s.offset >= to) break;
      if (next <= from) continue;
      Segment n = s;
      if (s.offset < from) {
        n.pos.col += static_cast<uint32_t>(from - s.offset);
        n.offset = 0;
      } else {
        n.offset = static_cast<uint32_t>(s.offset - from);
      }
      out.push_back(n);
    }
    auto* arr = arena_.makeArray<Segment>(out.size());
    std::copy(out.begin(), out.end(), arr);
    return {arr, out.size()};
  }

  Result<Instruction> arguments(Instruction in) {
    Keyword k = in.keyword;
    std::vector<Word> words;
    bool can_exec = k == Keyword::kRun || k == Keyword::kCmd || k == Keyword::kEntrypoint ||
                    k == Keyword::kShell || k == Keyword::kVolume || k == Keyword::kCopy ||
                    k == Keyword::kAdd;
    if (can_exec && !in.args.empty() && in.args.front() == '[' && jsonArray(in, 0, words)) {
      in.exec_form = true;
    } else if (k == Keyword::kHealthcheck) {
      // HEALTHCHECK NONE | HEALTHCHECK CMD <exec or shell form>
      size_t w = 0;
      while (w < in.args.size() && !isBlank(in.args[w])) ++w;
      words.push_back({in.args.substr(0, w), in.posAt(0)});
      size_t r = w;
      while (r < in.args.size() && isBlank(in.args[r])) ++r;
      if (r < in.args.size() && in.args[r] == '[' && jsonArray(in, r, words))
        in.exec_form = true;
      else
        splitWords(in, r, words, false);
    } else {
      bool unquote = k != Keyword::kRun && k != Keyword::kCmd && k != Keyword::kEntrypoint;
      splitWords(in, 0, words, unquote);
    }
    if (k == Keyword::kShell && !in.exec_form)
      return Error{"SHELL requires the arguments to be in JSON form", std::string(file_), in.pos};
    bool needs_args = !(in.exec_form || k == Keyword::kCmd || k == Keyword::kEntrypoint);
    if (needs_args && in.args.empty())
      return Error{fmt::format("{} requires at least one argument", keywordName(k)),
                   std::string(file_), in.pos};
    if (k == Keyword::kEnv || k == Keyword::kLabel || k == Keyword::kArg) {
      auto pairs = keyValues(in);
      if (!pairs) return pairs.error();
      auto* arr = arena_.makeArray<Pair>(pairs->size());
      std::copy(pairs->begin(), pairs->end(), arr);
      in.pairs = std::span<const Pair>(arr, pairs->size());
    }
    auto* arr = arena_.makeArray<Word>(words.size());
    std::copy(words.begin(), words.end(), arr);
    in.words = std::span<const Word>(arr, words.size());
    return in;
  }

  // A JSON array of strings starting at args[from], ending the arguments; false (and no words)
  // when it is not one, which makes the arguments shell form, as in BuildKit.
  bool jsonArray(const Instruction& in, size_t from, std::vector<Word>& out) {
    std::string_view s = in.args;
    size_t p = from + 1;
    std::vector<Word> found;
    auto ws = [&] {
      while (p < s.size() && (isBlank(s[p]) || s[p] == '\r' || s[p] == '\n')) ++p;
    };
    ws();
    if (p < s.size() && s[p] == ']') {
      ++p;
      ws();
      return p == s.size();
    }
    while (true) {
      ws();
      if (p >= s.size() || s[p] != '"') return false;
      size_t start = p++;
      std::string value;
      while (true) {
        if (p >= s.size()) return false;
        char c = s[p++];
        if (c == '"') break;
        if (static_cast<unsigned char>(c) < 0x20) return false;
        if (c != '\\') {
          value += c;
          continue;
        }
        if (p >= s.size()) return false;
        char e = s[p++];
        switch (e) {
          case '"':
            value += '"';
            break;
          case '\\':
            value += '\\';
            break;
          case '/':
            value += '/';
            break;
          case 'b':
            value += '\b';
            break;
          case 'f':
            value += '\f';
            break;
          case 'n':
            value += '\n';
            break;
          case 'r':
            value += '\r';
            break;
          case 't':
            value += '\t';
            break;
          case 'u': {
            if (p + 4 > s.size()) return false;
            unsigned cp = 0;
            for (int k = 0; k < 4; ++k) {
              char h = s[p++];
              cp <<= 4;
              if (h >= '0' && h <= '9')
                cp |= static_cast<unsigned>(h - '0');
              else if (h >= 'a' && h <= 'f')
                cp |= static_cast<unsigned>(h - 'a' + 10);
              else if (h >= 'A' && h <= 'F')
                cp |= static_cast<unsigned>(h - 'A' + 10);
              else
                return false;
            }
            // UTF-8 of the code unit (surrogates are kept as they are; no Dockerfile needs them)
            if (cp < 0x80) {
              value += static_cast<char>(cp);
            } else if (cp < 0x800) {
              value += static_cast<char>(0xC0 | (cp >> 6));
              value += static_cast<char>(0x80 | (cp & 0x3F));
            } else {
              value += static_cast<char>(0xE0 | (cp >> 12));
              value += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
              value += static_cast<char>(0x80 | (cp & 0x3F));
            }
            break;
          }
          default:
            return false;
        }
      }
      found.push_back({arena_.copy(value), in.posAt(start)});
      ws();
      if (p < s.size() && s[p] == ',') {
        ++p;
        continue;
      }
      if (p < s.size() && s[p] == ']') {
        ++p;
        ws();
        if (p != s.size()) return false;
        out.insert(out.end(), found.begin(), found.end());
        return true;
      }
      return false;
    }
  }

  // Words separated by blanks; quotes group (and, with `unquote`, are removed, as BuildKit's
  // word splitting for FROM, COPY, EXPOSE, ... does).
  void splitWords(const Instruction& in, size_t from, std::vector<Word>& out, bool unquote) {
    std::string_view s = in.args;
    size_t p = from;
    while (p < s.size()) {
      while (p < s.size() && isBlank(s[p])) ++p;
      if (p >= s.size()) break;
      size_t start = p;
      std::string value;
      char quote = 0;
      for (; p < s.size(); ++p) {
        char c = s[p];
        if (quote) {
          if (c == quote) {
            quote = 0;
            if (!unquote) value += c;
          } else if (c == escape_ && quote == '"' && p + 1 < s.size()) {
            if (!unquote) value += c;
            value += s[++p];
          } else {
            value += c;
          }
        } else if (isBlank(c)) {
          break;
        } else if (c == '"' || c == '\'') {
          quote = c;
          if (!unquote) value += c;
        } else if (c == escape_ && p + 1 < s.size() && unquote) {
          value += s[++p];
        } else {
          value += c;
        }
      }
      std::string_view text =
          value == s.substr(start, p - start) ? s.substr(start, p - start) : arena_.copy(value);
      out.push_back({text, in.posAt(start)});
    }
  }

  // ENV/LABEL: `k=v ...` or the legacy `k v` (the rest of the line is the value); ARG: `k[=v]`.
  Result<std::vector<Pair>> keyValues(const Instruction& in) {
    std::vector<Pair> out;
    std::string_view s = in.args;
    size_t first_end = 0;
    while (first_end < s.size() && !isBlank(s[first_end])) ++first_end;
    bool legacy =
        in.keyword != Keyword::kArg && s.substr(0, first_end).find('=') == std::string_view::npos;
    if (legacy) {
      size_t r = first_end;
      while (r < s.size() && isBlank(s[r])) ++r;
      Pair pr;
      pr.key = {s.substr(0, first_end), in.posAt(0)};
      pr.value = {s.substr(r), in.posAt(r)};
      pr.has_value = true;
      if (r >= s.size())
        return Error{fmt::format("{} {} needs a value ({} name=value)", keywordName(in.keyword),
                                 pr.key.text, keywordName(in.keyword)),
                     std::string(file_), in.pos};
      out.push_back(pr);
      return out;
    }
    size_t p = 0;
    while (p < s.size()) {
      while (p < s.size() && isBlank(s[p])) ++p;
      if (p >= s.size()) break;
      size_t start = p;
      size_t eq = std::string_view::npos;
      std::string value;
      char quote = 0;
      for (; p < s.size(); ++p) {
        char c = s[p];
        if (quote) {
          if (c == quote)
            quote = 0;
          else if (c == escape_ && quote == '"' && p + 1 < s.size())
            value += s[++p];
          else if (eq != std::string_view::npos)
            value += c;
        } else if (isBlank(c)) {
          break;
        } else if (c == '"' || c == '\'') {
          quote = c;
        } else if (c == escape_ && p + 1 < s.size()) {
          if (eq != std::string_view::npos) value += s[p + 1];
          ++p;
        } else if (c == '=' && eq == std::string_view::npos) {
          eq = p;
        } else if (eq != std::string_view::npos) {
          value += c;
        }
      }
      Pair pr;
      if (eq == std::string_view::npos) {
        if (in.keyword != Keyword::kArg)
          return Error{fmt::format("{} names '{}' without a value (expected name=value)",
                                   keywordName(in.keyword), s.substr(start, p - start)),
                       std::string(file_), in.posAt(start)};
        pr.key = {s.substr(start, p - start), in.posAt(start)};
      } else {
        std::string_view key = s.substr(start, eq - start);
        if (key.size() >= 2 && (key.front() == '"' || key.front() == '\'') &&
            key.back() == key.front())
          key = key.substr(1, key.size() - 2);
        pr.key = {key, in.posAt(start)};
        pr.value = {arena_.copy(value), in.posAt(eq + 1)};
        pr.has_value = true;
      }
      out.push_back(pr);
    }
    return out;
  }

  // Bodies of the instruction's heredocs: the lines after it, up to each delimiter in turn.
  std::optional<Error> heredocs(Instruction& in, size_t& i) {
    std::vector<Heredoc> docs;
    std::string_view s = in.args;
    char quote = 0;
    for (size_t p = 0; p + 2 < s.size(); ++p) {
      char c = s[p];
      if (quote) {
        if (c == quote)
          quote = 0;
        else if (c == escape_ && quote == '"')
          ++p;
        continue;
      }
      if (c == '"' || c == '\'') {
        quote = c;
        continue;
      }
      if (c == escape_) {
        ++p;
        continue;
      }
      if (c != '<' || s[p + 1] != '<') continue;
      if (p > 0 && s[p - 1] == '<') continue;
      size_t q = p + 2;
      if (q < s.size() && s[q] == '<') {  // <<< here-string: not a heredoc
        p = q;
        continue;
      }
      Heredoc h;
      h.pos = in.posAt(p);
      if (q < s.size() && s[q] == '-') {
        h.strip_tabs = true;
        ++q;
      }
      char dq = 0;
      if (q < s.size() && (s[q] == '"' || s[q] == '\'')) dq = s[q++];
      size_t ds = q;
      if (q >= s.size() || !(std::isalpha(static_cast<unsigned char>(s[q])) || s[q] == '_')) {
        p = q;
        continue;
      }
      while (q < s.size() && (std::isalnum(static_cast<unsigned char>(s[q])) || s[q] == '_')) ++q;
      h.delimiter = s.substr(ds, q - ds);
      if (dq) {
        if (q >= s.size() || s[q] != dq) {
          p = q;
          continue;
        }
        h.quoted = true;
        ++q;
      }
      docs.push_back(h);
      p = q - 1;
    }
    if (docs.empty()) return std::nullopt;
    for (Heredoc& h : docs) {
      std::string body;
      bool closed = false;
      for (; i < lines_.size(); ++i) {
        std::string_view l = lines_[i].text;
        if (!h.body_pos.known()) h.body_pos = {lines_[i].number, 1};
        std::string_view cmp = l;
        if (h.strip_tabs)
          while (!cmp.empty() && cmp.front() == '\t') cmp.remove_prefix(1);
        if (cmp == h.delimiter) {
          in.end_line = lines_[i].number;
          ++i;
          closed = true;
          break;
        }
        body.append(h.strip_tabs ? cmp : l);
        body += '\n';
      }
      if (!closed)
        return Error{fmt::format("unterminated heredoc <<{} (no line '{}' after it)", h.delimiter,
                                 h.delimiter),
                     std::string(file_), h.pos};
      h.body = arena_.copy(body);
    }
    auto* arr = arena_.makeArray<Heredoc>(docs.size());
    std::copy(docs.begin(), docs.end(), arr);
    in.heredocs = std::span<const Heredoc>(arr, docs.size());
    return std::nullopt;
  }

  // --- stages ----------------------------------------------------------------------------

  // RUN's script split into commands, under the stage's current SHELL.
  void splitShell(Instruction& in, bool posix) {
    in.posix_shell = posix;
    if (!posix || in.exec_form) return;
    shell::Script script = shell::parse(in.args, arena_);
    std::vector<shell::Command> cmds(script.commands.begin(), script.commands.end());
    if (!script.ok()) {
      in.shell_error = script.error;
      in.shell_error_pos = in.posAt(script.error_offset);
    }
    // `RUN <<EOF` (no command) or `RUN bash <<EOF`: the first heredoc is the script.
    bool body_is_script =
        !in.heredocs.empty() &&
        (cmds.empty() || (cmds.size() == 1 && isPosixShell(cmds[0].name()) &&
                          std::none_of(cmds[0].args.begin(), cmds[0].args.end(),
                                       [](const shell::Word& w) { return w.text == "-c"; })));
    if (body_is_script) {
      shell::Script body = shell::parse(in.heredocs[0].body, arena_);
      for (shell::Command c : body.commands) {
        c.heredoc = 0;
        cmds.push_back(c);
      }
      if (!body.ok() && in.shell_error.empty()) {
        in.shell_error = body.error;
        in.shell_error_pos = heredocPos(in.heredocs[0], body.error_offset);
      }
    }
    auto* arr = arena_.makeArray<shell::Command>(cmds.size());
    std::copy(cmds.begin(), cmds.end(), arr);
    in.commands = std::span<const shell::Command>(arr, cmds.size());
  }

  Result<const Dockerfile*> finish() {
    std::vector<Stage> stages;
    std::vector<Var> globals;
    bool posix = true;
    for (size_t i = 0; i < instructions_.size(); ++i) {
      Instruction& in = instructions_[i];
      if (in.keyword == Keyword::kFrom) posix = true;  // each stage starts with /bin/sh -c
      if (in.keyword == Keyword::kShell && !in.words.empty())
        posix = isPosixShell(in.words[0].text);
      if (in.keyword == Keyword::kRun) splitShell(in, posix);
      if (in.inner && in.inner->keyword == Keyword::kRun)
        splitShell(const_cast<Instruction&>(*in.inner), posix);
      if (in.keyword == Keyword::kArg && stages.empty()) {
        for (const Pair& p : in.pairs) globals.push_back({p.key.text, p.value.text, p.has_value});
      }
      if (in.keyword == Keyword::kFrom) {
        Stage st;
        st.from = static_cast<uint32_t>(i);
        if (in.words.size() != 1 && in.words.size() != 3)
          return Error{"FROM requires either one or three arguments (image [AS name])",
                       std::string(file_), in.pos};
        if (in.words.size() == 3) {
          if (!iequals(in.words[1].text, "as"))
            return Error{fmt::format("FROM: expected 'AS' before the stage name, found '{}'",
                                     in.words[1].text),
                         std::string(file_), in.words[1].pos};
          st.name = in.words[2];
        }
        st.image = in.words[0];
        st.image_ref = arena_.copy(expand(st.image.text, escape_, globals));
        if (const Flag* f = in.flag("platform")) st.platform = f->value;
        for (size_t s = 0; s < stages.size(); ++s)
          if (!stages[s].name.text.empty() && iequals(stages[s].name.text, st.image_ref))
            st.base_stage = static_cast<int32_t>(s);
        if (!stages.empty()) stages.back().end = static_cast<uint32_t>(i);
        stages.push_back(st);
      }
      in.stage = static_cast<int32_t>(stages.size()) - 1;
      if (in.inner) const_cast<Instruction*>(in.inner)->stage = in.stage;
    }
    if (!stages.empty()) stages.back().end = static_cast<uint32_t>(instructions_.size());
    auto* df = arena_.make<Dockerfile>();
    auto* insts = arena_.makeArray<Instruction>(instructions_.size());
    std::move(instructions_.begin(), instructions_.end(), insts);
    df->instructions = std::span<const Instruction>(insts, instructions_.size());
    auto* st = arena_.makeArray<Stage>(stages.size());
    std::copy(stages.begin(), stages.end(), st);
    df->stages = std::span<const Stage>(st, stages.size());
    auto* dir = arena_.makeArray<Directive>(directives_.size());
    std::copy(directives_.begin(), directives_.end(), dir);
    df->directives = std::span<const Directive>(dir, directives_.size());
    auto* com = arena_.makeArray<Comment>(comments_.size());
    std::copy(comments_.begin(), comments_.end(), com);
    df->comments = std::span<const Comment>(com, comments_.size());
    df->escape = escape_;
    return static_cast<const Dockerfile*>(df);
  }

  std::string_view file_;
  Arena& arena_;
  std::vector<Diagnostic>& diags_;
  const ParseLimits& limits_;
  std::vector<Line> lines_;
  std::vector<Instruction> instructions_;
  std::vector<Directive> directives_;
  std::vector<Comment> comments_;
  char escape_ = '\\';
};

}  // namespace

std::string_view keywordName(Keyword k) {
  for (const auto& [name, kw] : kKeywords)
    if (kw == k) return name;
  return {};
}

Keyword keywordOf(std::string_view word) {
  for (const auto& [name, kw] : kKeywords)
    if (iequals(name, word)) return kw;
  return Keyword::kUnknown;
}

SourcePos Instruction::posAt(size_t offset) const {
  if (segments.empty()) return pos;
  return posIn(segments, offset);
}

SourcePos Instruction::posOf(const shell::Command& c, const shell::Word& w) const {
  if (c.heredoc >= 0 && static_cast<size_t>(c.heredoc) < heredocs.size())
    return heredocPos(heredocs[static_cast<size_t>(c.heredoc)], w.offset);
  return posAt(w.offset);
}

Result<const Dockerfile*> parse(std::string_view text, std::string_view file, Arena& arena,
                                std::vector<Diagnostic>& diagnostics, const ParseLimits& limits) {
  Parser p(text, file, arena, diagnostics, limits);
  return p.run();
}

std::string expand(std::string_view s, char escape, std::span<const Var> vars) {
  auto find = [&](std::string_view name) -> const Var* {
    for (size_t i = vars.size(); i-- > 0;)
      if (vars[i].name == name) return &vars[i];
    return nullptr;
  };
  std::string out;
  for (size_t p = 0; p < s.size(); ++p) {
    char c = s[p];
    if (c == escape && p + 1 < s.size() && s[p + 1] == '$') {
      out += '$';
      ++p;
      continue;
    }
    if (c != '$' || p + 1 >= s.size()) {
      out += c;
      continue;
    }
    if (s[p + 1] == '{') {
      size_t close = s.find('}', p + 2);
      if (close == std::string_view::npos) {
        out += s.substr(p);
        break;
      }
      std::string_view body = s.substr(p + 2, close - p - 2);
      size_t op = body.find_first_of(":-+");
      std::string_view name = body.substr(0, op);
      const Var* v = find(name);
      bool set = v && v->set;
      bool nonempty = set && !v->value.empty();
      if (op == std::string_view::npos) {
        if (set) out += v->value;
      } else {
        bool colon = body[op] == ':';
        size_t kind = colon ? op + 1 : op;
        char k = kind < body.size() ? body[kind] : '\0';
        std::string_view word = kind < body.size() ? body.substr(kind + 1) : std::string_view();
        bool present = colon ? nonempty : set;
        if (k == '-')
          out += present ? v->value : expand(word, escape, vars);
        else if (k == '+')
          out += present ? expand(word, escape, vars) : std::string();
        else if (set)
          out += v->value;
      }
      p = close;
      continue;
    }
    size_t q = p + 1;
    while (q < s.size() && (std::isalnum(static_cast<unsigned char>(s[q])) || s[q] == '_')) ++q;
    if (q == p + 1) {
      out += c;
      continue;
    }
    if (const Var* v = find(s.substr(p + 1, q - p - 1)); v && v->set) out += v->value;
    p = q - 1;
  }
  return out;
}

}  // namespace kh::dockerfile
