/* prosodytimeline.hpp - one input's audio placed on a sample timeline and
 * handed out a frame at a time. GStreamer-free: the elements convert running
 * time to positions (samples at the stream's rate) and wrap their buffers as
 * chunks; this class holds the rules.
 *
 * Placement follows GstAudioStreamAlign: a chunk that starts within the
 * alignment threshold of where the previous one ended is contiguous (its
 * timestamp is jitter); one further off is placed at its own position once
 * the timestamps have disagreed for the discont wait (0: at once); a DISCONT
 * chunk is placed at its position at once; a chunk without a position is
 * contiguous. What lands before the read position (handed out already) is
 * late and trimmed; what lands on audio or gaps already queued is overlap
 * and trimmed; what leaves a hole makes the hole missing. Every sample is
 * counted.
 *
 * Chunks are not copied: the timeline keeps the caller's pointer and calls
 * the chunk's release function once no frame needs its memory (consumed and
 * released, trimmed whole, flushed or reset), exactly once per chunk.
 *
 * Not thread-safe: the caller locks.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <vector>

#include "prosody/prosody.hpp"

namespace prosody_gst {

/* The placement rule, in samples. */
struct TimelineSettings {
  /* A chunk within this distance of the contiguous position is contiguous. */
  std::uint64_t alignment_threshold = 0;
  /* How long the timestamps must disagree beyond the threshold before the
   * timeline resyncs to them (0 = at once). */
  std::uint64_t discont_wait = 0;
};

/* What happened to every sample pushed (never reset by flush or reset). */
struct TimelineCounters {
  std::uint64_t chunks = 0;          /* non-empty chunks pushed */
  std::uint64_t samples_in = 0;      /* samples pushed */
  std::uint64_t late_chunks = 0;     /* chunks that had samples trimmed as late */
  std::uint64_t late_samples = 0;    /* trimmed: before the read position */
  std::uint64_t overlap_samples = 0; /* trimmed: over what was queued already */
  std::uint64_t gap_samples = 0;     /* declared missing (holes and gap notices) */
  std::uint64_t missing_samples = 0; /* handed out as missing by take() */
  std::uint64_t resyncs = 0;         /* placements away from the contiguous position */
  std::uint64_t dropped_bytes = 0;   /* bytes after the last whole sample of a chunk */
};

/* Where one push (or gap notice) went. */
struct Placement {
  std::int64_t start = 0;  /* timeline position of the first sample, as placed */
  std::size_t kept = 0;    /* samples queued (or declared missing) */
  std::size_t late = 0;    /* trimmed from the front: before the read position */
  std::size_t overlap = 0; /* trimmed from the front: over queued audio */
  std::uint64_t gap = 0;   /* missing samples that opened before it */
  bool resync = false;     /* placed at its own position, away from the contiguous one */
};

/* One frame handed out: count samples from position first. pieces point
 * into the queued chunks (offsets relative to first, in order, no overlap);
 * the samples no piece covers are missing. */
struct TimelineFrame {
  std::int64_t first = 0;
  std::uint32_t count = 0;
  std::uint32_t missing = 0;
  std::vector<prosody::FramePiece> pieces;
};

/* Calls on_piece(piece) and on_missing(offset, count) over the frame in
 * sample order. */
template <typename OnPiece, typename OnMissing>
void for_each_run(const TimelineFrame& frame, OnPiece&& on_piece, OnMissing&& on_missing) {
  std::uint32_t at = 0;
  for (const prosody::FramePiece& p : frame.pieces) {
    if (p.offset > at) on_missing(at, p.offset - at);
    on_piece(p);
    at = p.offset + p.count;
  }
  if (frame.count > at) on_missing(at, frame.count - at);
}

class Timeline {
 public:
  static constexpr std::int64_t kNoPosition = std::numeric_limits<std::int64_t>::min();
  using Release = void (*)(void* owner);

  explicit Timeline(TimelineSettings settings = {}) : settings_(settings) {}
  ~Timeline() {
    reset();
    release_taken();
  }
  Timeline(const Timeline&) = delete;
  Timeline& operator=(const Timeline&) = delete;

