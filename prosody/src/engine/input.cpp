// input.cpp - receiving one input's frame: from its host port, the datafeed
// it is connected to (a channel's or an endpoint's), or the caller's pieces
// (step_frame), into one of its two frame buffers (the other holds the
// previous frame, which concealment may mirror); missing audio concealed
// (conceal.hpp), corrupt audio cleaned, levels measured.
#include <cmath>
#include <cstring>

#include "dsp/kernels.hpp"
#include "dsp/levels.hpp"
#include "engine/conceal.hpp"
#include "engine/runtime.hpp"

namespace prosody::detail {

namespace {

// Input samples beyond this (+18 dB over full scale) are corrupt, not audio:
// replaced by silence and counted.
constexpr float kInputLimit = 8.0f;

bool clean(const dsp::BlockStats& st) { return std::isfinite(st.sum_squares) && st.peak <= kInputLimit; }

// The one copy in: a piece of the caller's frame, converted as it is copied.
void copy_piece(const FramePiece& piece, float* x) {
  if (piece.format == SampleFormat::s16)
    dsp::s16_to_float(static_cast<const std::int16_t*>(piece.samples), x + piece.offset, piece.count);
  else
    std::memcpy(x + piece.offset, piece.samples, piece.count * sizeof(float));
}

// Copies the pieces of a frame input and hands the concealer each run of
// received samples (touching pieces make one run).
void receive_pieces(const FrameInput& input, float* x, FrameConcealer& concealer) {
  const FramePiece* piece = input.pieces.begin();
  const FramePiece* const last = input.pieces.end();
  while (piece != last) {
    if (piece->count == 0) {
      ++piece;
      continue;
    }
    const std::size_t begin = piece->offset;
    std::size_t end = begin;
    for (; piece != last && (piece->count == 0 || piece->offset == end); ++piece) {
      if (piece->count == 0) continue;  // an empty piece may have no samples at all
      copy_piece(*piece, x);
      end += piece->count;
    }
    concealer.received(begin, end);
  }
}

// The usual frame of a frame port: one float piece, the whole frame, after a
// frame whose end was there (so nothing fades in).
bool whole_float_frame(const FrameInput* input, std::size_t n, std::uint32_t missing_run) {
  if (!input || missing_run != 0 || input->pieces.size() != 1) return false;
  const FramePiece& p = input->pieces[0];
  return p.offset == 0 && p.count == n && p.format == SampleFormat::f32;
}

}  // namespace

void Runtime::receive(InputState& in, InputSetup& setup, const FrameInput* frame) {
  const std::size_t n = frame_;
  float* x;
  dsp::BlockStats st;
  if (in.feed == InputFeed::frame && whole_float_frame(frame, n, in.missing_run)) {
    // Copied with its statistics in one pass, over the previous frame: a
    // whole frame conceals nothing, so only the other buffers need two
    // (half the memory a frame touches: 10,000 parties stay in cache).
    x = in.frames + in.cur * n;
    in.raw = x;
    st = dsp::copy_stats(static_cast<const float*>(frame->pieces[0].samples), x, n);
    ++in.frames_in;
    in.stream_ended = false;
    in.has_history = true;
  } else {
    in.cur ^= 1;  // the previous frame stays, for concealment to mirror
    x = in.frames + in.cur * n;
    in.raw = x;
    receive_any(in, setup, x, frame);
    st = dsp::block_stats(x, n);
  }
  if (!clean(st)) {
    // Corrupt input (NaN, infinities, absurd values) is cleaned, not mixed.
    in.io->in_nonfinite.fetch_add(dsp::sanitise(x, n, kInputLimit), std::memory_order_relaxed);
    st = dsp::block_stats(x, n);
  }
  measure(in, st);
}

void Runtime::receive_any(InputState& in, InputSetup& setup, float* x, const FrameInput* frame) {
  const std::size_t n = frame_;
  FrameConcealer concealer(x, n, in.has_history ? in.frames + (in.cur ^ 1) * n : nullptr, in.missing_run > 0);
  bool fed = true;
  switch (in.feed) {
    case InputFeed::host:
      if (setup.host) concealer.received(0, setup.host->read(x, n));
      break;
    case InputFeed::datafeed:
      if (setup.feed_output >= 0) {
        dsp::copy(output_setup_[std::size_t(setup.feed_output)].prev, x, n);
        concealer.received(0, n);
      }
      break;
    case InputFeed::frame:
      if (frame) receive_pieces(*frame, x, concealer);
      break;
    case InputFeed::endpoint:
      if (setup.feed_output >= 0) {
        const SourceRt& src = endpoints_.sources[std::size_t(setup.feed_output)];
        dsp::copy(src.frame.data(), x, frame_);
        for (const auto& [begin, end] : src.received) concealer.received(begin, end);
      }
      break;
    case InputFeed::none:
      fed = false;
      break;
  }
  if (fed) {
    concealer.finish();
    if (concealer.any_received()) {
      ++in.frames_in;
      in.stream_ended = false;
      in.has_history = true;
    }
    // After the end of a frame-port stream, absence is not loss.
    if (concealer.any_missing() && !in.stream_ended)
      in.io->in_concealed.store(++setup.frames_concealed, std::memory_order_relaxed);
    in.missing_run = concealer.end_missing() ? in.missing_run + 1 : 0;
  } else {
    dsp::zero(x, n);  // no source: silence, not loss
    in.missing_run = 0;
  }
}

// Levels measured, statistics published.
void Runtime::measure(InputState& in, dsp::BlockStats st) {
  const std::size_t n = frame_;
  ChannelIo& io = *in.io;
  in.raw_ms = st.sum_squares / double(n);
  // Short-term level for reports and statistics: one-pole over about 100 ms.
  in.level_smooth_ms += level_alpha_ * (in.raw_ms - in.level_smooth_ms);
  if (stats_frame()) {
    io.in_level_ms.store(in.level_smooth_ms, std::memory_order_relaxed);
    io.in_frames.store(in.frames_in, std::memory_order_relaxed);
  }
}

}  // namespace prosody::detail
