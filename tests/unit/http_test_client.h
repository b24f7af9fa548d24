// One HTTP/1.1 exchange with a server the test started on 127.0.0.1 (the webhook): GET when the
// body is empty, else POST; the whole exchange is bounded, so a broken server fails the test
// instead of hanging it.
#pragma once

#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <chrono>
#include <cstdint>
#include <string>

namespace kh::test {

struct HttpReply {
  unsigned status = 0;
  std::string body;
};

inline HttpReply localHttp(int port, const std::string& target, const std::string& body) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  boost::asio::io_context io;
  beast::tcp_stream stream(io);
  stream.expires_after(std::chrono::seconds(30));
  stream.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)});
  http::request<http::string_body> req{body.empty() ? http::verb::get : http::verb::post, target,
                                       11};
  req.set(http::field::host, "localhost");
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(stream, buf, res);
  return {res.result_int(), res.body()};
}

}  // namespace kh::test
