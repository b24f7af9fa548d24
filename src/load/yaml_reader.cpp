#include "load/yaml_reader.h"

#include <fmt/format.h>
#include <yaml.h>

#include <cstring>
#include <string>
#include <unordered_map>

#include "load/scalar.h"

namespace kh {
namespace {

constexpr std::string_view kTagPrefix = "tag:yaml.org,2002:";

SourcePos posOf(const yaml_mark_t& m) {
  return {static_cast<uint32_t>(m.line + 1), static_cast<uint32_t>(m.column + 1)};
}

// `# Source: chart/templates/x.yaml` comments from Helm, with their 1-based lines.
std::vector<std::pair<uint32_t, std::string_view>> findHelmSources(std::string_view buf) {
  std::vector<std::pair<uint32_t, std::string_view>> out;
  constexpr std::string_view kMarker = "# Source: ";
  if (buf.find(kMarker) == std::string_view::npos) return out;
  uint32_t line = 1;
  size_t i = 0;
  while (i < buf.size()) {
    size_t eol = buf.find('\n', i);
    if (eol == std::string_view::npos) eol = buf.size();
    std::string_view l = buf.substr(i, eol - i);
    if (l.starts_with(kMarker)) {
      std::string_view src = l.substr(kMarker.size());
      while (!src.empty() && (src.back() == '\r' || src.back() == ' ')) src.remove_suffix(1);
      out.emplace_back(line, src);
    }
    ++line;
    i = eol + 1;
  }
  return out;
}

struct Slot {
  const Node* node;
  uint64_t weight;
  bool merge_key;  // a plain `<<` key
};

struct Frame {
  Node* node;
  std::string anchor;
  size_t first_slot;
};

class Reader {
 public:
  Reader(std::string_view file, Arena& arena, const LoadLimits& limits,
         std::vector<Diagnostic>& diags)
      : file_(file), arena_(arena), limits_(limits), diags_(diags) {}

  ParseOutput run(std::string_view buf) {
    ParseOutput out;
    auto sources = findHelmSources(buf);
    size_t next_source = 0;
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
      out.error = Error{"cannot initialise the YAML parser", std::string(file_), {}};
      return out;
    }
    yaml_parser_set_input_string(&parser, reinterpret_cast<const unsigned char*>(buf.data()),
                                 buf.size());
    yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
    uint32_t doc_index = 0;
    uint32_t prev_doc_end_line = 0;
    ParsedDocument doc;
    bool done = false;
    while (!done) {
      yaml_event_t ev;
      if (!yaml_parser_parse(&parser, &ev)) {
        SourcePos p = posOf(parser.problem_mark);
        std::string msg = parser.problem ? parser.problem : "invalid YAML";
        if (parser.context) msg = fmt::format("{} {}", parser.context, msg);
        out.error = Error{fmt::format("YAML syntax error: {}", msg), std::string(file_), p};
        break;
      }
      switch (ev.type) {
        case YAML_STREAM_END_EVENT:
          done = true;
          break;
        case YAML_DOCUMENT_START_EVENT:
          doc = ParsedDocument{};
          doc.index = doc_index++;
          doc.start = posOf(ev.start_mark);
          anchors_.clear();
          doc_weight_ = 0;
          doc_literal_ = 0;
          break;
        case YAML_DOCUMENT_END_EVENT: {
          doc.root = root_;
          uint32_t root_line = root_ ? root_->pos.line : posOf(ev.start_mark).line;
          // The Helm source of a document is the last `# Source:` comment between the end of
          // the previous document and the document's first node.
          while (next_source < sources.size() && sources[next_source].first < root_line) {
            if (sources[next_source].first >= prev_doc_end_line)
              doc.helm_source = sources[next_source].second;
            ++next_source;
          }
          prev_doc_end_line = posOf(ev.start_mark).line;
          root_ = nullptr;
          out.documents.push_back(doc);
          break;
        }
        case YAML_ALIAS_EVENT:
          onAlias(ev);
          break;
        case YAML_SCALAR_EVENT:
          onScalar(ev);
          break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
          onStart(ev);
          break;
        case YAML_SEQUENCE_END_EVENT:
          onSeqEnd();
          break;
        case YAML_MAPPING_END_EVENT:
          onMapEnd();
          break;
        default:
          break;
      }
      yaml_event_delete(&ev);
      if (error_) {
        out.error = std::move(error_);
        break;
      }
    }
    yaml_parser_delete(&parser);
    return out;
  }

