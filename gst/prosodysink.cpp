/* prosodysink.cpp - feeds a pipeline's audio into a channel's input on a
 * shared module.
 */
/**
 * SECTION:element-prosodysink
 * @title: prosodysink
 * @short_description: feeds audio into a channel's input on a shared
 *   software Prosody module
 *
 * The input half of a call: what the pipeline brings (a caller's voice from
 * RTP, a file, music) goes into the input of a channel of a shared module,
 * where conferences, recordings and tone detection set up through the C or
 * C++ API, or through the conference property, take it. prosodysrc is the
 * other half.
 *
 * Which module: the module property ("0": module 0 of the software card, as
 * sm_open_module opens it; any other name: a named module), opened at
 * NULL->READY. Which channel: party (a name; the channel is allocated when
 * the first element naming it goes to PAUSED, released when none does) or
 * channel (an id from the C or C++ API). Two sinks cannot feed one input.
 *
 * Real-time module (live): the audio is placed by its timestamps on an
 * input timeline (gaps are concealed by the module, overlaps trimmed, a
 * DISCONT buffer placed at its time) and goes through a small elastic
 * buffer: the module takes the first frame once it has waited the latency
 * property (the jitter margin). A frame the module needs and does not have is
 * an underrun (the module conceals it); audio beyond buffer-time drops the
 * oldest (an overrun); both are counted in stats and reported with a warning
 * at most every 5 s. The time a typical frame waits (the 25th percentile
 * over half a second: the late frames of network jitter do not move it) is
 * held between half the margin and the margin plus two frames by dropping or
 * repeating one sample in one frame of ten, when two half-second windows in
 * a row are out of that band on the same side (jitter is not drift): that absorbs
 * clock drift between the source (an RTP sender, a sound card) and the
 * module up to 0.125% (1250 ppm); a backlog far above the band (a burst
 * after a stall) is dropped at once as an overrun. A non-live upstream (a file) is paced by
 * the module
 * instead: it waits for room.
 *
 * Stepped module (non-live): the module is stepped by the elements, a frame
 * at a time, when every sink on it has that frame (or has ended) and every
 * src has room: the slowest feeder sets the pace and the result does not
 * depend on thread timing. A sink that ends (EOS) stops holding the module;
 * when every sink has ended, every prosodysrc ends too.
 *
 * The element does not synchronise to the pipeline clock (the module has
 * its own) and is not counted in the pipeline's latency.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 audiotestsrc is-live=true freq=440 ! audio/x-raw,rate=8000 ! \
 *   prosodysink party=alice conference=room \
 *   prosodysrc party=alice conference=room ! audioconvert ! autoaudiosink
 * ]| Alice's call in conference "room" on module 0 (run one per caller in one
 * process, or see the RTP bridge in docs/prosodysink.md).
 */
#include "prosodysink.h"

#include <mutex>
#include <string>

#include "prosodyelementsupport.h"
#include "prosodyendpoint.h"
#include "prosodytimeline.hpp"
#include "prosodytsan.h"

GST_DEBUG_CATEGORY_STATIC(prosody_sink_debug);
#define GST_CAT_DEFAULT prosody_sink_debug

using prosody_gst::Endpoint;
using prosody_gst::EndpointProperties;
using prosody_gst::InputFifo;
using prosody_gst::SinkPort;
using prosody_gst::Timeline;

namespace {

constexpr guint64 kDefaultLatency = 5 * GST_MSECOND;
constexpr guint64 kDefaultBufferTime = 100 * GST_MSECOND;
constexpr guint64 kDefaultAlignmentThreshold = 40 * GST_MSECOND;
/* A producer waiting for room looks again this often at the latest. */
constexpr std::int64_t kWaitSliceNs = 100000000;

enum {
  PROP_LATENCY = prosody_gst::kEndpointPropEnd,
  PROP_BUFFER_TIME,
  PROP_ALIGNMENT_THRESHOLD,
  PROP_STATS,
};

/* The element's inside (a C++ object behind the GObject). */
struct SinkState {
  /* ---- Guarded by the element's object lock ---- */
  EndpointProperties props;
  guint64 latency = kDefaultLatency;
  guint64 buffer_time = kDefaultBufferTime;
  guint64 alignment_threshold = kDefaultAlignmentThreshold;

