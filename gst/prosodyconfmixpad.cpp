/* prosodyconfmixpad.cpp - the pad types of prosodyconfmix and their
 * properties (reached with GstChildProxy: m::sink_0::volume=-6), and the
 * element's enums. volume, agc and stats come from ProsodyPad.
 */
#include <cerrno>
#include <cstdlib>

#include "prosodyconfmixprivate.h"

/* ---- Enums ---- */

GType prosody_conf_mix_gate_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {PROSODY_CONF_MIX_GATE_AUTO, "On when the party also has a src pad, off for a speak-only party", "auto"},
      {PROSODY_CONF_MIX_GATE_ON, "Only speech-active frames are mixed", "on"},
      {PROSODY_CONF_MIX_GATE_OFF, "The input is always mixed", "off"},
      {0, nullptr, nullptr}};
  if (g_once_init_enter(&type)) g_once_init_leave(&type, g_enum_register_static("ProsodyConfMixGate", values));
  return type;
}

GType prosody_conf_mix_tones_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {PROSODY_CONF_MIX_TONES_NONE, "No tone detection", "none"},
      {PROSODY_CONF_MIX_TONES_DTMF, "DTMF digits (dtmf-event messages)", "dtmf"},
      {PROSODY_CONF_MIX_TONES_CALL_PROGRESS, "Call-progress and fax tones (prosody-tone messages)", "call-progress"},
      {0, nullptr, nullptr}};
  if (g_once_init_enter(&type)) g_once_init_leave(&type, g_enum_register_static("ProsodyConfMixTones", values));
  return type;
}

GType prosody_conf_mix_start_time_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {PROSODY_CONF_MIX_START_TIME_ZERO, "Output running time starts at 0", "zero"},
      {PROSODY_CONF_MIX_START_TIME_FIRST, "Output starts at the running time of the first input buffer", "first"},
      {PROSODY_CONF_MIX_START_TIME_NOW, "Live: output starts at the running time mixing starts in PLAYING", "now"},
      {0, nullptr, nullptr}};
  if (g_once_init_enter(&type)) g_once_init_leave(&type, g_enum_register_static("ProsodyConfMixStartTime", values));
  return type;
}

/* ---- heard-by ---- */

bool prosody_gst::parse_heard_by(const char* text, std::vector<guint>& out) {
  out.clear();
  if (!text) return true;
  const char* p = text;
  for (;;) {
    while (g_ascii_isspace(*p)) ++p;
    if (*p == '\0') return out.empty(); /* "" is fine; "1," is not */
    if (!g_ascii_isdigit(*p)) return false;
    char* end = nullptr;
    errno = 0;
    const unsigned long v = std::strtoul(p, &end, 10);
    if (errno != 0 || v > G_MAXUINT) return false;
    out.push_back(static_cast<guint>(v));
    p = end;
    while (g_ascii_isspace(*p)) ++p;
    if (*p == '\0') return true;
    if (*p != ',') return false;
    ++p;
  }
}

/* ---- Sink pad ---- */

/* The largest tone look-ahead: what prosodytonesuppress allows too. */
#define MAX_TONE_LOOKAHEAD (16 * GST_MSECOND)

enum {
  PROP_SINK_0,
  PROP_SINK_MUTE,
  PROP_SINK_GATE,
  PROP_SINK_DETECT_TONES,
  PROP_SINK_SUPPRESS_TONES,
  PROP_SINK_TONE_LOOKAHEAD,
  PROP_SINK_HEARD_BY,
};

G_DEFINE_TYPE(ProsodyConfMixSinkPad, prosody_conf_mix_sink_pad, PROSODY_TYPE_PAD);

static void sink_pad_finalize(GObject* object) {
  g_free(PROSODY_CONF_MIX_SINK_PAD(object)->heard_by);
  G_OBJECT_CLASS(prosody_conf_mix_sink_pad_parent_class)->finalize(object);
}

/* The field behind a plain sink pad property (null for heard-by). */
static void* sink_field(ProsodyConfMixSinkPad* pad, guint id) {
  switch (id) {
    case PROP_SINK_MUTE:
      return &pad->mute;
    case PROP_SINK_GATE:
      return &pad->gate;
    case PROP_SINK_DETECT_TONES:
      return &pad->detect_tones;
    case PROP_SINK_SUPPRESS_TONES:
      return &pad->suppress_tones;
    case PROP_SINK_TONE_LOOKAHEAD:
      return &pad->tone_lookahead;
    default:
      return nullptr;
  }
}

