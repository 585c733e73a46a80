/* prosodyconfmixstream.cpp - prosodyconfmix's pad functions: input buffers
 * and events onto each party's timeline, caps, queries, latency.
 */
#include <cstring>
#include <new>

#include "prosodyconfmixprivate.h"

using prosody_gst::Inner;
using prosody_gst::Party;
using prosody_gst::PartyPtr;

namespace {

/* How often, at most, a party's late input is reported on the bus. */
constexpr gint64 kLateWarningIntervalUs = 5 * G_USEC_PER_SEC;

struct Messages {
  std::vector<GstMessage*> list;
  GstElement* element;
  explicit Messages(GstElement* e) : element(e) {}
  ~Messages() {
    for (GstMessage* m : list) gst_element_post_message(element, m);
  }
};

/* The party behind a pad, or null once released. Lock held. */
Party* party_of(Inner& in, GstPad* pad) {
  auto it = in.parties.find(prosody_pad_get_index(PROSODY_PAD(pad)));
  if (it == in.parties.end()) return nullptr;
  Party* p = it->second.get();
  return (p->sinkpad == pad || p->srcpad == pad) ? p : nullptr;
}

/* Running time of a timestamp in the party's segment, or NONE. */
GstClockTime running_time(const Party& p, GstClockTime ts) {
  if (!GST_CLOCK_TIME_IS_VALID(ts)) return GST_CLOCK_TIME_NONE;
  return gst_segment_to_running_time(&p.segment, GST_FORMAT_TIME, ts);
}

/* Conference position (samples from the start) of running time rt: negative
 * before the start; kNoPosition for NONE. Lock held. */
std::int64_t conference_position(const Inner& in, GstClockTime rt) {
  if (!GST_CLOCK_TIME_IS_VALID(rt)) return prosody_gst::Timeline::kNoPosition;
  if (rt >= in.start_rt) return std::int64_t(prosody_gst::time_to_samples(rt - in.start_rt, in.rate));
  return -std::int64_t(prosody_gst::time_to_samples(in.start_rt - rt, in.rate));
}

/* The conference starts at the first timestamp seen, unless it is 0. */
void note_start(Inner& in, GstClockTime rt) {
  if (!in.start_known && GST_CLOCK_TIME_IS_VALID(rt)) {
    in.start_rt = rt;
    in.start_known = true;
  }
}

/* Wakes the task when every active input covers the frame it waits for. */
void maybe_wake_task(Inner& in) {
  if (in.n_active > 0 && in.n_ready == in.n_active) {
    in.task_cond.notify_all();
    prosody_conf_mix_unschedule(in);
  }
}

/* Input dropped as late: counted by the timeline, told on the bus (QoS when
 * live; a rate-limited warning either way, naming the pad and the fix). */
void report_late(ProsodyConfMix* self, Inner& in, Party& p, GstPad* pad, std::size_t late, GstClockTime rt,
                 GstClockTime pts, GstClockTime duration, Messages& messages) {
  if (late == 0) return;
  if (in.live) {
    GstMessage* qos = gst_message_new_qos(GST_OBJECT(pad), TRUE, rt, GST_CLOCK_TIME_NONE, pts, duration);
    gst_message_set_qos_stats(qos, GST_FORMAT_DEFAULT, p.timeline.counters().late_samples + in.position,
                              p.timeline.counters().late_samples);
    messages.list.push_back(qos);
  }
  p.late_warned_samples += late;
  const gint64 now = g_get_monotonic_time();
  if (p.late_warned_at != 0 && now - p.late_warned_at < kLateWarningIntervalUs) return;
  p.late_warned_at = now;
  gchar* text =
      g_strdup_printf("%s: %" G_GUINT64_FORMAT " samples of input arrived after their frame was mixed and were dropped",
                      GST_PAD_NAME(pad), p.late_warned_samples);
  gchar* debug = g_strdup(in.live ? "raise the element's latency property, or the upstream latency"
                                  : "the input's timestamps are behind the conference: give the pad an offset");
  GError* error = g_error_new_literal(GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED, text);
  messages.list.push_back(gst_message_new_warning(GST_OBJECT(self), error, debug));
  g_error_free(error);
  g_free(text);
  g_free(debug);
  p.late_warned_samples = 0;
}

}  // namespace

