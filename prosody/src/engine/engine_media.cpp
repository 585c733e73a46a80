// engine_media.cpp - replay (output half) and record (input half) jobs: the
// application's side of their data rings and their status.
#include <algorithm>

#include "engine/engine.hpp"

namespace prosody::detail {

namespace {

unsigned bytes_per_sample(DataFormat f) { return f == DataFormat::linear16 ? 2u : 1u; }

bool format_ok(DataFormat f) {
  switch (f) {
    case DataFormat::alaw:
    case DataFormat::ulaw:
    case DataFormat::linear16:
    case DataFormat::unsigned8:
    case DataFormat::signed8:
      return true;
  }
  return false;
}

bool replaying(const ChannelCtl& ch) { return ch.out_job == OutputJob::replay && ch.io->replay; }

}  // namespace

// ---------------------------------------------------------------------------
// Replay

Errc Engine::replay_start(std::uintptr_t out, const ReplaySettings& s) {
  if (!format_ok(s.format)) return Errc::not_implemented;
  if (!volume_ok(s.volume_db)) return Errc::bad_parameter;
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
    auto job = std::make_shared<ReplayJob>(std::max<std::size_t>(2 * sample_rate() * bytes_per_sample(s.format), 4096));
    job->settings = s;
    job->bytes_per_sample = bytes_per_sample(s.format);
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
    } else if (job.data.free_space() >= 2048) {
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
  if (!format_ok(s.format)) return Errc::not_implemented;
  if (!volume_ok(s.volume_db)) return Errc::bad_parameter;
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
    auto job = std::make_shared<RecordJob>(std::max<std::size_t>(4 * sample_rate() * bytes_per_sample(s.format), 8192));
    job->settings = s;
    job->source = source;
    job->bytes_per_sample = bytes_per_sample(s.format);
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
    if (job->overrun.exchange(false)) {
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
  return Errc::ok;
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
