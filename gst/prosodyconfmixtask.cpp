/* prosodyconfmixtask.cpp - the mixing task of prosodyconfmix: waits for a
 * frame (every input, or the clock), takes one frame from every input's
 * timeline, has the module process it with the frame API (the inputs'
 * buffers in, the outputs' buffers out, the frame's tone and activity events
 * back), and sends one buffer per src pad.
 */
#include <cmath>
#include <unordered_map>

#include "prosody/tones.hpp"
#include "prosodyconfmixprivate.h"

using prosody_gst::Inner;
using prosody_gst::PadRef;
using prosody_gst::Party;
using prosody_gst::PartyPtr;

namespace {

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
      if (p.task_srcpad != p.srcpad) { /* a new src pad: a new stream */
        p.task_srcpad = p.srcpad;
        p.src_need_stream_start = p.src_need_caps = p.src_need_segment = p.src_discont = true;
        p.src_eos_sent = false;
        std::lock_guard<std::mutex> out_lk(in.out_lock);
        p.buffers_out = 0;
      }
    }
  }
  in.parties_changed = false;
}

GstStructure* timed(GstStructure* s, GstClockTime ts) {
  gst_structure_set(s, "timestamp", G_TYPE_UINT64, (guint64)ts, "running-time", G_TYPE_UINT64, (guint64)ts,
                    "stream-time", G_TYPE_UINT64, (guint64)ts, nullptr);
  return s;
}

void array_append_string(GValue* array, const char* s) {
  GValue v = G_VALUE_INIT;
  g_value_init(&v, G_TYPE_STRING);
  g_value_set_string(&v, s);
  gst_value_array_append_and_take_value(array, &v);
}

/* A tone report of a party's input, as the message dtmfdetect or
 * prosodytonesuppress would post, with the pad and party. Lock held. */
GstMessage* tone_message(ProsodyConfMix* self, Inner& in, const Party& p, const prosody::Recognition& r) {
  if (r.type != prosody::RecognitionType::digit && r.type != prosody::RecognitionType::cptone) return nullptr;
  const prosody::ToneEvent e = prosody_gst::tone_event_of(r);
  const GstClockTime start = in.pos_to_time(r.start_sample);
  prosody_gst::ToneTimes t;
  t.duration = r.is_end ? r.duration_ms * GST_MSECOND : GST_CLOCK_TIME_NONE;
  t.timestamp = t.running_time = t.stream_time = r.is_end ? start + r.duration_ms * GST_MSECOND : start;
  GstStructure* s = prosody_gst::tone_event_structure(e, t);
  if (!s) return nullptr;
  /* prosodyconfmix's messages carry a duration in both: NONE at the start. */
  if (!r.is_end) gst_structure_set(s, "duration", G_TYPE_UINT64, (guint64)GST_CLOCK_TIME_NONE, nullptr);
  gst_structure_set(s, "pad", G_TYPE_STRING, p.sink_name.c_str(), "party", G_TYPE_UINT, p.index, nullptr);
  return gst_message_new_element(GST_OBJECT(self), s);
}

