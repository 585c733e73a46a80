/* plugin.cpp - entry point of the prosody GStreamer plugin (libgstprosody.so).
 *
 * The plugin name must match the file name: the loader looks for
 * gst_plugin_prosody_get_desc in libgstprosody.so.
 */
#include "prosodyelements.h"

static gboolean plugin_init(GstPlugin* plugin) {
  gboolean ret = FALSE;

  /* One line per element; a plugin that registers any element loads. */
  ret |= GST_ELEMENT_REGISTER(prosodyconfmix, plugin);
  ret |= GST_ELEMENT_REGISTER(prosodytonesuppress, plugin);
  ret |= GST_ELEMENT_REGISTER(prosodysink, plugin);
  ret |= GST_ELEMENT_REGISTER(prosodysrc, plugin);
  ret |= GST_ELEMENT_REGISTER(prosodyrecorder, plugin);

  return ret;
}

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, prosody,
                  "Software Prosody processor: conferencing with mix-minus, tone detection and suppression", plugin_init, VERSION,
                  GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
