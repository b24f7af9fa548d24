// kh_loadgen: an open-loop HTTPS load generator for `make bench` (admission latency at a rate).
//
// wrk is a closed-loop tool: each connection sends its next request when the previous answer
// arrived (plus an optional delay in whole milliseconds, which its event loop fires on
// millisecond ticks, so paced connections leave in bursts). Latency "at a rate" needs requests
// sent on a schedule that does not wait for the server: this tool sends request i at its
// intended time t0 + i / rate (evenly spaced), or at Poisson arrival times, over a pool of
// keep-alive connections (as the API server's HTTP client does: an idle connection if there is
// one). A request with no idle connection waits, and its latency counts from its intended time,
// so a slow server cannot hide queueing ("coordinated omission"). `--arrivals ms-bursts` holds
// each request until the next whole millisecond, as wrk's paced connections do, to show what
// that pacing does to the tail.
//
// One thread, non-blocking sockets, epoll with nanosecond timeouts, OpenSSL. Prints one line:
// requests= seconds= rate= non2xx= errors= late= p50= p90= p99= p999= max= (milliseconds).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

using Nanos = std::int64_t;

Nanos now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "kh_loadgen: %s\n", what.c_str());
  std::exit(2);
}

struct Options {
  std::string host = "127.0.0.1";
  int port = 8443;
  std::string path = "/validate";
  std::string bodyFile;
  double rate = 1000;
  double seconds = 10;
  double warmup = 2;
  int connections = 16;
  std::string arrivals = "even";  // even | poisson | ms-bursts
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die(std::string(a) + " needs a value");
      return argv[++i];
    };
    if (a == "--host")
      o.host = value();
    else if (a == "--port")
      o.port = std::stoi(value());
    else if (a == "--path")
      o.path = value();
    else if (a == "--body")
      o.bodyFile = value();
    else if (a == "--rate")
      o.rate = std::stod(value());
    else if (a == "--seconds")
      o.seconds = std::stod(value());
    else if (a == "--warmup")
      o.warmup = std::stod(value());
    else if (a == "--connections")
      o.connections = std::stoi(value());
    else if (a == "--arrivals")
      o.arrivals = value();
    else
      die("unknown option " + std::string(a));
  }
  if (o.bodyFile.empty()) die("--body FILE is required");
  if (o.rate <= 0 || o.seconds <= 0 || o.connections < 1)
    die("rate, seconds and connections must be positive");
  if (o.arrivals != "even" && o.arrivals != "poisson" && o.arrivals != "ms-bursts")
    die("--arrivals must be even, poisson or ms-bursts");
  return o;
}

struct Connection {
  int fd = -1;
  SSL* ssl = nullptr;
  bool busy = false;
  Nanos intended = 0;    // when the request in flight was due
  std::size_t sent = 0;  // bytes of the request written
  std::string in;        // response bytes so far
};

