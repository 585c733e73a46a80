// endpoints.hpp - endpoints on a module: data sources (TDM[rx], VMP[rx])
// whose datafeed channel inputs connect to, and data sinks (TDM[tx],
// VMP[tx]) that take a datafeed, as Prosody's datafeed model has them. The
// engine knows only these two interfaces; what carries the audio (the
// software TDM bus, tdm.hpp; RTP in the separate VMP library) is behind them.
//
// Threads. An endpoint's pull or push is called by the processing path of
// its module, once per frame; control calls change the endpoint table under
// the engine's control mutex, and the runtime takes the change at a frame
// boundary, as for channels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/handles.hpp"
#include "prosody/endpoint.hpp"

namespace prosody::detail {

// The two interfaces are public (prosody/endpoint.hpp): a component outside
// the core puts its own endpoints on a module through them.
using ::prosody::EndpointSink;
using ::prosody::EndpointSource;

// Endpoint ids. An endpoint's id is also its datafeed (for a source): the
// datafeed tag (bit 63) with the low 24 bits zero, which no channel's
// datafeed has (a channel id's low 24 bits are its slot + 1), then
// module (16) | generation (9) | slot + 1 (14).
using EndpointKey = ChannelKey;
constexpr std::uint32_t kMaxEndpointSlots = 0x3FFE;
constexpr std::uint32_t kEndpointGenMask = 0x1FF;

inline std::uintptr_t encode_endpoint(const EndpointKey& key) {
  return kDatafeedTag | (std::uintptr_t{key.module & 0xFFFF} << 47) |
         (std::uintptr_t{key.gen & kEndpointGenMask} << 38) | (std::uintptr_t{(key.slot + 1) & 0x3FFF} << 24);
}

inline bool decode_endpoint(std::uintptr_t v, EndpointKey& key) {
  if (!(v & kDatafeedTag) || (v & 0xFFFFFF) != 0) return false;
  const std::uint32_t slot1 = static_cast<std::uint32_t>((v >> 24) & 0x3FFF);
  if (slot1 == 0) return false;
  key.slot = slot1 - 1;
  key.gen = static_cast<std::uint32_t>((v >> 38) & kEndpointGenMask);
  key.module = static_cast<std::uint32_t>((v >> 47) & 0xFFFF);
  return key.module != 0;
}

// What feeds a sink.
enum class SinkFeed : std::uint8_t { none, channel, source };

// One endpoint in the control model.
struct EndpointCtl {
  bool allocated = false;
  std::uint32_t gen = 0;
  std::shared_ptr<EndpointSource> source;  // a data source, or
  std::shared_ptr<EndpointSink> sink;      // a data sink
  // A sink that a datafeed feeds only while it is the last sink of its kind
  // connected to it (TDM[tx], as the reference documents).
  bool last_connection_only = false;
  SinkFeed feed = SinkFeed::none;
  ChannelKey feed_key;  // the channel whose output, or the source endpoint, feeding the sink
};

// The endpoints of one module (under the engine's control mutex).
class EndpointTable {
 public:
  explicit EndpointTable(std::uint32_t module_no) : module_no_(module_no) {}

  EndpointCtl* find(const EndpointKey& key);
  const EndpointCtl* find(const EndpointKey& key) const;
  // A new endpoint's slot, or false when the module has no room.
  bool allocate(EndpointKey& key);
  void release(const EndpointKey& key);
  const std::vector<EndpointCtl>& slots() const noexcept { return slots_; }
  std::vector<EndpointCtl>& slots() noexcept { return slots_; }
  bool empty() const noexcept { return live_ == 0; }

 private:
  const std::uint32_t module_no_;
  std::vector<EndpointCtl> slots_;
  std::vector<std::uint32_t> free_;
  std::size_t live_ = 0;
};

// ---------------------------------------------------------------------------
// Connection loops. A sum sent between modules must never come back to
// where it came from: not round a loop of endpoints, and not to a party
// whose own input went out. Each module reports what it carries between its
// endpoints (its flow), and the TDM bus, which knows which TDM[tx] reaches
// which TDM[rx], looks for such a path (tdm.cpp).

// A connection a control call is about to make, included in the flow as if
// made (so a loop is refused before it forms).
struct PendingConnection {
  enum class Kind : std::uint8_t {
    none,
    member,      // input channel `from` joins conference output `to`
    clone,       // output `to` takes the members of output `from`
    input_feed,  // input channel `to` is fed by `from` (a channel's output, or a source if from_endpoint)
    sink_feed,   // sink endpoint `to` is fed by `from` (likewise)
  };
  Kind kind = Kind::none;
  ChannelKey from;
  bool from_endpoint = false;
  ChannelKey to;
};

// What one module carries between its endpoints: from each source, the
// sinks and channel outputs it reaches; into each sink, the channel inputs
// that reach it. Channels by slot, endpoints by id.
struct ModuleFlow {
  struct FromSource {
    std::uintptr_t source = 0;
    std::vector<std::uintptr_t> sinks;
    std::vector<std::uint32_t> outputs;  // sorted
  };
  struct IntoSink {
    std::uintptr_t sink = 0;
    std::vector<std::uint32_t> inputs;  // sorted
  };
  std::vector<FromSource> sources;
  std::vector<IntoSink> sinks;
};

class ControlModel;
void compute_flow(const ControlModel& model, const PendingConnection& pending, ModuleFlow& out);

// The runtime's view of the endpoints, rebuilt at a frame boundary.
struct SourceRt {
  std::shared_ptr<EndpointSource> endpoint;
  std::vector<float> frame;  // this frame, pulled before the inputs read it (missing samples: 0)
  // The runs [begin, end) of the frame that were received.
  std::vector<std::pair<std::uint32_t, std::uint32_t>> received;
};

struct SinkRt {
  std::shared_ptr<EndpointSink> endpoint;
  std::int32_t from_output = -1;  // output index whose frame it sends, or
  std::int32_t from_source = -1;  // source index whose frame it sends
};

struct EndpointsRt {
  std::vector<SourceRt> sources;
  std::vector<SinkRt> sinks;
  std::vector<std::int32_t> source_by_slot;  // endpoint slot -> source index
};

}  // namespace prosody::detail
