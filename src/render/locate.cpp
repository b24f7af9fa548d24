#include "render/locate.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "base/arena.h"
#include "load/yaml_reader.h"
#include "render/archive.h"

namespace kh::render {
namespace fs = std::filesystem;

struct Locator::File {
  bool ok = false;
  std::string text;
  Arena arena;
  std::vector<ParsedDocument> docs;  // parsed on first use for kustomize resources
  bool parsed = false;
};

namespace {

// ---- paths -------------------------------------------------------------------------------

size_t tokenEnd(std::string_view s) {
  size_t e = s.find_first_of(".[");
  return e == std::string_view::npos ? s.size() : e;
}

// ---- template text -----------------------------------------------------------------------

struct Line {
  std::string_view text;   // without the newline
  size_t indent = 0;       // leading spaces
  size_t key_indent = 0;   // column of the content after any "- "
  bool dash = false;       // starts with "- " (a list item)
  bool literal = false;    // YAML text, not a template action, comment or blank
  std::string_view key;    // `key:` on this line, unquoted, when it has one
  std::string_view value;  // what follows `key:`
};

std::vector<Line> splitLines(std::string_view text) {
  std::vector<Line> lines;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    Line l;
    l.text = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (l.text.ends_with('\r')) l.text.remove_suffix(1);
    std::string_view t = l.text;
    while (l.indent < t.size() && t[l.indent] == ' ') ++l.indent;
    std::string_view c = t.substr(l.indent);
    size_t k = l.indent;
    while (c.starts_with("- ") || c == "-") {
      l.dash = true;
      size_t skip = c.size() >= 2 ? 2 : 1;
      c.remove_prefix(skip);
      k += skip;
      while (!c.empty() && c.front() == ' ') {
        c.remove_prefix(1);
        ++k;
      }
    }
    l.key_indent = k;
    l.literal = !c.empty() && !c.starts_with("{{") && !c.starts_with('#');
    if (l.text.substr(l.indent).starts_with("{{")) l.literal = false;
    if (l.literal) {
      // key: "quoted" keys and plain keys; a template action inside the key is not a key.
      std::string_view key;
      size_t colon = std::string_view::npos;
      if (c.starts_with('"') || c.starts_with('\'')) {
        size_t close = c.find(c.front(), 1);
        if (close != std::string_view::npos && close + 1 < c.size() + 1 &&
            c.substr(close + 1).starts_with(':')) {
          key = c.substr(1, close - 1);
          colon = close + 1;
        }
      } else {
        for (size_t i = 0; i < c.size(); ++i) {
          if (c[i] == ':' && (i + 1 == c.size() || c[i + 1] == ' ')) {
            colon = i;
            break;
          }
          if (c[i] == '{' || (c[i] == ' ' && i + 1 < c.size() && c[i + 1] == '#')) break;
        }
        if (colon != std::string_view::npos) key = c.substr(0, colon);
      }
      if (colon != std::string_view::npos && key.find("{{") == std::string_view::npos) {
        l.key = key;
        l.value = c.substr(colon + 1);
        while (!l.value.empty() && l.value.front() == ' ') l.value.remove_prefix(1);
        // A trailing comment is not the value.
        if (l.value.starts_with('#')) l.value = {};
        size_t last_action = l.value.rfind("}}");
        size_t hash = l.value.find(" #", last_action == std::string_view::npos ? 0 : last_action);
        if (hash != std::string_view::npos) l.value = l.value.substr(0, hash);
      }
    }
    lines.push_back(l);
  }
  return lines;
}

// Lines [begin, end) of the template document that makes objects of `kind` (a template may
// hold several documents separated by ---).
std::pair<size_t, size_t> documentOf(const std::vector<Line>& lines, std::string_view kind) {
  std::vector<std::pair<size_t, size_t>> docs;
  size_t start = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view t = lines[i].text;
    while (t.ends_with(' ')) t.remove_suffix(1);
    if (t == "---") {
      docs.emplace_back(start, i);
      start = i + 1;
    }
  }
  docs.emplace_back(start, lines.size());
  if (docs.size() > 1)
    for (auto [b, e] : docs)
      for (size_t i = b; i < e; ++i)
        if (lines[i].key == "kind" && lines[i].key_indent == 0) {
          std::string_view v = lines[i].value;
          if (v.size() >= 2 && (v.front() == '"' || v.front() == '\''))
            v = v.substr(1, v.size() - 2);
          if (v == kind) return {b, e};
        }
  return {0, lines.size()};
}

