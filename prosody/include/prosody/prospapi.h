/*
 * prospapi.h - Prosody speech-processing API: replay, record, recognition
 * and the low-level conferencing primitives. Declarations follow Aculab's
 * TiNG prospapi.h; enums are declared at file scope (header layout) so the
 * file is C++-compatible.
 */
#ifndef PROSODY_PROSPAPI_H
#define PROSODY_PROSPAPI_H

#include "smtypes.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Data formats ------------------------------------------------------ */

enum kSMDataFormat {
    kSMDataFormatNone=0,
    kSMDataFormatALawPCM=30,
    kSMDataFormatULawPCM=31,
    kSMDataFormatOKIADPCM=32,
    kSMDataFormatACUBLKPCM=33,
    kSMDataFormat16bit=34,
    kSMDataFormat8bit=35,
    kSMDataFormatSigned8bit=36,
    kSMDataFormatIMAADPCM=17,
    kSMDataFormatSpeex=37,
};

/* Legacy "format plus rate" codes (8 kHz). */
#define kSMDataFormat8KHzPCM ((enum kSMDataFormat) 1)
#define kSMDataFormat8KHzOKIADPCM ((enum kSMDataFormat) 2)
#define kSMDataFormat8KHzACUBLKPCM ((enum kSMDataFormat) 3)
#define kSMDataFormat8KHzULawPCM ((enum kSMDataFormat) 7)
#define kSMDataFormat8KHzALawPCM ((enum kSMDataFormat) 8)
#define kSMDataFormat8KHz16bitMono ((enum kSMDataFormat) 14)
#define kSMDataFormat8KHz8bitMono ((enum kSMDataFormat) 15)
#define kSMDataFormat8KHzSigned8bitMono ((enum kSMDataFormat) 20)

/* ---- Tone detection and recognition ------------------------------------ */

enum kSMToneDetection {
    kSMToneDetectionNone,
    kSMToneDetectionNoMinDuration,
    kSMToneDetectionMinDuration64,
    kSMToneDetectionMinDuration40,
    kSMToneEndDetectionNoMinDuration,
    kSMToneEndDetectionMinDuration64,
    kSMToneEndDetectionMinDuration40,
    kSMToneLenDetectionNoMinDuration,
    kSMToneLenDetectionMinDuration64,
    kSMToneLenDetectionMinDuration40,
    kSMToneDetectionAsListenFor,
};

enum kSMDigitMapping {
    kSMNoDigitMapping,
    kSMDTMFToneSetDigitMapping,
};

typedef struct sm_listen_for_parms {
    tSMChannelId channel;                           /* in */
    enum kSMToneDetection tone_detection_mode;      /* in */
    tSM_INT active_tone_set_id;                     /* in */
    enum kSMDigitMapping map_tones_to_digits;       /* in */
    tSM_INT enable_cptone_recognition;              /* in */
    tSM_INT enable_grunt_detection;                 /* in */
    tSM_INT grunt_latency;                          /* in */
    double min_noise_level;                         /* in */
    double grunt_threshold;                         /* in */
    tSM_UT32 grunt_holdoff;                         /* in */
} SM_LISTEN_FOR_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_listen_for(struct sm_listen_for_parms *listenp);

enum kSMRecognition {
    kSMRecognisedNothing,
    kSMRecognisedTrainingDigit,
    kSMRecognisedDigit,
    kSMRecognisedTone,
    kSMRecognisedCPTone,
    kSMRecognisedGruntStart,
    kSMRecognisedGruntEnd,
    kSMRecognisedASRResult,
    kSMRecognisedASRUncertain,
    kSMRecognisedASRRejected,
    kSMRecognisedASRTimeout,
    kSMRecognisedCatSig,
    kSMRecognisedOverrun,
    kSMRecognisedANS,
    kSMRecognisedBeep,
    kSMRecognisedOnHook,
};

typedef struct sm_recognised_parms {
    tSMChannelId channel;                           /* inout */
    enum kSMRecognition type;                       /* out */
    tSM_INT param0;                                 /* out */
    tSM_INT param1;                                 /* out */
} SM_RECOGNISED_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_get_recognised(struct sm_recognised_parms *recogp);

/* Modem answer tones and answering-machine beeps. The reference names these
 * calls and their kSMRecognised types but not their parameter structs: these
 * structs, and the meanings of param0/param1, are this library's own
 * (docs/porting.md). Each call sets only its own detector; sm_listen_for
 * leaves both as they are. */