void prosody_conf_mix_unschedule(Inner& in) {
  if (in.clock_id) gst_clock_id_unschedule(in.clock_id);
}

void prosody_conf_mix_wake_all(ProsodyConfMix* self) {
  Inner& in = *self->inner;
  for (auto& kv : in.parties) {
    kv.second->space_cond.notify_all();
    kv.second->out.space.notify_all();
  }
  in.task_cond.notify_all();
  prosody_conf_mix_unschedule(in);
}

GstClockTime prosody_conf_mix_max_lookahead(Inner& in) {
  guint64 max = 0;
  for (auto& kv : in.parties)
    if (kv.second->sinkpad) max = std::max(max, kv.second->lookahead_applied);
  return max;
}

/* ---- Sink pads ---- */

struct prosody_gst::InputBlocks::Block {
  InputBlocks* home;
  std::size_t capacity;
  unsigned char* data() { return reinterpret_cast<unsigned char*>(this) + kHeader; }
  static constexpr std::size_t kHeader = 64; /* data() on a cache line */
};

prosody_gst::InputBlocks::~InputBlocks() {
  for (Block* b : spare_) ::operator delete(b, std::align_val_t(64));
}

unsigned char* prosody_gst::InputBlocks::take(std::size_t bytes, void** owner) {
  Block* b = nullptr;
  if (!spare_.empty()) {
    b = spare_.back();
    spare_.pop_back();
    if (b->capacity < bytes) { /* buffers grew: this one goes */
      ::operator delete(b, std::align_val_t(64));
      b = nullptr;
    }
  }
  if (!b) {
    b = static_cast<Block*>(::operator new(Block::kHeader + bytes, std::align_val_t(64)));
    b->home = this;
    b->capacity = bytes;
  }
  *owner = b;
  return b->data();
}

void prosody_gst::InputBlocks::give_back(void* owner) {
  Block* b = static_cast<Block*>(owner);
  b->home->spare_.push_back(b);
}

