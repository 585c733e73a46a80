// Temporary stand-in for ToneSuppressor until tone detection lands: passes
// audio through and detects nothing. Built only while the real
// implementation is a placeholder (see prosody/meson.build).
#include "prosody/tones.hpp"

#include <algorithm>

namespace prosody {

struct ToneSuppressor::Impl {
  unsigned rate;
  ListenSettings settings;
  std::uint64_t processed = 0;
};

ToneSuppressor::ToneSuppressor(unsigned rate, const ListenSettings& s) : impl_(new Impl{rate, s}) {}
ToneSuppressor::~ToneSuppressor() = default;
ToneSuppressor::ToneSuppressor(ToneSuppressor&&) noexcept = default;
ToneSuppressor& ToneSuppressor::operator=(ToneSuppressor&&) noexcept = default;
void ToneSuppressor::configure(const ListenSettings& s) { impl_->settings = s; }
const ListenSettings& ToneSuppressor::settings() const noexcept { return impl_->settings; }
unsigned ToneSuppressor::sample_rate() const noexcept { return impl_->rate; }
void ToneSuppressor::process(const float* in, float* out, std::size_t n, std::vector<ToneEvent>&) {
  if (in != out) std::copy(in, in + n, out);
  impl_->processed += n;
}
void ToneSuppressor::conceal(std::size_t n, std::vector<ToneEvent>&) { impl_->processed += n; }
void ToneSuppressor::reset() { impl_->processed = 0; }
std::size_t ToneSuppressor::latency_samples() const noexcept { return 0; }
bool ToneSuppressor::suppressing() const noexcept { return false; }
std::uint64_t ToneSuppressor::samples_processed() const noexcept { return impl_->processed; }

}  // namespace prosody