typedef struct sm_ans_listen_for_parms {
    tSMChannelId channel;                           /* in */
    tSM_INT enable;                                 /* in: non-zero listens */
} SM_ANS_LISTEN_FOR_PARMS;

/* kSMRecognisedANS: param0 one of these, param1 the ms from the tone's
 * onset to the report (about 520). */
enum kSMANSType {
    kSMANSTypeANS = 1,          /* V.25 ANS, or a fax CED: 2100 Hz */
    kSMANSTypeANSPhaseRev,      /* V.25 /ANS: phase reversals every 450 ms */
    kSMANSTypeANSam,            /* V.8 ANSam: 15 Hz amplitude modulation */
    kSMANSTypeANSamPhaseRev,    /* V.8 /ANSam */
};

ACUAPI int ACUTiNG_WINAPI sm_ans_listen_for(struct sm_ans_listen_for_parms *ansp);

/* kSMRecognisedBeep, at the beep's end: param0 its frequency in Hz, param1
 * its duration in ms. */
typedef struct sm_beep_listen_for_parms {
    tSMChannelId channel;                           /* in */
    tSM_INT enable;                                 /* in: non-zero listens */
} SM_BEEP_LISTEN_FOR_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_beep_listen_for(struct sm_beep_listen_for_parms *beepp);

/* Signal categorisation, as Aculab declares it: is the answer a live
 * speaker or a machine? One kSMRecognisedCatSig per start: param1 0 for a
 * machine, 1 for a live speaker; param0 (ours) what decided, 0 speech,
 * 1 a beep, 2 a modem answer tone. abort_catsig_alg = 1 stops it
 * (ERR_SM_WRONG_CHANNEL_STATE if none was started since the last abort;
 * after the decision an abort is accepted and does nothing).
 * kBESPCatSigAlgLiveSpeakerToneReport is ERR_SM_NOT_IMPLEMENTED here. */
enum kBESPCatSigAlg {
    kBESPCatSigAlgLiveSpeaker = 1,
    kBESPCatSigAlgLiveSpeakerTone,          /* a beep or a modem answer tone: a machine too */
    kBESPCatSigAlgLiveSpeakerToneReport,
};

typedef struct sm_catsig_listen_for_parms {
    tSMChannelId channel;                           /* in */
    enum kBESPCatSigAlg catsig_alg_id;              /* in */
    tSM_INT abort_catsig_alg;                       /* in */
} SM_CATSIG_LISTEN_FOR_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_catsig_listen_for(struct sm_catsig_listen_for_parms *listenp);

/* The classifier's parameters, for the categorisations a module starts
 * after the call. Aculab's page for this call is not in the reference: this
 * struct and the parameter ids are ours (docs/porting.md). A value of 0
 * restores the parameter's default. */
enum kBESPCatSigParam {
    kBESPCatSigParamMinSpeechLevel = 1,     /* dBm0 (-42): a louder 10 ms block is speech */
    kBESPCatSigParamMinSpeechDuration,      /* ms (80): shorter bursts start no utterance */
    kBESPCatSigParamMaxLiveSpeech,          /* ms (1500): more speech than this is a machine */
    kBESPCatSigParamLiveSilence,            /* ms (800): silence after short speech: live */
};

typedef struct sm_catsig_module_parms {
    tSMModuleId module;                             /* in */
    enum kBESPCatSigAlg catsig_alg_id;              /* in */
    enum kBESPCatSigParam param_id;                 /* in */
    double value;                                   /* in */
} SM_CATSIG_MODULE_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_adjust_catsig_module_params(struct sm_catsig_module_parms *paramsp);

/* On-hook detection, as Aculab declares it: kSMRecognisedOnHook per click,
 * param0 (ours) the pulse's ms over the floor, param1 (ours) its loudest
 * 1 ms block's power in dBm0. A field of 0 takes its default (shown). */
typedef struct sm_onhook_listen_for_parms {
    tSMChannelId channel;                           /* in */
    tSM_INT enable;                                 /* in */
    double pre_pulse_max_power;                     /* in: dBm0, -48.0 */
    double pulse_min_power;                         /* in: dBm0, -18.0 */
    double post_pulse_floor;                        /* in: dBm0, -42.0 */
    double latitude;                                /* in: dB, -6.0 */
    double count_ratio;                             /* in: 4.0 */
    double total_ratio;                             /* in: 4.0 */
    tSM_INT max_duration;                           /* in: ms, 60 */
} SM_ONHOOK_LISTEN_FOR_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_onhook_listen_for(struct sm_onhook_listen_for_parms *listenp);
ACUAPI int ACUTiNG_WINAPI sm_discard_recognised(tSMChannelId channel);

