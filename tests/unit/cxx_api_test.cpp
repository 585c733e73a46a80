// The C++ API's module, datafeed, replay and record calls, each checked by
// what it does to audio: shared modules by name, 5, 10 and 20 ms frames,
// datafeed connections and their one-frame hop, replay and record with their
// settings, statuses and limits.
#include <gtest/gtest.h>

#include <array>
#include <string>

#include "api_support.hpp"
#include "harness.hpp"

namespace prosody::test {
namespace {

// A listener output hearing one talker input (gating off, so nothing is
// cut), both on host ports.
struct Call {
  Channel talker, listener;
  explicit Call(Module& m)
      : talker(m.allocate(ChannelType::full_duplex)), listener(m.allocate(ChannelType::full_duplex)) {
    talker.enable_host_input();
    listener.enable_host_output();
    listener.conf_start();
    listener.conf_add(talker);
    talker.conf_set_gating(false);
  }
};

// ---------------------------------------------------------------------------
// Module::open_shared

TEST(SharedModules, TheSameNameIsOneModuleAndAnotherNameAnother) {
  Module a = Module::open_shared("cxx-api-test/one");
  Module b = Module::open_shared("cxx-api-test/one");
  Module other = Module::open_shared("cxx-api-test/two");
  EXPECT_TRUE(a == b);
  EXPECT_FALSE(a == other);
  // A talker allocated through one handle is heard on a listener allocated
  // through the other: they are channels of one module.
  Party talker, listener;
  talker.channel = a.allocate(ChannelType::full_duplex);
  listener.channel = b.allocate(ChannelType::full_duplex);
  for (Party* p : {&talker, &listener}) {
    p->channel.enable_host_input();
    p->channel.enable_host_output();
  }
  listener.channel.conf_start();
  listener.channel.conf_add(talker.channel);
  talker.channel.conf_set_gating(false);
  talker.input = testsig::sine(1000.0, -12.0, 8000, 8000.0);
  EXPECT_EQ(a.stats().channels, 2u);
  EXPECT_EQ(b.stats().channels, 2u);
  EXPECT_EQ(other.stats().channels, 0u);
  run(a, {&talker, &listener}, 100);
  EXPECT_EQ(b.stats().frames_processed, 100u) << "stepped through a, counted by b";
  EXPECT_NEAR(tone_db(listener.output, 1000.0, 8000.0, 4000, 4000), -12.0, 0.1);
  // The module of another name does not have them.
  Channel stranger = other.allocate(ChannelType::full_duplex);
  stranger.conf_start();
  EXPECT_EQ(code_of([&] { stranger.conf_add(talker.channel); }), Errc::bad_parameter)
      << "participant on another module";
}

TEST(SharedModules, AnExistingNameRefusesAnotherRateOrFrame) {
  ModuleConfig cfg;
  cfg.sample_rate = 16000;
  Module m = Module::open_shared("cxx-api-test/config", cfg);
  ModuleConfig rate = cfg;
  rate.sample_rate = 8000;
  EXPECT_EQ(code_of([&] { Module::open_shared("cxx-api-test/config", rate); }), Errc::bad_parameter);
  ModuleConfig frame = cfg;
  frame.frame_us = 20000;
  EXPECT_EQ(code_of([&] { Module::open_shared("cxx-api-test/config", frame); }), Errc::bad_parameter);
  EXPECT_TRUE(Module::open_shared("cxx-api-test/config", cfg) == m) << "the same configuration is the same module";
  EXPECT_EQ(m.sample_rate(), 16000u);
}

TEST(SharedModules, AModuleLivesWhileAHandleRefersToIt) {
  ModuleConfig narrow;
  ModuleConfig wide;
  wide.sample_rate = 48000;
  Channel kept;
  {
    Module m = Module::open_shared("cxx-api-test/lifetime", narrow);
    Module copy = m;
    m = Module();
    EXPECT_EQ(copy.stats().channels, 0u);
    kept = copy.allocate(ChannelType::full_duplex);
  }
  // No Module handle is left, but a channel of the module is: the module is
  // alive, so the name still means an 8 kHz module.
  EXPECT_EQ(code_of([&] { Module::open_shared("cxx-api-test/lifetime", wide); }), Errc::bad_parameter);
  Module again = Module::open_shared("cxx-api-test/lifetime", narrow);
  EXPECT_TRUE(again == kept.module());
  EXPECT_EQ(again.stats().channels, 1u);
  again = Module();
  kept = Channel();
  // The last handle has gone: the name is free for a new module.
  Module fresh = Module::open_shared("cxx-api-test/lifetime", wide);
  EXPECT_EQ(fresh.sample_rate(), 48000u);
  EXPECT_EQ(fresh.stats().channels, 0u);
}

// ---------------------------------------------------------------------------
// Frames of 5, 10 and 20 ms

// At every frame duration (and at 8 and 48 kHz): frame_samples is the
// frame's length; a conference carries a talker to a listener sample-exact
// with no added delay; a datafeed hop delays it by exactly one frame; the
// sample counter advances a frame per step.
TEST(FrameDurations, FrameSamplesCallAndDatafeedHopAtEveryDuration) {
  for (unsigned rate : {8000u, 48000u}) {
    for (unsigned frame_us : {5000u, 10000u, 20000u}) {
      SCOPED_TRACE(std::to_string(rate) + " Hz, " + std::to_string(frame_us) + " us");
      ModuleConfig cfg;
      cfg.sample_rate = rate;
      cfg.frame_us = frame_us;
      Module m = Module::create(cfg);
      const std::size_t n = m.frame_samples();
      ASSERT_EQ(n, std::size_t(rate) * frame_us / 1000000u);
      Call call(m);
      // A monitor whose input is the listener's output, through a datafeed.
      Channel hop = m.allocate(ChannelType::full_duplex);
      hop.connect_input(call.listener.datafeed());
      Channel monitor = m.allocate(ChannelType::full_duplex);
      monitor.enable_host_output();
      monitor.conf_start();
      monitor.conf_add(hop);
      hop.conf_set_gating(false);

      const std::size_t frames = 400000 / frame_us + 20;  // 0.4 s and a little
      const std::vector<float> said = testsig::sine(1000.0, -12.0, frames * n, double(rate), 0.4);
      std::vector<float> heard, relayed, buf(n);
      for (std::size_t f = 0; f < frames; ++f) {
        ASSERT_EQ(call.talker.write_input(Span<const float>(said.data() + f * n, n)), n);
        m.step(1);
        ASSERT_EQ(call.listener.read_output(Span<float>(buf.data(), n)), n);
        heard.insert(heard.end(), buf.begin(), buf.end());
        ASSERT_EQ(monitor.read_output(Span<float>(buf.data(), n)), n);
        relayed.insert(relayed.end(), buf.begin(), buf.end());
      }
      EXPECT_EQ(m.samples_processed(), frames * n);
      EXPECT_EQ(m.stats().frames_processed, frames);
      EXPECT_NEAR(tone_db(heard, 1000.0, rate, heard.size() / 2, heard.size() / 2), -12.0, 0.05);
      // Past the joins' ramps (the first two frames): exact, and delayed by
      // 0 samples in the call and by one frame after the hop.
      std::size_t call_mismatches = 0, hop_mismatches = 0;
      for (std::size_t i = 3 * n; i < said.size(); ++i) {
        call_mismatches += heard[i] != said[i];
        hop_mismatches += relayed[i] != said[i - n];
      }
      EXPECT_EQ(call_mismatches, 0u);
      EXPECT_EQ(hop_mismatches, 0u);
    }
  }
}

// ---------------------------------------------------------------------------
// Datafeeds: Channel::connect_input and disconnect_input

// A datafeed fans out: two inputs connected to one output both carry it, a
// frame late. After disconnect_input the input hears silence (exact zeros),
// the other connection goes on.
TEST(Datafeeds, ConnectedInputsCarryTheOutputAndADisconnectedOneHearsSilence) {
  Module m = Module::create({});
  const std::size_t n = m.frame_samples();
  Call call(m);
  const Datafeed feed = call.listener.datafeed();
  ASSERT_TRUE(bool(feed));
  std::array<Channel, 2> tap = {m.allocate(ChannelType::input), m.allocate(ChannelType::input)};
  std::array<Channel, 2> monitor = {m.allocate(ChannelType::output), m.allocate(ChannelType::output)};
  for (std::size_t k = 0; k < 2; ++k) {
    tap[k].connect_input(feed);
    monitor[k].enable_host_output();
    monitor[k].conf_start();
    monitor[k].conf_add(tap[k]);
    tap[k].conf_set_gating(false);
  }
  const std::size_t frames = 100, disconnect_at = 50;
  const std::vector<float> said = testsig::sine(700.0, -10.0, frames * n, 8000.0);
  std::array<std::vector<float>, 2> heard;
  std::vector<float> buf(n);
  for (std::size_t f = 0; f < frames; ++f) {
    if (f == disconnect_at) tap[0].disconnect_input();
    call.talker.write_input(Span<const float>(said.data() + f * n, n));
    m.step(1);
    for (std::size_t k = 0; k < 2; ++k) {
      ASSERT_EQ(monitor[k].read_output(Span<float>(buf.data(), n)), n);
      heard[k].insert(heard[k].end(), buf.begin(), buf.end());
    }
  }
  for (std::size_t k = 0; k < 2; ++k) {
    SCOPED_TRACE("tap " + std::to_string(k));
    std::size_t mismatches = 0;
    for (std::size_t i = 3 * n; i < disconnect_at * n; ++i) mismatches += heard[k][i] != said[i - n];
    EXPECT_EQ(mismatches, 0u) << "the output, one frame later";
  }
  // Disconnected from frame 50 on: its monitor hears exact silence.
  EXPECT_EQ(testsig::peak(heard[0].data() + disconnect_at * n, (frames - disconnect_at) * n), 0.0);
  EXPECT_NEAR(tone_db(heard[1], 700.0, 8000.0, (disconnect_at + 5) * n, 40 * n), -10.0, 0.05) << "still connected";
  EXPECT_EQ(code_of([&] { tap[1].connect_input(Datafeed{}); }), Errc::bad_parameter) << "an empty datafeed";
  EXPECT_EQ(code_of([&] { tap[1].datafeed(); }), Errc::wrong_channel_type) << "an input channel has no output datafeed";
}

// ---------------------------------------------------------------------------
// Replay and record

// Steps m frames times, reading `out`'s host output and the recording of
// `rec` after each frame.
void run_replay(Module& m, std::size_t frames, Channel& out, std::vector<float>& played, Channel& rec,
                std::vector<std::uint8_t>& recorded) {
  const std::size_t n = m.frame_samples();
  std::vector<float> buf(n);
  std::vector<std::uint8_t> bytes(4096);
  for (std::size_t f = 0; f < frames; ++f) {
    m.step(1);
    const std::size_t got = out.read_output(Span<float>(buf.data(), n));
    played.insert(played.end(), buf.begin(), buf.begin() + long(got));
    const std::size_t r = rec.record_get(Span<std::uint8_t>(bytes.data(), bytes.size()));
    recorded.insert(recorded.end(), bytes.begin(), bytes.begin() + long(r));
  }
}

// A linear replay of known length plays its data sample-exact, reports its
// states and offset, and frees the output when complete; a recording of a
// channel fed by that output holds the same samples one frame later.
TEST(CxxReplayRecord, ReplayPlaysItsDataAndARecordingHoldsIt) {
  Module m = Module::create({});
  const std::size_t n = m.frame_samples();
  Channel phone = m.allocate(ChannelType::output);
  phone.enable_host_output();
  Channel recorder = m.allocate(ChannelType::input);
  recorder.connect_input(phone.datafeed());
  EXPECT_EQ(code_of([&] { phone.replay_put(Span<const std::uint8_t>()); }), Errc::no_replay_in_progress);
  EXPECT_EQ(code_of([&] { recorder.record_status(); }), Errc::no_record_in_progress);

  const std::vector<std::int16_t> pcm = testsig::to_int16(testsig::sine(700.0, -12.0, 8000, 8000.0));
  const std::vector<std::uint8_t> data = pcm_bytes(pcm);
  ReplaySettings rs;
  rs.data_length = data.size();
  phone.replay_start(rs);
  EXPECT_EQ(code_of([&] { phone.replay_start(rs); }), Errc::wrong_channel_state) << "output busy";
  phone.replay_put(Span<const std::uint8_t>(data.data(), data.size() / 2));
  EXPECT_EQ(phone.replay_status().state, ReplayState::has_capacity);
  phone.replay_put(Span<const std::uint8_t>(data.data() + data.size() / 2, data.size() / 2));
  RecordSettings rec;
  recorder.record_start(rec);
  EXPECT_EQ(recorder.record_status().state, RecordState::no_data);

  std::vector<float> played;
  std::vector<std::uint8_t> recorded;
  run_replay(m, 50, phone, played, recorder, recorded);
  ReplayStatus st = phone.replay_status();
  EXPECT_EQ(st.state, ReplayState::has_capacity);
  EXPECT_EQ(st.offset, 50u * n * 2) << "bytes played";
  run_replay(m, 51, phone, played, recorder, recorded);
  st = phone.replay_status();
  EXPECT_EQ(st.state, ReplayState::complete);
  EXPECT_EQ(st.offset, data.size());
  EXPECT_EQ(code_of([&] { phone.replay_status(); }), Errc::no_replay_in_progress) << "complete ends the job";
  phone.conf_start();  // the output half is free again

  ASSERT_GE(played.size(), pcm.size());
  std::vector<float> expected(pcm.size());
  s16_to_float(pcm.data(), expected.data(), pcm.size());
  std::size_t replay_mismatches = 0;
  for (std::size_t i = 0; i < pcm.size(); ++i) replay_mismatches += played[i] != expected[i];
  EXPECT_EQ(replay_mismatches, 0u);
  EXPECT_EQ(testsig::peak(played.data() + pcm.size(), played.size() - pcm.size()), 0.0) << "silence after the end";

  EXPECT_EQ(recorder.record_status().state, RecordState::no_data) << "everything was read";
  const std::vector<std::int16_t> heard = pcm_samples(recorded);
  ASSERT_EQ(heard.size(), 101u * n);
  std::size_t record_mismatches = 0;
  for (std::size_t i = 0; i < n; ++i) record_mismatches += heard[i] != 0;
  for (std::size_t i = 0; i < pcm.size(); ++i) record_mismatches += heard[i + n] != pcm[i];
  EXPECT_EQ(record_mismatches, 0u) << "the replay, one frame later (the datafeed hop)";
  recorder.record_abort(true);
  const RecordStatus rs_end = recorder.record_status();
  EXPECT_EQ(rs_end.state, RecordState::complete);
  EXPECT_EQ(rs_end.termination, RecordTermination::aborted);
}

// replay_put takes a buffer whole or not at all; finish() marks the end of a
// replay of unknown length, which completes once drained; abort reports the
// bytes played.
TEST(CxxReplayRecord, ReplayOfUnknownLengthPutsWholeBuffersAndEndsWhenDrained) {
  Module m = Module::create({});
  Channel phone = m.allocate(ChannelType::output);
  phone.replay_start({});
  // Fill it: every put is whole until one does not fit.
  const std::vector<std::uint8_t> chunk(2000, 0x10);
  std::size_t put = 0;
  for (;;) {
    const Errc e = code_of([&] { phone.replay_put(chunk); });
    if (e == Errc::no_capacity) break;
    ASSERT_EQ(e, Errc::ok);
    put += chunk.size();
    ASSERT_LT(put, 1000000u);
  }
  EXPECT_EQ(phone.replay_status().state, ReplayState::no_capacity);
  // Played to the last byte put, then starved: an underrun, reported in the
  // frame the data ran out (a refused buffer left nothing behind).
  const std::size_t frame_bytes = 2 * m.frame_samples();
  std::size_t frames = 0;
  while (phone.replay_status().state != ReplayState::underrun) {
    m.step(1);
    ASSERT_LE(++frames, put / frame_bytes + 2);
  }
  EXPECT_EQ(frames, put / frame_bytes + 1) << "the first frame short of data";
  EXPECT_EQ(phone.replay_status().offset, put);
  // The end of the data: the last buffer.
  phone.replay_put(Span<const std::uint8_t>(chunk.data(), 320), true);
  EXPECT_EQ(phone.replay_status().state, ReplayState::complete_data);
  EXPECT_EQ(code_of([&] { phone.replay_put(chunk); }), Errc::wrong_channel_state) << "nothing after the last buffer";
  m.step(2);
  EXPECT_EQ(phone.replay_status().state, ReplayState::complete);
  // Abort of a running replay: the bytes played so far.
  phone.replay_start({});
  phone.replay_put(Span<const std::uint8_t>(chunk.data(), 1600));
  m.step(3);
  EXPECT_EQ(phone.replay_abort(), 3u * 160u);
}

// Replay volume, and a background output mixed under the replay; the
// recording of an output (alt_output) and of another channel's input
// (alt_input) add no delay; record volume scales and max_octets ends it.
TEST(CxxReplayRecord, ReplaySettingsAndRecordSources) {
  Module m = Module::create({});
  const std::size_t n = m.frame_samples();
  Call call(m);  // the background: a conference output carrying a talker
  Channel phone = m.allocate(ChannelType::output);
  phone.datafeed();  // referenced, so its output can be recorded
  ReplaySettings rs;
  rs.volume_db = -6;
  rs.background = call.listener.id();
  phone.replay_start(rs);
  const std::vector<std::uint8_t> music = pcm_bytes(testsig::to_int16(testsig::sine(1200.0, -10.0, 8000, 8000.0)));
  phone.replay_put(music);

  Channel out_rec = m.allocate(ChannelType::input), in_rec = m.allocate(ChannelType::input);
  RecordSettings from_output;
  from_output.source = RecordSource::alt_output;
  from_output.alt_source = phone.id();
  out_rec.record_start(from_output);
  RecordSettings from_input;
  from_input.source = RecordSource::alt_input;
  from_input.alt_source = call.talker.id();
  from_input.volume_db = 6;
  from_input.max_octets = 6000;
  in_rec.record_start(from_input);

  const std::vector<float> said = testsig::sine(500.0, -20.0, 8000, 8000.0);
  std::vector<std::uint8_t> of_output, of_input, bytes(4096);
  for (std::size_t f = 0; f < 90; ++f) {
    call.talker.write_input(Span<const float>(said.data() + f * n, n));
    m.step(1);
    std::vector<float> discard(n);
    call.listener.read_output(Span<float>(discard.data(), n));
    std::size_t got = out_rec.record_get(bytes);
    of_output.insert(of_output.end(), bytes.begin(), bytes.begin() + long(got));
    got = in_rec.record_get(bytes);
    of_input.insert(of_input.end(), bytes.begin(), bytes.begin() + long(got));
  }
  const std::vector<float> y = testsig::to_float(pcm_samples(of_output));
  ASSERT_EQ(y.size(), 90u * n);
  EXPECT_NEAR(tone_db(y, 1200.0, 8000.0, 2000, 4000), -16.0, 0.1) << "replay at -6 dB";
  EXPECT_NEAR(tone_db(y, 500.0, 8000.0, 2000, 4000), -20.0, 0.1) << "the background under it";

  const RecordStatus ended = in_rec.record_status();
  EXPECT_EQ(ended.termination, RecordTermination::length);
  EXPECT_EQ(ended.termination_octets, 6000u);
  const std::vector<std::int16_t> x = pcm_samples(of_input);
  ASSERT_EQ(x.size(), 3000u) << "max_octets";
  // The talker's input, +6 dB, in the same frame it was said.
  std::vector<float> louder(said.begin(), said.begin() + 3000);
  for (float& v : louder) v *= 1.9952623f;
  const std::vector<std::int16_t> expected = testsig::to_int16(louder);
  std::size_t off_by_more_than_one = 0;
  for (std::size_t i = n; i < x.size(); ++i) off_by_more_than_one += std::abs(int(x[i]) - int(expected[i])) > 1;
  EXPECT_EQ(off_by_more_than_one, 0u);
  EXPECT_NEAR(testsig::level_dbm0(testsig::to_float(x)), -14.0, 0.1);
}

}  // namespace
}  // namespace prosody::test
