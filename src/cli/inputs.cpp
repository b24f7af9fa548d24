#include "cli/inputs.h"

#include <cstdio>

#include "cli/commands.h"

namespace kh {

LoadedInputs loadInputs(const std::vector<std::string>& paths, std::string_view command) {
  LoadedInputs in;
  auto files = collectInputs(paths.empty() ? std::vector<std::string>{"."} : paths);
  if (!files) {
    std::fprintf(stderr, "kubeharden %.*s: %s\n", static_cast<int>(command.size()), command.data(),
                 files.error().describe().c_str());
    in.error = kExitInput;
    return in;
  }
  for (const std::string& f : *files) {
    auto sf = std::make_unique<SourceFile>();
    loadFile(f, LoadOptions{}, *sf);
    if (sf->error) {
      std::fprintf(stderr, "error: %s\n", sf->error->describe().c_str());
      in.error = kExitInput;
    }
    for (const Object& o : sf->objects) in.objects.push_back(&o);
    in.files.push_back(std::move(sf));
  }
  if (in.objects.empty() && !in.error) {
    std::fprintf(stderr, "kubeharden %.*s: no Kubernetes objects found in the input\n",
                 static_cast<int>(command.size()), command.data());
    in.error = kExitInput;
  }
  return in;
}

}  // namespace kh
