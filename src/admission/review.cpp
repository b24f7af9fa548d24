#include "admission/review.h"

#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "base/strings.h"

namespace kh::admission {
namespace {

GroupVersionKind gvk(const Node* n) {
  return {getStr(n, "group"), getStr(n, "version"), getStr(n, "kind")};
}

const Node* objectOrNull(const Node* n) {
  return n && n->isMap() ? n : nullptr;
}

}  // namespace

Result<AdmissionRequest> decodeRequest(std::string_view body, Arena& arena,
                                       const JsonLimits& limits) {
  auto root = parseJson(body, arena, limits);
  if (!root) return root.error();
  const Node* r = root.value();
  if (!r->isMap()) return Error{"the body is not a JSON object"};
  AdmissionRequest req;
  req.api_version = getStr(r, "apiVersion");
  if (req.api_version != "admission.k8s.io/v1" && req.api_version != "admission.k8s.io/v1beta1")
    return Error{fmt::format("apiVersion must be admission.k8s.io/v1 (or v1beta1), not \"{}\"",
                             req.api_version)};
  if (getStr(r, "kind") != "AdmissionReview")
    return Error{fmt::format("kind must be AdmissionReview, not \"{}\"", getStr(r, "kind"))};
  const Node* q = get(r, "request");
  if (!q || !q->isMap()) return Error{"the AdmissionReview has no request"};
  req.uid = getStr(q, "uid");
  if (req.uid.empty()) return Error{"request.uid is missing"};
  req.kind = gvk(get(q, "kind"));
  req.request_kind = get(q, "requestKind") ? gvk(get(q, "requestKind")) : req.kind;
  req.resource = getStr(get(q, "resource"), "resource");
  req.sub_resource = getStr(q, "subResource");
  req.name = getStr(q, "name");
  req.namespace_ = getStr(q, "namespace");
  req.operation = getStr(q, "operation");
  if (req.operation != "CREATE" && req.operation != "UPDATE" && req.operation != "DELETE" &&
      req.operation != "CONNECT")
    return Error{fmt::format("request.operation \"{}\" is not CREATE, UPDATE, DELETE or CONNECT",
                             req.operation)};
  const Node* user = get(q, "userInfo");
  req.username = getStr(user, "username");
  for (const Node* g : seqOf(get(user, "groups"))) req.groups.push_back(g->str());
  req.object = objectOrNull(get(q, "object"));
  req.old_object = objectOrNull(get(q, "oldObject"));
  req.dry_run = getTrue(q, "dryRun");
  return req;
}

std::string base64(std::string_view in) {
  return base64Encode(in);
}

std::string encodeResponse(std::string_view api_version, const AdmissionResponse& r,
                           bool mutating) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto str = [&](std::string_view k, std::string_view v) {
    w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
    w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
  };
  w.StartObject();
  str("apiVersion", api_version);
  str("kind", "AdmissionReview");
  w.Key("response");
  w.StartObject();
  str("uid", r.uid);
  w.Key("allowed");
  w.Bool(r.allowed);
  if (!r.allowed) {
    w.Key("status");
    w.StartObject();
    w.Key("code");
    w.Int(r.code ? r.code : 403);
    str("reason", r.reason.empty() ? "Forbidden" : r.reason);
    str("message", r.message);
    w.EndObject();
  }
  if (!r.warnings.empty()) {
    w.Key("warnings");
    w.StartArray();
    for (const std::string& s : r.warnings)
      w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    w.EndArray();
  }
  if (!r.audit_annotations.empty()) {
    w.Key("auditAnnotations");
    w.StartObject();
    for (const auto& [k, v] : r.audit_annotations) str(k, v);
    w.EndObject();
  }
  if (mutating && !r.patch.empty()) {
    str("patch", base64(r.patch));
    str("patchType", "JSONPatch");
  }
  w.EndObject();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace kh::admission
