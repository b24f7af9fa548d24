// Helpers for writing JSON with RapidJSON writers (compact or pretty) from string_views.
#pragma once

#include <cstdint>
#include <string_view>

namespace kh::json {

template <typename Writer>
void key(Writer& w, std::string_view k) {
  w.Key(k.data(), static_cast<unsigned>(k.size()));
}

template <typename Writer>
void str(Writer& w, std::string_view k, std::string_view v) {
  key(w, k);
  w.String(v.data(), static_cast<unsigned>(v.size()));
}

template <typename Writer>
void num(Writer& w, std::string_view k, uint64_t v) {
  key(w, k);
  w.Uint64(v);
}

}  // namespace kh::json
