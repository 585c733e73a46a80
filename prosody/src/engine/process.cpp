// process.cpp - the processing path: one frame at a time.
//
// Order within a frame: bring the runtime up to date (frame boundary), fetch
// every input that is used, process participants once each (tones, gain,
// AGC, activity gating) into contributions, compute the shared group sums,
// compute every conference output, then replays (which may mix another
// output under them), then records, then publish outputs to host ports and
// datafeeds (a datafeed carries this frame's output into the next frame).
#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>

#include "dsp/g711.hpp"
#include "dsp/kernels.hpp"
#include "dsp/levels.hpp"
#include "engine/engine.hpp"

namespace prosody::detail {

namespace {

// Echo suppression on a party's input relative to its own output (sidetone
// channel): when the input is this far below what the party hears, it is
// probably echo, and is attenuated.
// (Thresholds: Engine::echo_min_output_ms_ = -40 dBm0, echo_margin_ratio_ =
// 20 dB, set in the constructor.)
constexpr float kEchoAttenuation = 0.3162f;  // -10 dB
// Input samples beyond this are treated as corrupt and clamped.
constexpr float kInputLimit = 8.0f;

void raise_event(ChannelIo& io, int t) {
  if (auto ev = io.events[t].get()) ev->set(true);
}

void decode(DataFormat f, const std::uint8_t* in, float* out, std::size_t n) {
  switch (f) {
    case DataFormat::alaw:
      dsp::decode_alaw(in, out, n);
      break;
    case DataFormat::ulaw:
      dsp::decode_ulaw(in, out, n);
      break;
    case DataFormat::linear16:
      for (std::size_t i = 0; i < n; ++i) {
        std::int16_t v;
        std::memcpy(&v, in + 2 * i, 2);
        out[i] = static_cast<float>(v) / 32768.0f;
      }
      break;
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
      std::int16_t tmp[256];
      for (std::size_t i = 0; i < n; i += 256) {
        const std::size_t m = std::min<std::size_t>(256, n - i);
        dsp::float_to_s16(in + i, tmp, m);
        std::memcpy(out + 2 * i, tmp, 2 * m);
      }
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

// ---------------------------------------------------------------------------
// Frame boundary

bool Engine::sync_runtime(bool blocking) {
  // What faded out or in during the last frame is done.
  leaving_.clear();
  for (auto& out : outputs_) out.transitions.clear();

  if (applied_version_.load(std::memory_order_relaxed) == version_.load(std::memory_order_acquire)) return true;
  std::unique_lock<std::mutex> lock(ctl_mutex_, std::defer_lock);
  if (blocking) {
    lock.lock();
  } else if (!lock.try_lock()) {
    return false;  // a control call is busy: take the change at the next boundary
  }
  if (version_ == applied_version_.load()) return true;
  rebuild_runtime();
  applied_version_ = version_.load();
  return true;
}

void Engine::rebuild_runtime() {
  const std::size_t nslots = slots_.size();
  std::vector<char> need_in(nslots, 0), need_out(nslots, 0);
  for (std::size_t s = 0; s < nslots; ++s) {
    const ChannelCtl& ch = slots_[s];
    if (!ch.allocated) continue;
    if (ch.pid >= 0 || ch.listening || ch.host_input || records_ctl_[s]) need_in[s] = 1;
    if (ch.out_job != OutputJob::none || ch.host_output || ch.datafeed_referenced) need_out[s] = 1;
  }
  std::vector<char> need_cur(nslots, 0);  // output samples read after the output is done
  for (std::size_t s = 0; s < nslots; ++s) {
    const auto& rec = records_ctl_[s];
    if (!rec || !slots_[s].allocated) continue;
    if (rec->settings.source == RecordSource::alt_output) {
      if (rec->source.slot < nslots) need_out[rec->source.slot] = need_cur[rec->source.slot] = 1;
    } else if (rec->source.slot < nslots) {
      need_in[rec->source.slot] = 1;
    }
  }
  for (std::size_t s = 0; s < nslots; ++s) {
    const ChannelCtl& ch = slots_[s];
    if (!ch.allocated || ch.out_job != OutputJob::replay || !ch.io->replay || !ch.io->replay->settings.background)
      continue;
    ChannelKey bk;
    if (decode_channel(ch.io->replay->settings.background.value, bk) && bk.slot < nslots) need_cur[bk.slot] = 1;
  }

  // -- Inputs: participants first, in slot order, so contribution indices
  //    stay put while the participant set does not change.
  std::vector<InputRt> old_inputs = std::move(inputs_);
  std::vector<std::int32_t> old_by_slot = std::move(input_by_slot_);
  inputs_.clear();
  input_by_slot_.assign(nslots, -1);
  auto take_old = [&](std::size_t s) -> InputRt* {
    if (s < old_by_slot.size() && old_by_slot[s] >= 0) {
      InputRt& o = old_inputs[static_cast<std::size_t>(old_by_slot[s])];
      if (o.key.gen == slots_[s].gen && o.io) return &o;
    }
    return nullptr;
  };
  bool participants_changed = false;
  for (int pass = 0; pass < 2; ++pass) {
    for (std::size_t s = 0; s < nslots; ++s) {
      if (!need_in[s]) continue;
      const ChannelCtl& ch = slots_[s];
      const bool participant = ch.pid >= 0;
      if (participant != (pass == 0)) continue;
      InputRt* old = take_old(s);
      InputRt in;
      if (old) {
        in = std::move(*old);
        old->io.reset();  // taken
        if (in.participant != participant || in.pid != ch.pid) participants_changed = true;
        if (in.pid != ch.pid) {  // re-attached: a new participant, fades in
          in.gain_prev = 0.0f;
          in.agc = dsp::AgcState{};
          in.tracker = dsp::ActivityState{};
        }
      } else {
        in.key = ChannelKey{module_no_, static_cast<std::uint32_t>(s), ch.gen};
        in.buf[0].assign(frame_, 0.0f);
        in.buf[1].assign(frame_, 0.0f);
        in.raw = in.buf[0].data();
        if (participant) participants_changed = true;
      }
      in.io = ch.io;
      in.feed = ch.feed;
      in.feed_slot = ch.feed_source.slot;
      if (ch.feed == InputFeed::datafeed && !(ch.feed_source.slot < nslots && slots_[ch.feed_source.slot].allocated &&
                                              slots_[ch.feed_source.slot].gen == ch.feed_source.gen))
        in.feed = InputFeed::none;
      if (ch.feed == InputFeed::host) {
        std::lock_guard<std::mutex> io_lock(ch.io->api_mutex);
        in.host = ch.io->host_in;
      } else {
        in.host.reset();
      }
      in.participant = participant;
      in.leaving = false;
      in.pid = ch.pid;
      in.settings = ch.input;
      in.volume_gain = ch.input.mute ? 0.0f : static_cast<float>(dsp::db_to_gain(ch.input.volume_db));
      in.gating = ch.gating;
      dsp::ActivityParams ap;
      ap.frame_seconds = frame_seconds_;
      ap.min_noise_level_db = ch.tracking.min_noise_level_db;
      ap.speech_thresh = ch.tracking.speech_thresh;
      in.tracker_coeff = dsp::activity_coefficients(ap);
      dsp::AgcParams agp;
      agp.frame_seconds = frame_seconds_;
      agp.target_dbm0 = ch.input_agc.target_level_db;
      agp.max_level_decay = ch.input_agc.max_level_decay;
      in.agc_coeff = dsp::agc_coefficients(agp);
      in.sidetone_slot = ch.has_sidetone ? static_cast<int>(ch.sidetone.slot) : -1;
      if (ch.listening) {
        if (in.processed.size() != frame_) in.processed.assign(frame_, 0.0f);
        if (!in.tones) {
          in.tones = std::make_unique<ToneSuppressor>(config_.sample_rate, ch.listen);
          in.tones_origin = frames_.load() * frame_;
        } else if (std::memcmp(&in.tones->settings(), &ch.listen, sizeof(ListenSettings)) != 0) {
          in.tones->configure(ch.listen);
        }
      } else {
        finish_tones(in);
      }
      input_by_slot_[s] = static_cast<std::int32_t>(inputs_.size());
      inputs_.push_back(std::move(in));
    }
  }
  // Inputs no longer needed whose channel is still there stopped listening
  // (a released channel's jobs are aborted, its tones unreported).
  for (auto& o : old_inputs)
    if (o.io && o.tones && o.key.slot < nslots && slots_[o.key.slot].allocated && slots_[o.key.slot].gen == o.key.gen)
      finish_tones(o);
  // Participants that left (detached or released) fade out over one frame.
  std::uint32_t contrib = 0;
  for (auto& in : inputs_)
    if (in.participant) in.contrib = contrib++;
  for (auto& o : old_inputs) {
    if (!o.io || !o.participant) continue;
    participants_changed = true;
    o.leaving = true;
    o.contrib = contrib++;
    leaving_.push_back(std::move(o));
  }
  contrib_.assign(static_cast<std::size_t>(contrib) * frame_, 0.0f);
  contrib_ptr_.assign(contrib, nullptr);

  // -- Outputs: conference outputs, then replays by depth of background
  //    chains, then channels whose output is only idle (silence).
  std::vector<OutputRt> old_outputs = std::move(outputs_);
  std::vector<std::int32_t> old_out_by_slot = std::move(output_by_slot_);
  outputs_.clear();
  output_by_slot_.assign(nslots, -1);
  std::vector<int> depth(nslots, 0);
  auto replay_depth = [&](std::size_t s) {
    // Follow background links; a loop is cut (that background is heard one
    // frame late, from its previous output).
    int d = 0;
    std::size_t cur = s;
    for (int guard = 0; guard < 64; ++guard) {
      const ChannelCtl& ch = slots_[cur];
      if (ch.out_job != OutputJob::replay || !ch.io->replay || !ch.io->replay->settings.background) break;
      ChannelKey bk;
      if (!decode_channel(ch.io->replay->settings.background.value, bk) || bk.slot >= nslots) break;
      ++d;
      cur = bk.slot;
      if (cur == s) break;
    }
    return d;
  };
  std::vector<std::pair<int, std::size_t>> order;
  for (std::size_t s = 0; s < nslots; ++s) {
    if (!need_out[s]) continue;
    const ChannelCtl& ch = slots_[s];
    int rank = 0;
    if (ch.out_job == OutputJob::replay)
      rank = 1 + replay_depth(s);
    else if (ch.out_job == OutputJob::none)
      rank = 1000;
    depth[s] = rank;
    order.emplace_back(rank, s);
  }
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [rank, s] : order) {
    const ChannelCtl& ch = slots_[s];
    OutputRt out;
    if (s < old_out_by_slot.size() && old_out_by_slot[s] >= 0) {
      OutputRt& o = old_outputs[static_cast<std::size_t>(old_out_by_slot[s])];
      if (o.key.gen == ch.gen && o.io) {
        out = std::move(o);
        o.io.reset();
      }
    }
    if (!out.io) out.key = ChannelKey{module_no_, static_cast<std::uint32_t>(s), ch.gen};
    // Only a channel whose datafeed is referenced (or that a replay may hear
    // from the previous frame) needs last frame's output.
    out.keeps_prev = ch.datafeed_referenced || ch.out_job == OutputJob::replay || ch.out_job == OutputJob::none;
    out.keeps_cur = out.keeps_prev || need_cur[s];
    if (out.keeps_cur && out.cur.size() != frame_) out.cur.assign(frame_, 0.0f);
    if (out.keeps_prev && out.prev.size() != frame_) out.prev.assign(frame_, 0.0f);
    const OutputJob was = out.job;
    out.io = ch.io;
    out.job = ch.out_job;
    out.order = rank;
    if (ch.host_output) {
      std::lock_guard<std::mutex> io_lock(ch.io->api_mutex);
      out.host = ch.io->host_out;
    } else {
      out.host.reset();
    }
    if (out.job == OutputJob::conference) {
      if (was != OutputJob::conference) {  // a new conference output
        out.members.clear();
        out.members_version = ~std::uint64_t{0};
        out.agc = dsp::AgcState{};
        out.limiter = dsp::LimiterState{};
        out.gain_prev = 1.0f;
        out.reported_once = false;
      }
      out.settings = ch.conf.settings;
      out.volume_gain = static_cast<float>(dsp::db_to_gain(ch.conf.settings.volume_db));
      out.conf_type = ch.conf.conf_type;
      out.activity_delay_ms = ch.conf.activity_delay_ms;
      out.activity_sensitivity = ch.conf.activity_sensitivity;
    } else {
      out.terms.clear();
      out.transitions.clear();
      out.members.clear();
      out.members_version = ~std::uint64_t{0};
    }
    if (out.job == OutputJob::replay) {
      auto job = ch.io->replay;
      if (out.replay.job != job) {
        out.replay = ReplayRt{};
        out.replay.job = job;
        out.limiter = dsp::LimiterState{};
      }
      const auto& rs = job->settings;
      out.replay.volume_gain = static_cast<float>(dsp::db_to_gain(rs.volume_db));
      out.replay.agc = rs.agc;
      out.replay.background_slot = -1;
      ChannelKey bk;
      if (rs.background && decode_channel(rs.background.value, bk) && bk.slot < nslots && slots_[bk.slot].allocated &&
          slots_[bk.slot].gen == bk.gen)
        out.replay.background_slot = static_cast<int>(bk.slot);
    } else {
      out.replay = ReplayRt{};
    }
    output_by_slot_[s] = static_cast<std::int32_t>(outputs_.size());
    outputs_.push_back(std::move(out));
  }
  // Backgrounds must be computed this frame: make sure they have a runtime.
  for (auto& out : outputs_) {
    if (out.replay.background_slot >= 0 && output_by_slot_[static_cast<std::size_t>(out.replay.background_slot)] < 0)
      out.replay.background_slot = -1;
  }

  // -- Records
  std::vector<RecordRt> old_records = std::move(records_);
  records_.clear();
  for (std::size_t s = 0; s < nslots; ++s) {
    const auto& job = records_ctl_[s];
    if (!job || !slots_[s].allocated) continue;
    RecordRt rec;
    for (auto& o : old_records)
      if (o.job == job) {
        rec = std::move(o);
        break;
      }
    if (!rec.job) rec.job = job;
    rec.io = slots_[s].io;
    rec.from_output = job->settings.source == RecordSource::alt_output;
    rec.source_slot = job->source.slot;
    rec.volume_gain = static_cast<float>(dsp::db_to_gain(job->settings.volume_db));
    const bool source_ok = job->source.slot < nslots && slots_[job->source.slot].allocated &&
                           slots_[job->source.slot].gen == job->source.gen;
    if (!source_ok) {
      int expected = static_cast<int>(RecordTermination::not_yet);
      job->termination.compare_exchange_strong(expected, static_cast<int>(RecordTermination::error));
    }
    records_.push_back(std::move(rec));
  }

  any_activity_reporting_ = false;
  for (const auto& out : outputs_)
    if (out.job == OutputJob::conference && out.activity_delay_ms > 0) any_activity_reporting_ = true;

  if (participants_changed || plan_dirty_) {
    rebuild_plan();
    plan_dirty_ = false;
  }
  group_sum_.assign(groups_.size() * frame_, 0.0);
}

// ---------------------------------------------------------------------------
// Inputs

void Engine::fetch_input(InputRt& in) {
  const std::size_t n = frame_;
  // Receive into the buffer that does not hold the last complete frame.
  const int w = in.last_good == 0 ? 1 : 0;
  float* x = in.buf[w].data();
  std::size_t got = 0;
  switch (in.feed) {
    case InputFeed::host:
      if (in.host) got = in.host->read(x, n);
      break;
    case InputFeed::datafeed: {
      const std::int32_t oi = in.feed_slot < output_by_slot_.size() ? output_by_slot_[in.feed_slot] : -1;
      if (oi >= 0 && outputs_[static_cast<std::size_t>(oi)].keeps_prev) {
        dsp::copy(outputs_[static_cast<std::size_t>(oi)].prev.data(), x, n);
        got = n;
      }
      break;
    }
    case InputFeed::none:
      break;
  }
  ChannelIo& io = *in.io;
  if (in.feed == InputFeed::none) {
    dsp::zero(x, n);
  } else if (got < n) {
    // Missing audio: the first missing stretch plays the audio just before
    // the gap backwards (a mirror about the last received sample) fading
    // out. The mirror starts at the value the signal stopped at, so the gap
    // does not click; repeating the last frame would jump in phase. After
    // that, silence.
    if (in.missing_run == 0 && (got > 0 || in.last_good >= 0)) {
      const float* last = in.last_good >= 0 ? in.buf[in.last_good].data() : nullptr;
      const std::size_t gap = n - got;
      for (std::size_t k = 0; k < gap; ++k) {
        // Source index got-1-k counts back through this frame's samples, then the last good frame's.
        const std::ptrdiff_t j = std::ptrdiff_t(got) - 1 - std::ptrdiff_t(k);
        const float before = j >= 0 ? x[j] : (last ? last[std::ptrdiff_t(n) + j] : 0.0f);
        x[got + k] = before * (1.0f - float(k + 1) / float(gap));
      }
    } else {
      dsp::zero(x + got, n - got);
    }
    ++in.missing_run;
    ++in.pending_concealed;
    if (got > 0) ++in.pending_frames;
  } else {
    if (in.missing_run > 0 && in.last_good >= 0) dsp::apply_gain_ramp(x, n, 0.0f, 1.0f);  // back after a gap
    in.missing_run = 0;
    in.last_good = w;
    ++in.pending_frames;
  }
  in.raw = x;
  dsp::BlockStats st = dsp::block_stats(x, n);
  if (!std::isfinite(st.sum_squares) || st.peak > kInputLimit) {
    // Corrupt input (NaN, infinities, absurd values) is cleaned, not mixed.
    io.in_nonfinite.fetch_add(dsp::sanitise(x, n, kInputLimit), std::memory_order_relaxed);
    st = dsp::block_stats(x, n);
  }
  in.raw_ms = st.sum_squares / double(n);
  // Short-term level for reports and statistics: one-pole over about 100 ms.
  in.level_smooth_ms += level_alpha_ * (in.raw_ms - in.level_smooth_ms);
  if ((frames_.load(std::memory_order_relaxed) & 7) == 0) {
    io.in_level_dbm0.store(static_cast<float>(dsp::mean_square_to_dbm0(in.level_smooth_ms)), std::memory_order_relaxed);
    io.in_frames.fetch_add(in.pending_frames, std::memory_order_relaxed);
    io.in_concealed.fetch_add(in.pending_concealed, std::memory_order_relaxed);
    in.pending_frames = in.pending_concealed = 0;
  }
}

void Engine::process_participant(InputRt& in) {
  const std::size_t n = frame_;
  const float* src = in.raw;

  // Tones: detection on the raw input, suppression on what enters the mix.
  bool suppressed = false;  // src differs from the raw input
  if (in.tones) {
    in.tone_events.clear();
    in.tones->process(in.raw, in.processed.data(), n, in.tone_events);
    suppressed = !in.tones->last_block_unchanged();
    if (suppressed) src = in.processed.data();
    deliver_tones(in);
  }
  if (!in.participant) return;

  const double ms = suppressed ? dsp::sum_squares(src, n) / double(n) : in.raw_ms;
  const bool active = dsp::track_activity(in.tracker, in.tracker_coeff, dsp::frame_energy(ms));
  const bool audible_active = active && in.volume_gain > 0.0f;
  if (audible_active != in.active) {
    in.active = audible_active;
    in.io->in_active.store(audible_active, std::memory_order_relaxed);
  }

  float agc_gain = 1.0f;
  if (in.settings.agc) agc_gain = dsp::agc_update(in.agc, in.agc_coeff, ms, active).gain_after;

  float sidetone = 1.0f;
  if (in.sidetone_slot >= 0) {
    const std::int32_t oi = output_by_slot_[static_cast<std::size_t>(in.sidetone_slot)];
    if (oi >= 0) {
      // Probably echo of what the party hears: quieter than it by the margin.
      const double out_ms = outputs_[static_cast<std::size_t>(oi)].last_ms;
      if (out_ms > echo_min_output_ms_ && ms < out_ms * echo_margin_ratio_) sidetone = kEchoAttenuation;
    }
  }
  const float gate = in.gating ? (active ? 1.0f : 0.0f) : 1.0f;

  const float g0 = in.gain_prev;
  const float g1 = in.leaving ? g0 : in.volume_gain * agc_gain * sidetone * gate;
  in.gain_prev = g1;
  // The contribution, added into its group sum in the same pass.
  const std::int32_t group = group_of_contrib_[in.contrib];
  double* sum = group >= 0 ? group_sum_.data() + static_cast<std::size_t>(group) * n : nullptr;
  if (g0 == 0.0f && g1 == 0.0f) {
    contrib_ptr_[in.contrib] = nullptr;  // silent: skipped by every sum
  } else if (g0 == 1.0f && g1 == 1.0f) {
    contrib_ptr_[in.contrib] = src;  // unity: mixed straight from the input
    if (sum) dsp::accumulate(sum, src, n);
  } else {
    float* c = contrib_.data() + static_cast<std::size_t>(in.contrib) * n;
    if (sum)
      dsp::copy_gain_ramp_accumulate(src, c, sum, n, g0, g1);
    else
      dsp::copy_gain_ramp(src, c, n, g0, g1);
    contrib_ptr_[in.contrib] = c;
  }
}

void Engine::deliver_tones(InputRt& in) {
  if (in.tone_events.empty()) return;
  ChannelIo& io = *in.io;
  const ListenSettings& ls = in.tones->settings();
  bool any = false;
  for (const ToneEvent& ev : in.tone_events) {
    const bool want =
        ls.report == ToneReport::start_and_end || (ls.report == ToneReport::at_start ? !ev.is_end : ev.is_end);
    if (!want) continue;
    Recognition r;
    r.is_end = ev.is_end;
    r.start_sample = in.tones_origin + ev.start_sample;
    r.duration_ms = ev.duration_ms;
    r.level_dbm0 = ev.level_dbm0;
    r.type = ev.type;
    r.param0 = ev.code;
    r.param1 = ev.code2;
    if (ev.type == RecognitionType::digit && !ls.map_to_digits) {
      // Unmapped DTMF: the tone indices (band 1 row, band 2 column).
      static const char kLayout[] = "123A456B789C*0#D";
      const char* p = std::strchr(kLayout, ev.code);
      const int pos = p ? static_cast<int>(p - kLayout) : 0;
      r.type = RecognitionType::tone;
      r.param0 = pos / 4;
      r.param1 = pos % 4;
    }
    if (ls.report == ToneReport::with_length) r.param1 = static_cast<int>(ev.duration_ms);
    if (!io.recognised.push(r)) io.recognition_overrun = true;
    any = true;
  }
  if (any) raise_event(io, 2);
}

// Listening stops: a tone in progress still gets its end report, as if the
// line had gone quiet where listening stopped.
void Engine::finish_tones(InputRt& in) {
  if (!in.tones) return;
  in.tone_events.clear();
  in.tones->finish(nullptr, in.tone_events);
  deliver_tones(in);
  in.tones.reset();
}

// ---------------------------------------------------------------------------
// Outputs

// Returns the mean square of the mix (before the output's gain), and leaves
// its sub-block peaks in peaks_ for the limiter.
double Engine::mix_output(OutputRt& out) {
  const std::size_t n = frame_;
  const std::size_t sub = limiter_coeff_.subblock;
  float* y = out.y;
  float* peaks = peaks_.data();
  double* acc = acc_.data();
  const float* const* c = contrib_ptr_.data();
  if (out.subtractive) {
    const double* sum = group_sum_.data() + static_cast<std::size_t>(out.group) * n;
    // The usual case, one exclusion (the listener): one fused pass.
    if (out.terms.size() == 1 && out.transitions.empty()) {
      const float* x = c[out.terms[0]];
      return (x ? dsp::subtract_narrow(sum, x, y, n, sub, peaks) : dsp::narrow(sum, y, n, sub, peaks)) / double(n);
    }
    std::copy_n(sum, n, acc);
    for (std::uint32_t t : out.terms)
      if (const float* x = c[t]) dsp::subtract(acc, x, n);
  } else {
    // A single talker heard alone (a two-party call) needs no bus at all.
    if (out.terms.size() == 1 && out.term_factors.empty() && out.transitions.empty()) {
      if (const float* x = c[out.terms[0]])
        dsp::copy(x, y, n);
      else
        dsp::zero(y, n);
      return dsp::subblock_stats(y, n, sub, peaks) / double(n);
    }
    dsp::zero(acc, n);
    for (std::size_t k = 0; k < out.terms.size(); ++k) {
      const float* x = c[out.terms[k]];
      if (!x) continue;
      if (out.term_factors.empty())
        dsp::accumulate(acc, x, n);
      else
        dsp::accumulate_scaled(acc, x, out.term_factors[k], n);
    }
  }
  for (const Transition& tr : out.transitions)
    if (const float* x = c[tr.contrib]) dsp::accumulate_ramped(acc, x, fade_out_.data(), tr.sign, n);
  return dsp::narrow(acc, y, n, sub, peaks) / double(n);
}

void Engine::finish_conference_output(OutputRt& out, double mix_ms) {
  float target = out.settings.mute ? 0.0f : out.volume_gain;
  if (out.settings.agc) target *= dsp::agc_update(out.agc, output_agc_coeff_, mix_ms).gain_after;
  limit_output(out, out.gain_prev, target);
  // Level after the gain (before limiting): for echo suppression and stats.
  out.last_ms = mix_ms * double(target) * double(target);
  out.gain_prev = target;
}

// The output gain ramp and the limiter, in one pass, from the sub-block
// peaks in peaks_.
void Engine::limit_output(OutputRt& out, float g0, float g1) {
  if (dsp::limit_with_gain(out.y, frame_, peaks_.data(), g0, g1, out.limiter, limiter_coeff_, scratch_.data()) < 1.0f)
    ++out.pending_limited;
}

void Engine::render_replay(OutputRt& out) {
  const std::size_t n = frame_;
  float* y = out.y;
  ReplayRt& r = out.replay;
  ReplayJob& job = *r.job;
  dsp::zero(y, n);
  if (!job.finished.load(std::memory_order_relaxed) && !job.abort_requested.load(std::memory_order_relaxed)) {
    const unsigned bps = job.bytes_per_sample;
    std::size_t want = n * bps;
    const std::uint64_t limit = job.settings.data_length;
    const std::uint64_t played = job.bytes_played.load(std::memory_order_relaxed);
    if (limit > 0) want = static_cast<std::size_t>(std::min<std::uint64_t>(want, limit - std::min(limit, played)));
    std::uint8_t bytes[48000 / 1000 * 20 * 2];  // the largest frame: 20 ms at 48 kHz, 16-bit
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
    if (job.finished.load() || job.underrun.load() || job.data.free_space() >= 2048) raise_event(*out.io, 0);
  }
  float target = r.volume_gain;
  if (r.agc) target *= dsp::agc_update(r.agc_state, replay_agc_coeff_, dsp::sum_squares(y, n) / double(n)).gain_after;
  dsp::apply_gain_ramp(y, n, r.gain_prev, target);  // the replay alone, before its background
  r.gain_prev = target;
  if (r.background_slot >= 0) {
    const std::int32_t bi = output_by_slot_[static_cast<std::size_t>(r.background_slot)];
    if (bi >= 0) {
      const OutputRt& bg = outputs_[static_cast<std::size_t>(bi)];
      // A background computed earlier this frame is heard now; one in a loop
      // is heard from its previous frame.
      const float* b = bg.order < out.order ? bg.y : (bg.keeps_prev ? bg.prev.data() : nullptr);
      if (b) dsp::add_scaled(y, b, 1.0f, n);
    }
  }
  out.last_ms = dsp::subblock_stats(y, n, limiter_coeff_.subblock, peaks_.data()) / double(n);
  limit_output(out, 1.0f, 1.0f);
}

void Engine::publish_output(OutputRt& out) {
  const std::size_t n = frame_;
  ChannelIo& io = *out.io;
  if (out.host) {
    const std::size_t w = out.host->write(out.y, n);
    if (w < n) io.out_dropped.fetch_add(n - w, std::memory_order_relaxed);
  }
  ++out.pending_frames;
  if ((frames_.load(std::memory_order_relaxed) & 7) == 0) {
    if (out.job == OutputJob::none) out.last_ms = 0.0;
    io.out_level_dbm0.store(static_cast<float>(dsp::mean_square_to_dbm0(out.last_ms)), std::memory_order_relaxed);
    io.out_frames.fetch_add(out.pending_frames, std::memory_order_relaxed);
    io.out_limited.fetch_add(out.pending_limited, std::memory_order_relaxed);
    out.pending_frames = out.pending_limited = 0;
  }
}

// ---------------------------------------------------------------------------
// Records

void Engine::run_record(RecordRt& rec) {
  RecordJob& job = *rec.job;
  if (job.termination.load(std::memory_order_relaxed) != static_cast<int>(RecordTermination::not_yet)) return;
  const std::size_t n = frame_;
  const float* src = nullptr;
  if (rec.from_output) {
    const std::int32_t oi = rec.source_slot < output_by_slot_.size() ? output_by_slot_[rec.source_slot] : -1;
    if (oi >= 0) src = outputs_[static_cast<std::size_t>(oi)].y;
  } else {
    const std::int32_t ii = rec.source_slot < input_by_slot_.size() ? input_by_slot_[rec.source_slot] : -1;
    if (ii >= 0) src = inputs_[static_cast<std::size_t>(ii)].raw;
  }
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
  std::uint8_t encoded[48000 / 1000 * 20 * 2];
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
  raise_event(*rec.io, 1);
}

// ---------------------------------------------------------------------------
// Activity reports

void Engine::report_activity() {
  if (!any_activity_reporting_) return;
  // Active participants are ranked once per frame, and only if some output
  // is due a report; each reporting output takes the first four that are
  // its members.
  const std::uint64_t frame = frames_.load(std::memory_order_relaxed);
  auto due = [&](const OutputRt& out) {
    if (out.job != OutputJob::conference || out.activity_delay_ms == 0) return false;
    const double since_ms = double(frame - out.last_report_frame) * frame_seconds_ * 1000.0;
    return !out.reported_once || since_ms >= out.activity_delay_ms;
  };
  if (std::none_of(outputs_.begin(), outputs_.end(), due)) return;
  ranked_.clear();
  for (const auto& in : inputs_)
    if (in.participant && in.active) ranked_.push_back({in.pid, dsp::mean_square_to_dbm0(in.level_smooth_ms)});
  std::sort(ranked_.begin(), ranked_.end(), [](const ActiveInput& a, const ActiveInput& b) {
    return a.level_dbm0 > b.level_dbm0 || (a.level_dbm0 == b.level_dbm0 && a.id < b.id);
  });
  for (auto& out : outputs_) {
    if (!due(out)) continue;
    ActivityReport r;
    r.frame = frame;
    std::size_t k = 0;
    for (const auto& a : ranked_) {
      if (k == 4) break;
      if (out.members.test(static_cast<std::size_t>(a.id))) r.ranks[k++] = a;
    }
    // Report when the ranking changes, or a level moves by more than the
    // sensitivity allows (100: any change; 0: 20 dB).
    const double threshold_db = (100.0 - out.activity_sensitivity) * 0.2;
    bool significant = !out.reported_once;
    for (std::size_t i = 0; i < 4 && !significant; ++i) {
      if (r.ranks[i].id != out.last_report.ranks[i].id)
        significant = true;
      else if (r.ranks[i].id >= 0 &&
               std::fabs(r.ranks[i].level_dbm0 - out.last_report.ranks[i].level_dbm0) > threshold_db)
        significant = true;
    }
    if (!significant) continue;
    if (out.io->activity.push(r)) raise_event(*out.io, 0);
    out.last_report = r;
    out.last_report_frame = frame;
    out.reported_once = true;
  }
}

// ---------------------------------------------------------------------------
// The frame

void Engine::process_frame() {
  const std::size_t n = frame_;
  // Two passes over the parties, each doing all the work on one party while
  // its data is in cache: that is what keeps 10,000 parties linear.
  for (std::size_t g = 0; g < groups_.size(); ++g) dsp::zero(group_sum_.data() + g * n, n);

  // 1. Inputs: receive, process into a contribution (added to its group sum).
  auto take_input = [&](InputRt& in) {
    fetch_input(in);
    if (in.participant || in.tones) process_participant(in);
  };
  for (auto& in : inputs_) take_input(in);
  for (auto& in : leaving_) take_input(in);

  // 2. Outputs in order (conference outputs, replays, idle): compute and
  //    deliver to host ports.
  for (auto& out : outputs_) {
    out.y = out.keeps_cur ? out.cur.data() : out_scratch_.data();
    switch (out.job) {
      case OutputJob::conference:
        finish_conference_output(out, mix_output(out));
        break;
      case OutputJob::replay:
        render_replay(out);
        break;
      case OutputJob::none:
        dsp::zero(out.y, n);
        break;
    }
    publish_output(out);
  }

  // 3. Records, which may tap this frame's inputs and outputs.
  for (auto& rec : records_) run_record(rec);

  // 4. What datafeeds carry into the next frame.
  for (auto& out : outputs_)
    if (out.keeps_prev) std::swap(out.cur, out.prev);

  report_activity();
  frames_.fetch_add(1, std::memory_order_release);
}

// ---------------------------------------------------------------------------
// Real-time drive

void Engine::realtime_loop() {
  const long period_ns = static_cast<long>(config_.frame_us) * 1000L;
  timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  auto advance = [&](timespec& t, long ns) {
    t.tv_nsec += ns;
    while (t.tv_nsec >= 1000000000L) {
      t.tv_nsec -= 1000000000L;
      ++t.tv_sec;
    }
  };
  advance(next, period_ns);
  while (!rt_stop_.load()) {
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr);
    {
      std::lock_guard<std::mutex> lock(process_mutex_);
      sync_runtime(false);
      process_frame();
    }
    applied_cv_.notify_all();
    advance(next, period_ns);
    timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    const long long behind_ns = (now.tv_sec - next.tv_sec) * 1000000000LL + (now.tv_nsec - next.tv_nsec);
    if (behind_ns > 0) {
      // Missed a deadline. Far behind: start the schedule again from now
      // rather than racing to catch up.
      late_frames_.fetch_add(1, std::memory_order_relaxed);
      if (behind_ns > 5LL * period_ns) {
        next = now;
        advance(next, period_ns);
      }
    }
  }
}

}  // namespace prosody::detail
