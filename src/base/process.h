// Running a tool as a child process: no shell, a given environment, stdin from /dev/null (or the
// bytes given), stdout and stderr captured, a deadline after which the whole process group is
// killed, and a cap on the output kept. Safe to call from several threads at once (posix_spawn,
// close-on-exec pipes).
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace kh {

struct ProcessResult {
  bool started = false;  // false: the program could not be run (start_error says why)
  std::string start_error;
  bool timed_out = false;  // killed at the deadline
  bool truncated = false;  // stdout exceeded max_output and was cut
  int exit_code = -1;      // when it exited
  int signal = 0;          // when a signal ended it
  std::string out, err;
};

struct ProcessOptions {
  std::vector<std::string> env;  // the whole environment, "NAME=value"
  std::chrono::milliseconds timeout{60000};
  size_t max_output = size_t{256} << 20;  // stdout bytes kept; stderr keeps its first 1 MiB
  std::string input;                      // written to stdin (then closed); empty: /dev/null
};

ProcessResult runProcess(const std::vector<std::string>& argv, const ProcessOptions& opts);

// Finds `name` in the directories of PATH (as given in `path_env`); empty when absent. A name
// with a slash is returned as is when it is an executable file.
std::string findExecutable(const std::string& name, const std::string& path_env);

}  // namespace kh
