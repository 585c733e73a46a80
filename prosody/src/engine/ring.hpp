// Single-producer single-consumer ring buffer: the only way data crosses
// between API threads and the processing thread, so neither side ever waits
// for the other.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstring>
#include <type_traits>
#include <vector>

namespace prosody::detail {

template <class T>
class SpscRing {
 public:
  // Holds exactly capacity items (one slot more is kept free to tell full
  // from empty); not rounded up, so many small rings stay small in cache.
  explicit SpscRing(std::size_t capacity) : buf_(capacity + 1) {}

  std::size_t capacity() const noexcept { return buf_.size() - 1; }
  std::size_t size() const noexcept {
    return distance(tail_.load(std::memory_order_acquire), head_.load(std::memory_order_acquire));
  }
  std::size_t free_space() const noexcept { return capacity() - size(); }

  // Producer side. Returns how many items were written.
  std::size_t write(const T* data, std::size_t n) {
    const std::size_t head = head_.load(std::memory_order_relaxed);
    const std::size_t tail = tail_.load(std::memory_order_acquire);
    n = std::min(n, capacity() - distance(tail, head));
    copy_in(head, data, n);
    head_.store(advance(head, n), std::memory_order_release);
    return n;
  }

  bool push(const T& item) { return write(&item, 1) == 1; }

  // Consumer side. Returns how many items were read.
  std::size_t read(T* data, std::size_t n) {
    const std::size_t tail = tail_.load(std::memory_order_relaxed);
    const std::size_t head = head_.load(std::memory_order_acquire);
    n = std::min(n, distance(tail, head));
    copy_out(tail, data, n);
    tail_.store(advance(tail, n), std::memory_order_release);
    return n;
  }

  bool pop(T& item) { return read(&item, 1) == 1; }

  // Consumer side: drop everything queued.
  void clear() { tail_.store(head_.load(std::memory_order_acquire), std::memory_order_release); }

 private:
  std::size_t distance(std::size_t from, std::size_t to) const noexcept {
    return to >= from ? to - from : to + buf_.size() - from;
  }
  std::size_t advance(std::size_t at, std::size_t n) const noexcept {
    at += n;
    return at >= buf_.size() ? at - buf_.size() : at;
  }
  // At most two contiguous pieces: up to the end of the buffer, then from its start.
  void copy_in(std::size_t at, const T* data, std::size_t n) {
    const std::size_t first = std::min(n, buf_.size() - at);
    if constexpr (std::is_trivially_copyable_v<T>) {
      std::memcpy(buf_.data() + at, data, first * sizeof(T));
      std::memcpy(buf_.data(), data + first, (n - first) * sizeof(T));
    } else {
      std::copy_n(data, first, buf_.begin() + static_cast<std::ptrdiff_t>(at));
      std::copy_n(data + first, n - first, buf_.begin());
    }
  }
  void copy_out(std::size_t at, T* data, std::size_t n) const {
    const std::size_t first = std::min(n, buf_.size() - at);
    if constexpr (std::is_trivially_copyable_v<T>) {
      std::memcpy(data, buf_.data() + at, first * sizeof(T));
      std::memcpy(data + first, buf_.data(), (n - first) * sizeof(T));
    } else {
      std::copy_n(buf_.begin() + static_cast<std::ptrdiff_t>(at), first, data);
      std::copy_n(buf_.begin(), n - first, data + first);
    }
  }

  std::vector<T> buf_;
  alignas(64) std::atomic<std::size_t> head_{0};
  alignas(64) std::atomic<std::size_t> tail_{0};
};

}  // namespace prosody::detail
