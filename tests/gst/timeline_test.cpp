// The input timeline (gst/prosodytimeline.hpp) on its own: placement,
// trimming, gaps, frames and releases, sample for sample.
#include "prosodytimeline.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

using prosody::FramePiece;
using prosody::SampleFormat;
using prosody_gst::Placement;
using prosody_gst::Timeline;
using prosody_gst::TimelineFrame;
using prosody_gst::TimelineSettings;

namespace {

constexpr std::int64_t kNone = Timeline::kNoPosition;

// Chunks whose samples say where they came from: S16 chunk k, sample i holds
// tag(k, i); released chunks are counted per chunk.
struct Source {
  std::vector<std::unique_ptr<std::vector<std::int16_t>>> s16;
  std::vector<std::unique_ptr<std::vector<float>>> f32;
  std::vector<int> releases;  // per chunk id

  struct Owner {
    Source* source;
    int id;
  };
  std::vector<std::unique_ptr<Owner>> owners;

  static std::int16_t tag(int chunk, std::size_t i) { return std::int16_t((chunk * 1000 + int(i)) % 32000); }

  static void release(void* p) {
    Owner* o = static_cast<Owner*>(p);
    ++o->source->releases[std::size_t(o->id)];
  }

  Owner* new_owner() {
    owners.push_back(std::make_unique<Owner>(Owner{this, int(releases.size())}));
    releases.push_back(0);
    return owners.back().get();
  }

  Placement push(Timeline& t, std::int64_t pos, std::size_t n, bool discont = false) {
    Owner* o = new_owner();
    s16.push_back(std::make_unique<std::vector<std::int16_t>>(n));
    for (std::size_t i = 0; i < n; ++i) (*s16.back())[i] = tag(o->id, i);
    return t.push(pos, discont, s16.back()->data(), n * 2, SampleFormat::s16, &Source::release, o);
  }

  Placement push_f32(Timeline& t, std::int64_t pos, std::size_t n, bool discont = false) {
    Owner* o = new_owner();
    f32.push_back(std::make_unique<std::vector<float>>(n));
    for (std::size_t i = 0; i < n; ++i) (*f32.back())[i] = float(tag(o->id, i));
    return t.push(pos, discont, f32.back()->data(), n * 4, SampleFormat::f32, &Source::release, o);
  }

  int total_releases() const {
    int s = 0;
    for (int r : releases) s += r;
    return s;
  }
};

// A frame as one entry per sample: the sample's tag, or -1 where missing.
std::vector<int> flatten(const TimelineFrame& f) {
  std::vector<int> out;
  prosody_gst::for_each_run(
      f,
      [&](const FramePiece& p) {
        for (std::uint32_t i = 0; i < p.count; ++i)
          out.push_back(p.format == SampleFormat::s16 ? int(static_cast<const std::int16_t*>(p.samples)[i])
                                                      : int(static_cast<const float*>(p.samples)[i]));
      },
      [&](std::uint32_t, std::uint32_t n) { out.insert(out.end(), n, -1); });
  return out;
}

// Takes a frame of n and flattens it.
std::vector<int> take(Timeline& t, std::uint32_t n) {
  TimelineFrame f;
  t.take(n, f);
  return flatten(f);
}

// Tags of chunk k, samples [from, to).
std::vector<int> tags(int chunk, std::size_t from, std::size_t to) {
  std::vector<int> v;
  for (std::size_t i = from; i < to; ++i) v.push_back(Source::tag(chunk, i));
  return v;
}

std::vector<int> missing(std::size_t n) { return std::vector<int>(n, -1); }

std::vector<int> cat(std::initializer_list<std::vector<int>> parts) {
  std::vector<int> v;
  for (const auto& p : parts) v.insert(v.end(), p.begin(), p.end());
  return v;
}

// A timeline with a threshold of 8 samples and no discont wait, fed by src.
class TimelineWithThreshold : public ::testing::Test {
 protected:
  Source src;  // outlives the timeline, which releases into it
  Timeline t{TimelineSettings{8, 0}};
};

}  // namespace

