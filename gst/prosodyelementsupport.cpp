/* prosodyelementsupport.cpp - what the prosody elements share. */
#include "prosodyelementsupport.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "prosodytsan.h"

/* ---- The pad base class ---- */

namespace {

struct ProsodyPadPrivate {
  guint index;
  gdouble volume_db;
  gboolean agc;
};

enum { PROP_PAD_0, PROP_PAD_VOLUME, PROP_PAD_AGC, PROP_PAD_STATS };

}  // namespace

G_DEFINE_TYPE_WITH_PRIVATE(ProsodyPad, prosody_pad, GST_TYPE_PAD)

static ProsodyPadPrivate* pad_private(ProsodyPad* pad) {
  return static_cast<ProsodyPadPrivate*>(prosody_pad_get_instance_private(pad));
}

static void prosody_pad_set_property(GObject* object, guint id, const GValue* value, GParamSpec* pspec) {
  ProsodyPad* pad = PROSODY_PAD(object);
  ProsodyPadPrivate* priv = pad_private(pad);
  PROSODY_OBJECT_LOCK(pad);
  switch (id) {
    case PROP_PAD_VOLUME:
      priv->volume_db = g_value_get_double(value);
      break;
    case PROP_PAD_AGC:
      priv->agc = g_value_get_boolean(value);
      break;
    default:
      PROSODY_OBJECT_UNLOCK(pad);
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
      return;
  }
  PROSODY_OBJECT_UNLOCK(pad);
  prosody_pad_changed(pad, FALSE);
}

static void prosody_pad_get_property(GObject* object, guint id, GValue* value, GParamSpec* pspec) {
  ProsodyPad* pad = PROSODY_PAD(object);
  ProsodyPadPrivate* priv = pad_private(pad);
  if (id == PROP_PAD_STATS) {
    ProsodyPadClass* klass = PROSODY_PAD_GET_CLASS(pad);
    g_value_take_boxed(value, klass->stats ? klass->stats(pad) : gst_structure_new_empty("prosody-pad-stats"));
    return;
  }
  PROSODY_OBJECT_LOCK(pad);
  switch (id) {
    case PROP_PAD_VOLUME:
      g_value_set_double(value, priv->volume_db);
      break;
    case PROP_PAD_AGC:
      g_value_set_boolean(value, priv->agc);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
      break;
  }
  PROSODY_OBJECT_UNLOCK(pad);
}

static void prosody_pad_class_init(ProsodyPadClass* klass) {
  GObjectClass* gobject_class = G_OBJECT_CLASS(klass);
  gobject_class->set_property = prosody_pad_set_property;
  gobject_class->get_property = prosody_pad_get_property;
  const auto rw = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  g_object_class_install_property(
      gobject_class, PROP_PAD_VOLUME,
      g_param_spec_double("volume", "Volume",
                          "Gain of this pad's audio in dB (ramped, no clicks); with agc, "
                          "an offset from the AGC target",
                          -60.0, 24.0, 0.0, static_cast<GParamFlags>(rw | GST_PARAM_CONTROLLABLE)));
  g_object_class_install_property(
      gobject_class, PROP_PAD_AGC,
      g_param_spec_boolean("agc", "AGC", "Automatic gain control on this pad's audio", FALSE, rw));
  g_object_class_install_property(
      gobject_class, PROP_PAD_STATS,
      g_param_spec_boxed("stats", "Statistics", "Counters of this pad (the element documents the fields)",
                         GST_TYPE_STRUCTURE, static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));
}

static void prosody_pad_init(ProsodyPad*) {}

guint prosody_pad_get_index(ProsodyPad* pad) { return pad_private(pad)->index; }

void prosody_pad_set_index(ProsodyPad* pad, guint index) { pad_private(pad)->index = index; }

void prosody_pad_get_gain(ProsodyPad* pad, gdouble* volume_db, gboolean* agc) {
  ProsodyPadPrivate* priv = pad_private(pad);
  PROSODY_OBJECT_LOCK(pad);
  *volume_db = priv->volume_db;
  *agc = priv->agc;
  PROSODY_OBJECT_UNLOCK(pad);
}

void prosody_pad_changed(ProsodyPad* pad, gboolean routing_changed) {
  ProsodyPadClass* klass = PROSODY_PAD_GET_CLASS(pad);
  if (klass->changed) klass->changed(pad, routing_changed);
}

