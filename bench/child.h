// Running kubeharden as a child process for the benchmarks that measure the whole program:
// its wall time, its peak resident memory (from wait4) and its exit status.
#pragma once

#include <string>
#include <vector>

namespace kh::bench {

struct ChildRun {
  double seconds = 0;
  long max_rss_kib = 0;
  int status = 0;  // the exit code, -1 when it did not exit normally
};

// Runs argv[0] with `argv`, its standard output to `out_file` and its standard error to
// `err_file` ("/dev/null" to drop either).
ChildRun runChild(const std::vector<std::string>& argv, const std::string& out_file,
                  const std::string& err_file = "/dev/null");

}  // namespace kh::bench