TEST(Timeline, ContiguousChunksComeOutWhole) {
  Source src;  // outlives the timeline, which releases into it
  Timeline t;
  for (int k = 0; k < 3; ++k) {
    const Placement p = src.push(t, 1000 + 160 * k, 160);
    EXPECT_EQ(p.start, 1000 + 160 * k);
    EXPECT_EQ(p.kept, 160u);
    EXPECT_EQ(p.gap, 0u);
    EXPECT_FALSE(p.resync);
  }
  EXPECT_EQ(t.read_position(), 1000) << "the first chunk starts the timeline";
  EXPECT_EQ(t.queued(), 480u);
  TimelineFrame f;
  for (int k = 0; k < 3; ++k) {
    ASSERT_TRUE(t.ready(160));
    t.take(160, f);
    EXPECT_EQ(f.first, 1000 + 160 * k);
    ASSERT_EQ(f.pieces.size(), 1u);
    EXPECT_EQ(f.missing, 0u);
    EXPECT_EQ(flatten(f), tags(k, 0, 160));
    EXPECT_EQ(src.releases[std::size_t(k)], 0) << "released only after release_taken()";
    t.release_taken();
    EXPECT_EQ(src.releases[std::size_t(k)], 1);
  }
  EXPECT_FALSE(t.ready(1));
  EXPECT_EQ(t.queued(), 0u);
  EXPECT_EQ(t.counters().samples_in, 480u);
  EXPECT_EQ(t.counters().missing_samples, 0u);
}

TEST(Timeline, FramesSplitAndJoinChunks) {
  Source src;  // outlives the timeline, which releases into it
  Timeline t;
  for (int k = 0; k < 3; ++k) src.push(t, 100 * k, 100);
  TimelineFrame f;
  t.take(150, f);
  ASSERT_EQ(f.pieces.size(), 2u);
  EXPECT_EQ(f.pieces[1].offset, 100u);
  EXPECT_EQ(flatten(f), cat({tags(0, 0, 100), tags(1, 0, 50)}));
  t.release_taken();
  EXPECT_EQ(src.total_releases(), 1) << "chunk 1 is half used";
  t.take(150, f);
  EXPECT_EQ(flatten(f), cat({tags(1, 50, 100), tags(2, 0, 100)}));
  t.release_taken();
  EXPECT_EQ(src.total_releases(), 3);
}

TEST_F(TimelineWithThreshold, JitterInsideTheThresholdIsContiguous) {
  src.push(t, 0, 160);
  EXPECT_EQ(src.push(t, 167, 160).start, 160);  // 7 late: jitter
  EXPECT_EQ(src.push(t, 313, 160).start, 320);  // 7 early: jitter
  const Placement off = src.push(t, 488, 160);  // 8 off: not jitter
  EXPECT_EQ(off.start, 488);
  EXPECT_TRUE(off.resync);
  EXPECT_EQ(off.gap, 8u);
  EXPECT_EQ(take(t, 648), cat({tags(0, 0, 160), tags(1, 0, 160), tags(2, 0, 160), missing(8), tags(3, 0, 160)}));
  EXPECT_EQ(t.counters().gap_samples, 8u);
  EXPECT_EQ(t.counters().missing_samples, 8u);
  EXPECT_EQ(t.counters().resyncs, 1u);
  EXPECT_EQ(t.counters().overlap_samples, 0u);
}

TEST_F(TimelineWithThreshold, GapBeyondTheThresholdIsMissing) {
  src.push(t, 0, 160);
  const Placement p = src.push(t, 400, 160);
  EXPECT_EQ(p.start, 400);
  EXPECT_EQ(p.gap, 240u);
  EXPECT_TRUE(t.ready(560));
  EXPECT_FALSE(t.ready(561));
  TimelineFrame f;
  t.take(560, f);
  ASSERT_EQ(f.pieces.size(), 2u);
  EXPECT_EQ(f.pieces[1].offset, 400u);
  EXPECT_EQ(f.missing, 240u);
  EXPECT_EQ(flatten(f), cat({tags(0, 0, 160), missing(240), tags(1, 0, 160)}));
}

