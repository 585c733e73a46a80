// answer_tones.cpp - modem answer tones (ANS, /ANS, ANSam, /ANSam) and
// answering-machine beeps. See answer_tones.hpp.
#include "answer_tones.hpp"

#include <algorithm>
#include <cmath>

#include "tones/real_fft.hpp"

namespace prosody::tones {

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kRate = 8000.0;

// dBm0 of a mean square (full scale +-1.0; a full-scale sine is +3.14 dBm0).
double ms_to_dbm0(double ms) { return ms > 1e-20 ? 10.0 * std::log10(ms / 0.5) + 3.14 : -200.0; }
double dbm0_to_ms(double dbm0) { return 0.5 * std::pow(10.0, (dbm0 - 3.14) / 10.0); }

double wrap_phase(double a) { return std::remainder(a, 2.0 * kPi); }

// --- ANS --------------------------------------------------------------------
constexpr double kBlockSeconds = double(AnswerToneDetector::kBlock) / kRate;
// A block is 2100 Hz tone when this share of its energy is within the
// demodulator's +-200 Hz main lobe (a 10 dB signal-to-white-noise ratio
// still gives 0.9).
constexpr double kAnsPurity = 0.7;
// A reversal mid-block cancels the tone in that block (z ~ (2f - 1) A): up
// to this many weak blocks in a row are bridged while the energy stays.
constexpr std::size_t kMaxWeakBlocks = 2;
// Phase steps beyond this, after the measured frequency's rotation, are
// reversals (a reversal is pi; noise at -43 dBm0 moves the phase < 0.1).
constexpr double kReversalRad = 2.0 * kPi / 3.0;
// V.25: reversals 450 +-25 ms apart; closer ones are not an answer tone.
constexpr double kMinReversalGapMs = 400.0;
// ANSam: 20 % AM at 15 Hz (V.8); accepted from 10 % (the reference's test
// set spans 15-25 %).
constexpr double kAmHz = 15.0;
constexpr double kMinAmDepth = 0.10;

// --- beeps --------------------------------------------------------------------
constexpr std::size_t kHistory = 1024;  // > window + hop + edge search
constexpr double kBeepPurity = 0.95;
// Frequency steadiness: within 1 % (at least 8 Hz) of the run's mean.
constexpr double kSteadyShare = 0.005;
constexpr double kSteadyMinHz = 3.0;
constexpr std::size_t kEdgeWindow = 32;  // 4 ms demodulation for the edges
constexpr std::size_t kEdgeStep = 2;

const std::vector<float>& hann256() {
  static const std::vector<float> w = [] {
    std::vector<float> v(BeepDetector::kWindow);
    for (std::size_t i = 0; i < v.size(); ++i)
      v[i] = static_cast<float>(0.5 - 0.5 * std::cos(2.0 * kPi * (double(i) + 0.5) / double(v.size())));
    return v;
  }();
  return w;
}

// Amplitude of the tone at freq in x[at .. at + kEdgeWindow).
double edge_amplitude(const float* x, std::size_t at, double freq) {
  return 2.0 * std::abs(demodulate(x + at, kEdgeWindow, freq, at)) / double(kEdgeWindow);
}

}  // namespace

std::complex<double> demodulate(const float* x, std::size_t n, double freq_hz, std::uint64_t first) {
  const double w = 2.0 * kPi * freq_hz / kRate;
  // The phase of the first sample, whole cycles dropped (exact to well under
  // a degree for 2^40 samples, four years at 8 kHz).
  const double phase0 = 2.0 * kPi * std::fmod(freq_hz * double(first) / kRate, 1.0);
  // The oscillator by recurrence (a rotation per sample, not two calls to
  // the maths library): over a few hundred samples it drifts by ~1e-13.
  const double step_re = std::cos(w), step_im = -std::sin(w);
  double osc_re = std::cos(phase0), osc_im = -std::sin(phase0);
  double re = 0.0, im = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    re += x[i] * osc_re;
    im += x[i] * osc_im;
    const double next_re = osc_re * step_re - osc_im * step_im;
    osc_im = osc_re * step_im + osc_im * step_re;
    osc_re = next_re;
  }
  return {re, im};
}

double modulation_depth(const float* envelope, std::size_t n, double rate_hz, double mod_hz) {
  if (n == 0) return 0.0;
  double mean = 0.0;
  for (std::size_t i = 0; i < n; ++i) mean += envelope[i];
  mean /= double(n);
  if (mean <= 0.0) return 0.0;
  double re = 0.0, im = 0.0;
  const double w = 2.0 * kPi * mod_hz / rate_hz;
  for (std::size_t i = 0; i < n; ++i) {
    re += (envelope[i] - mean) * std::cos(w * double(i));
    im -= (envelope[i] - mean) * std::sin(w * double(i));
  }
  return 2.0 * std::hypot(re, im) / (double(n) * mean);
}

