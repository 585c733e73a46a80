/* prosodyconfmixstream.cpp - prosodyconfmix's pad functions: input buffers
 * and events onto the conference timeline, caps, queries, latency.
 */
#include "prosodyconfmixprivate.h"

using prosody_gst::Chunk;
using prosody_gst::Inner;
using prosody_gst::Party;
using prosody_gst::PartyPtr;

namespace {

struct Messages {
  std::vector<GstMessage*> list;
  GstElement* element;
  explicit Messages(GstElement* e) : element(e) {}
  ~Messages() {
    for (GstMessage* m : list) gst_element_post_message(element, m);
  }
};

/* The party behind a sink pad, or null once released. Lock held. */
Party* party_of(Inner& in, GstPad* pad) {
  auto it = in.parties.find(prosody_conf_mix_pad_get_index(PROSODY_CONF_MIX_PAD(pad)));
  if (it == in.parties.end()) return nullptr;
  Party* p = it->second.get();
  return (p->sinkpad == pad || p->srcpad == pad) ? p : nullptr;
}

/* Running time of a timestamp in the party's segment, or NONE. */
GstClockTime running_time(const Party& p, GstClockTime ts) {
  if (!GST_CLOCK_TIME_IS_VALID(ts)) return GST_CLOCK_TIME_NONE;
  return gst_segment_to_running_time(&p.segment, GST_FORMAT_TIME, ts);
}

/* Wakes the task when every active input covers the frame it waits for. */
void maybe_wake_task(Inner& in) {
  if (in.n_active > 0 && in.n_ready == in.n_active) {
    in.task_cond.notify_all();
    prosody_conf_mix_unschedule(in);
  }
}

GstCaps* template_caps_at_rate(GstPad* pad, guint rate) {
  GstCaps* caps = gst_pad_get_pad_template_caps(pad);
  if (rate) {
    caps = gst_caps_make_writable(caps);
    gst_caps_set_simple(caps, "rate", G_TYPE_INT, (gint)rate, nullptr);
  }
  return caps;
}

}  // namespace

void prosody_conf_mix_unschedule(Inner& in) {
  if (in.clock_id) gst_clock_id_unschedule(in.clock_id);
}

void prosody_conf_mix_wake_all(ProsodyConfMix* self) {
  Inner& in = *self->inner;
  for (auto& kv : in.parties) kv.second->space_cond.notify_all();
  in.task_cond.notify_all();
  prosody_conf_mix_unschedule(in);
}

