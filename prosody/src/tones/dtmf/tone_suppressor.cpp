// tone_suppressor.cpp - prosody::ToneSuppressor: rate conversion to 8 kHz,
// DTMF and call-progress detection, and removal of detected tones from the
// stream with raised-cosine gain ramps and an optional look-ahead delay.
//
// Data flow per call, in chunks that end on the DTMF detector's 2 ms hops:
//   1. each input sample enters the delay line; the output sample (delayed
//      by the look-ahead) is written with the gain schedule known so far;
//   2. the chunk's raw input is taken back from the delay line (never from
//      the output, so detection never sees suppressed audio), decimated to
//      8 kHz and analysed;
//   3. the detectors' state updates the gain schedule for later samples.
// Mutes are scheduled as intervals on the output timeline: with look-ahead a
// mute can start before the tone's measured onset reaches the output, and a
// candidate rejected before then never touches the output at all.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "../answer/answer_tones.hpp"
#include "../callstate/live_speaker.hpp"
#include "../callstate/onhook.hpp"
#include "../cp/cptone_detector.hpp"
#include "decimator.hpp"
#include "dtmf_detector.hpp"
#include "prosody/tones.hpp"

namespace prosody {

char dtmf_number_to_char(int number) noexcept {
  static constexpr char kChars[16] = {'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#', 'A', 'B', 'C', 'D'};
  return number >= 0 && number < 16 ? kChars[number] : '\0';
}

int dtmf_char_to_number(char digit) noexcept {
  if (digit >= '0' && digit <= '9') return digit - '0';
  switch (digit) {
    case '*':
      return 10;
    case '#':
      return 11;
    case 'A':
    case 'a':
      return 12;
    case 'B':
    case 'b':
      return 13;
    case 'C':
    case 'c':
      return 14;
    case 'D':
    case 'd':
      return 15;
    default:
      return -1;
  }
}

const char* cptone_name(int id) noexcept {
  switch (id) {
    case 1:
      return "unobtainable";
    case 2:
      return "busy";
    case 3:
      return "path-engaged";
    case 4:
      return "ring";
    case 5:
      return "special-information";
    case 6:
      return "fax-cng";
    case 7:
      return "fax-ced";
    case 8:
      return "dial";
    case 9:
      return "reorder";
    case 11:
      return "us-intercept";
    default:
      return "unknown";
  }
}

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr unsigned kMaxLookaheadUs = 16000;
constexpr double kCloseMs = 2.25;  // ramp down: fast, it decides the leak
constexpr double kOpenMs = 4.0;    // ramp up: gentler, nothing is urgent
constexpr double kGuardMs = 1.0;   // margin before a measured onset and after an end
constexpr unsigned kMaxIntervals = 4;
constexpr std::uint64_t kOpenEnded = std::numeric_limits<std::uint64_t>::max();

float peak_of(const float* x, std::size_t n) {
  float peak = 0.0f;
#pragma omp simd reduction(max : peak)
  for (std::size_t i = 0; i < n; ++i) peak = std::max(peak, std::fabs(x[i]));
  return peak;
}

unsigned min_duration_ms(ToneMinDuration d) {
  switch (d) {
    case ToneMinDuration::ms40:
      return 40;
    case ToneMinDuration::ms64:
      return 64;
    default:
      return 0;
  }
}

}  // namespace

struct ToneSuppressor::Impl {
  unsigned rate;
  unsigned ratio;
  ListenSettings settings;
  CallProgressTables tables;
  tones::Decimator decimator;
  tones::DtmfDetector dtmf;
  tones::CallProgressDetector cp;
  tones::AnswerToneDetector answer;     // sm_ans_listen_for
  tones::BeepDetector beep;             // sm_beep_listen_for
  tones::LiveSpeakerClassifier catsig;  // sm_catsig_listen_for
  tones::OnHookDetector onhook;         // sm_onhook_listen_for
  bool dtmf_on = false, cp_on = false, answer_on = false, beep_on = false, catsig_on = false, onhook_on = false;

