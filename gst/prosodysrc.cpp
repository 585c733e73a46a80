/* prosodysrc.cpp - a source emitting a channel's output on a shared module.
 */
/**
 * SECTION:element-prosodysrc
 * @title: prosodysrc
 * @short_description: emits the output of a channel of a shared software
 *   Prosody module
 *
 * The output half of a call: what a channel of a shared module puts out (a
 * party's mix of its conference, a replay, anything the C or C++ API set up
 * on it) as raw audio, one buffer per module frame. prosodysink is the
 * other half. Several prosodysrc may emit one channel's output.
 *
 * Which module and channel: as prosodysink (module, party or channel,
 * conference). Every buffer is mono S16LE or F32LE at the module's rate, as
 * downstream prefers.
 *
 * Real-time module: a live source. Buffers are timestamped from the module's
 * sample counter (sample s of the module is at s / rate on the module's
 * clock) and the element provides that clock, so a pipeline can run on the
 * software processor's clock as on a sound card's; on another pipeline clock
 * the timestamps follow it (the offset between the two clocks is measured
 * and, if it moves by more than half a frame, taken again and the buffer
 * marked DISCONT). The latency is one frame. Frames the pipeline does not
 * take in time (buffer-time) are dropped, the oldest first, and counted.
 *
 * Stepped module: not live. Buffers carry the module's sample counter as
 * timestamps (from 0). The module waits for this element's downstream; when
 * every prosodysink on the module has ended, the element sends EOS.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 prosodysrc party=monitor conference=room ! audioconvert ! \
 *   wavenc ! filesink location=room.wav
 * ]| Records conference "room" of module 0 (a monitor: it hears everyone).
 */
#include "prosodysrc.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <utility>

#include "prosodyelementsupport.h"
#include "prosodyendpoint.h"
#include "prosodytsan.h"

GST_DEBUG_CATEGORY_STATIC(prosody_src_debug);
#define GST_CAT_DEFAULT prosody_src_debug

using prosody_gst::Endpoint;
using prosody_gst::EndpointProperties;
using prosody_gst::OutputTap;
using prosody_gst::SrcPort;

namespace {

constexpr guint64 kDefaultBufferTime = 200 * GST_MSECOND;
constexpr std::int64_t kWaitSliceNs = 100000000;

enum {
  PROP_BUFFER_TIME = prosody_gst::kEndpointPropEnd,
  PROP_STATS,
};

struct SrcState {
  /* ---- Guarded by the element's object lock ---- */
  EndpointProperties props;
  guint64 buffer_time = kDefaultBufferTime;

  /* ---- Guarded by lock ---- */
  std::mutex lock;
  Endpoint endpoint;
  std::shared_ptr<SrcPort> port;
  GstClock* clock = nullptr; /* real time: the module's clock, ours */
  guint rate = 0;
  std::uint32_t frame_samples = 0;
  std::uint32_t capacity_frames = 0;
  bool realtime = false;
  prosody::SampleFormat format = prosody::SampleFormat::s16;

  /* ---- The streaming thread's (create) ---- */
  std::atomic<bool> flushing{false};
  bool discont = true;
  bool have_offset = false;
  GstClockTimeDiff clock_offset = 0; /* pipeline clock - module clock */
  std::atomic<guint64> buffers_out{0};
  std::atomic<guint64> frames_before_start{0};
  std::atomic<guint64> reanchors{0};
};

}  // namespace

struct _ProsodySrc {
  GstPushSrc parent;
  SrcState* state;
};

G_DEFINE_TYPE_WITH_CODE(ProsodySrc, prosody_src, GST_TYPE_PUSH_SRC,
                        GST_DEBUG_CATEGORY_INIT(prosody_src_debug, "prosodysrc", 0,
                                                "Emits a channel's output on a shared Prosody module"));
GST_ELEMENT_REGISTER_DEFINE(prosodysrc, "prosodysrc", GST_RANK_NONE, PROSODY_TYPE_SRC);

static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(PROSODY_AUDIO_CAPS));

/* ---- Data ---- */

/* The running time of a frame of the module, on the pipeline's clock, or
 * NONE if it is before the pipeline started. */