/* heard-by: a list that does not parse is refused with a warning on the
 * bus, and the old routing kept. Returns whether it changed (lock held; it
 * may drop it to post, then returns false with it dropped). */
static bool set_heard_by(ProsodyConfMixSinkPad* pad, const gchar* text, bool* unlocked) {
  std::vector<guint> parsed;
  if (prosody_gst::parse_heard_by(text, parsed)) {
    g_free(pad->heard_by);
    pad->heard_by = g_strdup(text ? text : "");
    return true;
  }
  gchar* old = g_strdup(pad->heard_by);
  PROSODY_OBJECT_UNLOCK(pad);
  *unlocked = true;
  GstElement* parent = gst_pad_get_parent_element(GST_PAD(pad));
  if (parent) {
    GST_ELEMENT_WARNING(parent, LIBRARY, SETTINGS,
                        ("%s: heard-by \"%s\" is not a list of party numbers such as "
                         "\"1\" or \"1,2\"; keeping \"%s\"",
                         GST_PAD_NAME(pad), text, old),
                        (nullptr));
    gst_object_unref(parent);
  } else {
    GST_WARNING_OBJECT(pad, "bad heard-by \"%s\" ignored", text);
  }
  g_free(old);
  return false;
}

static void sink_pad_set_property(GObject* object, guint id, const GValue* value, GParamSpec* pspec) {
  auto* pad = PROSODY_CONF_MIX_SINK_PAD(object);
  void* field = sink_field(pad, id);
  if (!field && id != PROP_SINK_HEARD_BY) {
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
    return;
  }
  bool routing = false, unlocked = false;
  PROSODY_OBJECT_LOCK(pad);
  if (field)
    prosody_gst::set_field(field, value);
  else
    routing = set_heard_by(pad, g_value_get_string(value), &unlocked);
  if (unlocked) return;
  PROSODY_OBJECT_UNLOCK(pad);
  prosody_pad_changed(PROSODY_PAD(pad), routing);
}

static void sink_pad_get_property(GObject* object, guint id, GValue* value, GParamSpec* pspec) {
  auto* pad = PROSODY_CONF_MIX_SINK_PAD(object);
  void* field = sink_field(pad, id);
  if (!field && id != PROP_SINK_HEARD_BY) {
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
    return;
  }
  PROSODY_OBJECT_LOCK(pad);
  if (field)
    prosody_gst::get_field(field, value);
  else
    g_value_set_string(value, pad->heard_by);
  PROSODY_OBJECT_UNLOCK(pad);
}

static constexpr GParamFlags kRW =
    static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
static constexpr GParamFlags kRWC = static_cast<GParamFlags>(kRW | GST_PARAM_CONTROLLABLE);