  // Timelines: input samples since construction/reset, and 8 kHz samples
  // since the analysis (re)started at input sample base_in.
  std::uint64_t in_count = 0;
  std::uint64_t base_in = 0;
  std::uint64_t count8 = 0;
  std::uint64_t dtmf_base8 = 0;  // count8 at the DTMF detector's sample 0
  // The latest span of lost input (conceal), [lost_from, lost_until): every
  // 8 kHz sample whose filter support touches it is lost too.
  std::uint64_t lost_from = 0, lost_until = 0;

  // Look-ahead delay line (raw input), kept only while there is look-ahead.
  std::vector<float> delay_line;
  std::size_t delay_mask = 0;
  std::size_t delay = 0;
  bool line_current = true;  // false: input went by without look-ahead

  // Gain: a raised-cosine of `phase` (1 = open, 0 = closed), stepped per
  // output sample toward what the intervals ask for.
  double phase = 1.0;
  double close_step = 0.0, open_step = 0.0;
  std::size_t guard = 0;
  struct Interval {
    std::uint64_t close_from, open_from;  // output timeline, [close_from, open_from)
  };
  Interval intervals[kMaxIntervals];
  unsigned interval_count = 0;
  bool muting = false;  // the newest interval is open-ended
  bool gained = false;  // the last run() went through the gain path (output may differ)

  // Scratch (sized at construction).
  std::vector<float> raw, x8, zeros;

  std::vector<tones::DtmfEvent> dtmf_events;
  std::vector<ToneEvent> cp_events;  // and the answer and beep detectors'

  Impl(unsigned sample_rate, const ListenSettings& s)
      : rate(sample_rate), ratio(sample_rate / 8000), decimator(sample_rate) {
    const std::size_t max_delay = std::size_t(kMaxLookaheadUs) * rate / 1000000;
    const std::size_t hop_in = tones::DtmfDetector::kBankHop * ratio;  // the largest chunk
    std::size_t cap = 1;
    while (cap < max_delay + hop_in + 1) cap <<= 1;
    delay_line.assign(cap, 0.0f);
    delay_mask = cap - 1;
    raw.assign(hop_in, 0.0f);
    zeros.assign(hop_in, 0.0f);
    x8.assign(tones::DtmfDetector::kBankHop + 1, 0.0f);
    dtmf_events.reserve(16);
    cp_events.reserve(16);
    close_step = 1.0 / std::max(1.0, kCloseMs * rate / 1000.0);
    open_step = 1.0 / std::max(1.0, kOpenMs * rate / 1000.0);
    guard = static_cast<std::size_t>(std::lround(kGuardMs * rate / 1000.0));
    configure(s, true);
  }

  void configure(const ListenSettings& s, bool first) {
    const bool was_dtmf = dtmf_on, was_cp = cp_on, was_answer = answer_on, was_beep = beep_on, was_onhook = onhook_on;
    const bool was_catsig = catsig_on;
    const std::uint32_t was_catsig_start = settings.catsig_start;
    const bool was_analysing = !first && analysing();
    settings = s;
    settings.lookahead_us = std::min(s.lookahead_us, kMaxLookaheadUs);
    delay = std::size_t(std::llround(double(settings.lookahead_us) * rate / 1e6));
    if (delay > 0 && !line_current) {
      // Look-ahead switched on mid-stream: the input before now was not
      // kept, so the delay starts with silence.
      std::fill(delay_line.begin(), delay_line.end(), 0.0f);
      line_current = true;
    }
    // Tone set 1 and user sets (2 and up) are the call-progress detector's.
    dtmf_on = s.enabled && s.tone_set == 0;
    cp_on = s.enabled && (s.tone_set >= 1 || s.cptone_recognition);
    answer_on = s.answer_tones;
    beep_on = s.beeps;
    catsig_on = s.catsig != CatSigAlgorithm::none;
    onhook_on = s.onhook;
    if (analysing() && !was_analysing) {
      // Analysis (re)starts here: nothing was decimated while it was off.
      decimator.reset();
      base_in = in_count;
      count8 = 0;
      lost_from = lost_until = 0;
    }

    tones::DtmfConfig dc;
    dc.standard = s.standard;
    dc.twist_normal_db = s.twist_normal_db;
    dc.twist_reverse_db = s.twist_reverse_db;
    dc.min_duration_ms = min_duration_ms(s.min_duration);
    dtmf.configure(dc);
    if (dtmf_on && (first || !was_dtmf)) {
      dtmf.reset();
      dtmf_base8 = count8;
    }
    tones::CallProgressConfig cc;
    cc.report_simple_tones = s.tone_set >= 1;
    cc.tone_set = tables.tone_set;
    cc.repertoire = tables.repertoire;
    cc.report_cptones = s.cptone_recognition;
    cc.min_duration_ms = min_duration_ms(s.min_duration);
    cp.configure(cc);
    if (cp_on && (first || !was_cp)) cp.reset();
    if (answer_on && (first || !was_answer)) answer.reset();
    if (beep_on && (first || !was_beep)) beep.reset();
    catsig.configure(s.live_speaker, s.catsig == CatSigAlgorithm::live_speaker_tone);
    if (catsig_on && (first || !was_catsig || s.catsig_start != was_catsig_start)) catsig.reset();
    onhook.configure(s.onhook_settings);
    if (onhook_on && (first || !was_onhook)) onhook.reset();
    if (!s.suppress || !s.enabled) end_mute(out_time());
  }