std::string_view unquote(std::string_view v) {
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  if (size_t hash = v.find(" #"); hash != std::string_view::npos) v = v.substr(0, hash);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
    v = v.substr(1, v.size() - 2);
  return v;
}

// `.Values.a.b` references in `text`, in order, without duplicates.
std::vector<std::string> valuesRefs(std::string_view text) {
  std::vector<std::string> out;
  for (size_t at = text.find(".Values."); at != std::string_view::npos;
       at = text.find(".Values.", at + 8)) {
    size_t b = at + 8, e = b;
    while (e < text.size() && (std::isalnum(static_cast<unsigned char>(text[e])) ||
                               text[e] == '_' || text[e] == '.' || text[e] == '-'))
      ++e;
    std::string ref(text.substr(b, e - b));
    while (ref.ends_with('.')) ref.pop_back();
    if (!ref.empty() && std::find(out.begin(), out.end(), ref) == out.end()) out.push_back(ref);
  }
  return out;
}

// {{ if ... }}, {{- with ... }}, {{ range ... }}, {{ else }}, {{ end }}: control, not output.
bool isControlAction(std::string_view line) {
  size_t at = line.find("{{");
  if (at == std::string_view::npos) return false;
  std::string_view a = line.substr(at + 2);
  if (a.starts_with('-')) a.remove_prefix(1);
  while (a.starts_with(' ')) a.remove_prefix(1);
  for (std::string_view kw : {"if ", "else", "with ", "range ", "end"})
    if (a.starts_with(kw)) return true;
  return false;
}

// Walks `segs` down a YAML node as far as it has them; `pos` ends at the deepest key or item
// found (unchanged when none). Returns how many segments were found.
size_t walk(const Node* node, const std::vector<PathSegment>& segs, SourcePos& pos) {
  size_t done = 0;
  for (; done < segs.size() && node; ++done) {
    const PathSegment& s = segs[done];
    if (s.index >= 0) {
      const Node* item = nullptr;
      if (!s.item_name.empty())
        for (const Node* it : seqOf(node))
          if (getStr(it, "name") == s.item_name) item = it;
      if (!item && node->isSeq() && static_cast<uint32_t>(s.index) < node->size)
        item = node->items[s.index];
      if (!item) break;
      pos = item->pos;
      node = item;
      continue;
    }
    const MapEntry* e = node->entry(s.key);
    if (!e) break;
    pos = e->key_pos;
    node = e->value;
  }
  return done;
}

// How many leading segments of `segs` a JSON pointer (a JSON 6902 operation's path) names, when
// it names a prefix of them (0 otherwise). "-" (append) matches any index.
size_t pointerReach(std::string_view pointer, const std::vector<PathSegment>& segs) {
  if (!pointer.starts_with('/')) return 0;
  pointer.remove_prefix(1);
  size_t n = 0;
  while (true) {
    size_t slash = pointer.find('/');
    std::string_view raw = pointer.substr(0, slash);
    std::string tok;  // ~1 is '/', ~0 is '~'
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '~' && i + 1 < raw.size() && (raw[i + 1] == '0' || raw[i + 1] == '1')) {
        tok.push_back(raw[i + 1] == '1' ? '/' : '~');
        ++i;
      } else {
        tok.push_back(raw[i]);
      }
    }
    if (n >= segs.size()) return 0;  // deeper than the finding: not its field
    const PathSegment& s = segs[n];
    bool match = s.index >= 0 ? (tok == "-" || tok == std::to_string(s.index)) : tok == s.key;
    if (!match) return 0;
    ++n;
    if (slash == std::string_view::npos) return n;
    pointer.remove_prefix(slash + 1);
  }
}

}  // namespace