// GstAudioStreamAlign's discont wait: timestamps off by more than the
// threshold are taken as contiguous until they have disagreed for the wait.
TEST(Timeline, DiscontWaitResyncsOnlyAfterTheWait) {
  Source src;  // outlives the timeline, which releases into it
  Timeline t(TimelineSettings{8, 480});
  src.push(t, 0, 160);
  // From the second chunk on, every timestamp is 100 samples ahead.
  EXPECT_EQ(src.push(t, 260, 160).start, 160);  // drift starts at 260
  EXPECT_EQ(src.push(t, 420, 160).start, 320);  // 160 since
  EXPECT_EQ(src.push(t, 580, 160).start, 480);  // 320 since
  const Placement p = src.push(t, 740, 160);    // 480 since: resync
  EXPECT_EQ(p.start, 740);
  EXPECT_TRUE(p.resync);
  EXPECT_EQ(p.gap, 100u);
  // Back in line: the drift clock starts again from nothing.
  EXPECT_EQ(src.push(t, 900, 160).start, 900);
  EXPECT_EQ(src.push(t, 1160, 160).start, 1060);
  EXPECT_EQ(t.counters().resyncs, 1u);
  // A drift that comes back inside the threshold before the wait is over
  // never resyncs.
  EXPECT_EQ(src.push(t, 1300, 160).start, 1220);
  EXPECT_EQ(src.push(t, 1381, 160).start, 1380);
  EXPECT_EQ(src.push(t, 1840, 160).start, 1540);
  EXPECT_EQ(t.counters().resyncs, 1u);
}

TEST(Timeline, DiscontResyncsAtOnce) {
  Source src;  // outlives the timeline, which releases into it
  Timeline t(TimelineSettings{8, 48000});
  src.push(t, 0, 160);
  const Placement p = src.push(t, 163, 160, /*discont=*/true);
  EXPECT_EQ(p.start, 163) << "DISCONT: the timestamp, even inside the threshold";
  EXPECT_EQ(p.gap, 3u);
  EXPECT_TRUE(p.resync);
  // DISCONT exactly where the stream was going is not a resync.
  EXPECT_FALSE(src.push(t, 323, 160, true).resync);
  EXPECT_EQ(t.counters().resyncs, 1u);
}

TEST_F(TimelineWithThreshold, BackwardTimestampsTrimTheOverlap) {
  src.push(t, 0, 160);
  const Placement p = src.push(t, 80, 160);  // half of it was queued already
  EXPECT_EQ(p.start, 80);
  EXPECT_EQ(p.overlap, 80u);
  EXPECT_EQ(p.kept, 80u);
  EXPECT_EQ(p.late, 0u);
  // The next contiguous chunk follows the one that went back.
  EXPECT_EQ(src.push(t, 240, 160).start, 240);
  // Wholly over queued audio: released at once, nothing queued.
  const Placement whole = src.push(t, 100, 50);
  EXPECT_EQ(whole.kept, 0u);
  EXPECT_EQ(whole.overlap, 50u);
  EXPECT_EQ(src.releases[3], 1);
  EXPECT_EQ(take(t, 400), cat({tags(0, 0, 160), tags(1, 80, 160), tags(2, 0, 160)}));
  EXPECT_EQ(t.counters().overlap_samples, 130u);
  EXPECT_EQ(t.counters().late_samples, 0u);
  EXPECT_EQ(t.counters().samples_in, 530u);
}

TEST_F(TimelineWithThreshold, LateSamplesAreTrimmed) {
  src.push(t, 0, 160);
  TimelineFrame f;
  t.take(160, f);
  t.release_taken();
  // 60 samples of it were handed out already (as part of the frame).
  const Placement p = src.push(t, 100, 160, true);
  EXPECT_EQ(p.late, 60u);
  EXPECT_EQ(p.kept, 100u);
  t.take(100, f);
  EXPECT_EQ(flatten(f), tags(1, 60, 160));
  // A frame taken before its audio came: the audio is late when it comes.
  t.take(50, f);
  EXPECT_EQ(f.missing, 50u);
  const Placement q = src.push(t, 260, 80);
  EXPECT_EQ(q.late, 50u);
  EXPECT_EQ(q.kept, 30u);
  // Wholly late: released at once.
  const Placement r = src.push(t, 0, 40, true);
  EXPECT_EQ(r.kept, 0u);
  EXPECT_EQ(src.releases[3], 1);
  EXPECT_EQ(t.counters().late_chunks, 3u);
  EXPECT_EQ(t.counters().late_samples, 60u + 50u + 40u);
  EXPECT_EQ(t.counters().missing_samples, 50u);
}

