// dtmf_harness.hpp - running the DTMF detector and ToneSuppressor over test
// stimuli and scoring what they report. Test-side only.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "dtmf_detector.hpp"
#include "dtmf_stimulus.hpp"
#include "prosody/tones.hpp"

namespace dtmftest {

using prosody::tones::DtmfConfig;
using prosody::tones::DtmfEvent;

// Runs a fresh detector over x in chunks of `chunk` samples.
std::vector<DtmfEvent> detect(const std::vector<float>& x, const DtmfConfig& config = {}, std::size_t chunk = 80);
std::vector<DtmfEvent> starts_of(const std::vector<DtmfEvent>& events);
std::vector<DtmfEvent> ends_of(const std::vector<DtmfEvent>& events);

// Matches start events to bursts: a start belongs to a burst if its measured
// onset lies within [start - slack, end]. Anything else is extra.
struct Score {
  int expected = 0, hits = 0, misses = 0, wrong = 0, extra = 0;
  int errors() const { return misses + wrong + extra; }
};
Score score(const std::vector<Truth>& truth, const std::vector<DtmfEvent>& events, std::size_t slack = 160);

// One isolated burst per trial, with everything random that a test does not
// pin down: digit (unless set), phases, onset against the detector's hop grid.
struct Trial {
  Tone tone;
  bool random_digit = true;
  Codec codec = Codec::none;
  double snr_db = std::numeric_limits<double>::infinity();         // total DTMF power / AWGN
  double dial_tone_db = -std::numeric_limits<double>::infinity();  // per component, re DTMF per tone
  double lead_ms = 40.0;
  double tail_ms = 120.0;
};
struct TrialResult {
  Truth truth;
  std::vector<DtmfEvent> events;
  int starts = 0;
  bool exactly_one_right = false;  // one start, the right digit
};
TrialResult run_trial(const Trial& trial, const DtmfConfig& config, std::uint32_t seed, std::size_t chunk = 80);

// Fraction of trials giving exactly one right digit, and of trials giving any
// start at all.
struct Rates {
  int trials = 0, exact = 0, any = 0;
  double exact_pct() const { return trials ? 100.0 * exact / trials : 0.0; }
  double any_pct() const { return trials ? 100.0 * any / trials : 0.0; }
};
Rates run_trials(const Trial& base, const DtmfConfig& config, int trials, std::uint32_t seed,
                 const std::function<void(Trial&, int)>& vary = nullptr);

// Quantiles of a sample (sorted copy).
double quantile(std::vector<double> v, double q);

// Prints a figure line that `meson test -v` shows and the docs quote.
void figure(const std::string& line);

}  // namespace dtmftest
