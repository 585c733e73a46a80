// link_names.cpp - the decorated link names of Aculab's headers.
//
// Unless TiNG_USE_UNDECORATED_NAMES is defined, Aculab's generated headers
// #define each call to a link symbol that encodes its struct layout (e.g.
// sm_put_replay_data -> sm_put_replay_data_iPsCtPci_), so an object compiled
// against them references that symbol. Our headers declare the plain names;
// these forwarders let such objects link too. Only the names the reference
// publishes are here (docs/porting.md lists them); the encoding of the
// others is not known for certain, so they are not guessed.
#include "capi/capi.hpp"
#include "prosody/smhlib.h"

// Defines decorated as a forwarder to plain, taking plain's one argument.
#define PROSODY_LINK_NAME(decorated, plain, arg_type) \
  int decorated(arg_type a);                          \
  int decorated(arg_type a) { return plain(a); }

extern "C" {

PROSODY_LINK_NAME(sm_put_replay_data_iPsCtPci_, sm_put_replay_data, struct sm_ts_data_parms*)
PROSODY_LINK_NAME(sm_add_output_freq_iPsMtddi_, sm_add_output_freq, struct sm_output_freq_parms*)
PROSODY_LINK_NAME(sm_add_output_tone_iPsMtiii_, sm_add_output_tone, struct sm_output_tone_parms*)
PROSODY_LINK_NAME(sm_play_tone_iPsCtUiii_, sm_play_tone, struct sm_play_tone_parms*)
PROSODY_LINK_NAME(sm_play_tone_status_iPsCte1_2__, sm_play_tone_status, struct sm_play_tone_status_parms*)
PROSODY_LINK_NAME(sm_play_tone_abort_iCt, sm_play_tone_abort, tSMChannelId)
PROSODY_LINK_NAME(sm_play_cptone_iPsCtUiie1_3_isiii_r8_, sm_play_cptone, struct sm_play_cptone_parms*)
PROSODY_LINK_NAME(sm_play_digits_iPsCtise1_1_icr33ii__, sm_play_digits, struct sm_play_digits_parms*)
PROSODY_LINK_NAME(sm_play_digits_status_iPsCte1_2__, sm_play_digits_status, struct sm_play_digits_status_parms*)
PROSODY_LINK_NAME(sm_play_tone_list_iPsCtPse1_3_Uidddd_i_, sm_play_tone_list, struct sm_play_tone_list_parms*)
PROSODY_LINK_NAME(sm_add_input_freq_coeffs_iPsMtddi_, sm_add_input_freq_coeffs, struct sm_input_freq_coeffs_parms*)
PROSODY_LINK_NAME(sm_add_input_tone_set_iPsMtiiiiddddi_, sm_add_input_tone_set, struct sm_input_tone_set_parms*)
PROSODY_LINK_NAME(sm_adjust_input_tone_set_iPsMtie1_8_udi__, sm_adjust_input_tone_set, struct sm_adjust_tone_set_parms*)
PROSODY_LINK_NAME(sm_add_input_cptone_iPsMtisiii_r16i_, sm_add_input_cptone, struct sm_input_cptone_parms*)
PROSODY_LINK_NAME(sm_reset_input_cptones_iPsMti_, sm_reset_input_cptones, struct sm_reset_input_cptones_parms*)
PROSODY_LINK_NAME(sm_record_agc_adjust_iPsCti_, sm_record_agc_adjust, struct sm_record_agc_adjust_parms*)
PROSODY_LINK_NAME(sm_record_agc_adjust_settings_iPsCtff_, sm_record_agc_adjust_settings,
                  struct sm_record_agc_adjust_settings_parms*)
PROSODY_LINK_NAME(sm_replay_file_start_iPsOFtUiRPtiUiiicr2048_, sm_replay_file_start, struct sm_file_replay_parms*)
PROSODY_LINK_NAME(sm_record_file_start_iPsOFtRCtiUiicr2048_, sm_record_file_start, struct sm_file_record_parms*)

}  // extern "C"
