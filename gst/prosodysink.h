/* prosodysink.h - prosodysink: feeds a pipeline's audio into the input of a
 * channel of a shared software Prosody module.
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define PROSODY_TYPE_SINK (prosody_sink_get_type())
G_DECLARE_FINAL_TYPE(ProsodySink, prosody_sink, PROSODY, SINK, GstElement)

GST_ELEMENT_REGISTER_DECLARE(prosodysink);

G_END_DECLS