static GstClockTime frame_running_time(ProsodySrc* self, SrcState& st, std::uint64_t first_sample) {
  const GstClockTime module_time = prosody_gst::samples_to_time(first_sample, st.rate);
  if (!st.realtime) return module_time;
  GstClock* clock = gst_element_get_clock(GST_ELEMENT(self));
  if (!clock) return GST_CLOCK_TIME_NONE;
  const GstClockTime base = gst_element_get_base_time(GST_ELEMENT(self));
  GstClockTimeDiff offset = 0;
  if (clock != st.clock) {
    /* Another clock: the module's time on it, measured, and taken again
     * only if it moves by more than half a frame (timestamps stay
     * contiguous). */
    const GstClockTimeDiff measured =
        GstClockTimeDiff(gst_clock_get_time(clock)) - GstClockTimeDiff(gst_clock_get_time(st.clock));
    const GstClockTimeDiff half_frame = GstClockTimeDiff(prosody_gst::samples_to_time(st.frame_samples, st.rate) / 2);
    if (!st.have_offset || std::llabs(measured - st.clock_offset) > half_frame) {
      if (st.have_offset) {
        st.discont = true;
        st.reanchors.fetch_add(1, std::memory_order_relaxed);
        GST_INFO_OBJECT(self, "the module moved %" G_GINT64_FORMAT " ns on the pipeline clock",
                        measured - st.clock_offset);
      }
      st.clock_offset = measured;
      st.have_offset = true;
    }
    offset = st.clock_offset;
  }
  gst_object_unref(clock);
  const GstClockTimeDiff t = GstClockTimeDiff(module_time) + offset - GstClockTimeDiff(base);
  return t < 0 ? GST_CLOCK_TIME_NONE : GstClockTime(t);
}

static GstFlowReturn prosody_src_create(GstPushSrc* push_src, GstBuffer** out) {
  ProsodySrc* self = PROSODY_SRC(push_src);
  PROSODY_TSAN_ACQUIRE(self); /* before anything of it is read */
  SrcState& st = *self->state;
  std::shared_ptr<SrcPort> port;
  std::shared_ptr<prosody_gst::ModuleHub> hub;
  {
    std::lock_guard<std::mutex> lk(st.lock);
    port = st.port;
    hub = st.endpoint.hub;
  }
  if (!port) return GST_FLOW_FLUSHING;
  OutputTap& tap = port->tap;
  for (;;) {
    const std::uint32_t ticket = tap.consumer_wakeup().ticket();
    if (st.flushing.load()) return GST_FLOW_FLUSHING;
    /* Downstream fell behind by the whole buffer: on with the newest. */
    if (st.realtime && tap.queued() >= st.capacity_frames && tap.drop_oldest(1) > 0) st.discont = true;
    OutputTap::Frame* f = tap.front();
    if (!f) {
      tap.consumer_wakeup().wait(ticket, kWaitSliceNs);
      continue;
    }
    if (f->eos) {
      tap.pop();
      GST_INFO_OBJECT(self, "every sink on the module has ended");
      return GST_FLOW_EOS;
    }
    if (st.realtime && f->due_ns < port->active_since_ns.load()) {
      tap.pop(); /* made before this element last went to PLAYING */
      continue;
    }
    const GstClockTime pts = frame_running_time(self, st, f->first_sample);
    if (!GST_CLOCK_TIME_IS_VALID(pts)) {
      tap.pop(); /* before the pipeline started */
      st.frames_before_start.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    const std::size_t n = st.frame_samples;
    GstBuffer* buffer = prosody_gst::new_audio_buffer(f->samples.data(), n, st.format);
    GST_BUFFER_PTS(buffer) = pts;
    GST_BUFFER_DURATION(buffer) = prosody_gst::samples_to_time(n, st.rate);
    GST_BUFFER_OFFSET(buffer) = f->first_sample;
    GST_BUFFER_OFFSET_END(buffer) = f->first_sample + n;
    if (st.discont) {
      GST_BUFFER_FLAG_SET(buffer, GST_BUFFER_FLAG_DISCONT);
      st.discont = false;
    }
    tap.pop();
    /* The last buffer of num-buffers: the frames after it are nobody's (not
     * drops), and a stepped module must not wait for room for them. */
    if (GST_BASE_SRC(self)->num_buffers_left == 0) port->active = false;
    if (!st.realtime) hub->poke();
    st.buffers_out.fetch_add(1, std::memory_order_relaxed);
    PROSODY_TSAN_RELEASE(buffer);
    *out = buffer;
    return GST_FLOW_OK;
  }
}

static gboolean prosody_src_unlock(GstBaseSrc* base) {
  ProsodySrc* self = PROSODY_SRC(base);
  PROSODY_TSAN_ACQUIRE(self); /* called from GStreamer's threads */
  SrcState& st = *self->state;
  st.flushing = true;
  std::lock_guard<std::mutex> lk(st.lock);
  if (st.port) st.port->tap.consumer_wakeup().notify();
  return TRUE;
}

static gboolean prosody_src_unlock_stop(GstBaseSrc* base) {
  PROSODY_TSAN_ACQUIRE(PROSODY_SRC(base));
  PROSODY_SRC(base)->state->flushing = false;
  return TRUE;
}

/* ---- Caps and queries ---- */

static GstCaps* prosody_src_get_caps(GstBaseSrc* base, GstCaps* filter) {
  ProsodySrc* self = PROSODY_SRC(base);
  PROSODY_TSAN_ACQUIRE(self); /* called from GStreamer's threads */
  guint rate;
  {
    std::lock_guard<std::mutex> lk(self->state->lock);
    rate = self->state->rate;
  }
  return prosody_gst::caps_at_rate(GST_BASE_SRC_PAD(base), rate, filter);
}

static gboolean prosody_src_set_caps(GstBaseSrc* base, GstCaps* caps) {
  ProsodySrc* self = PROSODY_SRC(base);
  PROSODY_TSAN_ACQUIRE(self); /* called from GStreamer's threads */
  GstAudioInfo info;
  const char* why = nullptr;
  if (!prosody_gst::parse_audio_caps(caps, &info, &why)) {
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("%s: downstream caps %s", GST_ELEMENT_NAME(self), why),
                      ("%" GST_PTR_FORMAT, caps));
    return FALSE;
  }
  std::lock_guard<std::mutex> lk(self->state->lock);
  self->state->format = prosody_gst::sample_format_of(&info);
  return TRUE;
}

