// Once: run an initialiser at most once, from any thread, the others waiting for it.
//
// What std::call_once does, without its cost on the path every admission request takes: glibc's
// pthread_once wakes waiters with a futex system call every time an initialiser finishes, even
// when nobody waits, and a per-request index runs its initialisers once per request. Here the
// finished case is one atomic load and the uncontended first run takes an uncontended mutex.
#pragma once

#include <atomic>
#include <mutex>

namespace kh {

class Once {
 public:
  template <typename Fn>
  void call(Fn&& fn) {
    if (done_.load(std::memory_order_acquire)) return;
    std::lock_guard<std::mutex> lock(mutex_);
    if (done_.load(std::memory_order_relaxed)) return;
    fn();  // if it throws, the next caller tries again (as std::call_once)
    done_.store(true, std::memory_order_release);
  }

 private:
  std::atomic<bool> done_{false};
  std::mutex mutex_;
};

}  // namespace kh
