/* prosodyconfmixtask.cpp - the mixing task of prosodyconfmix: waits for a
 * frame (every input, or the clock), hands the module one frame per input,
 * steps it, and pushes one buffer per src pad.
 */
#include <cmath>

#include "prosody/tones.hpp"
#include "prosodyconfmixprivate.h"

using prosody_gst::Chunk;
using prosody_gst::Inner;
using prosody_gst::PadRef;
using prosody_gst::Party;
using prosody_gst::PartyPtr;

namespace {

/* Call-progress ids of the default Prosody repertoire. */
const char* cptone_name(int id) {
  switch (id) {
    case 1:
      return "unobtainable";
    case 2:
      return "busy";
    case 3:
      return "path-engaged";
    case 4:
      return "ring";
    case 5:
      return "special-information";
    case 6:
      return "fax-cng";
    case 7:
      return "fax-ced";
    case 8:
      return "dial";
    case 9:
      return "reorder";
    case 11:
      return "us-intercept";
    default:
      return "unknown";
  }
}

/* Rebuilds the task's pad lists after pads came or went (lock held). */
void rebuild_snapshots(Inner& in) {
  in.clear_snapshots();
  if (!in.combiner) in.combiner = gst_flow_combiner_new();
  for (auto& kv : in.parties) {
    Party& p = *kv.second;
    if (p.sinkpad) in.sink_snapshot.push_back({kv.second, GST_PAD(gst_object_ref(p.sinkpad))});
    if (p.srcpad) {
      in.out_snapshot.push_back({kv.second, GST_PAD(gst_object_ref(p.srcpad))});
      gst_flow_combiner_add_pad(in.combiner, p.srcpad);
    }
  }
  in.parties_changed = false;
}

/* Hands the module the party's audio for [read_pos, frame_end): the data
 * it has, zeros for holes followed by data, nothing for a missing tail (the
 * module conceals it, fading out the last frame). Lock held. */
void feed_frame(Inner& in, Party& p) {
  const guint64 f = in.read_pos, fe = in.frame_end();
  guint64 at = f;
  for (Chunk& c : p.queue) {
    const guint64 cstart = c.pos + c.done;
    if (cstart >= fe) break;
    if (cstart > at) {
      p.channel.write_input(prosody::Span<const float>(in.zeros.data(), static_cast<std::size_t>(cstart - at)));
      at = cstart;
    }
    const gsize take = static_cast<gsize>(MIN(c.pos + c.n, fe) - cstart);
    const gsize first = c.offset + c.done;
    if (c.is_float) {
      p.channel.write_input(prosody::Span<const float>(reinterpret_cast<const float*>(c.map.data) + first, take));
    } else {
      p.channel.write_input(
          prosody::Span<const std::int16_t>(reinterpret_cast<const std::int16_t*>(c.map.data) + first, take));
    }
    c.done += take;
    p.queued -= take;
    at += take;
  }
  p.drop_consumed(fe);
}

GstFlowReturn negotiate(ProsodyConfMix* self, Party& p, GstPad* pad, guint rate) {
  GstCaps* templ = gst_pad_get_pad_template_caps(pad);
  templ = gst_caps_make_writable(templ);
  gst_caps_set_simple(templ, "rate", G_TYPE_INT, (gint)rate, nullptr);
  GstCaps* caps = gst_pad_peer_query_caps(pad, templ);
  gst_caps_unref(templ);
  if (gst_caps_is_empty(caps)) {
    gst_caps_unref(caps);
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION,
                      ("%s: downstream accepts neither S16LE nor F32LE mono at %u Hz", GST_PAD_NAME(pad), rate),
                      (nullptr));
    return GST_FLOW_NOT_NEGOTIATED;
  }
  caps = gst_caps_fixate(caps);
  GstStructure* s = gst_caps_get_structure(caps, 0);
  p.out_float = g_strcmp0(gst_structure_get_string(s, "format"), "F32LE") == 0;
  GST_DEBUG_OBJECT(pad, "output caps %" GST_PTR_FORMAT, caps);
  if (!gst_pad_push_event(pad, gst_event_new_caps(caps))) GST_DEBUG_OBJECT(pad, "caps event refused or pending");
  gst_caps_unref(caps);
  return GST_FLOW_OK;
}

