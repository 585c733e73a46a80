/*
 * aculab_link.c - an object compiled as against Aculab's own headers must
 * link with libprosody and run.
 *
 * Aculab's generated headers #define each call to a decorated link symbol
 * (unless TiNG_USE_UNDECORATED_NAMES is defined) before declaring it, so
 * the object references the decorated names; res_lib.h maps acu_open_card
 * to acu_open_card_65; smclib.h declares smConfError and smConfErrno as
 * plain globals. This file does the same with the names the reference
 * publishes, then includes our headers (whose declarations then declare the
 * decorated names), and calls them. It checks that the mapping took effect
 * (a call's name as the preprocessor sees it) and that each call works.
 */

/* The mapping, as Aculab's headers make it. */
#define sm_put_replay_data sm_put_replay_data_iPsCtPci_
#define sm_add_output_freq sm_add_output_freq_iPsMtddi_
#define sm_add_output_tone sm_add_output_tone_iPsMtiii_
#define sm_play_tone sm_play_tone_iPsCtUiii_
#define sm_play_tone_status sm_play_tone_status_iPsCte1_2__
#define sm_play_tone_abort sm_play_tone_abort_iCt
#define sm_play_cptone sm_play_cptone_iPsCtUiie1_3_isiii_r8_
#define sm_play_digits sm_play_digits_iPsCtise1_1_icr33ii__
#define sm_play_digits_status sm_play_digits_status_iPsCte1_2__
#define sm_play_tone_list sm_play_tone_list_iPsCtPse1_3_Uidddd_i_
#define sm_add_input_freq_coeffs sm_add_input_freq_coeffs_iPsMtddi_
#define sm_add_input_tone_set sm_add_input_tone_set_iPsMtiiiiddddi_
#define sm_adjust_input_tone_set sm_adjust_input_tone_set_iPsMtie1_8_udi__
#define sm_add_input_cptone sm_add_input_cptone_iPsMtisiii_r16i_
#define sm_reset_input_cptones sm_reset_input_cptones_iPsMti_
#define sm_record_agc_adjust sm_record_agc_adjust_iPsCti_

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "res_lib.h"
#include "smbesp.h"
#include "smclib.h"
#include "smdrvr.h"

/* As Aculab's smclib.h declares them: plain globals, no thread storage. */
extern char* smConfError;
extern int smConfErrno;

#define STR2(x) #x
#define STR(x) STR2(x)

static int failures = 0;

static void expect(int ok, const char* what) {
  printf("%-60s %s\n", what, ok ? "ok" : "FAIL");
  failures += !ok;
}

