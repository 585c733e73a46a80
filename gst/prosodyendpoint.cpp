/* prosodyendpoint.cpp - what prosodysink and prosodysrc share. */
#include "prosodyendpoint.h"

#include <gst/audio/gstaudioclock.h>

#include <mutex>
#include <utility>

GType prosody_drive_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {PROSODY_DRIVE_DEFAULT, "Whatever the module has (a new module: its configuration, real time by default)",
       "default"},
      {PROSODY_DRIVE_REALTIME, "Real time: the module's own thread, paced like hardware (live pipelines)", "realtime"},
      {PROSODY_DRIVE_STEPPED, "Stepped by the elements when every sink has a frame (file pipelines)", "stepped"},
      {0, nullptr, nullptr},
  };
  if (g_once_init_enter(&type)) g_once_init_leave(&type, g_enum_register_static("ProsodyDrive", values));
  return type;
}

namespace prosody_gst {

void install_endpoint_properties(GObjectClass* klass, const char* what) {
  const auto ready = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  g_object_class_install_property(
      klass, kPropModule,
      g_param_spec_string("module", "Module",
                          "The shared module, by name: \"0\", \"1\", ... (decimal) is that module of the software "
                          "card 0, the one sm_open_module opens; any other name is a named module "
                          "(prosody::Module::open_shared). Created on first use by whoever comes first (8000 Hz, "
                          "10 ms, real time unless the rate, frame-duration or drive properties say otherwise), "
                          "it lives while anything holds it. Read at NULL->READY",
                          "0", ready));
  gchar* party_doc = g_strdup_printf(
      "A named party: a channel of the module that the first element naming it allocates (at READY->PAUSED) and "
      "that is released when no element names it any more. This element %s. Set party or channel, not both",
      what);
  g_object_class_install_property(klass, kPropParty,
                                  g_param_spec_string("party", "Party", party_doc, nullptr,
                                                      static_cast<GParamFlags>(ready & ~G_PARAM_STATIC_BLURB)));
  g_free(party_doc); /* copied: not a static string */
  g_object_class_install_property(
      klass, kPropChannel,
      g_param_spec_uint64("channel", "Channel",
                          "A channel the application allocated with the C or C++ API (its tSMChannelId / "
                          "prosody::ChannelId value, decimal or 0x hex), which the element uses and does not "
                          "release; 0 = none (use party)",
                          0, G_MAXUINT64, 0, ready));
  g_object_class_install_property(
      klass, kPropConference,
      g_param_spec_string("conference", "Conference",
                          "Makes the party (or channel) a member of this named conference of the module, "
                          "created on first use and deleted when empty (prosody::Conference): a party with a "
                          "prosodysink and a prosodysrc hears every other member and never itself; with only a "
                          "prosodysink it is a background (heard by all, never gated); with only a prosodysrc a "
                          "monitor (hears all, heard by none). It joins when its first element reaches PAUSED and "
                          "leaves when its last one leaves it. All elements of a party name the same conference",
                          nullptr, ready));
  g_object_class_install_property(
      klass, kPropRate,
      g_param_spec_uint("rate", "Rate",
                        "Hz the module must run at: 8000, 16000, 32000 or 48000; 0 = whatever it runs at (a "
                        "module this element creates: its configuration, 8000 Hz by default). An existing "
                        "module at another rate is an error",
                        0, 48000, 0, ready));
  g_object_class_install_property(
      klass, kPropFrameDuration,
      g_param_spec_uint64("frame-duration", "Frame duration",
                          "The module's frame, ns: 5, 10 or 20 ms; 0 = whatever it has (10 ms by default)", 0,
                          20 * GST_MSECOND, 0, ready));
  g_object_class_install_property(klass, kPropDrive,
                                  g_param_spec_enum("drive", "Drive",
                                                    "How the module must be driven: real time (live elements) or "
                                                    "stepped (non-live, deterministic); default = as it is",
                                                    PROSODY_TYPE_DRIVE, PROSODY_DRIVE_DEFAULT, ready));
  gst_type_mark_as_plugin_api(PROSODY_TYPE_DRIVE, static_cast<GstPluginAPIFlags>(0));
}

bool set_endpoint_property(EndpointProperties& props, guint id, const GValue* value) {
  auto text = [&] { return std::string(g_value_get_string(value) ? g_value_get_string(value) : ""); };
  switch (id) {
    case kPropModule:
      props.module = text().empty() ? "0" : text();
      return true;
    case kPropParty:
      props.party = text();
      return true;
    case kPropChannel:
      props.channel = g_value_get_uint64(value);
      return true;
    case kPropConference:
      props.conference = text();
      return true;
    case kPropRate: {
      const guint r = g_value_get_uint(value);
      if (r == 0 || r == 8000 || r == 16000 || r == 32000 || r == 48000)
        props.rate = r;
      else
        g_warning("rate %u Hz is not supported (8000, 16000, 32000 or 48000; 0 = the module's); it stays %u", r,
                  props.rate);
      return true;
    }
    case kPropFrameDuration: {
      const guint64 d = g_value_get_uint64(value);
      if (d == 0 || d == 5 * GST_MSECOND || d == 10 * GST_MSECOND || d == 20 * GST_MSECOND)
        props.frame_duration = d;
      else
        g_warning("frame-duration %" G_GUINT64_FORMAT " ns is not supported (5, 10 or 20 ms; 0 = the module's)", d);
      return true;
    }
    case kPropDrive:
      props.drive = g_value_get_enum(value);
      return true;
    default:
      return false;
  }
}

bool get_endpoint_property(const EndpointProperties& props, guint id, GValue* value) {
  auto text = [](const std::string& s) { return s.empty() ? nullptr : s.c_str(); };
  switch (id) {
    case kPropModule:
      g_value_set_string(value, props.module.c_str());
      return true;
    case kPropParty:
      g_value_set_string(value, text(props.party));
      return true;
    case kPropChannel:
      g_value_set_uint64(value, props.channel);
      return true;
    case kPropConference:
      g_value_set_string(value, text(props.conference));
      return true;
    case kPropRate:
      g_value_set_uint(value, props.rate);
      return true;
    case kPropFrameDuration:
      g_value_set_uint64(value, props.frame_duration);
      return true;
    case kPropDrive:
      g_value_set_enum(value, props.drive);
      return true;
    default:
      return false;
  }
}

bool open_endpoint(GstElement* element, const EndpointProperties& props, EndpointKind kind, Endpoint& endpoint) {
  ModuleRequest request;
  request.name = props.module;
  request.rate = props.rate;
  request.frame_us = unsigned(props.frame_duration / GST_USECOND);
  request.drive = props.drive == PROSODY_DRIVE_REALTIME  ? int(prosody::DriveMode::realtime)
                  : props.drive == PROSODY_DRIVE_STEPPED ? int(prosody::DriveMode::stepped)
                                                         : -1;
  std::string error;
  std::shared_ptr<ModuleHub> hub = ModuleHub::open(request, error);
  if (!hub) {
    GST_ELEMENT_ERROR(element, RESOURCE, NOT_FOUND, ("%s: %s", GST_ELEMENT_NAME(element), error.c_str()),
                      ("module property \"%s\"", props.module.c_str()));
    return false;
  }
  EndpointSpec spec;
  spec.kind = kind;
  spec.element = GST_ELEMENT_NAME(element);
  spec.party = props.party;
  spec.channel = props.channel;
  spec.conference = props.conference;
  const std::uint64_t id = hub->register_endpoint(spec, error);
  if (!id) {
    GST_ELEMENT_ERROR(element, RESOURCE, SETTINGS, ("%s: %s", GST_ELEMENT_NAME(element), error.c_str()), (nullptr));
    return false;
  }
  endpoint.hub = std::move(hub);
  endpoint.id = id;
  return true;
}

void close_endpoint(std::mutex& lock, Endpoint& endpoint) {
  Endpoint closing;
  {
    std::lock_guard<std::mutex> lk(lock);
    closing = std::exchange(endpoint, Endpoint());
  }
  if (closing.hub) closing.hub->unregister(closing.id);
}

GstStructure* endpoint_stats_new(const char* name, const Endpoint& endpoint, guint64 channel) {
  return gst_structure_new(name, "channel", G_TYPE_UINT64, channel, "live", G_TYPE_BOOLEAN,
                           (gboolean)(endpoint.hub && endpoint.hub->realtime()), nullptr);
}

/* ---- The module's clock ---- */

namespace {

struct ClockSource {
  std::mutex lock;
  prosody::Module module; /* empty once forgotten */
  unsigned rate = 8000;
  GstClockTime last = 0;
  std::int64_t last_mono = 0;
};

GstClockTime module_clock_time(GstClock*, gpointer data) {
  auto* src = static_cast<ClockSource*>(data);
  const std::int64_t now = monotonic_ns();
  std::lock_guard<std::mutex> lock(src->lock);
  if (src->module) {
    const prosody::ModuleTime t = src->module.time();
    if (t.monotonic_ns < 0) return GST_CLOCK_TIME_NONE; /* not running in real time (yet) */
    /* The counter, and the monotonic clock since it was reached: sample s
     * is at s / rate. (GstAudioClock keeps it from going back.) */
    const std::int64_t since = now - t.monotonic_ns;
    src->last = gst_util_uint64_scale_int(t.samples, GST_SECOND, gint(src->rate)) +
                GstClockTime(std::max<std::int64_t>(since, 0));
    src->last_mono = now;
    return src->last;
  }
  return src->last + GstClockTime(std::max<std::int64_t>(now - src->last_mono, 0));
}

void destroy_clock_source(gpointer data) { delete static_cast<ClockSource*>(data); }

}  // namespace

GstClock* module_clock_new(const prosody::Module& module, const char* name) {
  auto* src = new ClockSource();
  src->module = module;
  src->rate = module.sample_rate();
  src->last_mono = monotonic_ns();
  GstClock* clock = gst_audio_clock_new(name, module_clock_time, src, destroy_clock_source);
  g_object_set_data(G_OBJECT(clock), "prosody-clock-source", src);
  return clock;
}

void module_clock_forget(GstClock* clock) {
  if (!clock) return;
  auto* src = static_cast<ClockSource*>(g_object_get_data(G_OBJECT(clock), "prosody-clock-source"));
  if (!src) return;
  std::lock_guard<std::mutex> lock(src->lock);
  src->module = prosody::Module();
}

bool warning_due(gint64& last_us) {
  constexpr gint64 kIntervalUs = 5 * G_USEC_PER_SEC;
  const gint64 now = g_get_monotonic_time();
  if (last_us != 0 && now - last_us < kIntervalUs) return false;
  last_us = now;
  return true;
}

}  // namespace prosody_gst
