// parallelFor: run fn(i) for i in [0, n) on up to `threads` threads (work-stealing by an atomic
// counter). Callers write results into per-index slots, so the outcome does not depend on the
// thread count.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace kh {

template <typename Fn>
void parallelFor(size_t n, unsigned threads, Fn fn) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  unsigned t = static_cast<unsigned>(std::min<size_t>(threads, n));
  if (t <= 1) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<size_t> next{0};
  std::vector<std::thread> pool;
  for (unsigned k = 0; k < t; ++k)
    pool.emplace_back([&] {
      for (size_t i = next++; i < n; i = next++) fn(i);
    });
  for (auto& th : pool) th.join();
}

}  // namespace kh