/* ---- Replay ------------------------------------------------------------ */

typedef struct sm_replay_parms {
    tSMChannelId channel;                   /* in */
    tSMChannelId background;                /* in */
    tSM_INT volume;                         /* in */
    tSM_INT agc;                            /* in */
    tSM_INT speed;                          /* in */
    enum kSMDataFormat type;                /* in */
    tSM_UT32 data_length;                   /* in */
    tSM_UT32 sampling_rate;                 /* in */
} SM_REPLAY_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_replay_start(struct sm_replay_parms *replayp);

typedef struct sm_ts_data_parms {
    tSMChannelId channel;                   /* in */
    char *data;                             /* in (replay) / out (record) */
    tSM_INT length;                         /* in (replay) / out (record) */
} SM_TS_DATA_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_put_replay_data(struct sm_ts_data_parms *datap);
ACUAPI int ACUTiNG_WINAPI sm_put_last_replay_data(struct sm_ts_data_parms *datap);

typedef struct sm_audio_data_parms {
    tSMChannelId channel;                   /* in */
    char *data;                             /* in */
    tSM_INT max_length;                     /* in */
    tSM_INT done_length;                    /* out */
} SM_AUDIO_DATA_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_put_audio_data(struct sm_audio_data_parms *datap);

enum kSMReplayStatus {
    kSMReplayStatusComplete,
    kSMReplayStatusCompleteData,
    kSMReplayStatusUnderrun,
    kSMReplayStatusHasCapacity,
    kSMReplayStatusNoCapacity,
};

typedef struct sm_replay_status_parms {
    tSMChannelId channel;                   /* inout */
    enum kSMReplayStatus status;            /* out */
    tSM_UT32 offset;                        /* out */
} SM_REPLAY_STATUS_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_replay_status(struct sm_replay_status_parms *statusp);

typedef struct sm_replay_abort_parms {
    tSMChannelId channel;                   /* in */
    tSM_UT32 offset;                        /* out */
    tSM_UT32 nowait;                        /* in */
} SM_REPLAY_ABORT_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_replay_abort(struct sm_replay_abort_parms *abortp);

typedef struct sm_replay_adjust_parms {
    tSMChannelId channel;
    tSMChannelId background;
    tSM_INT volume;
    tSM_INT agc;
    tSM_INT speed;
} SM_REPLAY_ADJUST_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_replay_adjust(struct sm_replay_adjust_parms *adjustp);

/* ---- Record ------------------------------------------------------------ */

enum kSMRecordAltSource {
    kSMRecordAltSourceDefault,
    kSMRecordAltSourceInput,
    kSMRecordAltSourceOutput,
};

typedef struct sm_record_parms {
    tSMChannelId channel;                           /* in */
    tSMChannelId alt_data_source;                   /* in */
    enum kSMDataFormat type;                        /* in */
    tSM_UT32 silence_elimination;                   /* in */
    enum kSMToneDetection tone_elimination_mode;    /* in */
    tSM_UT32 tone_elimination_set_id;               /* in */
    tSM_UT32 max_octets;                            /* in */
    tSM_UT32 max_elapsed_time;                      /* in */
    tSM_UT32 max_silence;                           /* in */
    tSM_INT agc;                                    /* in */
    tSM_INT volume;                                 /* in */
    enum kSMRecordAltSource alt_data_source_type;   /* in */
    tSM_UT32 sampling_rate;                         /* in */
    double min_noise_level;                         /* in */
    double grunt_threshold;                         /* in */
    tSM_UT32 grunt_holdoff;                         /* in */
    tSM_UT32 max_initial_silence;                   /* in */
} SM_RECORD_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_record_start(struct sm_record_parms *recordp);
ACUAPI int ACUTiNG_WINAPI sm_get_recorded_data(struct sm_ts_data_parms *datap);

enum kSMRecordStatus {
    kSMRecordStatusComplete,
    kSMRecordStatusCompleteData,
    kSMRecordStatusOverrun,
    kSMRecordStatusData,
    kSMRecordStatusNoData,
    kSMRecordStatusRecognition,
};

