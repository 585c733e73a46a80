// tdm.hpp - the software TDM bus: it joins the modules of one process, as a
// card's switch matrix joins its DSPs. A TDM[tx] on (stream, timeslot) sends
// the datafeed connected to it; every TDM[rx] on the same (stream,
// timeslot), on whichever module, receives it. One TDM[tx] per timeslot;
// any number of TDM[rx].
//
// How a frame crosses. Each (TDM[tx], TDM[rx]) pair has its own
// single-producer single-consumer ring of samples: the sending module's
// processing path writes its frame at the end of its frame, the receiving
// module's reads one frame at the start of its frame. Neither ever waits for
// the other, so modules can run on their own threads and cores, or be
// stepped. A receiver starts playing once two frames are queued: one frame
// of delay per hop, plus up to one more by the phase of the two modules'
// frame clocks (real time), or by their order (stepped in turn: the
// receiver stepped after the sender gets each frame one frame later,
// before it, two).
//
// A late module. A sender that falls behind leaves its receivers short:
// they conceal the missing audio as lost audio (fade, then silence) and
// start again once two frames are queued. A receiver that falls behind
// finds frames piling up: beyond four frames queued it drops the oldest,
// back to two, so the delay of a hop stays bounded. Both are counted
// (TdmRxStats).
//
// Timeslot types. A-law and mu-law timeslots carry G.711 (the sender
// quantises; a receiver of the other law hears the codes read with its own
// law, as on hardware); data timeslots carry the module's samples exactly.
// Every endpoint of a timeslot must run at the same sample rate.
#pragma once

#include <cstdint>
#include <memory>

#include "prosody/prosody.hpp"

namespace prosody::detail {

class Engine;

enum class TimeslotType : int { alaw = 0, mulaw = 1, data = 2 };

// Streams 0..kTdmStreams-1, timeslots 0..kTdmTimeslots-1.
constexpr int kTdmStreams = 1024;
constexpr int kTdmTimeslots = 1024;

struct TdmRxStats {
  std::uint64_t frames_received = 0;   // frames taken from the bus
  std::uint64_t frames_concealed = 0;  // frames short because the sender was late
  std::uint64_t samples_dropped = 0;   // dropped because this receiver was late
  std::uint64_t restarts = 0;          // times playing started (first, and after each shortfall)
};

// The bus of the process. Endpoint ids are those of the engine's endpoint
// table (endpoints.hpp); a TDM[rx]'s id is also its datafeed.
class TdmBus {
 public:
  static TdmBus& instance();

  // Errc::bad_parameter: stream, timeslot or type out of range, or a rate
  // other than the timeslot's; Errc::no_resources: the timeslot already has
  // a TDM[tx], or the module has no room for another endpoint.
  Errc create_rx(const std::shared_ptr<Engine>& module, int stream, int timeslot, TimeslotType type,
                 std::uintptr_t& id);
  Errc create_tx(const std::shared_ptr<Engine>& module, int stream, int timeslot, TimeslotType type,
                 std::uintptr_t& id);
  // Errc::bad_parameter if id is not a live endpoint of that direction.
  Errc destroy_rx(std::uintptr_t id);
  Errc destroy_tx(std::uintptr_t id);
  // The datafeed of a TDM[rx] (its id).
  Errc rx_datafeed(std::uintptr_t id, std::uintptr_t& datafeed);
  // Feeds a TDM[tx] from a datafeed (0 disconnects). A TDM[rx]'s datafeed
  // cannot feed a TDM[tx] (Errc::bad_parameter: use the switch, as on
  // hardware); a datafeed of another module: Errc::not_same_module.
  Errc connect_tx(std::uintptr_t id, std::uintptr_t datafeed);
  Errc rx_stats(std::uintptr_t id, TdmRxStats& stats);

  struct Impl;

 private:
  TdmBus();
  std::unique_ptr<Impl> impl_;
};

}  // namespace prosody::detail
