/* prosodyelastic.hpp - how audio crosses between an element's streaming
 * thread and a module's processing path (its real-time thread, or the thread
 * stepping it) without either waiting for the other: frames in single-
 * producer single-consumer rings, and a futex to wake the side that waits.
 * GStreamer-free.
 *
 *  - InputFifo: prosodysink's frames on their way into the module. Real
 *    time, it is an elastic buffer: it starts handing out frames once the
 *    first has waited the jitter margin; a frame missing when the module
 *    needs it is an underrun (the module conceals it); audio beyond the
 *    capacity drops the oldest (an overrun); and the time a typical frame
 *    waits (a window's 25th percentile of the residences: late frames of
 *    network jitter do not move it) is held between half the margin and the
 *    margin plus two frames by dropping or repeating one sample in one frame
 *    of ten, which absorbs clock drift
 *    between the stream's source and the module. Stepped, it is a plain
 *    queue the module waits for.
 *  - OutputTap: a channel's output frames on their way to one prosodysrc.
 */
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "prosody/prosody.hpp"
#include "prosodytimeline.hpp"

namespace prosody_gst {

/* Monotonic time in ns (CLOCK_MONOTONIC, the module's real-time clock). */
std::int64_t monotonic_ns();

/* Wakes a thread waiting for what another thread does, without the waker
 * ever blocking (the module's real-time thread wakes elements): a futex on a
 * sequence number. Take a ticket before checking the condition, wait with
 * it; a notify after the ticket ends the wait. */
class Wakeup {
 public:
  std::uint32_t ticket() const { return seq_.load(std::memory_order_acquire); }
  /* Returns on a notify after ticket, or after timeout_ns (< 0: none). */
  void wait(std::uint32_t ticket, std::int64_t timeout_ns = -1);
  void notify();

 private:
  std::atomic<std::uint32_t> seq_{0};
  std::atomic<int> waiters_{0};
};

/* A ring of slots written in place: one producer claims and publishes, one
 * consumer reads the front and pops. */
template <class Slot>
class SlotRing {
 public:
  explicit SlotRing(std::size_t capacity) : slots_(capacity + 1) {}
  std::size_t capacity() const { return slots_.size() - 1; }
  std::size_t size() const {
    const std::size_t h = head_.load(std::memory_order_acquire), t = tail_.load(std::memory_order_acquire);
    return h >= t ? h - t : h + slots_.size() - t;
  }
  /* Producer: the next free slot, or null if full; then publish(). */
  Slot* claim() { return size() == capacity() ? nullptr : &slots_[head_.load(std::memory_order_relaxed)]; }
  void publish() { head_.store(next(head_.load(std::memory_order_relaxed)), std::memory_order_release); }
  /* Consumer: the oldest slot, or null if empty; then pop(). */
  Slot* front() {
    const std::size_t t = tail_.load(std::memory_order_relaxed);
    return t == head_.load(std::memory_order_acquire) ? nullptr : &slots_[t];
  }
  void pop() { tail_.store(next(tail_.load(std::memory_order_relaxed)), std::memory_order_release); }
  /* Producer or consumer, at set-up: every slot. */
  std::vector<Slot>& slots() { return slots_; }

 private:
  std::size_t next(std::size_t i) const { return i + 1 == slots_.size() ? 0 : i + 1; }
  std::vector<Slot> slots_;
  alignas(64) std::atomic<std::size_t> head_{0};
  alignas(64) std::atomic<std::size_t> tail_{0};
};

/* How an InputFifo behaves. */
struct ElasticSettings {
  /* Real time: prefill, underruns, overruns, drift (false: stepped, a plain
   * queue the module waits for). */
  bool elastic = true;
  /* Real time: what a full buffer does with new audio. true (a live
   * source): the oldest is dropped; false (a non-live source, paced by the
   * module): the producer waits for room. */
  bool drop_oldest = true;
  /* The jitter margin: the first frame waits this long before the module
   * takes it, and the drift control keeps a typical frame's wait between
   * half the margin and the margin plus two frames. */
  std::int64_t margin_ns = 5000000;
  /* Frames held at most (real time, dropping) or queued at most. */
  std::uint32_t capacity_frames = 10;
  /* The drift control's window: how long it watches before it corrects. */
  std::int64_t window_ns = 500000000;
};

/* Counters of an InputFifo (each written by one side). */
struct ElasticCounters {
  std::uint64_t frames_in = 0;      /* frames handed to the module */
  std::uint64_t underruns = 0;      /* frames the module needed and did not get (concealed) */
  std::uint64_t overrun_frames = 0; /* frames dropped as the oldest */
  std::uint64_t drift_dropped = 0;  /* samples dropped to hold the wait down */
  std::uint64_t drift_repeated = 0; /* samples repeated to hold it up */
  std::int64_t least_wait_ns = -1;  /* least residence over the last window (-1: none yet) */
};

/* prosodysink's frames on their way into the module. */
class InputFifo {
 public:
  InputFifo(std::uint32_t frame_samples, std::int64_t frame_ns, const ElasticSettings& settings);

  const ElasticSettings& settings() const { return settings_; }
  /* Producer, before the first frame: whether a full buffer drops the
   * oldest (a live source) or makes the producer wait (paced by the
   * module). */
  void set_drop_oldest(bool drop) { drop_oldest_ = drop; }
  bool drop_oldest() const { return drop_oldest_; }

