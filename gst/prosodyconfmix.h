/* prosodyconfmix.h - prosodyconfmix: a Prosody conference as one element.
 *
 * Request pads sink_%u and src_%u; the same index is the same party (its
 * input, and its own mix of everybody else). The mixing, gains, ramps, AGC,
 * gating, limiting and concealment are done by a stepped prosody::Module;
 * this element only moves audio and time between pads and the module.
 */
#pragma once

#include <gst/gst.h>

#include "prosodyelementsupport.h"

G_BEGIN_DECLS

#define PROSODY_TYPE_CONF_MIX (prosody_conf_mix_get_type())
G_DECLARE_FINAL_TYPE(ProsodyConfMix, prosody_conf_mix, PROSODY, CONF_MIX, GstElement)

/* sink_%u: a party's input (what it says). Its volume and agc properties,
 * index and stats come from ProsodyPad (prosodyelementsupport.h). */
#define PROSODY_TYPE_CONF_MIX_SINK_PAD (prosody_conf_mix_sink_pad_get_type())
G_DECLARE_FINAL_TYPE(ProsodyConfMixSinkPad, prosody_conf_mix_sink_pad, PROSODY, CONF_MIX_SINK_PAD, ProsodyPad)

/* src_%u: a party's output (what it hears). */
#define PROSODY_TYPE_CONF_MIX_SRC_PAD (prosody_conf_mix_src_pad_get_type())
G_DECLARE_FINAL_TYPE(ProsodyConfMixSrcPad, prosody_conf_mix_src_pad, PROSODY, CONF_MIX_SRC_PAD, ProsodyPad)

/**
 * ProsodyConfMixGate:
 * @PROSODY_CONF_MIX_GATE_AUTO: on when the party also has a src pad (a
 *   talking party), off for a speak-only party (music, announcements)
 * @PROSODY_CONF_MIX_GATE_ON: only speech-active frames are mixed
 * @PROSODY_CONF_MIX_GATE_OFF: the input is always mixed
 */
typedef enum {
  PROSODY_CONF_MIX_GATE_AUTO = 0,
  PROSODY_CONF_MIX_GATE_ON = 1,
  PROSODY_CONF_MIX_GATE_OFF = 2,
} ProsodyConfMixGate;

/**
 * ProsodyConfMixTones:
 * @PROSODY_CONF_MIX_TONES_NONE: no detection
 * @PROSODY_CONF_MIX_TONES_DTMF: DTMF digits (dtmf-event messages)
 * @PROSODY_CONF_MIX_TONES_CALL_PROGRESS: call-progress and fax tones
 *   (prosody-tone messages)
 */
typedef enum {
  PROSODY_CONF_MIX_TONES_NONE = 0,
  PROSODY_CONF_MIX_TONES_DTMF = 1,
  PROSODY_CONF_MIX_TONES_CALL_PROGRESS = 2,
} ProsodyConfMixTones;

/**
 * ProsodyConfMixStartTime:
 * @PROSODY_CONF_MIX_START_TIME_ZERO: output running time starts at 0
 * @PROSODY_CONF_MIX_START_TIME_FIRST: output starts at the running time of
 *   the first input buffer
 * @PROSODY_CONF_MIX_START_TIME_NOW: live only: output starts at the running
 *   time at which the element starts mixing in PLAYING
 */
typedef enum {
  PROSODY_CONF_MIX_START_TIME_ZERO = 0,
  PROSODY_CONF_MIX_START_TIME_FIRST = 1,
  PROSODY_CONF_MIX_START_TIME_NOW = 2,
} ProsodyConfMixStartTime;

GType prosody_conf_mix_gate_get_type(void);
GType prosody_conf_mix_tones_get_type(void);
GType prosody_conf_mix_start_time_get_type(void);

#define PROSODY_TYPE_CONF_MIX_GATE (prosody_conf_mix_gate_get_type())
#define PROSODY_TYPE_CONF_MIX_TONES (prosody_conf_mix_tones_get_type())
#define PROSODY_TYPE_CONF_MIX_START_TIME (prosody_conf_mix_start_time_get_type())

GST_ELEMENT_REGISTER_DECLARE(prosodyconfmix);

G_END_DECLS
