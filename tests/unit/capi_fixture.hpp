// C API tests on modules of card 0: opening one with a chosen drive mode,
// and a fixture holding a stepped module for one test.
#pragma once

#include <gtest/gtest.h>

#include "prosody/prosody_sw.h"
#include "prosody/smdrvr.h"

namespace prosody::test {

// Configures module ix of card 0 and opens it (null on failure).
inline tSMModuleId open_card_module(unsigned ix, enum kProsodySwDriveMode mode) {
  PROSODY_SW_MODULE_CONFIG_PARMS cfg{};
  cfg.module_ix = ix;
  cfg.drive_mode = mode;
  EXPECT_EQ(prosody_sw_configure_module(&cfg), 0);
  SM_OPEN_MODULE_PARMS open{};
  open.card_id = 0;
  open.module_ix = ix;
  EXPECT_EQ(sm_open_module(&open), 0);
  return open.module_id;
}

inline void close_card_module(tSMModuleId module) {
  SM_CLOSE_MODULE_PARMS close{};
  close.module_id = module;
  EXPECT_EQ(sm_close_module(&close), 0);
}

// An event of type bound to channel with binding, as applications do:
// smd_ev_create, then sm_channel_set_event with the same arguments.
inline tSMEventId bind_channel_event(tSMChannelId channel, int type, int binding) {
  tSMEventId ev{};
  EXPECT_EQ(smd_ev_create(&ev, channel, type, binding), 0);
  SM_CHANNEL_SET_EVENT_PARMS se{};
  se.channel = channel;
  se.event_type = type;
  se.issue_events = binding;
  se.event = ev;
  EXPECT_EQ(sm_channel_set_event(&se), 0);
  return ev;
}

// A stepped module ModuleIx of card 0, opened for one test and closed after it.
template <unsigned ModuleIx>
class CardModuleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    module = open_card_module(ModuleIx, kProsodySwDriveStepped);
    ASSERT_NE(module, kSMNullModuleId);
  }
  void TearDown() override { close_card_module(module); }
  tSMChannelId alloc(enum kSMChannelType type = kSMChannelTypeFullDuplex) {
    SM_CHANNEL_ALLOC_PLACED_PARMS p{};
    p.type = type;
    p.module = module;
    EXPECT_EQ(sm_channel_alloc_placed(&p), 0);
    return p.channel;
  }
  void step(unsigned frames) { ASSERT_EQ(prosody_sw_step(module, frames), 0); }
  tSMModuleId module = kSMNullModuleId;
};

}  // namespace prosody::test
