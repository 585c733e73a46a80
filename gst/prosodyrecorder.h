/* prosodyrecorder.h - prosodyrecorder: records its sink pads into one sound
 * file, one channel per pad in pad order (a 2-party call in stereo is two
 * pads), crash-safe: the file is valid at every moment.
 *
 * The files are libprosody's (prosody/files.hpp: libsndfile, libFLAC), and
 * the silence elimination and the time and silence limits are the record
 * job's (prosody::RecordGate); this element aligns its pads' audio into the
 * file's frames on the input timeline.
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define PROSODY_TYPE_RECORDER (prosody_recorder_get_type())
G_DECLARE_FINAL_TYPE(ProsodyRecorder, prosody_recorder, PROSODY, RECORDER, GstElement)

/* The file formats, by their names in prosody/files.hpp ("wav", "flac"...). */
GType prosody_recorder_format_get_type(void);
#define PROSODY_TYPE_RECORDER_FORMAT (prosody_recorder_format_get_type())

GST_ELEMENT_REGISTER_DECLARE(prosodyrecorder);

G_END_DECLS