 private:
  void fail(SourcePos pos, std::string msg) {
    if (!error_) error_ = Error{std::move(msg), std::string(file_), pos};
  }

  static std::string_view anchorOf(const unsigned char* a) {
    return a ? std::string_view(reinterpret_cast<const char*>(a)) : std::string_view();
  }

  // Adds a finished node to its parent (or makes it the document root).
  // `literal`: a node written in the input (not an alias's copy). Literal nodes are bounded by
  // the file's size and by max_document_nodes; what aliases add beyond them, by
  // max_expanded_nodes (the billion-laughs guard). A large export (`kubectl get pods -A -o
  // json` of a big cluster) is one document of millions of literal nodes and no alias.
  void add(const Node* n, uint64_t weight, bool merge_key = false, bool literal = true) {
    doc_weight_ += weight;
    doc_literal_ += literal;
    if (doc_literal_ > limits_.max_document_nodes) {
      fail(n->pos, fmt::format("document has more than {} nodes (document size limit)",
                               limits_.max_document_nodes));
      return;
    }
    if (doc_weight_ - doc_literal_ > limits_.max_expanded_nodes) {
      fail(n->pos, fmt::format("aliases expand the document by more than {} nodes (alias "
                               "expansion limit)",
                               limits_.max_expanded_nodes));
      return;
    }
    if (frames_.empty()) {
      root_ = n;
      return;
    }
    slots_.push_back({n, weight, merge_key});
  }

  void remember(std::string_view anchor, const Node* n, uint64_t weight) {
    if (!anchor.empty()) anchors_[std::string(anchor)] = {n, weight};
  }

  void onAlias(const yaml_event_t& ev) {
    std::string name(anchorOf(ev.data.alias.anchor));
    auto it = anchors_.find(name);
    if (it == anchors_.end()) {
      fail(posOf(ev.start_mark),
           fmt::format("unknown anchor '{}' (or an alias inside the node it names)", name));
      return;
    }
    add(it->second.first, it->second.second, false, false);
  }

  void onScalar(const yaml_event_t& ev) {
    Node* n = arena_.make<Node>();
    n->pos = posOf(ev.start_mark);
    std::string_view raw(reinterpret_cast<const char*>(ev.data.scalar.value),
                         ev.data.scalar.length);
    std::string_view text = arena_.copy(raw);
    std::string_view tag = anchorOf(ev.data.scalar.tag);
    bool plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    if (tag.starts_with(kTagPrefix)) {
      std::string_view t = tag.substr(kTagPrefix.size());
      if (t == "null" || t == "bool" || t == "int" || t == "float") {
        resolvePlainScalar(text, *n);  // explicit core tag: resolve the value as written
      } else {
        n->type = NodeType::kString;
        n->text = text;
      }
    } else if (plain && tag.empty()) {
      resolvePlainScalar(text, *n);
    } else {
      n->type = NodeType::kString;  // quoted, block, `!` or custom-tagged scalars are strings
      n->text = text;
    }
    bool merge = plain && tag.empty() && text == "<<" && isKeyPosition();
    remember(anchorOf(ev.data.scalar.anchor), n, 1);
    add(n, 1, merge);
  }

  bool isKeyPosition() const {
    return !frames_.empty() && frames_.back().node->type == NodeType::kMap &&
           (slots_.size() - frames_.back().first_slot) % 2 == 0;
  }

  void onStart(const yaml_event_t& ev) {
    if (frames_.size() >= limits_.max_depth) {
      fail(posOf(ev.start_mark), fmt::format("nesting deeper than {} levels", limits_.max_depth));
      return;
    }
    Node* n = arena_.make<Node>();
    n->pos = posOf(ev.start_mark);
    bool map = ev.type == YAML_MAPPING_START_EVENT;
    n->type = map ? NodeType::kMap : NodeType::kSeq;
    std::string_view anchor =
        anchorOf(map ? ev.data.mapping_start.anchor : ev.data.sequence_start.anchor);
    frames_.push_back({n, std::string(anchor), slots_.size()});
  }

