// DeadlineStream: a synchronous Asio stream wrapper whose reads fail once a deadline has passed.
// Shared by the webhook server (bounded request reads) and the Kubernetes API client (a watch
// that goes silent).
#pragma once

#include <poll.h>

#include <boost/asio.hpp>
#include <chrono>

namespace kh::admission {

using Clock = std::chrono::steady_clock;

// A stream wrapper that fails a read once the deadline for the current request has passed, so a
// client that trickles bytes cannot hold a request open forever. Asio's synchronous reads retry
// on their own after a socket timeout, so the wait happens here, in poll(), before each read of
// the socket (under TLS, below the TLS layer: bytes TLS already decrypted need no wait).
template <typename Stream>
class DeadlineStream {
 public:
  using executor_type = typename Stream::executor_type;
  using lowest_layer_type = typename Stream::lowest_layer_type;
  DeadlineStream(Stream& s, int fd, Clock::time_point& deadline)
      : s_(s), fd_(fd), deadline_(deadline) {}
  executor_type get_executor() { return s_.get_executor(); }
  lowest_layer_type& lowest_layer() { return s_.lowest_layer(); }
  template <typename Buffers>
  size_t read_some(const Buffers& b, boost::system::error_code& ec) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now());
    struct pollfd p {
      fd_, POLLIN, 0
    };
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      ec = boost::asio::error::timed_out;
      return 0;
    }
    return s_.read_some(b, ec);
  }
  template <typename Buffers>
  size_t read_some(const Buffers& b) {
    boost::system::error_code ec;
    size_t n = read_some(b, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }
  template <typename Buffers>
  size_t write_some(const Buffers& b, boost::system::error_code& ec) {
    return s_.write_some(b, ec);
  }
  template <typename Buffers>
  size_t write_some(const Buffers& b) {
    return s_.write_some(b);
  }

 private:
  Stream& s_;
  int fd_;
  Clock::time_point& deadline_;
};

}  // namespace kh::admission
