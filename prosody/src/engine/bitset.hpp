// A growable bitset over participant ids: an output's participant set, as
// Prosody's conference outputs hold a bitmask of input ids.
#pragma once

#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <vector>

namespace prosody::detail {

class IdSet {
 public:
  bool test(std::size_t i) const noexcept {
    const std::size_t w = i >> 6;
    return w < words_.size() && ((words_[w] >> (i & 63)) & 1u);
  }
  // Returns true if the bit was newly set.
  bool set(std::size_t i) {
    const std::size_t w = i >> 6;
    if (w >= words_.size()) words_.resize(w + 1, 0);
    const std::uint64_t mask = std::uint64_t{1} << (i & 63);
    const bool was = words_[w] & mask;
    words_[w] |= mask;
    return !was;
  }
  // Returns true if the bit was set.
  bool reset(std::size_t i) noexcept {
    const std::size_t w = i >> 6;
    if (w >= words_.size()) return false;
    const std::uint64_t mask = std::uint64_t{1} << (i & 63);
    const bool was = words_[w] & mask;
    words_[w] &= ~mask;
    return was;
  }
  void clear() noexcept { words_.clear(); }
  bool empty() const noexcept {
    for (auto w : words_)
      if (w) return false;
    return true;
  }
  std::size_t count() const noexcept {
    std::size_t c = 0;
    for (auto w : words_) c += static_cast<std::size_t>(__builtin_popcountll(w));
    return c;
  }
  std::size_t word_count() const noexcept { return words_.size(); }
  std::uint64_t word(std::size_t w) const noexcept { return w < words_.size() ? words_[w] : 0; }

  bool intersects(const IdSet& o) const noexcept {
    const std::size_t n = std::min(words_.size(), o.words_.size());
    for (std::size_t i = 0; i < n; ++i)
      if (words_[i] & o.words_[i]) return true;
    return false;
  }
  void unite(const IdSet& o) {
    if (o.words_.size() > words_.size()) words_.resize(o.words_.size(), 0);
    for (std::size_t i = 0; i < o.words_.size(); ++i) words_[i] |= o.words_[i];
  }
  // Number of ids in this set and not in o.
  std::size_t count_minus(const IdSet& o) const noexcept {
    std::size_t c = 0;
    for (std::size_t i = 0; i < words_.size(); ++i)
      c += static_cast<std::size_t>(__builtin_popcountll(words_[i] & ~o.word(i)));
    return c;
  }
  bool operator==(const IdSet& o) const noexcept {
    const std::size_t n = std::max(words_.size(), o.words_.size());
    for (std::size_t i = 0; i < n; ++i)
      if (word(i) != o.word(i)) return false;
    return true;
  }

  // Calls f(id) for every id set.
  template <class F>
  void for_each(F&& f) const {
    for (std::size_t w = 0; w < words_.size(); ++w) {
      std::uint64_t bits = words_[w];
      while (bits) {
        const int b = __builtin_ctzll(bits);
        f((w << 6) + static_cast<std::size_t>(b));
        bits &= bits - 1;
      }
    }
  }
  // Calls f(id) for every id in this set and not in o.
  template <class F>
  void for_each_minus(const IdSet& o, F&& f) const {
    for (std::size_t w = 0; w < words_.size(); ++w) {
      std::uint64_t bits = words_[w] & ~o.word(w);
      while (bits) {
        const int b = __builtin_ctzll(bits);
        f((w << 6) + static_cast<std::size_t>(b));
        bits &= bits - 1;
      }
    }
  }
  // Calls f(id) for every id whose membership differs between this and o.
  template <class F>
  void for_each_difference(const IdSet& o, F&& f) const {
    const std::size_t n = std::max(words_.size(), o.words_.size());
    for (std::size_t w = 0; w < n; ++w) {
      std::uint64_t bits = word(w) ^ o.word(w);
      while (bits) {
        const int b = __builtin_ctzll(bits);
        f((w << 6) + static_cast<std::size_t>(b));
        bits &= bits - 1;
      }
    }
  }

 private:
  std::vector<std::uint64_t> words_;
};

// Hands out the lowest free id, as Prosody allocates participant ids.
class IdAllocator {
 public:
  std::size_t allocate() {
    while (first_free_word_ < used_.size() && used_[first_free_word_] == ~std::uint64_t{0}) ++first_free_word_;
    if (first_free_word_ == used_.size()) used_.push_back(0);
    const int b = __builtin_ctzll(~used_[first_free_word_]);
    used_[first_free_word_] |= std::uint64_t{1} << b;
    return (first_free_word_ << 6) + static_cast<std::size_t>(b);
  }
  void release(std::size_t id) {
    const std::size_t w = id >> 6;
    if (w >= used_.size()) return;
    used_[w] &= ~(std::uint64_t{1} << (id & 63));
    if (w < first_free_word_) first_free_word_ = w;
  }
  bool in_use(std::size_t id) const noexcept {
    const std::size_t w = id >> 6;
    return w < used_.size() && ((used_[w] >> (id & 63)) & 1u);
  }
  // One past the highest id ever handed out.
  std::size_t bound() const noexcept { return used_.size() * 64; }

 private:
  std::vector<std::uint64_t> used_;
  std::size_t first_free_word_ = 0;
};

}  // namespace prosody::detail