std::vector<PathSegment> resolvePath(const Node* node, std::string_view path) {
  std::vector<PathSegment> segs;
  while (!path.empty()) {
    if (path.front() == '.') {
      path.remove_prefix(1);
      continue;
    }
    if (path.front() == '[') {
      size_t close = path.find(']');
      std::string_view inner =
          path.substr(1, close == std::string_view::npos ? path.size() - 1 : close - 1);
      path = close == std::string_view::npos ? std::string_view() : path.substr(close + 1);
      PathSegment s;
      int n = 0;
      bool numeric = !inner.empty();
      for (char c : inner) {
        if (c < '0' || c > '9')
          numeric = false;
        else
          n = n * 10 + (c - '0');
      }
      if (!numeric) {  // [key] form
        s.key = std::string(inner);
        node = get(node, inner);
        segs.push_back(std::move(s));
        continue;
      }
      s.index = n;
      const Node* item =
          node && node->isSeq() && static_cast<uint32_t>(n) < node->size ? node->items[n] : nullptr;
      s.item_name = std::string(getStr(item, "name"));
      node = item;
      segs.push_back(std::move(s));
      continue;
    }
    // The longest key of this map that the path continues with (keys may hold dots).
    const MapEntry* best = nullptr;
    for (const MapEntry& e : mapOf(node)) {
      if (!path.starts_with(e.key)) continue;
      if (path.size() > e.key.size() && path[e.key.size()] != '.' && path[e.key.size()] != '[')
        continue;
      if (!best || e.key.size() > best->key.size()) best = &e;
    }
    PathSegment s;
    if (best) {
      s.key = std::string(best->key);
      node = best->value;
    } else {
      s.key = std::string(path.substr(0, tokenEnd(path)));
      node = nullptr;
    }
    path.remove_prefix(s.key.size());
    segs.push_back(std::move(s));
  }
  return segs;
}