  /* ---- Guarded by lock ---- */
  std::mutex lock;
  Endpoint endpoint;              /* NULL->READY .. READY->NULL */
  std::shared_ptr<SinkPort> port; /* READY->PAUSED .. PAUSED->READY */
  guint rate = 0;
  GstSegment segment;
  bool have_caps = false;
  prosody::SampleFormat format = prosody::SampleFormat::s16;
  Timeline timeline;
  bool flushing = true;
  bool eos = false;          /* EOS received */
  bool ended_pushed = false; /* the frame that ends the stream is queued */
  bool playing = false;
  bool eos_to_post = false; /* EOS came before PLAYING: posted then */
  guint32 eos_seqnum = 0;
  bool upstream_checked = false;
  bool upstream_live = false;
  bool caps_refusal_told = false; /* the error for caps the module cannot take is posted */
  guint64 buffers_in = 0;
  gint64 underrun_warned_us = 0, overrun_warned_us = 0;
  std::uint64_t underruns_told = 0, overruns_told = 0;
};

}  // namespace

struct _ProsodySink {
  GstElement parent;
  GstPad* sinkpad;
  SinkState* state;
};

G_DEFINE_TYPE_WITH_CODE(ProsodySink, prosody_sink, GST_TYPE_ELEMENT,
                        GST_DEBUG_CATEGORY_INIT(prosody_sink_debug, "prosodysink", 0,
                                                "Feeds a channel's input on a shared Prosody module"));
GST_ELEMENT_REGISTER_DEFINE(prosodysink, "prosodysink", GST_RANK_NONE, PROSODY_TYPE_SINK);

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(PROSODY_AUDIO_CAPS));

namespace {

/* Messages posted once the lock is dropped. */
struct Posts {
  GstElement* element;
  std::vector<GstMessage*> list;
  explicit Posts(GstElement* e) : element(e) {}
  ~Posts() {
    for (GstMessage* m : list) gst_element_post_message(element, m);
  }
};

void warn(ProsodySink* self, Posts& posts, const std::string& text, const std::string& debug) {
  GError* error = g_error_new_literal(GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED, text.c_str());
  posts.list.push_back(gst_message_new_warning(GST_OBJECT(self), error, debug.c_str()));
  g_error_free(error);
}

/* Underruns and overruns since they were last told, at most every 5 s each
 * (lock held). */
void report_counters(ProsodySink* self, SinkState& st, Posts& posts) {
  if (!st.port) return;
  const prosody_gst::ElasticCounters c = st.port->fifo.counters();
  if (c.underruns > st.underruns_told && prosody_gst::warning_due(st.underrun_warned_us)) {
    warn(self, posts,
         std::string(GST_ELEMENT_NAME(self)) + ": " + std::to_string(c.underruns - st.underruns_told) +
             " frames of input came too late for the module (underrun); it concealed them",
         "the input arrives later than the latency property allows: raise latency (jitter margin), or find what "
         "delays the pipeline");
    st.underruns_told = c.underruns;
  }
  if (c.overrun_frames > st.overruns_told && prosody_gst::warning_due(st.overrun_warned_us)) {
    warn(self, posts,
         std::string(GST_ELEMENT_NAME(self)) + ": " + std::to_string(c.overrun_frames - st.overruns_told) +
             " frames of input were dropped, the oldest first (overrun): more than buffer-time was queued",
         "the input came in a burst, or faster than the module takes it");
    st.overruns_told = c.overrun_frames;
  }
}

/* Whether upstream is live (lock not held). */
bool upstream_is_live(GstPad* pad) {
  GstQuery* q = gst_query_new_latency();
  gboolean live = FALSE;
  if (gst_pad_peer_query(pad, q)) gst_query_parse_latency(q, &live, nullptr, nullptr);
  gst_query_unref(q);
  return live;
}

/* Moves every frame the timeline holds into the elastic buffer (lock held,
 * dropped while waiting for room). at_eos: until the frame that ends the
 * stream is queued. */
GstFlowReturn feed_module(SinkState& st, std::unique_lock<std::mutex>& lk, bool at_eos) {
  while (st.port && !st.ended_pushed) {
    InputFifo& fifo = st.port->fifo;
    const std::uint32_t take = fifo.next_take();
    if (!st.timeline.ready(take)) break;
    const std::uint32_t ticket = fifo.producer_wakeup().ticket();
    if (!fifo.room()) {
      /* Live: the consumer drops the oldest at its next frame; these wait
       * in the timeline until then. */
      if (fifo.settings().elastic && fifo.drop_oldest() && !at_eos) break;
      const std::shared_ptr<SinkPort> port = st.port;
      lk.unlock();
      port->fifo.producer_wakeup().wait(ticket, kWaitSliceNs);
      lk.lock();
      if (st.flushing || st.port != port) return GST_FLOW_FLUSHING;
      continue;
    }
    fifo.push(st.timeline, take, prosody_gst::monotonic_ns());
    if (st.timeline.drained()) st.ended_pushed = true;
    if (!st.endpoint.hub->realtime()) st.endpoint.hub->poke();
  }
  return GST_FLOW_OK;
}

GstClockTime running_time(const SinkState& st, GstClockTime ts) {
  if (!GST_CLOCK_TIME_IS_VALID(ts)) return GST_CLOCK_TIME_NONE;
  return gst_segment_to_running_time(&st.segment, GST_FORMAT_TIME, ts);
}

}  // namespace

