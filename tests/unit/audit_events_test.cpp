// Reading audit logs (audit/events.h): JSON lines, EventList documents (a line each, or a whole
// pretty-printed file), gzip with several members, v1beta1; stages of one request merged and
// handed on when the last arrives; malformed lines counted at file:line and the rest still read;
// a bound on requests in flight.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include "audit/events.h"
#include "tests/unit/test_util.h"

namespace kh::audit {
namespace {

// One audit event as the API server's log backend writes it.
std::string event(const std::string& id, const std::string& stage, const std::string& verb,
                  const std::string& resource, const std::string& ns, int code = 0,
                  const std::string& extra = "", const std::string& api = "audit.k8s.io/v1") {
  return fmt::format(
      R"({{"kind":"Event","apiVersion":"{}","level":"Metadata","auditID":"{}","stage":"{}",)"
      R"("requestURI":"/api/v1/namespaces/{}/{}","verb":"{}","user":{{"username":"alice",)"
      R"("uid":"u-1","groups":["dev","system:authenticated"]}},"sourceIPs":["10.0.0.7"],)"
      R"("userAgent":"kubectl/v1.31.0","objectRef":{{"resource":"{}","namespace":"{}",)"
      R"("apiVersion":"v1"}},{}{}"requestReceivedTimestamp":"2026-12-01T10:00:00.000001Z",)"
      R"("stageTimestamp":"2026-12-01T10:00:0{}.000000Z"}})",
      api, id, stage, ns, resource, verb, resource, ns,
      code ? fmt::format(R"("responseStatus":{{"metadata":{{}},"code":{}}},)", code) : "", extra,
      stage == "RequestReceived" ? 0 : 1);
}

std::vector<Event> readAll(const std::vector<std::string>& paths, ReadStats* stats = nullptr,
                           ReaderOptions o = {}) {
  EventReader r(paths, o);
  std::vector<Event> out;
  Event e;
  while (r.next(e)) out.push_back(e);
  if (stats) *stats = r.stats();
  return out;
}

void gzipTo(const std::string& path, const std::vector<std::string>& members) {
  for (size_t i = 0; i < members.size(); ++i) {
    gzFile f = gzopen(path.c_str(), i == 0 ? "wb" : "ab");  // "ab": a second gzip member
    ASSERT_NE(f, nullptr);
    gzwrite(f, members[i].data(), static_cast<unsigned>(members[i].size()));
    gzclose(f);
  }
}

TEST(AuditEvents, StagesOfOneRequestAreMerged) {
  test::TempDir d;
  std::string log = d.write(
      "audit.log",
      event("a1", "RequestReceived", "create", "pods", "shop") + "\n" +
          event("b2", "RequestReceived", "get", "secrets", "shop") + "\n" +
          event("a1", "ResponseStarted", "create", "pods", "shop") + "\n" +
          event(
              "b2", "ResponseComplete", "get", "secrets", "shop", 403,
              R"("annotations":{"authorization.k8s.io/decision":"forbid","authorization.k8s.io/reason":""},)") +
          "\n" +
          event(
              "a1", "ResponseComplete", "create", "pods", "shop", 201,
              R"("annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: allowed by RoleBinding \"dev\""},)"));
  ReadStats stats;
  auto events = readAll({log}, &stats);
  ASSERT_EQ(events.size(), 2u);
  // In the order their last stage came.
  EXPECT_EQ(events[0].audit_id, "b2");
  EXPECT_EQ(events[0].code, 403);
  EXPECT_EQ(events[0].decision, "forbid");
  EXPECT_EQ(events[0].line, 2u);
  EXPECT_EQ(events[1].audit_id, "a1");
  EXPECT_EQ(events[1].stages,
            (std::vector<std::string>{"RequestReceived", "ResponseStarted", "ResponseComplete"}));
  EXPECT_EQ(events[1].code, 201);
  EXPECT_EQ(events[1].decision, "allow");
  EXPECT_EQ(events[1].authz_reason, "RBAC: allowed by RoleBinding \"dev\"");
  EXPECT_EQ(events[1].user, "alice");
  EXPECT_EQ(events[1].groups, (std::vector<std::string>{"dev", "system:authenticated"}));
  EXPECT_EQ(events[1].source_ips, (std::vector<std::string>{"10.0.0.7"}));
  EXPECT_EQ(events[1].resource, "pods");
  EXPECT_EQ(events[1].namespace_, "shop");
  EXPECT_EQ(events[1].file, log);
  EXPECT_EQ(events[1].line, 1u);  // where the request's first event is
  EXPECT_EQ(events[1].received, "2026-12-01T10:00:00.000001Z");
  EXPECT_EQ(events[1].completed, "2026-12-01T10:00:01.000000Z");
  EXPECT_TRUE(events[1].complete);
  EXPECT_EQ(stats.lines, 5u);
  EXPECT_EQ(stats.events, 5u);
  EXPECT_EQ(stats.requests, 2u);
  EXPECT_EQ(stats.malformed, 0u);
  // Unmerged: every event on its own.
  ReaderOptions raw;
  raw.merge = false;
  EXPECT_EQ(readAll({log}, nullptr, raw).size(), 5u);
}

TEST(AuditEvents, GzipEventListsAndV1beta1) {
  test::TempDir d;
  std::string one = event("c3", "ResponseComplete", "delete", "configmaps", "ops", 200) + "\n";
  std::string two =
      event("d4", "ResponseComplete", "list", "pods", "ops", 200, "", "audit.k8s.io/v1beta1") +
      "\n";
  std::string gz = d.path() + "/audit.log.1.gz";
  gzipTo(gz, {one, two});  // two gzip members, as concatenated rotated logs are
  auto fromGz = readAll({gz});
  ASSERT_EQ(fromGz.size(), 2u);
  EXPECT_EQ(fromGz[0].verb, "delete");
  EXPECT_EQ(fromGz[1].verb, "list");
  EXPECT_EQ(fromGz[1].line, 2u);
  // An EventList on a line, and one pretty-printed over a whole file (the webhook backend's).
  std::string list =
      fmt::format(R"({{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{},{}]}})",
                  event("e5", "ResponseComplete", "get", "pods", "a", 200),
                  event("f6", "ResponseComplete", "get", "pods", "b", 200));
  std::string lines = d.write("batches.log", list + "\n" + list + "\n");
  ReadStats stats;
  EXPECT_EQ(readAll({lines}, &stats).size(), 4u);  // two batches of two complete requests
  EXPECT_EQ(stats.events, 4u);
  std::string pretty = list;
  for (size_t at = 0; (at = pretty.find(",\"", at)) != std::string::npos; at += 3)
    pretty.replace(at, 2, ",\n  \"");
  std::string whole = d.write("batch.json", pretty);
  auto fromWhole = readAll({whole});
  ASSERT_EQ(fromWhole.size(), 2u);
  EXPECT_EQ(fromWhole[1].namespace_, "b");
  EXPECT_EQ(fromWhole[1].line, 1u);
  // Several files in order.
  auto all = readAll({gz, whole});
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[3].file, whole);
}

TEST(AuditEvents, MalformedLinesAreCountedAndTheRestRead) {
  test::TempDir d;
  std::string log = d.write(
      "audit.log",
      std::string("{\"kind\": \"Event\", truncated\n") +
          event("a1", "ResponseComplete", "get", "pods", "x", 200) + "\n\n" +
          R"({"kind":"Pod","apiVersion":"v1"})" + "\nnot json at all\n" +
          R"({"kind":"Event","apiVersion":"audit.k8s.io/v1","stage":"ResponseComplete"})" + "\n" +
          event("b2", "ResponseComplete", "get", "pods", "x", 200));  // no newline at the end
  ReadStats stats;
  auto events = readAll({log, d.path() + "/missing.log"}, &stats);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].line, 2u);
  EXPECT_EQ(events[1].line, 7u);
  EXPECT_EQ(stats.malformed, 4u);
  ASSERT_EQ(stats.malformed_examples.size(), 4u);
  EXPECT_TRUE(stats.malformed_examples[0].starts_with(log + ":1: not JSON"))
      << stats.malformed_examples[0];
  EXPECT_EQ(stats.malformed_examples[1], log + ":4: kind Pod is not an audit Event");
  EXPECT_TRUE(stats.malformed_examples[2].starts_with(log + ":5: not JSON"));
  EXPECT_EQ(stats.malformed_examples[3], log + ":6: no auditID or stage: not an audit event");
  ASSERT_EQ(stats.errors.size(), 1u);
  EXPECT_NE(stats.errors[0].find("missing.log: No such file"), std::string::npos)
      << stats.errors[0];
}

TEST(AuditEvents, RequestsInFlightAreBounded) {
  test::TempDir d;
  std::string text;
  for (int i = 0; i < 5; ++i)
    text += event(fmt::format("r{}", i), "RequestReceived", "watch", "pods", "x") + "\n";
  text += event("r4", "ResponseComplete", "watch", "pods", "x", 200) + "\n";
  std::string log = d.write("audit.log", text);
  ReaderOptions o;
  o.max_in_flight = 2;
  ReadStats stats;
  auto events = readAll({log}, &stats, o);
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(stats.evicted, 3u);  // r0, r1, r2 handed on early
  EXPECT_EQ(events[0].audit_id, "r0");
  EXPECT_FALSE(events[0].complete);
  // r4 completed; r3 never did and comes at the end.
  EXPECT_EQ(events[3].audit_id, "r4");
  EXPECT_TRUE(events[3].complete);
  EXPECT_EQ(events[4].audit_id, "r3");
}

}  // namespace
}  // namespace kh::audit
