#include "dtmf_harness.hpp"

#include <algorithm>
#include <cstdio>

#include "signal.hpp"

namespace dtmftest {

std::vector<DtmfEvent> detect(const std::vector<float>& x, const DtmfConfig& config, std::size_t chunk) {
  prosody::tones::DtmfDetector d(config);
  std::vector<DtmfEvent> events;
  for (std::size_t i = 0; i < x.size(); i += chunk) d.process(x.data() + i, std::min(chunk, x.size() - i), events);
  return events;
}

std::vector<DtmfEvent> starts_of(const std::vector<DtmfEvent>& events) {
  std::vector<DtmfEvent> s;
  for (const auto& e : events)
    if (!e.is_end) s.push_back(e);
  return s;
}

std::vector<DtmfEvent> ends_of(const std::vector<DtmfEvent>& events) {
  std::vector<DtmfEvent> s;
  for (const auto& e : events)
    if (e.is_end) s.push_back(e);
  return s;
}

Score score(const std::vector<Truth>& truth, const std::vector<DtmfEvent>& events, std::size_t slack) {
  Score s;
  s.expected = static_cast<int>(truth.size());
  const auto starts = starts_of(events);
  std::vector<bool> used(starts.size(), false);
  for (const Truth& t : truth) {
    bool found = false;
    for (std::size_t j = 0; j < starts.size(); ++j) {
      if (used[j]) continue;
      const std::uint64_t at = starts[j].start_sample;
      if (at + slack >= t.start && at <= t.end) {
        used[j] = true;
        found = true;
        (starts[j].digit == t.digit ? s.hits : s.wrong)++;
        break;
      }
    }
    if (!found) ++s.misses;
  }
  for (bool u : used)
    if (!u) ++s.extra;
  return s;
}

TrialResult run_trial(const Trial& trial, const DtmfConfig& config, std::uint32_t seed, std::size_t chunk) {
  Stimulus s(8000.0, seed);
  Tone tone = trial.tone;
  if (trial.random_digit) tone.digit = kDigits[s.rng()() % 16];
  s.silence(trial.lead_ms, 64);  // onsets anywhere on the detector's grid
  TrialResult r;
  r.truth = s.tone(tone);
  s.silence(trial.tail_ms);
  if (std::isfinite(trial.snr_db)) {
    const double total =
        10.0 * std::log10(std::pow(10.0, tone.low_level_dbm0 / 10.0) + std::pow(10.0, tone.high_level_dbm0 / 10.0));
    s.add_white_noise(total - trial.snr_db);
  }
  if (std::isfinite(trial.dial_tone_db))
    s.add_dial_tone(std::max(tone.low_level_dbm0, tone.high_level_dbm0) + trial.dial_tone_db);
  if (trial.codec != Codec::none) {
    s.saturate_int16();
    s.codec_round_trip(trial.codec);
  }
  r.events = detect(s.samples(), config, chunk);
  const auto st = starts_of(r.events);
  r.starts = static_cast<int>(st.size());
  r.exactly_one_right = st.size() == 1 && st[0].digit == tone.digit;
  return r;
}

Rates run_trials(const Trial& base, const DtmfConfig& config, int trials, std::uint32_t seed,
                 const std::function<void(Trial&, int)>& vary) {
  Rates r;
  for (int i = 0; i < trials; ++i) {
    Trial t = base;
    if (vary) vary(t, i);
    const TrialResult tr = run_trial(t, config, seed + 7919u * static_cast<std::uint32_t>(i));
    ++r.trials;
    if (tr.exactly_one_right) ++r.exact;
    if (tr.starts > 0) ++r.any;
  }
  return r;
}

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const std::size_t i = std::min(v.size() - 1, static_cast<std::size_t>(q * (v.size() - 1) + 0.5));
  return v[i];
}

void figure(const std::string& line) {
  std::printf("[ figure   ] %s\n", line.c_str());
  std::fflush(stdout);
}

}  // namespace dtmftest
