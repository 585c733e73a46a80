/* prosodytonesuppress.h - prosodytonesuppress: detects DTMF, call-progress
 * and fax tones in a mono audio stream, posts them as bus messages and
 * removes them from the audio.
 *
 * The detection and the removal are prosody::ToneSuppressor's; this element
 * only maps buffers, timestamps, losses and properties onto it.
 */
#pragma once

#include <gst/audio/gstaudiofilter.h>
#include <gst/gst.h>

G_BEGIN_DECLS

#define PROSODY_TYPE_TONE_SUPPRESS (prosody_tone_suppress_get_type())
G_DECLARE_FINAL_TYPE(ProsodyToneSuppress, prosody_tone_suppress, PROSODY, TONE_SUPPRESS, GstAudioFilter)

/**
 * ProsodyToneSuppressToneSet:
 * @PROSODY_TONE_SUPPRESS_TONE_SET_DTMF: DTMF digits (dtmf-event messages)
 * @PROSODY_TONE_SUPPRESS_TONE_SET_CALL_PROGRESS: call-progress and fax
 *   tones of Prosody's tone set 1 (prosody-tone messages)
 */
typedef enum {
  PROSODY_TONE_SUPPRESS_TONE_SET_DTMF = 0,
  PROSODY_TONE_SUPPRESS_TONE_SET_CALL_PROGRESS = 1,
} ProsodyToneSuppressToneSet;

/**
 * ProsodyToneSuppressReport:
 * @PROSODY_TONE_SUPPRESS_REPORT_START_AND_END: a message when a tone is
 *   confirmed (start=TRUE) and one when it ends (start=FALSE, with duration)
 * @PROSODY_TONE_SUPPRESS_REPORT_START: only the start messages
 * @PROSODY_TONE_SUPPRESS_REPORT_END: only the end messages
 */
typedef enum {
  PROSODY_TONE_SUPPRESS_REPORT_START_AND_END = 0,
  PROSODY_TONE_SUPPRESS_REPORT_START = 1,
  PROSODY_TONE_SUPPRESS_REPORT_END = 2,
} ProsodyToneSuppressReport;

/**
 * ProsodyToneSuppressMinDuration:
 * @PROSODY_TONE_SUPPRESS_MIN_DURATION_NONE: the standard's own guard time
 *   (about 27 ms for Q.24)
 * @PROSODY_TONE_SUPPRESS_MIN_DURATION_40MS: a tone must last 40 ms
 * @PROSODY_TONE_SUPPRESS_MIN_DURATION_64MS: a tone must last 64 ms
 */
typedef enum {
  PROSODY_TONE_SUPPRESS_MIN_DURATION_NONE = 0,
  PROSODY_TONE_SUPPRESS_MIN_DURATION_40MS = 1,
  PROSODY_TONE_SUPPRESS_MIN_DURATION_64MS = 2,
} ProsodyToneSuppressMinDuration;

/**
 * ProsodyToneSuppressStandard:
 * @PROSODY_TONE_SUPPRESS_STANDARD_Q24: ITU-T Q.24 (AT&T column)
 * @PROSODY_TONE_SUPPRESS_STANDARD_ETSI: ETSI ES 201 235-3
 */
typedef enum {
  PROSODY_TONE_SUPPRESS_STANDARD_Q24 = 0,
  PROSODY_TONE_SUPPRESS_STANDARD_ETSI = 1,
} ProsodyToneSuppressStandard;

GType prosody_tone_suppress_tone_set_get_type(void);
GType prosody_tone_suppress_report_get_type(void);
GType prosody_tone_suppress_min_duration_get_type(void);
GType prosody_tone_suppress_standard_get_type(void);

#define PROSODY_TYPE_TONE_SUPPRESS_TONE_SET (prosody_tone_suppress_tone_set_get_type())
#define PROSODY_TYPE_TONE_SUPPRESS_REPORT (prosody_tone_suppress_report_get_type())
#define PROSODY_TYPE_TONE_SUPPRESS_MIN_DURATION (prosody_tone_suppress_min_duration_get_type())
#define PROSODY_TYPE_TONE_SUPPRESS_STANDARD (prosody_tone_suppress_standard_get_type())

GST_ELEMENT_REGISTER_DECLARE(prosodytonesuppress);

G_END_DECLS
