// RPM package databases, read without librpm: the SQLite `rpmdb.sqlite` (RHEL 9, Fedora 33+),
// the Berkeley DB hash file `Packages` (RHEL 7 and 8, CentOS, Amazon Linux 2) and the NDB
// `Packages.db` (SUSE), all holding one RPM header blob per installed package.
// Corrupt or truncated input yields an error, never a crash (fuzzed).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "image/package.h"

namespace kh::image::rpm {

// The header blobs stored in a database file of any of the three formats (told apart by their
// magic numbers).
Result<std::vector<std::string>> headerBlobs(std::string_view db);

// One package from a header blob: name, epoch, version-release, arch, licence, source package,
// and its files (added to `owned`). gpg-pubkey pseudo-packages are not packages: nullopt.
Result<std::optional<Package>> parseHeader(std::string_view blob, std::vector<std::string>* owned);

// Every package of a database file.
Result<std::vector<Package>> packages(std::string_view db, std::vector<std::string>* owned);

}  // namespace kh::image::rpm