int main(void) {
  ACU_OPEN_CARD_PARMS card;
  SM_OPEN_MODULE_PARMS open;
  SM_CHANNEL_ALLOC_PLACED_PARMS alloc;
  SM_OUTPUT_FREQ_PARMS freq;
  SM_OUTPUT_TONE_PARMS tone;
  SM_PLAY_TONE_PARMS play;
  SM_PLAY_TONE_STATUS_PARMS status;
  SM_PLAY_DIGITS_PARMS digits;
  SM_PLAY_DIGITS_STATUS_PARMS digits_status;
  SM_CONFERENCE_ADD_PARTY_PARMS add;
  tSMConference conf;
  int i;

  expect(strcmp(STR(sm_play_tone), "sm_play_tone_iPsCtUiii_") == 0, "calls are made by their decorated names");
  expect(strcmp(STR(acu_open_card), "acu_open_card_65") == 0, "acu_open_card is acu_open_card_65");

  INIT_ACU_STRUCT(&card);
  expect(acu_open_card(&card) == 0 && card.card_id == 0, "acu_open_card_65 opens the software card");
  memset(&open, 0, sizeof open);
  open.card_id = (tSMCardId)card.card_id;
  expect(sm_open_module(&open) == 0, "sm_open_module");
  memset(&alloc, 0, sizeof alloc);
  alloc.type = kSMChannelTypeOutput;
  alloc.module = open.module_id;
  expect(sm_channel_alloc_placed(&alloc) == 0, "sm_channel_alloc_placed");

  memset(&freq, 0, sizeof freq);
  freq.module = open.module_id;
  freq.freq = 1000.0;
  freq.amplitude = -10.0;
  expect(sm_add_output_freq(&freq) == 0 && freq.id == 26, "sm_add_output_freq_iPsMtddi_");
  memset(&tone, 0, sizeof tone);
  tone.module = open.module_id;
  tone.component1_id = freq.id;
  expect(sm_add_output_tone(&tone) == 0 && tone.id == 22, "sm_add_output_tone_iPsMtiii_");
  memset(&play, 0, sizeof play);
  play.channel = alloc.channel;
  play.tone_id = tone.id;
  expect(sm_play_tone(&play) == 0, "sm_play_tone_iPsCtUiii_");
  memset(&status, 0, sizeof status);
  status.channel = alloc.channel;
  expect(sm_play_tone_status(&status) == 0 && status.status == kSMPlayToneStatusOngoing,
         "sm_play_tone_status_iPsCte1_2__: ongoing");
  expect(sm_play_tone_abort(alloc.channel) == 0, "sm_play_tone_abort_iCt");
  for (i = 0; i < 100 && status.status != kSMPlayToneStatusComplete; ++i) {
    usleep(10000);
    if (sm_play_tone_status(&status) != 0) break;
  }
  expect(status.status == kSMPlayToneStatusComplete, "aborted tone completes");

  memset(&digits, 0, sizeof digits);
  digits.channel = alloc.channel;
  digits.wait_for_completion = 1;
  strcpy(digits.digits.digit_string, "42");
  digits.digits.digit_duration = 40;
  digits.digits.inter_digit_delay = 40;
  expect(sm_play_digits(&digits) == 0, "sm_play_digits_iPsCtise1_1_icr33ii__ (waits)");
  memset(&digits_status, 0, sizeof digits_status);
  digits_status.channel = alloc.channel;
  expect(sm_play_digits_status(&digits_status) == ERR_SM_WRONG_CHANNEL_STATE,
         "sm_play_digits_status_iPsCte1_2__: nothing left to report");

  { /* The input tone tables, by their decorated names too. */
    SM_INPUT_FREQ_COEFFS_PARMS coeffs;
    SM_INPUT_TONE_SET_PARMS set;
    SM_ADJUST_TONE_SET_PARMS adjust;
    SM_RESET_INPUT_CPTONES_PARMS reset;
    SM_INPUT_CPTONE_PARMS cptone;
    memset(&coeffs, 0, sizeof coeffs);
    coeffs.module = open.module_id;
    coeffs.lower_limit = 2380.0;
    coeffs.upper_limit = 2420.0;
    expect(sm_add_input_freq_coeffs(&coeffs) == 0 && coeffs.id == 15, "sm_add_input_freq_coeffs_iPsMtddi_");
    memset(&set, 0, sizeof set);
    set.module = open.module_id;
    set.band1_first_freq_coeffs_id = coeffs.id;
    set.band1_freq_count = 1;
    set.req_third_peak = 0.1;
    set.req_signal_to_noise_ratio = 0.5;
    set.req_minimum_power = -36.0;
    expect(sm_add_input_tone_set(&set) == 0 && set.id == 2, "sm_add_input_tone_set_iPsMtiiiiddddi_");
    memset(&adjust, 0, sizeof adjust);
    adjust.module = open.module_id;
    adjust.tone_set_id = set.id;
    adjust.parameter_id = kAdjustToneSetFPParamIdMinPower;
    adjust.parameter_value.fp_value = -30.0;
    expect(sm_adjust_input_tone_set(&adjust) == 0, "sm_adjust_input_tone_set_iPsMtie1_8_udi__");
    memset(&reset, 0, sizeof reset);
    reset.module = open.module_id;
    reset.tone_set_id = set.id;
    expect(sm_reset_input_cptones(&reset) == 0, "sm_reset_input_cptones_iPsMti_");
    memset(&cptone, 0, sizeof cptone);
    cptone.module = open.module_id;
    cptone.id = 42;
    cptone.state_count = 1;
    cptone.states[0].freq_id = 1;
    cptone.states[0].minimum_cadence = 100;
    cptone.states[0].maximum_cadence = 200;
    expect(sm_add_input_cptone(&cptone) == 0, "sm_add_input_cptone_iPsMtisiii_r16i_");
  }

  {
    SM_RECORD_AGC_ADJUST_PARMS agc;
    memset(&agc, 0, sizeof agc);
    agc.channel = alloc.channel; /* an output: no recording on it */
    expect(sm_record_agc_adjust(&agc) == ERR_SM_NO_RECORD_IN_PROGRESS,
           "sm_record_agc_adjust_iPsCti_: no recording (ERR_SM_NO_RECORD_IN_PROGRESS)");
  }

  /* smConfError / smConfErrno as plain globals. */
  conf = sm_conference_create();
  memset(&add, 0, sizeof add);
  add.conf = conf;
  add.channelIn = alloc.channel; /* an output-only channel cannot be a party */
  add.channelOut = alloc.channel;
  expect(sm_conference_add_party(&add) != 0, "sm_conference_add_party fails for an output-only party");
  expect(smConfErrno != 0 && smConfError != NULL && smConfError[0] != '\0', "smConfErrno and smConfError are set");
  printf("  smConfErrno %d, smConfError \"%s\"\n", smConfErrno, smConfError ? smConfError : "(null)");
  sm_conference_delete(conf);

  {
    SM_CLOSE_MODULE_PARMS close;
    memset(&close, 0, sizeof close);
    close.module_id = open.module_id;
    expect(sm_close_module(&close) == 0, "sm_close_module");
  }
  printf("%s\n", failures ? "FAILED" : "an object built with Aculab's link names links and runs");
  return failures ? 1 : 0;
}