Location Locator::inTemplate(std::string_view text, const Object& o, std::string_view path) {
  Location loc;
  std::vector<Line> lines = splitLines(text);
  const auto doc_range = documentOf(lines, o.ref.kind);
  const size_t begin = doc_range.first, end = doc_range.second;
  std::vector<PathSegment> segs = resolvePath(o.root, path);

  // Walk the segments down the template's literal lines. `parent` is the key column of the
  // enclosing key (-1 at the top); `item_dash` the column of the list item we are in, if any.
  long parent = -1, item_dash = -1;
  size_t from = begin;
  long matched = -1;  // line index of the deepest segment found
  size_t done = 0;
  bool in_range = false;  // a {{ range }} sits between the list key and its items
  for (; done < segs.size(); ++done) {
    const PathSegment& s = segs[done];
    // The block: literal lines below `from` until one that closes it.
    auto closes = [&](size_t i) {
      const Line& l = lines[i];
      if (!l.literal || i == from) return false;
      if (static_cast<long>(l.key_indent) <= parent &&
          !(l.dash && static_cast<long>(l.indent) == parent))
        return true;
      return item_dash >= 0 && l.dash && static_cast<long>(l.indent) <= item_dash;
    };
    if (s.index < 0) {
      long best = -1;
      for (size_t i = from; i < end && !closes(i); ++i) {
        const Line& l = lines[i];
        if (!l.literal || l.key != s.key || static_cast<long>(l.key_indent) <= parent) continue;
        if (best < 0 || l.key_indent < lines[static_cast<size_t>(best)].key_indent)
          best = static_cast<long>(i);
      }
      if (best < 0) break;
      matched = best;
      parent = static_cast<long>(lines[static_cast<size_t>(best)].key_indent);
      item_dash = -1;
      from = static_cast<size_t>(best) + 1;
      in_range = false;
      for (size_t i = from; i < end && !closes(i); ++i) {
        if (lines[i].literal) break;
        if (lines[i].text.find("range") != std::string_view::npos) in_range = true;
      }
      continue;
    }
    // A list item: the dash lines of the smallest indent in the block.
    std::vector<size_t> items;
    long dash_indent = -1;
    for (size_t i = from; i < end && !closes(i); ++i) {
      const Line& l = lines[i];
      if (!l.literal || !l.dash) continue;
      if (dash_indent < 0 || static_cast<long>(l.indent) < dash_indent) {
        dash_indent = static_cast<long>(l.indent);
        items.clear();
      }
      if (static_cast<long>(l.indent) == dash_indent) items.push_back(i);
    }
    if (items.empty()) break;
    long pick = -1;
    // The item's `name:` line: on its dash line or among its keys.
    auto nameOf = [&](size_t k) -> std::string_view {
      size_t stop = k + 1 < items.size() ? items[k + 1] : end;
      for (size_t i = items[k]; i < stop; ++i)
        if (lines[i].literal && lines[i].key == "name" &&
            lines[i].key_indent == static_cast<size_t>(dash_indent) + 2)
          return unquote(lines[i].value);
      return {};
    };
    if (!s.item_name.empty()) {
      // The item that names itself so; else the one item whose name is made by the template (a
      // range's).
      long templated = -1;
      size_t n_templated = 0;
      for (size_t k = 0; k < items.size() && pick < 0; ++k) {
        std::string_view name = nameOf(k);
        if (name == s.item_name) pick = static_cast<long>(items[k]);
        if (name.find("{{") != std::string_view::npos) {
          templated = static_cast<long>(items[k]);
          ++n_templated;
        }
      }
      if (pick < 0 && n_templated == 1) pick = templated;
    } else if (static_cast<size_t>(s.index) < items.size() && !in_range) {
      pick = static_cast<long>(items[static_cast<size_t>(s.index)]);
    }
    if (pick < 0 && items.size() == 1) pick = static_cast<long>(items[0]);
    if (pick < 0) break;
    item_dash = dash_indent;
    parent = dash_indent;
    from = static_cast<size_t>(pick);
    matched = pick;
    in_range = false;
  }

  loc.exact = done == segs.size() && matched >= 0;
  if (matched < 0) {
    loc.pos = {static_cast<uint32_t>(begin + 1), 1};
    return loc;
  }
  const Line& m = lines[static_cast<size_t>(matched)];
  loc.pos = {static_cast<uint32_t>(matched + 1), static_cast<uint32_t>(m.key_indent + 1)};

  // Values keys: the references of the matched line's value, or of the template actions that
  // make its block.
  std::string value(m.value);
  if (unquote(m.value).empty() || m.value.starts_with("{{-") || m.value.starts_with("|") ||
      m.value.starts_with(">")) {
    // The actions that make its value: the lines below it, indented deeper.
    for (size_t i = static_cast<size_t>(matched) + 1;
         i < end && !lines[i].literal && lines[i].indent > m.key_indent; ++i) {
      if (isControlAction(lines[i].text)) continue;  // if/with/range conditions are not the value
      value += ' ';
      value += lines[i].text;
    }
  }
  std::vector<std::string> refs = valuesRefs(value);
  if (refs.empty() || refs.size() > 4) return loc;
  std::string_view v = unquote(m.value);
  bool plain = v.starts_with("{{") && v.ends_with("}}") && refs.size() == 1 &&
               v.find("include") == std::string_view::npos;
  bool whole = value.find("toYaml") != std::string::npos ||
               value.find("include") != std::string::npos ||
               value.find("omit") != std::string::npos || value.find("tpl") != std::string::npos;
  if (loc.exact && plain) {
    loc.values = refs;
  } else if (!loc.exact && refs.size() == 1 && whole) {
    // toYaml .Values.x under the matched key: the field is .Values.x's own sub-key.
    std::string key = refs[0];
    for (size_t i = done; i < segs.size(); ++i) {
      if (segs[i].index >= 0)
        key += fmt::format("[{}]", segs[i].index);
      else
        key += "." + segs[i].key;
    }
    loc.values = {key};
  } else {
    loc.values = refs;
  }
  return loc;
}

