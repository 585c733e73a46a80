// tone_set.hpp - a user tone set (sm_add_input_tone_set): the frequency
// ranges of its two bands and the thresholds a tone of it must meet. The
// call-progress detector's block analysis classifies components against it
// instead of tone set 1 when one is given.
#pragma once

#include <vector>

#include "cp_common.hpp"

namespace prosody::tones::cp {

struct FrequencyRange {
  double low_hz = 0.0;
  double high_hz = 0.0;
};

struct ToneSetSpec {
  // Band 1, and band 2 (empty: the set's tones are single frequencies of
  // band 1). A dual tone is one frequency of each band.
  std::vector<FrequencyRange> band1, band2;
  double third_peak = 0.1;        // largest power of a third component, relative to the strongest
  double snr = 0.5;               // smallest share of the 250..3400 Hz energy in the tone's components
  double min_power_dbm0 = -36.0;  // the strongest component
  double twist_db = 0.0;          // largest level difference of a dual tone's components (0: any)
  unsigned min_on_ms = 0;         // a tone is reported once it has lasted this long
  unsigned min_off_ms = 0;        // (kept; gaps shorter than 48 ms are always bridged)
  double start_hz = 250.0;        // the detection range
  double stop_hz = 3406.25;

  bool dual() const { return !band2.empty(); }
  int tone_count() const { return static_cast<int>(dual() ? band1.size() * band2.size() : band1.size()); }
  // The block kind of a tone (1 + its index; 0 is no tone), and back to the
  // indices a recognition reports: band-1 and band-2 index of a dual tone;
  // for single frequencies 0 and the band-1 index (as Prosody reports them).
  int kind_of(int band1_index, int band2_index) const {
    return 1 + (dual() ? band1_index * static_cast<int>(band2.size()) + band2_index : band1_index);
  }
  void codes(int kind, int& code, int& code2) const {
    const int index = kind - 1;
    if (dual()) {
      code = index / static_cast<int>(band2.size());
      code2 = index % static_cast<int>(band2.size());
    } else {
      code = 0;
      code2 = index;
    }
  }
  // Index of the range of band holding freq_hz (widened as tone set 1's
  // bands are: Prosody guarantees detection 15.625 Hz outside a range), or -1.
  int range_of(const std::vector<FrequencyRange>& band, double freq_hz) const {
    if (freq_hz < start_hz || freq_hz > stop_hz) return -1;
    int best = -1;
    double best_distance = 1e9;
    for (std::size_t i = 0; i < band.size(); ++i) {
      const double lo = band[i].low_hz, hi = band[i].high_hz;
      if (freq_hz < lo - kBandMarginHz || freq_hz > hi + kBandMarginHz) continue;
      const double d = freq_hz < lo ? lo - freq_hz : (freq_hz > hi ? freq_hz - hi : 0.0);
      if (d < best_distance) {
        best_distance = d;
        best = static_cast<int>(i);
      }
    }
    return best;
  }
};

}  // namespace prosody::tones::cp