namespace prosody_gst {

/* ---- Caps ---- */

GstCaps* caps_at_rate(GstPad* pad, guint rate, GstCaps* filter) {
  GstCaps* caps = gst_pad_get_pad_template_caps(pad);
  if (rate) {
    caps = gst_caps_make_writable(caps);
    gst_caps_set_simple(caps, "rate", G_TYPE_INT, gint(rate), nullptr);
  }
  if (filter) {
    GstCaps* both = gst_caps_intersect_full(filter, caps, GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref(caps);
    caps = both;
  }
  return caps;
}

bool parse_audio_caps(GstCaps* caps, GstAudioInfo* info, const char** why) {
  if (!gst_audio_info_from_caps(info, caps) || GST_AUDIO_INFO_CHANNELS(info) != 1 ||
      GST_AUDIO_INFO_LAYOUT(info) != GST_AUDIO_LAYOUT_INTERLEAVED ||
      (GST_AUDIO_INFO_FORMAT(info) != GST_AUDIO_FORMAT_S16LE &&
       GST_AUDIO_INFO_FORMAT(info) != GST_AUDIO_FORMAT_F32LE)) {
    *why = "not mono S16LE or F32LE audio";
    return false;
  }
  switch (GST_AUDIO_INFO_RATE(info)) {
    case 8000:
    case 16000:
    case 32000:
    case 48000:
      return true;
    default:
      *why = "the rate is not 8000, 16000, 32000 or 48000 Hz";
      return false;
  }
}

/* ---- Properties ---- */

void set_field(void* field, const GValue* value) {
  switch (G_TYPE_FUNDAMENTAL(G_VALUE_TYPE(value))) {
    case G_TYPE_ENUM:
      *static_cast<gint*>(field) = g_value_get_enum(value);
      break;
    case G_TYPE_BOOLEAN:
      *static_cast<gboolean*>(field) = g_value_get_boolean(value);
      break;
    case G_TYPE_UINT64:
      *static_cast<guint64*>(field) = g_value_get_uint64(value);
      break;
    case G_TYPE_DOUBLE:
      *static_cast<gdouble*>(field) = g_value_get_double(value);
      break;
    case G_TYPE_INT:
      *static_cast<gint*>(field) = g_value_get_int(value);
      break;
    case G_TYPE_UINT:
      *static_cast<guint*>(field) = g_value_get_uint(value);
      break;
    default:
      g_critical("set_field: no field type for %s", G_VALUE_TYPE_NAME(value));
  }
}

void get_field(const void* field, GValue* value) {
  switch (G_TYPE_FUNDAMENTAL(G_VALUE_TYPE(value))) {
    case G_TYPE_ENUM:
      g_value_set_enum(value, *static_cast<const gint*>(field));
      break;
    case G_TYPE_BOOLEAN:
      g_value_set_boolean(value, *static_cast<const gboolean*>(field));
      break;
    case G_TYPE_UINT64:
      g_value_set_uint64(value, *static_cast<const guint64*>(field));
      break;
    case G_TYPE_DOUBLE:
      g_value_set_double(value, *static_cast<const gdouble*>(field));
      break;
    case G_TYPE_INT:
      g_value_set_int(value, *static_cast<const gint*>(field));
      break;
    case G_TYPE_UINT:
      g_value_set_uint(value, *static_cast<const guint*>(field));
      break;
    default:
      g_critical("get_field: no field type for %s", G_VALUE_TYPE_NAME(value));
  }
}

/* ---- Samples ---- */

std::size_t sanitise_samples(float* x, std::size_t n) {
  /* A branch-free test eight at a time first (GCC vectorises a block of
   * known length at -O2); fixes are rare. */
  constexpr std::size_t kLanes = 8;
  bool any = false;
  std::size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    int bad = 0;
    for (std::size_t k = 0; k < kLanes; ++k) bad |= !(std::fabs(x[i + k]) <= FLT_MAX); /* NaN fails too */
    any |= bad != 0;
  }
  for (; i < n; ++i) any |= !(std::fabs(x[i]) <= FLT_MAX);
  if (G_LIKELY(!any)) return 0;
  std::size_t fixed = 0;
  for (i = 0; i < n; ++i) {
    if (!std::isfinite(x[i])) {
      x[i] = 0.0f;
      ++fixed;
    }
  }
  return fixed;
}

void store_samples(const float* x, std::size_t n, prosody::SampleFormat format, void* dest) {
  if (format == prosody::SampleFormat::f32)
    std::memcpy(dest, x, n * sizeof(float));
  else
    prosody::float_to_s16(x, static_cast<std::int16_t*>(dest), n);
}

GstBuffer* new_audio_buffer(const float* x, std::size_t n, prosody::SampleFormat format) {
  GstBuffer* buf = gst_buffer_new_allocate(nullptr, n * bytes_per_sample(format), nullptr);
  GstMapInfo map;
  gst_buffer_map(buf, &map, GST_MAP_WRITE);
  store_samples(x, n, format, map.data);
  gst_buffer_unmap(buf, &map);
  return buf;
}

/* ---- Buffers on the timeline ---- */

MappedBuffer* map_buffer(GstBuffer* buffer, GstMapFlags flags) {
  MappedBuffer* m = new MappedBuffer{buffer, GstMapInfo{}};
  if (!gst_buffer_map(buffer, &m->map, flags)) {
    gst_buffer_unref(buffer);
    delete m;
    return nullptr;
  }
  return m;
}

void release_mapped_buffer(void* mapped) {
  MappedBuffer* m = static_cast<MappedBuffer*>(mapped);
  /* A tee may have shared it: whoever else held it is done (and said so). */
  PROSODY_TSAN_ACQUIRE(m->buffer);
  gst_buffer_unmap(m->buffer, &m->map);
  gst_buffer_unref(m->buffer);
  delete m;
}

bool push_buffer(Timeline& timeline, GstBuffer* buffer, GstClockTime rt, guint rate, prosody::SampleFormat format,
                 bool writable, Placement* placement) {
  const bool discont = GST_BUFFER_IS_DISCONT(buffer);
  MappedBuffer* m = map_buffer(buffer, writable ? GST_MAP_READWRITE : GST_MAP_READ);
  if (!m) return false;
  const Placement p =
      timeline.push(position_of(rt, rate), discont, m->map.data, m->map.size, format, &release_mapped_buffer, m);
  if (placement) *placement = p;
  return true;
}

/* ---- Time ---- */

std::int64_t position_of(GstClockTime rt, guint rate) {
  if (!GST_CLOCK_TIME_IS_VALID(rt)) return Timeline::kNoPosition;
  return std::int64_t(time_to_samples(rt, rate));
}

GstClockTime running_time_of(std::int64_t position, guint rate) {
  if (position < 0 || position == Timeline::kNoPosition) return GST_CLOCK_TIME_NONE;
  return samples_to_time(std::uint64_t(position), rate);
}

/* ---- The look-ahead's history ---- */

void RecentInput::add(std::int64_t pos, const float* x, std::size_t n) {
  const std::size_t keep = std::min(n, kCapacity);
  const std::int64_t first = pos + std::int64_t(n - keep);
  for (std::size_t i = 0; i < keep; ++i)
    ring_[std::size_t(first + std::int64_t(i)) % kCapacity] = x ? x[n - keep + i] : 0.0f;
}

void RecentInput::copy(std::int64_t from, std::int64_t to, float* out) const {
  for (std::int64_t p = from; p < to; ++p) out[p - from] = ring_[std::size_t(p) % kCapacity];
}

/* ---- Tone messages ---- */

GstStructure* tone_event_structure(const prosody::ToneEvent& e, const ToneTimes& t) {
  const gint volume = CLAMP(gint(std::lround(-e.level_dbm0)), 0, 36);
  const gboolean start = !e.is_end;
  GstStructure* s;
  if (e.type == prosody::RecognitionType::digit) {
    const int number = prosody::dtmf_char_to_number(static_cast<char>(e.code));
    if (number < 0) return nullptr;
    s = gst_structure_new("dtmf-event", "type", G_TYPE_INT, 1, "number", G_TYPE_INT, number, "method", G_TYPE_INT, 2,
                          "start", G_TYPE_BOOLEAN, start, "volume", G_TYPE_INT, volume, "level", G_TYPE_DOUBLE,
                          e.level_dbm0, nullptr);
  } else {
    const bool cptone = e.type == prosody::RecognitionType::cptone;
    s = gst_structure_new("prosody-tone", "tone", G_TYPE_STRING, cptone ? prosody::cptone_name(e.code) : "tone", "id",
                          G_TYPE_INT, e.code, "id2", G_TYPE_INT, cptone ? -1 : e.code2, "start", G_TYPE_BOOLEAN, start,
                          "level", G_TYPE_DOUBLE, e.level_dbm0, "volume", G_TYPE_INT, volume, nullptr);
  }
  gst_structure_set(s, "timestamp", G_TYPE_UINT64, guint64(t.timestamp), "stream-time", G_TYPE_UINT64,
                    guint64(t.stream_time), "running-time", G_TYPE_UINT64, guint64(t.running_time), nullptr);
  if (e.is_end) gst_structure_set(s, "duration", G_TYPE_UINT64, guint64(t.duration), nullptr);
  return s;
}

prosody::ToneEvent tone_event_of(const prosody::Recognition& r) {
  prosody::ToneEvent e;
  e.type = r.type;
  e.code = r.param0;
  e.code2 = r.param1;
  e.is_end = r.is_end;
  e.start_sample = r.start_sample;
  e.duration_ms = r.duration_ms; /* (a Recognition has no end_sample: the caller times the end) */
  e.level_dbm0 = r.level_dbm0;
  return e;
}

}  // namespace prosody_gst