static GstFlowReturn sink_chain(GstPad* pad, GstObject* parent, GstBuffer* buffer) {
  ProsodyConfMix* self = PROSODY_CONF_MIX(parent);
  Inner& in = *self->inner;
  Messages messages(GST_ELEMENT(self));
  PROSODY_TSAN_ACQUIRE(self);
  PROSODY_TSAN_ACQUIRE(buffer);

  PROSODY_OBJECT_LOCK(self);
  const guint64 threshold_ns = in.alignment_threshold;
  const guint64 queue_ns = in.queue_time;
  PROSODY_OBJECT_UNLOCK(self);

  std::unique_lock<std::mutex> lk(in.lock);
  Party* pp = party_of(in, pad);
  if (!pp || pp->flushing || in.stopping) {
    gst_buffer_unref(buffer);
    return GST_FLOW_FLUSHING;
  }
  /* Our own reference: the pad may be released while we wait for space. */
  const PartyPtr keep = in.parties.at(pp->index);
  Party& p = *keep;
  if (p.eos) {
    gst_buffer_unref(buffer);
    return GST_FLOW_EOS;
  }
  if (!p.have_caps || !in.module) {
    lk.unlock();
    gst_buffer_unref(buffer);
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("%s: audio arrived before its caps", GST_PAD_NAME(pad)), (nullptr));
    return GST_FLOW_NOT_NEGOTIATED;
  }
  ++p.buffers_in;
  const guint rate = in.rate;
  const std::size_t bps = prosody_gst::bytes_per_sample(p.in_format);
  p.timeline.set_settings({gst_util_uint64_scale_int(threshold_ns, gint(rate), GST_SECOND), 0});

  /* Back-pressure: wait while the timeline holds queue-time of audio. */
  const std::uint64_t capacity =
      std::max<std::uint64_t>(gst_util_uint64_scale_int(queue_ns, gint(rate), GST_SECOND), 2 * in.frame_samples);
  while (p.timeline.queued() >= capacity && !p.flushing && !in.stopping && p.sinkpad == pad) {
    p.chain_waiting = true;
    p.space_cond.wait(lk);
  }
  p.chain_waiting = false;
  if (p.flushing || in.stopping || p.sinkpad != pad) {
    gst_buffer_unref(buffer);
    return GST_FLOW_FLUSHING;
  }

  const GstClockTime pts = GST_BUFFER_PTS(buffer);
  const GstClockTime duration = GST_BUFFER_DURATION(buffer);
  if (gst_buffer_get_size(buffer) < bps) {
    /* An empty buffer says nothing about audio, except as a gap. */
    const GstClockTime rt = running_time(p, pts);
    gst_buffer_unref(buffer);
    if (GST_CLOCK_TIME_IS_VALID(rt) && GST_CLOCK_TIME_IS_VALID(duration) && duration > 0) {
      note_start(in, rt);
      const std::int64_t at = conference_position(in, rt) + p.join_shift;
      p.timeline.mark_missing(at, prosody_gst::time_to_samples(duration, rate));
      in.update_ready(p);
      maybe_wake_task(in);
    }
    return GST_FLOW_OK;
  }
  buffer = gst_audio_buffer_clip(buffer, &p.segment, gint(rate), gint(bps));
  if (!buffer) return GST_FLOW_OK; /* wholly outside the segment */

  const GstClockTime rt = running_time(p, GST_BUFFER_PTS(buffer));
  note_start(in, rt);
  std::int64_t at = conference_position(in, rt);
  /* A party joining a non-live conference that has moved on is heard from
   * where the mix is now: its timestamps are its own, not the conference's. */
  if (!p.join_aligned && !p.timeline.started()) {
    p.join_aligned = true;
    p.join_shift = 0;
    if (!in.live && at != prosody_gst::Timeline::kNoPosition && at < std::int64_t(in.position)) {
      p.join_shift = std::int64_t(in.position) - at;
      GST_INFO_OBJECT(
          pad, "joins at conference sample %" G_GUINT64_FORMAT " (its audio moved %" G_GINT64_FORMAT " samples later)",
          in.position, p.join_shift);
    }
    p.timeline.reset_at(std::int64_t(in.position));
  }
  if (at != prosody_gst::Timeline::kNoPosition) at += p.join_shift;

  /* Copied (20 ms of F32 at 8 kHz is 640 bytes), so that the buffer goes
   * back now, freed by the thread that made it; the module converts the
   * block into its frame buffer when the frame is mixed. */
  GstMapInfo map;
  if (!gst_buffer_map(buffer, &map, GST_MAP_READ)) {
    lk.unlock();
    gst_buffer_unref(buffer);
    GST_ELEMENT_ERROR(self, RESOURCE, READ, ("%s: cannot map a buffer", GST_PAD_NAME(pad)), (nullptr));
    return GST_FLOW_ERROR;
  }
  void* block = nullptr;
  unsigned char* data = p.input_blocks.take(map.size, &block);
  std::memcpy(data, map.data, map.size);
  const prosody_gst::Placement placed = p.timeline.push(at, GST_BUFFER_IS_DISCONT(buffer), data, map.size, p.in_format,
                                                        &prosody_gst::InputBlocks::give_back, block);
  gst_buffer_unmap(buffer, &map);
  /* A tee may have shared it: whoever else held it is done (and said so). */
  PROSODY_TSAN_ACQUIRE(buffer);
  gst_buffer_unref(buffer);
  if (placed.overlap > 0) GST_DEBUG_OBJECT(pad, "%" G_GSIZE_FORMAT " overlapping samples trimmed", placed.overlap);
  if (placed.gap > 0) GST_DEBUG_OBJECT(pad, "gap of %" G_GUINT64_FORMAT " samples", placed.gap);
  report_late(self, in, p, pad, placed.late, rt, pts, duration, messages);
  in.end_pos = std::max(in.end_pos, p.timeline.covered_until());
  in.update_ready(p);
  maybe_wake_task(in);
  return GST_FLOW_OK;
}

