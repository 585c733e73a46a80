/* prosodyelements.h - every element of the prosody plugin.
 *
 * One GST_ELEMENT_REGISTER_DECLARE per element; plugin.cpp registers each of
 * them, and tests may register them one by one without loading the plugin.
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

GST_ELEMENT_REGISTER_DECLARE(prosodyconfmix);
GST_ELEMENT_REGISTER_DECLARE(prosodytonesuppress);
GST_ELEMENT_REGISTER_DECLARE(prosodysink);
GST_ELEMENT_REGISTER_DECLARE(prosodysrc);
GST_ELEMENT_REGISTER_DECLARE(prosodyrecorder);

G_END_DECLS
