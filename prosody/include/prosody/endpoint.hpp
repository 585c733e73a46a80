// endpoint.hpp - external endpoints: a hook through which a component outside
// libprosody's core (the RTP endpoints of libprosody-vmp, for one) puts its own
// data sources and sinks on a module, as the software TDM bus does with its
// TDM[rx] and TDM[tx]. Free of any media framework's types.
//
// A source's datafeed fans out to channel inputs (sm_channel_datafeed_connect);
// a sink takes one datafeed (a channel's output, or a source of the same
// module). The module calls pull and push from its processing path once per
// frame, on its own thread when it runs in real time: they must never block.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "prosody/smtypes.h"

namespace prosody {

// Where a data source's frame comes from.
class EndpointSource {
 public:
  virtual ~EndpointSource() = default;
  // Fills frame with this frame's n samples (full scale 1.0). A sample that
  // was not received (lost, late) is NaN: each input fed by the source
  // conceals it as lost audio, and a sink forwarding the source sends
  // silence for it.
  virtual void pull(float* frame, std::size_t n) = 0;
};

// Where a data sink's frame goes.
class EndpointSink {
 public:
  virtual ~EndpointSink() = default;
  // This frame of the connected datafeed (n samples), or null when no
  // datafeed is connected (or its source has gone).
  virtual void push(const float* frame, std::size_t n) = 0;
};

namespace endpoint {

// A module's sample rate and frame length (samples).
struct ModuleFormat {
  unsigned sample_rate = 0;
  std::size_t frame_samples = 0;
};

// Each returns 0 or an ERR_SM_* code (smerror.h).

// ERR_SM_NO_SUCH_MODULE (ERR_SM_BAD_PARAMETER for a null id).
int module_format(tSMModuleId module, ModuleFormat& format);
// Puts a source on module; id is then also its datafeed. The module holds
// the source until remove (or until it closes). ERR_SM_NO_RESOURCES: the
// module has no room for another endpoint.
int add_source(tSMModuleId module, std::shared_ptr<EndpointSource> source, tSMDatafeedId& id);
// Puts a sink on module.
int add_sink(tSMModuleId module, std::shared_ptr<EndpointSink> sink, std::uintptr_t& id);
// Takes an endpoint off its module: inputs and sinks it fed hear silence.
// ERR_SM_BAD_PARAMETER if id is no live endpoint (its module may have closed).
int remove(std::uintptr_t id);
// Feeds a sink from a datafeed of its module (kSMNullDatafeedId
// disconnects). A datafeed of another module: ERR_SM_NOT_SAME_MODULE.
int connect_sink(std::uintptr_t sink, tSMDatafeedId datafeed);
// The module an endpoint is on (kSMNullModuleId if none).
tSMModuleId module_of(std::uintptr_t id);

}  // namespace endpoint
}  // namespace prosody
