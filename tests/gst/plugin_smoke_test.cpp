// The built libgstprosody.so, found through GST_PLUGIN_PATH as users find
// it: the factory loads from our build dir, and gst-inspect-1.0 documents
// every pad template and property.
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <string>

namespace {

std::string inspect(const char* what) {
  gchar* out = nullptr;
  gint status = 0;
  const gchar* argv[] = {"gst-inspect-1.0", what, nullptr};
  GError* err = nullptr;
  if (!g_spawn_sync(nullptr, const_cast<gchar**>(argv), nullptr, G_SPAWN_SEARCH_PATH, nullptr, nullptr, &out, nullptr,
                    &status, &err)) {
    std::string msg = err->message;
    g_error_free(err);
    return "spawn failed: " + msg;
  }
  std::string s = out ? out : "";
  g_free(out);
  return s;
}

TEST(PluginSmoke, FactoryLoadsFromTheBuildDir) {
  gst_init(nullptr, nullptr);
  GstElementFactory* f = gst_element_factory_find("prosodyconfmix");
  ASSERT_NE(f, nullptr) << "GST_PLUGIN_PATH=" << (g_getenv("GST_PLUGIN_PATH") ? g_getenv("GST_PLUGIN_PATH") : "");
  GstPlugin* plugin = GST_PLUGIN(gst_plugin_feature_get_plugin(GST_PLUGIN_FEATURE(f)));
  ASSERT_NE(plugin, nullptr);
  EXPECT_STREQ(gst_plugin_get_name(plugin), "prosody");
  const gchar* file = gst_plugin_get_filename(plugin);
  ASSERT_NE(file, nullptr);
  EXPECT_NE(std::string(file).find("libgstprosody.so"), std::string::npos) << file;
  GstElement* e = gst_element_factory_create(f, nullptr);
  ASSERT_NE(e, nullptr);
  EXPECT_STREQ(G_OBJECT_TYPE_NAME(e), "ProsodyConfMix");
  gst_object_unref(e);
  gst_object_unref(plugin);
  gst_object_unref(f);
}

TEST(PluginSmoke, InspectDocumentsEveryPadAndProperty) {
  const std::string doc = inspect("prosodyconfmix");
  ASSERT_NE(doc.find("Prosody conference mixer"), std::string::npos) << doc;
  for (const char* word :
       {"sink_%u", "src_%u", "S16LE", "F32LE", "8000", "48000",
        // element properties
        "rate", "frame-duration", "latency", "alignment-threshold", "queue-time", "start-time-selection",
        "activity-interval", "activity-sensitivity", "stats", "GstChildProxy",
        // pad types and their properties (gst-inspect lists pad properties)
        "ProsodyConfMixSinkPad", "ProsodyConfMixSrcPad", "volume", "agc", "mute", "gate", "detect-tones",
        "suppress-tones", "heard-by", "deaf", "nanoseconds", "dB",
        // messages
        "prosody-activity", "dtmf-event", "prosody-tone", "QoS"})
    EXPECT_NE(doc.find(word), std::string::npos) << "gst-inspect-1.0 output lacks " << word;
}

}  // namespace