TEST_F(TimelineWithThreshold, GapNoticesCoverTheTimeline) {
  src.push(t, 0, 160);
  EXPECT_FALSE(t.ready(260));
  const Placement g = t.mark_missing(160, 100);
  EXPECT_EQ(g.kept, 100u);
  EXPECT_TRUE(t.ready(260)) << "a known gap completes a frame";
  EXPECT_EQ(t.counters().gap_samples, 100u);
  // Audio over a notified gap is overlap; the rest goes after it.
  const Placement p = src.push(t, 200, 100, true);
  EXPECT_EQ(p.overlap, 60u);
  EXPECT_EQ(p.gap, 0u);
  EXPECT_EQ(take(t, 300), cat({tags(0, 0, 160), missing(100), tags(1, 60, 100)}));
  // A gap notice without a position goes where the stream was going.
  EXPECT_EQ(t.mark_missing(kNone, 40).start, 300);
  EXPECT_EQ(t.covered_until(), 340);
  EXPECT_EQ(t.counters().gap_samples, 140u);
}

TEST(Timeline, EndLeavesAPartialLastFrame) {
  Source src;  // outlives the timeline, which releases into it
  Timeline t;
  src.push(t, 0, 250);
  TimelineFrame f;
  ASSERT_TRUE(t.ready(160));
  t.take(160, f);
  EXPECT_FALSE(t.ready(160));
  EXPECT_FALSE(t.drained());
  t.end();
  EXPECT_TRUE(t.ready(160));
  EXPECT_EQ(t.available(), 90u);
  t.take(160, f);
  EXPECT_EQ(flatten(f), cat({tags(0, 160, 250), missing(70)}));
  t.release_taken();
  EXPECT_TRUE(t.drained());
  EXPECT_EQ(src.releases[0], 1);
}

TEST_F(TimelineWithThreshold, FlushDropsTheQueueAndKeepsTheReadPosition) {
  src.push(t, 0, 160);
  src.push(t, 160, 160);
  TimelineFrame f;
  t.take(100, f);
  t.flush();
  // The chunk nothing was taken from goes at once; the half-taken one stays
  // until release_taken(), as the frame's pieces may still be in use.
  EXPECT_EQ(src.total_releases(), 1);
  t.release_taken();
  EXPECT_EQ(src.total_releases(), 2) << "the half-taken chunk too, once its pieces are done with";
  EXPECT_EQ(t.queued(), 0u);
  EXPECT_EQ(t.read_position(), 100);
  EXPECT_EQ(t.covered_until(), 100);
  // Placed by its own position, even within the threshold of the old stream.
  const Placement p = src.push(t, 323, 10);
  EXPECT_EQ(p.start, 323);
  EXPECT_EQ(p.gap, 223u);
}

TEST(Timeline, ResyncPlacesTheNextChunkByItsPosition) {
  Source src;  // outlives the timeline, which releases into it
  Timeline t(TimelineSettings{8, 480});
  src.push(t, 0, 160);
  t.resync();
  const Placement p = src.push(t, 165, 160);
  EXPECT_EQ(p.start, 165) << "inside the threshold, but placed by its position";
  EXPECT_EQ(p.gap, 5u);
  EXPECT_EQ(t.queued(), 320u) << "nothing dropped";
  EXPECT_EQ(src.push(t, 330, 160).start, 325) << "then contiguous again";
}

TEST(Timeline, ResetStartsAnewAtTheNextPosition) {
  Source src;  // outlives the timeline, which releases into it
  Timeline t;
  src.push(t, 0, 160);
  t.reset();
  EXPECT_FALSE(t.started());
  EXPECT_EQ(src.releases[0], 1);
  const Placement p = src.push(t, 8000, 160);
  EXPECT_EQ(p.gap, 0u);
  EXPECT_EQ(t.read_position(), 8000);
  t.reset_at(50);
  EXPECT_TRUE(t.started());
  const Placement q = src.push(t, 40, 20);
  EXPECT_EQ(q.late, 10u) << "reset_at: the reader is at 50 already";
}

TEST_F(TimelineWithThreshold, ChunksWithoutPositionAreContiguous) {
  EXPECT_EQ(src.push(t, kNone, 100).start, 0);
  EXPECT_EQ(src.push(t, kNone, 100).start, 100);
  EXPECT_EQ(src.push(t, 500, 100).start, 500);
  EXPECT_EQ(src.push(t, kNone, 100).start, 600);
  EXPECT_EQ(t.counters().gap_samples, 300u);
}

TEST(Timeline, MixedFormats) {
  Source src;  // outlives the timeline, which releases into it
  Timeline t;
  src.push(t, 0, 100);
  src.push_f32(t, 100, 100);
  src.push(t, 200, 100);
  TimelineFrame f;
  t.take(300, f);
  ASSERT_EQ(f.pieces.size(), 3u);
  EXPECT_EQ(f.pieces[0].format, SampleFormat::s16);
  EXPECT_EQ(f.pieces[1].format, SampleFormat::f32);
  EXPECT_EQ(f.pieces[2].format, SampleFormat::s16);
  EXPECT_EQ(f.pieces[1].samples, src.f32[0]->data()) << "no copy";
  EXPECT_EQ(flatten(f), cat({tags(0, 0, 100), tags(1, 0, 100), tags(2, 0, 100)}));
}

