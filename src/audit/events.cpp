#include "audit/events.h"

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>

namespace kh::audit {
namespace {

constexpr size_t kChunk = 1 << 20;
constexpr size_t kMaxLine = 64u << 20;       // a longer line is malformed
constexpr size_t kMaxDocument = 256u << 20;  // a pretty-printed EventList file, whole

std::string str(const rapidjson::Value& o, const char* key) {
  if (!o.IsObject()) return {};
  auto it = o.FindMember(key);
  return it != o.MemberEnd() && it->value.IsString()
             ? std::string(it->value.GetString(), it->value.GetStringLength())
             : std::string();
}
const rapidjson::Value& member(const rapidjson::Value& o, const char* key) {
  static const rapidjson::Value kNull;
  if (!o.IsObject()) return kNull;
  auto it = o.FindMember(key);
  return it == o.MemberEnd() ? kNull : it->value;
}
std::vector<std::string> strings(const rapidjson::Value& v) {
  std::vector<std::string> out;
  if (v.IsArray())
    for (const auto& s : v.GetArray())
      if (s.IsString()) out.emplace_back(s.GetString(), s.GetStringLength());
  return out;
}
std::string toJson(const rapidjson::Value& v) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  v.Accept(w);
  return std::string(b.GetString(), b.GetSize());
}

bool isLastStage(const std::string& s) {
  return s == "ResponseComplete" || s == "Panic";
}

bool eventFrom(const rapidjson::Value& o, Event& e, std::string* why) {
  if (!o.IsObject()) {
    *why = "not a JSON object";
    return false;
  }
  std::string api = str(o, "apiVersion");
  std::string kind = str(o, "kind");
  if (!kind.empty() && kind != "Event") {
    *why = fmt::format("kind {} is not an audit Event", kind);
    return false;
  }
  if (!api.empty() && api != "audit.k8s.io/v1" && api != "audit.k8s.io/v1beta1") {
    *why = fmt::format("apiVersion {} is not audit.k8s.io/v1 or v1beta1", api);
    return false;
  }
  e.audit_id = str(o, "auditID");
  std::string stage = str(o, "stage");
  if (e.audit_id.empty() || stage.empty()) {
    *why = "no auditID or stage: not an audit event";
    return false;
  }
  e.stages = {stage};
  e.complete = isLastStage(stage);
  e.level = str(o, "level");
  e.verb = str(o, "verb");
  e.request_uri = str(o, "requestURI");
  e.user_agent = str(o, "userAgent");
  const rapidjson::Value& user = member(o, "user");
  e.user = str(user, "username");
  e.uid = str(user, "uid");
  e.groups = strings(member(user, "groups"));
  const rapidjson::Value& imp = member(o, "impersonatedUser");
  if (imp.IsObject()) {
    e.impersonated_user = str(imp, "username");
    e.impersonated_groups = strings(member(imp, "groups"));
  }
  e.source_ips = strings(member(o, "sourceIPs"));
  const rapidjson::Value& ref = member(o, "objectRef");
  e.resource = str(ref, "resource");
  e.subresource = str(ref, "subresource");
  e.namespace_ = str(ref, "namespace");
  e.name = str(ref, "name");
  e.api_group = str(ref, "apiGroup");
  e.api_version = str(ref, "apiVersion");
  const rapidjson::Value& status = member(o, "responseStatus");
  if (const rapidjson::Value& code = member(status, "code"); code.IsInt()) e.code = code.GetInt();
  e.status_reason = str(status, "reason");
  e.status_message = str(status, "message");
  const rapidjson::Value& ann = member(o, "annotations");
  e.decision = str(ann, "authorization.k8s.io/decision");
  e.authz_reason = str(ann, "authorization.k8s.io/reason");
  e.received = str(o, "requestReceivedTimestamp");
  e.completed = str(o, "stageTimestamp");
  if (const rapidjson::Value& r = member(o, "requestObject"); r.IsObject())
    e.request_object = toJson(r);
  if (const rapidjson::Value& r = member(o, "responseObject"); r.IsObject())
    e.response_object = toJson(r);
  return true;
}

// What eventFrom() requires of an event, checked without reading the rest: an object of kind
// Event (or none) and apiVersion audit.k8s.io/v1 or v1beta1 (or none), with an auditID and a
// stage.
bool isEventHeader(const rapidjson::Value& o) {
  if (!o.IsObject()) return false;
  std::string kind = str(o, "kind"), api = str(o, "apiVersion");
  if (!kind.empty() && kind != "Event") return false;
  if (!api.empty() && api != "audit.k8s.io/v1" && api != "audit.k8s.io/v1beta1") return false;
  const rapidjson::Value& id = member(o, "auditID");
  const rapidjson::Value& stage = member(o, "stage");
  return id.IsString() && id.GetStringLength() > 0 && stage.IsString() &&
         stage.GetStringLength() > 0;
}

// A later stage's news added to what the earlier ones said, read from the event where the
// request does not have it yet (the stages repeat most fields).
void mergeFrom(Event& into, const rapidjson::Value& o) {
  std::string stage = str(o, "stage");
  into.complete = into.complete || isLastStage(stage);
  into.stages.push_back(std::move(stage));
  auto fill = [](std::string& a, const rapidjson::Value& obj, const char* key) {
    if (a.empty()) a = str(obj, key);
  };
  fill(into.level, o, "level");
  fill(into.verb, o, "verb");
  fill(into.request_uri, o, "requestURI");
  fill(into.user_agent, o, "userAgent");
  const rapidjson::Value& user = member(o, "user");
  fill(into.user, user, "username");
  fill(into.uid, user, "uid");
  if (into.groups.empty()) into.groups = strings(member(user, "groups"));
  const rapidjson::Value& imp = member(o, "impersonatedUser");
  if (imp.IsObject()) {
    fill(into.impersonated_user, imp, "username");
    if (into.impersonated_groups.empty()) into.impersonated_groups = strings(member(imp, "groups"));
  }
  if (into.source_ips.empty()) into.source_ips = strings(member(o, "sourceIPs"));
  const rapidjson::Value& ref = member(o, "objectRef");
  fill(into.resource, ref, "resource");
  fill(into.subresource, ref, "subresource");
  fill(into.namespace_, ref, "namespace");
  fill(into.name, ref, "name");
  fill(into.api_group, ref, "apiGroup");
  fill(into.api_version, ref, "apiVersion");
  const rapidjson::Value& status = member(o, "responseStatus");
  if (const rapidjson::Value& code = member(status, "code"); code.IsInt() && code.GetInt() != 0) {
    into.code = code.GetInt();
    into.status_reason = str(status, "reason");
    into.status_message = str(status, "message");
  }
  const rapidjson::Value& ann = member(o, "annotations");
  if (std::string d = str(ann, "authorization.k8s.io/decision"); !d.empty())
    into.decision = std::move(d);
  if (std::string r = str(ann, "authorization.k8s.io/reason"); !r.empty())
    into.authz_reason = std::move(r);
  fill(into.received, o, "requestReceivedTimestamp");
  if (std::string c = str(o, "stageTimestamp"); !c.empty()) into.completed = std::move(c);
  if (into.request_object.empty())
    if (const rapidjson::Value& r = member(o, "requestObject"); r.IsObject())
      into.request_object = toJson(r);
  if (const rapidjson::Value& r = member(o, "responseObject"); r.IsObject())
    into.response_object = toJson(r);
}

}  // namespace

