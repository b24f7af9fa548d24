// Secure defaults by mutation (the /mutate endpoint): for namespaces that opt in, fields the
// workload left unset get the hardened value, as an RFC 6902 JSON Patch against the received
// object. Never overrides what the author set, so applying the patch and asking again yields no
// patch (idempotent under reinvocation). Pure; no I/O.
#pragma once

#include <string>

#include "admission/review.h"

namespace kh::admission {

struct MutationPolicy {
  // Mutate in namespaces labelled kubeharden.io/mutate=true; with this, in every namespace
  // whose label is not "false".
  bool default_on = false;
};

// The JSON Patch (a JSON array) for the request, or "" when nothing is to change. Judges CREATE
// of anything with a pod spec, and UPDATE of workload controllers (a Pod's spec is immutable).
std::string mutationPatch(const AdmissionRequest& req, const MutationPolicy& policy,
                          const Node* namespace_labels);

// A dotted field path of the scan model ("spec.template.spec.containers[1]") as a JSON Pointer
// ("/spec/template/spec/containers/1"), with ~ and / escaped.
std::string jsonPointer(std::string_view dotted);

}  // namespace kh::admission
