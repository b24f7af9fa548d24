// AdmissionReview codec (admission.k8s.io/v1, and v1beta1 read for legacy configurations): the
// request decoded into views over an arena tree, and the response encoded as the API server
// expects it (same apiVersion and kind, the request's uid, status on denial, base64 JSON Patch
// only from the mutating endpoint). Decoding never throws; malformed bodies are Errors.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/arena.h"
#include "base/result.h"
#include "load/json_reader.h"
#include "model/node.h"

namespace kh::admission {

struct GroupVersionKind {
  std::string_view group, version, kind;
};

struct AdmissionRequest {
  std::string_view api_version;  // of the review: admission.k8s.io/v1 or v1beta1
  std::string_view uid;
  GroupVersionKind kind;
  GroupVersionKind request_kind;  // equals kind unless the API server converted the request
  std::string_view resource;      // plural, e.g. pods
  std::string_view sub_resource;  // e.g. ephemeralcontainers, status; empty for the object
  std::string_view name;          // empty on CREATE with generateName
  std::string_view namespace_;    // empty for cluster-scoped objects
  std::string_view operation;     // CREATE, UPDATE, DELETE, CONNECT
  std::string_view username;
  std::vector<std::string_view> groups;
  const Node* object = nullptr;      // null for DELETE (and CONNECT)
  const Node* old_object = nullptr;  // UPDATE and DELETE
  bool dry_run = false;
};

// Decodes a request body. Errors say what is wrong (not JSON, not an AdmissionReview, no uid).
Result<AdmissionRequest> decodeRequest(std::string_view body, Arena& arena,
                                       const JsonLimits& limits = {});

struct AdmissionResponse {
  std::string uid;
  bool allowed = true;
  int code = 0;         // status.code on denial (403)
  std::string reason;   // status.reason (Forbidden)
  std::string message;  // status.message
  std::vector<std::string> warnings;
  std::map<std::string, std::string> audit_annotations;
  std::string patch;  // RFC 6902 JSON Patch (raw JSON; encoded as base64); mutating only
};

// The AdmissionReview the API server expects back. `mutating` says which endpoint answers: a
// validating answer never carries a patch.
std::string encodeResponse(std::string_view api_version, const AdmissionResponse& r, bool mutating);

// Base64 (RFC 4648, with padding), for the patch.
std::string base64(std::string_view bytes);

}  // namespace kh::admission