SpectralPeak strongest_tone(const float* x256) {
  constexpr std::size_t n = BeepDetector::kWindow;
  static const RealFft fft(n);
  const std::vector<float>& w = hann256();
  float xw[n], re[n / 2 + 1], im[n / 2 + 1];
  double windowed_ss = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    xw[i] = x256[i] * w[i];
    windowed_ss += double(xw[i]) * xw[i];
  }
  fft.forward(xw, re, im);
  double power[n / 2];
  double total = 0.0;
  std::size_t k = 1;
  for (std::size_t b = 1; b < n / 2; ++b) {
    power[b] = double(re[b]) * re[b] + double(im[b]) * im[b];
    total += power[b];
    if (power[b] > power[k]) k = b;
  }
  SpectralPeak p;
  if (total <= 0.0) return p;
  k = std::clamp<std::size_t>(k, 3, n / 2 - 3);
  double lobe = 0.0;
  for (std::size_t b = k - 2; b <= k + 2; ++b) lobe += power[b];
  p.purity = lobe / total;
  const double a = std::log(power[k - 1] + 1e-30), b = std::log(power[k] + 1e-30), c = std::log(power[k + 1] + 1e-30);
  const double den = a - 2.0 * b + c;
  const double delta = den < 0.0 ? std::clamp(0.5 * (a - c) / den, -0.5, 0.5) : 0.0;
  p.freq_hz = (double(k) + delta) * kRate / double(n);
  // A Hann window keeps 3/8 of a signal's mean square.
  p.level_dbm0 = ms_to_dbm0(p.purity * windowed_ss / (double(n) * 0.375));
  return p;
}

const char* answer_tone_name(AnswerTone t) noexcept {
  switch (t) {
    case AnswerTone::ans:
      return "ans";
    case AnswerTone::ans_reversals:
      return "ans-pr";
    case AnswerTone::ansam:
      return "ansam";
    case AnswerTone::ansam_reversals:
      return "ansam-pr";
  }
  return "unknown";
}

// ---------------------------------------------------------------------------
// AnswerToneDetector

void AnswerToneDetector::process(const float* x, std::size_t n, std::uint64_t first_sample,
                                 std::vector<ToneEvent>& events) {
  for (std::size_t i = 0; i < n;) {
    const std::size_t take = std::min(kBlock - filled_, n - i);
    std::copy(x + i, x + i + take, pending_ + filled_);
    filled_ += take;
    i += take;
    if (filled_ == kBlock) {
      filled_ = 0;
      block(first_sample + i - kBlock, events);
    }
  }
}

void AnswerToneDetector::reset() {
  filled_ = 0;
  any_reported_ = false;
  end_run();
}

void AnswerToneDetector::end_run() {
  in_run_ = reported_ = rejected_ = false;
  blocks_ = weak_in_row_ = ref_age_ = 0;
  rotation_sum_ = {};
  energy_sum_ = amplitude_squares_ = 0.0;
  reversal_count_ = last_reversal_ = 0;
  reversals_too_close_ = false;
}

void AnswerToneDetector::add_envelope(double amplitude) {
  envelope_[blocks_ % kAmBlocks] = static_cast<float>(amplitude);
  amplitude_squares_ += amplitude * amplitude;
}

