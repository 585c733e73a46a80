// main() of the GStreamer test binaries: gst_init, our element registered
// without loading the plugin, and any GLib warning or critical (from
// GStreamer or from us) turned into a test failure.
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <functional>

#include "gst_test_util.hpp"
#include "prosodyelements.h"

namespace {

void fail_on_log(const gchar* domain, GLogLevelFlags level, const gchar* message, gpointer) {
  ADD_FAILURE() << "GLib " << ((level & G_LOG_LEVEL_CRITICAL) ? "CRITICAL" : "WARNING") << " ["
                << (domain ? domain : "") << "]: " << message;
}

}  // namespace

namespace gsttest {

PipelineRun run_pipeline(const std::string& description, double timeout_s,
                         const std::function<void(GstElement*)>& setup) {
  PipelineRun run;
  GError* err = nullptr;
  ElementPtr pipeline(gst_parse_launch(description.c_str(), &err));
  if (err) {
    run.error = std::string("parse: ") + err->message;
    g_error_free(err);
    return run;
  }
  if (setup) setup(pipeline.get());
  std::vector<GstElement*> sinks;
  GstIterator* it = gst_bin_iterate_sinks(GST_BIN(pipeline.get()));
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    GstElement* e = GST_ELEMENT(g_value_get_object(&item));
    if (GST_IS_APP_SINK(e)) sinks.push_back(e);
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);

  BusPtr bus(gst_element_get_bus(pipeline.get()));
  gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);
  const gint64 deadline = g_get_monotonic_time() + gint64(timeout_s * 1e6);
  for (;;) {
    for (GstElement* s : sinks) drain_appsink(s, run.sinks[GST_OBJECT_NAME(s)]);
    MessagePtr msg(gst_bus_timed_pop_filtered(
        bus.get(), 5 * GST_MSECOND,
        static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_WARNING | GST_MESSAGE_ELEMENT)));
    if (g_get_monotonic_time() > deadline) {
      run.error = "timeout";
      break;
    }
    if (!msg) continue;
    if (GST_MESSAGE_TYPE(msg.get()) == GST_MESSAGE_EOS) {
      run.eos = true;
      break;
    }
    if (GST_MESSAGE_TYPE(msg.get()) == GST_MESSAGE_ELEMENT) {
      if (const GstStructure* s = gst_message_get_structure(msg.get()))
        run.element_messages.push_back(gst_structure_copy(s));
      continue;
    }
    GError* e = nullptr;
    gchar* dbg = nullptr;
    if (GST_MESSAGE_TYPE(msg.get()) == GST_MESSAGE_WARNING) {
      gst_message_parse_warning(msg.get(), &e, &dbg);
      run.warnings.push_back(e->message);
      g_error_free(e);
      g_free(dbg);
      continue;
    }
    gst_message_parse_error(msg.get(), &e, &dbg);
    run.error = std::string(e->message) + " (" + (dbg ? dbg : "") + ")";
    g_error_free(e);
    g_free(dbg);
    break;
  }
  for (GstElement* s : sinks) drain_appsink(s, run.sinks[GST_OBJECT_NAME(s)]);
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  return run;
}

}  // namespace gsttest

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  gst_init(&argc, &argv);
  // Registered statically: the tests do not depend on GST_PLUGIN_PATH.
  if (!GST_ELEMENT_REGISTER(prosodyconfmix, nullptr)) {
    fprintf(stderr, "cannot register prosodyconfmix\n");
    return 1;
  }
  const auto levels = static_cast<GLogLevelFlags>(G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL);
  for (const char* domain : {"GStreamer", "GLib", "GLib-GObject", "GStreamer-Check", "Gst"})
    g_log_set_handler(domain, levels, fail_on_log, nullptr);
  g_log_set_default_handler(
      [](const gchar* domain, GLogLevelFlags level, const gchar* message, gpointer data) {
        if (level & (G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL))
          fail_on_log(domain, level, message, data);
        else
          g_log_default_handler(domain, level, message, data);
      },
      nullptr);
  const int ret = RUN_ALL_TESTS();
  gst_deinit();
  return ret;
}
