#include "decimator.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstring>
#include <stdexcept>

#include "kaiser.hpp"

// AVX2/FMA and baseline versions, chosen at load time; sanitizer builds
// (PROSODY_NO_CLONES) keep the baseline only, as ifunc resolvers run before
// a sanitizer's runtime is up.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(PROSODY_NO_CLONES)
#define PROSODY_DTMF_HOT __attribute__((target_clones("arch=x86-64-v3", "default"), optimize("fp-contract=fast")))
#else
#define PROSODY_DTMF_HOT __attribute__((optimize("fp-contract=fast")))
#endif

namespace prosody::tones {

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kDelayReferenceHz = 1200.0;  // middle of the DTMF band

// In-place radix-2 FFT (construction time only). inverse: conjugate
// exponent and 1/n scaling.
void fft(std::vector<std::complex<double>>& a, bool inverse) {
  const std::size_t n = a.size();
  for (std::size_t i = 1, j = 0; i < n; ++i) {
    std::size_t bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) std::swap(a[i], a[j]);
  }
  for (std::size_t len = 2; len <= n; len <<= 1) {
    const std::complex<double> w = std::polar(1.0, (inverse ? 2.0 : -2.0) * kPi / len);
    for (std::size_t i = 0; i < n; i += len) {
      std::complex<double> wk = 1.0;
      for (std::size_t k = 0; k < len / 2; ++k, wk *= w) {
        const std::complex<double> t = a[i + k + len / 2] * wk;
        a[i + k + len / 2] = a[i + k] - t;
        a[i + k] += t;
      }
    }
  }
  if (inverse)
    for (auto& v : a) v /= double(n);
}

// Minimum-phase filter with the same magnitude response (real cepstrum,
// folded onto positive quefrencies). The detectors need the magnitude, not
// linear phase, and minimum phase delays the DTMF band by a fraction of a
// millisecond instead of half the filter.
std::vector<double> minimum_phase(const std::vector<double>& h) {
  const std::size_t n = 16384;
  std::vector<std::complex<double>> c(n, 0.0);
  for (std::size_t i = 0; i < h.size(); ++i) c[i] = h[i];
  fft(c, false);
  for (auto& v : c) v = std::log(std::max(std::abs(v), 1e-10));
  fft(c, true);
  for (std::size_t i = 1; i < n / 2; ++i) {
    c[i] = 2.0 * c[i].real();
    c[n - i] = 0.0;
  }
  c[0] = c[0].real();
  c[n / 2] = c[n / 2].real();
  fft(c, false);
  for (auto& v : c) v = std::exp(v);
  fft(c, true);
  std::vector<double> m(h.size());
  for (std::size_t i = 0; i < h.size(); ++i) m[i] = c[i].real();
  return m;
}

// Group delay in samples at frequency f (cycles per sample).
double group_delay(const std::vector<float>& h, double f) {
  std::complex<double> num = 0.0, den = 0.0;
  for (std::size_t k = 0; k < h.size(); ++k) {
    const std::complex<double> e = std::polar(1.0, -2.0 * kPi * f * double(k));
    num += double(k) * double(h[k]) * e;
    den += double(h[k]) * e;
  }
  return (num / den).real();
}

// Dot product of the taps with the newest samples: 8 lanes at a time,
// built for AVX2+FMA and baseline and picked at load time.
typedef float v8f __attribute__((vector_size(32)));
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
PROSODY_DTMF_HOT
#endif
float dot(const float* a, const float* b, std::size_t n) {
  // Four independent accumulators (named, so they stay in registers) keep
  // the multiply-add latency hidden; n is a multiple of 16.
  const auto load = [](const float* p) {
    v8f v;
    std::memcpy(&v, p, sizeof v);
    return v;
  };
  v8f s0 = v8f{}, s1 = v8f{}, s2 = v8f{}, s3 = v8f{};
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 += load(a + i) * load(b + i);
    s1 += load(a + i + 8) * load(b + i + 8);
    s2 += load(a + i + 16) * load(b + i + 16);
    s3 += load(a + i + 24) * load(b + i + 24);
  }
  for (; i + 16 <= n; i += 16) {
    s0 += load(a + i) * load(b + i);
    s1 += load(a + i + 8) * load(b + i + 8);
  }
  const v8f sum = (s0 + s1) + (s2 + s3);
  float total = 0.0f;
  for (int k = 0; k < 8; ++k) total += sum[k];
  for (; i < n; ++i) total += a[i] * b[i];
  return total;
}
#pragma GCC diagnostic pop

}  // namespace

