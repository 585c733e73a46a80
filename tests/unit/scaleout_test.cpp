// Conferences across modules: the software TDM bus (sm_tdmrx_*, sm_tdmtx_*)
// and the application note's three models built on it from the C API
// (tests/support/models.cpp), with two and four stepped modules of four
// parties. Every party must hear every other at the level it was sent, never
// itself, and each hop must cost the frames the bus documents.
#include "scaleout.hpp"

namespace {

using namespace scaleout;

class Models : public ::testing::TestWithParam<ModelCase> {};

// Stepped, so every run is exactly repeatable: levels, own voice, and the
// frames each hop costs.
TEST_P(Models, EveryPartyHearsEveryOtherAndNeverItself) {
  const ModelCase c = GetParam();
  Card card(c.modules, stepped());
  for (kSMTimeslotType type : {kSMTimeslotTypeData, kSMTimeslotTypeALaw, kSMTimeslotTypeMuLaw}) {
    SCOPED_TRACE(type == kSMTimeslotTypeData ? "data timeslots" : type == kSMTimeslotTypeALaw ? "A-law" : "mu-law");
    Topology t;
    std::string failed;
    ASSERT_EQ(testmodels::build(c.model, card.modules, kPartiesPerModule, type, t, &failed), 0) << failed;
    std::vector<Party> parties = parties_of(t, 8);
    constexpr std::size_t kFrames = 150;
    give_tones(parties, kFrames * kFrame);
    run_stepped(card, parties, kFrames);
    // The last second: the bus has started and every join has faded in.
    expect_everyone_hears_everyone(parties, 50 * kFrame, 100 * kFrame, testmodels::name(c.model),
                                   type == kSMTimeslotTypeData);
    for (tSMTDMrxId rx : t.rx) {
      prosody::detail::TdmRxStats s;
      ASSERT_EQ(prosody::detail::TdmBus::instance().rx_stats(raw(rx), s), Errc::ok);
      EXPECT_EQ(s.frames_concealed, 0u);
      EXPECT_EQ(s.samples_dropped, 0u);
      EXPECT_EQ(s.restarts, 1u);
    }
    testmodels::teardown(t);
  }
}

// A party's output is bit for bit the same whether it talks or not: nothing
// of it comes back, by any route.
TEST_P(Models, OwnVoiceNeverComesBackBitExact) {
  const ModelCase c = GetParam();
  Card card(c.modules, stepped());
  std::vector<std::vector<float>> heard(2);
  const std::size_t listener = (c.modules - 1) * kPartiesPerModule + 1;  // a party on the last module
  for (int silent = 0; silent < 2; ++silent) {
    Topology t;
    ASSERT_EQ(testmodels::build(c.model, card.modules, kPartiesPerModule, kSMTimeslotTypeALaw, t), 0);
    std::vector<Party> parties = parties_of(t, 8);
    give_tones(parties, 100 * kFrame);
    if (silent) parties[listener].input.assign(100 * kFrame, 0.0f);
    run_stepped(card, parties, 100);
    heard[std::size_t(silent)] = parties[listener].output;
    testmodels::teardown(t);
  }
  ASSERT_EQ(heard[0].size(), heard[1].size());
  std::size_t differ = 0;
  for (std::size_t i = 0; i < heard[0].size(); ++i) differ += heard[0][i] != heard[1][i];
  EXPECT_EQ(differ, 0u) << "samples of the listener's output that depend on its own voice";
}

// A talker's onset reaches each listener hops x (1 frame, or 2 where the
// receiving module is stepped before the sending one) later than its own
// module's parties hear it.
TEST_P(Models, LatencyPerHopInFrames) {
  const ModelCase c = GetParam();
  Card card(c.modules, stepped());
  for (std::size_t talker_module : {std::size_t(0), c.modules - 1}) {
    Topology t;
    ASSERT_EQ(testmodels::build(c.model, card.modules, kPartiesPerModule, kSMTimeslotTypeALaw, t), 0);
    std::vector<Party> parties = parties_of(t, 8);
    // Gating off, so the onset is mixed in its first frame everywhere.
    for (const auto& module_parties : t.parties)
      for (tSMChannelId p : module_parties) ASSERT_EQ(engine_of(p)->conf_gating(raw(p), false), Errc::ok);
    for (tSMChannelId r : t.remote_inputs) ASSERT_EQ(engine_of(r)->conf_gating(raw(r), false), Errc::ok);
    constexpr std::size_t kOnset = 40;
    const std::size_t talker = talker_module * kPartiesPerModule;
    parties[talker].input.assign(80 * kFrame, 0.0f);
    testsig::add_sine(parties[talker].input, 1000.0, -10.0, kRate, 0.0, kOnset * kFrame);
    run_stepped(card, parties, 80);
    const long local = onset_frame(parties[talker + 1].output);
    ASSERT_EQ(local, long(kOnset)) << "a party of the talker's module hears it in the same frame";
    for (std::size_t m = 0; m < c.modules; ++m) {
      if (m == talker_module) continue;
      // Each hop: 1 frame if the receiver is stepped after the sender, 2 if
      // before.
      long expected = 0;
      std::size_t at = talker_module;
      auto hop = [&](std::size_t to) {
        expected += to > at ? 1 : 2;
        at = to;
      };
      switch (c.model) {
        case Model::broadcast:
          hop(m);
          break;
        case Model::pipeline:
          while (at != m) hop(m > at ? at + 1 : at - 1);
          break;
        case Model::hierarchical:
          if (at != 0) hop(0);
          if (m != 0) hop(m);
          break;
      }
      const long heard = onset_frame(parties[m * kPartiesPerModule].output);
      EXPECT_EQ(heard - local, expected) << "talker on module " << talker_module << ", listener on module " << m;
      std::printf("[ latency  ] %s, %zu modules: module %zu -> %zu: %d hop(s), %ld frame(s)\n",
                  testmodels::name(c.model), c.modules, talker_module, m, t.hops(talker_module, m), heard - local);
    }
    testmodels::teardown(t);
  }
}

INSTANTIATE_TEST_SUITE_P(TwoAndFourModules, Models,
                         ::testing::Values(ModelCase{Model::broadcast, 2}, ModelCase{Model::broadcast, 4},
                                           ModelCase{Model::pipeline, 2}, ModelCase{Model::pipeline, 4},
                                           ModelCase{Model::hierarchical, 2}, ModelCase{Model::hierarchical, 4}),
                         case_name);

// ---------------------------------------------------------------------------
// The bus's own rules

// Two modules, one party each, broadcast: each hears the other over one hop.
struct Pair {
  explicit Pair(prosody_sw_module_config_parms config = stepped()) : card(2, config) {
    EXPECT_EQ(testmodels::build(Model::broadcast, card.modules, 1, kSMTimeslotTypeData, t), 0);
    parties = parties_of(t, 64);
  }
  ~Pair() { testmodels::teardown(t); }
  Card card;
  Topology t;
  std::vector<Party> parties;
};

tSMDatafeedId datafeed_of(tSMChannelId channel) {
  SM_CHANNEL_DATAFEED_PARMS d{};
  d.channel = channel;
  EXPECT_EQ(sm_channel_get_datafeed(&d), 0);
  return d.datafeed;
}

// A TDM endpoint of either direction: its create call, and where the
// handle comes out.
template <class Parms, class Id>
int create_endpoint(int (*create)(Parms*), Id Parms::*handle, tSMModuleId module, int stream, int timeslot, Id& id,
                    kSMTimeslotType type) {
  Parms c{};
  c.module = module;
  c.stream = stream;
  c.timeslot = timeslot;
  c.type = type;
  const int r = create(&c);
  id = c.*handle;
  return r;
}

int create_rx(tSMModuleId module, int stream, int timeslot, tSMTDMrxId& rx,
              kSMTimeslotType type = kSMTimeslotTypeData) {
  return create_endpoint(sm_tdmrx_create, &SM_TDMRX_CREATE_PARMS::tdmrx, module, stream, timeslot, rx, type);
}

int create_tx(tSMModuleId module, int stream, int timeslot, tSMTDMtxId& tx,
              kSMTimeslotType type = kSMTimeslotTypeData) {
  return create_endpoint(sm_tdmtx_create, &SM_TDMTX_CREATE_PARMS::tdmtx, module, stream, timeslot, tx, type);
}

tSMDatafeedId rx_datafeed(tSMTDMrxId rx) {
  SM_TDMRX_DATAFEED_PARMS d{};
  d.tdmrx = rx;
  EXPECT_EQ(sm_tdmrx_get_datafeed(&d), 0);
  return d.datafeed;
}

int connect_tx(tSMTDMtxId tx, tSMDatafeedId source) {
  SM_TDMTX_DATAFEED_CONNECT_PARMS c{};
  c.data_source = source;
  c.tdmtx = tx;
  return sm_tdmtx_datafeed_connect(&c);
}

int connect_input(tSMChannelId channel, tSMDatafeedId source) {
  SM_CHANNEL_DATAFEED_CONNECT_PARMS c{};
  c.data_source = source;
  c.channel = channel;
  return sm_channel_datafeed_connect(&c);
}

tSMChannelId alloc_on(tSMModuleId module, kSMChannelType type) {
  SM_CHANNEL_ALLOC_PLACED_PARMS p{};
  p.type = type;
  p.module = module;
  EXPECT_EQ(sm_channel_alloc_placed(&p), 0);
  return p.channel;
}

// A new conference output on module with member as its one participant.
tSMChannelId conference_of(tSMModuleId module, tSMChannelId member) {
  const tSMChannelId out = alloc_on(module, kSMChannelTypeOutput);
  SM_CONF_PRIM_START_PARMS s{};
  s.channel = out;
  EXPECT_EQ(sm_conf_prim_start(&s), 0);
  SM_CONF_PRIM_ADD_PARMS a{};
  a.channel = out;
  a.participant = member;
  EXPECT_EQ(sm_conf_prim_add(&a), 0);
  return out;
}

prosody::detail::TdmRxStats stats_of(tSMTDMrxId rx) {
  prosody::detail::TdmRxStats s;
  EXPECT_EQ(prosody::detail::TdmBus::instance().rx_stats(raw(rx), s), Errc::ok);
  return s;
}

TEST(TdmBus, MisuseGetsDocumentedErrorsAndDisturbsNothing) {
  Pair pair;
  give_tones(pair.parties, 200 * kFrame);
  run_stepped(pair.card, pair.parties, 60);
  const tSMModuleId a = pair.card.modules[0], b = pair.card.modules[1];

  EXPECT_EQ(sm_tdmrx_create(nullptr), ERR_SM_BAD_PARAMETER);
  tSMTDMrxId rx;
  tSMTDMtxId tx;
  EXPECT_EQ(create_rx(kSMNullModuleId, 0, 0, rx), ERR_SM_BAD_PARAMETER);
  EXPECT_EQ(rx, kSMNullTDMrxId);
  EXPECT_EQ(create_rx(reinterpret_cast<tSMModuleId>(0x7777775A), 0, 0, rx), ERR_SM_NO_SUCH_MODULE);
  EXPECT_EQ(create_rx(a, -1, 0, rx), ERR_SM_BAD_PARAMETER);
  EXPECT_EQ(create_rx(a, 1024, 0, rx), ERR_SM_BAD_PARAMETER);
  EXPECT_EQ(create_tx(a, 0, 1024, tx), ERR_SM_BAD_PARAMETER);
  EXPECT_EQ(create_tx(a, 0, 0, tx, static_cast<kSMTimeslotType>(3)), ERR_SM_BAD_PARAMETER);

  // A timeslot has one sender, whichever module asks.
  EXPECT_EQ(create_tx(a, 1, 0, tx), ERR_SM_NO_RESOURCES) << "the model's module 0 sends on stream 1 timeslot 0";
  EXPECT_EQ(create_tx(b, 1, 0, tx), ERR_SM_NO_RESOURCES);
  EXPECT_EQ(tx, kSMNullTDMtxId);

  // Endpoints of another module.
  ASSERT_EQ(create_rx(a, 9, 9, rx), 0);
  ASSERT_EQ(create_tx(b, 9, 9, tx), 0);
  const tSMChannelId on_b = pair.t.parties[1][0];
  const tSMChannelId on_a = pair.t.parties[0][0];
  EXPECT_EQ(connect_input(on_b, rx_datafeed(rx)), ERR_SM_NOT_SAME_MODULE);
  EXPECT_EQ(connect_tx(tx, datafeed_of(on_a)), ERR_SM_NOT_SAME_MODULE);
  // TDM[rx] to TDM[tx] is not a datafeed's work.
  tSMTDMtxId tx_a;
  ASSERT_EQ(create_tx(a, 9, 10, tx_a), 0);
  EXPECT_EQ(connect_tx(tx_a, rx_datafeed(rx)), ERR_SM_BAD_PARAMETER);
  // A datafeed that was never taken with sm_channel_get_datafeed, and ids
  // of the wrong kind.
  EXPECT_EQ(connect_tx(tx_a, reinterpret_cast<tSMDatafeedId>(0x1234)), ERR_SM_BAD_PARAMETER);
  EXPECT_EQ(sm_tdmtx_destroy(reinterpret_cast<tSMTDMtxId>(rx)), ERR_SM_BAD_PARAMETER);
  EXPECT_EQ(sm_tdmrx_destroy(reinterpret_cast<tSMTDMrxId>(tx)), ERR_SM_BAD_PARAMETER);
  // Destroyed endpoints.
  const tSMDatafeedId stale = rx_datafeed(rx);
  EXPECT_EQ(sm_tdmrx_destroy(rx), 0);
  EXPECT_EQ(sm_tdmrx_destroy(rx), ERR_SM_BAD_PARAMETER);
  SM_TDMRX_DATAFEED_PARMS d{};
  d.tdmrx = rx;
  EXPECT_EQ(sm_tdmrx_get_datafeed(&d), ERR_SM_BAD_PARAMETER);
  EXPECT_EQ(connect_input(on_a, stale), ERR_SM_BAD_PARAMETER);
  EXPECT_EQ(sm_tdmtx_destroy(tx), 0);
  EXPECT_EQ(sm_tdmtx_destroy(tx_a), 0);
  EXPECT_EQ(sm_tdmtx_destroy(kSMNullTDMtxId), 0);
  EXPECT_EQ(sm_tdmrx_destroy(kSMNullTDMrxId), 0);

  // The conference went on throughout.
  run_stepped(pair.card, pair.parties, 140);
  expect_everyone_hears_everyone(pair.parties, 100 * kFrame, 100 * kFrame, "after the misuse", true);
  for (tSMTDMrxId r : pair.t.rx) EXPECT_EQ(stats_of(r).frames_concealed, 0u);
}

TEST(TdmBus, EveryEndpointOfATimeslotRunsAtOneRate) {
  prosody_sw_module_config_parms wide = stepped();
  wide.sample_rate = 16000;
  wide.module_ix = 2;
  ASSERT_EQ(prosody_sw_configure_module(&wide), 0);
  SM_OPEN_MODULE_PARMS open{};
  open.module_ix = 2;
  ASSERT_EQ(sm_open_module(&open), 0);
  Card card(1, stepped());
  tSMTDMtxId tx;
  tSMTDMrxId rx;
  ASSERT_EQ(create_tx(card.modules[0], 7, 7, tx), 0);
  EXPECT_EQ(create_rx(open.module_id, 7, 7, rx), ERR_SM_BAD_PARAMETER);
  ASSERT_EQ(create_rx(open.module_id, 7, 8, rx), 0) << "another timeslot is free to take its rate";
  EXPECT_EQ(sm_tdmrx_destroy(rx), 0);
  EXPECT_EQ(sm_tdmtx_destroy(tx), 0);
  SM_CLOSE_MODULE_PARMS close{};
  close.module_id = open.module_id;
  EXPECT_EQ(sm_close_module(&close), 0);
  wide = stepped();
  wide.module_ix = 2;
  EXPECT_EQ(prosody_sw_configure_module(&wide), 0);
}

// Fan-out, as the reference has it: a TDM[rx]'s datafeed feeds any number
// of inputs, a timeslot any number of TDM[rx]s, but a datafeed connected to
// several TDM[tx]s goes only to the last one connected.
TEST(TdmBus, FanOutAndTheLastTdmTxRule) {
  Card card(2, stepped());
  const tSMModuleId a = card.modules[0], b = card.modules[1];
  Topology t;  // for teardown
  auto alloc = [&](tSMModuleId m, kSMChannelType type) {
    t.channels.push_back(alloc_on(m, type));
    return t.channels.back();
  };
  // A talker on module a, its audio on the output of a conference holding
  // it.
  const tSMChannelId talker = alloc(a, kSMChannelTypeFullDuplex);
  const tSMChannelId out = conference_of(a, talker);
  t.channels.push_back(out);
  const tSMDatafeedId feed = datafeed_of(out);
  tSMTDMtxId first, last;
  ASSERT_EQ(create_tx(a, 3, 1, first), 0);
  ASSERT_EQ(create_tx(a, 3, 2, last), 0);
  t.tx = {first, last};
  ASSERT_EQ(connect_tx(first, feed), 0);
  ASSERT_EQ(connect_tx(last, feed), 0);
  // Two receivers of each timeslot, on module b, and one receiver's datafeed
  // into two inputs.
  std::vector<tSMChannelId> listeners;
  for (int ts : {1, 2}) {
    tSMTDMrxId rx1, rx2;
    ASSERT_EQ(create_rx(b, 3, ts, rx1), 0);
    ASSERT_EQ(create_rx(b, 3, ts, rx2), 0);
    t.rx.push_back(rx1);
    t.rx.push_back(rx2);
    for (tSMTDMrxId rx : {rx1, rx1, rx2}) {
      const tSMChannelId in = alloc(b, kSMChannelTypeInput);
      ASSERT_EQ(connect_input(in, rx_datafeed(rx)), 0);
      const tSMChannelId o = conference_of(b, in);
      t.channels.push_back(o);
      listeners.push_back(o);
    }
  }
  auto ea = engine_of(a), eb = engine_of(b);
  ASSERT_EQ(ea->enable_host_input(raw(talker), 64), Errc::ok);
  std::shared_ptr<ChannelIo> talker_io;
  ASSERT_EQ(ea->channel_io(raw(talker), talker_io), Errc::ok);
  std::vector<std::shared_ptr<ChannelIo>> ios(listeners.size());
  for (std::size_t i = 0; i < listeners.size(); ++i) {
    ASSERT_EQ(eb->enable_host_output(raw(listeners[i]), 64), Errc::ok);
    ASSERT_EQ(eb->channel_io(raw(listeners[i]), ios[i]), Errc::ok);
  }
  const std::vector<float> tone = testsig::sine(1000.0, -20.0, 50 * kFrame, kRate);
  std::size_t n = 0;
  ASSERT_EQ(talker_io->write_input(tone.data(), tone.size(), n), Errc::ok);
  std::vector<std::vector<float>> heard(listeners.size(), std::vector<float>(kFrame));
  std::vector<std::vector<float>> all(listeners.size());
  for (int f = 0; f < 50; ++f) {
    card.step_all();
    for (std::size_t i = 0; i < listeners.size(); ++i) {
      ASSERT_EQ(ios[i]->read_output(heard[i].data(), kFrame, n), Errc::ok);
      all[i].insert(all[i].end(), heard[i].begin(), heard[i].end());
    }
  }
  for (std::size_t i = 0; i < listeners.size(); ++i) {
    const double level = testsig::tone_level_dbm0(all[i].data() + 20 * kFrame, 30 * kFrame, 1000.0, kRate);
    if (i < 3)
      EXPECT_LT(level, -100.0) << "listener " << i << " of the first TDM[tx], which the datafeed left";
    else
      EXPECT_NEAR(level, -20.0, 0.1) << "listener " << i << " of the last TDM[tx]";
  }
  testmodels::teardown(t);
}

// A late sender: its receivers conceal the gap (fade, then silence), then
// start again with one frame of delay. A late receiver: beyond four frames
// queued it drops the oldest, so the delay stays bounded.
TEST(TdmBus, LateModulesConcealOrDropAndTheDelayStaysBounded) {
  Pair pair;
  Party& talker = pair.parties[0];
  Party& listener = pair.parties[1];
  const tSMModuleId a = pair.card.modules[0], b = pair.card.modules[1];
  const tSMTDMrxId rx_on_b = pair.t.rx[1];  // module 1 receives module 0
  std::vector<float> buf(kFrame);
  std::size_t n = 0;
  // The talker's noise runs throughout (no two frames alike, so the delay
  // can be read off); what the listener hears, frame by frame.
  const std::vector<float> tone = testsig::white_noise(-20.0, 400 * kFrame, 7);
  std::size_t said = 0;
  auto step = [&](bool step_a, bool step_b) {
    if (step_a) {
      ASSERT_EQ(talker.io->write_input(tone.data() + said, kFrame, n), Errc::ok);
      said += kFrame;
      ASSERT_EQ(prosody_sw_step(a, 1), 0);
      ASSERT_EQ(talker.io->read_output(buf.data(), kFrame, n), Errc::ok);
    }
    if (step_b) {
      ASSERT_EQ(prosody_sw_step(b, 1), 0);
      ASSERT_EQ(listener.io->read_output(buf.data(), kFrame, n), Errc::ok);
      listener.output.insert(listener.output.end(), buf.begin(), buf.begin() + long(n));
    }
  };
  for (int f = 0; f < 50; ++f) step(true, true);
  EXPECT_EQ(stats_of(rx_on_b).frames_concealed, 0u);
  // The sender stops for 20 frames.
  const std::size_t gap = listener.output.size() / kFrame;
  for (int f = 0; f < 20; ++f) step(false, true);
  EXPECT_GE(stats_of(rx_on_b).frames_concealed, 19u);
  // Fade, then silence: no stuck noise.
  const double last = testsig::level_dbm0(listener.output.data() + (gap + 15) * kFrame, 5 * kFrame);
  EXPECT_LT(last, -90.0) << "the end of the gap is silent";
  EXPECT_LT(testsig::level_dbm0(listener.output.data() + (gap + 2) * kFrame, kFrame),
            testsig::level_dbm0(listener.output.data() + (gap - 1) * kFrame, kFrame))
      << "it fades";
  for (int f = 0; f < 40; ++f) step(true, true);
  EXPECT_EQ(stats_of(rx_on_b).restarts, 2u);
  // The receiver stops for 10 frames while the sender goes on: frames pile
  // up, the oldest are dropped, and it plays on with its delay bounded.
  for (int f = 0; f < 10; ++f) step(true, false);
  for (int f = 0; f < 40; ++f) step(true, true);
  const auto s = stats_of(rx_on_b);
  EXPECT_EQ(s.samples_dropped, 10 * kFrame) << "12 frames queued when it came back: dropped to 2";
  EXPECT_EQ(s.restarts, 2u);
  // The delay now: what the listener hears is what the talker said, shifted
  // by whole frames; find the shift that matches.
  const std::size_t end = listener.output.size();
  const float* heard = listener.output.data() + end - 20 * kFrame;
  long best = -1;
  for (long lag = 0; lag <= 6 && best < 0; ++lag) {
    const float* said_then = tone.data() + said - 20 * kFrame - std::size_t(lag) * kFrame;
    if (testsig::snr_db(said_then, heard, 20 * kFrame) > 60.0) best = lag;
  }
  EXPECT_EQ(best, 1) << "frames of delay over the hop after the receiver caught up (as before it fell behind)";
}

// A module that closes mid-conference takes its TDM endpoints with it: the
// others lose only its parties, whose timeslot then carries silence (not
// concealment: nothing is missing, the sender has gone), and go on hearing
// each other.
TEST(TdmBus, AModuleThatClosesTakesOnlyItsPartiesAway) {
  Card card(3, stepped());
  Topology t;
  ASSERT_EQ(testmodels::build(Model::broadcast, card.modules, 1, kSMTimeslotTypeData, t), 0);
  std::vector<Party> parties = parties_of(t, 64);
  give_tones(parties, 200 * kFrame);
  run_stepped(card, parties, 60);
  expect_everyone_hears_everyone(parties, 20 * kFrame, 40 * kFrame, "before the close", true);
  // Module 2's sum reaches modules 0 and 1 through these (models.hpp: module
  // m receives the others in order).
  const std::vector<tSMTDMrxId> hearing_module_2 = {t.rx[1], t.rx[3]};
  const double gone_freq = parties[2].freq;
  card.close(2);
  parties.pop_back();
  run_stepped(card, parties, 100);
  for (std::size_t i = 0; i < 2; ++i) {
    const float* after = parties[i].output.data() + 65 * kFrame;  // from 5 frames after the close
    EXPECT_LT(testsig::tone_level_dbm0(after, 95 * kFrame, gone_freq, kRate), -100.0)
        << "party " << i << " still hears the closed module's party";
    EXPECT_NEAR(testsig::tone_level_dbm0(after, 95 * kFrame, parties[1 - i].freq, kRate), kLevel, 1.0)
        << "party " << i << " hearing the other that stayed";
  }
  for (tSMTDMrxId rx : hearing_module_2) EXPECT_EQ(stats_of(rx).frames_concealed, 0u);
  testmodels::teardown(t);  // (the closed module's handles are refused, and ignored)
}

// A connection that would let a sum come back where it came from is refused
// with ERR_SM_BAD_PARAMETER, whichever call would close it, and the
// conference carries on undisturbed.
TEST(TdmBus, ConnectionLoopsAreRefused) {
  Pair pair;
  give_tones(pair.parties, 200 * kFrame);
  run_stepped(pair.card, pair.parties, 60);
  const Topology& t = pair.t;
  const tSMModuleId a = pair.card.modules[0], b = pair.card.modules[1];
  const tSMChannelId remote_on_b = t.remote_inputs[1];  // module 1 hearing module 0

  // Module 1 sending what it hears of module 0 back: module 0's party
  // would hear itself.
  SM_CONF_PRIM_ADD_PARMS add{};
  add.channel = t.local_sums[1];
  add.participant = remote_on_b;
  EXPECT_EQ(sm_conf_prim_add(&add), ERR_SM_BAD_PARAMETER);
  // The same by a clone of a party's output (which holds the remote sum)...
  SM_CHANNEL_ALLOC_PLACED_PARMS alloc{};
  alloc.type = kSMChannelTypeFullDuplex;
  alloc.module = b;
  ASSERT_EQ(sm_channel_alloc_placed(&alloc), 0);
  const tSMChannelId spare = alloc.channel;
  SM_CONF_PRIM_CLONE_PARMS clone{};
  clone.channel = t.local_sums[1];
  clone.model = t.parties[1][0];
  EXPECT_EQ(sm_conf_prim_abort(t.local_sums[1]), 0);
  EXPECT_EQ(sm_conf_prim_clone(&clone), ERR_SM_BAD_PARAMETER);
  // (put module 1's local sum back as it was)
  SM_CONF_PRIM_START_PARMS start{};
  start.channel = t.local_sums[1];
  ASSERT_EQ(sm_conf_prim_start(&start), 0);
  add.participant = t.parties[1][0];
  ASSERT_EQ(sm_conf_prim_add(&add), 0);
  // ...and by a datafeed: an input already in module 1's local sum fed from
  // module 0's timeslot.
  add.participant = spare;
  ASSERT_EQ(sm_conf_prim_add(&add), 0);
  tSMTDMrxId rx;
  ASSERT_EQ(create_rx(b, 1, 0, rx), 0);
  EXPECT_EQ(connect_input(spare, rx_datafeed(rx)), ERR_SM_BAD_PARAMETER);
  // (the same calls where no sum comes back are fine)
  alloc.type = kSMChannelTypeInput;
  ASSERT_EQ(sm_channel_alloc_placed(&alloc), 0);
  EXPECT_EQ(connect_input(alloc.channel, rx_datafeed(rx)), 0);
  alloc.type = kSMChannelTypeOutput;
  ASSERT_EQ(sm_channel_alloc_placed(&alloc), 0);
  clone.channel = alloc.channel;
  EXPECT_EQ(sm_conf_prim_clone(&clone), 0);
  // A loop of endpoints with no party on it: module 0 forwards timeslot
  // 8/1 to 8/0 through a conference output, module 1 forwards 8/0 to 8/1.
  auto forward = [&](tSMModuleId m, int from_ts, int to_ts, int& rc_connect) {
    tSMTDMrxId in_rx;
    tSMTDMtxId out_tx;
    EXPECT_EQ(create_rx(m, 8, from_ts, in_rx), 0);
    EXPECT_EQ(create_tx(m, 8, to_ts, out_tx), 0);
    const tSMChannelId in = alloc_on(m, kSMChannelTypeInput);
    const tSMChannelId out = conference_of(m, in);
    EXPECT_EQ(connect_input(in, rx_datafeed(in_rx)), 0);
    rc_connect = connect_tx(out_tx, datafeed_of(out));
  };
  int first = -1, second = -1;
  forward(a, 1, 0, first);
  forward(b, 0, 1, second);
  EXPECT_EQ(first, 0) << "half a loop is a forward path";
  EXPECT_EQ(second, ERR_SM_BAD_PARAMETER) << "the connection that closes it is refused";

  // Nothing else was disturbed.
  run_stepped(pair.card, pair.parties, 140);
  expect_everyone_hears_everyone(pair.parties, 100 * kFrame, 100 * kFrame, "after the refused loops", true);
  // (the channels and endpoints made here go with the modules)
  EXPECT_EQ(sm_tdmrx_destroy(rx), 0);
}

}  // namespace
