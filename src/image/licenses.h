// Licence names as packages declare them ("GPLv2+", "ASL 2.0", Debian's "GPL-2+", "Expat",
// "Apache License, Version 2.0", PyPI classifiers) normalised to SPDX license identifiers and
// expressions. What is not recognised is kept as declared, never guessed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kh::image {

// The SPDX identifier or expression for a declared licence, or the declared text (trimmed) when
// not every part of it is recognised.
std::string normaliseLicense(std::string_view declared);

// The SPDX license identifiers normalisation can produce (all on the SPDX licence list).
std::vector<std::string_view> knownSpdxIds();

// Appends the normalised form of `declared` to `out` unless empty or already there.
void addLicense(std::vector<std::string>& out, std::string_view declared);

// Is `id` an SPDX license identifier this table knows (as every normalised result is)?
bool isKnownSpdxId(std::string_view id);

// Is `expr` made only of known SPDX identifiers joined by AND / OR / WITH and parentheses?
bool isSpdxExpression(std::string_view expr);

}  // namespace kh::image
