// process.cpp - the processing path: one frame at a time.
//
// Order within a frame: receive every input that is used and process each
// participant once (tones, gain, AGC, activity gating) into its contribution
// (input.cpp, here); compute the shared group sums, then every conference
// output, then replays (which may mix another output under them), then
// records (jobs.cpp); publish each output as it is done (frame port, host
// port); keep what datafeeds carry into the next frame; report activity.
// Endpoints (endpoints.cpp) are pulled before the inputs and pushed after
// the records.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "dsp/kernels.hpp"
#include "dsp/levels.hpp"
#include "engine/runtime.hpp"

namespace prosody::detail {

namespace {

// Echo suppression on a party's input relative to its own output (sidetone
// channel): when the input is this far below what the party hears, it is
// probably echo, and is attenuated. (Thresholds: Runtime::echo_min_output_ms_
// = -40 dBm0, echo_margin_ratio_ = 20 dB.)
constexpr float kEchoAttenuation = 0.3162f;  // -10 dB

ChannelId id_of(const ChannelKey& key) { return ChannelId{encode_channel(key.module, key.slot, key.gen)}; }

// Cache lines of bytes at p asked for ahead of use. With thousands of
// parties the caller's frames, the frame buffers and the outputs are far
// apart in memory, where the hardware prefetcher does not look.
constexpr std::size_t kLine = 64;
// Parties ahead: the per-party state (read to find the buffers) furthest
// ahead, then the buffers themselves; one party's work covers a memory
// access or two. The caller's input frames, usually furthest away (not in
// any cache), are asked for a little earlier than the outputs' buffers
// (8 against 4, 16 measured worse at 10,000 parties).
constexpr std::size_t kStateAhead = 12;
constexpr std::size_t kAhead = 4;
constexpr std::size_t kInputAhead = 8;

// The prefetch helpers are always inlined: GCC judges a call to a function
// that only prefetches to have no effect, and deletes it.

[[gnu::always_inline]] inline void prefetch_read(const void* p, std::size_t bytes) {
  for (std::size_t at = 0; at < bytes; at += kLine) __builtin_prefetch(static_cast<const char*>(p) + at, 0, 3);
}
[[gnu::always_inline]] inline void prefetch_write(const void* p, std::size_t bytes) {
  for (std::size_t at = 0; at < bytes; at += kLine) __builtin_prefetch(static_cast<const char*>(p) + at, 1, 3);
}

}  // namespace

// ---------------------------------------------------------------------------
// The frame

void Runtime::process_frame(std::vector<FrameEvent>* events) {
  events_ = events;
  if (events_) events_->clear();
  deliver_pending();
  // Two passes over the parties, each doing all the work on one party while
  // its data is in cache: that is what keeps 10,000 parties linear.
  dsp::zero(group_sum_.data(), group_sum_.size());
  // 0. What the endpoints (TDM[rx], VMP[rx]) received for this frame.
  pull_endpoints();

  // 1. Inputs: receive, process into a contribution (added to its group
  //    sum), last party first: the outputs go first to last, so the first
  //    of them find their inputs' frames still in cache. Software-pipelined:
  //    party i is received while party i+1 goes through its tracker and
  //    AGC, whose square roots and divisions form a long dependent chain
  //    the processor overlaps with the next party's copy.
  const std::size_t ni = inputs_.size();
  for (std::size_t k = 0; k <= ni; ++k) {
    const std::size_t i = ni - 1 - k;  // wraps at k == ni (unused then)
    if (k < ni) {
      if (i >= kStateAhead) prefetch_write(&inputs_[i - kStateAhead], sizeof(InputState));
      if (i >= kInputAhead) prefetch_input(inputs_[i - kInputAhead], bound_input_[i - kInputAhead]);
      receive(inputs_[i], input_setup_[i], bound_input_[i]);
    }
    if (k > 0) contribute(inputs_[i + 1], input_setup_[i + 1], bound_input_[i + 1]);
  }
  for (std::size_t i = 0; i < leaving_.size(); ++i) {
    InputState& in = leaving_[i];
    if (leaving_setup_[i].twin >= 0) {  // fades out what its live twin received
      const InputState& live = inputs_[std::size_t(leaving_setup_[i].twin)];
      in.raw = live.raw;
      in.raw_ms = live.raw_ms;
    } else {
      receive(in, leaving_setup_[i], nullptr);  // a leaving input has no frame port of its own
    }
    contribute(in, leaving_setup_[i], nullptr);
  }

  // 2. Outputs in order (conference outputs, replays, idle): computed, then
  //    gained, limited and published; pipelined the same way. A replay
  //    hears its background finished (gained and limited, as its listeners
  //    hear it), so the output before a replay is completed before it.
  const std::size_t no = outputs_.size();
  for (std::size_t i = 0; i <= no; ++i) {
    const bool complete_first = i > 0 && i < no && outputs_[i].job == OutputJob::replay;
    if (complete_first) complete_output(i - 1, int((i - 1) & 1));
    if (i < no) {
      if (i + kStateAhead < no) prefetch_write(&outputs_[i + kStateAhead], sizeof(OutputState));
      if (i + kAhead < no) prefetch_output(outputs_[i + kAhead], bound_output_[i + kAhead]);
      compute_output(i, int(i & 1));
    }
    if (i > 0 && !complete_first) complete_output(i - 1, int((i - 1) & 1));
  }

  // 3. Records, which may tap this frame's inputs and outputs.
  for (auto& rec : records_) run_record(rec);

  // 4. This frame to the endpoints that send it (TDM[tx], VMP[tx]), then
  //    what datafeeds carry into the next frame.
  push_endpoints();
  for (std::uint32_t i : keeping_prev_) std::swap(outputs_[i].cur, output_setup_[i].prev);

  report_activity();
  frames_.fetch_add(1, std::memory_order_release);
  end_frame();
}

// What the party's input will read and write this frame.
[[gnu::always_inline]] inline void Runtime::prefetch_input(const InputState& in, const FrameInput* frame) const {
  prefetch_write(in.frames + in.cur * frame_, frame_ * sizeof(float));  // a whole frame's buffer
  if (frame && !frame->pieces.empty()) {
    const FramePiece& p = frame->pieces[0];
    prefetch_read(p.samples, p.count * (p.format == SampleFormat::s16 ? 2 : 4));
  }
}

// What the party's output will read and write: its own contribution's input
// (subtracted from the bus) and the caller's buffer.
[[gnu::always_inline]] inline void Runtime::prefetch_output(const OutputState& out, const FrameOutput* frame) const {
  const std::size_t bytes = frame_ * sizeof(float);
  if (out.term_count == 1 && out.term0 < contrib_.size() && contrib_[out.term0].x)
    prefetch_read(contrib_[out.term0].x, bytes);
  if (frame) prefetch_write(frame->samples, frame_ * (frame->format == SampleFormat::s16 ? 2 : 4));
}

// What faded out or in during the frame is done; the caller's buffers are
// released.
void Runtime::end_frame() {
  leaving_.clear();
  leaving_setup_.clear();
  for (std::uint32_t i : transitioning_) {
    output_setup_[i].transitions.clear();
    outputs_[i].has_transitions = false;
  }
  transitioning_.clear();
  unbind_frame();
  events_ = nullptr;
}

// ---------------------------------------------------------------------------
// Inputs

void Runtime::contribute(InputState& in, InputSetup& setup, const FrameInput* frame) {
  if (!in.participant && !in.tones) return;
  const std::size_t n = frame_;
  const float* src = in.raw;

  // Tones: detection on the raw input, suppression on what enters the mix.
  bool suppressed = false;  // src differs from the raw input
  if (in.tones) {
    InputTones& t = *in.tones;
    t.events.clear();
    t.detector.process(in.raw, t.processed.data(), n, t.events);
    suppressed = !t.detector.last_block_unchanged();
    if (suppressed) src = t.processed.data();
    deliver_tones(in, setup);
  }
  if (frame && frame->ended) {
    // The stream ends with this frame: tones in progress end here, and
    // their reports come with this frame's events.
    if (in.tones) end_tones(in, setup, (frames() + 1) * frame_);
    in.stream_ended = true;
  }
  if (!in.participant) return;

  const double ms = suppressed ? dsp::sum_squares(src, n) / double(n) : in.raw_ms;
  const InputCoefficients& coeff = coefficients_[in.coeff];
  const bool active = dsp::track_activity(in.tracker, coeff.tracker, dsp::frame_energy(ms));
  const bool audible_active = active && in.volume_gain > 0.0f;
  if (audible_active != in.active) {
    in.active = audible_active;
    in.io->in_active.store(audible_active, std::memory_order_relaxed);
  }

  float agc_gain = 1.0f;
  if (in.agc_on) agc_gain = dsp::agc_update(in.agc, coeff.agc, ms, active).gain_after;

  float sidetone = 1.0f;
  if (in.sidetone_output >= 0) {
    // Probably echo of what the party hears: quieter than it by the margin.
    const double out_ms = outputs_[std::size_t(in.sidetone_output)].last_ms;
    if (out_ms > echo_min_output_ms_ && ms < out_ms * echo_margin_ratio_) sidetone = kEchoAttenuation;
  }
  const float gate = in.gating ? (active ? 1.0f : 0.0f) : 1.0f;

  const float g0 = in.gain_prev;
  const float g1 = in.leaving ? g0 : in.volume_gain * agc_gain * sidetone * gate;
  in.gain_prev = g1;
  // The contribution, added into its group sum in the same pass.
  Contribution& c = contrib_[in.contrib];
  if (g0 == 0.0f && g1 == 0.0f) {
    c = Contribution{};  // silent: skipped by every sum
    return;
  }
  c = Contribution{src, g0, g1};
  const std::int32_t group = group_of_contrib_[in.contrib];
  if (group < 0) return;
  double* sum = group_sum_.data() + std::size_t(group) * n;
  if (c.unity())
    dsp::accumulate(sum, src, n);  // mixed straight from the input
  else
    dsp::accumulate_gain_ramp(sum, src, n, g0, g1);
}

// ---------------------------------------------------------------------------
// Tone reports: to step_frame's events for a frame-port input, otherwise to
// the channel's recognition queue.

void Runtime::deliver_tones(InputState& in, InputSetup& setup) {
  InputTones& t = *in.tones;
  if (t.events.empty()) return;
  const ListenSettings& ls = t.detector.settings();
  bool queued = false;
  for (const ToneEvent& ev : t.events) {
    // Answer tones, beeps, categorisations and on-hook clicks come once
    // each, whatever the report mode says.
    const bool own_report = ev.type == RecognitionType::ans || ev.type == RecognitionType::beep ||
                            ev.type == RecognitionType::catsig || ev.type == RecognitionType::onhook;
    const bool want = own_report || ls.report == ToneReport::start_and_end ||
                      (ls.report == ToneReport::at_start ? !ev.is_end : ev.is_end);
    if (!want) continue;
    Recognition r;
    r.is_end = ev.is_end;
    r.start_sample = t.origin + ev.start_sample;
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
    if (ls.report == ToneReport::with_length && !own_report) {
      // ToneLen: the length takes param1, so a tone's two indices share
      // param0 (Prosody packs them too, in a way it does not publish): band 1
      // in bits 8 and up, band 2 in bits 0-7 (0xFF: none).
      if (r.type == RecognitionType::tone) r.param0 = (r.param0 << 8) | (r.param1 & 0xFF);
      r.param1 = static_cast<int>(ev.duration_ms);
    }
    if (in.frame_port && (events_ || adopting_)) {
      FrameEvent fe;
      fe.kind = FrameEvent::Kind::recognition;
      fe.channel = id_of(setup.key);
      fe.recognition = r;
      // At a frame boundary (listening stopped), the report goes with the
      // next frame.
      if (events_)
        events_->push_back(fe);
      else
        pending_.push_back({fe, setup.io});
      continue;
    }
    if (!in.io->recognised.push(r)) in.io->recognition_overrun = true;
    queued = true;
  }
  if (queued) in.io->raise(kRecognitionEvent);
}

// Reports held over a frame boundary go with this frame.
void Runtime::deliver_pending() {
  for (PendingEvent& p : pending_) {
    if (events_) {
      events_->push_back(p.event);
    } else {
      if (!p.io->recognised.push(p.event.recognition)) p.io->recognition_overrun = true;
      p.io->raise(kRecognitionEvent);
    }
  }
  pending_.clear();
}

// Listening stops, or the input's stream ends: a tone in progress still gets
// its end report, as if the line had gone quiet there. Detection starts
// afresh at next_sample.
void Runtime::end_tones(InputState& in, InputSetup& setup, std::uint64_t next_sample) {
  InputTones& t = *in.tones;
  t.events.clear();
  t.detector.finish(nullptr, t.events);
  deliver_tones(in, setup);
  t.origin = next_sample;
}

// ---------------------------------------------------------------------------
// Outputs

// The output's samples before its gain (flight: which of the two sets of
// scratch it uses).
void Runtime::compute_output(std::size_t i, int flight) {
  const std::size_t n = frame_;
  OutputState& out = outputs_[i];
  const FrameOutput* frame = bound_output_[i];
  float* peaks = peaks_.data() + std::size_t(flight) * peaks_per_output_;
  // Computed in place in the caller's buffer when it takes floats and
  // nothing reads the samples afterwards: then publishing copies nothing.
  if (out.keeps_cur)
    out.y = out.cur;
  else if (frame && frame->format == SampleFormat::f32)
    out.y = static_cast<float*>(frame->samples);
  else
    out.y = out_scratch_.data() + std::size_t(flight) * n;
  switch (out.job) {
    case OutputJob::conference:
      mix_ms_[flight] = mix_output(out, output_setup_[i], peaks);
      break;
    case OutputJob::replay:
      render_replay(out, output_setup_[i], peaks);
      break;
    case OutputJob::tone:
      render_tone(out, output_setup_[i], peaks);
      break;
    case OutputJob::none:
      dsp::zero(out.y, n);
      out.last_ms = 0.0;
      break;
  }
}

// Gain, limiter, and the copy out.
void Runtime::complete_output(std::size_t i, int flight) {
  OutputState& out = outputs_[i];
  if (out.job == OutputJob::conference)
    finish_conference_output(out, mix_ms_[flight], peaks_.data() + std::size_t(flight) * peaks_per_output_);
  publish_output(out, bound_output_[i]);
}

// A contribution's samples, for the rare sums that need them stored (many
// terms with factors, transitions): the input itself at unity gain, else
// computed into scratch_ (as every kernel computes it).
const float* Runtime::materialise(const Contribution& c) {
  if (c.unity()) return c.x;
  dsp::copy_gain_ramp(c.x, scratch_.data(), frame_, c.g0, c.g1);
  return scratch_.data();
}

// Returns the mean square of the mix (before the output's gain), and leaves
// its sub-block peaks in peaks for the limiter.
double Runtime::mix_output(OutputState& out, const OutputSetup& setup, float* peaks) {
  const std::size_t n = frame_;
  const std::size_t sub = limiter_coeff_.subblock;
  float* y = out.y;
  double* acc = acc_.data();
  if (out.subtractive) {
    const double* sum = group_sum_.data() + std::size_t(out.group) * n;
    // The usual case, one exclusion (the listener): one fused pass.
    if (out.term_count == 1 && !out.has_transitions) {
      const Contribution& own = contrib_[out.term0];
      if (!own.x) return dsp::narrow(sum, y, n, sub, peaks) / double(n);
      if (own.unity()) return dsp::subtract_narrow(sum, own.x, y, n, sub, peaks) / double(n);
      return dsp::subtract_gain_ramp_narrow(sum, own.x, own.g0, own.g1, y, n, sub, peaks) / double(n);
    }
    std::copy_n(sum, n, acc);
    // Subtracting is adding with the gains negated: IEEE negation is exact,
    // so this takes away exactly what the group sum added.
    for (std::uint32_t t : setup.terms)
      if (const Contribution& c = contrib_[t]; c.x) dsp::accumulate_gain_ramp(acc, c.x, n, -c.g0, -c.g1);
  } else {
    // A single talker heard alone (a two-party call) needs no bus at all.
    if (out.term_count == 1 && setup.term_factors.empty() && !out.has_transitions) {
      const Contribution& c = contrib_[out.term0];
      if (c.x)
        dsp::copy_gain_ramp(c.x, y, n, c.g0, c.g1);
      else
        dsp::zero(y, n);
      return dsp::subblock_stats(y, n, sub, peaks) / double(n);
    }
    dsp::zero(acc, n);
    for (std::size_t k = 0; k < setup.terms.size(); ++k) {
      const Contribution& c = contrib_[setup.terms[k]];
      if (!c.x) continue;
      if (setup.term_factors.empty())
        dsp::accumulate_gain_ramp(acc, c.x, n, c.g0, c.g1);
      else
        dsp::accumulate_scaled(acc, materialise(c), setup.term_factors[k], n);
    }
  }
  for (const Transition& tr : setup.transitions)
    if (const Contribution& c = contrib_[tr.contrib]; c.x)
      dsp::accumulate_ramped(acc, materialise(c), fade_out_.data(), tr.sign, n);
  return dsp::narrow(acc, y, n, sub, peaks) / double(n);
}

void Runtime::finish_conference_output(OutputState& out, double mix_ms, const float* peaks) {
  float target = out.mute ? 0.0f : out.volume_gain;
  if (out.agc_on) target *= dsp::agc_update(out.agc, output_agc_coeff_, mix_ms).gain_after;
  limit_output(out, out.gain_prev, target, peaks);
  // Level after the gain (before limiting): for echo suppression and stats.
  out.last_ms = mix_ms * double(target) * double(target);
  out.gain_prev = target;
}

// The output gain ramp and the limiter, in one pass, from the sub-block
// peaks.
void Runtime::limit_output(OutputState& out, float g0, float g1, const float* peaks) {
  if (dsp::limit_with_gain(out.y, frame_, peaks, g0, g1, out.limiter, limiter_coeff_, scratch_.data()) < 1.0f)
    ++out.frames_limited;
}

// The one copy out, while the frame is in cache: to the caller's buffer
// (converting), and to the host port.
void Runtime::publish_output(OutputState& out, const FrameOutput* frame) {
  const std::size_t n = frame_;
  ChannelIo& io = *out.io;
  if (const FrameOutput* f = frame) {
    if (f->format == SampleFormat::s16)
      dsp::float_to_s16(out.y, static_cast<std::int16_t*>(f->samples), n);
    else if (f->samples != out.y)
      dsp::copy(out.y, static_cast<float*>(f->samples), n);
  }
  if (out.host) {
    const std::size_t w = out.host->write(out.y, n);
    if (w < n) io.out_dropped.fetch_add(n - w, std::memory_order_relaxed);
  }
  ++out.frames_out;
  if (stats_frame()) {
    io.out_level_ms.store(out.last_ms, std::memory_order_relaxed);
    io.out_frames.store(out.frames_out, std::memory_order_relaxed);
    io.out_limited.store(out.frames_limited, std::memory_order_relaxed);
  }
}

// ---------------------------------------------------------------------------
// Activity reports

void Runtime::report_activity() {
  if (!any_activity_reporting_) return;
  // Active participants are ranked once per frame, and only if some output
  // is due a report; each reporting output takes the first four that are
  // its members.
  const std::uint64_t frame = frames_.load(std::memory_order_relaxed);
  auto due = [&](std::size_t i) {
    const OutputSetup& s = output_setup_[i];
    if (outputs_[i].job != OutputJob::conference || s.activity_delay_ms == 0) return false;
    const double since_ms = double(frame - s.last_report_frame) * frame_seconds_ * 1000.0;
    return !s.reported_once || since_ms >= s.activity_delay_ms;
  };
  bool any_due = false;
  for (std::size_t i = 0; i < outputs_.size() && !any_due; ++i) any_due = due(i);
  if (!any_due) return;
  ranked_.clear();
  for (std::size_t i = 0; i < inputs_.size(); ++i)
    if (inputs_[i].participant && inputs_[i].active)
      ranked_.push_back({input_setup_[i].pid, dsp::mean_square_to_dbm0(inputs_[i].level_smooth_ms)});
  std::sort(ranked_.begin(), ranked_.end(), [](const ActiveInput& a, const ActiveInput& b) {
    return a.level_dbm0 > b.level_dbm0 || (a.level_dbm0 == b.level_dbm0 && a.id < b.id);
  });
  for (std::size_t i = 0; i < outputs_.size(); ++i) {
    if (!due(i)) continue;
    OutputState& out = outputs_[i];
    OutputSetup& s = output_setup_[i];
    ActivityReport r;
    r.frame = frame;
    std::size_t k = 0;
    for (const auto& a : ranked_) {
      if (k == 4) break;
      if (s.members.test(static_cast<std::size_t>(a.id))) r.ranks[k++] = a;
    }
    // Report when the ranking changes, or a level moves by more than the
    // sensitivity allows (100: any change; 0: 20 dB).
    const double threshold_db = (100.0 - s.activity_sensitivity) * 0.2;
    bool significant = !s.reported_once;
    for (std::size_t j = 0; j < 4 && !significant; ++j) {
      if (r.ranks[j].id != s.last_report.ranks[j].id)
        significant = true;
      else if (r.ranks[j].id >= 0 &&
               std::fabs(r.ranks[j].level_dbm0 - s.last_report.ranks[j].level_dbm0) > threshold_db)
        significant = true;
    }
    if (!significant) continue;
    if (out.frame_port && events_) {
      FrameEvent fe;
      fe.kind = FrameEvent::Kind::activity;
      fe.channel = id_of(s.key);
      fe.activity = r;
      events_->push_back(fe);
    } else if (out.io->activity.push(r)) {
      out.io->raise(kWriteEvent);
    }
    s.last_report = r;
    s.last_report_frame = frame;
    s.reported_once = true;
  }
}

}  // namespace prosody::detail
