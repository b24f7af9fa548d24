// A small HTTPS server on loopback for tests (the namespace watch's fake API server, the
// vulnerability database's fake download mirror): TLS with tests/admission/tls/cert-a.pem, one
// thread per connection, one request per connection; the handler writes the whole response.
#pragma once

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast.hpp>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace kh::test {

class FakeHttps {
 public:
  using TlsStream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>;
  using Request = boost::beast::http::request<boost::beast::http::empty_body>;
  using Handler = std::function<void(const Request& req, TlsStream& s)>;

  explicit FakeHttps(Handler h);
  ~FakeHttps();
  FakeHttps(const FakeHttps&) = delete;
  FakeHttps& operator=(const FakeHttps&) = delete;
  // https://127.0.0.1:PORT
  std::string url() const;

 private:
  void accept();
  Handler handler_;
  boost::asio::io_context io_;
  boost::asio::ssl::context ctx_{boost::asio::ssl::context::tls_server};
  boost::asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
  std::vector<std::thread> conns_;
  std::atomic<bool> stop_{false};
};

// Writes a whole response with Content-Length and Connection: close; `headers` end in "\r\n".
void writeResponse(FakeHttps::TlsStream& s, int status, const std::string& body,
                   const std::string& headers = "Content-Type: application/json\r\n");

}  // namespace kh::test