  void set_settings(const TimelineSettings& settings) { settings_ = settings; }
  const TimelineSettings& settings() const { return settings_; }

  /* Queues bytes of samples in format at position (kNoPosition: contiguous).
   * The first placement of a timeline that was not started sets the read
   * position there. release(owner) is called once the memory is no longer
   * needed (at once if nothing of it is kept); bytes past the last whole
   * sample are dropped and counted. */
  Placement push(std::int64_t position, bool discont, const void* data, std::size_t bytes, prosody::SampleFormat format,
                 Release release, void* owner);

  /* count samples at position are missing (a GAP event or GAP buffer):
   * placed as a DISCONT chunk would be, but nothing is queued. */
  Placement mark_missing(std::int64_t position, std::uint64_t count);

  /* The input ends: whatever is not covered is missing from here on, and
   * ready() holds for any frame. */
  void end() { ended_ = true; }
  bool ended() const { return ended_; }

  /* The next chunk is placed by its own position, not contiguously (a new
   * segment: its timestamps are not the old ones continued). */
  void resync() {
    have_expected_ = false;
    drifting_ = false;
  }
  /* Drops every queued chunk; the read position stays, the next chunk is
   * placed by its position (FLUSH_STOP). Pieces already handed out by take()
   * stay valid until release_taken(): another thread may be using them. */
  void flush();
  /* Forgets the stream: the next placement starts the timeline anew, at its
   * own position (a new stream). */
  void reset();
  /* Forgets the stream and starts reading at read (a party joining a
   * conference that is at read). */
  void reset_at(std::int64_t read);

  bool started() const { return started_; }
  /* First sample of the next frame. */
  std::int64_t read_position() const { return read_; }
  /* The timeline is known (audio or missing) up to here. */
  std::int64_t covered_until() const { return covered_; }
  /* Known samples from the read position on. */
  std::uint64_t available() const { return covered_ > read_ ? std::uint64_t(covered_ - read_) : 0; }
  /* The frame [read, read + n) can be taken: covered, or the input ended. */
  bool ready(std::uint32_t n) const { return ended_ || covered_ - read_ >= std::int64_t(n); }
  /* Ended and nothing left from the read position on. */
  bool drained() const { return ended_ && covered_ <= read_; }
  /* Where a contiguous chunk would go, or kNoPosition if the next one is
   * placed by its own position. */
  std::int64_t contiguous_position() const { return have_expected_ ? expected_ : kNoPosition; }
  /* Samples queued and not yet handed out (back-pressure). */
  std::uint64_t queued() const { return queued_; }

  /* Hands out the frame [read, read + n) and advances the read position by
   * n (the caller decides it is ready). The pieces stay valid until
   * release_taken(). */
  void take(std::uint32_t n, TimelineFrame& frame);
  /* Releases the chunks that the frames taken so far used up (and those a
   * flush dropped while their pieces were out). */
  void release_taken();

  const TimelineCounters& counters() const { return counters_; }

 private:
  struct Chunk {
    std::int64_t position; /* of data[0] */
    const unsigned char* data;
    std::size_t count;
    std::size_t taken; /* samples handed out */
    prosody::SampleFormat format;
    Release release;
    void* owner;
  };

  Placement place(std::int64_t position, bool discont, std::uint64_t count);
  void release_all();

  TimelineSettings settings_;
  TimelineCounters counters_;
  std::deque<Chunk> chunks_;   /* in position order, not overlapping */
  std::vector<Chunk> retired_; /* dropped while pieces of them were out */
  bool started_ = false;
  bool ended_ = false;
  std::int64_t read_ = 0;
  std::int64_t covered_ = 0;
  bool have_expected_ = false;
  std::int64_t expected_ = 0;
  bool drifting_ = false;
  std::int64_t drift_since_ = 0; /* position of the first chunk off the contiguous one */
  std::uint64_t queued_ = 0;
};

}  // namespace prosody_gst
