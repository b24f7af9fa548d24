// Whole-program measurements of `kubeharden` as a user runs it: wall time of a full corpus scan
// (every check, JSON written), its peak memory, and start-up time of `kubeharden --version`.
// Runs each command N times and reports the median and the minimum; prints the goals beside.
//
//   kh_corpus_run BINARY CORPUS_DIR [RUNS]
#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace {

struct Run {
  double seconds;
  long max_rss_kb;
  int exit_code;
};

Run runOnce(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  auto start = std::chrono::steady_clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    FILE* devnull = std::fopen("/dev/null", "w");
    if (devnull) {
      dup2(fileno(devnull), STDOUT_FILENO);
      dup2(fileno(devnull), STDERR_FILENO);
    }
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  struct rusage ru {};
  wait4(pid, &status, 0, &ru);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {secs, ru.ru_maxrss, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

struct Stats {
  double median, min;
  long rss;
  int exit_code;
};

Stats measure(const std::vector<std::string>& argv, int runs) {
  std::vector<double> t;
  long rss = 0;
  int code = 0;
  runOnce(argv);  // warm the page cache
  for (int i = 0; i < runs; ++i) {
    Run r = runOnce(argv);
    t.push_back(r.seconds);
    rss = std::max(rss, r.max_rss_kb);
    code = r.exit_code;
  }
  std::sort(t.begin(), t.end());
  return {t[t.size() / 2], t.front(), rss, code};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s BINARY CORPUS_DIR [RUNS]\n", argv[0]);
    return 2;
  }
  std::string bin = argv[1], corpus = argv[2];
  int runs = argc > 3 ? std::atoi(argv[3]) : 15;
  uintmax_t bytes = 0;
  size_t files = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(corpus))
    if (e.is_regular_file()) {
      bytes += e.file_size();
      ++files;
    }
  double mb = static_cast<double>(bytes) / 1e6;

  Stats scan = measure(
      {bin, "scan", corpus, "--format", "json", "--output", "/dev/null", "--fail-on", "none"},
      runs);
  Stats one = measure({bin, "scan", corpus, "-j", "1", "--format", "json", "--output", "/dev/null",
                       "--fail-on", "none"},
                      runs);
  Stats ver = measure({bin, "--version"}, runs * 3);
  double rss_mb = static_cast<double>(scan.rss) / 1024.0;
  double rss_goal = 3 * mb + 30;

  auto verdict = [](bool ok) { return ok ? "met" : "MISSED"; };
  fmt::print("corpus: {} ({} files, {:.1f} MB); {} runs each, median (min)\n", corpus, files, mb,
             runs);
  fmt::print("{:<44} {:>16} {:>14}  {}\n", "measure", "value", "goal", "");
  fmt::print("{:<44} {:>9.3f} s ({:.3f}) {:>14}  {}\n",
             "full scan, default checks, JSON, 2 threads", scan.median, scan.min, "< 0.150 s",
             verdict(scan.median < 0.150));
  fmt::print("{:<44} {:>9.3f} s ({:.3f}) {:>14}\n", "full scan, 1 thread", one.median, one.min, "");
  fmt::print("{:<44} {:>11.1f} MB/s {:>14}  {}\n", "end-to-end throughput per core (1 thread)",
             mb / one.median, ">= 40 MB/s", verdict(mb / one.median >= 40));
  fmt::print("{:<44} {:>13.1f} MB {:>11.1f} MB  {}\n", "peak resident memory (2 threads)", rss_mb,
             rss_goal, verdict(rss_mb < rss_goal));
  fmt::print("{:<44} {:>11.2f} ms ({:.2f}) {:>10}  {}\n", "kubeharden --version", ver.median * 1e3,
             ver.min * 1e3, "< 10 ms", verdict(ver.median < 0.010));
  fmt::print("exit code of the scan: {} (0 expected with --fail-on none)\n", scan.exit_code);
  return scan.exit_code == 0 ? 0 : 1;
}