void AnswerToneDetector::block(std::uint64_t first, std::vector<ToneEvent>& events) {
  const std::complex<double> z = demodulate(pending_, kBlock, kFrequencyHz, first);
  double energy = 0.0;
  for (float v : pending_) energy += double(v) * v;
  const double amplitude = 2.0 * std::abs(z) / double(kBlock);
  const double tone_ms = 0.5 * amplitude * amplitude;
  const double purity = energy > 0.0 ? tone_ms / (energy / double(kBlock)) : 0.0;
  const bool strong = tone_ms >= dbm0_to_ms(kMinLevelDbm0) && purity >= kAnsPurity;

  if (!in_run_) {
    if (!strong) return;
    end_run();
    in_run_ = true;
    run_start_ = first;
    add_envelope(amplitude);
    blocks_ = 1;
    ref_ = z;
    energy_sum_ = energy;
    return;
  }
  if (!strong) {
    if (++weak_in_row_ > kMaxWeakBlocks || energy < 0.25 * energy_sum_ / double(blocks_)) {
      end_run();
      return;
    }
    add_envelope(envelope_[(blocks_ - 1) % kAmBlocks]);  // a reversal's dip is no modulation
    if (reported_) reported_until_ = first + kBlock;
    ++blocks_;
    ++ref_age_;
    energy_sum_ += energy;
    return;
  }
  weak_in_row_ = 0;
  const std::complex<double> step = z * std::conj(ref_);
  const double rotation = std::abs(rotation_sum_) > 0.0 ? std::arg(rotation_sum_) : 0.0;
  const bool reversal = std::abs(wrap_phase(std::arg(step) - double(ref_age_ + 1) * rotation)) > kReversalRad;
  if (reversal) {
    const double gap_ms = double(blocks_ - last_reversal_) * kBlockSeconds * 1000.0;
    if (reversal_count_ > 0 && gap_ms < kMinReversalGapMs) reversals_too_close_ = true;
    ++reversal_count_;
    last_reversal_ = blocks_;
  }
  if (ref_age_ == 0) rotation_sum_ += reversal ? -step : step;  // a reversal is no frequency
  ref_ = z;
  ref_age_ = 0;
  add_envelope(amplitude);
  ++blocks_;
  energy_sum_ += energy;
  if (reported_) reported_until_ = first + kBlock;

  if (reported_ || rejected_ || double(blocks_) * kBlockSeconds * 1000.0 < kDecisionMs) return;
  const double offset_hz = std::arg(rotation_sum_) / (2.0 * kPi * kBlockSeconds);
  if (std::abs(offset_hz) > kMaxOffsetHz || reversals_too_close_) {
    rejected_ = true;  // not an answer tone: nothing until this tone ends
    return;
  }
  reported_ = any_reported_ = true;
  reported_onset_ = run_start_;
  reported_until_ = first + kBlock;
  ToneEvent e;
  e.type = RecognitionType::ans;
  e.code = static_cast<int>(classify());
  e.start_sample = run_start_;
  e.code2 = static_cast<int>((first + kBlock - run_start_) * 1000 / std::uint64_t(kRate));  // onset to now, ms
  e.level_dbm0 = ms_to_dbm0(0.5 * amplitude_squares_ / double(blocks_));
  events.push_back(e);
}

AnswerTone AnswerToneDetector::classify() const {
  const bool reversals = reversal_count_ > 0;
  const std::size_t n = std::min(kAmBlocks, blocks_);
  float env[kAmBlocks];  // oldest first
  for (std::size_t i = 0; i < n; ++i) env[i] = envelope_[(blocks_ - n + i) % kAmBlocks];
  const double rate = 1.0 / kBlockSeconds;
  const double depth = modulation_depth(env, n, rate, kAmHz);
  // The modulation must be at 15 Hz, not merely somewhere.
  const bool at_15hz =
      depth > modulation_depth(env, n, rate, kAmHz - 5.0) && depth > modulation_depth(env, n, rate, kAmHz + 5.0);
  const bool am = depth >= kMinAmDepth && at_15hz;
  if (am) return reversals ? AnswerTone::ansam_reversals : AnswerTone::ansam;
  return reversals ? AnswerTone::ans_reversals : AnswerTone::ans;
}

// ---------------------------------------------------------------------------
// BeepDetector

BeepDetector::BeepDetector(const BeepConfig& config)
    : config_(config), history_(kHistory, 0.0f), scratch_(kHistory, 0.0f) {}

void BeepDetector::reset() {
  std::fill(history_.begin(), history_.end(), 0.0f);
  next_ = 0;
  started_ = false;
  in_run_ = false;
  ended_ = false;
}

const float* BeepDetector::history_at(std::uint64_t first, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) scratch_[i] = history_[(first + i) % kHistory];
  return scratch_.data();
}

void BeepDetector::process(const float* x, std::size_t n, std::uint64_t first_sample, std::vector<ToneEvent>& events) {
  if (!started_) {
    next_ = first_sample;
    started_ = true;
  }
  for (std::size_t i = 0; i < n; ++i) {
    history_[next_ % kHistory] = x[i];
    ++next_;
    if (next_ % kHop == 0 && next_ >= kWindow) hop(next_ - kWindow, events);
  }
}