/* ---- Data ---- */

static GstFlowReturn sink_chain(GstPad* pad, GstObject* parent, GstBuffer* buffer) {
  ProsodySink* self = PROSODY_SINK(parent);
  PROSODY_TSAN_ACQUIRE(self); /* before anything of it is read */
  SinkState& st = *self->state;
  PROSODY_TSAN_ACQUIRE(buffer);
  Posts posts(GST_ELEMENT(self));

  PROSODY_OBJECT_LOCK(self);
  const guint64 threshold_ns = st.alignment_threshold;
  PROSODY_OBJECT_UNLOCK(self);

  std::unique_lock<std::mutex> lk(st.lock);
  if (st.flushing || !st.port) {
    gst_buffer_unref(buffer);
    return GST_FLOW_FLUSHING;
  }
  if (st.eos) {
    gst_buffer_unref(buffer);
    return GST_FLOW_EOS;
  }
  if (!st.have_caps) {
    lk.unlock();
    gst_buffer_unref(buffer);
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("%s: audio arrived before its caps", GST_ELEMENT_NAME(self)),
                      (nullptr));
    return GST_FLOW_NOT_NEGOTIATED;
  }
  if (!st.upstream_checked) {
    /* A live source's excess is dropped; a file is paced by the module. */
    lk.unlock();
    const bool live = upstream_is_live(pad);
    lk.lock();
    if (!st.port) {
      gst_buffer_unref(buffer);
      return GST_FLOW_FLUSHING;
    }
    st.upstream_checked = true;
    st.upstream_live = live;
    st.port->fifo.set_drop_oldest(live);
    GST_INFO_OBJECT(self, "upstream is %s", live ? "live: overruns drop the oldest audio" : "not live: paced");
  }
  ++st.buffers_in;
  const guint rate = st.rate;
  const std::size_t bps = prosody_gst::bytes_per_sample(st.format);
  st.timeline.set_settings({gst_util_uint64_scale_int(threshold_ns, gint(rate), GST_SECOND), 0});

  if (gst_buffer_get_size(buffer) < bps) {
    /* An empty buffer says nothing about audio, except as a gap. */
    const GstClockTime rt = running_time(st, GST_BUFFER_PTS(buffer));
    const GstClockTime duration = GST_BUFFER_DURATION(buffer);
    gst_buffer_unref(buffer);
    if (GST_CLOCK_TIME_IS_VALID(rt) && GST_CLOCK_TIME_IS_VALID(duration) && duration > 0)
      st.timeline.mark_missing(prosody_gst::position_of(rt, rate), prosody_gst::time_to_samples(duration, rate));
  } else {
    buffer = gst_audio_buffer_clip(buffer, &st.segment, gint(rate), gint(bps));
    if (!buffer) return GST_FLOW_OK; /* wholly outside the segment */
    const GstClockTime rt = running_time(st, GST_BUFFER_PTS(buffer));
    if (!prosody_gst::push_buffer(st.timeline, buffer, rt, rate, st.format, false)) {
      lk.unlock();
      GST_ELEMENT_ERROR(self, RESOURCE, READ, ("%s: cannot map a buffer", GST_ELEMENT_NAME(self)), (nullptr));
      return GST_FLOW_ERROR;
    }
  }
  const GstFlowReturn ret = feed_module(st, lk, false);
  report_counters(self, st, posts);
  return ret;
}

