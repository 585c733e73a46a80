// repertoire.hpp - Prosody's default call-progress repertoire as cadence
// patterns, and the matcher that checks a run of tone/silence segments
// against them.
#pragma once

#include <cstdint>

#include "cp_common.hpp"

namespace prosody::tones::cp {

// What a cadence state requires of a segment. The "dial" qualifiers split the
// 350..480 Hz group: dial tone is 350+440 Hz, 350+450 Hz or a lone 425 Hz.
enum class StateKind : std::uint8_t {
  silence,       // no tone of the set
  low,           // kLow
  low_dial,      // kLow holding dial-tone components
  low_not_dial,  // kLow without them
  sit_low,
  sit_mid,
  sit_high,
  f620,
  low_plus_620,
  cng,
  ced,
  tone,  // the block kind CadenceState::tone: a tone of a user's cadence (sm_add_input_cptone)
};

constexpr std::uint16_t kNoMax = 0xFFFF;
constexpr int kMaxStates = 16;  // kSMMaxCPToneStates

struct CadenceState {
  StateKind kind;
  std::uint16_t min_ms;  // 0: the state is optional
  std::uint16_t max_ms;  // kNoMax: unbounded
  int tone = 0;          // StateKind::tone: the block kind required
};

struct CadencePattern {
  int id;  // Prosody call-progress id reported
  const char* name;
  // true: report as soon as the final state reaches its minimum while the
  // tone is still on (continuous tones, fax tones), instead of when it ends.
  bool report_early;
  int count;
  CadenceState states[kMaxStates];  // in time order, oldest first
};

// A closed (or, for early matching, ongoing) stretch of one tone kind or silence.
struct Segment {
  int kind = kNoTone;
  bool dial_like = false;
  bool start_known = true;  // false: began before the stream did (duration is a lower bound)
  std::uint64_t start = 0;  // samples
  std::uint64_t end = 0;
  double level_power = 0.0;  // mean square of the strongest component
  double mean_square = 0.0;  // of everything in the segment (silence: its noise or other sound)
};

const CadencePattern* default_repertoire(int& count);

bool kind_matches(const CadenceState& state, const Segment& segment);
// Does segment satisfy state, with the duration bounds widened by
// tolerance_ms? A silence state also needs the segment quieter than
// quiet_below (mean square): the pause of a cadence is quiet, music or
// speech between two notes is not.
bool state_fits(const CadenceState& state, const Segment& segment, int tolerance_ms, double quiet_below);

// The mean square below which a pause counts as the silence between bursts
// of a tone of level_power: 3 dB under it (a cadence still matches in noise
// 6 dB below the tone).
inline double quiet_threshold(double level_power) { return 0.5 * level_power; }

// segments[0..n-1] in time order; the last must match the pattern's final
// state (a tone, whose level sets how quiet the pauses must be). Returns the
// index of the oldest segment used, or -1 for no match.
int match_pattern(const CadencePattern& pattern, const Segment* segments, int n, int tolerance_ms);

}  // namespace prosody::tones::cp