bool parseEvent(std::string_view json, Event& out, std::string* why) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.HasParseError()) {
    *why = fmt::format("not JSON ({} at byte {})", rapidjson::GetParseError_En(d.GetParseError()),
                       d.GetErrorOffset());
    return false;
  }
  return eventFrom(d, out, why);
}

namespace {

std::string nodeStr(const Node* n, std::string_view key) {
  return std::string(getStr(n, key));
}
std::vector<std::string> nodeStrings(const Node* n) {
  std::vector<std::string> out;
  for (const Node* s : seqOf(n))
    if (s->isString()) out.emplace_back(s->str());
  return out;
}

}  // namespace

bool eventFromNode(const Node* o, Event& e, std::string* why) {
  if (!o || !o->isMap()) {
    *why = "not an object";
    return false;
  }
  e = Event{};
  e.audit_id = nodeStr(o, "auditID");
  std::string stage = nodeStr(o, "stage");
  if (e.audit_id.empty() || stage.empty()) {
    *why = "no auditID or stage: not an audit event";
    return false;
  }
  e.stages = {stage};
  e.complete = isLastStage(stage);
  e.level = nodeStr(o, "level");
  e.verb = nodeStr(o, "verb");
  e.request_uri = nodeStr(o, "requestURI");
  e.user_agent = nodeStr(o, "userAgent");
  const Node* user = get(o, "user");
  e.user = nodeStr(user, "username");
  e.uid = nodeStr(user, "uid");
  e.groups = nodeStrings(get(user, "groups"));
  if (const Node* imp = get(o, "impersonatedUser"); imp && imp->isMap()) {
    e.impersonated_user = nodeStr(imp, "username");
    e.impersonated_groups = nodeStrings(get(imp, "groups"));
  }
  e.source_ips = nodeStrings(get(o, "sourceIPs"));
  const Node* ref = get(o, "objectRef");
  e.resource = nodeStr(ref, "resource");
  e.subresource = nodeStr(ref, "subresource");
  e.namespace_ = nodeStr(ref, "namespace");
  e.name = nodeStr(ref, "name");
  e.api_group = nodeStr(ref, "apiGroup");
  e.api_version = nodeStr(ref, "apiVersion");
  const Node* status = get(o, "responseStatus");
  if (const Node* code = get(status, "code"))
    if (auto v = code->asInt(); v && *v >= 0 && *v < 1000) e.code = static_cast<int>(*v);
  e.status_reason = nodeStr(status, "reason");
  e.status_message = nodeStr(status, "message");
  const Node* ann = get(o, "annotations");
  e.decision = nodeStr(ann, "authorization.k8s.io/decision");
  e.authz_reason = nodeStr(ann, "authorization.k8s.io/reason");
  e.received = nodeStr(o, "requestReceivedTimestamp");
  e.completed = nodeStr(o, "stageTimestamp");
  return true;
}

