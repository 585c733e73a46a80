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

std::uintptr_t encode_channel(std::uint32_t module, std::uint32_t slot, std::uint32_t gen);
bool decode_channel(std::uintptr_t value, ChannelKey& key);
std::uintptr_t encode_datafeed(const ChannelKey& key);
bool decode_datafeed(std::uintptr_t value, ChannelKey& key);
std::uintptr_t encode_module(std::uint32_t module);
bool decode_module(std::uintptr_t value, std::uint32_t& module);

}  // namespace prosody::detail
