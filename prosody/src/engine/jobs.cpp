// jobs.cpp - the processing path's side of replay and record jobs: decoding
// queued data into an output, encoding an input or output into the record
// queue, and the record's termination rules.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "dsp/g711.hpp"
#include "dsp/kernels.hpp"
#include "dsp/levels.hpp"
#include "engine/runtime.hpp"

namespace prosody::detail {

namespace {

// The largest frame: 20 ms at 48 kHz.
constexpr std::size_t kMaxFrame = 48000 / 1000 * 20;

void decode(DataFormat f, const std::uint8_t* in, float* out, std::size_t n) {
  switch (f) {
    case DataFormat::alaw:
      dsp::decode_alaw(in, out, n);
      break;
    case DataFormat::ulaw:
      dsp::decode_ulaw(in, out, n);
      break;
    case DataFormat::linear16: {
      std::int16_t linear[kMaxFrame];  // the bytes may not be aligned for int16
      std::memcpy(linear, in, 2 * n);
      dsp::s16_to_float(linear, out, n);
      break;
    }
    case DataFormat::unsigned8:
      for (std::size_t i = 0; i < n; ++i) out[i] = (static_cast<float>(in[i]) - 128.0f) / 128.0f;
      break;
    case DataFormat::signed8:
      for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<float>(static_cast<std::int8_t>(in[i])) / 128.0f;
      break;
  }
}

void encode(DataFormat f, const float* in, std::uint8_t* out, std::size_t n) {
  switch (f) {
    case DataFormat::alaw:
      dsp::encode_alaw(in, out, n);
      break;
    case DataFormat::ulaw:
      dsp::encode_ulaw(in, out, n);
      break;
    case DataFormat::linear16: {
      std::int16_t linear[kMaxFrame];
      dsp::float_to_s16(in, linear, n);
      std::memcpy(out, linear, 2 * n);
      break;
    }
    case DataFormat::unsigned8:
      for (std::size_t i = 0; i < n; ++i)
        out[i] = static_cast<std::uint8_t>(std::clamp(std::nearbyint(in[i] * 128.0f) + 128.0f, 0.0f, 255.0f));
      break;
    case DataFormat::signed8:
      for (std::size_t i = 0; i < n; ++i)
        out[i] = static_cast<std::uint8_t>(
            static_cast<std::int8_t>(std::clamp(std::nearbyint(in[i] * 128.0f), -128.0f, 127.0f)));
      break;
  }
}

}  // namespace

void Runtime::render_replay(OutputState& out, OutputSetup& setup, float* peaks) {
  const std::size_t n = frame_;
  float* y = out.y;
  ReplayRt& r = setup.replay;
  ReplayJob& job = *r.job;
  dsp::zero(y, n);
  if (!job.finished.load(std::memory_order_relaxed) && !job.abort_requested.load(std::memory_order_relaxed)) {
    const unsigned bps = job.bytes_per_sample;
    std::size_t want = n * bps;
    const std::uint64_t limit = job.settings.data_length;
    const std::uint64_t played = job.bytes_played.load(std::memory_order_relaxed);
    if (limit > 0) want = static_cast<std::size_t>(std::min<std::uint64_t>(want, limit - std::min(limit, played)));
    std::uint8_t bytes[kMaxFrame * 2];
    const std::size_t got = job.data.read(bytes, want - want % bps);
    decode(job.settings.format, bytes, y, got / bps);
    job.bytes_played.fetch_add(got, std::memory_order_relaxed);
    const std::uint64_t now_played = played + got;
    const bool reached_length = limit > 0 && now_played >= limit;
    const bool drained = job.last_put.load(std::memory_order_acquire) && job.data.size() == 0;
    if (reached_length || drained) {
      job.finished = true;
    } else if (got < n * bps) {
      job.underrun = true;  // continuous replay starved: silence, and say so
    }
    if (job.finished.load() || job.underrun.load() || job.data.free_space() >= 2048) out.io->raise(kWriteEvent);
  }
  float target = r.volume_gain;
  if (r.agc) target *= dsp::agc_update(r.agc_state, replay_agc_coeff_, dsp::sum_squares(y, n) / double(n)).gain_after;
  dsp::apply_gain_ramp(y, n, r.gain_prev, target);  // the replay alone, before its background
  r.gain_prev = target;
  if (r.background >= 0) {
    const OutputState& bg = outputs_[std::size_t(r.background)];
    // A background computed earlier this frame is heard now; one in a loop
    // is heard from its previous frame.
    const float* b = bg.order < out.order ? bg.y : (bg.keeps_prev ? bg.prev : nullptr);
    if (b) dsp::add_scaled(y, b, 1.0f, n);
  }
  out.last_ms = dsp::subblock_stats(y, n, limiter_coeff_.subblock, peaks) / double(n);
  limit_output(out, 1.0f, 1.0f, peaks);
}

void Runtime::run_record(RecordRt& rec) {
  RecordJob& job = *rec.job;
  if (job.termination.load(std::memory_order_relaxed) != static_cast<int>(RecordTermination::not_yet)) return;
  const std::size_t n = frame_;
  const float* src = nullptr;
  if (rec.source_index >= 0)
    src = rec.from_output ? outputs_[std::size_t(rec.source_index)].y : inputs_[std::size_t(rec.source_index)].raw;
  float* y = scratch_.data();
  if (src)
    dsp::copy(src, y, n);
  else
    dsp::zero(y, n);
  const double ms_in = dsp::sum_squares(y, n) / double(n);
  float gain = rec.volume_gain;
  if (job.settings.agc) gain *= dsp::agc_update(rec.agc, record_agc_coeff_, ms_in).gain_after;
  dsp::apply_gain(y, n, gain);
  for (std::size_t i = 0; i < n; ++i) y[i] = std::clamp(y[i], -dsp::kFullScale, dsp::kFullScale);

  const unsigned bps = job.bytes_per_sample;
  std::uint64_t bytes = n * bps;
  const auto& s = job.settings;
  RecordTermination ends = RecordTermination::not_yet;
  if (s.max_octets > 0 && job.octets_out.load() + bytes >= s.max_octets) {
    bytes = s.max_octets - job.octets_out.load();
    ends = RecordTermination::length;
  }
  std::uint8_t encoded[kMaxFrame * 2];
  encode(s.format, y, encoded, static_cast<std::size_t>(bytes / bps));
  const std::size_t w = job.data.write(encoded, static_cast<std::size_t>(bytes));
  if (w < bytes) job.overrun = true;  // the application is not reading fast enough
  job.octets_out.fetch_add(bytes, std::memory_order_relaxed);

  ++rec.elapsed_frames;
  const bool silent = dsp::mean_square_to_dbm0(ms_in) < s.silence_level_db;
  if (silent) {
    ++rec.silent_frames;
  } else {
    rec.silent_frames = 0;
    rec.heard_sound = true;
  }
  const double frame_ms = frame_seconds_ * 1000.0;
  if (ends == RecordTermination::not_yet) {
    if (s.max_elapsed_ms > 0 && rec.elapsed_frames * frame_ms >= s.max_elapsed_ms) {
      ends = RecordTermination::max_time;
    } else if (rec.heard_sound && s.max_silence_ms > 0 && rec.silent_frames * frame_ms >= s.max_silence_ms) {
      ends = RecordTermination::silence;
      job.termination_octets = rec.silent_frames * n * bps;
    } else if (!rec.heard_sound && s.max_initial_silence_ms > 0 &&
               rec.silent_frames * frame_ms >= s.max_initial_silence_ms) {
      ends = RecordTermination::silence;
      job.termination_octets = rec.silent_frames * n * bps;
    }
  }
  if (ends != RecordTermination::not_yet) {
    int expected = static_cast<int>(RecordTermination::not_yet);
    job.termination.compare_exchange_strong(expected, static_cast<int>(ends));
    if (ends != RecordTermination::silence) job.termination_octets = job.octets_out.load();
  }
  rec.io->raise(kReadEvent);
}

}  // namespace prosody::detail