  /* ---- Producer (the sink's streaming thread) ---- */
  /* Whether a frame can be queued now; when not, a dropping buffer has
   * asked the consumer to drop the oldest. */
  bool room();
  /* Samples the next frame takes from the timeline: the frame size, one
   * more when the drift control drops a sample, one fewer when it repeats
   * one. */
  std::uint32_t next_take() const;
  /* Queues the next frame: take samples (next_take()) from the timeline,
   * which holds them (ready(take), or ended), at monotonic time now_ns,
   * when room() said so. The frame that drains an ended timeline ends the
   * stream. */
  void push(Timeline& timeline, std::uint32_t take, std::int64_t now_ns);
  /* Forgets the stream (a flush): the consumer drops what is queued and
   * starts again with a prefill. */
  void restart();
  /* The producer waits here for room (stepped, or real time not dropping). */
  Wakeup& producer_wakeup() { return producer_wake_; }

  /* ---- Consumer (the module's processing path) ---- */
  /* The frame for the module frame due at due_ns (-1: stepped) into input's
   * pieces and ended; false: none this frame (missing). */
  bool take(std::int64_t due_ns, prosody::FrameInput& input);
  /* After the frame: frees what take() handed out. */
  void release_taken();
  /* Stepped: a frame is queued, or the stream has ended and drained. */
  bool ready() const { return ring_.size() > 0; }
  bool finished() const { return ended_seen_.load(std::memory_order_acquire) && ring_.size() == 0; }
  /* Stepped: nothing but the end is left (finished, or the next frame is
   * the end and holds no audio): the module need not step for it. */
  bool at_end();
  std::size_t queued() const { return ring_.size(); }

  ElasticCounters counters() const;

 private:
  struct Frame {
    std::vector<float> samples;
    std::vector<prosody::FramePiece> pieces; /* runs of samples present */
    std::int64_t pushed_ns = 0;
    bool ended = false;
  };
  void drift_control(std::int64_t due_ns, std::int64_t wait_ns);

  const std::uint32_t n_;
  const std::int64_t frame_ns_;
  const ElasticSettings settings_;
  bool drop_oldest_; /* producer's */
  SlotRing<Frame> ring_;
  Wakeup producer_wake_;
  /* Producer -> consumer requests. */
  std::atomic<std::uint32_t> drop_request_{0};
  std::atomic<bool> restart_request_{false};
  /* Consumer -> producer: the correction (-1 drop, +1 repeat). */
  std::atomic<int> correction_{0};
  /* The drift control drops or repeats a sample in one frame of this many:
   * up to 0.125% at 10 ms frames, ten times any real clock's error, and each
   * correction's phase step (sidebands at multiples of the frame rate)
   * rare. */
  static constexpr std::uint64_t kCorrectionEveryFrames = 10;
  /* The percentile of a window's waits taken as a typical frame's: above
   * the late frames of jitter (a loss held up, a burst; at 5 % loss of 10 ms
   * packets behind a 60 ms jitter buffer, ~1 frame in 4). */
  static constexpr std::size_t kLowPercentile = 25;
  std::uint64_t frames_pushed_ = 0; /* producer's */
  /* Scratch of the producer (one frame's worth, with a sample to spare). */
  TimelineFrame taken_;
  std::vector<float> dense_;
  std::vector<unsigned char> present_;

  /* Consumer state. */
  bool started_ = false;
  bool taking_ = false;
  bool after_underrun_ = false;
  std::atomic<bool> ended_seen_{false};
  std::int64_t window_start_ns_ = -1;
  std::int64_t window_least_ns_ = -1;
  std::vector<std::int64_t> window_waits_; /* this window's waits (reserved) */
  int last_side_ = 0;                      /* the last window's side of the band (+1 below, -1 above) */
  std::uint32_t trim_frames_ = 0;          /* a backlog to drop at the next take */

  /* Counters (relaxed atomics: read by stats from any thread). */
  std::atomic<std::uint64_t> frames_in_{0}, underruns_{0}, overrun_frames_{0}, drift_dropped_{0}, drift_repeated_{0};
  std::atomic<std::int64_t> least_wait_ns_{-1};
};

/* A channel's output frames on their way to one prosodysrc. */
class OutputTap {
 public:
  struct Frame {
    std::vector<float> samples;
    std::uint64_t first_sample = 0;
    std::int64_t due_ns = -1;
    bool eos = false;
  };
  OutputTap(std::uint32_t frame_samples, std::uint32_t capacity_frames);

  /* ---- Producer (the module's processing path) ---- */
  /* Queues a frame; false (counted) if the src has not made room. */
  bool push(const float* samples, std::uint64_t first_sample, std::int64_t due_ns);
  /* The src's stream ends after what is queued. */
  void push_eos();
  bool room() const { return ring_.size() < ring_.capacity() - 1; } /* one slot kept for EOS */

  /* ---- Consumer (the src's streaming thread) ---- */
  Frame* front() { return ring_.front(); }
  void pop() { ring_.pop(); }
  /* Drops all but the newest keep frames (a downstream that fell behind). */
  std::size_t drop_oldest(std::size_t keep);
  std::size_t queued() const { return ring_.size(); }
  Wakeup& consumer_wakeup() { return wake_; }

  std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  void count_dropped(std::size_t frames) { dropped_.fetch_add(frames, std::memory_order_relaxed); }

 private:
  const std::uint32_t n_;
  SlotRing<Frame> ring_;
  Wakeup wake_;
  std::atomic<std::uint64_t> dropped_{0};
};

}  // namespace prosody_gst
