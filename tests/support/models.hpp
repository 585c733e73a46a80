// The application note's three large-conference models (broadcast,
// pipeline, hierarchical), built across the modules of one process with the
// C API only: conference primitives and TDM endpoints, as an application for
// the hardware would build them. Shared by the scale-out tests and the
// multi-core benchmark.
#pragma once

#include <string>
#include <vector>

#include "prosody/prosgen.h"
#include "prosody/smbesp.h"

namespace testmodels {

enum class Model { broadcast, pipeline, hierarchical };
const char* name(Model m);

struct Topology {
  Model model = Model::broadcast;
  std::vector<tSMModuleId> modules;
  // parties[m][i]: full-duplex channels; each party's output is every
  // other party of the conference.
  std::vector<std::vector<tSMChannelId>> parties;
  // Everything else the model allocated (sums, remote-sum inputs) and its
  // endpoints, for teardown.
  std::vector<tSMChannelId> channels;
  std::vector<tSMChannelId> local_sums;     // [m]: every party of module m
  std::vector<tSMChannelId> remote_inputs;  // inputs fed by a TDM[rx]
  std::vector<tSMTDMrxId> rx;
  std::vector<tSMTDMtxId> tx;
  // Bus hops from a party on module a to a party on module b.
  int hops(std::size_t a, std::size_t b) const;
};

// Builds model over modules with parties_per_module parties on each. Returns
// 0, or the first ERR_SM_* code (and the call that failed, in failed).
// Timeslots: stream 1..5 by model and direction, timeslot = sending module.
int build(Model model, const std::vector<tSMModuleId>& modules, int parties_per_module, kSMTimeslotType type,
          Topology& out, std::string* failed = nullptr);

// Destroys the endpoints and releases every channel of the topology.
void teardown(Topology& t);

}  // namespace testmodels