/* One output buffer to one src pad (no lock held). */
GstFlowReturn push_output(ProsodyConfMix* self, Inner& in, PadRef& o, guint64 pos, gsize n, gsize frame,
                          GstClockTime pts, GstClockTime end, guint rate) {
  Party& p = *o.party;
  GstPad* pad = o.pad;
  if (p.src_need_stream_start) {
    /* Our own id: with several sink pads there is no upstream one. */
    gchar* id = g_strdup_printf("%08x%08x/%s", in.group_id, g_random_int(), GST_PAD_NAME(pad));
    GstEvent* ev = gst_event_new_stream_start(id);
    gst_event_set_group_id(ev, in.group_id);
    gst_pad_push_event(pad, ev);
    g_free(id);
    p.src_need_stream_start = false;
  }
  if (p.src_need_caps || gst_pad_check_reconfigure(pad)) {
    GstFlowReturn r = negotiate(self, p, pad, rate);
    if (r != GST_FLOW_OK) return r;
    p.src_need_caps = false;
  }
  if (p.src_need_segment) {
    GstSegment seg;
    gst_segment_init(&seg, GST_FORMAT_TIME);
    gst_pad_push_event(pad, gst_event_new_segment(&seg));
    p.src_need_segment = false;
  }
  const gsize bps = p.out_float ? 4 : 2;
  GstBuffer* buf = gst_buffer_new_allocate(nullptr, frame * bps, nullptr);
  GstMapInfo map;
  gst_buffer_map(buf, &map, GST_MAP_WRITE);
  std::size_t got = 0;
  try {
    if (p.out_float)
      got = p.channel.read_output(prosody::Span<float>(reinterpret_cast<float*>(map.data), frame));
    else
      got = p.channel.read_output(prosody::Span<std::int16_t>(reinterpret_cast<std::int16_t*>(map.data), frame));
  } catch (const std::exception& e) {
    GST_DEBUG_OBJECT(pad, "read_output: %s", e.what());
  }
  if (got < frame) /* output just stopped: silence */
    memset(map.data + got * bps, 0, (frame - got) * bps);
  gst_buffer_unmap(buf, &map);
  if (n < frame) gst_buffer_resize(buf, 0, n * bps); /* the last, shorter buffer */
  GST_BUFFER_PTS(buf) = pts;
  GST_BUFFER_DURATION(buf) = end - pts;
  GST_BUFFER_OFFSET(buf) = pos;
  GST_BUFFER_OFFSET_END(buf) = pos + n;
  if (p.src_discont) {
    GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_DISCONT);
    p.src_discont = false;
  }
  ++p.buffers_out;
  PROSODY_TSAN_RELEASE(buf);
  return gst_pad_push(pad, buf);
}

GstStructure* timed_structure(const char* name, GstClockTime ts) {
  return gst_structure_new(name, "timestamp", G_TYPE_UINT64, (guint64)ts, "running-time", G_TYPE_UINT64, (guint64)ts,
                           "stream-time", G_TYPE_UINT64, (guint64)ts, nullptr);
}

void array_append_string(GValue* array, const char* s) {
  GValue v = G_VALUE_INIT;
  g_value_init(&v, G_TYPE_STRING);
  g_value_set_string(&v, s);
  gst_value_array_append_and_take_value(array, &v);
}

}  // namespace

/* Tone and activity reports of the frame just mixed, as messages (lock
 * held; posted by the caller). */
