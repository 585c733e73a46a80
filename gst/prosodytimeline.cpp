/* prosodytimeline.cpp - placement, trimming and frames of one input. */
#include "prosodytimeline.hpp"

#include <algorithm>
#include <cassert>

namespace prosody_gst {

namespace {

std::size_t bytes_per_sample(prosody::SampleFormat format) {
  return format == prosody::SampleFormat::f32 ? sizeof(float) : sizeof(std::int16_t);
}

std::uint64_t distance(std::int64_t a, std::int64_t b) {
  return a > b ? std::uint64_t(a) - std::uint64_t(b) : std::uint64_t(b) - std::uint64_t(a);
}

}  // namespace

/* Where count samples at position go, and what of them survives trimming
 * (late and overlap are counted by the caller: a gap notice trims without
 * counting). */
Placement Timeline::place(std::int64_t position, bool discont, std::uint64_t count) {
  Placement pl;
  std::int64_t start;
  if (!started_) {
    start = position == kNoPosition ? read_ : position;
    read_ = covered_ = start;
    started_ = true;
    drifting_ = false;
  } else if (position == kNoPosition) {
    start = have_expected_ ? expected_ : covered_;
  } else if (discont || !have_expected_) {
    start = position;
    pl.resync = have_expected_ && position != expected_;
    drifting_ = false;
  } else if (distance(position, expected_) == 0 || distance(position, expected_) < settings_.alignment_threshold) {
    start = expected_; /* jitter */
    drifting_ = false;
  } else if (settings_.discont_wait == 0 || (drifting_ && distance(position, drift_since_) >= settings_.discont_wait)) {
    start = position;
    pl.resync = true;
    drifting_ = false;
  } else {
    /* Off, but not for long enough yet: still contiguous. */
    if (!drifting_) {
      drifting_ = true;
      drift_since_ = position;
    }
    start = expected_;
  }
  if (pl.resync) ++counters_.resyncs;
  pl.start = start;
  have_expected_ = true;
  expected_ = start + std::int64_t(count);

  std::int64_t s = start;
  std::uint64_t n = count;
  if (s < read_) {
    pl.late = std::size_t(std::min<std::uint64_t>(std::uint64_t(read_ - s), n));
    s += std::int64_t(pl.late);
    n -= pl.late;
  }
  if (n > 0 && s < covered_) {
    pl.overlap = std::size_t(std::min<std::uint64_t>(std::uint64_t(covered_ - s), n));
    s += std::int64_t(pl.overlap);
    n -= pl.overlap;
  }
  if (n > 0) {
    if (s > covered_) pl.gap = std::uint64_t(s - covered_);
    covered_ = s + std::int64_t(n);
  }
  pl.kept = std::size_t(n);
  counters_.gap_samples += pl.gap;
  return pl;
}

Placement Timeline::push(std::int64_t position, bool discont, const void* data, std::size_t bytes,
                         prosody::SampleFormat format, Release release, void* owner) {
  const std::size_t bps = bytes_per_sample(format);
  const std::size_t count = bytes / bps;
  counters_.dropped_bytes += bytes % bps;
  if (count == 0) {
    if (release) release(owner);
    return Placement{};
  }
  ++counters_.chunks;
  counters_.samples_in += count;
  const Placement pl = place(position, discont, count);
  if (pl.late > 0) {
    ++counters_.late_chunks;
    counters_.late_samples += pl.late;
  }
  counters_.overlap_samples += pl.overlap;
  if (pl.kept == 0) {
    if (release) release(owner);
    return pl;
  }
  const std::size_t skip = pl.late + pl.overlap;
  chunks_.push_back(Chunk{pl.start + std::int64_t(skip), static_cast<const unsigned char*>(data) + skip * bps, pl.kept,
                          0, format, release, owner});
  queued_ += pl.kept;
  return pl;
}

Placement Timeline::mark_missing(std::int64_t position, std::uint64_t count) {
  if (count == 0) return Placement{};
  Placement pl = place(position, true, count);
  counters_.gap_samples += pl.kept;
  return pl;
}

void Timeline::take(std::uint32_t n, TimelineFrame& frame) {
  frame.first = read_;
  frame.count = n;
  frame.pieces.clear();
  const std::int64_t end = read_ + std::int64_t(n);
  std::uint32_t with_data = 0;
  for (Chunk& c : chunks_) {
    if (c.taken == c.count) continue; /* used up, waiting for release_taken() */
    const std::int64_t from = c.position + std::int64_t(c.taken);
    if (from >= end) break;
    assert(from >= read_);
    const std::size_t k = std::size_t(std::min(c.position + std::int64_t(c.count), end) - from);
    frame.pieces.push_back(prosody::FramePiece{std::uint32_t(from - read_), std::uint32_t(k),
                                               c.data + c.taken * bytes_per_sample(c.format), c.format});
    c.taken += k;
    queued_ -= k;
    with_data += std::uint32_t(k);
  }
  frame.missing = n - with_data;
  counters_.missing_samples += frame.missing;
  read_ = end;
  covered_ = std::max(covered_, read_); /* what comes later for this frame is late */
}

void Timeline::release_taken() {
  while (!chunks_.empty() && chunks_.front().taken == chunks_.front().count) {
    const Chunk c = chunks_.front();
    chunks_.pop_front();
    if (c.release) c.release(c.owner);
  }
  for (const Chunk& c : retired_)
    if (c.release) c.release(c.owner);
  retired_.clear();
}

/* Chunks nothing was taken from go now; the others wait for release_taken()
 * (or the destructor), as their pieces may be in use. */
void Timeline::release_all() {
  while (!chunks_.empty()) {
    const Chunk c = chunks_.front();
    chunks_.pop_front();
    if (c.taken > 0)
      retired_.push_back(c);
    else if (c.release)
      c.release(c.owner);
  }
  queued_ = 0;
}

void Timeline::flush() {
  release_all();
  covered_ = read_;
  have_expected_ = false;
  drifting_ = false;
  ended_ = false;
}

void Timeline::reset() {
  flush();
  started_ = false;
}

void Timeline::reset_at(std::int64_t read) {
  reset();
  started_ = true;
  read_ = covered_ = read;
}

}  // namespace prosody_gst
