/* prosodyelastic.cpp - frames between streaming threads and a module's
 * processing path. */
#include "prosodyelastic.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstring>

namespace prosody_gst {

std::int64_t monotonic_ns() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return std::int64_t(t.tv_sec) * 1000000000LL + t.tv_nsec;
}

/* ---- Wakeup ---- */

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t), "a futex word is 32 bits");

void Wakeup::wait(std::uint32_t ticket, std::int64_t timeout_ns) {
  waiters_.fetch_add(1, std::memory_order_seq_cst);
  if (seq_.load(std::memory_order_seq_cst) == ticket) {
    timespec ts{};
    if (timeout_ns >= 0) {
      ts.tv_sec = time_t(timeout_ns / 1000000000LL);
      ts.tv_nsec = long(timeout_ns % 1000000000LL);
    }
    /* The kernel compares the word with ticket again: a notify in between
     * is not lost. */
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&seq_), FUTEX_WAIT_PRIVATE, ticket,
            timeout_ns >= 0 ? &ts : nullptr, nullptr, 0);
  }
  waiters_.fetch_sub(1, std::memory_order_seq_cst);
}

void Wakeup::notify() {
  seq_.fetch_add(1, std::memory_order_seq_cst);
  if (waiters_.load(std::memory_order_seq_cst) > 0)
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&seq_), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
}

/* ---- InputFifo ---- */

namespace {

/* Slack beyond the capacity: where frames go while a drop of the oldest,
 * asked for, waits for the consumer's next frame. */
constexpr std::uint32_t kSlackFrames = 4;

}  // namespace

InputFifo::InputFifo(std::uint32_t frame_samples, std::int64_t frame_ns, const ElasticSettings& settings)
    : n_(frame_samples),
      frame_ns_(frame_ns),
      settings_(settings),
      drop_oldest_(settings.drop_oldest),
      ring_(std::max<std::uint32_t>(settings.capacity_frames, 1) + kSlackFrames),
      dense_(frame_samples + 1),
      present_(frame_samples + 1) {
  for (Frame& f : ring_.slots()) {
    f.samples.resize(n_);
    f.pieces.reserve(n_ / 2 + 1);
  }
  taken_.pieces.reserve(64);
  /* A window's waits, with room for a late window's extra frames (no
   * allocation on the module's thread). */
  window_waits_.reserve(std::size_t(settings.window_ns / std::max<std::int64_t>(frame_ns, 1)) * 2 + 4);
}

bool InputFifo::room() {
  const std::size_t queued = ring_.size();
  if (!settings_.elastic || !drop_oldest_) return queued < settings_.capacity_frames;
  if (queued >= settings_.capacity_frames && drop_request_.load(std::memory_order_acquire) == 0) {
    /* Keep what the margin needs, and the frame being made: the newest audio
     * then waits about the margin again. */
    const std::size_t keep = std::size_t(settings_.margin_ns / frame_ns_) + 1;
    drop_request_.store(std::uint32_t(queued - std::min(queued, keep)), std::memory_order_release);
  }
  return ring_.claim() != nullptr;
}

std::uint32_t InputFifo::next_take() const {
  /* correction +1 repeats a sample (one fewer taken), -1 drops one; in one
   * frame of every kCorrectionEveryFrames only. */
  if (!settings_.elastic || frames_pushed_ % kCorrectionEveryFrames != 0) return n_;
  return std::uint32_t(std::int64_t(n_) - correction_.load(std::memory_order_acquire));
}

