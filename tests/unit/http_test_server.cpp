#include "tests/unit/http_test_server.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>

namespace kh::test {

TestHttpServer::TestHttpServer(Handler handler) : handler_(std::move(handler)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::listen(listen_fd_, 64);
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { serve(); });
}

TestHttpServer::~TestHttpServer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  for (std::thread& t : workers_)
    if (t.joinable()) t.join();
  ::close(listen_fd_);
}

std::string TestHttpServer::url(std::string_view path) const {
  return fmt::format("http://127.0.0.1:{}{}", port_, path);
}

std::vector<HttpRequest> TestHttpServer::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

void TestHttpServer::writeAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    data.remove_prefix(static_cast<size_t>(n));
  }
}

void TestHttpServer::respond(int fd, int status,
                             const std::vector<std::pair<std::string, std::string>>& headers,
                             std::string_view body) {
  std::string out = fmt::format("HTTP/1.1 {} X\r\n", status);
  for (const auto& [k, v] : headers) out += fmt::format("{}: {}\r\n", k, v);
  out += fmt::format("Content-Length: {}\r\nConnection: close\r\n\r\n", body.size());
  out += body;
  writeAll(fd, out);
}

void TestHttpServer::serve() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    workers_.emplace_back([this, fd] {
      std::string in;
      char buf[4096];
      while (in.find("\r\n\r\n") == std::string::npos && !stop_) {
        pollfd q{fd, POLLIN, 0};
        if (::poll(&q, 1, 50) <= 0) continue;
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        in.append(buf, static_cast<size_t>(n));
        // Not HTTP (a TLS ClientHello): answer as an HTTP server does, 400, and hang up.
        if (!in.empty() && !std::isupper(static_cast<unsigned char>(in[0]))) {
          writeAll(
              fd,
              "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n");
          ::shutdown(fd, SHUT_WR);
          ::close(fd);
          return;
        }
      }
      HttpRequest req;
      size_t line_end = in.find("\r\n");
      std::string first = in.substr(0, line_end);
      size_t sp1 = first.find(' '), sp2 = first.rfind(' ');
      if (sp1 != std::string::npos && sp2 > sp1) {
        req.method = first.substr(0, sp1);
        req.target = first.substr(sp1 + 1, sp2 - sp1 - 1);
      }
      for (size_t at = line_end + 2; at < in.size();) {
        size_t end = in.find("\r\n", at);
        if (end == std::string::npos || end == at) break;
        std::string line = in.substr(at, end - at);
        size_t colon = line.find(':');
        if (colon != std::string::npos) {
          std::string name = line.substr(0, colon);
          for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          size_t v = line.find_first_not_of(' ', colon + 1);
          req.headers[name] = v == std::string::npos ? "" : line.substr(v);
        }
        at = end + 2;
      }
      if (size_t head = in.find("\r\n\r\n"); head != std::string::npos) {
        size_t want =
            req.headers.count("content-length") ? std::stoul(req.headers["content-length"]) : 0;
        req.body = in.substr(head + 4);
        while (req.body.size() < want && !stop_) {
          pollfd q{fd, POLLIN, 0};
          if (::poll(&q, 1, 50) <= 0) continue;
          ssize_t n = ::recv(fd, buf, sizeof buf, 0);
          if (n <= 0) break;
          req.body.append(buf, static_cast<size_t>(n));
        }
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back(req);
      }
      if (!req.method.empty()) handler_(req, fd);
      ::shutdown(fd, SHUT_WR);
      ::close(fd);
    });
  }
}

}  // namespace kh::test