static void collect_reports(ProsodyConfMix* self, Inner& in, std::vector<GstMessage*>& out) {
  const guint rate = in.rate;
  for (PadRef& r : in.sink_snapshot) {
    Party& p = *r.party;
    if (!p.channel) continue;
    if (p.tone_reports_due > 0)
      --p.tone_reports_due;
    else if (p.tones == PROSODY_CONF_MIX_TONES_NONE)
      continue;
    for (int guard = 0; guard < 64; ++guard) {
      std::optional<prosody::Recognition> rec;
      try {
        rec = p.channel.get_recognised();
      } catch (const std::exception&) {
        break;
      }
      if (!rec || rec->type == prosody::RecognitionType::nothing) break;
      const GstClockTime start = in.pos_to_time(in.module_origin + rec->start_sample);
      const GstClockTime dur = rec->duration_ms * GST_MSECOND;
      /* Reported twice (start_and_end): at the onset, then at the end with
       * the measured length. */
      const bool end = rec->is_end;
      const GstClockTime ts = end ? start + dur : start;
      const GstClockTime duration = end ? dur : GST_CLOCK_TIME_NONE;
      if (rec->type == prosody::RecognitionType::digit) {
        const int number = prosody::dtmf_char_to_number(static_cast<char>(rec->param0));
        if (number < 0) continue;
        const gint volume = CLAMP((gint)std::lround(-rec->level_dbm0), 0, 36);
        GstStructure* s = timed_structure("dtmf-event", ts);
        gst_structure_set(s, "type", G_TYPE_INT, 1, "number", G_TYPE_INT, number, "method", G_TYPE_INT, 2, "start",
                          G_TYPE_BOOLEAN, (gboolean)!end, "volume", G_TYPE_INT, volume, "level", G_TYPE_DOUBLE,
                          rec->level_dbm0, "duration", G_TYPE_UINT64, (guint64)duration, "pad", G_TYPE_STRING,
                          p.sink_name.c_str(), "party", G_TYPE_UINT, p.index, nullptr);
        out.push_back(gst_message_new_element(GST_OBJECT(self), s));
      } else if (rec->type == prosody::RecognitionType::cptone) {
        /* Call-progress and fax tones by name; the single tones that make
         * them up (RecognitionType::tone) are not posted. */
        GstStructure* s = timed_structure("prosody-tone", ts);
        gst_structure_set(s, "tone", G_TYPE_STRING, cptone_name(rec->param0), "id", G_TYPE_INT, rec->param0, "start",
                          G_TYPE_BOOLEAN, (gboolean)!end, "level", G_TYPE_DOUBLE, rec->level_dbm0, "duration",
                          G_TYPE_UINT64, (guint64)duration, "pad", G_TYPE_STRING, p.sink_name.c_str(), "party",
                          G_TYPE_UINT, p.index, nullptr);
        out.push_back(gst_message_new_element(GST_OBJECT(self), s));
      }
    }
  }
  if (!in.activity_channel) return;
  std::optional<prosody::ActivityReport> rep;
  try {
    rep = in.activity_channel.conf_poll_activity();
  } catch (const std::exception&) {
    return;
  }
  if (!rep) return;
  GValue talkers = G_VALUE_INIT, parties = G_VALUE_INIT, levels = G_VALUE_INIT;
  g_value_init(&talkers, GST_TYPE_ARRAY);
  g_value_init(&parties, GST_TYPE_ARRAY);
  g_value_init(&levels, GST_TYPE_ARRAY);
  for (const prosody::ActiveInput& a : rep->ranks) {
    if (a.id < 0) continue;
    for (auto& kv : in.parties) {
      if (kv.second->pid != a.id) continue;
      array_append_string(&talkers, kv.second->sink_name.c_str());
      GValue v = G_VALUE_INIT;
      g_value_init(&v, G_TYPE_UINT);
      g_value_set_uint(&v, kv.first);
      gst_value_array_append_and_take_value(&parties, &v);
      g_value_init(&v, G_TYPE_DOUBLE);
      g_value_set_double(&v, a.level_dbm0);
      gst_value_array_append_and_take_value(&levels, &v);
      break;
    }
  }
  const guint64 frame_pos = in.module_origin + rep->frame * in.frame_samples;
  GstStructure* s = timed_structure("prosody-activity", in.pos_to_time(frame_pos));
  gst_structure_take_value(s, "talkers", &talkers);
  gst_structure_take_value(s, "parties", &parties);
  gst_structure_take_value(s, "levels", &levels);
  out.push_back(gst_message_new_element(GST_OBJECT(self), s));
  (void)rate;
}

/* Whether every input has ended (and there was one). Lock held. */
static bool all_inputs_ended(Inner& in) {
  bool any = false;
  for (auto& kv : in.parties) {
    if (!kv.second->sinkpad) continue;
    if (!kv.second->finished) return false;
    any = true;
  }
  return any;
}

enum class Wait { proceed, again, stop };