enum kSMRecordHowTerminated {
    kSMRecordHowTerminatedNotYet,
    kSMRecordHowTerminatedLength,
    kSMRecordHowTerminatedMaxTime,
    kSMRecordHowTerminatedSilence,
    kSMRecordHowTerminatedAborted,
    kSMRecordHowTerminatedError,
};

typedef struct sm_record_status_parms {
    tSMChannelId channel;                           /* inout */
    enum kSMRecordStatus status;                    /* out */
    enum kSMRecognition recog_type;                 /* out */
    tSM_INT param0;                                 /* out */
    tSM_INT param1;                                 /* out */
    enum kSMRecordHowTerminated termination_reason; /* out */
    tSM_UT32 termination_octets;                    /* out */
    tSM_UT32 sample_rate;                           /* out */
} SM_RECORD_STATUS_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_record_status(struct sm_record_status_parms *statusp);

typedef struct sm_record_abort_parms {
    tSMChannelId channel;
    tSM_INT discard;
} SM_RECORD_ABORT_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_record_abort(struct sm_record_abort_parms *abortp);

typedef struct sm_record_agc_adjust_parms {
    tSMChannelId channel;             /* in */
    tSM_INT gain;                     /* in: dB */
} SM_RECORD_AGC_ADJUST_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_record_agc_adjust(struct sm_record_agc_adjust_parms *recadjp);

typedef struct sm_record_agc_adjust_settings_parms {
    tSMChannelId channel;
    float max_level_decay;
    float target_level;
} SM_RECORD_AGC_ADJUST_SETTINGS_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_record_agc_adjust_settings(struct sm_record_agc_adjust_settings_parms *recadjp);

/* ---- Channel thresholds (replay and record events) --------------------- */

typedef struct sm_channel_set_output_threshold_parms {
    tSMChannelId channel;             /* in */
    tSM_INT minimum_bits;             /* in */
} SM_CHANNEL_SET_OUTPUT_THRESHOLD_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_channel_set_output_threshold(struct sm_channel_set_output_threshold_parms *thp);

typedef struct sm_channel_set_input_threshold_parms {
    tSMChannelId channel;             /* in */
    tSM_INT minimum_bits;             /* in */
} SM_CHANNEL_SET_INPUT_THRESHOLD_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_channel_set_input_threshold(struct sm_channel_set_input_threshold_parms *thp);

/* ---- Conferencing primitives ------------------------------------------- */

enum kSMConfType {
    kSMConfTypeStandard = 0,
    kSMConfTypeIndividualVolume = 1,
};

typedef struct sm_conf_prim_start_parms {
    tSMChannelId channel;
    tSM_INT volume;
    tSM_INT agc;
    enum kSMConfType conf_type;
} SM_CONF_PRIM_START_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_conf_prim_start(struct sm_conf_prim_start_parms *startp);

typedef struct sm_conf_prim_attach_parms {
    tSMChannelId channel;
    enum kSMConfType conf_type;
} SM_CONF_PRIM_ATTACH_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_conf_prim_attach(struct sm_conf_prim_attach_parms *attachp);

typedef struct sm_conf_prim_detach_parms {
    tSMChannelId channel;
    enum kSMConfType conf_type;
} SM_CONF_PRIM_DETACH_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_conf_prim_detach(struct sm_conf_prim_detach_parms *detachp);

typedef struct sm_conf_prim_add_parms {
    tSMChannelId channel;
    tSMChannelId participant;
    tSM_INT id;
    float factor;
} SM_CONF_PRIM_ADD_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_conf_prim_add(struct sm_conf_prim_add_parms *addp);

typedef struct sm_conf_prim_leave_parms {
    tSMChannelId channel;
    tSM_INT id;
} SM_CONF_PRIM_LEAVE_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_conf_prim_leave(struct sm_conf_prim_leave_parms *leavep);

typedef struct sm_conf_prim_clone_parms {
    tSMChannelId channel;
    tSMChannelId model;
} SM_CONF_PRIM_CLONE_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_conf_prim_clone(struct sm_conf_prim_clone_parms *clonep);

typedef struct sm_conf_prim_stop_parms {
    tSMChannelId channel;
    tSM_UT32 no_wait;
} SM_CONF_PRIM_STOP_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_conf_prim_stop(struct sm_conf_prim_stop_parms *stopp);
ACUAPI int ACUTiNG_WINAPI sm_conf_prim_abort(tSMChannelId channel);

