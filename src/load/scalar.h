// Scalar resolution the way Kubernetes reads YAML (sigs.k8s.io/yaml over go-yaml v2, YAML 1.1):
// plain `yes`/`on`/`y` are booleans, `0644` is octal, `1e3` is a float, `~` is null; quoted
// scalars are always strings. Map keys are rendered back to strings as sigs.k8s.io/yaml does
// when it converts YAML to JSON (`on:` becomes the key "true").
#pragma once

#include <string>
#include <string_view>

#include "model/node.h"

namespace kh {

// Fills type and value of `out` for a plain (unquoted, untagged) scalar. Sets out.text = in.
void resolvePlainScalar(std::string_view in, Node& out);

// The JSON object key that a resolved scalar key becomes.
std::string keyString(const Node& key);

}  // namespace kh
