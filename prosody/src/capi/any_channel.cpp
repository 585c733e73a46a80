// any_channel.cpp - the legacy any-channel mode: channels whose event is bound
// with kSMAnyChannelEvent take part in the status calls made with
// kSMNullChannelId, which return one of them that needs service.
#include <mutex>
#include <utility>
#include <vector>

#include "capi/capi.hpp"

namespace prosody::capi {

namespace {

struct AnyChannelBindings {
  std::mutex m;
  std::vector<std::pair<std::uintptr_t, int>> bound;  // (channel, event type), in binding order
  std::size_t next = 0;                               // where the next search starts (round robin)
};

AnyChannelBindings& bindings() {
  static AnyChannelBindings b;
  return b;
}

}  // namespace

void any_channel_bind(tSMChannelId channel, int event_type, bool bound) {
  AnyChannelBindings& b = bindings();
  std::lock_guard<std::mutex> lock(b.m);
  const std::pair<std::uintptr_t, int> key{raw(channel), event_type};
  for (std::size_t i = 0; i < b.bound.size(); ++i)
    if (b.bound[i] == key) {
      if (!bound) b.bound.erase(b.bound.begin() + static_cast<std::ptrdiff_t>(i));
      return;
    }
  if (bound) b.bound.push_back(key);
}

tSMChannelId any_channel_needing_service(int event_type) {
  AnyChannelBindings& b = bindings();
  std::lock_guard<std::mutex> lock(b.m);
  // Starting after the channel found last, so one busy channel cannot
  // starve the others.
  for (std::size_t k = 0; k < b.bound.size();) {
    const std::size_t i = (b.next + k) % b.bound.size();
    const auto [channel, type] = b.bound[i];
    bool needs = false;
    auto e = engine_of(channel_handle(channel));
    if (!e || e->needs_service(channel, type, needs) == Errc::no_such_channel) {
      b.bound.erase(b.bound.begin() + static_cast<std::ptrdiff_t>(i));  // released: forget it
      continue;
    }
    if (type == event_type && needs) {
      b.next = i + 1;
      return channel_handle(channel);
    }
    ++k;
  }
  return kSMNullChannelId;
}

}  // namespace prosody::capi