/* ---- Sink pads ---- */

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
  const gsize bpf = p.in_float ? 4 : 2;
  const gsize size = gst_buffer_get_size(buffer);
  if (size % bpf) {
    p.dropped_bytes += size % bpf;
    GST_WARNING_OBJECT(pad,
                       "buffer of %" G_GSIZE_FORMAT
                       " bytes is not a "
                       "whole number of samples; the odd bytes are dropped",
                       size);
  }
  const bool discont = GST_BUFFER_IS_DISCONT(buffer);
  GstClockTime pts = GST_BUFFER_PTS(buffer);
  if (size / bpf == 0) {
    /* An empty buffer says nothing about audio, except as a gap. */
    GstClockTime dur = GST_BUFFER_DURATION(buffer);
    gst_buffer_unref(buffer);
    GstClockTime rt = running_time(p, pts);
    if (GST_CLOCK_TIME_IS_VALID(rt) && GST_CLOCK_TIME_IS_VALID(dur) && in.start_known && rt >= in.start_rt) {
      const guint64 end = gst_util_uint64_scale_int_round(rt + dur - in.start_rt, rate, GST_SECOND);
      if (end > p.known_until) {
        p.known_until = end;
        p.next_pos = end;
        p.have_next = true;
        in.update_ready(p);
        maybe_wake_task(in);
      }
    }
    return GST_FLOW_OK;
  }
  buffer = gst_audio_buffer_clip(buffer, &p.segment, rate, bpf);
  if (!buffer) return GST_FLOW_OK; /* wholly outside the segment */
  pts = GST_BUFFER_PTS(buffer);
  gsize n = gst_buffer_get_size(buffer) / bpf;
  gsize offset = 0;

  /* Where the buffer goes on the timeline. */
  guint64 pos;
  GstClockTime rt = running_time(p, pts);
  if (GST_CLOCK_TIME_IS_VALID(rt)) {
    if (!in.start_known) {
      in.start_rt = rt;
      in.start_known = true;
    }
    if (rt >= in.start_rt) {
      pos = gst_util_uint64_scale_int_round(rt - in.start_rt, rate, GST_SECOND);
    } else {
      /* Before the start: only its tail can be used. */
      const guint64 before = gst_util_uint64_scale_int_round(in.start_rt - rt, rate, GST_SECOND);
      const gsize k = static_cast<gsize>(MIN(before, (guint64)n));
      p.late_samples += k;
      offset += k;
      n -= k;
      pos = 0;
    }
    const guint64 threshold = gst_util_uint64_scale_int(threshold_ns, rate, GST_SECOND);
    if (p.have_next && !discont) {
      const guint64 diff = pos > p.next_pos ? pos - p.next_pos : p.next_pos - pos;
      if (diff <= threshold) pos = p.next_pos; /* jitter: take it as contiguous */
    }
  } else {
    pos = p.have_next ? p.next_pos : MAX(in.read_pos, p.known_until);
  }
  p.next_pos = pos + n;
  p.have_next = true;

  /* Back-pressure: wait while the queue holds queue-time of audio. */
  const gsize capacity = MAX((gsize)gst_util_uint64_scale_int(queue_ns, rate, GST_SECOND), (gsize)2 * in.frame_samples);
  while (p.queued >= capacity && !p.flushing && !in.stopping && p.sinkpad == pad) {
    p.chain_waiting = true;
    p.space_cond.wait(lk);
  }
  p.chain_waiting = false;
  if (p.flushing || in.stopping || p.sinkpad != pad) {
    gst_buffer_unref(buffer);
    return GST_FLOW_FLUSHING;
  }

  /* Late: the frames it belongs to are mixed already. */
  guint64 start = pos;
  if (start < in.read_pos && n > 0) {
    const gsize k = static_cast<gsize>(MIN(in.read_pos - start, (guint64)n));
    ++p.late_buffers;
    p.late_samples += k;
    if (in.live) {
      GstMessage* qos =
          gst_message_new_qos(GST_OBJECT(pad), TRUE, rt, GST_CLOCK_TIME_NONE, pts, GST_BUFFER_DURATION(buffer));
      gst_message_set_qos_stats(qos, GST_FORMAT_DEFAULT, p.late_samples + in.read_pos, p.late_samples);
      messages.list.push_back(qos);
    }
    GST_LOG_OBJECT(pad, "%" G_GSIZE_FORMAT " late samples dropped", k);
    start += k;
    offset += k;
    n -= k;
  }
  /* Overlap (backwards timestamps): keep what is queued. */
  if (n > 0 && start < p.known_until) {
    const gsize k = static_cast<gsize>(MIN(p.known_until - start, (guint64)n));
    p.overlap_samples += k;
    GST_DEBUG_OBJECT(pad, "%" G_GSIZE_FORMAT " overlapping samples trimmed", k);
    start += k;
    offset += k;
    n -= k;
  }
  if (n == 0) {
    gst_buffer_unref(buffer);
    return GST_FLOW_OK;
  }
  if (start > p.known_until) {
    p.gap_samples += start - MAX(p.known_until, in.read_pos);
    GST_DEBUG_OBJECT(pad, "gap of %" G_GUINT64_FORMAT " samples", start - p.known_until);
  }

  Chunk c;
  if (!gst_buffer_map(buffer, &c.map, GST_MAP_READ)) {
    gst_buffer_unref(buffer);
    lk.unlock();
    GST_ELEMENT_ERROR(self, RESOURCE, READ, ("%s: cannot map a buffer", GST_PAD_NAME(pad)), (nullptr));
    return GST_FLOW_ERROR;
  }
  c.buffer = buffer;
  c.is_float = p.in_float;
  c.pos = start;
  c.offset = offset;
  c.n = n;
  p.queue.push_back(c);
  p.queued += n;
  p.known_until = start + n;
  in.end_pos = MAX(in.end_pos, p.known_until);
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
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION,
                      ("%s: sample format %s; prosodyconfmix takes S16LE or F32LE", GST_PAD_NAME(pad),
                       format ? format : "(none)"),
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
      p->in_float = info.finfo->format == GST_AUDIO_FORMAT_F32LE;
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
        p->have_next = false; /* placed by timestamp from now on */
      }
      break;
    }
    case GST_EVENT_GAP: {
      GstClockTime ts, dur;
      gst_event_parse_gap(event, &ts, &dur);
      std::lock_guard<std::mutex> lk(in.lock);
      Party* p = party_of(in, pad);
      if (!p || !in.rate || !GST_CLOCK_TIME_IS_VALID(ts)) break;
      GstClockTime rt = running_time(*p, ts);
      if (!GST_CLOCK_TIME_IS_VALID(rt)) break;
      if (!in.start_known) {
        in.start_rt = rt;
        in.start_known = true;
      }
      if (rt + (GST_CLOCK_TIME_IS_VALID(dur) ? dur : 0) < in.start_rt) break;
      const GstClockTime end_rt = rt + (GST_CLOCK_TIME_IS_VALID(dur) ? dur : 0);
      const guint64 end = gst_util_uint64_scale_int_round(end_rt - in.start_rt, in.rate, GST_SECOND);
      /* Nothing to mix there: the module conceals it. */
      if (end > p->known_until) {
        p->gap_samples += end - MAX(p->known_until, in.read_pos);
        p->known_until = end;
        in.update_ready(*p);
        maybe_wake_task(in);
      }
      p->next_pos = MAX(end, p->next_pos);
      p->have_next = true;
      break;
    }
    case GST_EVENT_EOS: {
      std::lock_guard<std::mutex> lk(in.lock);
      if (Party* p = party_of(in, pad)) {
        GST_DEBUG_OBJECT(pad, "EOS at sample %" G_GUINT64_FORMAT, p->known_until);
        p->eos = true;
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
        p->clear_queue();
        p->have_next = false;
        p->known_until = in.read_pos;
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

static gboolean sink_query(GstPad* pad, GstObject* parent, GstQuery* query) {
  ProsodyConfMix* self = PROSODY_CONF_MIX(parent);
  PROSODY_TSAN_ACQUIRE(self);
  Inner& in = *self->inner;

  switch (GST_QUERY_TYPE(query)) {
    case GST_QUERY_CAPS: {
      GstCaps* filter;
      gst_query_parse_caps(query, &filter);
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
      /* The fixed rate only, so that upstream audioresample adapts. */
      GstCaps* caps = template_caps_at_rate(pad, rate);
      if (filter) {
        GstCaps* tmp = gst_caps_intersect_full(filter, caps, GST_CAPS_INTERSECT_FIRST);
        gst_caps_unref(caps);
        caps = tmp;
        /* Upstream that cannot resample fails with a bare not-negotiated:
         * say why, once per pad. */
        if (rate && gst_caps_is_empty(caps) && !gst_caps_is_any(filter) &&
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
      const GstClockTime own = in.latency + in.frame_duration;
      PROSODY_OBJECT_UNLOCK(self);
      GstClockTime min, max;
      {
        std::lock_guard<std::mutex> lk(in.lock);
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
      GstCaps* caps = template_caps_at_rate(pad, rate);
      if (filter) {
        GstCaps* tmp = gst_caps_intersect_full(filter, caps, GST_CAPS_INTERSECT_FIRST);
        gst_caps_unref(caps);
        caps = tmp;
      }
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
        gst_query_set_position(query, format, in.pos_to_time(in.read_pos));
      else if (format == GST_FORMAT_DEFAULT)
        gst_query_set_position(query, format, (gint64)in.read_pos);
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
}