void BeepDetector::hop(std::uint64_t window_first, std::vector<ToneEvent>& events) {
  if (ended_) check_quiet(false, events);
  const float* window = history_at(window_first, kWindow);
  double sum_squares = 0.0;
  for (std::size_t i = 0; i < kWindow; ++i) sum_squares += double(window[i]) * window[i];
  // Too quiet to hold a beep (a beep at the floor has at least this much
  // over the window): no spectrum needed.
  const bool audible = sum_squares / double(kWindow) >= dbm0_to_ms(config_.min_level_dbm0);
  const SpectralPeak p = audible ? strongest_tone(window) : SpectralPeak{};
  const bool tone = p.purity >= kBeepPurity && p.level_dbm0 >= config_.min_level_dbm0 && p.freq_hz >= config_.min_hz &&
                    p.freq_hz <= config_.max_hz;
  if (in_run_) {
    const double mean_hz = freq_sum_ / double(windows_);
    const bool steady = tone && std::abs(p.freq_hz - mean_hz) <= std::max(kSteadyMinHz, kSteadyShare * mean_hz);
    if (steady) {
      ++windows_;
      freq_sum_ += p.freq_hz;
      level_sum_ += p.level_dbm0;
      amp_sum_ += 2.0 *
                  std::abs(demodulate(history_at(window_first + kWindow / 4, kWindow / 2), kWindow / 2, mean_hz,
                                      window_first + kWindow / 4)) /
                  double(kWindow / 2);
      if (windows_ == 3) {
        // The onset: where the tone's 4 ms amplitude first reaches half its
        // steady value, searched from a hop before the first window.
        const std::uint64_t from = onset_ >= kHop ? onset_ - kHop : 0;
        const std::size_t span = std::size_t(window_first + kWindow - from);
        const float* h = history_at(from, span);
        const double half = 0.5 * amp_sum_ / double(windows_);
        for (std::size_t at = 0; at + kEdgeWindow <= span; at += kEdgeStep) {
          if (edge_amplitude(h, at, mean_hz) >= half) {
            onset_ = from + at + kEdgeWindow / 2;
            break;
          }
        }
      }
      return;
    }
    end_run(window_first >= kHop ? window_first - kHop : 0, window_first + kWindow);
  }
  if (tone) {
    in_run_ = true;
    onset_ = window_first;
    windows_ = 1;
    freq_sum_ = p.freq_hz;
    level_sum_ = p.level_dbm0;
    amp_sum_ = 2.0 *
               std::abs(demodulate(history_at(window_first + kWindow / 4, kWindow / 2), kWindow / 2, p.freq_hz,
                                   window_first + kWindow / 4)) /
               double(kWindow / 2);
  }
}

void BeepDetector::end_run(std::uint64_t search_from, std::uint64_t search_to) {
  in_run_ = false;
  if (windows_ < 3) return;  // too short to have an onset, far too short for a beep
  const double freq = freq_sum_ / double(windows_);
  const double half = 0.5 * amp_sum_ / double(windows_);
  // The end: after the last 4 ms whose amplitude is still half the steady one.
  const std::size_t span = std::size_t(search_to - search_from);
  const float* h = history_at(search_from, span);
  std::uint64_t end = search_from;
  for (std::size_t at = 0; at + kEdgeWindow <= span; at += kEdgeStep)
    if (edge_amplitude(h, at, freq) >= half) end = search_from + at + kEdgeWindow / 2;
  if (end <= onset_) return;
  const double duration_ms = double(end - onset_) * 1000.0 / kRate;
  if (duration_ms < config_.min_duration_ms) return;
  ended_ = true;
  beep_ = ToneEvent{};
  beep_.type = RecognitionType::beep;
  beep_.code = static_cast<int>(std::lround(freq));
  beep_.is_end = true;
  beep_.start_sample = onset_;
  beep_.end_sample = end;
  beep_.duration_ms = static_cast<std::uint32_t>(std::lround(duration_ms));
  beep_.code2 = static_cast<int>(beep_.duration_ms);
  beep_.level_dbm0 = level_sum_ / double(windows_);
}

void BeepDetector::check_quiet(bool stream_ended, std::vector<ToneEvent>& events) {
  const std::uint64_t from = beep_.end_sample + std::uint64_t(kQuietGapMs * kRate / 1000.0);
  const std::size_t n = std::size_t(kQuietMs * kRate / 1000.0);
  // At the stream's end (finish) the line is quiet from then on.
  const std::size_t have = next_ > from ? std::size_t(std::min<std::uint64_t>(next_ - from, n)) : 0;
  if (have < n && !stream_ended) return;
  ended_ = false;
  const float* x = history_at(from, have);
  double sum_squares = 0.0;
  for (std::size_t i = 0; i < have; ++i) sum_squares += double(x[i]) * x[i];
  if (ms_to_dbm0(sum_squares / double(n)) <= beep_.level_dbm0 - kQuietDb) events.push_back(beep_);
}

void BeepDetector::finish(std::vector<ToneEvent>& events) {
  if (in_run_) {
    const std::uint64_t from = next_ >= kWindow + kHop ? next_ - kWindow - kHop : 0;
    end_run(from, next_);
  }
  if (ended_) check_quiet(true, events);
}

}  // namespace prosody::tones