  void reset() {
    in_count = base_in = count8 = dtmf_base8 = 0;
    lost_from = lost_until = 0;
    decimator.reset();
    dtmf.reset();
    cp.reset();
    answer.reset();
    beep.reset();
    catsig.reset();
    onhook.reset();
    std::fill(delay_line.begin(), delay_line.end(), 0.0f);
    line_current = true;
    phase = 1.0;
    interval_count = 0;
    muting = false;
  }

  bool analysing() const { return dtmf_on || cp_on || answer_on || beep_on || catsig_on || onhook_on; }
  // Detectors that need every 8 kHz sample, quiet or not.
  bool level_detectors_on() const { return cp_on || answer_on || beep_on || catsig_on || onhook_on; }

  // Output timeline position of the next output sample.
  std::uint64_t out_time() const { return in_count >= delay ? in_count - delay : 0; }

  // 8 kHz analysis sample -> input sample (through the decimator's delay).
  std::uint64_t to_input(double s8) const {
    const double t = double(base_in) + s8 * ratio + decimator.input_offset();
    return t <= 0.0 ? 0 : static_cast<std::uint64_t>(std::llround(t));
  }

  // --- gain schedule -------------------------------------------------------
  void begin_mute(std::uint64_t onset_in) {
    const std::uint64_t now = out_time();
    const std::uint64_t ramp = static_cast<std::uint64_t>(std::ceil(1.0 / close_step));
    const std::uint64_t want = onset_in > guard + ramp ? onset_in - guard - ramp : 0;
    const std::uint64_t from = std::max(now, want);
    if (muting) {
      // Still a candidate: follow the refined onset while the ramp has not begun.
      Interval& last = intervals[interval_count - 1];
      if (now < last.close_from) last.close_from = from;
      return;
    }
    if (interval_count == kMaxIntervals) {  // merge the oldest two; never drop a mute
      intervals[1].close_from = intervals[0].close_from;
      std::copy(intervals + 1, intervals + interval_count, intervals);
      --interval_count;
    }
    intervals[interval_count++] = {from, kOpenEnded};
    muting = true;
  }

  void end_mute(std::uint64_t release_in) {
    if (!muting) return;
    muting = false;
    Interval& last = intervals[interval_count - 1];
    const std::uint64_t now = out_time();
    if (last.close_from >= now && phase >= 1.0) {
      --interval_count;  // rejected before the output got there: no mute at all
      return;
    }
    last.open_from = std::max(now, release_in + guard);
  }

  void update_schedule() {
    if (!settings.suppress || !settings.enabled) return;
    bool want = false;
    std::uint64_t onset = out_time(), release = out_time();
    if (dtmf_on) {
      const tones::DtmfActivity a = dtmf.activity();
      if (a.state != tones::DtmfActivity::State::idle) {
        want = true;
        onset = to_input(double(dtmf_base8 + a.onset));
      } else if (a.released_digit) {
        release = to_input(double(dtmf_base8 + a.release));  // keep the mute to the digit's end
      }                                                      // a rejected candidate: open again straight away
    }
    if (cp_on && (cp.tone_present() || cp.tone_candidate())) want = true;
    if (want)
      begin_mute(onset);
    else
      end_mute(release);
  }