/* ---- Events ---- */

static gboolean sink_set_caps(ProsodySink* self, GstCaps* caps) {
  SinkState& st = *self->state;
  GstAudioInfo info;
  const char* why = nullptr;
  guint rate;
  {
    std::lock_guard<std::mutex> lk(st.lock);
    rate = st.rate;
  }
  if (!prosody_gst::parse_audio_caps(caps, &info, &why)) {
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("%s: %s", GST_ELEMENT_NAME(self), why),
                      ("prosodysink takes mono S16LE or F32LE at the module's rate (%u Hz): put audioconvert ! "
                       "audioresample in front (caps %" GST_PTR_FORMAT ")",
                       rate, caps));
    return FALSE;
  }
  if (guint(info.rate) != rate) {
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION,
                      ("%s: sample rate %d Hz, but the module runs at %u Hz", GST_ELEMENT_NAME(self), info.rate, rate),
                      ("put audioresample in front of %s", GST_ELEMENT_NAME(self)));
    return FALSE;
  }
  std::lock_guard<std::mutex> lk(st.lock);
  st.format = prosody_gst::sample_format_of(&info);
  st.have_caps = true;
  return TRUE;
}

static void post_eos(ProsodySink* self, guint32 seqnum) {
  GstMessage* m = gst_message_new_eos(GST_OBJECT(self));
  gst_message_set_seqnum(m, seqnum);
  gst_element_post_message(GST_ELEMENT(self), m);
}

static gboolean sink_event(GstPad* pad, GstObject* parent, GstEvent* event) {
  ProsodySink* self = PROSODY_SINK(parent);
  PROSODY_TSAN_ACQUIRE(self); /* before anything of it is read */
  SinkState& st = *self->state;
  gboolean ret = TRUE;
  GST_LOG_OBJECT(pad, "event %" GST_PTR_FORMAT, event);
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_CAPS: {
      GstCaps* caps;
      gst_event_parse_caps(event, &caps);
      ret = sink_set_caps(self, caps);
      break;
    }
    case GST_EVENT_SEGMENT: {
      const GstSegment* seg;
      gst_event_parse_segment(event, &seg);
      if (seg->format != GST_FORMAT_TIME) {
        GST_ELEMENT_ERROR(self, STREAM, FORMAT,
                          ("%s: segment in %s format; only TIME is supported", GST_ELEMENT_NAME(self),
                           gst_format_get_name(seg->format)),
                          (nullptr));
        ret = FALSE;
        break;
      }
      std::lock_guard<std::mutex> lk(st.lock);
      st.segment = *seg;
      st.timeline.resync(); /* placed by timestamp from now on */
      break;
    }
    case GST_EVENT_GAP: {
      GstClockTime ts, duration;
      gst_event_parse_gap(event, &ts, &duration);
      std::unique_lock<std::mutex> lk(st.lock);
      const GstClockTime rt = running_time(st, ts);
      if (!st.port || !GST_CLOCK_TIME_IS_VALID(rt) || !st.rate) break;
      /* Nothing there: the module conceals it. */
      const std::uint64_t count = GST_CLOCK_TIME_IS_VALID(duration) ? prosody_gst::time_to_samples(duration, st.rate)
                                                                    : st.endpoint.hub->frame_samples();
      st.timeline.mark_missing(prosody_gst::position_of(rt, st.rate), count);
      feed_module(st, lk, false);
      break;
    }
    case GST_EVENT_EOS: {
      bool post = false;
      {
        std::unique_lock<std::mutex> lk(st.lock);
        if (!st.port || st.eos) break;
        st.timeline.end();
        feed_module(st, lk, true);
        st.eos = true;
        st.eos_seqnum = gst_event_get_seqnum(event);
        post = st.playing;
        st.eos_to_post = !post;
        GST_DEBUG_OBJECT(self, "EOS at sample %" G_GINT64_FORMAT, st.timeline.read_position());
      }
      if (post) post_eos(self, gst_event_get_seqnum(event));
      break;
    }
    case GST_EVENT_FLUSH_START: {
      std::lock_guard<std::mutex> lk(st.lock);
      st.flushing = true;
      if (st.port) st.port->fifo.producer_wakeup().notify();
      break;
    }
    case GST_EVENT_FLUSH_STOP: {
      std::lock_guard<std::mutex> lk(st.lock);
      st.flushing = false;
      st.timeline.flush();
      gst_segment_init(&st.segment, GST_FORMAT_TIME);
      st.eos = st.ended_pushed = st.eos_to_post = false;
      if (st.port) st.port->fifo.restart();
      break;
    }
    default:
      break;
  }
  gst_event_unref(event);
  return ret;
}

