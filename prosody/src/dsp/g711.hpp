// G.711 A-law and mu-law, from the segment rules of the Recommendation
// (Tables 1 and 2): 16-bit linear in, 8-bit code out, and back.
#pragma once

#include <cstddef>
#include <cstdint>

namespace prosody::dsp {

std::uint8_t linear_to_alaw(std::int16_t pcm);
std::int16_t alaw_to_linear(std::uint8_t code);
std::uint8_t linear_to_ulaw(std::int16_t pcm);
std::int16_t ulaw_to_linear(std::uint8_t code);

void encode_alaw(const float* in, std::uint8_t* out, std::size_t n);
void decode_alaw(const std::uint8_t* in, float* out, std::size_t n);
void encode_ulaw(const float* in, std::uint8_t* out, std::size_t n);
void decode_ulaw(const std::uint8_t* in, float* out, std::size_t n);

}  // namespace prosody::dsp
