// capi.hpp - helpers shared by the C API translation units: find the engine
// behind a C handle and turn typed error codes into ERR_SM_* ints.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>

#include "engine/engine.hpp"
#include "engine/events.hpp"
#include "engine/registry.hpp"
#include "prosody/smbesp.h"
#include "prosody/smdrvr.h"

namespace prosody::capi {

inline int rc(Errc e) { return static_cast<int>(e); }

// The serial number of card 0, the software Prosody processor.
constexpr const char* kSoftwareCardSerial = "SW-PROSODY-0";

// The value of an enum field of a C parms struct, read as the int it is
// stored as: a C caller may have put any value there, and loading an
// out-of-range value as the C++ enum type is undefined behaviour.
template <class E>
int enum_value(const E& field) {
  static_assert(sizeof(E) == sizeof(int), "C enums are int-sized here");
  int v;
  std::memcpy(&v, &field, sizeof v);
  return v;
}

inline std::uintptr_t raw(tSMChannelId id) { return reinterpret_cast<std::uintptr_t>(id); }
inline tSMChannelId channel_handle(std::uintptr_t v) { return reinterpret_cast<tSMChannelId>(v); }

// The engine that owns a channel id, or null.
inline std::shared_ptr<detail::Engine> engine_of(tSMChannelId id) {
  detail::ChannelKey key;
  if (!detail::decode_channel(raw(id), key)) return nullptr;
  return detail::Registry::instance().find(key.module);
}

inline std::shared_ptr<detail::Engine> engine_of_module(tSMModuleId m) {
  std::uint32_t n = 0;
  if (!detail::decode_module(reinterpret_cast<std::uintptr_t>(m), n)) return nullptr;
  return detail::Registry::instance().find(n);
}

// The legacy any-channel mode (any_channel.cpp): sm_channel_set_event
// records which channels are bound with kSMAnyChannelEvent, and the status
// calls given kSMNullChannelId take the next of them that needs service
// for their event type (kSMNullChannelId if none does).
void any_channel_bind(tSMChannelId channel, int event_type, bool bound);
tSMChannelId any_channel_needing_service(int event_type);

// Maps a kSMDataFormat (or a legacy "format plus rate" code) and
// sampling_rate to our format and the data's rate (0: the module's; others
// are resampled). Returns an ERR_SM_*.
int map_format(int type, unsigned long sampling_rate, unsigned module_rate, DataFormat& out, unsigned& rate);

// An event owned by something other than a channel (an RTP endpoint), as a
// tSMEventId that poll() and smd_ev_wait accept. The owner frees it with
// free_owned_event when it goes (the application does not free it).
// ERR_SM_NO_RESOURCES if the event could not be made.
int make_owned_event(const std::shared_ptr<detail::EventObject>& object, tSMEventId& out);
void free_owned_event(const tSMEventId& event);

}  // namespace prosody::capi

// Resolve the engine of a channel argument or return ERR_SM_NO_SUCH_CHANNEL.
#define PROSODY_ENGINE_OR_RETURN(var, channel)    \
  auto var = ::prosody::capi::engine_of(channel); \
  if (!var) return ERR_SM_NO_SUCH_CHANNEL