static gboolean sink_query(GstPad* pad, GstObject* parent, GstQuery* query) {
  ProsodySink* self = PROSODY_SINK(parent);
  PROSODY_TSAN_ACQUIRE(self); /* before anything of it is read */
  SinkState& st = *self->state;
  switch (GST_QUERY_TYPE(query)) {
    case GST_QUERY_CAPS: {
      GstCaps* filter;
      gst_query_parse_caps(query, &filter);
      guint rate;
      bool tell_refusal = false;
      {
        std::lock_guard<std::mutex> lk(st.lock);
        rate = st.rate;
      }
      /* The module's rate only, so that an audioresample in front adapts. */
      GstCaps* caps = prosody_gst::caps_at_rate(pad, rate, filter);
      if (rate && filter && !gst_caps_is_any(filter) && gst_caps_is_empty(caps)) {
        /* Upstream offers only what the module cannot take: negotiation
         * will fail, and upstream would only say "not-negotiated". Said
         * here once per stream, with what was offered. */
        std::lock_guard<std::mutex> lk(st.lock);
        tell_refusal = !st.caps_refusal_told;
        st.caps_refusal_told = true;
      }
      if (tell_refusal) {
        gchar* offered = gst_caps_to_string(filter);
        GST_ELEMENT_ERROR(self, CORE, NEGOTIATION,
                          ("%s: the module runs at %u Hz, mono S16LE or F32LE, and upstream offers only %s",
                           GST_ELEMENT_NAME(self), rate, offered),
                          ("put audioconvert ! audioresample in front of %s", GST_ELEMENT_NAME(self)));
        g_free(offered);
      }
      gst_query_set_caps_result(query, caps);
      gst_caps_unref(caps);
      return TRUE;
    }
    case GST_QUERY_ACCEPT_CAPS: {
      /* Any raw audio: the caps event then says what is wrong. */
      GstCaps* caps;
      gst_query_parse_accept_caps(query, &caps);
      gst_query_set_accept_caps_result(query, gst_structure_has_name(gst_caps_get_structure(caps, 0), "audio/x-raw"));
      return TRUE;
    }
    default:
      return gst_pad_query_default(pad, parent, query);
  }
}

static gboolean sink_activate_mode(GstPad*, GstObject* parent, GstPadMode mode, gboolean active) {
  ProsodySink* self = PROSODY_SINK(parent);
  PROSODY_TSAN_ACQUIRE(self); /* before anything of it is read */
  SinkState& st = *self->state;
  if (mode != GST_PAD_MODE_PUSH) return FALSE;
  std::lock_guard<std::mutex> lk(st.lock);
  /* Deactivation takes the stream lock that a chain waiting for room holds. */
  st.flushing = !active;
  if (!active && st.port) st.port->fifo.producer_wakeup().notify();
  return TRUE;
}

/* The pipeline asks its sinks for their latency: this one does not render
 * against the pipeline clock (the module has its own), so it has none to
 * add. */
