// Fuzz target for what a cluster read parses besides kubeconfigs: the Kubernetes version table
// (--k8s-data), version strings as components report them, and list pages (Secrets reduced to
// metadata, pages merged into a snapshot's List). The first byte picks the parser.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kh {
void fuzzClusterDataOnce(const uint8_t* data, size_t size);
}
