// The check documentation (docs/checks/<id>.md), embedded in the binary at build time so that
// `kubeharden explain` and the SARIF rule help work wherever the binary is copied.
#pragma once

#include <string_view>

namespace kh {

// The Markdown page of a check, or empty when there is none.
std::string_view checkDoc(std::string_view id);

}  // namespace kh