static gboolean sink_set_caps(ProsodyConfMix* self, GstPad* pad, GstCaps* caps) {
  Inner& in = *self->inner;
  GstAudioInfo info;
  GstStructure* s = gst_caps_get_structure(caps, 0);
  const gchar* format = gst_structure_get_string(s, "format");
  gint channels = 1;
  gst_structure_get_int(s, "channels", &channels);
  const gchar* layout = gst_structure_get_string(s, "layout");
  /* Say what is wrong and what to put in front, one reason at a time. */
  if (channels != 1) {
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION,
                      ("%s: %d channels; prosodyconfmix takes mono (one pad per party)", GST_PAD_NAME(pad), channels),
                      ("put audioconvert ! audio/x-raw,channels=1 in front of %s (caps %" GST_PTR_FORMAT ")",
                       GST_PAD_NAME(pad), caps));
    return FALSE;
  }
  if (!format || (g_strcmp0(format, "S16LE") && g_strcmp0(format, "F32LE"))) {
    GST_ELEMENT_ERROR(
        self, CORE, NEGOTIATION,
        ("%s: sample format %s; prosodyconfmix takes S16LE or F32LE", GST_PAD_NAME(pad), format ? format : "(none)"),
        ("put audioconvert in front of %s (caps %" GST_PTR_FORMAT ")", GST_PAD_NAME(pad), caps));
    return FALSE;
  }
  if ((layout && g_strcmp0(layout, "interleaved")) || !gst_audio_info_from_caps(&info, caps)) {
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("%s: unsupported audio caps", GST_PAD_NAME(pad)),
                      ("caps %" GST_PTR_FORMAT " are not interleaved mono S16LE or F32LE audio; put audioconvert in "
                       "front",
                       caps));
    return FALSE;
  }
  const guint rate = static_cast<guint>(info.rate);
  if (rate != 8000 && rate != 16000 && rate != 32000 && rate != 48000) {
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("%s: sample rate %u Hz is not supported", GST_PAD_NAME(pad), rate),
                      ("use 8000, 16000, 32000 or 48000 Hz (put audioresample in front)"));
    return FALSE;
  }
  guint expected = 0;
  {
    std::lock_guard<std::mutex> lk(in.lock);
    Party* p = party_of(in, pad);
    if (!p) return FALSE;
    if (in.rate == 0) {
      in.rate = rate;
      GST_INFO_OBJECT(self, "rate %u Hz from %s", rate, GST_PAD_NAME(pad));
    }
    if (in.rate != rate) {
      expected = in.rate;
    } else {
      if (!prosody_conf_mix_ensure_module(self)) return FALSE;
      p->have_caps = true;
      p->in_format = prosody_gst::sample_format_of(&info);
    }
  }
  if (expected) {
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION,
                      ("%s: sample rate %u Hz, but this conference runs at %u Hz", GST_PAD_NAME(pad), rate, expected),
                      ("every pad of prosodyconfmix runs at the element's rate; put "
                       "audioresample in front of %s",
                       GST_PAD_NAME(pad)));
    return FALSE;
  }
  return TRUE;
}

