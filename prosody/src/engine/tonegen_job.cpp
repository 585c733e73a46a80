// tonegen_job.cpp - the processing path's side of a tone job: taking it over
// at a frame boundary and making each frame of its output.
#include "dsp/kernels.hpp"
#include "engine/runtime.hpp"

namespace prosody::detail {

void Runtime::adopt_tone(OutputState& out, OutputSetup& setup, const ChannelCtl& ch) {
  if (out.job != OutputJob::tone) {
    setup.tone = ToneRt{};
    return;
  }
  if (setup.tone.job != ch.io->tone) {  // a new job: from its first sample
    setup.tone = ToneRt{};
    setup.tone.job = ch.io->tone;
    out.limiter = dsp::LimiterState{};
  }
}

void Runtime::render_tone(OutputState& out, OutputSetup& setup, float* peaks) {
  ToneRt& t = setup.tone;
  render_tone_job(t, config_.sample_rate, out.y, frame_);
  if (tone_job_needs_service(*t.job)) out.io->raise(kWriteEvent);
  out.last_ms = dsp::subblock_stats(out.y, frame_, limiter_coeff_.subblock, peaks) / double(frame_);
  // Two components near +3 dBm0 can exceed full scale: the limiter keeps
  // them from wrapping, as it does every output.
  limit_output(out, 1.0f, 1.0f, peaks);
}

}  // namespace prosody::detail