static gboolean prosody_src_query(GstBaseSrc* base, GstQuery* query) {
  ProsodySrc* self = PROSODY_SRC(base);
  PROSODY_TSAN_ACQUIRE(self); /* called from GStreamer's threads */
  SrcState& st = *self->state;
  if (GST_QUERY_TYPE(query) == GST_QUERY_LATENCY) {
    std::lock_guard<std::mutex> lk(st.lock);
    if (!st.endpoint.hub) return FALSE;
    /* A frame is emitted once the module has processed it, a frame after
     * its first sample. */
    const GstClockTime frame = GstClockTime(st.endpoint.hub->frame_ns());
    gst_query_set_latency(query, st.realtime, st.realtime ? frame : 0,
                          st.realtime ? frame * st.capacity_frames : GST_CLOCK_TIME_NONE);
    return TRUE;
  }
  return GST_BASE_SRC_CLASS(prosody_src_parent_class)->query(base, query);
}

static gboolean prosody_src_is_seekable(GstBaseSrc*) { return FALSE; }

static GstClock* prosody_src_provide_clock(GstElement* element) {
  PROSODY_TSAN_ACQUIRE(PROSODY_SRC(element));
  SrcState& st = *PROSODY_SRC(element)->state;
  std::lock_guard<std::mutex> lk(st.lock);
  return st.realtime && st.clock ? GST_CLOCK(gst_object_ref(st.clock)) : nullptr;
}

/* ---- States ---- */

static bool open(ProsodySrc* self) {
  SrcState& st = *self->state;
  PROSODY_OBJECT_LOCK(self);
  const EndpointProperties props = st.props;
  const guint64 buffer_time = st.buffer_time;
  PROSODY_OBJECT_UNLOCK(self);
  Endpoint endpoint;
  if (!prosody_gst::open_endpoint(GST_ELEMENT(self), props, prosody_gst::EndpointKind::src, endpoint)) return false;
  const bool realtime = endpoint.hub->realtime();
  /* Live or not is decided before READY->PAUSED (a live source does not
   * preroll). */
  gst_base_src_set_live(GST_BASE_SRC(self), realtime);
  std::lock_guard<std::mutex> lk(st.lock);
  st.realtime = realtime;
  st.rate = endpoint.hub->rate();
  st.frame_samples = endpoint.hub->frame_samples();
  st.capacity_frames = std::uint32_t(std::max<guint64>(buffer_time / guint64(endpoint.hub->frame_ns()), 2));
  if (realtime) {
    gchar* name = g_strdup_printf("%s-clock", GST_ELEMENT_NAME(self));
    st.clock = prosody_gst::module_clock_new(endpoint.hub->module(), name);
    g_free(name);
  }
  st.endpoint = std::move(endpoint);
  return true;
}