static gboolean sink_event(GstPad* pad, GstObject* parent, GstEvent* event) {
  ProsodyConfMix* self = PROSODY_CONF_MIX(parent);
  PROSODY_TSAN_ACQUIRE(self);
  Inner& in = *self->inner;
  gboolean ret = TRUE;

  GST_LOG_OBJECT(pad, "event %" GST_PTR_FORMAT, event);
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_CAPS: {
      GstCaps* caps;
      gst_event_parse_caps(event, &caps);
      ret = sink_set_caps(self, pad, caps);
      break;
    }
    case GST_EVENT_SEGMENT: {
      const GstSegment* seg;
      gst_event_parse_segment(event, &seg);
      if (seg->format != GST_FORMAT_TIME) {
        GST_ELEMENT_ERROR(
            self, STREAM, FORMAT,
            ("%s: segment in %s format; only TIME is supported", GST_PAD_NAME(pad), gst_format_get_name(seg->format)),
            (nullptr));
        ret = FALSE;
        break;
      }
      std::lock_guard<std::mutex> lk(in.lock);
      if (Party* p = party_of(in, pad)) {
        p->segment = *seg;
        p->timeline.resync(); /* placed by timestamp from now on */
      }
      break;
    }
    case GST_EVENT_GAP: {
      GstClockTime ts, dur;
      gst_event_parse_gap(event, &ts, &dur);
      std::lock_guard<std::mutex> lk(in.lock);
      Party* p = party_of(in, pad);
      if (!p || !in.rate || !GST_CLOCK_TIME_IS_VALID(ts)) break;
      const GstClockTime rt = running_time(*p, ts);
      if (!GST_CLOCK_TIME_IS_VALID(rt)) break;
      note_start(in, rt);
      /* Nothing to mix there: the module conceals it. */
      const std::uint64_t count =
          GST_CLOCK_TIME_IS_VALID(dur) ? prosody_gst::time_to_samples(dur, in.rate) : in.frame_samples;
      p->timeline.mark_missing(conference_position(in, rt) + p->join_shift, count);
      in.update_ready(*p);
      maybe_wake_task(in);
      break;
    }
    case GST_EVENT_EOS: {
      std::lock_guard<std::mutex> lk(in.lock);
      if (Party* p = party_of(in, pad)) {
        GST_DEBUG_OBJECT(pad, "EOS at sample %" G_GINT64_FORMAT, p->timeline.covered_until());
        p->eos = true;
        p->timeline.end();
        in.update_ready(*p);
        in.task_cond.notify_all();
        maybe_wake_task(in);
      }
      break;
    }
    case GST_EVENT_FLUSH_START: {
      /* One party's flush: its queue goes, the conference goes on. */
      std::lock_guard<std::mutex> lk(in.lock);
      if (Party* p = party_of(in, pad)) {
        p->flushing = true;
        p->space_cond.notify_all();
      }
      break;
    }
    case GST_EVENT_FLUSH_STOP: {
      std::lock_guard<std::mutex> lk(in.lock);
      if (Party* p = party_of(in, pad)) {
        p->flushing = false;
        /* Audio the task is mixing stays valid until it is done with it. */
        p->timeline.flush();
        gst_segment_init(&p->segment, GST_FORMAT_TIME);
        if (p->eos || p->finished) {
          p->eos = p->finished = false;
          prosody_conf_mix_party_setup(self, *p);
          in.parties_changed = true;
        }
        if (in.started) in.set_active(*p, true);
        in.update_ready(*p);
      }
      break;
    }
    default:
      /* stream-start, tags and other serialized events concern one party's
       * input only; every src pad has its own stream. */
      break;
  }
  gst_event_unref(event);
  return ret;
}

/* The rate every pad runs at, or 0 while it is open (lock not held). */
static guint conference_rate(ProsodyConfMix* self) {
  Inner& in = *self->inner;
  guint rate;
  {
    std::lock_guard<std::mutex> lk(in.lock);
    rate = in.rate;
  }
  if (!rate) {
    PROSODY_OBJECT_LOCK(self);
    rate = in.rate_property;
    PROSODY_OBJECT_UNLOCK(self);
  }
  return rate;
}

