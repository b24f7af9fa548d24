#include "cli/inputs.h"

#include <cstdio>

#include "base/parallel.h"
#include "cli/commands.h"
#include "render/detect.h"
#include "render/render.h"

namespace kh {

LoadedInputs loadInputs(const std::vector<std::string>& paths, std::string_view command) {
  LoadedInputs in;
  std::vector<std::string> inputs = paths.empty() ? std::vector<std::string>{"."} : paths;
  auto fail = [&](const Error& e) {
    std::fprintf(stderr, "kubeharden %.*s: %s\n", static_cast<int>(command.size()), command.data(),
                 e.describe().c_str());
    in.error = kExitInput;
    return std::move(in);
  };
  // Charts and kustomizations render as in `scan` (with their default values); their files are
  // not read as plain manifests.
  auto plan = render::planRenders(inputs);
  if (!plan) return fail(plan.error());
  std::vector<render::Run> runs = render::planRuns(*plan, {}, {}, false);
  CollectOptions co{true, false, {}};
  if (!plan->roots.empty() || !plan->consumed.empty())
    co.consumed = [&plan](const std::string& p) { return plan->consumes(p); };
  auto files = collectInputFiles(inputs, co);
  if (!files) return fail(files.error());
  render::Settings settings;
  if (!runs.empty()) settings.tools = render::findTools({}, {});
  in.files.resize(files->size() + runs.size());
  parallelFor(in.files.size(), 0, [&](size_t i) {
    in.files[i] = std::make_unique<SourceFile>();
    if (i < files->size()) {
      loadFile((*files)[i].path, LoadOptions{}, *in.files[i]);
      return;
    }
    const render::Run& run = runs[i - files->size()];
    render::renderInto(plan->roots[run.root], run, settings, LoadOptions{}, *in.files[i]);
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
