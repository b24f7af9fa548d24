// A small HTTP/1.1 server on 127.0.0.1 for the network tests: each connection's requests go to
// a handler that writes whatever raw bytes the test wants (so it can cut a body short, stall, or
// answer wrongly), and every request is recorded.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace kh::test {

struct HttpRequest {
  std::string method, target;                  // "GET", "/v2/..."
  std::map<std::string, std::string> headers;  // names lower case
  std::string body;                            // when Content-Length says there is one
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class TestHttpServer {
 public:
  // Writes the answer to `fd`. The connection closes after it (Connection: close semantics),
  // whatever the handler wrote.
  using Handler = std::function<void(const HttpRequest&, int fd)>;
  explicit TestHttpServer(Handler handler);
  ~TestHttpServer();
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  int port() const { return port_; }
  std::string url(std::string_view path = "/") const;
  std::vector<HttpRequest> requests() const;

  // A whole answer: status line, the headers, Content-Length, Connection: close, the body.
  static void respond(int fd, int status,
                      const std::vector<std::pair<std::string, std::string>>& headers,
                      std::string_view body);
  static void writeAll(int fd, std::string_view data);

 private:
  void serve();
  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<HttpRequest> requests_;
  std::vector<std::thread> workers_;
};

}  // namespace kh::test
