// Reading a packaged Helm chart (.tgz): the regular files of a gzip-compressed tar, by name.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace kh::render {

// Calls want(name) for each regular file; when it returns true, calls got(name, content).
// Handles ustar prefixes, GNU long names and PAX path records. Entries beyond 64 MiB are an
// error. Stops early when got returns false.
Status readTgz(const std::string& path, const std::function<bool(std::string_view)>& want,
               const std::function<bool(std::string_view, std::string&&)>& got);

// The same over the archive's bytes; `name` is for messages. Also what the fuzzer drives.
Status readTgzBytes(std::string_view bytes, const std::string& name,
                    const std::function<bool(std::string_view)>& want,
                    const std::function<bool(std::string_view, std::string&&)>& got);

}  // namespace kh::render
