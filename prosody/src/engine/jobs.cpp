// jobs.cpp - the processing path's side of replay and record jobs: decoding
// queued data into an output, encoding an input or output into the record
// queue, and the record's termination rules.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "dsp/kernels.hpp"
#include "dsp/levels.hpp"
#include "engine/runtime.hpp"

namespace prosody::detail {

void Runtime::render_replay(OutputState& out, OutputSetup& setup, float* peaks) {
  const std::size_t n = frame_;
  float* y = out.y;
  ReplayRt& r = setup.replay;
  ReplayJob& job = *r.job;
  dsp::zero(y, n);
  if (!job.finished.load(std::memory_order_relaxed) && !job.abort_requested.load(std::memory_order_relaxed)) {
    bool drained = false;
    const std::size_t got = r.stream->render(job, y, n, drained);
    if (drained) {
      job.finished = true;
    } else if (got < n) {
      job.underrun = true;  // continuous replay starved: silence, and say so
    }
    if (job.finished.load() || job.underrun.load() || replay_ready(job, out.io->output_threshold_bits.load()))
      out.io->raise(kWriteEvent);
  }
  float target = r.volume_gain;
  if (r.agc) target *= dsp::agc_update(r.agc_state, replay_agc_coeff_, dsp::sum_squares(y, n) / double(n)).gain_after;
  dsp::apply_gain_ramp(y, n, r.gain_prev, target);  // the replay alone, before its background
  r.gain_prev = target;
  if (r.background >= 0) {
    const OutputState& bg = outputs_[std::size_t(r.background)];
    const OutputSetup& bg_setup = output_setup_[std::size_t(r.background)];
    // A background computed earlier this frame is heard now; one in a loop
    // is heard from its previous frame.
    const float* b = bg_setup.order < setup.order ? bg.y : (bg.keeps_prev ? bg_setup.prev : nullptr);
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
  if (rec.tones) {  // tone elimination: the recording's own detector
    rec.tones->process(y, y, n, rec.tone_events);
    rec.tone_events.clear();
  }
  const double ms_in = dsp::sum_squares(y, n) / double(n);
  if (job.agc_gain_forced.exchange(false, std::memory_order_acquire))
    rec.agc.gain = dsp::db_to_gain(job.agc_forced_gain_db.load(std::memory_order_relaxed));
  float gain = rec.volume_gain;
  if (job.settings.agc) gain *= dsp::agc_update(rec.agc, rec.agc_coeff, ms_in).gain_after;
  dsp::apply_gain(y, n, gain);
  for (std::size_t i = 0; i < n; ++i) y[i] = std::clamp(y[i], -dsp::kFullScale, dsp::kFullScale);

  // Silence elimination and the time and silence limits (silence is judged
  // on the level before the record's gain).
  const Span<const float> keep = rec.gate->feed(y, ms_in);
  std::uint64_t bytes = keep.empty() ? 0 : rec.stream->encode(keep.data(), keep.size());
  const auto& s = job.settings;
  RecordTermination ends = RecordTermination::not_yet;
  if (s.max_octets > 0 && job.octets_out.load() + bytes >= s.max_octets) {
    bytes = s.max_octets - job.octets_out.load();
    ends = RecordTermination::length;
  }
  const std::size_t w = job.data.write(rec.stream->data(), static_cast<std::size_t>(bytes));
  if (w < bytes) job.overrun = true;  // the application is not reading fast enough
  job.octets_out.fetch_add(bytes, std::memory_order_relaxed);

  if (ends == RecordTermination::not_yet) {
    ends = rec.gate->termination();
    if (ends == RecordTermination::silence) {
      // The trailing silence, in the data's octets, so it can be trimmed.
      const double job_per_module = s.sample_rate ? double(s.sample_rate) / config_.sample_rate : 1.0;
      job.termination_octets =
          std::uint64_t(double(rec.gate->silent_run() * n) * job_per_module * half_bytes_per_sample(s.format) / 2.0);
    }
  }
  if (ends != RecordTermination::not_yet) {
    int expected = static_cast<int>(RecordTermination::not_yet);
    job.termination.compare_exchange_strong(expected, static_cast<int>(ends));
    if (ends != RecordTermination::silence) job.termination_octets = job.octets_out.load();
  }
  if (ends != RecordTermination::not_yet || w < bytes || record_ready(job, rec.io->input_threshold_bits.load()))
    rec.io->raise(kReadEvent);
}

}  // namespace prosody::detail