Locator::Locator() = default;
Locator::~Locator() = default;

const Locator::File* Locator::read(const std::string& key, const Root* archive_root,
                                   std::string_view entry) {
  auto it = files_.find(key);
  if (it != files_.end()) return it->second.get();
  auto f = std::make_unique<File>();
  if (archive_root) {
    Status s = readTgz(
        archive_root->path, [&](std::string_view name) { return name == entry; },
        [&](std::string_view, std::string&& content) {
          f->text = std::move(content);
          f->ok = true;
          return false;
        });
    (void)s;
  } else {
    std::ifstream in(key, std::ios::binary);
    if (in) {
      std::stringstream ss;
      ss << in.rdbuf();
      f->text = ss.str();
      f->ok = true;
    }
  }
  return files_.emplace(key, std::move(f)).first->second.get();
}

Location Locator::helm(const Root& root, std::string_view helm_source, const Object& o,
                       std::string_view path) {
  Location loc;
  std::string entry(helm_source);
  const File* f = nullptr;
  if (root.archive) {
    loc.file = fmt::format("{}!{}", root.path, helm_source);
    f = read(loc.file, &root, entry);
  } else {
    // chart-name/charts/sub/templates/x.yaml -> the directories as they are on disk: a
    // subchart's directory is its name, or the dependency an alias names.
    std::vector<std::string_view> parts;
    for (std::string_view rest = helm_source; !rest.empty();) {
      size_t slash = rest.find('/');
      parts.push_back(rest.substr(0, slash));
      rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    }
    fs::path cur = root.path;
    for (size_t i = 1; i < parts.size(); ++i) {
      std::error_code ec;
      if (parts[i] == "charts" && i + 1 < parts.size() &&
          !fs::is_directory(cur / "charts" / parts[i + 1], ec)) {
        // An alias: the dependency of that alias in Chart.yaml names the directory.
        std::string name(parts[i + 1]);
        if (const File* chart = read((cur / "Chart.yaml").string(), nullptr, {});
            chart && chart->ok) {
          Arena arena;
          std::vector<Diagnostic> ignored;
          ParseOutput p = parseYamlStream(chart->text, "Chart.yaml", arena, LoadLimits{}, ignored);
          if (!p.documents.empty())
            for (const Node* dep : seqOf(get(p.documents[0].root, "dependencies")))
              if (getStr(dep, "alias") == parts[i + 1]) name = std::string(getStr(dep, "name"));
        }
        cur = cur / "charts" / name;
        ++i;
        continue;
      }
      cur /= parts[i];
    }
    loc.file = cur.string();  // the chart path as given, joined with the template's
    f = read(loc.file, nullptr, {});
  }
  if (!f || !f->ok) return loc;  // no line: the file is not where helm says (a packaged subchart)
  Location in = inTemplate(f->text, o, path);
  in.file = std::move(loc.file);
  return in;
}