std::string eventToJson(const Event& e) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  auto str = [&](const char* key, const std::string& v) {
    if (v.empty()) return;
    w.Key(key);
    w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
  };
  auto strs = [&](const char* key, const std::vector<std::string>& v) {
    if (v.empty()) return;
    w.Key(key);
    w.StartArray();
    for (const std::string& s : v) w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    w.EndArray();
  };
  w.StartObject();
  str("kind", "Event");
  str("apiVersion", "audit.k8s.io/v1");
  str("level", e.level);
  str("auditID", e.audit_id);
  str("stage", e.stages.empty() ? std::string("ResponseComplete") : e.stages.back());
  str("requestURI", e.request_uri);
  str("verb", e.verb);
  w.Key("user");
  w.StartObject();
  str("username", e.user);
  str("uid", e.uid);
  strs("groups", e.groups);
  w.EndObject();
  if (!e.impersonated_user.empty()) {
    w.Key("impersonatedUser");
    w.StartObject();
    str("username", e.impersonated_user);
    strs("groups", e.impersonated_groups);
    w.EndObject();
  }
  strs("sourceIPs", e.source_ips);
  str("userAgent", e.user_agent);
  if (!e.resource.empty() || !e.namespace_.empty() || !e.name.empty() || !e.api_group.empty() ||
      !e.api_version.empty() || !e.subresource.empty()) {
    w.Key("objectRef");
    w.StartObject();
    str("resource", e.resource);
    str("namespace", e.namespace_);
    str("name", e.name);
    str("apiGroup", e.api_group);
    str("apiVersion", e.api_version);
    str("subresource", e.subresource);
    w.EndObject();
  }
  if (e.code != 0 || !e.status_message.empty()) {
    w.Key("responseStatus");
    w.StartObject();
    w.Key("code");
    w.Int(e.code);
    str("reason", e.status_reason);
    str("message", e.status_message);
    w.EndObject();
  }
  if (!e.request_object.empty()) {
    // Written by toJson from a parsed value: valid JSON, spliced in as it is.
    w.Key("requestObject");
    w.RawValue(e.request_object.data(), e.request_object.size(), rapidjson::kObjectType);
  }
  str("requestReceivedTimestamp", e.received);
  str("stageTimestamp", e.completed);
  if (!e.decision.empty() || !e.authz_reason.empty()) {
    w.Key("annotations");
    w.StartObject();
    str("authorization.k8s.io/decision", e.decision);
    str("authorization.k8s.io/reason", e.authz_reason);
    w.EndObject();
  }
  w.EndObject();
  return std::string(b.GetString(), b.GetSize());
}

// A file (or standard input) read through zlib, which reads plain files as they are and gzip
// files (several members too, as rotated and concatenated logs are) uncompressed.
struct EventReader::Source {
  std::string path;
  gzFile gz = nullptr;
  std::string buf;
  size_t pos = 0;
  bool eof = false;
  uint64_t line = 0;
  bool first_line = true;
  ~Source() {
    if (gz) gzclose(gz);
  }
};

EventReader::EventReader(std::vector<std::string> paths, ReaderOptions opts)
    : paths_(std::move(paths)), opts_(opts) {}
EventReader::EventReader(std::string name, std::string text, ReaderOptions opts) : opts_(opts) {
  src_ = std::make_unique<Source>();
  src_->path = std::move(name);
  src_->buf = std::move(text);
  src_->eof = true;
  stats_.bytes = src_->buf.size();
}
EventReader::~EventReader() = default;