  float gain_at(std::uint64_t t) {
    bool closed = false;
    for (unsigned i = 0; i < interval_count; ++i)
      if (t >= intervals[i].close_from && t < intervals[i].open_from) closed = true;
    phase = closed ? std::max(0.0, phase - close_step) : std::min(1.0, phase + open_step);
    while (interval_count > 0 && intervals[0].open_from <= t) {
      std::copy(intervals + 1, intervals + interval_count, intervals);
      --interval_count;
    }
    return static_cast<float>(0.5 - 0.5 * std::cos(kPi * phase));
  }

  // --- delay line ----------------------------------------------------------
  void ring_write(std::uint64_t first, const float* in, std::size_t m) {
    const std::size_t at = first & delay_mask, a = std::min(m, delay_line.size() - at);
    if (in) {
      std::copy(in, in + a, delay_line.data() + at);
      std::copy(in + a, in + m, delay_line.data());
    } else {
      std::fill(delay_line.data() + at, delay_line.data() + at + a, 0.0f);
      std::fill(delay_line.data(), delay_line.data() + (m - a), 0.0f);
    }
  }
  // out[i] = input sample first + i - delay (zeros before the stream began).
  void ring_read(std::uint64_t first, float* out, std::size_t m) const {
    std::size_t i = 0;
    for (; i < m && first + i < delay; ++i) out[i] = 0.0f;
    if (i == m) return;
    const std::uint64_t from = first + i - delay;
    const std::size_t at = from & delay_mask, a = std::min(m - i, delay_line.size() - at);
    std::copy(delay_line.data() + at, delay_line.data() + at + a, out + i);
    std::copy(delay_line.data(), delay_line.data() + (m - i - a), out + i + a);
  }

  // --- one chunk -----------------------------------------------------------
  std::size_t chunk_limit() const {
    // Input samples until the detector's next hop (so the schedule is
    // updated as soon as the detector has something to say).
    const std::size_t hop8 =
        dtmf_on ? dtmf.samples_to_next_decision() : tones::DtmfDetector::kHop - count8 % tones::DtmfDetector::kHop;
    return ratio == 1 ? hop8 : decimator.samples_to_next_output() + (hop8 - 1) * ratio;
  }

  void run(const float* in, float* out, std::size_t n, std::vector<ToneEvent>& events) {
    gained = false;
    while (n > 0) {
      const std::size_t m = std::min(n, chunk_limit());
      const std::uint64_t first = in_count;
      // Without look-ahead the output is the input itself, and the delay
      // line is not kept (a thousand inputs' lines are a lot of cache).
      const bool direct = delay == 0;
      if (direct) {
        line_current = false;
      } else {
        ring_write(first, in, m);
      }
      if (!in) {
        // A new loss close behind the previous one extends it.
        if (lost_until + decimator.support() < first) lost_from = first;
        lost_until = first + m;
      }
      // 1. Analysis of the raw input, before anything is written to out
      // (in and out may alias). It only reads: the gain below follows the
      // schedule as it stood, as the delay requires.
      if (analysing()) {
        const float* chunk = direct ? (in ? in : zeros.data()) : line_chunk(first, m);
        analyse(chunk, m, events);
      }
      // 2. Output.
      if (interval_count == 0 && phase >= 1.0) {
        if (out && direct) {  // nothing to remove: the input, or a plain delay
          if (!in)
            std::fill(out, out + m, 0.0f);
          else if (out != in)
            std::copy(in, in + m, out);
        } else if (out) {
          ring_read(first, out, m);
        }
      } else {
        gained = true;
        for (std::size_t i = 0; i < m; ++i) {
          const std::uint64_t t = first + i;
          const float g = gain_at(t >= delay ? t - delay : 0);
          if (!out) continue;
          if (direct)
            out[i] = in ? in[i] * g : 0.0f;
          else
            out[i] = t >= delay ? delay_line[(t - delay) & delay_mask] * g : 0.0f;
        }
      }
      in_count += m;
      if (in) in += m;
      if (out) out += m;
      n -= m;
      // 3. Schedule.
      update_schedule();
    }
  }

