// block_power.hpp - the mean square of consecutive fixed-length blocks of a
// stream that arrives in chunks of any length: both detectors here judge
// the line by its power block by block.
#pragma once

#include <cstddef>
#include <cstdint>

namespace prosody::tones {

template <std::size_t kLength>
class BlockPower {
 public:
  void reset() {
    filled_ = 0;
    sum_ = 0.0;
  }
  // Calls on_block(mean_square, first) for each block completed by x[0..n),
  // first being the stream index of the block's first sample (x[0] is
  // first_sample).
  template <typename OnBlock>
  void feed(const float* x, std::size_t n, std::uint64_t first_sample, OnBlock&& on_block) {
    for (std::size_t i = 0; i < n; ++i) {
      sum_ += double(x[i]) * x[i];
      if (++filled_ < kLength) continue;
      const double mean_square = sum_ / double(kLength);
      filled_ = 0;
      sum_ = 0.0;
      on_block(mean_square, first_sample + i + 1 - kLength);
    }
  }

 private:
  std::size_t filled_ = 0;
  double sum_ = 0.0;
};

}  // namespace prosody::tones
