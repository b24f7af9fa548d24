// Reading the API server's audit logs (docs/audit.md, "Audit logs"): audit.k8s.io/v1 (and
// v1beta1) Events, one JSON object per line as the log backend writes them, or EventList
// documents as the webhook backend sends them (a line each, or a whole file, pretty-printed or
// not), plain or gzip-compressed (rotated logs), from files or standard input.
//
// Streaming: a file is read in chunks and an event is parsed and handed on before the next is
// read, so memory does not grow with the log's size. The stages of one request (RequestReceived,
// ResponseStarted, ResponseComplete, Panic: the same auditID) are merged into one Request,
// handed on when its last stage arrives (or at the end, for requests whose last stage is not in
// the logs); only requests in flight are held, up to a bound. A line that is not an event is
// counted and reported with its file:line, never fatal.
#pragma once

#include <rapidjson/fwd.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "model/node.h"

namespace kh::audit {

// One request as its audit events tell it (the stages merged).
struct Event {
  std::string file;  // where its first event is
  uint64_t line = 0;
  std::string audit_id, level, verb, request_uri, user_agent;
  std::vector<std::string> stages;  // in the order read
  std::string user, uid;
  std::vector<std::string> groups;
  std::string impersonated_user;  // set when the request impersonated someone: `user` is who asked
  std::vector<std::string> impersonated_groups;
  std::vector<std::string> source_ips;
  // objectRef
  std::string resource, subresource, namespace_, name, api_group, api_version;
  // responseStatus (from the last stage that has one)
  int code = 0;
  std::string status_reason, status_message;
  // annotations: the authorizer's decision ("allow", "forbid") and its reason
  std::string decision, authz_reason;
  std::string received, completed;  // requestReceivedTimestamp, the last stageTimestamp
  // The request and response bodies as JSON text, when the level logged them.
  std::string request_object, response_object;
  bool complete = false;  // ResponseComplete or Panic was read
};

struct ReadStats {
  uint64_t lines = 0, events = 0, requests = 0, malformed = 0, bytes = 0;
  // The first malformed lines, "file:line: why" (the rest are only counted).
  std::vector<std::string> malformed_examples;
  // Files that could not be read (missing, not gzip after a gzip header, ...): "file: why".
  std::vector<std::string> errors;
  uint64_t evicted = 0;  // requests handed on before their last stage (over the in-flight bound)
  uint64_t skipped = 0;  // lines left unparsed (ReaderOptions::line_must_contain)
};

struct ReaderOptions {
  bool merge = true;              // merge stages by auditID
  size_t max_in_flight = 100000;  // requests held waiting for their last stage
  size_t max_examples = 20;
  // When set, a line without this string is counted (ReadStats::skipped) and not parsed: a
  // reader that wants one user's requests names the user. The first line of a file is always
  // parsed (it may begin a pretty-printed document).
  std::string line_must_contain;
};

class EventReader {
 public:
  // `paths`: files, or "-" for standard input; read in order.
  explicit EventReader(std::vector<std::string> paths, ReaderOptions opts = {});
  // Reads `text` (plain, not compressed) as if it were the file `name`: tests and the fuzzer.
  EventReader(std::string name, std::string text, ReaderOptions opts = {});
  ~EventReader();
  EventReader(const EventReader&) = delete;
  EventReader& operator=(const EventReader&) = delete;

  // The next request, or false when every file is read and nothing is in flight.
  bool next(Event& out);
  const ReadStats& stats() const { return stats_; }

 private:
  struct Source;
  bool readLine(std::string& line);  // from the current file, opening the next one as needed
  void take(std::string& line);      // parse one line (or a whole EventList) into ready_
  void takeParsed(const rapidjson::Value& doc);  // an Event or an EventList
  void addEvent(Event&& e);                      // merge or hand on
  void malformed(const std::string& why);

  std::vector<std::string> paths_;
  ReaderOptions opts_;
  size_t next_path_ = 0;
  std::unique_ptr<Source> src_;
  ReadStats stats_;
  std::deque<Event> ready_;
  struct IdHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, Event, IdHash, std::equal_to<>> in_flight_;
  std::deque<std::string> order_;  // auditIDs in the order their first stage came
  std::string scratch_;            // the line being parsed in place
  std::string line_;               // the line read
};

// Parses one event object (JSON text) into `out`; false with `why` when it is not an event.
bool parseEvent(std::string_view json, Event& out, std::string* why);

// The same from an event already parsed into the model (an Event object of a scanned file, or
// the one eventToJson wrote): the detections read events this way. Bodies are left out (they
// are nodes of the object already: `requestObject`, `responseObject`).
bool eventFromNode(const Node* root, Event& out, std::string* why);

// One request's merged stages as one audit.k8s.io/v1 Event (JSON, one line) at its last stage
// read, with the request body when logged (not the response: no detection reads it). What
// `audit detect` hands to the checks.
std::string eventToJson(const Event& e);

}  // namespace kh::audit