TEST(Timeline, EmptyOddAndHugeInput) {
  Source src;  // outlives the timeline, which releases into it
  Timeline t;
  Source::Owner* o = src.new_owner();
  std::vector<std::int16_t> x(200, 7);
  // Empty: released, nothing placed, the timeline not started.
  t.push(0, false, x.data(), 0, SampleFormat::s16, &Source::release, o);
  EXPECT_EQ(src.releases[0], 1);
  EXPECT_FALSE(t.started());
  // 321 bytes: 160 samples, one byte dropped.
  Source::Owner* o2 = src.new_owner();
  const Placement p = t.push(0, false, x.data(), 321, SampleFormat::s16, &Source::release, o2);
  EXPECT_EQ(p.kept, 160u);
  EXPECT_EQ(t.counters().dropped_bytes, 1u);
  // Ten million samples far along the timeline, in 160-sample frames.
  Timeline big;
  const std::int64_t far = std::int64_t(1) << 50;
  std::vector<std::int16_t> huge(10000000, 3);
  Source::Owner* o3 = src.new_owner();
  big.push(far, false, huge.data(), huge.size() * 2, SampleFormat::s16, &Source::release, o3);
  TimelineFrame f;
  std::uint64_t got = 0;
  while (big.ready(160)) {
    big.take(160, f);
    for (const FramePiece& piece : f.pieces) got += piece.count;
    big.release_taken();
  }
  EXPECT_EQ(got, huge.size());
  EXPECT_EQ(big.read_position(), far + std::int64_t(huge.size()));
  EXPECT_EQ(src.releases[2], 1);
}

// Random traffic: jitter, gaps, overlaps, late and DISCONT chunks, gap
// notices, flushes and resets. Every frame is covered exactly once by its
// pieces and missing runs, every sample pushed is handed out or counted as
// trimmed (or flushed), and every chunk is released exactly once.
TEST(Timeline, RandomTrafficKeepsEveryInvariant) {
  std::mt19937 rng(12345);
  Source src;
  std::uint64_t handed = 0, flushed = 0;
  {
    Timeline t(TimelineSettings{8, 320});
    TimelineFrame f;
    std::int64_t ts = 0;
    for (int step = 0; step < 20000; ++step) {
      const int what = int(rng() % 100);
      const std::size_t n = 1 + rng() % 400;
      if (what < 60) {
        const std::int64_t jitter = std::int64_t(rng() % 17) - 8;
        const bool discont = rng() % 10 == 0;
        (rng() % 4 == 0 ? src.push_f32(t, ts + jitter, n, discont) : src.push(t, ts + jitter, n, discont));
        ts += std::int64_t(n);
      } else if (what < 70) {
        ts += std::int64_t(rng() % 800) - 400;  // a jump either way
      } else if (what < 75) {
        t.mark_missing(ts, n);
        ts += std::int64_t(n);
      } else if (what < 97) {
        const std::uint32_t frame = 1 + rng() % 300;
        if (!t.ready(frame) && rng() % 4 != 0) continue;
        t.take(frame, f);
        std::uint32_t covered = 0, at = 0;
        for (const FramePiece& p : f.pieces) {
          ASSERT_GE(p.offset, at) << "pieces in order, not overlapping";
          ASSERT_GT(p.count, 0u);
          at = p.offset + p.count;
          covered += p.count;
        }
        ASSERT_LE(at, frame);
        ASSERT_EQ(covered + f.missing, frame);
        handed += covered;
        if (rng() % 3 != 0) t.release_taken();
      } else if (what < 99) {
        flushed += t.queued();
        t.flush();
      } else {
        flushed += t.queued();
        t.reset();
      }
      const auto& c = t.counters();
      ASSERT_EQ(c.samples_in, handed + flushed + t.queued() + c.late_samples + c.overlap_samples);
    }
    flushed += t.queued();
  }  // the destructor releases what is left
  for (std::size_t k = 0; k < src.releases.size(); ++k) ASSERT_EQ(src.releases[k], 1) << "chunk " << k;
}