void EventReader::malformed(const std::string& why) {
  ++stats_.malformed;
  if (stats_.malformed_examples.size() < opts_.max_examples)
    stats_.malformed_examples.push_back(fmt::format("{}:{}: {}", src_->path, src_->line, why));
}

bool EventReader::readLine(std::string& line) {
  for (;;) {
    if (!src_) {
      if (next_path_ >= paths_.size()) return false;
      auto s = std::make_unique<Source>();
      s->path = paths_[next_path_++];
      if (s->path == "-") {
        s->gz = gzdopen(dup(STDIN_FILENO), "rb");
        s->path = "<stdin>";
      } else {
        s->gz = gzopen(s->path.c_str(), "rb");
      }
      if (!s->gz) {
        stats_.errors.push_back(fmt::format("{}: {}", s->path, std::strerror(errno)));
        continue;
      }
      gzbuffer(s->gz, 256 * 1024);
      src_ = std::move(s);
    }
    Source& s = *src_;
    size_t nl = s.buf.find('\n', s.pos);
    while (nl == std::string::npos && !s.eof) {
      if (s.pos > 0) {
        s.buf.erase(0, s.pos);
        s.pos = 0;
      }
      if (s.buf.size() > kMaxLine) break;
      size_t old = s.buf.size();
      s.buf.resize(old + kChunk);
      int n = gzread(s.gz, s.buf.data() + old, static_cast<unsigned>(kChunk));
      if (n < 0) {
        int err = 0;
        const char* msg = gzerror(s.gz, &err);
        stats_.errors.push_back(
            fmt::format("{}: {} (after line {})", s.path, msg ? msg : "read error", s.line));
        s.buf.resize(old);
        s.eof = true;
        break;
      }
      s.buf.resize(old + static_cast<size_t>(n));
      stats_.bytes += static_cast<uint64_t>(n);
      if (n == 0) s.eof = true;
      nl = s.buf.find('\n', old);
    }
    if (nl == std::string::npos && s.buf.size() - s.pos > kMaxLine) {
      ++s.line;
      malformed(fmt::format("a line longer than {} MiB", kMaxLine >> 20));
      // Skip to the end of that line.
      while (nl == std::string::npos && !s.eof) {
        s.buf.clear();
        s.pos = 0;
        s.buf.resize(kChunk);
        int n = gzread(s.gz, s.buf.data(), static_cast<unsigned>(kChunk));
        s.buf.resize(n > 0 ? static_cast<size_t>(n) : 0);
        if (n <= 0) s.eof = true;
        nl = s.buf.find('\n');
      }
      if (nl == std::string::npos) {
        src_.reset();
        continue;
      }
      s.pos = nl + 1;
      continue;
    }
    if (nl == std::string::npos) {
      if (s.pos >= s.buf.size()) {  // the file is done
        src_.reset();
        continue;
      }
      line.assign(s.buf, s.pos, std::string::npos);  // the last line, without a newline
      s.pos = s.buf.size();
    } else {
      line.assign(s.buf, s.pos, nl - s.pos);
      s.pos = nl + 1;
    }
    ++s.line;
    return true;
  }
}

void EventReader::take(std::string& line) {
  ++stats_.lines;
  size_t start = line.find_first_not_of(" \t\r");
  if (start == std::string::npos) return;  // blank
  bool first = src_->first_line;
  src_->first_line = false;
  // Parsed in place over a copy (the line itself is needed whole if it begins a pretty-printed
  // document), with the allocators' first blocks on the stack: a typical event costs no
  // allocation and no string copy inside the parser. A NUL byte would end an in-place parse
  // early, so such a line is parsed by length (and refused).
  scratch_.assign(line, start, std::string::npos);
  char values[32 * 1024];
  char stack[4 * 1024];
  rapidjson::MemoryPoolAllocator<> value_alloc(values, sizeof values);
  rapidjson::MemoryPoolAllocator<> stack_alloc(stack, sizeof stack);
  rapidjson::GenericDocument<rapidjson::UTF8<>, rapidjson::MemoryPoolAllocator<>,
                             rapidjson::MemoryPoolAllocator<>>
      d(&value_alloc, sizeof stack, &stack_alloc);
  if (scratch_.find('\0') == std::string::npos)
    d.ParseInsitu(scratch_.data());
  else
    d.Parse(scratch_.data(), scratch_.size());
  if (d.HasParseError() && first && line[start] == '{') {
    // A pretty-printed document (an EventList the webhook backend sent, saved whole): the rest
    // of the file is part of it.
    Source& s = *src_;
    uint64_t at = s.line;
    std::string doc = line.substr(start);
    doc += '\n';
    doc.append(s.buf, s.pos, std::string::npos);
    s.pos = s.buf.size();
    while (!s.eof && doc.size() <= kMaxDocument) {
      std::string chunk(kChunk, '\0');
      int n = gzread(s.gz, chunk.data(), static_cast<unsigned>(kChunk));
      if (n <= 0) {
        s.eof = true;
        break;
      }
      stats_.bytes += static_cast<uint64_t>(n);
      doc.append(chunk.data(), static_cast<size_t>(n));
    }
    rapidjson::Document whole;
    whole.Parse(doc.data(), doc.size());
    s.line = at;  // a whole document is reported at its first line
    if (whole.HasParseError()) {
      // Not one document after all: JSON lines whose first line is broken. Put back what was
      // read after it and go on line by line.
      s.buf = doc.substr(line.size() - start + 1);
      s.pos = 0;
      malformed(fmt::format("not JSON ({} at byte {})",
                            rapidjson::GetParseError_En(d.GetParseError()), d.GetErrorOffset()));
      return;
    }
    takeParsed(whole);
    return;
  }
  if (d.HasParseError()) {
    malformed(fmt::format("not JSON ({} at byte {})",
                          rapidjson::GetParseError_En(d.GetParseError()), d.GetErrorOffset()));
    return;
  }
  takeParsed(d);
}