static void prosody_conf_mix_sink_pad_class_init(ProsodyConfMixSinkPadClass* klass) {
  GObjectClass* gobject_class = G_OBJECT_CLASS(klass);
  PROSODY_PAD_CLASS(klass)->changed = prosody_conf_mix_pad_changed;
  PROSODY_PAD_CLASS(klass)->stats = prosody_conf_mix_pad_stats;
  gobject_class->set_property = sink_pad_set_property;
  gobject_class->get_property = sink_pad_get_property;
  gobject_class->finalize = sink_pad_finalize;

  g_object_class_install_property(
      gobject_class, PROP_SINK_MUTE,
      g_param_spec_boolean("mute", "Mute", "Nobody hears this party (ramped out); its output is unaffected", FALSE,
                           kRWC));
  g_object_class_install_property(gobject_class, PROP_SINK_GATE,
                                  g_param_spec_enum("gate", "Gate",
                                                    "Speech-activity gating of this input: auto = on when the party "
                                                    "also has a src pad (talkers), off for speak-only parties (music "
                                                    "is steady and must not be gated away as noise)",
                                                    PROSODY_TYPE_CONF_MIX_GATE, PROSODY_CONF_MIX_GATE_AUTO, kRW));
  g_object_class_install_property(
      gobject_class, PROP_SINK_DETECT_TONES,
      g_param_spec_enum("detect-tones", "Detect tones",
                        "Tones to detect on this input. dtmf: dtmf-event element messages "
                        "(type=1, number 0-15, method=2, start, volume (-dBm0), timestamp, "
                        "running-time, stream-time, duration (ns, at the end), pad, party), "
                        "one at the digit's start and one at its end. call-progress: "
                        "prosody-tone messages (tone: busy, ring, dial, fax-cng, "
                        "fax-ced...; id, start, level (dBm0), timestamp, running-time, "
                        "stream-time, duration, pad, party)",
                        PROSODY_TYPE_CONF_MIX_TONES, PROSODY_CONF_MIX_TONES_NONE, kRW));
  g_object_class_install_property(gobject_class, PROP_SINK_SUPPRESS_TONES,
                                  g_param_spec_boolean("suppress-tones", "Suppress tones",
                                                       "Remove detected tones from what the other parties hear (only "
                                                       "while detect-tones is not none)",
                                                       TRUE, kRW));
  g_object_class_install_property(
      gobject_class, PROP_SINK_TONE_LOOKAHEAD,
      g_param_spec_uint64("tone-lookahead", "Tone look-ahead",
                          "How far detection looks ahead of what the others hear, in nanoseconds (0-16 ms): "
                          "the party's audio reaches the mix this much later, so that the start of a detected "
                          "tone is removed too (at 0 the first 9-11 ms of a digit are heard). Adds to the "
                          "element's latency. Only while detect-tones is not none",
                          0, MAX_TONE_LOOKAHEAD, 0, kRW));
  g_object_class_install_property(gobject_class, PROP_SINK_HEARD_BY,
                                  g_param_spec_string("heard-by", "Heard by",
                                                      "Comma-separated party numbers (the N of src_N) that hear this "
                                                      "input, e.g. \"1\" or \"1,2\" for a coach or whisper; empty = "
                                                      "every party. A bad list is refused with a warning",
                                                      "", kRW));
}

static void prosody_conf_mix_sink_pad_init(ProsodyConfMixSinkPad* pad) {
  pad->gate = PROSODY_CONF_MIX_GATE_AUTO;
  pad->detect_tones = PROSODY_CONF_MIX_TONES_NONE;
  pad->suppress_tones = TRUE;
  pad->heard_by = g_strdup("");
}

/* ---- Src pad ---- */

enum {
  PROP_SRC_0,
  PROP_SRC_DEAF,
};

G_DEFINE_TYPE(ProsodyConfMixSrcPad, prosody_conf_mix_src_pad, PROSODY_TYPE_PAD);

static void src_pad_set_property(GObject* object, guint id, const GValue* value, GParamSpec* pspec) {
  auto* pad = PROSODY_CONF_MIX_SRC_PAD(object);
  PROSODY_OBJECT_LOCK(pad);
  switch (id) {
    case PROP_SRC_DEAF:
      pad->deaf = g_value_get_boolean(value);
      break;
    default:
      PROSODY_OBJECT_UNLOCK(pad);
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
      return;
  }
  PROSODY_OBJECT_UNLOCK(pad);
  prosody_pad_changed(PROSODY_PAD(pad), FALSE);
}

static void src_pad_get_property(GObject* object, guint id, GValue* value, GParamSpec* pspec) {
  auto* pad = PROSODY_CONF_MIX_SRC_PAD(object);
  PROSODY_OBJECT_LOCK(pad);
  switch (id) {
    case PROP_SRC_DEAF:
      g_value_set_boolean(value, pad->deaf);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
      break;
  }
  PROSODY_OBJECT_UNLOCK(pad);
}

static void prosody_conf_mix_src_pad_class_init(ProsodyConfMixSrcPadClass* klass) {
  GObjectClass* gobject_class = G_OBJECT_CLASS(klass);
  PROSODY_PAD_CLASS(klass)->changed = prosody_conf_mix_pad_changed;
  PROSODY_PAD_CLASS(klass)->stats = prosody_conf_mix_pad_stats;
  gobject_class->set_property = src_pad_set_property;
  gobject_class->get_property = src_pad_get_property;

  g_object_class_install_property(
      gobject_class, PROP_SRC_DEAF,
      g_param_spec_boolean("deaf", "Deaf", "This party hears silence (ramped); others still hear it", FALSE, kRWC));
}

static void prosody_conf_mix_src_pad_init(ProsodyConfMixSrcPad*) {}
