// `kubeharden audit detect` (docs/audit.md, "Detections"): the audit-event-* checks over logs.
// The prefilter (wants(), on the reader's fields) never drops an event a check would report, and
// the event rewritten for the checks says what the log said: every fixture event read as a log
// line gives the findings it gives as a scanned document. End to end: findings at file:line,
// the window, malformed lines, allow-lists from the config file, formats and exit codes.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <zlib.h>

#include <filesystem>
#include <map>
#include <set>

#include "audit/events.h"
#include "checks/audit/audit_event_checks.h"
#include "checks/registry.h"
#include "tests/unit/audit_gen.h"
#include "tests/unit/test_util.h"

namespace kh::test {
namespace audit_detect_tests {

namespace fs = std::filesystem;

void writeNode(rapidjson::Writer<rapidjson::StringBuffer>& w, const Node* n) {
  switch (n->type) {
    case NodeType::kMap:
      w.StartObject();
      for (const MapEntry& e : n->mapEntries()) {
        w.Key(e.key.data(), static_cast<rapidjson::SizeType>(e.key.size()));
        writeNode(w, e.value);
      }
      w.EndObject();
      break;
    case NodeType::kSeq:
      w.StartArray();
      for (const Node* i : n->seqItems()) writeNode(w, i);
      w.EndArray();
      break;
    case NodeType::kInt:
      w.Int64(n->int_value);
      break;
    case NodeType::kBool:
      w.Bool(n->bool_value);
      break;
    case NodeType::kNull:
      w.Null();
      break;
    default:
      w.String(n->text.data(), static_cast<rapidjson::SizeType>(n->text.size()));
  }
}

std::string jsonLine(const Node* n) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  writeNode(w, n);
  return b.GetString();
}

using Key = std::tuple<std::string, std::string, std::string>;  // check, rule, path

std::set<Key> eventFindings(const std::vector<Finding>& fs) {
  std::set<Key> out;
  for (const Finding& f : fs)
    if (f.check_id.starts_with("audit-event-"))
      out.emplace(std::string(f.check_id), std::string(f.rule), f.path);
  return out;
}

TEST(AuditDetect, LogLinesGiveTheFindingsTheirDocumentsGive) {
  std::vector<std::unique_ptr<Check>> checks = makeCatalogue();
  std::vector<const AuditEventCheck*> detections;
  for (const auto& c : checks)
    if (const auto* d = dynamic_cast<const AuditEventCheck*>(c.get())) detections.push_back(d);
  ASSERT_GE(detections.size(), 14u);
  size_t events = 0, with_findings = 0, wanted = 0;
  for (const auto& dir : fs::directory_iterator(fs::path(KH_SOURCE_DIR) / "tests" / "checks")) {
    if (!dir.path().filename().string().starts_with("audit-event-")) continue;
    for (const auto& f : fs::recursive_directory_iterator(dir.path())) {
      if (!f.is_regular_file()) continue;
      std::string text = readFile(f.path().string());
      if (text.find("# options:") != std::string::npos) continue;  // allow-lists: below
      auto file = loadText(text, f.path().string());
      for (const Object& o : file->objects) {
        ++events;
        SourceFile one;
        auto doc = loadText(jsonLine(o.root), "doc.json");
        std::set<Key> as_document = eventFindings(runAllChecks(*doc));
        // Through the reader, as a log line, then rewritten as audit detect hands it on.
        audit::EventReader reader("audit.log", jsonLine(o.root) + "\n");
        audit::Event e;
        ASSERT_TRUE(reader.next(e)) << f.path();
        bool wants = std::any_of(detections.begin(), detections.end(),
                                 [&](const AuditEventCheck* d) { return d->wants(e); });
        wanted += wants;
        std::set<Key> as_log;
        if (wants) as_log = eventFindings(runAllChecks(*loadText(audit::eventToJson(e), "l.json")));
        EXPECT_EQ(as_log, as_document) << f.path() << " event " << o.ref.name;
        with_findings += !as_document.empty();
      }
    }
  }
  EXPECT_GE(events, 35u);
  EXPECT_GE(with_findings, 15u);
  EXPECT_LT(wanted, events);  // the prefilter does leave events out
}

const char* kLog =
    R"({"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods?limit=500","verb":"list","user":{"username":"system:serviceaccount:kube-system:replicaset-controller"},"sourceIPs":["10.0.0.2"],"userAgent":"kube-controller-manager","objectRef":{"resource":"pods","namespace":"default","apiVersion":"v1"},"responseStatus":{"code":200},"requestReceivedTimestamp":"2026-12-07T10:00:00.000001Z","stageTimestamp":"2026-12-07T10:00:00.010000Z","annotations":{"authorization.k8s.io/decision":"allow"}}
{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"a2","stage":"RequestReceived","requestURI":"/api/v1/namespaces/default/pods","verb":"create","user":{"username":"alice"},"sourceIPs":["192.0.2.7"],"userAgent":"kubectl/v1.35.2","objectRef":{"resource":"pods","namespace":"default","name":"debug","apiVersion":"v1"},"requestReceivedTimestamp":"2026-12-07T10:01:00.000000Z","stageTimestamp":"2026-12-07T10:01:00.000000Z"}
{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"a2","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods","verb":"create","user":{"username":"alice"},"sourceIPs":["192.0.2.7"],"userAgent":"kubectl/v1.35.2","objectRef":{"resource":"pods","namespace":"default","name":"debug","apiVersion":"v1"},"responseStatus":{"code":201},"requestObject":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"debug"},"spec":{"containers":[{"name":"sh","image":"busybox","securityContext":{"privileged":true}}]}},"requestReceivedTimestamp":"2026-12-07T10:01:00.000000Z","stageTimestamp":"2026-12-07T10:01:00.100000Z","annotations":{"authorization.k8s.io/decision":"allow"}}
not json
{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a3","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/kube-system/secrets/admin-token","verb":"get","user":{"username":"system:serviceaccount:default:app"},"sourceIPs":["10.244.1.9"],"userAgent":"curl/8.0","objectRef":{"resource":"secrets","namespace":"kube-system","name":"admin-token","apiVersion":"v1"},"responseStatus":{"code":403},"requestReceivedTimestamp":"2026-12-07T10:02:00.000000Z","stageTimestamp":"2026-12-07T10:02:00.000100Z","annotations":{"authorization.k8s.io/decision":"forbid"}}
{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a4","stage":"ResponseStarted","requestURI":"/api/v1/namespaces/default/pods/web-1/exec?command=sh","verb":"create","user":{"username":"bob"},"impersonatedUser":{"username":"system:serviceaccount:ops:deployer"},"sourceIPs":["198.51.100.4"],"userAgent":"kubectl/v1.35.2","objectRef":{"resource":"pods","namespace":"default","name":"web-1","apiVersion":"v1","subresource":"exec"},"responseStatus":{"code":101},"requestReceivedTimestamp":"2026-12-07T10:03:00.000000Z","stageTimestamp":"2026-12-07T10:03:00.200000Z","annotations":{"authorization.k8s.io/decision":"allow"}}
)";

TEST(AuditDetect, FindingsAtTheirLinesWithWhoWhatWhenAndWhere) {
  TempDir d;
  d.write("audit.log", kLog);
  auto r = runCli("audit detect audit.log", d.path());
  EXPECT_EQ(r.exit_code, 1) << r.err;  // a critical finding, --fail-on high
  EXPECT_NE(r.out.find("audit.log:2:1 critical audit-event-pod-insecure container \"sh\""),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("alice create pods default/debug, allowed (201), at "
                       "2026-12-07T10:01:00.000000Z, from 192.0.2.7 (kubectl/v1.35.2)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("audit.log:5:1 medium audit-event-secret-read-denied"), std::string::npos);
  EXPECT_NE(r.out.find("audit.log:6:1 medium audit-event-exec a command run in a container: "
                       "system:serviceaccount:ops:deployer (impersonated by bob) create pods/exec "
                       "default/web-1"),
            std::string::npos)
      << r.out;
  // The controller's list is nobody's finding; the broken line is reported, not fatal.
  EXPECT_EQ(r.out.find("replicaset-controller"), std::string::npos);
  EXPECT_NE(r.out.find("audit.log:4: not JSON"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("4 requests: 3 findings"), std::string::npos) << r.out;
  // Deterministic, and the same from standard input and from a gzip file.
  EXPECT_EQ(runCli("audit detect audit.log", d.path()).out, r.out);
  gzFile gz = gzopen((d.path() + "/audit.log.gz").c_str(), "wb");
  gzwrite(gz, kLog, static_cast<unsigned>(std::strlen(kLog)));
  gzclose(gz);
  auto z = runCli("audit detect audit.log.gz --fail-on none", d.path());
  EXPECT_EQ(z.exit_code, 0);
  EXPECT_NE(z.out.find("audit.log.gz:6:1 medium audit-event-exec"), std::string::npos) << z.out;

  // JSON: the logs read, and each finding's event.
  auto j = runCli("audit detect audit.log -f json --since 2026-12-07T10:02:00Z", d.path());
  rapidjson::Document doc;
  doc.Parse(j.out.c_str());
  ASSERT_FALSE(doc.HasParseError()) << j.out;
  EXPECT_EQ(doc["audit"]["requests"].GetUint(), 4u);
  EXPECT_EQ(doc["audit"]["outsideWindow"].GetUint(), 2u);
  EXPECT_EQ(doc["audit"]["judged"].GetUint(), 2u);
  EXPECT_EQ(doc["audit"]["malformed"].GetUint(), 1u);
  ASSERT_EQ(doc["findings"].Size(), 2u);
  EXPECT_STREQ(doc["findings"][0]["check"].GetString(), "audit-event-secret-read-denied");
  EXPECT_EQ(doc["findings"][0]["line"].GetUint(), 5u);
  EXPECT_STREQ(doc["findings"][0]["object"]["name"].GetString(), "a3");  // the auditID
  EXPECT_STREQ(doc["findings"][1]["rule"].GetString(), "exec");
  // --until excludes its own instant.
  auto u = runCli("audit detect audit.log -f json --until 2026-12-07T10:01:00Z", d.path());
  EXPECT_NE(u.out.find(R"("findings":[])"), std::string::npos) << u.out;
  EXPECT_EQ(u.exit_code, 0);
  // SARIF carries the log's file and line.
  auto s = runCli("audit detect audit.log -f sarif --fail-on none", d.path());
  EXPECT_NE(s.out.find(R"("uri":"audit.log")"), std::string::npos) << s.out.substr(0, 400);
  EXPECT_NE(s.out.find(R"("startLine":6)"), std::string::npos);
}

TEST(AuditDetect, AllowListsComeFromTheConfigFile) {
  TempDir d;
  d.write("audit.log", kLog);
  d.write("kh.yaml", R"(checks:
  options:
    audit-event-user-not-allowed:
      allow: [alice, "system:serviceaccount:default:*"]
)");
  auto r = runCli("audit detect audit.log --config kh.yaml --fail-on none", d.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // bob is not listed (the controller is the control plane's, always allowed).
  EXPECT_NE(r.out.find("audit-event-user-not-allowed user bob is not in the allow-list"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("user alice is not"), std::string::npos);
  EXPECT_EQ(r.out.find("replicaset-controller is not"), std::string::npos);
  d.write("bad.yaml", "checks:\n  options:\n    audit-event-user-not-allowed: {users: [x]}\n");
  auto b = runCli("audit detect audit.log --config bad.yaml", d.path());
  EXPECT_EQ(b.exit_code, 2);
  EXPECT_NE(b.err.find("unknown option 'users'"), std::string::npos) << b.err;
}

TEST(AuditDetect, InputAndUsageErrors) {
  TempDir d;
  d.write("audit.log", kLog);
  d.write("empty.log", "not an event\n");
  auto missing = runCli("audit detect audit.log nope.log", d.path());
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_NE(missing.err.find("nope.log"), std::string::npos) << missing.err;
  auto none = runCli("audit detect empty.log", d.path());
  EXPECT_EQ(none.exit_code, 3);
  EXPECT_NE(none.err.find("no audit events in empty.log"), std::string::npos) << none.err;
  auto since = runCli("audit detect audit.log --since yesterday", d.path());
  EXPECT_EQ(since.exit_code, 2);
  EXPECT_NE(since.err.find("--since: 'yesterday' is not a time"), std::string::npos);
  // A date, and an offset, are times.
  EXPECT_EQ(runCli("audit detect audit.log --since 2026-12-08 --fail-on none", d.path()).exit_code,
            0);
  auto off = runCli("audit detect audit.log -f json --since 2026-12-07T11:02:30+01:00", d.path());
  EXPECT_NE(off.out.find(R"("outsideWindow":3)"), std::string::npos) << off.out.substr(0, 300);
}

// A generated log (tests/unit/audit_gen.h): thousands of ordinary requests of components and
// people, nobody's finding, and planted suspicious ones: exactly those are reported, each once.
TEST(AuditDetect, AGeneratedLogGivesExactlyThePlantedFindings) {
  TempDir d;
  AuditGenOptions o;
  o.requests = 20000;
  o.planted_every = 100;
  std::string log;
  AuditGenStats st = generateAuditLog(o, [&](std::string_view s) { log.append(s); });
  d.write("audit.log", log);
  EXPECT_EQ(st.requests, 20000u);
  EXPECT_GT(st.events, 2 * st.requests);  // every request has 2 or 3 stages
  uint64_t planted = 0;
  for (const auto& [id, n] : st.planted) planted += n;
  EXPECT_EQ(planted, 200u);
  EXPECT_EQ(st.planted.size(), 6u);

  auto r = runCli("audit detect audit.log -f json --fail-on none", d.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  rapidjson::Document doc;
  doc.Parse(r.out.c_str());
  ASSERT_FALSE(doc.HasParseError());
  std::map<std::string, uint64_t> found;
  for (const auto& f : doc["findings"].GetArray()) ++found[f["check"].GetString()];
  EXPECT_EQ(found, st.planted);
  EXPECT_EQ(doc["audit"]["requests"].GetUint64(), st.requests);
  EXPECT_EQ(doc["audit"]["events"].GetUint64(), st.events);
  EXPECT_EQ(doc["audit"]["malformed"].GetUint64(), 0u);
  // Most of the log is left to the prefilter: only candidates reach the checks.
  EXPECT_LT(doc["audit"]["judged"].GetUint64(), st.requests / 5);
  // Reproducible for a seed, different for another.
  std::string again;
  generateAuditLog(o, [&](std::string_view s) { again.append(s); });
  EXPECT_EQ(again, log);
  o.seed = 2;
  std::string other;
  generateAuditLog(o, [&](std::string_view s) { other.append(s); });
  EXPECT_NE(other, log);
}

}  // namespace audit_detect_tests
}  // namespace kh::test
