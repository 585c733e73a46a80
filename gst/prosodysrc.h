/* prosodysrc.h - prosodysrc: a source emitting the output of a channel of a
 * shared software Prosody module.
 */
#pragma once

#include <gst/base/gstpushsrc.h>
#include <gst/gst.h>

G_BEGIN_DECLS

#define PROSODY_TYPE_SRC (prosody_src_get_type())
G_DECLARE_FINAL_TYPE(ProsodySrc, prosody_src, PROSODY, SRC, GstPushSrc)

GST_ELEMENT_REGISTER_DECLARE(prosodysrc);

G_END_DECLS