/* Waits until the next frame can be mixed (lock held, may drop it). */
static Wait wait_for_frame(ProsodyConfMix* self, Inner& in, std::unique_lock<std::mutex>& lk) {
  if (in.stopping) return Wait::stop;
  if (in.all_done || !in.module || in.frame_samples == 0) {
    in.task_cond.wait(lk);
    return Wait::again;
  }
  if (!in.latency_valid) {
    lk.unlock();
    prosody_conf_mix_query_upstream_latency(self, true);
    lk.lock();
    return Wait::again;
  }
  if (all_inputs_ended(in)) return Wait::proceed;
  const bool all_ready = in.n_active > 0 && in.n_ready == in.n_active;
  GST_LOG_OBJECT(self, "frame at %" G_GUINT64_FORMAT ": %u of %u inputs ready", in.read_pos, in.n_ready, in.n_active);
  if (!in.live) {
    if (all_ready) return Wait::proceed;
    in.task_cond.wait(lk);
    return Wait::again;
  }
  /* Live: mix at the frame's end time plus latency, whatever has come. */
  if (!in.playing) {
    in.task_cond.wait(lk);
    return Wait::again;
  }
  if (all_ready && in.start_known) return Wait::proceed;
  GstClock* clock = gst_element_get_clock(GST_ELEMENT(self));
  if (!clock) {
    in.task_cond.wait_for(lk, std::chrono::milliseconds(10));
    return Wait::again;
  }
  const GstClockTime base = gst_element_get_base_time(GST_ELEMENT(self));
  if (!in.start_known) {
    PROSODY_OBJECT_LOCK(self);
    const gint selection = in.start_time_selection;
    PROSODY_OBJECT_UNLOCK(self);
    if (selection == PROSODY_CONF_MIX_START_TIME_FIRST) {
      gst_object_unref(clock);
      in.task_cond.wait_for(lk, std::chrono::milliseconds(10));
      return Wait::again;
    }
    const GstClockTime now = gst_clock_get_time(clock);
    in.start_rt = now > base ? now - base : 0;
    in.start_known = true;
  }
  PROSODY_OBJECT_LOCK(self);
  const GstClockTime latency = in.latency;
  PROSODY_OBJECT_UNLOCK(self);
  const GstClockTime deadline = base + in.pos_to_time(in.frame_end()) + in.upstream_min + latency;
  GstClockID id = gst_clock_new_single_shot_id(clock, deadline);
  gst_object_unref(clock);
  in.clock_id = id;
  lk.unlock();
  const GstClockReturn r = gst_clock_id_wait(id, nullptr);
  lk.lock();
  in.clock_id = nullptr;
  gst_clock_id_unref(id);
  if (in.stopping) return Wait::stop;
  if (r == GST_CLOCK_UNSCHEDULED) return Wait::again; /* woken: inputs ready, paused or stopping */
  return Wait::proceed;
}

/* Pauses the task unless it is being stopped (a pause after the stop would
 * leave gst_task_join waiting). Lock held, as by whoever stops it. */
static void pause_task(Inner& in) {
  if (!in.stopping) gst_task_pause(in.task);
}

static void push_eos_everywhere(Inner& in) {
  for (PadRef& o : in.out_snapshot) {
    if (o.party->src_eos_sent) continue;
    gst_pad_push_event(o.pad, gst_event_new_eos());
    o.party->src_eos_sent = true;
  }
}

