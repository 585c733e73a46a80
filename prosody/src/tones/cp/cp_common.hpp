// cp_common.hpp - constants and small types shared by the call-progress
// detector's stages (block analysis, segmentation, cadence matching).
#pragma once

#include <cmath>
#include <cstdint>

namespace prosody::tones::cp {

constexpr double kSampleRate = 8000.0;
constexpr int kBlock = 128;          // hop: 16 ms
constexpr int kWindow = 2 * kBlock;  // analysis window: 32 ms, one FFT per block
constexpr int kSubBlock = 32;        // 4 ms energy steps locate tone edges
constexpr int kSubBlocks = kBlock / kSubBlock;
constexpr double kBinHz = kSampleRate / kWindow;  // 31.25 Hz

// dBm0 per G.711 A-law: a full-scale sine (mean square 0.5) is +3.14 dBm0.
inline double dbm0_to_ms(double dbm0) { return 0.5 * std::pow(10.0, (dbm0 - 3.14) / 10.0); }
inline double ms_to_dbm0(double ms) { return ms > 1e-20 ? 10.0 * std::log10(ms / 0.5) + 3.14 : -200.0; }

// What a block or a segment holds. The numbering follows Prosody's tone ids
// within the call-progress tone set (0 = silence, i.e. no tone of the set).
enum ToneKind : int {
  kNoTone = 0,
  kLow = 1,         // 350..480 Hz, one or two components (call progress 1)
  kSitLow = 2,      // 913.8 / 950 / 985.2 Hz (call progress 2)
  kSitMid = 3,      // 1370.6 / 1400 / 1428.5 Hz (call progress 3)
  kSitHigh = 4,     // 1776.7 / 1800 Hz (call progress 4)
  k620 = 5,         // 620 Hz alone (call progress 5)
  kLowPlus620 = 6,  // 480 + 620 Hz, US busy and reorder
  kCng = 8,         // 1100 Hz fax calling tone
  kCed = 9,         // 2100 Hz fax called / answer tone
  kKindCount = 10,
};

// Tone set 1 bands, in the order of the pre-loaded frequency ids 8..14; the
// index is the band index reported in ToneEvent::code for simple tones.
struct FrequencyBand {
  double low_hz;
  double high_hz;
};
constexpr int kBandCount = 7;
constexpr int kBandLow = 0, kBandSitLow = 1, kBandSitMid = 2, kBandSitHigh = 3, kBand620 = 4, kBandCng = 5,
              kBandCed = 6;
constexpr FrequencyBand kBands[kBandCount] = {
    {304.6875, 554.6875}, {898.4375, 1007.8125}, {1335.9375, 1460.9375}, {1742.1875, 1851.5625},
    {589.0, 651.0},       {1062.0, 1138.0},      {2085.0, 2115.0},
};
// Prosody guarantees detection within a band widened by 15.625 Hz and
// rejection 15.625 Hz beyond that; our edge sits midway between the two.
constexpr double kBandMarginHz = 23.4375;

// Band index of a component at freq_hz, or -1. Where two widened bands meet
// (call progress 1 and 5), the nearer nominal band wins.
inline int band_of(double freq_hz) {
  int best = -1;
  double best_distance = 1e9;
  for (int b = 0; b < kBandCount; ++b) {
    const double lo = kBands[b].low_hz, hi = kBands[b].high_hz;
    if (freq_hz < lo - kBandMarginHz || freq_hz > hi + kBandMarginHz) continue;
    const double distance = freq_hz < lo ? lo - freq_hz : (freq_hz > hi ? freq_hz - hi : 0.0);
    if (distance < best_distance) {
      best_distance = distance;
      best = b;
    }
  }
  return best;
}

// The dual tones of the UK, CEPT and US plans. Tone set 1 is built of
// specific pairs, not of any two frequencies in its bands: speech often
// holds two strong harmonics in 300..550 Hz, never one of these pairs for long.
struct TonePair {
  double low_hz;
  double high_hz;
};
constexpr TonePair kTonePairs[] = {
    {350.0, 440.0},  // US dial
    {350.0, 450.0},  // UK dial
    {440.0, 480.0},  // US ringback
    {400.0, 450.0},  // UK ringing
    {480.0, 620.0},  // US busy, reorder
};
constexpr double kPairTolerance = 0.03;  // per component: the plans' 2 % plus margin

inline bool is_known_pair(double low_hz, double high_hz) {
  for (const TonePair& p : kTonePairs)
    if (std::fabs(low_hz - p.low_hz) <= kPairTolerance * p.low_hz &&
        std::fabs(high_hz - p.high_hz) <= kPairTolerance * p.high_hz)
      return true;
  return false;
}

}  // namespace prosody::tones::cp
