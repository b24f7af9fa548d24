// What a Helm run is given (values files, --set and friends, release name, namespace, versions):
// from the command line for every chart, and per chart from the config file's `render.charts`.
#pragma once

#include <string>
#include <vector>

namespace kh::render {

struct HelmInputs {
  std::vector<std::string> values_files;  // -f/--values, in order (later wins, as in helm)
  std::vector<std::string> set, set_string, set_file, set_json;
  std::string release_name;  // empty: "release-name", as helm template
  std::string namespace_;    // empty: helm's default ("default")
  std::string kube_version;
  std::vector<std::string> api_versions;
};

// One `render.charts` entry of the config file: how a chart in the repository is deployed.
// Several entries for one chart render it once per entry. Paths are relative to the config
// file's directory.
struct ChartConfig {
  std::string path;  // the chart directory or .tgz
  std::string name;  // names the run in the report (default: the chart path)
  HelmInputs helm;
  unsigned line = 0;  // in the config file, for messages
};

}  // namespace kh::render
