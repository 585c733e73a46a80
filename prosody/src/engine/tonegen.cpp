// tonegen.cpp - the output tone table, programs built from requests, and a
// job's samples (engine/tonegen.hpp).
#include "engine/tonegen.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include "dsp/levels.hpp"

namespace prosody::detail {

namespace {

float peak_of(double dbm0) { return static_cast<float>(std::sqrt(2.0 * dsp::dbm0_to_mean_square(dbm0))); }

std::uint64_t ms_to_samples(std::uint64_t ms, unsigned rate) { return ms * rate / 1000; }

bool frequency_ok(double hz) { return hz >= kMinOutputFreqHz && hz <= kMaxOutputFreqHz; }
bool level_ok(double dbm0) { return dbm0 >= kMinOutputLevelDbm0 && dbm0 <= kMaxOutputLevelDbm0; }

// Digits in the order of the preloaded tone ids 0..15.
constexpr char kDigitTones[] = "0123456789ABCD*#";

}  // namespace

// ---------------------------------------------------------------------------
// The table

OutputToneTable::OutputToneTable() {
  // Components (prospapi_outtones): 0 silence; 1-8 DTMF; 9-16 call
  // progress; 17 fax CNG; 18 fax CED; 19-25 TiNG's North American set.
  freqs_ = {{0.0, 0.0},      {697.0, -12.0},  {770.0, -12.0},  {852.0, -12.0}, {941.0, -12.0}, {1209.0, -10.0},
            {1336.0, -10.0}, {1477.0, -10.0}, {1633.0, -10.0}, {400.0, -10.0}, {450.0, -10.0}, {425.0, -4.5},
            {950.0, -13.0},  {1400.0, -13.0}, {1800.0, -13.0}, {350.0, -10.0}, {440.0, -10.0}, {1100.0, -11.5},
            {2100.0, -11.0}, {350.0, -13.0},  {440.0, -13.0},  {440.0, -19.0}, {480.0, -17.0}, {480.0, -19.0},
            {480.0, -24.0},  {620.0, -24.0}};
  // Tones 0-15: the DTMF digits, low group (components 1-4) by row, high
  // group (5-8) by column of the keypad.
  static constexpr char kKeypad[] = "123A456B789C*0#D";
  for (const char d : std::string(kDigitTones)) {
    const int at = static_cast<int>(std::strchr(kKeypad, d) - kKeypad);
    tones_.push_back({1 + at / 4, 5 + at % 4});
  }
  // 16-21: the tones Prosody's sm_play_cptone examples use (UK busy 400 Hz,
  // UK ring 400+450 Hz, EC busy 425 Hz, S.I.T. 950, 1400, 1800 Hz). Their
  // component pairs are not published; these are the obvious ones.
  tones_.push_back({9, 0});
  tones_.push_back({9, 10});
  tones_.push_back({11, 0});
  tones_.push_back({12, 0});
  tones_.push_back({13, 0});
  tones_.push_back({14, 0});
}

Errc OutputToneTable::add_frequency(double freq_hz, double level_dbm0, int& id) {
  if (!frequency_ok(freq_hz) || !level_ok(level_dbm0)) return Errc::bad_parameter;
  if (freqs_.size() >= std::size_t(std::numeric_limits<int>::max())) return Errc::no_resources;
  id = static_cast<int>(freqs_.size());
  freqs_.push_back({freq_hz, level_dbm0});
  return Errc::ok;
}

Errc OutputToneTable::add_tone(int component1, int component2, int& id) {
  const int n = static_cast<int>(freqs_.size());
  if (component1 < 0 || component1 >= n || component2 < 0 || component2 >= n) return Errc::bad_parameter;
  if (tones_.size() >= std::size_t(std::numeric_limits<int>::max())) return Errc::no_resources;
  id = static_cast<int>(tones_.size());
  tones_.push_back({component1, component2});
  return Errc::ok;
}

dsp::ToneSpec OutputToneTable::spec(int tone_id) const {
  dsp::ToneSpec s;
  const Pair& p = tones_[std::size_t(tone_id)];
  const int c[2] = {p.c1, p.c2};
  for (int k = 0; k < 2; ++k) {
    if (c[k] == 0) continue;
    s.freq_hz[k] = freqs_[std::size_t(c[k])].hz;
    s.peak[k] = peak_of(freqs_[std::size_t(c[k])].dbm0);
  }
  return s;
}

int digit_tone_id(char digit) {
  const char d = (digit >= 'a' && digit <= 'd') ? static_cast<char>(digit - 'a' + 'A') : digit;
  const char* at = d ? std::strchr(kDigitTones, d) : nullptr;
  return at ? static_cast<int>(at - kDigitTones) : -1;
}

// ---------------------------------------------------------------------------
// Programs

Errc build_cadence_program(const OutputToneTable& table, unsigned rate, CPToneType type, const ToneCadence* cadences,
                           std::size_t count, std::uint32_t duration_ms, ToneJob& job) {
  if (count == 0 || !cadences) return Errc::bad_parameter;
  if (duration_ms > kMaxToneMs) return Errc::bad_parameter;
  for (std::size_t i = 0; i < count; ++i) {
    const ToneCadence& c = cadences[i];
    if (!table.has_tone(c.tone_id) || c.on_ms > kMaxToneMs || c.off_ms > kMaxToneMs) return Errc::bad_parameter;
  }
  job.program.clear();
  job.repeat = false;
  job.limit = 0;
  const std::uint64_t duration = ms_to_samples(duration_ms, rate);
  switch (type) {
    case CPToneType::continuous:
      // One steady segment: as long as the duration, or endless.
      job.program.push_back(
          {duration ? duration : std::numeric_limits<std::uint64_t>::max(), table.spec(cadences[0].tone_id)});
      return Errc::ok;
    case CPToneType::one_shot:
    case CPToneType::repeat:
      for (std::size_t i = 0; i < count; ++i) {
        const std::uint64_t on = ms_to_samples(cadences[i].on_ms, rate), off = ms_to_samples(cadences[i].off_ms, rate);
        if (on) job.program.push_back({on, table.spec(cadences[i].tone_id)});
        if (off) job.program.push_back({off, dsp::ToneSpec{}});
      }
      if (job.program.empty()) return Errc::bad_parameter;  // nothing to play (a loop of nothing never ends)
      if (type == CPToneType::repeat) {
        job.repeat = true;
        job.limit = duration;
      }
      return Errc::ok;
  }
  return Errc::bad_parameter;
}

Errc digit_cadences(const std::string& digits, std::uint32_t on_ms, std::uint32_t off_ms,
                    std::vector<ToneCadence>& out) {
  if (digits.empty() || digits.size() > kMaxDigits) return Errc::bad_parameter;
  if (on_ms > kMaxToneMs || off_ms > kMaxToneMs) return Errc::bad_parameter;
  out.clear();
  for (const char d : digits) {
    const int id = digit_tone_id(d);
    if (id < 0) return Errc::bad_parameter;
    out.push_back({id, on_ms ? on_ms : kDefaultDigitMs, off_ms ? off_ms : kDefaultDigitMs});
  }
  return Errc::ok;
}

Errc tone_item_segment(const ToneItem& item, unsigned rate, ToneSegment& out) {
  out = ToneSegment{};
  switch (item.operation) {
    case ToneOperation::stop:
      return Errc::ok;
    case ToneOperation::sum:
    case ToneOperation::modulate:
      break;
    default:
      return Errc::bad_parameter;
  }
  if (item.duration_ms == 0 || item.duration_ms > kMaxToneMs) return Errc::bad_parameter;
  const bool modulate = item.operation == ToneOperation::modulate;
  const double f[2] = {item.freq1_hz, item.freq2_hz};
  const double l[2] = {item.level1_dbm0, item.level2_dbm0};
  for (int k = 0; k < 2; ++k) {
    if (f[k] == 0.0) continue;  // silence
    // The modulating sine of a Modulate item is a low rate (V.8 ANSam: 15 Hz).
    const bool in_range = (modulate && k == 1) ? (f[k] > 0.0 && f[k] <= kMaxOutputFreqHz) : frequency_ok(f[k]);
    if (!in_range || !level_ok(l[k])) return Errc::bad_parameter;
    out.spec.freq_hz[k] = f[k];
    out.spec.peak[k] = peak_of(l[k]);
  }
  out.spec.modulate = modulate;
  out.samples = ms_to_samples(item.duration_ms, rate);
  return Errc::ok;
}

// ---------------------------------------------------------------------------
// Status

bool tone_job_needs_service(const ToneJob& job) {
  if (job.finished.load() || job.underrun.load()) return true;
  return job.kind == ToneJobKind::list && !job.stop_queued.load() && job.items.free_space() >= job.items.capacity() / 2;
}

ToneJobState tone_job_state(ToneJob& job) {
  if (job.finished.load()) return ToneJobState::complete;
  if (job.kind != ToneJobKind::list) return ToneJobState::ongoing;
  if (job.underrun.exchange(false)) return ToneJobState::underrun;
  if (!job.stop_queued.load() && job.items.free_space() >= job.items.capacity() / 2) return ToneJobState::has_capacity;
  return ToneJobState::ongoing;
}

// ---------------------------------------------------------------------------
// Samples

namespace {

// The next segment into t.current; false when there is none: the job has
// finished, or a list has run dry (an underrun if the samples were needed
// now, rather than looked for ahead of time).
bool next_segment(ToneRt& t, ToneJob& job, bool needed) {
  if (job.kind == ToneJobKind::list) {
    ToneSegment s;
    if (!job.items.pop(s)) {
      if (needed) job.underrun = true;
      return false;
    }
    if (s.samples == 0) {  // the Stop item
      job.finished = true;
      return false;
    }
    t.current = s;
  } else {
    if (t.next == job.program.size()) {
      if (!job.repeat) {
        job.finished = true;
        return false;
      }
      t.next = 0;
    }
    t.current = job.program[t.next++];
  }
  t.left = t.current.samples;
  return true;
}

// n samples of the current segment, reversing the phase every period.
void emit(ToneRt& t, unsigned rate, std::uint64_t period, float* y, std::size_t n) {
  if (dsp::tone_is_silent(t.current.spec)) {
    std::fill(y, y + n, 0.0f);
    t.sounding = false;
  } else {
    if (!t.sounding) t.osc = dsp::ToneOscillator{};  // a tone after silence starts at a zero crossing
    t.sounding = true;
    std::size_t done = 0;
    while (done < n) {
      std::size_t run = n - done;
      if (period) run = static_cast<std::size_t>(std::min<std::uint64_t>(run, period - t.since_reversal));
      dsp::generate_tone(t.current.spec, double(rate), t.osc, t.sign, y + done, run);
      done += run;
      if (period && (t.since_reversal += run) >= period) {
        t.since_reversal = 0;
        t.sign = -t.sign;
      }
    }
    return;
  }
  if (period) t.since_reversal = (t.since_reversal + n) % period;
}

}  // namespace

void render_tone_job(ToneRt& t, unsigned rate, float* y, std::size_t n) {
  ToneJob& job = *t.job;
  std::size_t done = 0;
  if (job.abort_requested.load(std::memory_order_relaxed)) job.finished = true;
  const std::uint64_t period = job.reverse_period.load(std::memory_order_relaxed);
  std::uint64_t played = job.samples_played.load(std::memory_order_relaxed);
  while (done < n && !job.finished.load(std::memory_order_relaxed)) {
    if (job.limit && played >= job.limit) {
      job.finished = true;
      break;
    }
    if (t.left == 0 && !next_segment(t, job, true)) break;
    std::uint64_t take = std::min<std::uint64_t>(n - done, t.left);
    if (job.limit) take = std::min(take, job.limit - played);
    emit(t, rate, period, y + done, static_cast<std::size_t>(take));
    t.left -= take;
    done += static_cast<std::size_t>(take);
    played += take;
  }
  // A job ends in the frame that holds its last sample, not a frame later:
  // look ahead for what follows a segment that ended with the frame.
  if (job.limit && played >= job.limit) job.finished = true;
  if (t.left == 0 && !job.finished.load(std::memory_order_relaxed)) next_segment(t, job, false);
  job.samples_played.store(played, std::memory_order_relaxed);
  std::fill(y + done, y + n, 0.0f);
  if (done < n) t.sounding = false;
}

}  // namespace prosody::detail