typedef struct sm_conf_prim_adj_output_parms {
    tSMChannelId channel;
    tSM_INT volume;
    tSM_INT agc;
} SM_CONF_PRIM_ADJ_OUTPUT_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_conf_prim_adj_output(struct sm_conf_prim_adj_output_parms *adjp);

typedef struct sm_conf_prim_adj_input_parms {
    tSMChannelId channel;
    tSM_INT volume;
    tSM_INT agc;
} SM_CONF_PRIM_ADJ_INPUT_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_conf_prim_adj_input(struct sm_conf_prim_adj_input_parms *adjp);

typedef struct sm_conf_prim_adj_input_settings_parms {
    tSMChannelId channel;
    float max_level_decay;
    float target_level;
} SM_CONF_PRIM_ADJ_INPUT_SETTINGS_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_conf_prim_adj_input_settings(struct sm_conf_prim_adj_input_settings_parms *adjp);

typedef struct sm_conf_prim_adj_tracking_parms {
    tSMChannelId channel;
    double min_noise_level;
    double speech_thresh;
} SM_CONF_PRIM_ADJ_TRACKING_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_conf_prim_adj_tracking(struct sm_conf_prim_adj_tracking_parms *adjp);

typedef struct sm_conf_prim_info_parms {
    tSMChannelId channel;
    tSM_INT participant_count;
    char speakers[8];
} SM_CONF_PRIM_INFO_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_conf_prim_info(struct sm_conf_prim_info_parms *infop);

typedef struct sm_conf_prim_config_activity_reporting_parms {
    tSMChannelId channel;
    tSM_UT32 delay;
    tSM_UT32 sensitivity;
} SM_CONF_PRIM_CONFIG_ACTIVITY_REPORTING_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_conf_prim_config_activity_reporting(struct sm_conf_prim_config_activity_reporting_parms *configp);

enum kSMConfStatus {
    kSMConfStatusRunning,
    kSMConfStatusStopped,
    kSMConfStatusActiveInputs,
};

struct conf_active_input {
    tSM_INT id;
    tSM_INT power;
};

typedef struct sm_conf_prim_status_parms {
    tSMChannelId channel;
    enum kSMConfStatus status;
    union {
        struct {
            struct conf_active_input input[4];
        } active_inputs;
    } u;
} SM_CONF_PRIM_STATUS_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_conf_prim_status(struct sm_conf_prim_status_parms *statusp);

typedef struct sm_set_sidetone_channel_parms {
    tSMChannelId channel;
    tSMChannelId output;
} SM_SET_SIDETONE_CHANNEL_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_set_sidetone_channel(struct sm_set_sidetone_channel_parms *sidetonep);

/* ---- Tone and digit generation on an output channel -------------------- */

#define kSMMaxCPToneStates 16
#define kSMMaxDigits 32
#define kSMMaxDigits_plus1 33
#define kSMMaxPlayCPToneCadences 8

enum kSMPlayCPToneType {
    kSMPlayCPToneTypeOneShot,
    kSMPlayCPToneTypeRepeat,
    kSMPlayCPToneTypeContinuous,
};

enum kSMPlayCPToneStatus {
    kSMPlayCPToneStatusComplete,
    kSMPlayCPToneStatusOngoing,
};

enum kSMDigitType {
    kSMDTMFDigits,
};

enum kSMPlayDigitsStatus {
    kSMPlayDigitsStatusComplete,
    kSMPlayDigitsStatusOngoing,
};

enum kSMToneOperation {
    kSMToneOperationStop,
    kSMToneOperationSum,
    kSMToneOperationModulate,
};

enum kSMPlayToneListStatus {
    kSMPlayToneListStatusOngoing,
    kSMPlayToneListStatusComplete,
    kSMPlayToneListStatusHasCapacity,
    kSMPlayToneListStatusUnderrun,
};

enum kSMPlayToneStatus {
    kSMPlayToneStatusComplete,
    kSMPlayToneStatusOngoing,
};

typedef struct sm_output_freq_parms {
    tSMModuleId module;                     /* in */
    double freq;                            /* in: Hz, 150..3600 */
    double amplitude;                       /* in: dBm0, -35..+3 */
    tSM_INT id;                             /* out */
} SM_OUTPUT_FREQ_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_add_output_freq(struct sm_output_freq_parms *freqp);