Decimator::Stage Decimator::design(unsigned rate, unsigned factor, double pass_hz, double stop_hz, double atten_db) {
  // Kaiser-window design (Kaiser's formulas for length and shape).
  Stage s;
  s.factor = factor;
  s.rate = rate;
  const double dw = 2.0 * kPi * (stop_hz - pass_hz) / rate;
  unsigned n = static_cast<unsigned>(std::ceil((atten_db - 7.95) / (2.285 * dw))) + 1;
  if (n % 2 == 0) ++n;  // odd: a symmetric prototype centred on a sample
  const double beta = atten_db > 50.0 ? 0.1102 * (atten_db - 8.7)
                                      : 0.5842 * std::pow(atten_db - 21.0, 0.4) + 0.07886 * (atten_db - 21.0);
  const double fc = 0.5 * (pass_hz + stop_hz) / rate;  // cycles per sample
  const double centre = (n - 1) / 2.0;
  std::vector<double> h(n);
  double sum = 0.0;
  for (unsigned i = 0; i < n; ++i) {
    const double t = i - centre;
    const double sinc = t == 0.0 ? 2.0 * fc : std::sin(2.0 * kPi * fc * t) / (kPi * t);
    const double r = t / centre;
    h[i] = sinc * bessel_i0(beta * std::sqrt(std::max(0.0, 1.0 - r * r))) / bessel_i0(beta);
    sum += h[i];
  }
  for (double& v : h) v /= sum;  // unity at DC
  const std::vector<double> minimum = minimum_phase(h);
  s.taps.assign(minimum.begin(), minimum.end());
  // Zero taps up to a multiple of 16 so the dot product has no scalar tail
  // (a minimum-phase response has decayed long before its end).
  s.taps.resize((s.taps.size() + 15) / 16 * 16, 0.0f);
  s.history.assign(2 * s.taps.size(), 0.0f);
  return s;
}

const Decimator::Stage& Decimator::cached(unsigned rate, unsigned factor) {
  // Designs are fixed per rate: compute each once per process (thread-safe
  // static initialisation), not once per channel.
  static const Stage to8k = design(16000, 2, 3400.0, 4000.0, 66.0);
  static const Stage from32k = design(32000, 2, 3400.0, 12000.0, 70.0);
  static const Stage from48k = design(48000, 3, 3400.0, 12000.0, 70.0);
  if (rate == 16000 && factor == 2) return to8k;
  return rate == 32000 ? from32k : from48k;
}

Decimator::Decimator(unsigned input_rate) {
  switch (input_rate) {
    case 8000:
      ratio_ = 1;
      count_ = 0;
      break;
    case 16000:
      ratio_ = 2;
      stages_[0] = cached(16000, 2);
      count_ = 1;
      break;
    case 32000:
    case 48000: {
      const unsigned first = input_rate / 16000;
      ratio_ = 2 * first;
      // Only 12..20 kHz folds below 4 kHz at 16 kHz; the rest folds into
      // 4..8 kHz, which the second stage removes.
      stages_[0] = cached(input_rate, first);
      stages_[1] = cached(16000, 2);
      count_ = 2;
      break;
    }
    default:
      throw std::invalid_argument("tone detection supports 8, 16, 32 and 48 kHz");
  }
  // Output j of a stage is computed when input j*f + f-1 arrives and stands
  // for the input its group delay (in the DTMF band) earlier; compose
  // through the stages.
  offset_ = 0.0;
  support_ = 1;
  double scale = 1.0;  // input samples per sample at the current stage's input
  for (int i = 0; i < count_; ++i) {
    const Stage& s = stages_[i];
    offset_ += scale * ((s.factor - 1.0) - group_delay(s.taps, kDelayReferenceHz / s.rate));
    support_ += static_cast<std::size_t>(scale) * (s.taps.size() - 1);
    scale *= s.factor;
  }
  reset();
}

