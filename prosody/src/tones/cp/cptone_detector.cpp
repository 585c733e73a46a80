// cptone_detector.cpp - CallProgressDetector: buffers 8 kHz audio into
// 16 ms blocks and runs them through the block analyser and tone tracker.
#include "cptone_detector.hpp"

#include <algorithm>
#include <cstring>

#include "block_analyser.hpp"
#include "tone_tracker.hpp"

namespace prosody::tones {

using cp::kBlock;

struct CallProgressDetector::Impl {
  CallProgressConfig config;
  cp::BlockAnalyser analyser;
  cp::ToneTracker tracker;
  float block[kBlock] = {};
  int filled = 0;
  int block_filler = 0;           // samples of the block that are filler for lost audio
  std::uint64_t block_start = 0;  // timeline sample of block[0]
  std::uint64_t next_sample = 0;  // timeline sample expected next
  bool started = false;

  explicit Impl(const CallProgressConfig& c) { apply(c); }

  void apply(const CallProgressConfig& c) {
    // A different set of tones means new blocks: the analysis starts afresh.
    if (c.tone_set != config.tone_set) analyser.set_tone_set(c.tone_set.get());
    config = c;  // keeps the tone set and repertoire alive
    cp::TrackerConfig t;
    t.report_simple_tones = c.report_simple_tones;
    t.report_cptones = c.report_cptones;
    t.min_duration_ms = c.min_duration_ms;
    if (c.tone_set) t.min_duration_ms = std::max(t.min_duration_ms, c.tone_set->min_on_ms);
    t.tone_set = c.tone_set.get();
    if (c.repertoire) {
      t.patterns = c.repertoire->data();
      t.pattern_count = static_cast<int>(c.repertoire->size());
    }
    tracker.configure(t);
  }

  void restart(std::uint64_t at) {
    analyser.reset();
    tracker.reset(at);
    filled = 0;
    block_filler = 0;
    block_start = at;
    next_sample = at;
    started = true;
  }

  void run_block(std::vector<ToneEvent>& events) {
    cp::BlockResult r;
    // A block that is mostly filler is not analysed; a little filler (the
    // edge of a lost packet) costs less than discarding the real audio.
    analyser.analyse(block, tracker.held_kind(), 2 * block_filler > kBlock, r);
    tracker.on_block(r, block_start, events);
    block_start += kBlock;
    filled = 0;
    block_filler = 0;
  }

  // Feed n samples (nullptr: lost audio, fed as silence).
  void feed(const float* x, std::size_t n, std::vector<ToneEvent>& events) {
    while (n > 0) {
      const std::size_t take = std::min<std::size_t>(n, std::size_t(kBlock - filled));
      if (x) {
        std::memcpy(block + filled, x, take * sizeof(float));
        x += take;
      } else {
        std::memset(block + filled, 0, take * sizeof(float));
        block_filler += int(take);
      }
      filled += int(take);
      n -= take;
      next_sample += take;
      if (filled == kBlock) run_block(events);
    }
  }

  // Keep the timeline: a jump forward is lost audio; a jump back restarts.
  void align(std::uint64_t first_sample, std::vector<ToneEvent>& events) {
    if (!started) {
      restart(first_sample);
      return;
    }
    if (first_sample == next_sample) return;
    constexpr std::uint64_t kMaxGap = 10 * 8000;  // longer gaps: start afresh
    if (first_sample > next_sample && first_sample - next_sample <= kMaxGap) {
      feed(nullptr, std::size_t(first_sample - next_sample), events);
    } else {
      restart(first_sample);
    }
  }
};

CallProgressDetector::CallProgressDetector(const CallProgressConfig& config) : impl_(new Impl(config)) {}
CallProgressDetector::~CallProgressDetector() { delete impl_; }
CallProgressDetector::CallProgressDetector(CallProgressDetector&& other) noexcept : impl_(other.impl_) {
  other.impl_ = nullptr;
}
CallProgressDetector& CallProgressDetector::operator=(CallProgressDetector&& other) noexcept {
  if (this != &other) {
    delete impl_;
    impl_ = other.impl_;
    other.impl_ = nullptr;
  }
  return *this;
}

void CallProgressDetector::configure(const CallProgressConfig& config) {
  if (impl_) impl_->apply(config);
}

void CallProgressDetector::process(const float* x, std::size_t n, std::uint64_t first_sample,
                                   std::vector<ToneEvent>& events) {
  if (!impl_ || n == 0) return;
  impl_->align(first_sample, events);
  impl_->feed(x, n, events);
}

void CallProgressDetector::conceal(std::size_t n, std::uint64_t first_sample, std::vector<ToneEvent>& events) {
  if (!impl_ || n == 0) return;
  impl_->align(first_sample, events);
  impl_->feed(nullptr, n, events);
}

void CallProgressDetector::reset() {
  if (!impl_) return;
  impl_->restart(0);
  impl_->started = false;  // the next call's first_sample sets the timeline
}

void CallProgressDetector::end_all(std::vector<ToneEvent>& events) {
  if (impl_) impl_->tracker.end_all(events);
}

bool CallProgressDetector::tone_present() const noexcept { return impl_ && impl_->tracker.tone_present(); }
bool CallProgressDetector::tone_candidate() const noexcept { return impl_ && impl_->tracker.tone_candidate(); }

}  // namespace prosody::tones
