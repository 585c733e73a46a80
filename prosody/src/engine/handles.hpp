// handles.hpp - channel, datafeed and module handles. A channel id packs
// (generation, module number, slot) so that a released or forged id is
// recognised rather than dereferenced.
#pragma once

#include <cstdint>

namespace prosody::detail {

struct ChannelKey {
  std::uint32_t module = 0;
  std::uint32_t slot = 0;
  std::uint32_t gen = 0;
  friend bool operator==(const ChannelKey& a, const ChannelKey& b) {
    return a.module == b.module && a.slot == b.slot && a.gen == b.gen;
  }
  friend bool operator!=(const ChannelKey& a, const ChannelKey& b) { return !(a == b); }
};

// Bits of a channel id: generation (23) | module (16) | slot + 1 (24). A
// datafeed id is its channel's id with the top bit set.
constexpr std::uintptr_t kSlotMask = 0xFFFFFF;
constexpr std::uintptr_t kGenMask = 0x7FFFFF;
constexpr std::uintptr_t kDatafeedTag = std::uintptr_t{1} << 63;

// Inline: the frame API decodes every channel it is given every frame.
inline std::uintptr_t encode_channel(std::uint32_t module, std::uint32_t slot, std::uint32_t gen) {
  return ((std::uintptr_t{gen} & kGenMask) << 40) | ((std::uintptr_t{module} & 0xFFFF) << 24) |
         ((std::uintptr_t{slot} + 1) & kSlotMask);
}

inline bool decode_channel(std::uintptr_t v, ChannelKey& key) {
  if (v == 0 || (v & kDatafeedTag)) return false;
  const std::uintptr_t slot1 = v & kSlotMask;
  if (slot1 == 0) return false;
  key.slot = static_cast<std::uint32_t>(slot1 - 1);
  key.module = static_cast<std::uint32_t>((v >> 24) & 0xFFFF);
  key.gen = static_cast<std::uint32_t>((v >> 40) & kGenMask);
  return key.module != 0;
}

std::uintptr_t encode_datafeed(const ChannelKey& key);
bool decode_datafeed(std::uintptr_t value, ChannelKey& key);
std::uintptr_t encode_module(std::uint32_t module);
bool decode_module(std::uintptr_t value, std::uint32_t& module);

}  // namespace prosody::detail