Location Locator::kustomize(std::string_view origin, const Object& o, std::string_view path,
                            const std::vector<Patch>* patches) {
  Location loc;
  loc.file = std::string(origin);
  auto it = files_.find(loc.file);
  File* f = it != files_.end() ? it->second.get() : const_cast<File*>(read(loc.file, nullptr, {}));
  if (!f->ok) return loc;
  if (!f->parsed) {
    std::vector<Diagnostic> ignored;
    f->docs = parseYamlStream(f->text, loc.file, f->arena, LoadLimits{}, ignored).documents;
    f->parsed = true;
  }
  // The document of this object: same kind, and the name it had before prefixes and suffixes
  // (the longest source name the rendered name contains).
  const Node* doc = nullptr;
  size_t best_len = 0;
  bool best_contained = false;
  std::string_view rendered_name = o.ref.name;
  for (const ParsedDocument& d : f->docs) {
    if (!d.root || getStr(d.root, "kind") != o.ref.kind) continue;
    std::string_view n = getStr(get(d.root, "metadata"), "name");
    bool contained = rendered_name.find(n) != std::string_view::npos;
    if (!doc || (contained && (!best_contained || n.size() > best_len))) {
      doc = d.root;
      best_len = n.size();
      best_contained = contained;
    }
  }
  if (!doc) {
    // Made by a generator: the generator entry of that name in the kustomization.
    for (const ParsedDocument& d : f->docs)
      for (std::string_view gen : {"configMapGenerator", "secretGenerator"})
        for (const Node* g : seqOf(get(d.root, gen))) {
          const MapEntry* name = getEntry(g, "name");
          if (name && name->value && !name->value->text.empty() &&
              rendered_name.find(name->value->text) != std::string_view::npos) {
            loc.pos = name->key_pos;
            return loc;
          }
        }
    if (!f->docs.empty() && f->docs[0].root) loc.pos = f->docs[0].start;
    return loc;
  }
  loc.pos = doc->pos;
  std::vector<PathSegment> segs = resolvePath(o.root, path);
  size_t depth = walk(doc, segs, loc.pos);
  loc.exact = depth == segs.size();
  if (loc.exact || !patches) return loc;

  // A field the resource file does not have came from a patch: the patch that reaches deepest
  // into the finding's path (a strategic-merge patch's key, a JSON 6902 operation's path).
  for (const Patch& p : *patches) {
    if (!p.target_kind.empty() && p.target_kind != o.ref.kind) continue;
    if (!p.target_name.empty() && rendered_name.find(p.target_name) == std::string_view::npos)
      continue;
    std::string key = p.text.empty() ? p.file : fmt::format("{}#{}", p.file, p.first_line);
    File* pf = nullptr;
    if (auto pit = files_.find(key); pit != files_.end()) {
      pf = pit->second.get();
    } else if (p.text.empty()) {
      pf = const_cast<File*>(read(p.file, nullptr, {}));
    } else {
      auto nf = std::make_unique<File>();
      nf->text = p.text;
      nf->ok = true;
      pf = files_.emplace(key, std::move(nf)).first->second.get();
    }
    if (!pf->ok) continue;
    if (!pf->parsed) {
      std::vector<Diagnostic> ignored;
      pf->docs = parseYamlStream(pf->text, key, pf->arena, LoadLimits{}, ignored).documents;
      pf->parsed = true;
    }
    for (const ParsedDocument& d : pf->docs) {
      SourcePos pos;
      size_t reach = 0;
      if (d.root && d.root->isSeq()) {
        if (p.target_kind.empty()) continue;  // operations need a target
        for (const Node* op : d.root->seqItems()) {
          const MapEntry* pe = getEntry(op, "path");
          if (!pe || !pe->value || !pe->value->isString()) continue;
          size_t r = pointerReach(pe->value->text, segs);
          if (r > reach) {
            reach = r;
            pos = pe->key_pos;
          }
        }
      } else if (d.root && d.root->isMap()) {
        std::string_view kind = getStr(d.root, "kind");
        std::string_view name = getStr(get(d.root, "metadata"), "name");
        if (!kind.empty() && kind != o.ref.kind) continue;
        if (!name.empty() && rendered_name.find(name) == std::string_view::npos) continue;
        reach = walk(d.root, segs, pos);
      }
      if (reach <= depth) continue;
      depth = reach;
      loc.file = p.file;
      loc.pos = p.text.empty() ? pos : SourcePos{p.first_line + pos.line - 1, pos.col + p.indent};
      loc.exact = depth == segs.size();
    }
  }
  return loc;
}

}  // namespace kh::render