void InputFifo::push(Timeline& timeline, std::uint32_t m, std::int64_t now_ns) {
  Frame* f = ring_.claim();
  if (!f || m + 1 < n_ || m > n_ + 1) return;
  const int c = int(std::int64_t(n_) - std::int64_t(m));
  timeline.take(m, taken_);
  /* The frame as received, dense, with what is present marked. */
  std::fill(present_.begin(), present_.begin() + m, 0);
  for (const prosody::FramePiece& p : taken_.pieces) {
    if (p.format == prosody::SampleFormat::s16)
      prosody::s16_to_float(static_cast<const std::int16_t*>(p.samples), dense_.data() + p.offset, p.count);
    else
      std::memcpy(dense_.data() + p.offset, p.samples, p.count * sizeof(float));
    std::fill(present_.begin() + p.offset, present_.begin() + p.offset + p.count, 1);
  }
  const bool ended = timeline.drained();
  timeline.release_taken(); /* copied: the buffers can go */
  /* Into the slot: sample d dropped (c = -1) or repeated (c = +1), in the
   * middle of the frame. */
  const std::uint32_t d = m / 2;
  f->pieces.clear();
  for (std::uint32_t i = 0; i < n_; ++i) {
    const std::uint32_t from = c < 0 ? (i < d ? i : i + 1) : c > 0 ? (i <= d ? i : i - 1) : i;
    f->samples[i] = dense_[from];
    if (!present_[from]) continue;
    if (!f->pieces.empty() && f->pieces.back().offset + f->pieces.back().count == i)
      ++f->pieces.back().count;
    else
      f->pieces.push_back(prosody::FramePiece{i, 1, nullptr, prosody::SampleFormat::f32});
  }
  for (prosody::FramePiece& p : f->pieces) p.samples = f->samples.data() + p.offset;
  if (c < 0) drift_dropped_.fetch_add(1, std::memory_order_relaxed);
  if (c > 0) drift_repeated_.fetch_add(1, std::memory_order_relaxed);
  f->pushed_ns = now_ns;
  f->ended = ended;
  ++frames_pushed_;
  ring_.publish();
}

void InputFifo::restart() {
  restart_request_.store(true, std::memory_order_release);
  correction_.store(0, std::memory_order_release);
}