typedef struct sm_output_tone_parms {
    tSMModuleId module;                     /* in */
    tSM_INT component1_id;                  /* in */
    tSM_INT component2_id;                  /* in */
    tSM_INT id;                             /* out */
} SM_OUTPUT_TONE_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_add_output_tone(struct sm_output_tone_parms *tonep);

typedef struct sm_play_tone_parms {
    tSMChannelId channel;                   /* in */
    tSM_UT32 duration;                      /* in: ms, 0 = until aborted */
    tSM_INT wait_for_completion;            /* in */
    tSM_INT tone_id;                        /* in */
} SM_PLAY_TONE_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_play_tone(struct sm_play_tone_parms *tonep);

typedef struct sm_play_tone_status_parms {
    tSMChannelId channel;                   /* inout */
    enum kSMPlayToneStatus status;          /* out */
} SM_PLAY_TONE_STATUS_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_play_tone_status(struct sm_play_tone_status_parms *statusp);
ACUAPI int ACUTiNG_WINAPI sm_play_tone_abort(tSMChannelId channel);

typedef struct sm_play_cptone_parms {
    tSMChannelId channel;                   /* in */
    tSM_UT32 duration;                      /* in: ms, 0 = forever */
    tSM_INT wait_for_completion;            /* in */
    enum kSMPlayCPToneType type;            /* in */
    tSM_INT tone_count;                     /* in */
    struct sm_cadence {
        tSM_INT tone_id;                    /* in */
        tSM_INT on_cadence;                 /* in: ms */
        tSM_INT off_cadence;                /* in: ms */
    } cadences[kSMMaxPlayCPToneCadences];   /* in */
} SM_PLAY_CPTONE_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_play_cptone(struct sm_play_cptone_parms *cptonep);

typedef struct sm_play_cptone_status_parms {
    tSMChannelId channel;                   /* inout */
    enum kSMPlayCPToneStatus status;        /* out */
} SM_PLAY_CPTONE_STATUS_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_play_cptone_status(struct sm_play_cptone_status_parms *statusp);
ACUAPI int ACUTiNG_WINAPI sm_play_cptone_abort(tSMChannelId channel);

typedef struct sm_play_digits_parms {
    tSMChannelId channel;                   /* in */
    tSM_INT wait_for_completion;            /* in */
    struct sm_digits {
        enum kSMDigitType type;             /* in */
        tSM_INT qualifier;                  /* in: 0 */
        char digit_string[kSMMaxDigits_plus1]; /* in */
        tSM_INT inter_digit_delay;          /* in: ms, 0 = 100 */
        tSM_INT digit_duration;             /* in: ms, 0 = 100 */
    } digits;                               /* in */
} SM_PLAY_DIGITS_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_play_digits(struct sm_play_digits_parms *digitsp);

typedef struct sm_play_digits_status_parms {
    tSMChannelId channel;                   /* inout */
    enum kSMPlayDigitsStatus status;        /* out */
} SM_PLAY_DIGITS_STATUS_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_play_digits_status(struct sm_play_digits_status_parms *statusp);

typedef struct sm_play_tone_list_parms {
    tSMChannelId channel;                   /* in */
    struct sm_play_tone_item {
        enum kSMToneOperation operation;    /* in */
        tSM_UT32 duration;                  /* in: ms */
        double frequency1;                  /* in: Hz */
        double amplitude1;                  /* in: dBm0 */
        double frequency2;                  /* in: Hz */
        double amplitude2;                  /* in: dBm0 */
    } *tones;                               /* in */
    tSM_INT tone_count;                     /* in */
} SM_PLAY_TONE_LIST_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_play_tone_list(struct sm_play_tone_list_parms *tonep);

typedef struct sm_play_tone_list_status_parms {
    tSMChannelId channel;                   /* inout */
    enum kSMPlayToneListStatus status;      /* out */
} SM_PLAY_TONE_LIST_STATUS_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_play_tone_list_status(struct sm_play_tone_list_status_parms *statusp);
ACUAPI int ACUTiNG_WINAPI sm_play_tone_list_abort(tSMChannelId channel);