  // Was 8 kHz sample j (absolute) computed from any lost input?
  bool lost8(std::uint64_t j) const {
    if (lost_until == 0) return false;
    const std::uint64_t newest = base_in + (j + 1) * ratio - 1;
    const std::uint64_t oldest = newest + 1 >= decimator.support() ? newest + 1 - decimator.support() : 0;
    return oldest < lost_until && newest >= lost_from;
  }

  // Was any of the 8 kHz samples [j, j + m) computed from lost input?
  bool lost8_any(std::uint64_t j, std::size_t m) const {
    if (lost_until == 0 || m == 0) return false;
    const std::uint64_t newest = base_in + (j + m) * ratio - 1;
    const std::uint64_t oldest_newest = base_in + (j + 1) * ratio - 1;
    const std::uint64_t oldest = oldest_newest + 1 >= decimator.support() ? oldest_newest + 1 - decimator.support() : 0;
    return oldest < lost_until && newest >= lost_from;
  }

  // Input samples [first, first + m) contiguous: in place in the delay line
  // unless they wrap there.
  const float* line_chunk(std::uint64_t first, std::size_t m) {
    const std::size_t at = first & delay_mask, a = std::min(m, delay_line.size() - at);
    if (a == m) return delay_line.data() + at;
    std::copy(delay_line.data() + at, delay_line.data() + at + a, raw.data());
    std::copy(delay_line.data(), delay_line.data() + (m - a), raw.data() + a);
    return raw.data();
  }

  void analyse(const float* chunk, std::size_t m, std::vector<ToneEvent>& events) {
    // Quiet wideband input (peaking below a -55 dBm0 sine, as the detector
    // defines quiet at 8 kHz) while the DTMF detector skips quiet input: it
    // gets zeros, and the decimator does not filter what nobody reads.
    // (Call-progress detection has no such shortcut.)
    if (!decimator.identity() && dtmf_on && !level_detectors_on() && dtmf.skipping_quiet_input() &&
        (lost_until == 0 || !lost8_any(count8, m / ratio + 1)) && peak_of(chunk, m) < tones::DtmfDetector::kQuietPeak) {
      const std::size_t m8 = decimator.skip(m);
      dtmf_events.clear();
      dtmf.process(zeros.data(), m8, dtmf_events);
      count8 += m8;
      for (const tones::DtmfEvent& d : dtmf_events) events.push_back(convert(d));
      return;
    }
    // At 8 kHz the decimator is the identity: analyse the chunk itself.
    const bool identity = decimator.identity();
    const float* x8p = identity ? chunk : x8.data();
    const std::size_t m8 = identity ? m : decimator.process(chunk, m, x8.data());
    dtmf_events.clear();
    cp_events.clear();
    // Feed runs of good and lost samples to the detectors as process and
    // conceal, so a lost packet is neither a tone nor a gap to them. (Most
    // chunks touch no lost input at all: one run, no per-sample check.)
    const bool clean = lost_until == 0 || !lost8_any(count8, m8);
    std::size_t i = 0;
    while (i < m8) {
      const bool lost = !clean && lost8(count8);
      std::size_t k = clean ? m8 : i + 1;
      while (k < m8 && lost8(count8 + (k - i)) == lost) ++k;
      const std::size_t run = k - i;
      if (dtmf_on) {
        if (lost)
          dtmf.conceal(run, dtmf_events);
        else
          dtmf.process(x8p + i, run, dtmf_events);
      }
      if (cp_on) {
        if (lost)
          cp.conceal(run, count8, cp_events);
        else
          cp.process(x8p + i, run, count8, cp_events);
      }
      // Lost input is a gap to the level-based detectors (silence): a loss
      // during a tone splits it.
      const float* audio = lost ? zeros.data() : x8p + i;
      if (answer_on) answer.process(audio, run, count8, cp_events);
      if (beep_on) beep.process(audio, run, count8, cp_events);
      if (catsig_on) catsig.process(audio, run, count8, cp_events);
      if (onhook_on) onhook.process(audio, run, count8, cp_events);
      count8 += run;
      i = k;
    }
    for (const tones::DtmfEvent& d : dtmf_events) events.push_back(convert(d));
    for (const ToneEvent& e : cp_events) emit_8k_event(e, events);
  }