void Decimator::Stage::reset() {
  std::fill(history.begin(), history.end(), 0.0f);
  head = 0;
  phase = 0;
  zero_run = taps.size();
}

std::size_t Decimator::Stage::skip(std::size_t n) {
  // Only while the history is all zeros: zeros in, zeros out.
  const std::size_t len = taps.size();
  head = (head + len - n % len) % len;  // where n pushes would leave it
  const std::size_t total = phase + n;
  phase = static_cast<unsigned>(total % factor);
  return total / factor;
}

std::size_t Decimator::skip(std::size_t n) {
  if (count_ == 0) return n;
  // Until every stage holds nothing but zeros, zeros in still bring the
  // earlier input's tail out: those samples go through the filters (their
  // outputs dropped). After that nothing but the bookkeeping moves.
  std::size_t produced = 0;
  auto all_silent = [&] {
    for (int i = 0; i < count_; ++i)
      if (stages_[i].zero_run < stages_[i].taps.size()) return false;
    return true;
  };
  while (n > 0 && !all_silent()) {
    --n;
    float y, z;
    if (!stages_[0].push(0.0f, y)) continue;
    if (count_ == 1 || stages_[1].push(y, z)) ++produced;
  }
  std::size_t m = n;
  for (int i = 0; i < count_; ++i) m = stages_[i].skip(m);
  return produced + m;
}

void Decimator::reset() {
  for (int i = 0; i < count_; ++i) stages_[i].reset();
}

bool Decimator::Stage::push(float x, float& y) {
  // Doubled ring: every sample is written twice, so the newest taps.size()
  // samples are always contiguous at history[head .. head + n).
  const std::size_t n = taps.size();
  head = head == 0 ? n - 1 : head - 1;
  history[head] = x;
  history[head + n] = x;
  zero_run = x == 0.0f ? zero_run + 1 : 0;
  if (++phase < factor) return false;
  phase = 0;
  // history[head + k] is x[now - k]: y = sum taps[k] x[now - k].
  y = dot(taps.data(), history.data() + head, n);
  return true;
}

std::size_t Decimator::process(const float* in, std::size_t n, float* out) {
  if (count_ == 0) {
    std::copy(in, in + n, out);
    return n;
  }
  std::size_t produced = 0;
  for (std::size_t i = 0; i < n; ++i) {
    float y;
    if (!stages_[0].push(in[i], y)) continue;
    if (count_ == 1) {
      out[produced++] = y;
      continue;
    }
    float z;
    if (stages_[1].push(y, z)) out[produced++] = z;
  }
  return produced;
}

unsigned Decimator::samples_to_next_output() const noexcept {
  if (count_ == 0) return 1;
  if (count_ == 1) return stages_[0].factor - stages_[0].phase;
  // Inputs to complete the first stage's current output, plus whole first-
  // stage outputs the second stage still needs after that one.
  const unsigned f0 = stages_[0].factor;
  const unsigned need1 = stages_[1].factor - stages_[1].phase;  // first-stage outputs
  return (f0 - stages_[0].phase) + (need1 - 1) * f0;
}

double Decimator::response_db(double f) const {
  double mag = 1.0;
  for (int i = 0; i < count_; ++i) {
    const Stage& s = stages_[i];
    std::complex<double> acc = 0.0;
    for (std::size_t k = 0; k < s.taps.size(); ++k)
      acc += double(s.taps[k]) * std::polar(1.0, -2.0 * kPi * f / s.rate * double(k));
    mag *= std::abs(acc);
  }
  return 20.0 * std::log10(std::max(mag, 1e-30));
}

}  // namespace prosody::tones