static gboolean sink_query(GstPad* pad, GstObject* parent, GstQuery* query) {
  ProsodyConfMix* self = PROSODY_CONF_MIX(parent);
  PROSODY_TSAN_ACQUIRE(self);

  switch (GST_QUERY_TYPE(query)) {
    case GST_QUERY_CAPS: {
      GstCaps* filter;
      gst_query_parse_caps(query, &filter);
      const guint rate = conference_rate(self);
      /* The fixed rate only, so that upstream audioresample adapts. */
      GstCaps* caps = prosody_gst::caps_at_rate(pad, rate, filter);
      /* Upstream that cannot resample fails with a bare not-negotiated:
       * say why, once per pad. */
      if (filter && rate && gst_caps_is_empty(caps) && !gst_caps_is_any(filter) &&
          !g_object_get_data(G_OBJECT(pad), "prosody-rate-warned")) {
        g_object_set_data(G_OBJECT(pad), "prosody-rate-warned", GINT_TO_POINTER(1));
        gchar* offered = gst_caps_to_string(filter);
        GST_ELEMENT_WARNING(self, CORE, NEGOTIATION,
                            ("%s: upstream offers no caps at %u Hz, the rate of this "
                             "conference; put audioresample (and audioconvert) in front",
                             GST_PAD_NAME(pad), rate),
                            ("upstream offers %s", offered));
        g_free(offered);
      }
      gst_query_set_caps_result(query, caps);
      gst_caps_unref(caps);
      return TRUE;
    }
    case GST_QUERY_ACCEPT_CAPS: {
      /* Accept any raw audio here: the caps event then says precisely what
       * is wrong (rate, format, channels) instead of a bare not-negotiated. */
      GstCaps* caps;
      gst_query_parse_accept_caps(query, &caps);
      GstStructure* s = gst_caps_get_structure(caps, 0);
      gst_query_set_accept_caps_result(query, gst_structure_has_name(s, "audio/x-raw"));
      return TRUE;
    }
    default:
      return gst_pad_query_default(pad, parent, query);
  }
}

static gboolean sink_activate_mode(GstPad* pad, GstObject* parent, GstPadMode mode, gboolean active) {
  ProsodyConfMix* self = PROSODY_CONF_MIX(parent);
  PROSODY_TSAN_ACQUIRE(self);
  Inner& in = *self->inner;
  if (mode != GST_PAD_MODE_PUSH) return FALSE;
  std::lock_guard<std::mutex> lk(in.lock);
  if (Party* p = party_of(in, pad)) {
    /* Deactivation waits for the stream lock that a chain blocked on a
     * full queue holds: release it first. */
    p->flushing = !active;
    p->space_cond.notify_all();
  }
  return TRUE;
}

/* ---- Latency ---- */

/* Upstream latency over every sink pad (cached for a moment: the pipeline
 * asks each of N src pads in turn, and each answer would cost N upstream
 * queries). Returns whether any input is live. */
bool prosody_conf_mix_query_upstream_latency(ProsodyConfMix* self, bool force) {
  Inner& in = *self->inner;
  std::vector<GstPad*> pads;
  {
    std::lock_guard<std::mutex> lk(in.lock);
    const gint64 now = g_get_monotonic_time();
    if (!force && in.latency_valid && now - in.latency_computed_at < 100000) return in.live;
    for (auto& kv : in.parties)
      if (kv.second->sinkpad) pads.push_back(GST_PAD(gst_object_ref(kv.second->sinkpad)));
  }
  bool live = false;
  GstClockTime min = 0, max = GST_CLOCK_TIME_NONE;
  GstQuery* q = gst_query_new_latency();
  for (GstPad* pad : pads) {
    if (gst_pad_peer_query(pad, q)) {
      gboolean l;
      GstClockTime mn, mx;
      gst_query_parse_latency(q, &l, &mn, &mx);
      if (l) {
        live = true;
        min = MAX(min, mn);
        if (GST_CLOCK_TIME_IS_VALID(mx)) max = GST_CLOCK_TIME_IS_VALID(max) ? MIN(max, mx) : mx;
      }
    }
    gst_object_unref(pad);
  }
  gst_query_unref(q);
  GST_DEBUG_OBJECT(self, "upstream: %s, min %" GST_TIME_FORMAT " max %" GST_TIME_FORMAT, live ? "live" : "not live",
                   GST_TIME_ARGS(min), GST_TIME_ARGS(max));
  std::lock_guard<std::mutex> lk(in.lock);
  in.live = live;
  prosody_conf_mix_output_set_state(in, live, in.playing);
  in.upstream_min = min;
  in.upstream_max = max;
  in.latency_valid = true;
  /* Only answers to a src pad query are reused by the next src queries. */
  in.latency_computed_at = force ? 0 : g_get_monotonic_time();
  return live;
}

