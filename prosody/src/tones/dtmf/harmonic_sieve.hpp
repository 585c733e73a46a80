// harmonic_sieve.hpp - the talk-off test run when a DTMF candidate
// qualifies. Voiced speech that mimics DTMF does so with two harmonics of one
// fundamental, and its other harmonics are still there, if weaker; noise
// spreads evenly between harmonic and in-between positions. So: fit the two
// tones, and look for the rest of a harmonic series of which both are
// members in what is left.
#pragma once

#include <complex>

namespace prosody::tones::dtmf {

// The frame the sieve looks at: the tone since its onset, at most 32 ms, and
// too short below 15 ms.
constexpr unsigned kSieveMaxFrameSamples = 256;
constexpr unsigned kSieveMinFrameSamples = 120;

// The strongest series' figures, for the trace.
struct SieveEvidence {
  double ratio = 0.0;  // harmonic / in-between probe energy
  double level = 0.0;  // harmonic probe energy / the stronger tone's
};

// A tone as the sieve takes it: its frequency (Hz) and exp(j 2 pi f / fs),
// which the caller has from its nominal channel.
struct SieveTone {
  double hz;
  std::complex<double> unit;
};

// True if x[0..n) (n in [kSieveMinFrameSamples, kSieveMaxFrameSamples]),
// besides the tones low and high (measured), holds the other members of a
// harmonic series of which both tones are members. Samples
// lost_begin..lost_end-1 are lost audio and carry no weight. With evidence
// null the spectrum is skipped whenever bounds already decide; otherwise it
// is always computed and evidence receives the strongest series' figures.
bool harmonic_series_present(const float* x, unsigned n, unsigned lost_begin, unsigned lost_end, const SieveTone& low,
                             const SieveTone& high, SieveEvidence* evidence);

}  // namespace prosody::tones::dtmf
