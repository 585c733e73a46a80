// dtmf_stimulus.hpp - test-side DTMF signal generator and G.711 codec.
//
// An oracle independent of the library: it shares no code with prosody/src.
// Levels in dBm0 per G.711 A-law (a full-scale sine is +3.14 dBm0), float
// samples with full scale +/-1.0.
#pragma once

#include "corpus.hpp"
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace dtmftest {

constexpr double kRowHz[4] = {697, 770, 852, 941};
constexpr double kColumnHz[4] = {1209, 1336, 1477, 1633};
constexpr char kDigits[17] = "123A456B789C*0#D";  // row-major keypad

int digit_row(char digit);     // -1 if not a DTMF digit
int digit_column(char digit);  // -1 if not a DTMF digit
double low_freq(char digit);
double high_freq(char digit);

// One DTMF burst.
struct Tone {
  char digit = '5';
  double low_offset_hz = 0.0;  // added to the nominal frequency
  double high_offset_hz = 0.0;
  double low_level_dbm0 = -10.0;
  double high_level_dbm0 = -10.0;
  double duration_ms = 50.0;  // tone-on time; an interruption adds to the burst
  // Optional silent interruption inside the burst (the tone resumes with a
  // new random phase, as a real key bounce or a lost packet would give).
  double interruption_at_ms = -1.0;  // < 0: none
  double interruption_ms = 0.0;
};

// Where a burst landed, in samples of the generated signal.
struct Truth {
  char digit = 0;
  std::size_t start = 0;    // first tone sample
  std::size_t end = 0;      // first sample after the burst (interruption included)
  double level_dbm0 = 0.0;  // stronger component
};

enum class Codec { none, alaw, ulaw };
const char* codec_name(Codec codec);

class Stimulus {
 public:
  explicit Stimulus(double rate = 8000.0, std::uint32_t seed = 1);

  // Silence, plus a uniformly random extra 0..jitter_samples so that tone
  // onsets fall anywhere relative to a detector's block grid.
  void silence(double ms, std::size_t jitter_samples = 0);
  // Appends a burst with random phases; returns its truth record.
  Truth tone(const Tone& t);

  // Whole-signal impairments, applied after the bursts are laid down.
  void add_white_noise(double level_dbm0);           // Gaussian, flat 0..fs/2
  void add_sine(double freq_hz, double level_dbm0);  // continuous, random phase
  void add_dial_tone(double level_dbm0_each);        // 350 + 440 Hz
  void saturate_int16();                             // clip to the 16-bit range
  void codec_round_trip(Codec codec);

  std::vector<float>& samples() { return x_; }
  const std::vector<float>& samples() const { return x_; }
  const std::vector<Truth>& truth() const { return truth_; }
  double rate() const { return rate_; }
  std::mt19937& rng() { return rng_; }

 private:
  void append_sines(double f1, double a1, double f2, double a2, std::size_t n);

  double rate_;
  std::mt19937 rng_;
  std::vector<float> x_;
  std::vector<Truth> truth_;
};

// Row A8's signal: `digits` random digits, 50 ms on and 50 ms off (onsets
// jittered by up to 16 samples), each tone at -10 dBm0, in white noise snr_db
// under the digits' power, clipped to 16 bits and through `codec`.
Stimulus digits_in_noise(double snr_db, int digits, std::uint32_t seed, Codec codec);

// G.711 from the segment rules of the standard (16-bit linear in and out).
std::uint8_t alaw_encode(std::int16_t x);
std::int16_t alaw_decode(std::uint8_t code);
std::uint8_t ulaw_encode(std::int16_t x);
std::int16_t ulaw_decode(std::uint8_t code);
void g711_round_trip(std::vector<float>& x, Codec codec);

// Offset of a tone at the +/-(1.5 % + 2 Hz) accept edge and the 3.5 % reject
// point, signed.
inline double accept_edge_hz(double f, int sign) { return sign * (0.015 * f + 2.0); }
inline double reject_edge_hz(double f, int sign) { return sign * 0.035 * f; }

// The speech and music corpora (tests/support/corpus.hpp).
using testsig::music_dir;
using testsig::music_files;
using testsig::speech_dir;
using testsig::speech_files;

}  // namespace dtmftest