/* ---- Src pads ---- */

static gboolean src_query(GstPad* pad, GstObject* parent, GstQuery* query) {
  ProsodyConfMix* self = PROSODY_CONF_MIX(parent);
  PROSODY_TSAN_ACQUIRE(self);
  Inner& in = *self->inner;

  switch (GST_QUERY_TYPE(query)) {
    case GST_QUERY_LATENCY: {
      const bool live = prosody_conf_mix_query_upstream_latency(self, false);
      PROSODY_OBJECT_LOCK(self);
      GstClockTime own = in.latency + in.frame_duration;
      PROSODY_OBJECT_UNLOCK(self);
      GstClockTime min, max;
      {
        std::lock_guard<std::mutex> lk(in.lock);
        /* A tone look-ahead delays that party's audio on the way to the mix. */
        own += prosody_conf_mix_max_lookahead(in);
        min = in.upstream_min + own;
        max = GST_CLOCK_TIME_IS_VALID(in.upstream_max) ? in.upstream_max + own : GST_CLOCK_TIME_NONE;
      }
      if (live && GST_CLOCK_TIME_IS_VALID(max) && max < min)
        GST_ELEMENT_WARNING(self, CORE, CLOCK, (nullptr),
                            ("Impossible to configure latency: max %" GST_TIME_FORMAT " < min %" GST_TIME_FORMAT,
                             GST_TIME_ARGS(max), GST_TIME_ARGS(min)));
      gst_query_set_latency(query, live, min, max);
      return TRUE;
    }
    case GST_QUERY_CAPS: {
      GstCaps* filter;
      gst_query_parse_caps(query, &filter);
      GstCaps* caps = prosody_gst::caps_at_rate(pad, conference_rate(self), filter);
      gst_query_set_caps_result(query, caps);
      gst_caps_unref(caps);
      return TRUE;
    }
    case GST_QUERY_SEEKING: {
      /* A conference cannot be sought: its inputs have no common timeline
       * to seek in (and live ones cannot seek at all). Say so, rather than
       * let the default handler ask one upstream at random. */
      GstFormat format;
      gst_query_parse_seeking(query, &format, nullptr, nullptr, nullptr);
      gst_query_set_seeking(query, format, FALSE, 0, -1);
      return TRUE;
    }
    case GST_QUERY_POSITION: {
      GstFormat format;
      gst_query_parse_position(query, &format, nullptr);
      std::lock_guard<std::mutex> lk(in.lock);
      if (!in.rate) return FALSE;
      if (format == GST_FORMAT_TIME)
        gst_query_set_position(query, format, in.pos_to_time(in.position));
      else if (format == GST_FORMAT_DEFAULT)
        gst_query_set_position(query, format, (gint64)in.position);
      else
        return FALSE;
      return TRUE;
    }
    default:
      return gst_pad_query_default(pad, parent, query);
  }
}