/* The talkers of an activity report, by pad. Lock held. */
GstMessage* activity_message(ProsodyConfMix* self, Inner& in, const prosody::ActivityReport& rep,
                             std::uint64_t frame_first_sample) {
  GValue talkers = G_VALUE_INIT, parties = G_VALUE_INIT, levels = G_VALUE_INIT;
  g_value_init(&talkers, GST_TYPE_ARRAY);
  g_value_init(&parties, GST_TYPE_ARRAY);
  g_value_init(&levels, GST_TYPE_ARRAY);
  for (const prosody::ActiveInput& a : rep.ranks) {
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
  GstStructure* s = timed(gst_structure_new_empty("prosody-activity"), in.pos_to_time(frame_first_sample));
  gst_structure_take_value(s, "talkers", &talkers);
  gst_structure_take_value(s, "parties", &parties);
  gst_structure_take_value(s, "levels", &levels);
  return gst_message_new_element(GST_OBJECT(self), s);
}

/* The frame's events as messages. Lock held. */
void collect_events(ProsodyConfMix* self, Inner& in, std::vector<GstMessage*>& out) {
  if (in.result.events.empty()) return;
  std::unordered_map<std::uintptr_t, const Party*> by_channel;
  for (auto& kv : in.parties)
    if (kv.second->channel) by_channel.emplace(kv.second->channel.id().value, kv.second.get());
  for (const prosody::FrameEvent& ev : in.result.events) {
    if (ev.kind == prosody::FrameEvent::Kind::activity) {
      if (in.activity_channel && ev.channel == in.activity_channel.id())
        out.push_back(activity_message(self, in, ev.activity, in.result.first_sample));
      continue;
    }
    auto it = by_channel.find(ev.channel.value);
    if (it == by_channel.end()) continue;
    if (GstMessage* m = tone_message(self, in, *it->second, ev.recognition)) out.push_back(m);
  }
}

/* Whether every input has ended and been heard to its end, its tone
 * look-ahead included (and there was one). Lock held. */
bool all_inputs_ended(Inner& in) {
  bool any = false;
  for (auto& kv : in.parties) {
    const Party& p = *kv.second;
    if (!p.sinkpad) continue;
    if (!p.finished || p.pid >= 0) return false;
    any = true;
  }
  return any;
}

/* Whether every input has ended (and there was one): the frames left are
 * the inputs' tails, and need no waiting. Lock held. */
bool all_inputs_finished(Inner& in) {
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
Wait wait_for_frame(ProsodyConfMix* self, Inner& in, std::unique_lock<std::mutex>& lk) {
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
  if (all_inputs_finished(in)) return Wait::proceed;
  const bool all_ready = in.n_active > 0 && in.n_ready == in.n_active;
  GST_LOG_OBJECT(self, "frame at %" G_GUINT64_FORMAT ": %u of %u inputs ready", in.position, in.n_ready, in.n_active);
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
  const GstClockTime deadline =
      base + in.pos_to_time(in.frame_end()) + in.upstream_min + latency + prosody_conf_mix_max_lookahead(in);
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
void pause_task(Inner& in) {
  if (!in.stopping) gst_task_pause(in.task);
}

/* A party's input has ended: it has no more audio for the mix, which still
 * hears it until leave_at (its look-ahead's tail). Lock held. */
void finish_input(Inner& in, Party& p, std::int64_t last_sample_end) {
  in.set_active(p, false);
  p.finished = true;
  p.leave_at = last_sample_end + std::int64_t(prosody_gst::time_to_samples(p.lookahead_applied, in.rate));
  in.end_pos = std::max(in.end_pos, p.leave_at);
}

/* Takes the frame from every input's timeline (lock held). */
void take_inputs(Inner& in) {
  const gsize frame = in.frame_samples;
  in.frame_inputs.clear();
  for (PadRef& r : in.sink_snapshot) {
    Party& p = *r.party;
    p.frame_taken = false;
    if (p.sinkpad != r.pad || p.finished || !p.channel || !p.timeline.started()) {
      /* Ended before any audio came. */
      if (p.sinkpad == r.pad && !p.finished && p.eos) finish_input(in, p, std::int64_t(in.position));
      continue;
    }
    const std::int64_t covered = p.timeline.covered_until();
    p.timeline.take(std::uint32_t(frame), p.frame);
    p.frame_taken = true;
    prosody::FrameInput fi;
    fi.channel = p.channel.id();
    fi.pieces = prosody::Span<const prosody::FramePiece>(p.frame.pieces.data(), p.frame.pieces.size());
    /* Its last frame: tones in progress end here, reported with it. */
    fi.ended = p.timeline.drained();
    in.frame_inputs.push_back(fi);
    if (fi.ended) finish_input(in, p, std::min<std::int64_t>(covered, std::int64_t(in.position + frame)));
  }
}

/* Finished inputs whose tail has been mixed leave (ramped by the module);
 * their outputs go on. Lock held. */
void leave_finished_inputs(ProsodyConfMix* self, Inner& in) {
  for (auto& kv : in.parties) {
    Party& p = *kv.second;
    if (p.finished && p.pid >= 0 && std::int64_t(in.position) >= p.leave_at)
      prosody_conf_mix_party_detach_input(self, p);
  }
}

/* Wakes upstream threads blocked on a full timeline, once it is down to a
 * quarter, so that each wake-up is worth several buffers. Lock held. */
void wake_blocked_inputs(ProsodyConfMix* self, Inner& in) {
  PROSODY_OBJECT_LOCK(self);
  const guint64 queue_ns = in.queue_time;
  PROSODY_OBJECT_UNLOCK(self);
  const std::uint64_t low_water =
      std::max<std::uint64_t>(gst_util_uint64_scale_int(queue_ns, gint(in.rate), GST_SECOND), 2 * in.frame_samples) / 4;
  for (PadRef& r : in.sink_snapshot) {
    Party& p = *r.party;
    if (p.chain_waiting && p.timeline.queued() < low_water) p.space_cond.notify_all();
  }
}

/* Which src pads get a buffer this frame, and from which channel (lock
 * held: pads and channels change under it). */
void plan_outputs(Inner& in) {
  in.out_channels.clear();
  for (PadRef& o : in.out_snapshot) {
    Party& p = *o.party;
    const bool wanted = !p.src_eos_sent && p.channel && p.srcpad == o.pad;
    in.out_channels.push_back(wanted ? p.channel.id() : prosody::ChannelId{});
  }
}

/* One output buffer per planned src pad, mapped for the module to write (no
 * lock held: caps are negotiated here, downstream asked). */
bool prepare_outputs(ProsodyConfMix* self, Inner& in, gsize frame, std::vector<std::vector<GstEvent*>>& events) {
  in.frame_outputs.clear();
  in.out_buffers.clear();
  in.out_maps.clear();
  events.assign(in.out_snapshot.size(), {});
  for (std::size_t i = 0; i < in.out_snapshot.size(); ++i) {
    PadRef& o = in.out_snapshot[i];
    Party& p = *o.party;
    GstBuffer* buf = nullptr;
    if (in.out_channels[i]) {
      if (!prosody_conf_mix_prepare_src(self, p, o.pad, events[i])) return false;
      buf = gst_buffer_new_allocate(nullptr, frame * prosody_gst::bytes_per_sample(p.out_format), nullptr);
    }
    in.out_buffers.push_back(buf);
    in.out_maps.emplace_back();
    if (!buf) continue;
    gst_buffer_map(buf, &in.out_maps.back(), GST_MAP_WRITE);
    in.frame_outputs.push_back({in.out_channels[i], in.out_maps.back().data, p.out_format});
  }
  return true;
}

}  // namespace

void prosody_conf_mix_task_loop(gpointer user_data) {
  ProsodyConfMix* self = PROSODY_CONF_MIX(user_data);
  /* Started and joined through GLib, which ThreadSanitizer cannot see. */
  ProsodyTsanScope tsan_scope(self);
  Inner& in = *self->inner;
  std::vector<GstMessage*> messages;

  prosody_conf_mix_output_join_retired(in, false);
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
  plan_outputs(in);
  const gsize frame = in.frame_samples;

  /* Controlled properties (volume, mute, deaf) at this frame's time. Their
   * setters take the lock, so it is dropped; the snapshots are the task's. */
  const GstClockTime frame_time = in.pos_to_time(in.position);
  lk.unlock();
  for (auto* list : {&in.sink_snapshot, &in.out_snapshot})
    for (PadRef& r : *list)
      /* sync_values freezes and thaws notifications even with no
       * controller: too dear for a thousand pads per frame. */
      if (gst_object_has_active_control_bindings(GST_OBJECT(r.pad)))
        gst_object_sync_values(GST_OBJECT(r.pad), frame_time);
  std::vector<std::vector<GstEvent*>> out_events;
  const bool outputs_ready = prepare_outputs(self, in, frame, out_events);
  lk.lock();
  if (!outputs_ready) {
    pause_task(in);
    lk.unlock();
    for (GstBuffer* b : in.out_buffers)
      if (b) gst_buffer_unref(b);
    return;
  }

  /* 1. Every input's frame, from its timeline: pieces of its buffers. */
  const bool ended_before = all_inputs_ended(in);
  take_inputs(in);
  wake_blocked_inputs(self, in);
  /* The last frame: every input has ended, and this frame reaches the end
   * of the last one's tail. */
  const bool last = !ended_before && all_inputs_finished(in) && in.end_pos <= std::int64_t(in.position + frame);
  const std::uint64_t pos = in.position;
  gsize out_n = frame;
  if (ended_before)
    out_n = 0; /* nothing left to mix */
  else if (last)
    out_n = in.end_pos > std::int64_t(pos) ? gsize(std::min<std::uint64_t>(std::uint64_t(in.end_pos) - pos, frame)) : 0;
  in.position = pos + frame; /* where the inputs' next frame starts */
  for (PadRef& r : in.sink_snapshot)
    if (r.party->sinkpad == r.pad) in.update_ready(*r.party);
  prosody::Module module = in.module;
  lk.unlock();

  /* 2. The module mixes the frame: one copy in, one copy out. */
  bool stepped = true;
  try {
    module.step_frame(prosody::Span<const prosody::FrameInput>(in.frame_inputs.data(), in.frame_inputs.size()),
                      prosody::Span<const prosody::FrameOutput>(in.frame_outputs.data(), in.frame_outputs.size()),
                      in.result);
  } catch (const std::exception& e) {
    prosody_conf_mix_report_error(self, "processing a frame", e);
    stepped = false;
  }

  lk.lock();
  for (PadRef& r : in.sink_snapshot)
    if (r.party->frame_taken) r.party->timeline.release_taken();
  if (!stepped) {
    pause_task(in);
    lk.unlock();
    for (std::size_t i = 0; i < in.out_buffers.size(); ++i)
      if (GstBuffer* b = in.out_buffers[i]) {
        gst_buffer_unmap(b, &in.out_maps[i]);
        gst_buffer_unref(b);
      }
    return;
  }
  ++in.frames_mixed;
  leave_finished_inputs(self, in);
  collect_events(self, in, messages);
  prosody_conf_mix_collect_announcements(self, in, messages);
  const bool finish = last || ended_before;
  if (finish) in.all_done = true;
  lk.unlock();

  /* 3. One buffer per src pad, timestamped by the module's sample counter. */
  const std::uint64_t first = in.result.first_sample;
  const GstClockTime pts = in.pos_to_time(first), end = in.pos_to_time(first + out_n);
  for (std::size_t i = 0; i < in.out_snapshot.size(); ++i) {
    GstBuffer*& buf = in.out_buffers[i];
    if (!buf) continue;
    gst_buffer_unmap(buf, &in.out_maps[i]);
    if (out_n == 0) {
      gst_buffer_unref(buf);
      buf = nullptr;
      for (GstEvent* ev : out_events[i]) gst_event_unref(ev);
      out_events[i].clear();
      continue;
    }
    if (out_n < frame)
      gst_buffer_resize(buf, 0, out_n * prosody_gst::bytes_per_sample(in.out_snapshot[i].party->out_format));
    GST_BUFFER_PTS(buf) = pts;
    GST_BUFFER_DURATION(buf) = end - pts;
    GST_BUFFER_OFFSET(buf) = first;
    GST_BUFFER_OFFSET_END(buf) = first + out_n;
  }
  prosody_conf_mix_output_frame(self, in.out_snapshot, out_events, in.out_buffers, in.out_flows);
  GstFlowReturn combined = GST_FLOW_OK;
  for (std::size_t i = 0; i < in.out_snapshot.size(); ++i) {
    if (in.out_flows[i] == prosody_gst::kNothingSent) continue;
    PadRef& o = in.out_snapshot[i];
    GstFlowReturn r = in.out_flows[i];
    if (r == GST_FLOW_NOT_LINKED || r == GST_FLOW_FLUSHING) r = GST_FLOW_OK; /* unlinked or being released */
    if (r == GST_FLOW_EOS) o.party->src_eos_sent = true;                     /* downstream wants no more */
    combined = gst_flow_combiner_update_pad_flow(in.combiner, o.pad, r);
  }
  if (finish) prosody_conf_mix_output_eos(self);
  for (GstMessage* m : messages) gst_element_post_message(GST_ELEMENT(self), m);

  if (combined == GST_FLOW_EOS && !in.out_snapshot.empty()) {
    GST_INFO_OBJECT(self, "every output is EOS downstream");
  } else if (combined < GST_FLOW_EOS) {
    GST_ELEMENT_FLOW_ERROR(self, combined);
    lk.lock();
    in.all_done = true;
    lk.unlock();
    prosody_conf_mix_output_eos(self);
  }
}
