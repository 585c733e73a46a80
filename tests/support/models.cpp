// The three models through the C API (models.hpp). Every sum sent to a module
// holds only inputs that did not come from it, so no party hears itself
// after a round trip and no loop forms:
//   broadcast     each module sends its local sum to every other;
//   pipeline      module m sends "local + from the left" right, "local +
//                 from the right" left;
//   hierarchical  leaves send their local sum to module 0 (the aggregator),
//                 which returns to each leaf everything but that leaf.
// A party's output is a clone of its module's local sum, less itself, plus
// the remote sums its module receives.
#include "models.hpp"

#include <cstdlib>

namespace testmodels {

namespace {

constexpr int kStreamBroadcast = 1;
constexpr int kStreamRight = 2;
constexpr int kStreamLeft = 3;
constexpr int kStreamUp = 4;
constexpr int kStreamDown = 5;

// Stops at the first failing call, remembering which.
struct Builder {
  Topology& t;
  kSMTimeslotType type;
  int error = 0;
  std::string* failed;

  bool ok(int rc, const char* what) {
    if (rc != 0 && error == 0) {
      error = rc;
      if (failed) *failed = what;
    }
    return error == 0;
  }

  tSMChannelId alloc(tSMModuleId module, kSMChannelType kind) {
    SM_CHANNEL_ALLOC_PLACED_PARMS p{};
    p.type = kind;
    p.module = module;
    ok(sm_channel_alloc_placed(&p), "sm_channel_alloc_placed");
    return p.channel;
  }
  // Adds participant to output; returns its participant id.
  int add(tSMChannelId output, tSMChannelId participant) {
    SM_CONF_PRIM_ADD_PARMS a{};
    a.channel = output;
    a.participant = participant;
    ok(sm_conf_prim_add(&a), "sm_conf_prim_add");
    return a.id;
  }
  // A new output channel holding a copy of model's participants.
  tSMChannelId clone(tSMModuleId module, tSMChannelId model) {
    const tSMChannelId out = alloc(module, kSMChannelTypeOutput);
    t.channels.push_back(out);
    SM_CONF_PRIM_CLONE_PARMS c{};
    c.channel = out;
    c.model = model;
    ok(sm_conf_prim_clone(&c), "sm_conf_prim_clone");
    return out;
  }
  // Sends output's audio on (stream, timeslot).
  void send(tSMModuleId module, tSMChannelId output, int stream, int timeslot) {
    SM_CHANNEL_DATAFEED_PARMS d{};
    d.channel = output;
    if (!ok(sm_channel_get_datafeed(&d), "sm_channel_get_datafeed")) return;
    SM_TDMTX_CREATE_PARMS c{};
    c.module = module;
    c.stream = stream;
    c.timeslot = timeslot;
    c.type = type;
    if (!ok(sm_tdmtx_create(&c), "sm_tdmtx_create")) return;
    t.tx.push_back(c.tdmtx);
    SM_TDMTX_DATAFEED_CONNECT_PARMS k{};
    k.data_source = d.datafeed;
    k.tdmtx = c.tdmtx;
    ok(sm_tdmtx_datafeed_connect(&k), "sm_tdmtx_datafeed_connect");
  }
  // An input channel fed by what (stream, timeslot) carries.
  tSMChannelId receive(tSMModuleId module, int stream, int timeslot) {
    SM_TDMRX_CREATE_PARMS c{};
    c.module = module;
    c.stream = stream;
    c.timeslot = timeslot;
    c.type = type;
    if (!ok(sm_tdmrx_create(&c), "sm_tdmrx_create")) return kSMNullChannelId;
    t.rx.push_back(c.tdmrx);
    SM_TDMRX_DATAFEED_PARMS d{};
    d.tdmrx = c.tdmrx;
    if (!ok(sm_tdmrx_get_datafeed(&d), "sm_tdmrx_get_datafeed")) return kSMNullChannelId;
    const tSMChannelId in = alloc(module, kSMChannelTypeInput);
    t.channels.push_back(in);
    t.remote_inputs.push_back(in);
    SM_CHANNEL_DATAFEED_CONNECT_PARMS k{};
    k.data_source = d.datafeed;
    k.channel = in;
    ok(sm_channel_datafeed_connect(&k), "sm_channel_datafeed_connect");
    return in;
  }
};

}  // namespace

const char* name(Model m) {
  switch (m) {
    case Model::broadcast:
      return "broadcast";
    case Model::pipeline:
      return "pipeline";
    case Model::hierarchical:
      return "hierarchical";
  }
  return "?";
}

int Topology::hops(std::size_t a, std::size_t b) const {
  if (a == b) return 0;
  switch (model) {
    case Model::broadcast:
      return 1;
    case Model::pipeline:
      return std::abs(int(a) - int(b));
    case Model::hierarchical:
      return a == 0 || b == 0 ? 1 : 2;
  }
  return -1;
}

int build(Model model, const std::vector<tSMModuleId>& modules, int parties_per_module, kSMTimeslotType type,
          Topology& t, std::string* failed) {
  t = Topology{};
  t.model = model;
  t.modules = modules;
  Builder b{t, type, 0, failed};
  const std::size_t k = modules.size();

  // Parties, and each module's local sum: every local party.
  std::vector<tSMChannelId> local_sum(k);
  std::vector<std::vector<int>> party_id(k);
  t.parties.resize(k);
  for (std::size_t m = 0; m < k && !b.error; ++m) {
    local_sum[m] = b.alloc(modules[m], kSMChannelTypeOutput);
    t.channels.push_back(local_sum[m]);
    t.local_sums.push_back(local_sum[m]);
    SM_CONF_PRIM_START_PARMS s{};
    s.channel = local_sum[m];
    b.ok(sm_conf_prim_start(&s), "sm_conf_prim_start");
    for (int i = 0; i < parties_per_module && !b.error; ++i) {
      const tSMChannelId p = b.alloc(modules[m], kSMChannelTypeFullDuplex);
      t.parties[m].push_back(p);
      party_id[m].push_back(b.add(local_sum[m], p));
    }
  }

  // The sums between modules: what each module sends, and the inputs that
  // receive on each module (heard by its parties).
  std::vector<std::vector<tSMChannelId>> heard(k);
  switch (model) {
    case Model::broadcast:
      for (std::size_t m = 0; m < k; ++m) b.send(modules[m], local_sum[m], kStreamBroadcast, int(m));
      for (std::size_t m = 0; m < k; ++m)
        for (std::size_t j = 0; j < k; ++j)
          if (j != m) heard[m].push_back(b.receive(modules[m], kStreamBroadcast, int(j)));
      break;
    case Model::pipeline: {
      std::vector<tSMChannelId> from_left(k, kSMNullChannelId), from_right(k, kSMNullChannelId);
      for (std::size_t m = 0; m < k; ++m) {
        if (m > 0) from_left[m] = b.receive(modules[m], kStreamRight, int(m - 1));
        if (m + 1 < k) from_right[m] = b.receive(modules[m], kStreamLeft, int(m + 1));
      }
      for (std::size_t m = 0; m < k && !b.error; ++m) {
        if (m + 1 < k) {  // local + from the left, to the right
          const tSMChannelId right = b.clone(modules[m], local_sum[m]);
          if (m > 0) b.add(right, from_left[m]);
          b.send(modules[m], right, kStreamRight, int(m));
        }
        if (m > 0) {  // local + from the right, to the left
          const tSMChannelId left = b.clone(modules[m], local_sum[m]);
          if (m + 1 < k) b.add(left, from_right[m]);
          b.send(modules[m], left, kStreamLeft, int(m));
        }
        if (m > 0) heard[m].push_back(from_left[m]);
        if (m + 1 < k) heard[m].push_back(from_right[m]);
      }
      break;
    }
    case Model::hierarchical: {
      // Leaves up to the aggregator (module 0)...
      std::vector<tSMChannelId> up(k, kSMNullChannelId);
      for (std::size_t j = 1; j < k; ++j) {
        b.send(modules[j], local_sum[j], kStreamUp, int(j));
        up[j] = b.receive(modules[0], kStreamUp, int(j));
        heard[0].push_back(up[j]);
      }
      // ...which returns to each leaf its own parties and every other leaf.
      for (std::size_t j = 1; j < k && !b.error; ++j) {
        const tSMChannelId down = b.clone(modules[0], local_sum[0]);
        for (std::size_t i = 1; i < k; ++i)
          if (i != j) b.add(down, up[i]);
        b.send(modules[0], down, kStreamDown, int(j));
        heard[j].push_back(b.receive(modules[j], kStreamDown, int(j)));
      }
      break;
    }
  }

  // Each party hears its module's local sum but itself, and the remote sums.
  for (std::size_t m = 0; m < k && !b.error; ++m) {
    for (int i = 0; i < parties_per_module && !b.error; ++i) {
      const tSMChannelId p = t.parties[m][std::size_t(i)];
      SM_CONF_PRIM_CLONE_PARMS c{};
      c.channel = p;
      c.model = local_sum[m];
      b.ok(sm_conf_prim_clone(&c), "sm_conf_prim_clone");
      SM_CONF_PRIM_LEAVE_PARMS l{};
      l.channel = p;
      l.id = party_id[m][std::size_t(i)];
      b.ok(sm_conf_prim_leave(&l), "sm_conf_prim_leave");
      for (tSMChannelId r : heard[m]) b.add(p, r);
    }
  }
  return b.error;
}

void teardown(Topology& t) {
  for (tSMTDMtxId x : t.tx) sm_tdmtx_destroy(x);
  for (tSMTDMrxId x : t.rx) sm_tdmrx_destroy(x);
  for (auto& ps : t.parties)
    for (tSMChannelId p : ps) sm_channel_release(p);
  for (tSMChannelId c : t.channels) sm_channel_release(c);
  t = Topology{};
}

}  // namespace testmodels