static gboolean prosody_sink_query(GstElement* element, GstQuery* query) {
  if (GST_QUERY_TYPE(query) == GST_QUERY_LATENCY) {
    gst_query_set_latency(query, FALSE, 0, GST_CLOCK_TIME_NONE);
    return TRUE;
  }
  return GST_ELEMENT_CLASS(prosody_sink_parent_class)->query(element, query);
}

/* ---- States ---- */

static bool attach(ProsodySink* self) {
  SinkState& st = *self->state;
  prosody_gst::ElasticSettings settings;
  PROSODY_OBJECT_LOCK(self);
  settings.margin_ns = std::int64_t(st.latency);
  const guint64 buffer_time = st.buffer_time;
  PROSODY_OBJECT_UNLOCK(self);
  std::lock_guard<std::mutex> lk(st.lock);
  const auto& hub = st.endpoint.hub;
  settings.elastic = hub->realtime();
  /* Room for the margin, the drift band above it (two frames) and a frame
   * arriving: a buffer-time below that would overrun in steady state. */
  const guint64 frame_ns = guint64(hub->frame_ns());
  const guint64 least_frames = (guint64(settings.margin_ns) + frame_ns - 1) / frame_ns + 3;
  settings.capacity_frames = std::uint32_t(std::max<guint64>(buffer_time / frame_ns, least_frames));
  std::string error;
  st.port = hub->attach_sink(st.endpoint.id, settings, error);
  if (!st.port) {
    GST_ELEMENT_ERROR(self, RESOURCE, BUSY, ("%s: %s", GST_ELEMENT_NAME(self), error.c_str()), (nullptr));
    return false;
  }
  st.rate = hub->rate();
  st.timeline.reset();
  /* Stepped, positions are the module's from its first frame on; live, the
   * stream starts where its first buffer lands. */
  if (!hub->realtime()) st.timeline.reset_at(0);
  gst_segment_init(&st.segment, GST_FORMAT_TIME);
  st.have_caps = false;
  st.flushing = false;
  st.eos = st.ended_pushed = st.eos_to_post = false;
  st.upstream_checked = false;
  st.caps_refusal_told = false;
  st.buffers_in = 0;
  st.underruns_told = st.overruns_told = 0;
  GST_INFO_OBJECT(self, "feeds channel 0x%" G_GINT64_MODIFIER "x of module %s (%s)",
                  (guint64)hub->channel_of(st.endpoint.id), hub->name().c_str(),
                  hub->realtime() ? "real time" : "stepped");
  return true;
}

static GstStateChangeReturn prosody_sink_change_state(GstElement* element, GstStateChange transition) {
  ProsodySink* self = PROSODY_SINK(element);
  SinkState& st = *self->state;
  PROSODY_TSAN_RELEASE(self);

  switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY: {
      PROSODY_OBJECT_LOCK(self);
      const EndpointProperties props = st.props;
      PROSODY_OBJECT_UNLOCK(self);
      Endpoint endpoint;
      if (!prosody_gst::open_endpoint(element, props, prosody_gst::EndpointKind::sink, endpoint))
        return GST_STATE_CHANGE_FAILURE;
      std::lock_guard<std::mutex> lk(st.lock);
      st.endpoint = std::move(endpoint);
      break;
    }
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      if (!attach(self)) return GST_STATE_CHANGE_FAILURE;
      break;
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED: {
      std::lock_guard<std::mutex> lk(st.lock);
      st.playing = false;
      break;
    }
    case GST_STATE_CHANGE_PAUSED_TO_READY: {
      std::lock_guard<std::mutex> lk(st.lock);
      st.flushing = true;
      if (st.port) st.port->fifo.producer_wakeup().notify();
      break;
    }
    default:
      break;
  }

  GstStateChangeReturn ret = GST_ELEMENT_CLASS(prosody_sink_parent_class)->change_state(element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE) return ret;

  switch (transition) {
    case GST_STATE_CHANGE_PAUSED_TO_PLAYING: {
      bool post;
      guint32 seqnum;
      {
        std::lock_guard<std::mutex> lk(st.lock);
        st.playing = true;
        post = st.eos_to_post;
        seqnum = st.eos_seqnum;
        st.eos_to_post = false;
      }
      if (post) post_eos(self, seqnum);
      break;
    }
    case GST_STATE_CHANGE_PAUSED_TO_READY: {
      /* The pad is inactive: no chain runs any more. */
      PROSODY_TSAN_ACQUIRE(self);
      std::lock_guard<std::mutex> lk(st.lock);
      st.endpoint.detach();
      st.port.reset();
      st.timeline.reset();
      st.have_caps = false;
      break;
    }
    case GST_STATE_CHANGE_READY_TO_NULL:
      prosody_gst::close_endpoint(st.lock, st.endpoint);
      break;
    default:
      break;
  }
  return ret;
}

