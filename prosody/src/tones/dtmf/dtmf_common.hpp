// dtmf_common.hpp - configuration, events and constants shared by the DTMF
// detector's parts: the window tables, the hop analyser (signal analysis),
// the digit tracker (timing and qualification) and the harmonic sieve.
#pragma once

#include <cmath>
#include <complex>
#include <cstdint>

#include "prosody/prosody.hpp"

namespace prosody::tones {

struct DtmfConfig {
  DtmfStandard standard = DtmfStandard::q24;
  double twist_normal_db = 8.0;   // low tone louder than the high tone by up to this
  double twist_reverse_db = 4.0;  // high tone louder than the low tone by up to this
  double min_level_dbm0 = -40.0;  // per tone; weaker tones are ignored
  // Qualifying minimum duration: 0 = the standard's own guard time (accept
  // >= 40 ms, reject <= 23 ms, or <= 20 ms under ETSI); 40 or 64 = report only
  // tones at least that long (Prosody MinDuration40 / MinDuration64).
  unsigned min_duration_ms = 0;
};

struct DtmfEvent {
  char digit = 0;  // '0'..'9', '*', '#', 'A'..'D'
  int row = 0;     // low-group index 0..3 (697, 770, 852, 941 Hz)
  int column = 0;  // high-group index 0..3 (1209, 1336, 1477, 1633 Hz)
  bool is_end = false;
  std::uint64_t start_sample = 0;    // measured onset (8 kHz samples since reset)
  std::uint64_t end_sample = 0;      // end events: first sample after the tone
  std::uint64_t decided_sample = 0;  // when the detector knew (report latency)
  double duration_ms = 0.0;          // end events
  double level_dbm0 = -100.0;        // the stronger component
  double low_level_dbm0 = -100.0;
  double high_level_dbm0 = -100.0;
  double low_freq_hz = 0.0;  // measured
  double high_freq_hz = 0.0;
};

namespace dtmf {

constexpr double kPi = 3.14159265358979323846;

constexpr unsigned kSampleRate = 8000;
constexpr double kSampleRateHz = kSampleRate;
constexpr unsigned kHopSamples = 16;     // 2 ms between analyses
constexpr unsigned kWindowSamples = 96;  // 12 ms analysis window
// The running bank produces a window every other hop (4 ms, three windows
// in flight); the hops between are computed from the sample history only
// while something tone-like is about, which is rare.
constexpr unsigned kBankHopSamples = 2 * kHopSamples;
constexpr unsigned kBankWindows = kWindowSamples / kBankHopSamples;
static_assert(kWindowSamples % kBankHopSamples == 0, "the window must be a whole number of bank hops");

// The eight channels: rows (low group) 0..3, then columns (high group) as
// channels 4..7.
constexpr int kChannels = 8;
constexpr int kFirstColumnChannel = 4;
constexpr double kNominalHz[kChannels] = {697, 770, 852, 941, 1209, 1336, 1477, 1633};
constexpr char kKeypad[4][4] = {{'1', '2', '3', 'A'}, {'4', '5', '6', 'B'}, {'7', '8', '9', 'C'}, {'*', '0', '#', 'D'}};

// Peak of a -55 dBm0 sine (Q.24's must-reject level): input peaking below
// it cannot hold a digit.
constexpr float kQuietPeak = 0.00124f;

// A full-scale sine is +3.14 dBm0 (G.711 A-law; dsp.md section 0).
constexpr double kFullScaleSineDbm0 = 3.14;
inline double amplitude_to_dbm0(double a) { return a > 0.0 ? 20.0 * std::log10(a) + kFullScaleSineDbm0 : -200.0; }
inline double dbm0_to_amplitude(double dbm0) { return std::pow(10.0, (dbm0 - kFullScaleSineDbm0) / 20.0); }

// |z|^2. (std::norm goes through hypot in libstdc++ unless fast-math is on.)
template <typename T>
inline T power(const std::complex<T>& z) {
  return z.real() * z.real() + z.imag() * z.imag();
}

// Optional per-hop record for tuning and diagnosis (DtmfDetector::Trace).
struct HopTrace {
  std::uint64_t hop_end = 0;
  int row = -1, column = -1;  // group maxima
  bool screened = false, valid = false;
  double residual = 0.0, third_peak = 0.0;         // verification ratios (when screened)
  double offset_low = 0.0, offset_high = 0.0;      // single-hop frequency offsets (Hz)
  double level_low = -100.0, level_high = -100.0;  // uncorrected, dBm0
  int phase = 0;                                   // tracking phase after this hop
  // Filled on the hop a candidate is judged (confirmed or rejected).
  bool judged = false;
  double drift_low = 0.0, drift_high = 0.0;          // Hz, first vs second half
  double change_low_db = 0.0, change_high_db = 0.0;  // level, second vs first half
  double sieve_ratio = 0.0, sieve_level = 0.0;       // strongest harmonic-series evidence
};

}  // namespace dtmf
}  // namespace prosody::tones