bool InputFifo::take(std::int64_t due_ns, prosody::FrameInput& input) {
  if (restart_request_.exchange(false, std::memory_order_acq_rel)) {
    while (ring_.front()) ring_.pop();
    started_ = false;
    ended_seen_.store(false, std::memory_order_release);
    window_start_ns_ = window_least_ns_ = -1;
    window_waits_.clear();
    last_side_ = 0;
    trim_frames_ = 0;
    drop_request_.store(0, std::memory_order_release);
    producer_wake_.notify();
  }
  if (const std::uint32_t k = drop_request_.exchange(0, std::memory_order_acq_rel)) {
    std::uint32_t dropped = 0;
    for (; dropped < k && ring_.front(); ++dropped) ring_.pop();
    overrun_frames_.fetch_add(dropped, std::memory_order_relaxed);
  }
  if (trim_frames_ > 0) {
    /* A backlog the drift control would take minutes to work off (a burst
     * after a stall): dropped at once, the oldest first, as an overrun. */
    std::uint32_t dropped = 0;
    for (; dropped < trim_frames_ && ring_.size() > 1; ++dropped) ring_.pop();
    overrun_frames_.fetch_add(dropped, std::memory_order_relaxed);
    trim_frames_ = 0;
  }
  Frame* f = ring_.front();
  if (settings_.elastic) {
    if (!started_) {
      /* The prefill: the first frame waits the margin. */
      if (!f || due_ns - f->pushed_ns < settings_.margin_ns) return false;
      started_ = true;
      after_underrun_ = false;
    }
    if (!f) {
      if (!ended_seen_.load(std::memory_order_relaxed)) {
        underruns_.fetch_add(1, std::memory_order_relaxed);
        after_underrun_ = true;
      }
      return false;
    }
    /* The frame that arrived late, after an underrun, says nothing about the
     * wait from here on (the frames behind it wait a frame longer). */
    if (!after_underrun_) drift_control(due_ns, due_ns - f->pushed_ns);
    after_underrun_ = false;
  } else if (!f) {
    return false;
  }
  input.pieces = prosody::Span<const prosody::FramePiece>(f->pieces.data(), f->pieces.size());
  input.ended = f->ended;
  taking_ = true;
  frames_in_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void InputFifo::drift_control(std::int64_t due_ns, std::int64_t wait_ns) {
  if (window_start_ns_ < 0) window_start_ns_ = due_ns;
  window_least_ns_ = window_least_ns_ < 0 ? wait_ns : std::min(window_least_ns_, wait_ns);
  if (window_waits_.size() < window_waits_.capacity()) window_waits_.push_back(wait_ns);
  if (due_ns - window_start_ns_ < settings_.window_ns) return;
  /* A typical frame's wait (the window's 25th percentile) is held between
   * half the margin and the margin plus two frames: below, a sample is
   * repeated (in one frame of ten); above, one is dropped.
   * Network jitter makes some frames late: a loss held up by a jitter
   * buffer, a burst. They lower the least wait of their window, not a
   * typical frame's (their underruns are concealed): the percentile moves
   * with drift, not with jitter. Drift moves the waits for good: only two
   * windows in a row out of the band, on the same side, are corrected. (A
   * clock 100 ppm off moves them by 1 ms in 10 s; each correcting window
   * moves them back by 5 samples, 0.6 ms.) A backlog is judged on the least
   * wait: every frame had that much to spare. */
  const std::int64_t least = window_least_ns_;
  const auto low = window_waits_.begin() + std::ptrdiff_t(window_waits_.size() * kLowPercentile / 100);
  std::nth_element(window_waits_.begin(), low, window_waits_.end());
  const std::int64_t typical = *low;
  window_waits_.clear();
  least_wait_ns_.store(least, std::memory_order_relaxed);
  if (least > settings_.margin_ns + 4 * frame_ns_) {
    /* Far above the band: a backlog, not drift. Back to the margin. */
    trim_frames_ = std::uint32_t((least - settings_.margin_ns) / frame_ns_);
    correction_.store(0, std::memory_order_release);
    last_side_ = 0;
    window_start_ns_ = due_ns;
    window_least_ns_ = -1;
    return;
  }
  int side = 0;
  if (typical < settings_.margin_ns / 2)
    side = +1;
  else if (typical > settings_.margin_ns + 2 * frame_ns_)
    side = -1;
  correction_.store(side != 0 && side == last_side_ ? side : 0, std::memory_order_release);
  last_side_ = side;
  window_start_ns_ = due_ns;
  window_least_ns_ = -1;
}

bool InputFifo::at_end() {
  if (finished()) return true;
  const Frame* f = ring_.front();
  return f && f->ended && f->pieces.empty();
}

void InputFifo::release_taken() {
  if (!taking_) return;
  taking_ = false;
  if (ring_.front()->ended) ended_seen_.store(true, std::memory_order_release);
  ring_.pop();
  producer_wake_.notify();
}

ElasticCounters InputFifo::counters() const {
  ElasticCounters c;
  c.frames_in = frames_in_.load(std::memory_order_relaxed);
  c.underruns = underruns_.load(std::memory_order_relaxed);
  c.overrun_frames = overrun_frames_.load(std::memory_order_relaxed);
  c.drift_dropped = drift_dropped_.load(std::memory_order_relaxed);
  c.drift_repeated = drift_repeated_.load(std::memory_order_relaxed);
  c.least_wait_ns = least_wait_ns_.load(std::memory_order_relaxed);
  return c;
}

/* ---- OutputTap ---- */

OutputTap::OutputTap(std::uint32_t frame_samples, std::uint32_t capacity_frames)
    : n_(frame_samples), ring_(std::max<std::uint32_t>(capacity_frames, 1) + 1) {
  for (Frame& f : ring_.slots()) f.samples.resize(n_);
}

bool OutputTap::push(const float* samples, std::uint64_t first_sample, std::int64_t due_ns) {
  Frame* f = room() ? ring_.claim() : nullptr;
  if (!f) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  std::memcpy(f->samples.data(), samples, n_ * sizeof(float));
  f->first_sample = first_sample;
  f->due_ns = due_ns;
  f->eos = false;
  ring_.publish();
  wake_.notify();
  return true;
}

void OutputTap::push_eos() {
  if (Frame* f = ring_.claim()) {
    f->eos = true;
    ring_.publish();
  }
  wake_.notify();
}

std::size_t OutputTap::drop_oldest(std::size_t keep) {
  std::size_t dropped = 0;
  while (ring_.size() > keep) {
    ring_.pop();
    ++dropped;
  }
  count_dropped(dropped);
  return dropped;
}

}  // namespace prosody_gst
