#include "cli/inputs.h"

#include <cstdio>

#include "base/parallel.h"
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
  in.files.resize(files->size());
  parallelFor(files->size(), 0, [&](size_t i) {
    in.files[i] = std::make_unique<SourceFile>();
    loadFile((*files)[i], LoadOptions{}, *in.files[i]);
  });
  for (const auto& sf : in.files) {  // in input order, whatever the threads did
    if (sf->error) {
      std::fprintf(stderr, "error: %s\n", sf->error->describe().c_str());
      in.error = kExitInput;
    }
    for (const Object& o : sf->objects) in.objects.push_back(&o);
  }
  if (in.objects.empty() && !in.error) {
    std::fprintf(stderr, "kubeharden %.*s: no Kubernetes objects found in the input\n",
                 static_cast<int>(command.size()), command.data());
    in.error = kExitInput;
  }
  return in;
}

int nothingToJudge(std::string_view command, std::string_view what) {
  std::fprintf(stderr, "kubeharden %.*s: no %.*s in the input; nothing was analysed\n",
               static_cast<int>(command.size()), command.data(), static_cast<int>(what.size()),
               what.data());
  return kExitInput;
}

}  // namespace kh