  uint64_t childWeight(size_t from) const {
    uint64_t w = 1;
    for (size_t i = from; i < slots_.size(); ++i) w += slots_[i].weight;
    return w;
  }

  void onSeqEnd() {
    Frame f = std::move(frames_.back());
    frames_.pop_back();
    size_t count = slots_.size() - f.first_slot;
    auto** items = arena_.makeArray<const Node*>(count);
    for (size_t i = 0; i < count; ++i) items[i] = slots_[f.first_slot + i].node;
    f.node->items = items;
    f.node->size = static_cast<uint32_t>(count);
    uint64_t w = childWeight(f.first_slot);
    doc_weight_ -= w - 1;  // children were already counted once; do not count them twice
    slots_.resize(f.first_slot);
    remember(f.anchor, f.node, w);
    add(f.node, w);
  }

  void putEntry(std::vector<MapEntry>& entries, std::string_view key, SourcePos key_pos,
                const Node* value, bool from_merge) {
    for (MapEntry& e : entries) {
      if (e.key != key) continue;
      if (from_merge) return;  // explicit keys win over merged ones (YAML merge-key rule)
      diags_.push_back({"duplicate-key",
                        fmt::format("duplicate key '{}' (first at line {}); the last value wins, "
                                    "as in the API server",
                                    key, e.key_pos.line),
                        std::string(file_), key_pos});
      e.value = value;
      e.key_pos = key_pos;
      return;
    }
    entries.push_back({key, key_pos, value});
  }

  void onMapEnd() {
    Frame f = std::move(frames_.back());
    frames_.pop_back();
    size_t count = slots_.size() - f.first_slot;
    entries_.clear();
    std::vector<const Node*> merges;
    for (size_t i = 0; i + 1 < count; i += 2) {
      const Slot& k = slots_[f.first_slot + i];
      const Slot& v = slots_[f.first_slot + i + 1];
      if (k.merge_key) {
        merges.push_back(v.node);
        continue;
      }
      if (!k.node->isScalar()) {
        fail(k.node->pos, "a map key must be a scalar (Kubernetes objects are JSON)");
        break;
      }
      std::string_view key =
          k.node->type == NodeType::kString ? k.node->text : arena_.copy(keyString(*k.node));
      putEntry(entries_, key, k.node->pos, v.node, false);
    }
    for (const Node* m : merges) {
      auto mergeMap = [&](const Node* src) {
        if (!src->isMap()) {
          fail(src->pos, "a merge key (<<) needs a map or a sequence of maps");
          return;
        }
        for (const MapEntry& e : src->mapEntries())
          putEntry(entries_, e.key, e.key_pos, e.value, true);
      };
      if (m->isSeq()) {
        for (const Node* s : m->seqItems()) mergeMap(s);
      } else {
        mergeMap(m);
      }
    }
    auto* arr = arena_.makeArray<MapEntry>(entries_.size());
    for (size_t i = 0; i < entries_.size(); ++i) arr[i] = entries_[i];
    f.node->entries = arr;
    f.node->size = static_cast<uint32_t>(entries_.size());
    uint64_t w = childWeight(f.first_slot);
    doc_weight_ -= w - 1;
    slots_.resize(f.first_slot);
    remember(f.anchor, f.node, w);
    add(f.node, w);
  }

  std::string_view file_;
  Arena& arena_;
  const LoadLimits& limits_;
  std::vector<Diagnostic>& diags_;
  std::vector<Frame> frames_;
  std::vector<Slot> slots_;
  std::vector<MapEntry> entries_;
  std::unordered_map<std::string, std::pair<const Node*, uint64_t>> anchors_;
  const Node* root_ = nullptr;
  uint64_t doc_weight_ = 0;   // nodes of the document, aliases expanded
  uint64_t doc_literal_ = 0;  // nodes written in the input
  std::optional<Error> error_;
};

}  // namespace

ParseOutput parseYamlStream(std::string_view buffer, std::string_view file, Arena& arena,
                            const LoadLimits& limits, std::vector<Diagnostic>& diagnostics) {
  Reader r(file, arena, limits, diagnostics);
  return r.run(buffer);
}

}  // namespace kh