void EventReader::takeParsed(const rapidjson::Value& d) {
  auto one = [&](const rapidjson::Value& v) {
    // A later stage of a request in flight: only what it adds is read (most of a log's events
    // are second and third stages, which repeat the first).
    if (opts_.merge && isEventHeader(v)) {
      const rapidjson::Value& id = member(v, "auditID");
      auto it = in_flight_.find(std::string_view(id.GetString(), id.GetStringLength()));
      if (it != in_flight_.end()) {
        ++stats_.events;
        mergeFrom(it->second, v);
        if (it->second.complete) {
          ready_.push_back(std::move(it->second));
          in_flight_.erase(it);
        }
        return;
      }
    }
    Event e;
    std::string why;
    if (!eventFrom(v, e, &why)) {
      malformed(why);
      return;
    }
    e.file = src_->path;
    e.line = src_->line;
    ++stats_.events;
    addEvent(std::move(e));
  };
  if (str(d, "kind") == "EventList") {
    const rapidjson::Value& items = member(d, "items");
    if (!items.IsArray()) {
      malformed("an EventList without items");
      return;
    }
    for (const auto& item : items.GetArray()) one(item);
    return;
  }
  one(d);
}

void EventReader::addEvent(Event&& e) {
  // A request's first stage read: its later stages are merged into it in place (mergeFrom, in
  // takeParsed), so it is never in flight already here.
  if (!opts_.merge || e.complete) {  // complete: logged at its last stage only
    ready_.push_back(std::move(e));
    return;
  }
  std::string id = e.audit_id;
  order_.push_back(id);
  in_flight_.emplace(std::move(id), std::move(e));
  // Bounded: the oldest request still waiting is handed on as it is.
  while (in_flight_.size() > opts_.max_in_flight && !order_.empty()) {
    auto old = in_flight_.find(order_.front());
    order_.pop_front();
    if (old == in_flight_.end()) continue;
    ready_.push_back(std::move(old->second));
    in_flight_.erase(old);
    ++stats_.evicted;
  }
  // Forget the order of requests already handed on, now and then.
  if (order_.size() > 2 * in_flight_.size() + 1024) {
    std::deque<std::string> live;
    for (std::string& id : order_)
      if (in_flight_.count(id)) live.push_back(std::move(id));
    order_ = std::move(live);
  }
}

bool EventReader::next(Event& out) {
  std::string& line = line_;  // kept: its capacity serves every line
  for (;;) {
    if (!ready_.empty()) {
      out = std::move(ready_.front());
      ready_.pop_front();
      ++stats_.requests;
      return true;
    }
    if (readLine(line)) {
      const std::string& must = opts_.line_must_contain;
      if (!must.empty() && !src_->first_line &&
          !memmem(line.data(), line.size(), must.data(), must.size())) {
        ++stats_.lines;
        ++stats_.skipped;
        continue;
      }
      take(line);
      continue;
    }
    // Every file read: the requests whose last stage never came, in the order they began.
    for (const std::string& id : order_) {
      auto it = in_flight_.find(id);
      if (it == in_flight_.end()) continue;
      ready_.push_back(std::move(it->second));
      in_flight_.erase(it);
    }
    order_.clear();
    if (ready_.empty()) return false;
  }
}

}  // namespace kh::audit
