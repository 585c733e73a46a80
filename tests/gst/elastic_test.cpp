// prosodysink's elastic buffer (InputFifo) on made-up times, without
// threads or GStreamer: the prefill, underruns and overruns as counted, the
// drift control's dropped sample, and a backlog dropped at once.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "prosodyelastic.hpp"
#include "prosodytimeline.hpp"

namespace {

using prosody_gst::ElasticSettings;
using prosody_gst::InputFifo;
using prosody_gst::Timeline;

constexpr std::uint32_t kN = 80;               // samples per frame
constexpr std::int64_t kFrameNs = 10000000;    // 10 ms
constexpr std::int64_t kMarginNs = 5000000;    // 5 ms
constexpr std::int64_t kWindowNs = 500000000;  // the drift control's window

// A source of consecutive samples, each its own index (as f32), so a frame
// shows which samples it holds.
struct Source {
  Timeline timeline;
  std::vector<std::vector<float>> chunks;
  float next = 0.0f;
  void add(std::uint32_t n) {
    chunks.emplace_back(n);
    for (float& v : chunks.back()) v = next++;
    timeline.push(Timeline::kNoPosition, false, chunks.back().data(), n * sizeof(float), prosody::SampleFormat::f32,
                  nullptr, nullptr);
  }
  // Queues the fifo's next frame, pushed at now_ns.
  void push(InputFifo& fifo, std::int64_t now_ns) {
    const std::uint32_t take = fifo.next_take();
    add(take);
    ASSERT_TRUE(fifo.room());
    fifo.push(timeline, take, now_ns);
  }
};

// The samples of the frame the module takes at due_ns (empty: none).
std::vector<float> take(InputFifo& fifo, std::int64_t due_ns) {
  prosody::FrameInput in;
  std::vector<float> out;
  if (!fifo.take(due_ns, in)) return out;
  for (const prosody::FramePiece& p : in.pieces) {
    const float* s = static_cast<const float*>(p.samples);
    out.insert(out.end(), s, s + p.count);
  }
  fifo.release_taken();
  return out;
}

ElasticSettings settings(std::uint32_t capacity = 10) {
  ElasticSettings s;
  s.margin_ns = kMarginNs;
  s.capacity_frames = capacity;
  s.window_ns = kWindowNs;
  return s;
}

TEST(ElasticBuffer, PrefillsThenCountsAnUnderrunPerMissingFrame) {
  InputFifo fifo(kN, kFrameNs, settings());
  Source src;
  src.push(fifo, 0);
  EXPECT_TRUE(take(fifo, 3000000).empty()) << "the first frame waits the margin";
  EXPECT_EQ(fifo.counters().underruns, 0u) << "the prefill is no underrun";
  const std::vector<float> first = take(fifo, 10000000);
  ASSERT_EQ(first.size(), kN);
  EXPECT_EQ(first[0], 0.0f);
  EXPECT_TRUE(take(fifo, 20000000).empty());
  EXPECT_TRUE(take(fifo, 30000000).empty());
  EXPECT_EQ(fifo.counters().underruns, 2u);
  src.push(fifo, 35000000);
  const std::vector<float> late = take(fifo, 40000000);
  ASSERT_EQ(late.size(), kN);
  EXPECT_EQ(late[0], float(kN)) << "the audio that came late goes on where it was";
  EXPECT_EQ(fifo.counters().frames_in, 2u);
  EXPECT_EQ(fifo.counters().overrun_frames, 0u);
}

TEST(ElasticBuffer, AFullBufferDropsTheOldest) {
  InputFifo fifo(kN, kFrameNs, settings(4));
  Source src;
  for (int i = 0; i < 4; ++i) src.push(fifo, 0);
  EXPECT_EQ(fifo.queued(), 4u);
  // A fifth frame finds the buffer full: the module is asked to drop all
  // but the margin's frame and the one being made.
  fifo.room();
  const std::vector<float> f = take(fifo, 10000000);
  ASSERT_EQ(f.size(), kN);
  EXPECT_EQ(fifo.counters().overrun_frames, 3u);
  EXPECT_EQ(f[0], float(3 * kN)) << "the newest frame is kept";
}

// A source whose frames wait 40 ms (beyond the band's top, the margin plus
// two frames, 25 ms, and not a backlog): after two windows out of the band,
// one sample in a frame of ten is dropped.
TEST(ElasticBuffer, DriftDropsASampleInOneFrameOfTen) {
  InputFifo fifo(kN, kFrameNs, settings(20));
  Source src;
  constexpr std::int64_t kWait = 40000000;
  std::vector<float> heard;
  // Frame j is pushed kWait before the module takes it, at (j + 1) frames;
  // four are queued ahead.
  auto pushed_at = [&](int j) { return (j + 1) * kFrameNs - kWait; };
  for (int j = 0; j < 4; ++j) src.push(fifo, pushed_at(j));
  for (int frame = 0; frame < 200; ++frame) {
    src.push(fifo, pushed_at(frame + 4));
    const std::vector<float> f = take(fifo, (frame + 1) * kFrameNs);
    ASSERT_EQ(f.size(), kN) << "frame " << frame;
    heard.insert(heard.end(), f.begin(), f.end());
  }
  for (int frame = 200; fifo.queued() > 0; ++frame) {  // what is queued, to the end
    const std::vector<float> f = take(fifo, (frame + 1) * kFrameNs);
    heard.insert(heard.end(), f.begin(), f.end());
  }
  const prosody_gst::ElasticCounters c = fifo.counters();
  EXPECT_EQ(c.underruns, 0u);
  EXPECT_EQ(c.overrun_frames, 0u);
  EXPECT_EQ(c.drift_repeated, 0u);
  // Windows end at 0.5, 1.0 s: corrections from 1.0 s (frame 100) on, one
  // frame of ten: 10 in the last second.
  EXPECT_GE(c.drift_dropped, 8u);
  EXPECT_LE(c.drift_dropped, 10u);
  std::size_t skips = 0;
  for (std::size_t i = 1; i < heard.size(); ++i) {
    const float step = heard[i] - heard[i - 1];
    if (step == 2.0f)
      ++skips;
    else
      ASSERT_EQ(step, 1.0f) << "at " << i;
  }
  EXPECT_EQ(skips, c.drift_dropped) << "each dropped sample is one skip in the audio, nothing else";
}

// Frames waiting far beyond the band (100 ms: a burst after a stall) are
// dropped at once after one window, back to the margin.
TEST(ElasticBuffer, ABacklogIsDroppedAtOnce) {
  InputFifo fifo(kN, kFrameNs, settings(30));
  Source src;
  constexpr std::int64_t kWait = 100000000;
  auto pushed_at = [&](int j) { return (j + 1) * kFrameNs - kWait; };
  for (int j = 0; j < 10; ++j) src.push(fifo, pushed_at(j));
  for (int frame = 0; frame < 52; ++frame) {
    src.push(fifo, pushed_at(frame + 10));
    ASSERT_EQ(take(fifo, (frame + 1) * kFrameNs).size(), kN);
  }
  const prosody_gst::ElasticCounters c = fifo.counters();
  EXPECT_EQ(c.overrun_frames, 9u) << "(100 ms - 5 ms) / 10 ms frames dropped";
  EXPECT_EQ(c.underruns, 0u);
  EXPECT_LE(fifo.queued(), 2u) << "what is left waits about the margin";
}

// ---------------------------------------------------------------------------
// Jitter against drift, on a simulated network: a source sends a frame of
// audio every frame period of its own clock (drift: that clock's error); each
// frame arrives after a network delay uniform in 0..20 ms, and, with a loss
// (5 % of frames), a jitter buffer holds it and those behind it until 60 ms
// after it was due (in order: a frame never arrives before the one before
// it). The sink pushes a frame into the fifo whenever the timeline holds the
// next one; the module takes one every 5 ms. Deterministic (seeded).
constexpr std::uint32_t kLossPerMille = 25;  // of 5 ms frames: 5 % of 10 ms packets
struct JitterRun {
  std::uint64_t dropped = 0, repeated = 0, underruns = 0, overruns = 0;
};

JitterRun run_jittered(double clock_error, double seconds, std::uint32_t seed, std::uint32_t loss_per_mille) {
  constexpr std::uint32_t kSimN = 40;  // 5 ms frames
  constexpr std::int64_t kSimFrameNs = 5000000;
  constexpr std::int64_t kJitterNs = 20000000;    // delay uniform in 0..20 ms
  constexpr std::int64_t kLossHoldNs = 60000000;  // a loss holds the stream 60 ms
  ElasticSettings s;
  s.margin_ns = 40000000;  // the cascade's sinks: latency 40 ms
  s.capacity_frames = 100;
  s.window_ns = kWindowNs;
  InputFifo fifo(kSimN, kSimFrameNs, s);
  Source src;
  std::uint32_t rng = seed;
  auto next_random = [&rng]() {  // xorshift32
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
  };
  const std::int64_t send_period = std::int64_t(double(kSimFrameNs) / (1.0 + clock_error));
  const std::int64_t end_ns = std::int64_t(seconds * 1e9);
  std::int64_t arrival = 0, sent = 0, due = kSimFrameNs;
  std::uint32_t held = 0;  // samples arrived, not yet pushed
  while (due < end_ns) {
    // The next event: an arrival or a module frame, whichever is first.
    std::int64_t delay = std::int64_t(next_random() % std::uint32_t(kJitterNs));
    if (next_random() % 1000 < loss_per_mille) delay = kLossHoldNs;
    const std::int64_t next_arrival = std::max(arrival, sent + delay);
    while (due <= next_arrival && due < end_ns) {
      prosody::FrameInput in;
      if (fifo.take(due, in)) fifo.release_taken();
      due += kSimFrameNs;
    }
    arrival = next_arrival;
    sent += send_period;
    src.chunks.emplace_back(kSimN);
    for (float& v : src.chunks.back()) v = src.next++;
    src.timeline.push(Timeline::kNoPosition, false, src.chunks.back().data(), kSimN * sizeof(float),
                      prosody::SampleFormat::f32, nullptr, nullptr);
    held += kSimN;
    for (std::uint32_t take = fifo.next_take(); held >= take && fifo.room(); take = fifo.next_take()) {
      fifo.push(src.timeline, take, arrival);
      held -= take;
    }
  }
  const prosody_gst::ElasticCounters c = fifo.counters();
  return {c.drift_dropped, c.drift_repeated, c.underruns, c.overrun_frames};
}

// Jitter of 0..20 ms and the stalls of losses, no drift, 60 s: the margin
// (40 ms) covers the jitter; the stalls' underruns are concealed. Few or no
// corrections: jitter is not drift. (The least wait of every window falls
// below the band at each stall: a control on it repeats a sample in every
// tenth frame, and trims the excess it builds.)
TEST(ElasticBuffer, JitterAndLossStallsWithoutDriftMakeFewCorrections) {
  for (std::uint32_t seed : {1u, 2u, 3u}) {
    const JitterRun r = run_jittered(0.0, 60.0, seed, kLossPerMille);
    RecordProperty("seed" + std::to_string(seed) + "_dropped", std::to_string(r.dropped));
    RecordProperty("seed" + std::to_string(seed) + "_repeated", std::to_string(r.repeated));
    EXPECT_LE(r.dropped + r.repeated, 10u)
        << "seed " << seed << ": dropped " << r.dropped << ", repeated " << r.repeated << ", underruns " << r.underruns;
    EXPECT_EQ(r.overruns, 0u) << "seed " << seed;
  }
}

// The same jitter with the source's clock 0.2 % fast or slow: 16 samples a
// second too many or too few, 960 in 60 s. The control corrects them the
// right way (once the waits have moved out of the band, within ~15 s), none
// the other way; the fast one also with the losses' stalls. (A slow source
// behind stalls longer than the margin: the stalls' underruns, each a
// concealed frame, make up its lack before the waits reach the band.)
TEST(ElasticBuffer, DriftUnderJitterIsCorrectedTheRightWay) {
  for (std::uint32_t loss : {0u, kLossPerMille}) {
    const JitterRun fast = run_jittered(0.002, 60.0, 4, loss);
    EXPECT_GE(fast.dropped, 400u) << "loss " << loss << ": repeated " << fast.repeated << ", underruns "
                                  << fast.underruns;
    EXPECT_EQ(fast.repeated, 0u) << "loss " << loss;
  }
  const JitterRun slow = run_jittered(-0.002, 60.0, 5, 0);
  EXPECT_GE(slow.repeated, 400u) << "dropped " << slow.dropped << ", underruns " << slow.underruns;
  EXPECT_EQ(slow.dropped, 0u);
}

}  // namespace