void prosody_conf_mix_task_loop(gpointer user_data) {
  ProsodyConfMix* self = PROSODY_CONF_MIX(user_data);
  PROSODY_TSAN_ACQUIRE(self); /* started through GLib's thread pool */
  Inner& in = *self->inner;
  std::vector<GstMessage*> messages;

  std::unique_lock<std::mutex> lk(in.lock);
  Wait w;
  while ((w = wait_for_frame(self, in, lk)) == Wait::again) {
  }
  if (w == Wait::stop) {
    pause_task(in);
    return;
  }
  if (in.parties_changed) rebuild_snapshots(in);
  if (in.group_id == 0) in.group_id = gst_util_group_id_next();

  const guint rate = in.rate;
  const gsize frame = in.frame_samples;
  const guint64 pos = in.read_pos;
  const GstClockTime pts = in.pos_to_time(pos);

  /* Controlled properties (volume, mute, deaf) at this frame's time. Their
   * setters take the lock, so it is dropped; the snapshots are the task's. */
  lk.unlock();
  for (auto* list : {&in.sink_snapshot, &in.out_snapshot})
    for (PadRef& r : *list)
      /* sync_values freezes and thaws notifications even with no
       * controller: too dear for a thousand pads per frame. */
      if (gst_object_has_active_control_bindings(GST_OBJECT(r.pad))) gst_object_sync_values(GST_OBJECT(r.pad), pts);
  lk.lock();

  /* 1. Hand every input its frame. */
  PROSODY_OBJECT_LOCK(self);
  const guint64 queue_ns = in.queue_time;
  PROSODY_OBJECT_UNLOCK(self);
  /* A blocked upstream is woken when its queue is down to a quarter, so
   * that each wake-up is worth several buffers. */
  const gsize low_water = MAX((gsize)gst_util_uint64_scale_int(queue_ns, rate, GST_SECOND), 2 * frame) / 4;
  const bool ended_before = all_inputs_ended(in);
  std::vector<PartyPtr> ended;
  try {
    for (PadRef& r : in.sink_snapshot) {
      Party& p = *r.party;
      if (p.sinkpad != r.pad || p.finished || !p.channel) continue;
      feed_frame(in, p);
      if (p.chain_waiting && p.queued < low_water) p.space_cond.notify_all();
      if (p.eos && p.queued == 0 && p.known_until <= in.frame_end()) {
        /* Ended: leaves the mix (ramped) once this frame, its last, is
         * mixed; its output goes on. */
        in.set_active(p, false);
        p.finished = true;
        ended.push_back(r.party);
      }
    }
  } catch (const std::exception& e) {
    pause_task(in);
    lk.unlock();
    prosody_conf_mix_report_error(self, "writing input", e);
    return;
  }
  const bool last = !ended_before && all_inputs_ended(in);
  gsize out_n = frame;
  if (ended_before) {
    out_n = 0; /* nothing left to mix */
  } else if (last) {
    out_n = in.end_pos > pos ? static_cast<gsize>(MIN(in.end_pos - pos, (guint64)frame)) : 0;
  }
  in.read_pos = in.frame_end();
  for (PadRef& r : in.sink_snapshot)
    if (r.party->sinkpad == r.pad) in.update_ready(*r.party);
  prosody::Module module = in.module;
  lk.unlock();

  /* 2. The module mixes the frame. */
  try {
    module.step(1);
  } catch (const std::exception& e) {
    prosody_conf_mix_report_error(self, "stepping the module", e);
    lk.lock();
    pause_task(in);
    return;
  }

  /* 3. One buffer per src pad, pushed one after the other without a lock. */
  const GstClockTime end = in.pos_to_time(pos + out_n);
  GstFlowReturn combined = GST_FLOW_OK;
  for (PadRef& o : in.out_snapshot) {
    GstFlowReturn r;
    if (out_n == 0 || o.party->src_eos_sent) {
      /* Drain the module's output all the same. */
      std::vector<float> sink(frame);
      o.party->channel.read_output(prosody::Span<float>(sink.data(), frame));
      continue;
    }
    r = push_output(self, in, o, pos, out_n, frame, pts, end, rate);
    o.party->last_flow = r;
    if (r == GST_FLOW_NOT_LINKED || r == GST_FLOW_FLUSHING)
      r = GST_FLOW_OK;                                   /* unlinked or being released: not an error */
    if (r == GST_FLOW_EOS) o.party->src_eos_sent = true; /* downstream wants no more */
    combined = gst_flow_combiner_update_pad_flow(in.combiner, o.pad, r);
  }

  lk.lock();
  ++in.frames_mixed;
  const bool finish = last || ended_before;
  bool tones_cut = false;
  for (PartyPtr& p : ended)
    if (p->finished) {
      tones_cut = tones_cut || p->tones != PROSODY_CONF_MIX_TONES_NONE;
      prosody_conf_mix_party_detach_input(self, *p);
    }
  if (finish && tones_cut) {
    /* One more frame, heard by no one, in which the module ends the tones
     * still in progress where the inputs stopped. */
    lk.unlock();
    try {
      module.step(1);
      std::vector<float> sink(frame);
      for (PadRef& o : in.out_snapshot) o.party->channel.read_output(prosody::Span<float>(sink.data(), frame));
    } catch (const std::exception& e) {
      GST_DEBUG_OBJECT(self, "ending tones: %s", e.what());
    }
    lk.lock();
  }
  collect_reports(self, in, messages);
  if (finish) {
    in.all_done = true;
    push_eos_everywhere(in);
  }
  lk.unlock();
  for (GstMessage* m : messages) gst_element_post_message(GST_ELEMENT(self), m);

  if (combined == GST_FLOW_EOS && !in.out_snapshot.empty()) {
    GST_INFO_OBJECT(self, "every output is EOS downstream");
  } else if (combined < GST_FLOW_EOS) {
    GST_ELEMENT_FLOW_ERROR(self, combined);
    lk.lock();
    in.all_done = true;
    push_eos_everywhere(in);
    lk.unlock();
  }
}
