#include "image/layer_stream.h"

#include <fmt/format.h>
#include <isa-l/igzip_lib.h>

#include <cstdlib>

#include "base/dynlib.h"
#include "image/tar_reader.h"

namespace kh::image {

namespace {

// ISA-L's inflate, from libisal.so.2 loaded on first use (base/dynlib.h says why).
struct IsalApi {
  decltype(&isal_inflate_init) init = nullptr;
  decltype(&isal_inflate_reset) reset = nullptr;
  decltype(&isal_inflate) inflate = nullptr;
  std::string error;

  static const IsalApi& get() {
    static const IsalApi api = [] {
      IsalApi a;
      const char* off = std::getenv("KUBEHARDEN_NO_ISAL");
      if (off && std::string_view(off) == "1") {
        a.error = "KUBEHARDEN_NO_ISAL=1";
        return a;
      }
      void* lib = openLibrary("libisal.so.2", "libisal2", a.error);
      loadSymbol(lib, "isal_inflate_init", a.init, a.error);
      loadSymbol(lib, "isal_inflate_reset", a.reset, a.error);
      loadSymbol(lib, "isal_inflate", a.inflate, a.error);
      return a;
    }();
    return api;
  }
};

constexpr size_t kOutChunk = 256 * 1024;

std::string isalError(int rc) {
  switch (rc) {
    case ISAL_INVALID_BLOCK:
      return "an invalid deflate block";
    case ISAL_INVALID_SYMBOL:
      return "an invalid deflate symbol";
    case ISAL_INVALID_LOOKBACK:
      return "an invalid back-reference distance";
    case ISAL_INVALID_WRAPPER:
      return "an invalid gzip header";
    case ISAL_UNSUPPORTED_METHOD:
      return "a compression method other than deflate";
    case ISAL_INCORRECT_CHECKSUM:
      return "a CRC-32 or length that does not match the data";
    default:
      return fmt::format("inflate error {}", rc);
  }
}

bool isGzip(std::string_view b) {
  return b.size() >= 2 && static_cast<unsigned char>(b[0]) == 0x1f &&
         static_cast<unsigned char>(b[1]) == 0x8b;
}

}  // namespace

struct LayerStream::Impl {
  inflate_state state;
  std::string out;
  std::string carry;  // compressed bytes held over (a peek across chunk boundaries)
  bool member_done = false;
  std::unique_ptr<TarReader> raw;  // the libarchive fallback
};

LayerStream::LayerStream(Pull compressed, std::string name, bool fast_gzip)
    : compressed_(std::move(compressed)),
      name_(std::move(name)),
      impl_(new Impl),
      fast_gzip_(fast_gzip) {}

LayerStream::~LayerStream() = default;

bool LayerStream::fastGzip(std::string* why) {
  const IsalApi& api = IsalApi::get();
  if (why) *why = api.error;
  return api.error.empty();
}

std::string_view LayerStream::pullCompressed() {
  return compressed_();
}

// Peeks at the first bytes and picks the decoder.
bool LayerStream::start() {
  started_ = true;
  Impl& m = *impl_;
  while (m.carry.size() < 2) {
    std::string_view c = pullCompressed();
    if (c.empty()) break;
    m.carry.append(c);
  }
  if (m.carry.empty()) {
    error_ = Error{"the layer is empty", name_, {}};
    return false;
  }
  if (isGzip(m.carry) && fast_gzip_ && fastGzip()) {
    decoder_ = "gzip (ISA-L)";
    IsalApi::get().init(&m.state);
    m.state.crc_flag = ISAL_GZIP;
    m.state.next_in = reinterpret_cast<uint8_t*>(m.carry.data());
    m.state.avail_in = static_cast<uint32_t>(m.carry.size());
    m.out.resize(kOutChunk);
    return true;
  }
  decoder_ = "libarchive";
  bool first = true;
  auto r = TarReader::openStream(
      [this, first]() mutable -> std::string_view {
        if (first) {
          first = false;
          return impl_->carry;
        }
        return pullCompressed();
      },
      name_, TarReader::Format::kRaw);
  if (!r) {
    error_ = r.error();
    return false;
  }
  m.raw = std::move(r.value());
  TarEntry e;
  if (!m.raw->next(e)) {
    error_ = m.raw->error() ? *m.raw->error() : Error{"the layer is empty", name_, {}};
    return false;
  }
  return true;
}

std::string_view LayerStream::next() {
  if (done_ || error_) return {};
  if (!started_ && !start()) return {};
  Impl& m = *impl_;
  if (m.raw) {
    std::string_view c = m.raw->readChunk();
    if (c.empty()) {
      done_ = true;
      if (m.raw->error()) error_ = *m.raw->error();
    }
    return c;
  }
  return nextGzip();
}

std::string_view LayerStream::nextGzip() {
  Impl& m = *impl_;
  const IsalApi& api = IsalApi::get();
  int idle = 0;
  for (;;) {
    if (m.member_done) {
      // Another gzip member may follow (concatenated streams are valid gzip); anything else
      // after the last member is ignored, as gzip and libarchive ignore it.
      std::string rest(reinterpret_cast<const char*>(m.state.next_in), m.state.avail_in);
      while (rest.size() < 2) {
        std::string_view c = pullCompressed();
        if (c.empty()) break;
        rest.append(c);
      }
      if (!isGzip(rest)) {
        while (!pullCompressed().empty()) {
        }
        done_ = true;
        return {};
      }
      m.carry = std::move(rest);
      api.reset(&m.state);
      m.state.crc_flag = ISAL_GZIP;
      m.state.next_in = reinterpret_cast<uint8_t*>(m.carry.data());
      m.state.avail_in = static_cast<uint32_t>(m.carry.size());
      m.member_done = false;
    }
    if (m.state.avail_in == 0) {
      std::string_view c = pullCompressed();
      if (c.empty()) {
        error_ = Error{"the gzip stream ends before its end (truncated)", name_, {}};
        return {};
      }
      m.state.next_in = reinterpret_cast<uint8_t*>(const_cast<char*>(c.data()));
      m.state.avail_in = static_cast<uint32_t>(c.size());
    }
    uint32_t in_before = m.state.avail_in;
    m.state.next_out = reinterpret_cast<uint8_t*>(m.out.data());
    m.state.avail_out = static_cast<uint32_t>(m.out.size());
    int rc = api.inflate(&m.state);
    if (rc < 0) {
      error_ = Error{fmt::format("the gzip data is corrupt: {}", isalError(rc)), name_, {}};
      return {};
    }
    size_t produced = m.out.size() - m.state.avail_out;
    if (m.state.block_state == ISAL_BLOCK_FINISH) m.member_done = true;
    if (produced > 0) return std::string_view(m.out.data(), produced);
    // Nothing out: more input is needed, or the member just ended. Guard against a decoder that
    // neither consumes nor produces.
    if (m.state.avail_in == in_before && !m.member_done && ++idle > 4) {
      error_ = Error{"the gzip data is corrupt: the decoder made no progress", name_, {}};
      return {};
    }
  }
}

}  // namespace kh::image
