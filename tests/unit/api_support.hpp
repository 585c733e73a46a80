// Small helpers of the API tests: the error code a C++ call throws, and
// 16-bit PCM as the bytes replay and record carry.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <vector>

#include "prosody/prosody.hpp"

namespace prosody::test {

// The code of the Error f throws, or Errc::ok.
inline Errc code_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.code();
  }
  return Errc::ok;
}

// Native-endian 16-bit samples as bytes (kSMDataFormat16bit, DataFormat::linear16).
inline std::vector<std::uint8_t> pcm_bytes(const std::vector<std::int16_t>& pcm) {
  std::vector<std::uint8_t> b(pcm.size() * 2);
  std::memcpy(b.data(), pcm.data(), b.size());
  return b;
}

inline std::vector<std::int16_t> pcm_samples(const std::vector<std::uint8_t>& bytes) {
  std::vector<std::int16_t> pcm(bytes.size() / 2);
  std::memcpy(pcm.data(), bytes.data(), pcm.size() * 2);
  return pcm;
}

}  // namespace prosody::test