static gboolean src_event(GstPad* pad, GstObject* parent, GstEvent* event) {
  ProsodyConfMix* self = PROSODY_CONF_MIX(parent);
  PROSODY_TSAN_ACQUIRE(self);
  Inner& in = *self->inner;
  gboolean ret = FALSE;

  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_LATENCY: {
      /* The pipeline sends the same latency to every sink, so it reaches
       * each of N src pads: forward it upstream once, not N times. */
      GstClockTime latency;
      gst_event_parse_latency(event, &latency);
      std::vector<GstPad*> pads;
      {
        std::lock_guard<std::mutex> lk(in.lock);
        if (latency != in.latency_forwarded || in.pads_generation != in.latency_forwarded_generation) {
          in.latency_forwarded = latency;
          in.latency_forwarded_generation = in.pads_generation;
          for (auto& kv : in.parties)
            if (kv.second->sinkpad) pads.push_back(GST_PAD(gst_object_ref(kv.second->sinkpad)));
        }
      }
      ret = TRUE;
      for (GstPad* sp : pads) {
        gst_pad_push_event(sp, gst_event_ref(event));
        gst_object_unref(sp);
      }
      break;
    }
    case GST_EVENT_SEEK:
      GST_DEBUG_OBJECT(pad, "seeking a conference is not supported");
      break;
    case GST_EVENT_RECONFIGURE:
      ret = TRUE; /* the task renegotiates (check_reconfigure) */
      break;
    default:
      /* QoS, navigation: nothing upstream to tell one party's source. */
      break;
  }
  gst_event_unref(event);
  return ret;
}

/* Src pads drop what they have queued when deactivated. */
static gboolean src_activate_mode(GstPad* pad, GstObject* parent, GstPadMode mode, gboolean active) {
  ProsodyConfMix* self = PROSODY_CONF_MIX(parent);
  PROSODY_TSAN_ACQUIRE(self);
  Inner& in = *self->inner;
  if (mode != GST_PAD_MODE_PUSH) return FALSE;
  if (!active) {
    std::lock_guard<std::mutex> lk(in.lock);
    if (Party* p = party_of(in, pad)) prosody_conf_mix_output_stop(in, *p);
  } else {
    std::lock_guard<std::mutex> lk(in.lock);
    if (Party* p = party_of(in, pad)) prosody_conf_mix_output_reset(in, *p, pad);
  }
  return TRUE;
}

/* A new upstream may be live or have another latency. */
static GstPadLinkReturn sink_link(GstPad* pad, GstObject* parent, GstPad*) {
  Inner& in = *PROSODY_CONF_MIX(parent)->inner;
  std::lock_guard<std::mutex> lk(in.lock);
  in.latency_valid = false;
  GST_DEBUG_OBJECT(pad, "linked");
  return GST_PAD_LINK_OK;
}

static void sink_unlink(GstPad*, GstObject* parent) {
  if (!parent) return;
  Inner& in = *PROSODY_CONF_MIX(parent)->inner;
  std::lock_guard<std::mutex> lk(in.lock);
  in.latency_valid = false;
}

void prosody_conf_mix_setup_sink_pad(ProsodyConfMix*, GstPad* pad) {
  gst_pad_set_link_function(pad, GST_DEBUG_FUNCPTR(sink_link));
  gst_pad_set_unlink_function(pad, GST_DEBUG_FUNCPTR(sink_unlink));
  gst_pad_set_chain_function(pad, GST_DEBUG_FUNCPTR(sink_chain));
  gst_pad_set_event_function(pad, GST_DEBUG_FUNCPTR(sink_event));
  gst_pad_set_query_function(pad, GST_DEBUG_FUNCPTR(sink_query));
  gst_pad_set_activatemode_function(pad, GST_DEBUG_FUNCPTR(sink_activate_mode));
}

void prosody_conf_mix_setup_src_pad(ProsodyConfMix*, GstPad* pad) {
  gst_pad_set_query_function(pad, GST_DEBUG_FUNCPTR(src_query));
  gst_pad_set_event_function(pad, GST_DEBUG_FUNCPTR(src_event));
  gst_pad_set_activatemode_function(pad, GST_DEBUG_FUNCPTR(src_activate_mode));
}
