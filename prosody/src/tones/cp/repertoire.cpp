#include "repertoire.hpp"

namespace prosody::tones::cp {
namespace {

using K = StateKind;

constexpr std::uint64_t kQuietJudgedSamples = 80 * 8;  // 80 ms

// Prosody lists each sequence newest state first (prospapi_cptones); these
// are the same sequences in time order. Where the published table has min
// and max swapped ((1, 270, 180), (0, 4800, 3600)) the obvious order is used.
// The UK ring variants with 0..32 ms transitional states are covered by the
// plain ones, because this detector does not produce such transients.
const CadencePattern kRepertoire[] = {
    {1, "unobtainable (UK)", true, 1, {{K::low_not_dial, 5000, kNoMax}}},

    {2,
     "busy (UK)",
     false,
     4,
     {{K::silence, 300, 450}, {K::low, 300, 450}, {K::silence, 300, 450}, {K::low, 300, 450}}},
    {2, "busy (EC)", false, 3, {{K::low, 352, 608}, {K::silence, 352, 608}, {K::low, 352, 608}}},
    {2,
     "busy (US)",
     false,
     4,
     {{K::silence, 400, 600}, {K::low_plus_620, 400, 600}, {K::silence, 400, 600}, {K::low_plus_620, 400, 600}}},

    {3,
     "path engaged (UK)",
     false,
     4,
     {{K::silence, 280, 420}, {K::low, 180, 270}, {K::silence, 420, 630}, {K::low, 320, 480}}},

    {4, "ring (UK double)", false, 3, {{K::low, 320, 480}, {K::silence, 160, 240}, {K::low, 320, 480}}},
    {4,
     "ring (UK double, across the pause)",
     false,
     3,
     {{K::low, 320, 480}, {K::silence, 1600, 2400}, {K::low, 320, 480}}},
    {4, "ring (EC/US)", false, 2, {{K::silence, 1600, kNoMax}, {K::low, 800, 1200}}},
    {4, "ring (US long)", false, 2, {{K::silence, 3600, 4800}, {K::low, 1600, 2400}}},

    {5,
     "SIT",
     false,
     5,
     {{K::sit_low, 260, 400},
      {K::silence, 0, 32},
      {K::sit_mid, 260, 400},
      {K::silence, 0, 32},
      {K::sit_high, 260, 400}}},
    {5,
     "SIT (NC)",
     false,
     5,
     {{K::sit_low, 304, 456},
      {K::silence, 0, 32},
      {K::sit_mid, 304, 456},
      {K::silence, 0, 32},
      {K::sit_high, 304, 456}}},
    {5,
     "SIT (IC)",
     false,
     5,
     {{K::sit_low, 219, 329},
      {K::silence, 0, 32},
      {K::sit_mid, 219, 329},
      {K::silence, 0, 32},
      {K::sit_high, 304, 456}}},
    {5,
     "SIT (VC)",
     false,
     5,
     {{K::sit_low, 304, 456},
      {K::silence, 0, 32},
      {K::sit_mid, 219, 329},
      {K::silence, 0, 32},
      {K::sit_high, 304, 456}}},
    {5,
     "SIT (RO)",
     false,
     5,
     {{K::sit_low, 219, 329},
      {K::silence, 0, 32},
      {K::sit_mid, 304, 456},
      {K::silence, 0, 32},
      {K::sit_high, 304, 456}}},

    // Fax CNG: Prosody needs a pause and a second burst; T.30 lets us know a
    // CNG by its first 0.5 s burst, so report when that burst has lasted 416 ms.
    {6, "fax CNG (first burst)", true, 1, {{K::cng, 416, 576}}},
    {6, "fax CNG", false, 2, {{K::silence, 2240, 3456}, {K::cng, 416, 576}}},

    // Fax CED / ANS: Prosody waits for 2592 ms; a steady 2100 Hz for 256 ms
    // is already unmistakable, and early detection matters for fax.
    {7, "fax CED", true, 1, {{K::ced, 256, kNoMax}}},

    {8, "dial tone", true, 1, {{K::low_dial, 3000, kNoMax}}},

    {9,
     "reorder (US)",
     false,
     4,
     {{K::silence, 200, 300}, {K::low_plus_620, 200, 300}, {K::silence, 200, 300}, {K::low_plus_620, 200, 300}}},

    {11, "intercept (US)", false, 3, {{K::f620, 184, 276}, {K::silence, 0, 32}, {K::low, 184, 276}}},
};

int match_from(const CadencePattern& p, int state, const Segment* segs, int seg, int tol, double quiet) {
  if (state < 0) return seg + 1;
  const CadenceState& s = p.states[state];
  if (s.min_ms == 0) {
    const int skipped = match_from(p, state - 1, segs, seg, tol, quiet);
    if (skipped >= 0) return skipped;
  }
  if (seg < 0 || !state_fits(s, segs[seg], tol, quiet)) return -1;
  return match_from(p, state - 1, segs, seg - 1, tol, quiet);
}

}  // namespace

const CadencePattern* default_repertoire(int& count) {
  count = static_cast<int>(sizeof kRepertoire / sizeof kRepertoire[0]);
  return kRepertoire;
}

bool kind_matches(const CadenceState& state, const Segment& s) {
  switch (state.kind) {
    case K::silence:
      return s.kind == kNoTone;
    case K::low:
      return s.kind == kLow;
    case K::low_dial:
      return s.kind == kLow && s.dial_like;
    case K::low_not_dial:
      return s.kind == kLow && !s.dial_like;
    case K::sit_low:
      return s.kind == kSitLow;
    case K::sit_mid:
      return s.kind == kSitMid;
    case K::sit_high:
      return s.kind == kSitHigh;
    case K::f620:
      return s.kind == k620;
    case K::low_plus_620:
      return s.kind == kLowPlus620;
    case K::cng:
      return s.kind == kCng;
    case K::ced:
      return s.kind == kCed;
    case K::tone:
      return s.kind == state.tone;
  }
  return false;
}

bool state_fits(const CadenceState& state, const Segment& s, int tol, double quiet_below) {
  if (!kind_matches(state, s)) return false;
  // (A pause of a few blocks is all edges; only a longer one is judged.)
  if (state.kind == K::silence && s.mean_square > quiet_below && s.end - s.start >= kQuietJudgedSamples) return false;
  const double ms = double(s.end - s.start) / (kSampleRate / 1000.0);
  const double lo = state.min_ms == 0 ? 0.0 : double(state.min_ms) - tol;
  if (!s.start_known) return state.max_ms == kNoMax && ms >= lo;
  const double hi = state.max_ms == kNoMax ? 1e18 : double(state.max_ms) + tol;
  return ms >= lo && ms <= hi;
}

int match_pattern(const CadencePattern& p, const Segment* segs, int n, int tol) {
  if (n <= 0 || p.count <= 0) return -1;
  // The final state must be matched by the newest segment, never skipped.
  const CadenceState& last = p.states[p.count - 1];
  const double quiet = segs[n - 1].kind == kNoTone ? 1e30 : quiet_threshold(segs[n - 1].level_power);
  if (!state_fits(last, segs[n - 1], tol, quiet)) return -1;
  return match_from(p, p.count - 2, segs, n - 2, tol, quiet);
}

}  // namespace prosody::tones::cp