static bool attach(ProsodySrc* self) {
  SrcState& st = *self->state;
  std::lock_guard<std::mutex> lk(st.lock);
  std::string error;
  st.port = st.endpoint.hub->attach_src(st.endpoint.id, st.capacity_frames, error);
  if (!st.port) {
    GST_ELEMENT_ERROR(self, RESOURCE, BUSY, ("%s: %s", GST_ELEMENT_NAME(self), error.c_str()), (nullptr));
    return false;
  }
  st.flushing = false;
  st.discont = true;
  st.have_offset = false;
  GST_INFO_OBJECT(self, "emits channel 0x%" G_GINT64_MODIFIER "x of module %s (%s)",
                  (guint64)st.endpoint.hub->channel_of(st.endpoint.id), st.endpoint.hub->name().c_str(),
                  st.realtime ? "real time: live" : "stepped");
  return true;
}

static GstStateChangeReturn prosody_src_change_state(GstElement* element, GstStateChange transition) {
  ProsodySrc* self = PROSODY_SRC(element);
  SrcState& st = *self->state;
  PROSODY_TSAN_RELEASE(self);

  switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY:
      if (!open(self)) return GST_STATE_CHANGE_FAILURE;
      break;
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      if (!attach(self)) return GST_STATE_CHANGE_FAILURE;
      break;
    case GST_STATE_CHANGE_PAUSED_TO_PLAYING: {
      /* Live: from now on, what the module makes (nothing stale). */
      std::lock_guard<std::mutex> lk(st.lock);
      if (st.port && st.realtime) {
        st.port->active_since_ns = prosody_gst::monotonic_ns();
        st.port->active = true;
      }
      break;
    }
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED: {
      std::lock_guard<std::mutex> lk(st.lock);
      if (st.port && st.realtime) st.port->active = false;
      break;
    }
    default:
      break;
  }

  const GstStateChangeReturn ret = GST_ELEMENT_CLASS(prosody_src_parent_class)->change_state(element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE) return ret;

  switch (transition) {
    case GST_STATE_CHANGE_PAUSED_TO_READY: {
      PROSODY_TSAN_ACQUIRE(self); /* the streaming thread has stopped */
      std::lock_guard<std::mutex> lk(st.lock);
      st.endpoint.detach();
      st.port.reset();
      break;
    }
    case GST_STATE_CHANGE_READY_TO_NULL: {
      GstClock* clock;
      {
        std::lock_guard<std::mutex> lk(st.lock);
        clock = std::exchange(st.clock, nullptr);
        st.rate = 0;
      }
      prosody_gst::close_endpoint(st.lock, st.endpoint);
      if (clock) {
        prosody_gst::module_clock_forget(clock);
        gst_object_unref(clock);
      }
      break;
    }
    default:
      break;
  }
  return ret;
}

/* ---- Properties ---- */

static GstStructure* src_stats(ProsodySrc* self) {
  SrcState& st = *self->state;
  std::lock_guard<std::mutex> lk(st.lock);
  GstStructure* stats =
      prosody_gst::endpoint_stats_new("prosodysrc-stats", st.endpoint, st.port ? guint64(st.port->channel.value) : 0);
  gst_structure_set(stats, "buffers-out", G_TYPE_UINT64, (guint64)st.buffers_out.load(), "dropped-frames",
                    G_TYPE_UINT64, (guint64)(st.port ? st.port->tap.dropped() : 0), "queued-frames", G_TYPE_UINT64,
                    (guint64)(st.port ? st.port->tap.queued() : 0), "clock-resyncs", G_TYPE_UINT64,
                    (guint64)st.reanchors.load(), nullptr);
  return stats;
}

