// What the scale-out tests share: modules of card 0 opened for a test,
// parties of a model (tests/support/models.hpp) with their audio on host
// ports, lockstep stepping, and the hearing checks.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include "engine/engine.hpp"
#include "engine/registry.hpp"
#include "engine/tdm.hpp"
#include "models.hpp"
#include "prosody/prosody_sw.h"
#include "signal.hpp"

namespace scaleout {

using prosody::Errc;
using prosody::detail::ChannelIo;
using prosody::detail::Engine;
using testmodels::Model;
using testmodels::Topology;

constexpr double kRate = 8000.0;
constexpr std::size_t kFrame = 80;
constexpr int kPartiesPerModule = 4;
constexpr double kLevel = -24.0;  // each party's tone, dBm0

inline std::uintptr_t raw(const void* handle) { return reinterpret_cast<std::uintptr_t>(handle); }
inline std::shared_ptr<Engine> engine_of(tSMModuleId m) {
  std::uint32_t n = 0;
  if (!prosody::detail::decode_module(raw(m), n)) return nullptr;
  return prosody::detail::Registry::instance().find(n);
}
inline std::shared_ptr<Engine> engine_of(tSMChannelId c) {
  prosody::detail::ChannelKey key;
  if (!prosody::detail::decode_channel(raw(c), key)) return nullptr;
  return prosody::detail::Registry::instance().find(key.module);
}

// Modules 0..k-1 of card 0, open for one test.
class Card {
 public:
  Card(std::size_t k, prosody_sw_module_config_parms config = {}) {
    for (std::size_t i = 0; i < k; ++i) {
      config.module_ix = static_cast<tSM_UT32>(i);
      EXPECT_EQ(prosody_sw_configure_module(&config), 0);
      SM_OPEN_MODULE_PARMS open{};
      open.module_ix = static_cast<tSM_UT32>(i);
      EXPECT_EQ(sm_open_module(&open), 0);
      modules.push_back(open.module_id);
    }
  }
  ~Card() {
    for (tSMModuleId m : modules) {
      SM_CLOSE_MODULE_PARMS close{};
      close.module_id = m;
      sm_close_module(&close);
    }
  }
  // Closes module i mid-test; step_all no longer steps it.
  void close(std::size_t i) {
    SM_CLOSE_MODULE_PARMS close{};
    close.module_id = modules[i];
    EXPECT_EQ(sm_close_module(&close), 0);
    modules.erase(modules.begin() + long(i));
  }
  void step_all() {
    for (tSMModuleId m : modules) ASSERT_EQ(prosody_sw_step(m, 1), 0);
  }
  std::vector<tSMModuleId> modules;
};

inline prosody_sw_module_config_parms stepped() {
  prosody_sw_module_config_parms c{};
  c.drive_mode = kProsodySwDriveStepped;
  return c;
}

inline tSMDatafeedId datafeed_of(tSMChannelId channel) {
  SM_CHANNEL_DATAFEED_PARMS d{};
  d.channel = channel;
  EXPECT_EQ(sm_channel_get_datafeed(&d), 0);
  return d.datafeed;
}

inline tSMChannelId alloc_on(tSMModuleId module, kSMChannelType type) {
  SM_CHANNEL_ALLOC_PLACED_PARMS p{};
  p.type = type;
  p.module = module;
  EXPECT_EQ(sm_channel_alloc_placed(&p), 0);
  return p.channel;
}

// A new conference output on module with member as its one participant.
inline tSMChannelId conference_of(tSMModuleId module, tSMChannelId member) {
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

// A party's audio, through its channel's host ports.
struct Party {
  std::size_t module = 0;
  std::shared_ptr<ChannelIo> io;
  double freq = 0.0;
  std::vector<float> input;   // what it says
  std::vector<float> output;  // what it hears
};

inline std::vector<Party> parties_of(const Topology& t, std::size_t capacity_frames) {
  std::vector<Party> parties;
  for (std::size_t m = 0; m < t.parties.size(); ++m) {
    auto e = engine_of(t.modules[m]);
    for (tSMChannelId c : t.parties[m]) {
      Party p;
      p.module = m;
      p.freq = 350.0 + 190.0 * double(parties.size());
      EXPECT_EQ(e->enable_host_input(raw(c), capacity_frames), Errc::ok);
      EXPECT_EQ(e->enable_host_output(raw(c), capacity_frames), Errc::ok);
      EXPECT_EQ(e->channel_io(raw(c), p.io), Errc::ok);
      parties.push_back(std::move(p));
    }
  }
  return parties;
}

// One frame in lockstep, modules in order: every party's next frame in,
// every module stepped once, every party's frame out.
inline void step_once(Card& card, std::vector<Party>& parties) {
  std::vector<float> buf(kFrame);
  for (Party& p : parties) {
    const std::size_t at = p.output.size();
    for (std::size_t i = 0; i < kFrame; ++i) buf[i] = at + i < p.input.size() ? p.input[at + i] : 0.0f;
    std::size_t accepted = 0;
    ASSERT_EQ(p.io->write_input(buf.data(), kFrame, accepted), Errc::ok);
  }
  card.step_all();
  for (Party& p : parties) {
    std::size_t got = 0;
    ASSERT_EQ(p.io->read_output(buf.data(), kFrame, got), Errc::ok);
    ASSERT_EQ(got, kFrame);
    p.output.insert(p.output.end(), buf.begin(), buf.end());
  }
}

inline void run_stepped(Card& card, std::vector<Party>& parties, std::size_t frames) {
  for (std::size_t f = 0; f < frames; ++f) ASSERT_NO_FATAL_FAILURE(step_once(card, parties));
}

// The level at freq: the median over the windows of window_len samples of x
// that begin at starts.
inline double median_tone_level(const float* x, const std::vector<std::size_t>& starts, std::size_t window_len,
                                double freq) {
  std::vector<double> levels;
  for (std::size_t start : starts) levels.push_back(testsig::tone_level_dbm0(x + start, window_len, freq, kRate));
  std::sort(levels.begin(), levels.end());
  const std::size_t n = levels.size();
  return n % 2 ? levels[n / 2] : 0.5 * (levels[n / 2 - 1] + levels[n / 2]);
}

// The starts of `windows` equal windows covering [from, from + len).
inline std::vector<std::size_t> consecutive_windows(std::size_t from, std::size_t len, std::size_t windows) {
  std::vector<std::size_t> starts;
  for (std::size_t w = 0; w < windows; ++w) starts.push_back(from + w * (len / windows));
  return starts;
}

inline double median_tone_level(const float* x, std::size_t len, double freq, std::size_t windows) {
  return median_tone_level(x, consecutive_windows(0, len, windows), len / windows, freq);
}

// Every party hears every other at kLevel (within 1 dB), over the output
// windows of window_len samples that begin at starts; and, if own_by_tone, itself 60 dB down by the level at
// its own frequency. (Over G.711 timeslots that measure is not available:
// the quantisation's intermodulation products of the other fifteen tones
// land within a hertz of some party's own tone at about -52 dB; own voice
// is then shown bit-exact, OwnVoiceNeverComesBackBitExact.)
//
// Each level is the median over those windows (for real-time modules,
// several), so that a module descheduled for a moment on a loaded
// machine (the bus conceals the frames it missed, and the fades of that
// concealment spread the other tones' energy over the spectrum) does not
// pass for a wrong level or for own voice; a level wrong throughout, or own
// voice coming back, still fails.
inline void expect_everyone_hears_everyone(const std::vector<Party>& parties, const std::vector<std::size_t>& starts,
                                           std::size_t window_len, const char* what, bool own_by_tone) {
  ASSERT_FALSE(starts.empty()) << what << ": no window to measure";
  const std::size_t end = *std::max_element(starts.begin(), starts.end()) + window_len;
  for (std::size_t i = 0; i < parties.size(); ++i) {
    ASSERT_GE(parties[i].output.size(), end);
    const float* x = parties[i].output.data();
    for (std::size_t j = 0; j < parties.size(); ++j) {
      const double level = median_tone_level(x, starts, window_len, parties[j].freq);
      if (i != j) {
        EXPECT_NEAR(level, kLevel, 1.0) << what << ": party " << i << " hearing party " << j;
      } else if (own_by_tone) {
        EXPECT_LE(level, kLevel - 60.0) << what << ": party " << i << " hears itself";
      }
    }
  }
}

// As above, over `windows` equal windows covering output samples
// [from, from + len).
inline void expect_everyone_hears_everyone(const std::vector<Party>& parties, std::size_t from, std::size_t len,
                                           const char* what, bool own_by_tone, std::size_t windows = 1) {
  expect_everyone_hears_everyone(parties, consecutive_windows(from, len, windows), len / windows, what, own_by_tone);
}

inline void give_tones(std::vector<Party>& parties, std::size_t samples) {
  for (Party& p : parties) p.input = testsig::sine(p.freq, kLevel, samples, kRate);
}

// The first frame of x whose level exceeds -40 dBm0, or -1.
inline long onset_frame(const std::vector<float>& x) {
  for (std::size_t f = 0; f * kFrame + kFrame <= x.size(); ++f)
    if (testsig::level_dbm0(x.data() + f * kFrame, kFrame) > -40.0) return long(f);
  return -1;
}

struct ModelCase {
  Model model;
  std::size_t modules;
};

inline std::string case_name(const ::testing::TestParamInfo<ModelCase>& info) {
  return std::string(testmodels::name(info.param.model)) + std::to_string(info.param.modules) + "Modules";
}

}  // namespace scaleout