class LoadGen {
 public:
  explicit LoadGen(Options o) : o_(std::move(o)) {
    std::ifstream f(o_.bodyFile, std::ios::binary);
    if (!f) die("cannot read " + o_.bodyFile);
    std::string body((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::ostringstream req;
    req << "POST " << o_.path << " HTTP/1.1\r\nHost: " << o_.host << ":" << o_.port
        << "\r\nContent-Type: application/json\r\nContent-Length: " << body.size() << "\r\n\r\n"
        << body;
    request_ = req.str();
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (ctx_ == nullptr) die("SSL_CTX_new failed");
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);  // a loopback benchmark, own test cert
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    conns_.resize(static_cast<std::size_t>(o_.connections));
    for (Connection& c : conns_) open(c);
  }

  int run() {
    const Nanos t0 = now() + 1'000'000;
    const Nanos recordFrom = t0 + static_cast<Nanos>(o_.warmup * 1e9);
    const Nanos end = recordFrom + static_cast<Nanos>(o_.seconds * 1e9);
    const double gap = 1e9 / o_.rate;
    std::mt19937_64 rng(20261124);
    std::exponential_distribution<double> exponential(1.0);
    std::uint64_t index = 0;
    double poissonAt = 0;
    auto due = [&](std::uint64_t i) -> Nanos {
      if (o_.arrivals == "poisson") {
        poissonAt += gap * exponential(rng);
        return t0 + static_cast<Nanos>(poissonAt);
      }
      Nanos t = static_cast<Nanos>(static_cast<double>(i) * gap);
      if (o_.arrivals == "ms-bursts") t = (t + 999'999) / 1'000'000 * 1'000'000;
      return t0 + t;
    };
    Nanos next = due(index);
    std::deque<Nanos> waiting;  // due requests with no idle connection yet
    std::vector<epoll_event> events(conns_.size());
    const Nanos drainUntil = end + 5'000'000'000;
    for (;;) {
      Nanos t = now();
      while (next <= t && next < end) {
        waiting.push_back(next);
        next = due(++index);
      }
      for (Connection& c : conns_) {
        if (waiting.empty()) break;
        if (c.busy || c.fd < 0) continue;
        if (waiting.front() < t - 100'000) ++late_;
        send(c, waiting.front());
        waiting.pop_front();
      }
      bool inFlight =
          std::any_of(conns_.begin(), conns_.end(), [](const Connection& c) { return c.busy; });
      if (next >= end && waiting.empty() && !inFlight) break;
      if (t > drainUntil) {
        errors_ += static_cast<std::uint64_t>(std::count_if(
            conns_.begin(), conns_.end(), [](const Connection& c) { return c.busy; }));
        break;
      }
      timespec timeout{0, 0};
      if (waiting.empty()) {
        Nanos wait = (next < end ? next : drainUntil) - now();
        if (wait < 0) wait = 0;
        timeout.tv_sec = wait / 1'000'000'000;
        timeout.tv_nsec = wait % 1'000'000'000;
      } else {
        timeout.tv_sec = 1;  // wait for a connection to come free
      }
      int n =
          epoll_pwait2(epoll_, events.data(), static_cast<int>(events.size()), &timeout, nullptr);
      if (n < 0 && errno != EINTR) die(std::string("epoll_pwait2: ") + std::strerror(errno));
      for (int k = 0; k < n; ++k) {
        Connection& c = conns_[events[static_cast<std::size_t>(k)].data.u64];
        if (c.busy) progress(c, recordFrom, end);
      }
    }
    report(static_cast<double>(end - recordFrom) / 1e9);
    return 0;
  }

 private:
  void open(Connection& c) {
    c = Connection{};
    c.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(o_.port));
    if (inet_pton(AF_INET, o_.host.c_str(), &addr.sin_addr) != 1)
      die("--host must be an IPv4 address");
    if (connect(c.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      die("cannot connect to " + o_.host + ":" + std::to_string(o_.port) + ": " +
          std::strerror(errno));
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c.ssl = SSL_new(ctx_);
    SSL_set_fd(c.ssl, c.fd);
    if (SSL_connect(c.ssl) != 1) die("TLS handshake failed");
    fcntl(c.fd, F_SETFL, fcntl(c.fd, F_GETFL) | O_NONBLOCK);
    SSL_set_mode(c.ssl, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = static_cast<std::uint64_t>(&c - conns_.data());
    epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev);
  }

  void fail(Connection& c) {
    ++errors_;
    epoll_ctl(epoll_, EPOLL_CTL_DEL, c.fd, nullptr);
    SSL_free(c.ssl);
    close(c.fd);
    open(c);
  }

  void send(Connection& c, Nanos intended) {
    c.busy = true;
    c.intended = intended;
    c.sent = 0;
    c.in.clear();
    flush(c);
  }

  // Writes what is left of the request; false on a broken connection.
  bool flush(Connection& c) {
    while (c.sent < request_.size()) {
      int n =
          SSL_write(c.ssl, request_.data() + c.sent, static_cast<int>(request_.size() - c.sent));
      if (n > 0) {
        c.sent += static_cast<std::size_t>(n);
        continue;
      }
      int e = SSL_get_error(c.ssl, n);
      if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT;
        ev.data.u64 = static_cast<std::uint64_t>(&c - conns_.data());
        epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
        return true;
      }
      fail(c);
      return false;
    }
    return true;
  }

  void progress(Connection& c, Nanos recordFrom, Nanos end) {
    if (c.sent < request_.size()) {
      if (!flush(c)) return;
      if (c.sent < request_.size()) return;
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = static_cast<std::uint64_t>(&c - conns_.data());
      epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
    }
    char buf[65536];
    for (;;) {
      int n = SSL_read(c.ssl, buf, sizeof buf);
      if (n > 0) {
        c.in.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      int e = SSL_get_error(c.ssl, n);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) break;
      fail(c);
      return;
    }
    std::size_t headerEnd = c.in.find("\r\n\r\n");
    if (headerEnd == std::string::npos) return;
    std::string_view head(c.in.data(), headerEnd);
    std::size_t length = 0;
    bool haveLength = false;
    for (std::size_t at = head.find("\r\n"); at != std::string_view::npos;
         at = head.find("\r\n", at + 2)) {
      std::string_view line = head.substr(at + 2, head.find("\r\n", at + 2) - (at + 2));
      constexpr std::string_view kLength = "content-length:";
      if (line.size() > kLength.size() &&
          std::equal(kLength.begin(), kLength.end(), line.begin(), [](char a, char b) {
            return a == std::tolower(static_cast<unsigned char>(b));
          })) {
        length = std::strtoul(std::string(line.substr(kLength.size())).c_str(), nullptr, 10);
        haveLength = true;
      }
    }
    if (!haveLength) {
      fail(c);
      return;
    }
    if (c.in.size() < headerEnd + 4 + length) return;
    Nanos done = now();
    c.busy = false;
    if (c.intended >= recordFrom && c.intended < end) {
      latencies_.push_back(done - c.intended);
      if (head.substr(0, 12) != "HTTP/1.1 200") ++non2xx_;
    }
  }

  void report(double seconds) {
    std::sort(latencies_.begin(), latencies_.end());
    auto pct = [&](double p) -> double {
      if (latencies_.empty()) return 0;
      auto rank =
          static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(latencies_.size())));
      return static_cast<double>(latencies_[std::max<std::size_t>(rank, 1) - 1]) / 1e6;
    };
    std::printf(
        "requests=%zu seconds=%.3f rate=%.0f non2xx=%llu errors=%llu late=%llu p50=%.3f p90=%.3f "
        "p99=%.3f "
        "p999=%.3f max=%.3f\n",
        latencies_.size(), seconds, static_cast<double>(latencies_.size()) / seconds,
        static_cast<unsigned long long>(non2xx_), static_cast<unsigned long long>(errors_),
        static_cast<unsigned long long>(late_), pct(50), pct(90), pct(99), pct(99.9), pct(100));
  }

  Options o_;
  std::string request_;
  SSL_CTX* ctx_ = nullptr;
  int epoll_ = -1;
  std::vector<Connection> conns_;
  std::vector<Nanos> latencies_;
  std::uint64_t non2xx_ = 0;
  std::uint64_t errors_ = 0;
  std::uint64_t late_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  LoadGen gen(parse(argc, argv));
  return gen.run();
}