typedef struct sm_play_tone_list_phase_reverse_parms {
    tSMChannelId channel;                   /* in */
    tSM_UT32 period;                        /* in: ms between reversals, 0 = none */
} SM_PLAY_TONE_LIST_PHASE_REVERSE_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_play_tone_list_phase_reverse(struct sm_play_tone_list_phase_reverse_parms *pp);

/* ---- Tone sets (declarations added with tone detection) ---------------- */

/* ---- Input tone sets and call-progress tones ---------------------------- */

/* Frequency coefficients: [lower_limit, upper_limit] Hz. Ids 0..14 are
 * pre-loaded (DTMF low and high groups, call progress 1..5, fax CNG, CED). */
typedef struct sm_input_freq_coeffs_parms {
    tSMModuleId module;                     /* in */
    double upper_limit;                     /* in: Hz (note: before lower_limit) */
    double lower_limit;                     /* in: Hz */
    tSM_INT id;                             /* out */
} SM_INPUT_FREQ_COEFFS_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_add_input_freq_coeffs(struct sm_input_freq_coeffs_parms *freqcoeffp);

/* A tone set: every (band-1, band-2) pair of frequency-coefficient ids (band
 * 2 empty: single frequencies). Its id is sm_listen_for's active_tone_set_id.
 * Sets 0 (DTMF) and 1 (call progress and fax) are pre-loaded. */
typedef struct sm_input_tone_set_parms {
    tSMModuleId module;                     /* in */
    tSM_INT band1_first_freq_coeffs_id;     /* in */
    tSM_INT band1_freq_count;               /* in */
    tSM_INT band2_first_freq_coeffs_id;     /* in */
    tSM_INT band2_freq_count;               /* in */
    double req_third_peak;                  /* in: largest third component, relative to the strongest */
    double req_signal_to_noise_ratio;       /* in: share of the energy in the tone */
    double req_minimum_power;               /* in: dBm0 */
    double req_twist_for_dual_tone;         /* in: dB (0: any) */
    tSM_INT id;                             /* out */
} SM_INPUT_TONE_SET_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_add_input_tone_set(struct sm_input_tone_set_parms *tonesetp);

enum kAdjustToneSet {
    kAdjustToneSetFPParamId3rdPeak,
    kAdjustToneSetFPParamIdSNRatio,
    kAdjustToneSetFPParamIdMinPower,
    kAdjustToneSetFPParamIdTwist,
    kAdjustToneSetIntParamIdMinOnTime,
    kAdjustToneSetIntParamIdMinOffTime,
    kAdjustToneSetFPParamIdStartFreq,
    kAdjustToneSetFPParamIdStopFreq,
};

typedef struct sm_adjust_tone_set_parms {
    tSMModuleId module;                     /* in */
    tSM_INT tone_set_id;                    /* in */
    enum kAdjustToneSet parameter_id;       /* in */
    union {
        double fp_value;                    /* in: the FP parameters */
        tSM_INT int_value;                  /* in: the Int parameters (ms) */
    } parameter_value;                      /* in */
} SM_ADJUST_TONE_SET_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_adjust_input_tone_set(struct sm_adjust_tone_set_parms *tonesetp);

/* A call-progress tone of the module's repertoire: states newest first,
 * freq_id 0 is silence and k >= 1 tone k - 1 of the repertoire's base tone
 * set; durations in ms (kept in 32 ms units); a minimum of 0 makes a state
 * optional. id (1..255, chosen by the application) is what
 * kSMRecognisedCPTone reports. */
typedef struct sm_input_cptone_parms {
    tSMModuleId module;                     /* in */
    tSM_INT state_count;                    /* in */
    struct sm_cptone_state {
        tSM_INT freq_id;                    /* in */
        tSM_INT maximum_cadence;            /* in: ms */
        tSM_INT minimum_cadence;            /* in: ms */
    } states[kSMMaxCPToneStates];           /* in */
    tSM_INT id;                             /* in */
} SM_INPUT_CPTONE_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_add_input_cptone(struct sm_input_cptone_parms *cptonep);

/* Empties the repertoire (the default tones too) and makes tone_set_id its
 * base tone set. */
typedef struct sm_reset_input_cptones_parms {
    tSMModuleId module;                     /* in */
    tSM_INT tone_set_id;                    /* in */
} SM_RESET_INPUT_CPTONES_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_reset_input_cptones(struct sm_reset_input_cptones_parms *resetp);

#ifdef __cplusplus
}
#endif

#endif /* PROSODY_PROSPAPI_H */
