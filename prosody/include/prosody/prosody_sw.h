/*
 * prosody_sw.h - extensions of the software Prosody processor.
 *
 * Hardware applications never need these: card 0 is always open and every
 * module runs in real time, as a DSP does. They exist for what software can
 * do and hardware cannot: choosing how many modules card 0 has, a module's
 * sample rate, frame and drive mode, stepping a module by hand (file work and
 * deterministic tests), and reporting participant ids beyond 63.
 */
#ifndef PROSODY_SW_H
#define PROSODY_SW_H

#include "smdrvr.h"
#include "smbesp.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Default number of modules on card 0 (software processors). */
#define kProsodySwDefaultModuleCount 4

/* Sets how many modules card 0 reports. Only before the first call that
 * touches card 0 (sm_get_card_info, sm_open_module); afterwards
 * ERR_SM_WRONG_MODULE_STATE. n must be 1..256 (ERR_SM_BAD_PARAMETER). The
 * environment variable PROSODY_MODULE_COUNT sets the same default. */
int prosody_sw_set_module_count(int n);

enum kProsodySwDriveMode {
    kProsodySwDriveRealTime = 0,  /* default: the module's own thread, paced like hardware */
    kProsodySwDriveStepped = 1,   /* the application advances it with prosody_sw_step */
};

typedef struct prosody_sw_module_config_parms {
    tSM_UT32 module_ix;         /* in: module on card 0 */
    tSM_UT32 sample_rate;       /* in: 0 = 8000; 8000, 16000, 32000 or 48000 */
    tSM_UT32 frame_us;          /* in: 0 = 10000; 5000, 10000 or 20000 */
    enum kProsodySwDriveMode drive_mode; /* in */
} PROSODY_SW_MODULE_CONFIG_PARMS;

/* Configures module module_ix of card 0 before sm_open_module opens it
 * (ERR_SM_WRONG_MODULE_STATE if it is open). */
int prosody_sw_configure_module(struct prosody_sw_module_config_parms *configp);

/* Advances a stepped module by frames frames (ERR_SM_WRONG_MODULE_STATE on a
 * real-time module). */
int prosody_sw_step(tSMModuleId module, tSM_UT32 frames);

typedef struct prosody_sw_module_info_parms {
    tSMModuleId module;         /* in */
    tSM_UT32 sample_rate;       /* out */
    tSM_UT32 frame_samples;     /* out */
    tSM_UT64 frames_processed;  /* out */
    tSM_UT64 late_frames;       /* out: real-time frames that missed their deadline */
    enum kProsodySwDriveMode drive_mode; /* out */
} PROSODY_SW_MODULE_INFO_PARMS;

int prosody_sw_module_info(struct prosody_sw_module_info_parms *infop);

/* sm_conf_prim_info for any number of participants: the ids of the
 * currently active participants of a conference output, with no 64 limit. */
typedef struct prosody_sw_conf_prim_active_ids_parms {
    tSMChannelId channel;       /* in: conference output */
    tSM_INT max_ids;            /* in: capacity of ids */
    tSM_INT *ids;               /* in: caller buffer */
    tSM_INT active_count;       /* out: number of active participants (may exceed max_ids) */
    tSM_INT member_count;       /* out: number of participants of this output */
} PROSODY_SW_CONF_PRIM_ACTIVE_IDS_PARMS;

int prosody_sw_conf_prim_active_ids(struct prosody_sw_conf_prim_active_ids_parms *parmsp);

/* The text and code of the last sm_conference_* failure on the calling
 * thread (smConfError / smConfErrno are process-wide, as on Aculab's
 * library). The text is "" and the code 0 until a call fails. */
const char *prosody_sw_conf_error(void);
int prosody_sw_conf_errno(void);

/* The participant id (>= 0) of an attached conference input, or a negative
 * ERR_SM_* code (ERR_SM_WRONG_CHANNEL_STATE if it is not attached). */
int prosody_sw_conf_prim_participant_id(tSMChannelId channel);

/* Opens the shared module called name, as sm_open_module opens a module of
 * card 0, and holds it for the C API until sm_close_module. Shared modules
 * are one registry per process, which the C++ API (prosody::Module::
 * open_shared) and the GStreamer elements (module property) reach by the
 * same names: a name of decimal digits is that module of card 0, any other a
 * named module, created on first use (8000 Hz, 10 ms frames, real time) and
 * living while anything holds it. ERR_SM_NO_SUCH_MODULE for an index beyond
 * the card's count, ERR_SM_BAD_PARAMETER for a null or empty name. */
typedef struct prosody_sw_open_shared_module_parms {
    const char *name;           /* in */
    tSMModuleId module_id;      /* out */
} PROSODY_SW_OPEN_SHARED_MODULE_PARMS;

int prosody_sw_open_shared_module(struct prosody_sw_open_shared_module_parms *parmsp);

#ifdef __cplusplus
}
#endif

#endif /* PROSODY_SW_H */
