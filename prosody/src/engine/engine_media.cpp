// engine_media.cpp - replay (output half) and record (input half) jobs: the
// application's side of their data rings and their status.
#include <algorithm>

#include "engine/engine.hpp"

namespace prosody::detail {

namespace {

// The unit a job's data is read in: a sample, or a byte of two OKI samples.
unsigned data_unit(DataFormat f) { return f == DataFormat::linear16 ? 2u : 1u; }

// Rates of a job's data (resampled to and from the module's).
bool job_rate_ok(unsigned rate) { return rate == 0 || (rate >= 4000 && rate <= 96000); }

// Bytes of seconds of a job's data.
std::size_t data_bytes(DataFormat f, unsigned rate, unsigned seconds) {
  return std::size_t(seconds) * rate * half_bytes_per_sample(f) / 2;
}

bool replaying(const ChannelCtl& ch) { return ch.out_job == OutputJob::replay && ch.io->replay; }

}  // namespace

// ---------------------------------------------------------------------------
// Replay

Errc Engine::replay_start(std::uintptr_t out, const ReplaySettings& s) {
  if (!job_format_ok(s.format)) return Errc::not_implemented;
  if (!volume_ok(s.volume_db) || !job_rate_ok(s.sample_rate)) return Errc::bad_parameter;
  const unsigned rate = s.sample_rate ? s.sample_rate : sample_rate();
  return with_channel(out, Half::output, [&](ChannelCtl& ch, ChannelKey) {
    if (output_half_busy(ch)) return Errc::wrong_channel_state;
    if (ch.type == ChannelType::half_duplex && input_half_busy(ch)) return Errc::wrong_channel_state;
    if (s.background) {
      ChannelCtl* bg;
      ChannelKey bkey;
      if (Errc e = lookup_argument(s.background.value, bg, bkey); e != Errc::ok) return e;
      if (bg == &ch || !has_output(bg->type)) return Errc::bad_parameter;
    }
    // Room for two seconds of audio: plenty of slack for a feeding thread.
    auto job = std::make_shared<ReplayJob>(std::max<std::size_t>(data_bytes(s.format, rate, 2), 4096));
    job->settings = s;
    job->bytes_per_sample = data_unit(s.format);
    ch.io->replay = job;
    ch.out_job = OutputJob::replay;
    ch.io->output_busy = true;
    model_.plan_changed();
    changed();
    update_event(*ch.io, kWriteEvent);  // no longer idle
    return Errc::ok;
  });
}

Errc Engine::replay_put(std::uintptr_t out, const std::uint8_t* data, std::size_t n, bool last, bool partial,
                        std::size_t& accepted) {
  accepted = 0;
  std::shared_ptr<ChannelIo> io;
  std::shared_ptr<ReplayJob> job;
  const Errc e = with_channel(out, Half::any, [&](ChannelCtl& ch, ChannelKey) {
    if (!replaying(ch)) return Errc::no_replay_in_progress;
    io = ch.io;
    job = io->replay;
    return Errc::ok;
  });
  if (e != Errc::ok) return e;
  if (n > 0 && data == nullptr) return Errc::bad_parameter;
  if (job->last_put.load()) return Errc::wrong_channel_state;
  Errc result = Errc::ok;
  {
    std::lock_guard<std::mutex> io_lock(io->api_mutex);
    if (!partial && job->data.free_space() < n) {
      result = Errc::no_capacity;  // nothing taken: the caller retries the same buffer
    } else {
      accepted = job->data.write(data, n);
      job->bytes_put += accepted;
      if (last && accepted == n) job->last_put = true;
    }
  }
  refresh(*io, kWriteEvent);
  return result;
}

Errc Engine::replay_status(std::uintptr_t out, ReplayStatus& status) {
  std::shared_ptr<ChannelIo> io;
  const Errc e = with_channel(out, Half::any, [&](ChannelCtl& ch, ChannelKey) {
    if (!replaying(ch)) return Errc::no_replay_in_progress;
    io = ch.io;
    const std::shared_ptr<ReplayJob> keep = io->replay;
    ReplayJob& job = *keep;
    status.offset = job.bytes_played.load();
    if (job.finished.load()) {
      // Complete frees the output half.
      status.state = ReplayState::complete;
      ch.out_job = OutputJob::none;
      io->output_busy = false;
      io->replay.reset();
      model_.plan_changed();
      changed();
    } else if (job.underrun.exchange(false)) {
      status.state = ReplayState::underrun;
    } else if (job.last_put.load()) {
      status.state = ReplayState::complete_data;
    } else if (replay_ready(job, io->output_threshold_bits.load())) {
      status.state = ReplayState::has_capacity;
    } else {
      status.state = ReplayState::no_capacity;
    }
    return Errc::ok;
  });
  if (e != Errc::ok) return e;
  refresh(*io, kWriteEvent);
  return Errc::ok;
}

Errc Engine::replay_abort(std::uintptr_t out, std::uint64_t& offset) {
  return with_channel(out, Half::any, [&](ChannelCtl& ch, ChannelKey) {
    if (!replaying(ch)) return Errc::no_replay_in_progress;
    auto& job = *ch.io->replay;
    job.abort_requested = true;
    job.finished = true;
    offset = job.bytes_played.load();
    changed();
    return Errc::ok;
  });
}

Errc Engine::replay_adjust(std::uintptr_t out, std::uintptr_t background, int volume_db, bool agc) {
  if (!volume_ok(volume_db)) return Errc::bad_parameter;
  return with_channel(out, Half::any, [&](ChannelCtl& ch, ChannelKey) {
    if (!replaying(ch)) return Errc::no_replay_in_progress;
    if (background) {
      ChannelCtl* bg;
      ChannelKey bkey;
      if (Errc e = lookup_argument(background, bg, bkey); e != Errc::ok) return e;
      if (bg == &ch || !has_output(bg->type)) return Errc::bad_parameter;
    }
    // The processing path reads the settings at the next frame boundary.
    auto& s = ch.io->replay->settings;
    s.background = ChannelId{background};
    s.volume_db = volume_db;
    s.agc = agc;
    model_.plan_changed();
    changed();
    return Errc::ok;
  });
}

// ---------------------------------------------------------------------------
// Record

Errc Engine::record_start(std::uintptr_t in, const RecordSettings& s) {
  if (!job_format_ok(s.format)) return Errc::not_implemented;
  if (!volume_ok(s.volume_db) || !job_rate_ok(s.sample_rate)) return Errc::bad_parameter;
  if (s.silence_elimination_ms > 1000) return Errc::bad_parameter;
  if (s.tone_elimination.enabled && s.tone_elimination.tone_set != 0 && s.tone_elimination.tone_set != 1)
    return Errc::bad_parameter;
  const unsigned rate = s.sample_rate ? s.sample_rate : sample_rate();
  return with_channel(in, Half::input, [&](ChannelCtl& ch, ChannelKey key) {
    if (ch.io->record_busy.load() || model_.record(key.slot)) return Errc::wrong_channel_state;
    if (ch.type == ChannelType::half_duplex && output_half_busy(ch)) return Errc::wrong_channel_state;
    ChannelKey source = key;
    if (s.source != RecordSource::own_input) {
      if (!s.alt_source) return Errc::bad_parameter;
      ChannelCtl* src;
      if (Errc e = lookup_argument(s.alt_source.value, src, source); e != Errc::ok) return e;
      if (s.source == RecordSource::alt_output) {
        if (!has_output(src->type)) return Errc::wrong_channel_type;
        // Documented: the output's datafeed must have been referenced first.
        if (!src->datafeed_referenced) return Errc::wrong_channel_state;
      } else if (!has_input(src->type)) {
        return Errc::wrong_channel_type;
      }
    }
    auto job = std::make_shared<RecordJob>(std::max<std::size_t>(data_bytes(s.format, rate, 4), 8192));
    job->settings = s;
    job->source = source;
    job->bytes_per_sample = data_unit(s.format);
    model_.record(key.slot) = job;
    ch.io->record = job;
    ch.io->record_busy = true;
    model_.plan_changed();
    changed();
    update_event(*ch.io, kReadEvent);  // no longer idle
    return Errc::ok;
  });
}

Errc Engine::record_get(std::uintptr_t in, std::uint8_t* data, std::size_t n, std::size_t& got) {
  got = 0;
  std::shared_ptr<ChannelIo> io;
  std::shared_ptr<RecordJob> job;
  const Errc e = with_channel(in, Half::any, [&](ChannelCtl& ch, ChannelKey key) {
    job = model_.record(key.slot);
    if (!job) return Errc::no_record_in_progress;
    io = ch.io;
    return Errc::ok;
  });
  if (e != Errc::ok) return e;
  if (n > 0 && data == nullptr) return Errc::bad_parameter;
  {
    std::lock_guard<std::mutex> io_lock(io->api_mutex);
    // Whole samples only, so a linear recording never splits a sample.
    n -= n % job->bytes_per_sample;
    got = job->data.read(data, n);
  }
  refresh(*io, kReadEvent);
  return Errc::ok;
}

Errc Engine::record_status(std::uintptr_t in, RecordStatus& status) {
  std::shared_ptr<ChannelIo> io;
  const Errc e = with_channel(in, Half::any, [&](ChannelCtl& ch, ChannelKey key) {
    auto& job = model_.record(key.slot);
    if (!job) return Errc::no_record_in_progress;
    io = ch.io;
    status.termination = static_cast<RecordTermination>(job->termination.load());
    status.termination_octets = job->termination_octets.load();
    const bool terminated = status.termination != RecordTermination::not_yet;
    const bool has_data = job->data.size() > 0;
    if (io->recognised.pop(status.recognition)) {
      // Recognition on the recording channel, delivered inline (as Prosody
      // does), ahead of the data.
      status.state = RecordState::recognition;
    } else if (job->overrun.exchange(false)) {
      status.state = RecordState::overrun;
    } else if (terminated && !has_data) {
      // Complete frees the input half.
      status.state = RecordState::complete;
      job.reset();
      io->record.reset();
      io->record_busy = false;
      model_.plan_changed();
      changed();
    } else if (terminated) {
      status.state = RecordState::complete_data;
    } else if (has_data) {
      status.state = RecordState::data;
    } else {
      status.state = RecordState::no_data;
    }
    return Errc::ok;
  });
  if (e != Errc::ok) return e;
  refresh(*io, kReadEvent);
  if (status.state == RecordState::recognition) refresh(*io, kRecognitionEvent);
  return Errc::ok;
}

Errc Engine::record_agc_adjust(std::uintptr_t in, double gain_db) {
  if (!(gain_db >= -30.0 && gain_db <= 20.0)) return Errc::bad_parameter;  // the AGC's own range
  return with_channel(in, Half::any, [&](ChannelCtl&, ChannelKey key) {
    const auto& job = model_.record(key.slot);
    if (!job) return Errc::no_record_in_progress;
    job->agc_forced_gain_db = gain_db;
    job->agc_gain_forced.store(true, std::memory_order_release);
    return Errc::ok;
  });
}

Errc Engine::record_agc_settings(std::uintptr_t in, const RecordAgcSettings& settings) {
  if (!(settings.max_level_decay >= 0.0 && settings.max_level_decay <= 1.0)) return Errc::bad_parameter;
  if (!(settings.target_level_db >= -90.0 && settings.target_level_db <= 3.0)) return Errc::bad_parameter;
  return with_channel(in, Half::any, [&](ChannelCtl&, ChannelKey key) {
    const auto& job = model_.record(key.slot);
    if (!job) return Errc::no_record_in_progress;
    job->agc_settings = settings;
    changed();  // adopted at the next frame boundary
    return Errc::ok;
  });
}

Errc Engine::set_threshold(std::uintptr_t id, bool output, int minimum_bits) {
  if (minimum_bits > 16384 || minimum_bits < -16384) return Errc::bad_parameter;  // 2048 octets
  return with_channel(id, output ? Half::output : Half::input, [&](ChannelCtl& ch, ChannelKey key) {
    // While a job runs only a replay's output threshold may change.
    if (output && ch.out_job != OutputJob::none && ch.out_job != OutputJob::replay) return Errc::wrong_channel_state;
    if (!output && model_.record(key.slot)) return Errc::wrong_channel_state;
    if (!output && minimum_bits < 0) return Errc::bad_parameter;
    (output ? ch.io->output_threshold_bits : ch.io->input_threshold_bits) = minimum_bits;
    update_event(*ch.io, output ? kWriteEvent : kReadEvent);
    return Errc::ok;
  });
}

Errc Engine::record_abort(std::uintptr_t in, bool discard) {
  return with_channel(in, Half::any, [&](ChannelCtl&, ChannelKey key) {
    if (!model_.record(key.slot)) return Errc::no_record_in_progress;
    model_.abort_record(key.slot, discard);
    changed();
    return Errc::ok;
  });
}

}  // namespace prosody::detail
