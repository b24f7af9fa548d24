// GCC 12 with -O2 and the sanitizers warns that Beast's request parser may read its optional
// content length uninitialised (a known false positive inside Boost's headers); -Werror would
// make that fatal, so it is silenced for this file's Boost code only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include "tests/unit/fake_https.h"

#include <fmt/format.h>
#include <sys/socket.h>

namespace kh::test {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

FakeHttps::FakeHttps(Handler h) : handler_(std::move(h)), acceptor_(io_) {
  const std::string tls = std::string(KH_SOURCE_DIR) + "/tests/admission/tls/";
  ctx_.use_certificate_chain_file(tls + "cert-a.pem");
  ctx_.use_private_key_file(tls + "key-a.pem", asio::ssl::context::pem);
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  acceptor_.open(ep.protocol());
  acceptor_.bind(ep);
  acceptor_.listen();
  thread_ = std::thread([this] { accept(); });
}

FakeHttps::~FakeHttps() {
  stop_ = true;
  ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
  thread_.join();
  for (auto& t : conns_) t.join();
}

std::string FakeHttps::url() const {
  return fmt::format("https://127.0.0.1:{}", acceptor_.local_endpoint().port());
}

void FakeHttps::accept() {
  while (!stop_) {
    auto sock = std::make_shared<tcp::socket>(io_);
    boost::system::error_code ec;
    acceptor_.accept(*sock, ec);
    if (ec || stop_) return;
    conns_.emplace_back([this, sock] {
      TlsStream s(*sock, ctx_);
      boost::system::error_code e;
      s.handshake(asio::ssl::stream_base::server, e);
      if (e) return;
      boost::beast::flat_buffer buf;
      Request req;
      http::read(s, buf, req, e);
      if (e) return;
      try {
        handler_(req, s);
      } catch (const std::exception&) {  // the client went away
      }
      s.shutdown(e);
    });
  }
}

void writeResponse(FakeHttps::TlsStream& s, int status, const std::string& body,
                   const std::string& headers) {
  std::string r =
      fmt::format("HTTP/1.1 {} X\r\n{}Content-Length: {}\r\nConnection: close\r\n\r\n{}", status,
                  headers, body.size(), body);
  asio::write(s, asio::buffer(r));
}

}  // namespace kh::test

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
