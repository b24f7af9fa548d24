// Mutation: secure defaults only where the author set nothing, as a JSON Patch that applies to
// the received object and yields no further patch when asked again.
#include "admission/mutate.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/pointer.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace kh::admission {
namespace {

std::string review(std::string_view op, std::string_view kind, std::string_view object) {
  return fmt::format(
      R"({{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{{"uid":"u",
        "kind":{{"group":"","version":"v1","kind":"{}"}},"namespace":"shop","operation":"{}",
        "object":{}}}}})",
      kind, op, object);
}

std::string patchFor(std::string_view op, std::string_view kind, std::string_view object,
                     std::string_view labels = R"({"kubeharden.io/mutate":"true"})",
                     MutationPolicy policy = {}) {
  Arena arena;
  auto req = decodeRequest(review(op, kind, object), arena);
  EXPECT_TRUE(req) << req.error().describe();
  auto l = parseJson(labels, arena);
  return mutationPatch(req.value(), policy, l.value());
}

// Applies the "add" operations of `patch` to `object` (JSON text) and returns the result.
std::string applyPatch(std::string_view object, const std::string& patch) {
  rapidjson::Document doc, ops;
  doc.Parse(object.data(), object.size());
  ops.Parse(patch.c_str());
  EXPECT_TRUE(ops.IsArray());
  for (const auto& op : ops.GetArray()) {
    EXPECT_STREQ(op["op"].GetString(), "add");
    rapidjson::Value v(op["value"], doc.GetAllocator());
    rapidjson::Pointer(op["path"].GetString()).Set(doc, v);
  }
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  doc.Accept(w);
  return buf.GetString();
}

constexpr std::string_view kBarePod =
    R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[
        {"name":"a","image":"a:1"},{"name":"b","image":"b:1","securityContext":{}}]}})";

TEST(Mutation, AddsSecureDefaultsAndIsIdempotent) {
  std::string patch = patchFor("CREATE", "Pod", kBarePod);
  ASSERT_FALSE(patch.empty());
  rapidjson::Document ops;
  ops.Parse(patch.c_str());
  std::vector<std::string> paths;
  for (const auto& op : ops.GetArray()) paths.push_back(op["path"].GetString());
  EXPECT_EQ(paths, (std::vector<std::string>{
                       "/spec/containers/0/securityContext",
                       "/spec/containers/1/securityContext/allowPrivilegeEscalation",
                       "/spec/containers/1/securityContext/capabilities",
                       "/spec/securityContext",
                       "/spec/automountServiceAccountToken",
                   }));
  std::string patched = applyPatch(kBarePod, patch);
  EXPECT_NE(patched.find(R"("seccompProfile":{"type":"RuntimeDefault"})"), std::string::npos);
  EXPECT_NE(patched.find(R"("capabilities":{"drop":["ALL"]})"), std::string::npos);
  EXPECT_EQ(patchFor("CREATE", "Pod", patched), "") << "a second pass changes nothing";
}

TEST(Mutation, NeverOverridesTheAuthor) {
  std::string pod =
      R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{
          "serviceAccountName":"api","securityContext":{"runAsNonRoot":true},
          "containers":[
            {"name":"a","image":"a:1","securityContext":{"allowPrivilegeEscalation":true,
             "capabilities":{"drop":["NET_RAW"]},"seccompProfile":{"type":"Unconfined"}}},
            {"name":"p","image":"p:1","securityContext":{"privileged":true,
             "capabilities":{"add":["SYS_ADMIN"]}}}]}})";
  std::string patch = patchFor("CREATE", "Pod", pod);
  rapidjson::Document ops;
  ops.Parse(patch.c_str());
  std::vector<std::string> paths;
  for (const auto& op : ops.GetArray()) paths.push_back(op["path"].GetString());
  // Only the privileged container's missing drop list; no allowPrivilegeEscalation next to
  // privileged (the API server refuses it), no seccomp (a container chose one), no token change
  // (the pod names its ServiceAccount).
  EXPECT_EQ(paths,
            std::vector<std::string>{"/spec/containers/1/securityContext/capabilities/drop"});
}

TEST(Mutation, OnlyWhereAskedAndWhereItCanApply) {
  EXPECT_EQ(patchFor("CREATE", "Pod", kBarePod, "{}"), "") << "namespaces opt in";
  EXPECT_EQ(patchFor("CREATE", "Pod", kBarePod, R"({"kubeharden.io/mutate":"false"})",
                     MutationPolicy{.default_on = true}),
            "");
  EXPECT_NE(patchFor("CREATE", "Pod", kBarePod, "{}", MutationPolicy{.default_on = true}), "");
  EXPECT_EQ(patchFor("UPDATE", "Pod", kBarePod), "") << "a Pod's spec is immutable";
  std::string win =
      R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"w"},"spec":{"os":{"name":"windows"},
          "containers":[{"name":"a","image":"a:1"}]}})";
  EXPECT_EQ(patchFor("CREATE", "Pod", win), "");
  std::string deploy =
      R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{
          "template":{"spec":{"containers":[{"name":"a","image":"a:1"}]}}}})";
  std::string patch = patchFor("UPDATE", "Deployment", deploy);
  EXPECT_NE(patch.find(R"("path":"/spec/template/spec/containers/0/securityContext")"),
            std::string::npos)
      << patch;
  EXPECT_EQ(patchFor("UPDATE", "Deployment", applyPatch(deploy, patch)), "");
}

TEST(Mutation, JsonPointers) {
  EXPECT_EQ(jsonPointer("spec.template.spec.containers[1]"), "/spec/template/spec/containers/1");
  EXPECT_EQ(jsonPointer("spec.jobTemplate.spec.template.spec"),
            "/spec/jobTemplate/spec/template/spec");
  EXPECT_EQ(jsonPointer("spec.initContainers[0].securityContext"),
            "/spec/initContainers/0/securityContext");
}

}  // namespace
}  // namespace kh::admission
