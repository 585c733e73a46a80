// engine_tonegen.cpp - tone and digit generation jobs on output halves: the
// module's output tone table, starting, feeding, asking after and aborting
// a job (the samples are made in tonegen.cpp, on the processing path).
#include <chrono>
#include <thread>

#include "engine/engine.hpp"
#include "engine/tonegen.hpp"

namespace prosody::detail {

namespace {

bool runs_tone(const ChannelCtl& ch, unsigned kinds) {
  return ch.out_job == OutputJob::tone && ch.io->tone && (kinds & tone_kind_bit(ch.io->tone->kind));
}

}  // namespace

Errc Engine::add_output_freq(double freq_hz, double level_dbm0, int& id) {
  std::lock_guard<std::mutex> lock(ctl_mutex_);
  return tone_table_.add_frequency(freq_hz, level_dbm0, id);
}

Errc Engine::add_output_tone(int component1, int component2, int& id) {
  std::lock_guard<std::mutex> lock(ctl_mutex_);
  return tone_table_.add_tone(component1, component2, id);
}

Errc Engine::tone_play(std::uintptr_t out, ToneJobKind kind, CPToneType type, const ToneCadence* cadences,
                       std::size_t count, std::uint32_t duration_ms) {
  if (kind == ToneJobKind::list) return Errc::bad_parameter;
  if (kind == ToneJobKind::cptone && count > kMaxCadences) return Errc::bad_parameter;
  if (kind == ToneJobKind::digits && count > kMaxDigits) return Errc::bad_parameter;
  return with_channel(out, Half::output, [&](ChannelCtl& ch, ChannelKey) {
    auto job = std::make_shared<ToneJob>(kind);
    if (Errc e = build_cadence_program(tone_table_, sample_rate(), type, cadences, count, duration_ms, *job);
        e != Errc::ok)
      return e;
    if (output_half_busy(ch)) return Errc::wrong_channel_state;
    if (ch.type == ChannelType::half_duplex && input_half_busy(ch)) return Errc::wrong_channel_state;
    ch.io->tone = std::move(job);
    ch.out_job = OutputJob::tone;
    ch.io->output_busy = true;
    changed();
    update_event(*ch.io, kWriteEvent);  // no longer idle
    return Errc::ok;
  });
}

Errc Engine::tone_list(std::uintptr_t out, const ToneItem* items, std::size_t count) {
  if (count == 0 || !items) return Errc::bad_parameter;
  std::vector<ToneSegment> segments(count);
  for (std::size_t i = 0; i < count; ++i)
    if (Errc e = tone_item_segment(items[i], sample_rate(), segments[i]); e != Errc::ok) return e;
  std::shared_ptr<ChannelIo> io;
  const Errc r = with_channel(out, Half::output, [&](ChannelCtl& ch, ChannelKey) {
    std::shared_ptr<ToneJob> job;
    if (runs_tone(ch, tone_kind_bit(ToneJobKind::list))) {
      job = ch.io->tone;  // streaming: append to the list playing
      if (job->stop_queued.load() || job->finished.load()) return Errc::wrong_channel_state;
      if (job->items.free_space() < count) return Errc::no_capacity;  // nothing taken
    } else {
      if (output_half_busy(ch)) return Errc::wrong_channel_state;
      if (ch.type == ChannelType::half_duplex && input_half_busy(ch)) return Errc::wrong_channel_state;
      job = std::make_shared<ToneJob>(ToneJobKind::list, std::max(kToneListCapacity, count));
    }
    // Items after a Stop are never played.
    for (const ToneSegment& s : segments) {
      job->items.push(s);
      if (s.samples == 0) {
        job->stop_queued = true;
        break;
      }
    }
    if (ch.io->tone != job) {
      ch.io->tone = job;
      ch.out_job = OutputJob::tone;
      ch.io->output_busy = true;
      changed();
    }
    io = ch.io;
    update_event(*ch.io, kWriteEvent);
    return Errc::ok;
  });
  return r;
}

Errc Engine::tone_phase_reverse(std::uintptr_t out, std::uint32_t period_ms) {
  if (period_ms > kMaxToneMs) return Errc::bad_parameter;
  return with_channel(out, Half::output, [&](ChannelCtl& ch, ChannelKey) {
    if (!runs_tone(ch, tone_kind_bit(ToneJobKind::list))) return Errc::wrong_channel_state;
    ch.io->tone->reverse_period = std::uint64_t(period_ms) * sample_rate() / 1000;
    return Errc::ok;
  });
}

Errc Engine::tone_status(std::uintptr_t out, unsigned kinds, ToneJobState& state) {
  return with_channel(out, Half::output, [&](ChannelCtl& ch, ChannelKey) {
    if (!runs_tone(ch, kinds)) return Errc::wrong_channel_state;
    state = tone_job_state(*ch.io->tone);
    if (state == ToneJobState::complete) {
      // Complete frees the output half.
      ch.io->tone.reset();
      ch.out_job = OutputJob::none;
      ch.io->output_busy = false;
      changed();
    }
    update_event(*ch.io, kWriteEvent);
    return Errc::ok;
  });
}

Errc Engine::tone_abort(std::uintptr_t out, unsigned kinds) {
  return with_channel(out, Half::output, [&](ChannelCtl& ch, ChannelKey) {
    if (!runs_tone(ch, kinds) || ch.io->tone->finished.load()) return Errc::wrong_channel_state;
    ch.io->tone->abort_requested = true;  // the next frame is silent and reports completion
    changed();
    return Errc::ok;
  });
}

Errc Engine::tone_wait(std::uintptr_t out) {
  std::shared_ptr<ToneJob> job;
  const Errc e = with_channel(out, Half::output, [&](ChannelCtl& ch, ChannelKey) {
    if (!runs_tone(ch, kAnyToneJob)) return Errc::wrong_channel_state;
    job = ch.io->tone;
    return Errc::ok;
  });
  if (e != Errc::ok) return e;
  // The module's own thread finishes the job; poll it at a fraction of a frame.
  const auto nap = std::chrono::microseconds(config_.frame_us / 4);
  while (!job->finished.load()) {
    if (drive_mode() != DriveMode::realtime) return Errc::wrong_module_state;
    std::this_thread::sleep_for(nap);
  }
  ToneJobState state;
  return tone_status(out, kAnyToneJob, state);
}

}  // namespace prosody::detail