static void prosody_src_set_property(GObject* object, guint id, const GValue* value, GParamSpec* pspec) {
  ProsodySrc* self = PROSODY_SRC(object);
  SrcState& st = *self->state;
  PROSODY_OBJECT_LOCK(self);
  if (!prosody_gst::set_endpoint_property(st.props, id, value)) {
    if (id == PROP_BUFFER_TIME)
      st.buffer_time = g_value_get_uint64(value);
    else
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
  PROSODY_OBJECT_UNLOCK(self);
}

static void prosody_src_get_property(GObject* object, guint id, GValue* value, GParamSpec* pspec) {
  ProsodySrc* self = PROSODY_SRC(object);
  SrcState& st = *self->state;
  if (id == PROP_STATS) {
    g_value_take_boxed(value, src_stats(self));
    return;
  }
  PROSODY_OBJECT_LOCK(self);
  if (!prosody_gst::get_endpoint_property(st.props, id, value)) {
    if (id == PROP_BUFFER_TIME)
      g_value_set_uint64(value, st.buffer_time);
    else
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
  PROSODY_OBJECT_UNLOCK(self);
}

/* ---- Class ---- */

static void prosody_src_finalize(GObject* object) {
  ProsodySrc* self = PROSODY_SRC(object);
  if (self->state->clock) gst_object_unref(self->state->clock);
  delete self->state;
  self->state = nullptr;
  G_OBJECT_CLASS(prosody_src_parent_class)->finalize(object);
}

static void prosody_src_init(ProsodySrc* self) {
  self->state = new SrcState();
  gst_base_src_set_format(GST_BASE_SRC(self), GST_FORMAT_TIME);
  gst_base_src_set_do_timestamp(GST_BASE_SRC(self), FALSE);
  /* A real-time module's clock is offered (provide_clock says whether). */
  GST_OBJECT_FLAG_SET(self, GST_ELEMENT_FLAG_PROVIDE_CLOCK);
  PROSODY_TSAN_RELEASE(self);
}

static void prosody_src_class_init(ProsodySrcClass* klass) {
  GObjectClass* gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);
  GstBaseSrcClass* basesrc_class = GST_BASE_SRC_CLASS(klass);
  GstPushSrcClass* pushsrc_class = GST_PUSH_SRC_CLASS(klass);
  gobject_class->set_property = prosody_src_set_property;
  gobject_class->get_property = prosody_src_get_property;
  gobject_class->finalize = prosody_src_finalize;

  prosody_gst::install_endpoint_properties(gobject_class, "emits its output (several may: the output fans out)");
  g_object_class_install_property(
      gobject_class, PROP_BUFFER_TIME,
      g_param_spec_uint64(
          "buffer-time", "Buffer time",
          "Real time: the most output held for downstream, ns; when downstream falls that far "
          "behind, the oldest frames are dropped (counted in stats as dropped-frames). Stepped: "
          "how far the module may run ahead of downstream. Read at NULL->READY",
          20 * GST_MSECOND, 10 * GST_SECOND, kDefaultBufferTime,
          static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY)));
  g_object_class_install_property(
      gobject_class, PROP_STATS,
      g_param_spec_boxed("stats", "Statistics",
                         "prosodysrc-stats: channel (the channel emitted, guint64), live, buffers-out, "
                         "dropped-frames (downstream did not take them in time), queued-frames, clock-resyncs "
                         "(times the module's offset on another pipeline clock was taken again)",
                         GST_TYPE_STRUCTURE, static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(
      element_class, "Prosody channel source", "Source/Audio",
      "Emits the output of a channel of a shared software Prosody module (a party's conference mix, a replay); "
      "live on a real-time module, whose clock it provides",
      "Prosody project");
  element_class->change_state = GST_DEBUG_FUNCPTR(prosody_src_change_state);
  element_class->provide_clock = GST_DEBUG_FUNCPTR(prosody_src_provide_clock);
  basesrc_class->unlock = GST_DEBUG_FUNCPTR(prosody_src_unlock);
  basesrc_class->unlock_stop = GST_DEBUG_FUNCPTR(prosody_src_unlock_stop);
  basesrc_class->get_caps = GST_DEBUG_FUNCPTR(prosody_src_get_caps);
  basesrc_class->set_caps = GST_DEBUG_FUNCPTR(prosody_src_set_caps);
  basesrc_class->query = GST_DEBUG_FUNCPTR(prosody_src_query);
  basesrc_class->is_seekable = GST_DEBUG_FUNCPTR(prosody_src_is_seekable);
  pushsrc_class->create = GST_DEBUG_FUNCPTR(prosody_src_create);
}