  // An event of the 8 kHz detectors, on the input timeline. An answer tone
  // is a steady tone followed by quiet too: with both detectors on, a beep
  // that is (part of) an answer tone reported is not reported again.
  void emit_8k_event(ToneEvent e, std::vector<ToneEvent>& events) {
    const std::uint64_t slack = 400;  // 50 ms at 8 kHz
    if (e.type == RecognitionType::beep && answer_on &&
        std::abs(e.code - tones::AnswerToneDetector::kFrequencyHz) <= tones::AnswerToneDetector::kMaxOffsetHz &&
        answer.within_reported_tone(e.start_sample, slack))
      return;
    e.start_sample = to_input(double(e.start_sample));
    if (e.is_end) e.end_sample = to_input(double(e.end_sample));
    events.push_back(e);
  }

  ToneEvent convert(const tones::DtmfEvent& d) const {
    ToneEvent e;
    if (settings.map_to_digits) {
      e.type = RecognitionType::digit;
      e.code = d.digit;
    } else {
      e.type = RecognitionType::tone;  // band-1 (low group) and band-2 indices of set 0
      e.code = d.row;
      e.code2 = d.column;
    }
    e.is_end = d.is_end;
    e.start_sample = to_input(double(dtmf_base8 + d.start_sample));
    if (d.is_end) {
      e.end_sample = to_input(double(dtmf_base8 + d.end_sample));
      e.duration_ms = static_cast<std::uint32_t>(std::lround(std::max(0.0, d.duration_ms)));
    }
    e.level_dbm0 = d.level_dbm0;
    return e;
  }
};

ToneSuppressor::ToneSuppressor(unsigned sample_rate, const ListenSettings& settings)
    : impl_(std::make_unique<Impl>(sample_rate, settings)) {}
ToneSuppressor::~ToneSuppressor() = default;
ToneSuppressor::ToneSuppressor(ToneSuppressor&&) noexcept = default;
ToneSuppressor& ToneSuppressor::operator=(ToneSuppressor&&) noexcept = default;

void ToneSuppressor::configure(const ListenSettings& settings) { impl_->configure(settings, false); }
const ListenSettings& ToneSuppressor::settings() const noexcept { return impl_->settings; }
void ToneSuppressor::set_call_progress_tables(const CallProgressTables& tables) {
  impl_->tables = tables;
  impl_->configure(impl_->settings, false);
}
const ToneSuppressor::CallProgressTables& ToneSuppressor::call_progress_tables() const noexcept {
  return impl_->tables;
}
unsigned ToneSuppressor::sample_rate() const noexcept { return impl_->rate; }

void ToneSuppressor::process(const float* in, float* out, std::size_t n, std::vector<ToneEvent>& events) {
  impl_->run(in, out, n, events);
}

void ToneSuppressor::conceal(std::size_t n, std::vector<ToneEvent>& events) { impl_->run(nullptr, nullptr, n, events); }

void ToneSuppressor::conceal(std::size_t n, float* out, std::vector<ToneEvent>& events) {
  impl_->run(nullptr, out, n, events);
}

void ToneSuppressor::reset() { impl_->reset(); }

void ToneSuppressor::finish(float* tail, std::vector<ToneEvent>& events) {
  Impl& d = *impl_;
  const std::size_t n = d.delay + d.rate / 10;
  std::vector<float> silence(n, 0.0f), out(n);
  d.run(silence.data(), out.data(), n, events);
  if (tail) std::copy(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(d.delay), tail);
  d.cp_events.clear();
  if (d.cp_on) d.cp.end_all(d.cp_events);
  if (d.beep_on) d.beep.finish(d.cp_events);
  for (const ToneEvent& e : d.cp_events) d.emit_8k_event(e, events);
  d.reset();
}
std::size_t ToneSuppressor::latency_samples() const noexcept { return impl_->delay; }
bool ToneSuppressor::suppressing() const noexcept { return impl_->muting || impl_->phase < 1.0; }
bool ToneSuppressor::last_block_unchanged() const noexcept { return impl_->delay == 0 && !impl_->gained; }
std::uint64_t ToneSuppressor::samples_processed() const noexcept { return impl_->in_count; }

}  // namespace prosody
