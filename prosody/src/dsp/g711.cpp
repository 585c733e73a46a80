#include "dsp/g711.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace prosody::dsp {
namespace {

// Segment of a magnitude whose top set bit is at position b (b >= 8): b - 7.
inline int segment_of(int magnitude) { return 31 - __builtin_clz(static_cast<unsigned>(magnitude)) - 7; }

template <std::int16_t (*Decode)(std::uint8_t)>
std::array<float, 256> make_decode_table() {
  std::array<float, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = static_cast<float>(Decode(static_cast<std::uint8_t>(c))) / 32768.0f;
  return t;
}

inline std::int16_t to_s16(float v) {
  const float s = std::nearbyint(v * 32768.0f);
  return static_cast<std::int16_t>(std::clamp(s, -32768.0f, 32767.0f));
}

}  // namespace

std::uint8_t linear_to_alaw(std::int16_t pcm) {
  // A-law's decision values are symmetric in ones' complement: a negative
  // sample x quantises like the magnitude -x - 1 (Table 1 of G.711).
  const bool positive = pcm >= 0;
  const int magnitude = positive ? pcm : -static_cast<int>(pcm) - 1;
  int code;
  if (magnitude < 256) {
    code = magnitude >> 4;
  } else {
    const int seg = segment_of(magnitude);
    code = (seg << 4) | ((magnitude >> (seg + 3)) & 0x0F);
  }
  if (positive) code |= 0x80;
  return static_cast<std::uint8_t>(code ^ 0x55);
}

std::int16_t alaw_to_linear(std::uint8_t code) {
  const int c = code ^ 0x55;
  const int seg = (c >> 4) & 0x07;
  const int mantissa = c & 0x0F;
  const int magnitude = seg == 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (seg - 1);
  return static_cast<std::int16_t>((c & 0x80) ? magnitude : -magnitude);
}

std::uint8_t linear_to_ulaw(std::int16_t pcm) {
  constexpr int kBias = 0x84;
  constexpr int kClip = 32635;
  const int sign = pcm < 0 ? 0x80 : 0x00;
  int magnitude = pcm < 0 ? -static_cast<int>(pcm) : pcm;
  magnitude = std::min(magnitude, kClip) + kBias;
  const int seg = segment_of(magnitude);
  const int code = sign | (seg << 4) | ((magnitude >> (seg + 3)) & 0x0F);
  return static_cast<std::uint8_t>(~code);
}

std::int16_t ulaw_to_linear(std::uint8_t code) {
  constexpr int kBias = 0x84;
  const int c = static_cast<std::uint8_t>(~code);
  const int seg = (c >> 4) & 0x07;
  const int t = (((c & 0x0F) << 3) + kBias) << seg;
  return static_cast<std::int16_t>((c & 0x80) ? kBias - t : t - kBias);
}

void encode_alaw(const float* in, std::uint8_t* out, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) out[i] = linear_to_alaw(to_s16(in[i]));
}

void decode_alaw(const std::uint8_t* in, float* out, std::size_t n) {
  static const std::array<float, 256> table = make_decode_table<alaw_to_linear>();
  for (std::size_t i = 0; i < n; ++i) out[i] = table[in[i]];
}

void encode_ulaw(const float* in, std::uint8_t* out, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) out[i] = linear_to_ulaw(to_s16(in[i]));
}

void decode_ulaw(const std::uint8_t* in, float* out, std::size_t n) {
  static const std::array<float, 256> table = make_decode_table<ulaw_to_linear>();
  for (std::size_t i = 0; i < n; ++i) out[i] = table[in[i]];
}

}  // namespace prosody::dsp
