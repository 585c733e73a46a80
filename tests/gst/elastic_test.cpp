// prosodysink's elastic buffer (InputFifo) on made-up times, without
// threads or GStreamer: the prefill, underruns and overruns as counted, the
// drift control's dropped sample, and a backlog dropped at once.
#include <gtest/gtest.h>

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

}  // namespace