/* ---- Properties ---- */

static GstStructure* sink_stats(ProsodySink* self) {
  SinkState& st = *self->state;
  std::lock_guard<std::mutex> lk(st.lock);
  const prosody_gst::ElasticCounters c = st.port ? st.port->fifo.counters() : prosody_gst::ElasticCounters{};
  const prosody_gst::TimelineCounters& t = st.timeline.counters();
  GstStructure* stats =
      prosody_gst::endpoint_stats_new("prosodysink-stats", st.endpoint, st.port ? guint64(st.port->channel.value) : 0);
  gst_structure_set(stats, "buffers-in", G_TYPE_UINT64, st.buffers_in, "frames-in", G_TYPE_UINT64, (guint64)c.frames_in,
                    "underruns", G_TYPE_UINT64, (guint64)c.underruns, "overrun-frames", G_TYPE_UINT64,
                    (guint64)c.overrun_frames, "drift-dropped", G_TYPE_UINT64, (guint64)c.drift_dropped,
                    "drift-repeated", G_TYPE_UINT64, (guint64)c.drift_repeated, "least-wait", G_TYPE_INT64,
                    (gint64)c.least_wait_ns, "queued-frames", G_TYPE_UINT64,
                    (guint64)(st.port ? st.port->fifo.queued() : 0), "late-samples", G_TYPE_UINT64,
                    (guint64)t.late_samples, "overlap-samples", G_TYPE_UINT64, (guint64)t.overlap_samples,
                    "gap-samples", G_TYPE_UINT64, (guint64)t.gap_samples, nullptr);
  return stats;
}

static void prosody_sink_set_property(GObject* object, guint id, const GValue* value, GParamSpec* pspec) {
  ProsodySink* self = PROSODY_SINK(object);
  SinkState& st = *self->state;
  PROSODY_OBJECT_LOCK(self);
  if (!prosody_gst::set_endpoint_property(st.props, id, value)) {
    switch (id) {
      case PROP_LATENCY:
        st.latency = g_value_get_uint64(value);
        break;
      case PROP_BUFFER_TIME:
        st.buffer_time = g_value_get_uint64(value);
        break;
      case PROP_ALIGNMENT_THRESHOLD:
        st.alignment_threshold = g_value_get_uint64(value);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
        break;
    }
  }
  PROSODY_OBJECT_UNLOCK(self);
}

static void prosody_sink_get_property(GObject* object, guint id, GValue* value, GParamSpec* pspec) {
  ProsodySink* self = PROSODY_SINK(object);
  SinkState& st = *self->state;
  if (id == PROP_STATS) {
    g_value_take_boxed(value, sink_stats(self));
    return;
  }
  PROSODY_OBJECT_LOCK(self);
  if (!prosody_gst::get_endpoint_property(st.props, id, value)) {
    switch (id) {
      case PROP_LATENCY:
        g_value_set_uint64(value, st.latency);
        break;
      case PROP_BUFFER_TIME:
        g_value_set_uint64(value, st.buffer_time);
        break;
      case PROP_ALIGNMENT_THRESHOLD:
        g_value_set_uint64(value, st.alignment_threshold);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
        break;
    }
  }
  PROSODY_OBJECT_UNLOCK(self);
}

/* ---- Class ---- */

static void prosody_sink_finalize(GObject* object) {
  ProsodySink* self = PROSODY_SINK(object);
  delete self->state;
  self->state = nullptr;
  G_OBJECT_CLASS(prosody_sink_parent_class)->finalize(object);
}

