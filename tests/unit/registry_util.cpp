#include "tests/unit/registry_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include "tests/unit/image_util.h"

extern char** environ;

namespace kh::test {

bool have(const char* tool) {
  return image::fixtures::shell(fmt::format("command -v {} >/dev/null 2>&1", tool)) == 0;
}

int freePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

bool accepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

Registry::Registry(const TempDir& d, const std::string& extra_http, const std::string& auth,
                   bool all_interfaces) {
  port_ = freePort();
  std::string cfg = d.write(
      fmt::format("registry-{}.yml", port_),
      fmt::format("version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
                  "storage:\n  filesystem:\n    rootdirectory: {}/store-{}\n  delete:\n  "
                  "  enabled: true\n"
                  "http:\n  addr: {}:{}\n{}{}",
                  d.path(), port_, all_interfaces ? "" : "127.0.0.1", port_, extra_http, auth));
  // Through setpriv --pdeathsig: a test process that is killed takes its registry with it.
  std::vector<char*> argv = {const_cast<char*>("setpriv"),
                             const_cast<char*>("--pdeathsig"),
                             const_cast<char*>("KILL"),
                             const_cast<char*>("docker-registry"),
                             const_cast<char*>("serve"),
                             const_cast<char*>(cfg.c_str()),
                             nullptr};
  // Its log goes to a file next to its storage (kept for a failing test's post-mortem).
  std::string log = fmt::format("{}/registry-{}.log", d.path(), port_);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
  if (posix_spawnp(&pid_, "setpriv", &fa, nullptr, argv.data(), environ) != 0) pid_ = -1;
  posix_spawn_file_actions_destroy(&fa);
  for (int i = 0; i < 100 && pid_ > 0 && !accepts(port_); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

Registry::~Registry() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
  }
}

bool Registry::up() const {
  return pid_ > 0 && accepts(port_);
}

std::string Registry::host() const {
  return fmt::format("127.0.0.1:{}", port_);
}

}  // namespace kh::test