static void prosody_sink_init(ProsodySink* self) {
  self->state = new SinkState();
  gst_segment_init(&self->state->segment, GST_FORMAT_TIME);
  self->sinkpad = gst_pad_new_from_static_template(&sink_template, "sink");
  gst_pad_set_chain_function(self->sinkpad, GST_DEBUG_FUNCPTR(sink_chain));
  gst_pad_set_event_function(self->sinkpad, GST_DEBUG_FUNCPTR(sink_event));
  gst_pad_set_query_function(self->sinkpad, GST_DEBUG_FUNCPTR(sink_query));
  gst_pad_set_activatemode_function(self->sinkpad, GST_DEBUG_FUNCPTR(sink_activate_mode));
  gst_element_add_pad(GST_ELEMENT(self), self->sinkpad);
  GST_OBJECT_FLAG_SET(self, GST_ELEMENT_FLAG_SINK);
  PROSODY_TSAN_RELEASE(self);
}

static void prosody_sink_class_init(ProsodySinkClass* klass) {
  GObjectClass* gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);
  gobject_class->set_property = prosody_sink_set_property;
  gobject_class->get_property = prosody_sink_get_property;
  gobject_class->finalize = prosody_sink_finalize;

  prosody_gst::install_endpoint_properties(gobject_class, "feeds its input");
  const auto playing = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  g_object_class_install_property(
      gobject_class, PROP_LATENCY,
      g_param_spec_uint64(
          "latency", "Latency",
          "Real time: the jitter margin, ns. The module takes the first frame once it has waited "
          "this long, and the time a typical frame waits (a half-second window's 25th percentile) is then "
          "held between half of it and it plus two frames (drift is absorbed by dropping or repeating a sample in one "
          "frame of ten). The audio's "
          "delay through the element is this plus up to two frames. Read at READY->PAUSED",
          0, GST_SECOND, kDefaultLatency, playing));
  g_object_class_install_property(
      gobject_class, PROP_BUFFER_TIME,
      g_param_spec_uint64("buffer-time", "Buffer time",
                          "The most audio held for the module, ns: beyond it a live input drops its oldest audio "
                          "(an overrun, counted and warned about), a non-live input waits. At least latency plus three "
                          "frames, whatever is set. Read at READY->PAUSED",
                          20 * GST_MSECOND, 10 * GST_SECOND, kDefaultBufferTime, playing));
  g_object_class_install_property(
      gobject_class, PROP_ALIGNMENT_THRESHOLD,
      g_param_spec_uint64(
          "alignment-threshold", "Alignment threshold",
          "Timestamp jitter, ns, up to which a buffer is taken as contiguous with the one before; "
          "beyond it the buffer is placed by its timestamp (a gap is concealed by the module, an "
          "overlap trimmed). A DISCONT buffer is always placed by its timestamp",
          0, G_MAXUINT64, kDefaultAlignmentThreshold,
          static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING)));
  g_object_class_install_property(
      gobject_class, PROP_STATS,
      g_param_spec_boxed("stats", "Statistics",
                         "prosodysink-stats: channel (the channel fed, guint64), live (the module runs in real "
                         "time), buffers-in, frames-in (frames the module took), underruns (frames the module "
                         "needed and did not have: it concealed them), overrun-frames (dropped, oldest first), "
                         "drift-dropped and drift-repeated (frames in which a sample was dropped or repeated to "
                         "hold the wait), least-wait (ns: the least time a frame waited for the module over the "
                         "last half second, -1 before), queued-frames, late-samples, overlap-samples (trimmed), "
                         "gap-samples (missing, concealed)",
                         GST_TYPE_STRUCTURE, static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_set_static_metadata(
      element_class, "Prosody channel sink", "Sink/Audio",
      "Feeds audio into a channel's input on a shared software Prosody module (a call's voice into conferences, "
      "recordings and detectors set up with the C or C++ API, or with the conference property)",
      "Prosody project");
  element_class->change_state = GST_DEBUG_FUNCPTR(prosody_sink_change_state);
  element_class->query = GST_DEBUG_FUNCPTR(prosody_sink_query);
}
