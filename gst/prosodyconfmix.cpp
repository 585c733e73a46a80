/* prosodyconfmix.cpp - the element: properties, request pads, states, and
 * the mapping of parties onto a prosody::Module (routing).
 */
/**
 * SECTION:element-prosodyconfmix
 * @title: prosodyconfmix
 * @short_description: an N-party audio conference (mix-minus) on a software
 *   Prosody module
 *
 * Every party is a pair of request pads with the same number: sink_N (what
 * party N says) and src_N (what party N hears: every other party's input,
 * never its own). A party with only a sink pad is heard by everyone and
 * hears nothing (background music, announcements); a party with only a src
 * pad hears everyone and is heard by nobody (monitor, recorder). Pads may be
 * requested and released in any state, also while PLAYING; joins and leaves
 * are ramped by the module, so they do not click.
 *
 * The module does all the signal processing: mix-minus, gains, ramps, AGC,
 * speech gating, limiting, concealment of missing input, tone detection and
 * suppression. Every pad runs at the element's rate (the rate property, or
 * the first input's rate when it is 0): mono S16LE or F32LE at 8000, 16000,
 * 32000 or 48000 Hz; each src pad negotiates its own format.
 *
 * Non-live (files): the element waits for every input that has not ended;
 * the result is deterministic and sample-accurate. EOS on an input removes
 * that party from the mix (its output goes on); when every input has ended
 * every output gets EOS after the last mixed sample. Live (any live input):
 * a frame is mixed at its end time plus the upstream latency plus the
 * latency property; a missing or late input is silence for that frame, late
 * buffers are dropped, counted in the pad's stats and reported with a QoS
 * message.
 *
 * Routing: the sink pad property heard-by restricts who hears an input
 * ("1" or "1,2"; empty = everyone). A coach on party 3 who is heard only by
 * trainee 1, and hears everyone: sink_3::heard-by="1".
 *
 * Messages (element messages on the bus):
 *
 * - prosody-activity, every activity-interval while the talkers change
 *   (activity-sensitivity): `talkers` (GstValueArray of strings: sink pad
 *   names, loudest first, at most 4), `parties` (array of guint), `levels`
 *   (array of gdouble, dBm0), `timestamp`, `running-time`, `stream-time`
 *   (GstClockTime).
 * - dtmf-event, from a sink pad with detect-tones=dtmf: `type` (1), `number`
 *   (0-15: 0-9, *=10, #=11, A-D=12-15), `method` (2 = in-band sound),
 *   `start` (gboolean), `volume` (0-36, -dBm0), `timestamp`, `running-time`,
 *   `stream-time` (the tone's start, or its end), `duration` (GstClockTime:
 *   the tone's measured length at its end, GST_CLOCK_TIME_NONE at its start),
 *   `pad` (string), `party` (guint).
 * - prosody-tone, from a sink pad with detect-tones=call-progress: `tone`
 *   (string: busy, ring, dial, fax-cng, fax-ced, ...), `id` (Prosody
 *   call-progress id), `start` (gboolean), `level` (dBm0), `timestamp`,
 *   `running-time`, `stream-time`, `duration`, `pad`, `party`.
 * - QoS (from the sink pad) for every late input buffer dropped in live mode.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 prosodyconfmix name=m rate=8000 \
 *   audiotestsrc freq=440 num-buffers=300 ! m.sink_0 \
 *   audiotestsrc freq=660 num-buffers=300 ! m.sink_1 \
 *   audiotestsrc freq=880 num-buffers=300 ! m.sink_2 \
 *   m.src_0 ! audioconvert ! wavenc ! filesink location=party0.wav \
 *   m.src_1 ! audioconvert ! wavenc ! filesink location=party1.wav \
 *   m.src_2 ! audioconvert ! wavenc ! filesink location=party2.wav
 * ]| Three parties, each hearing the two others.
 * |[
 * gst-launch-1.0 prosodyconfmix name=m rate=8000 sink_3::heard-by="1" \
 *   audiotestsrc freq=440 num-buffers=300 ! m.sink_0 \
 *   audiotestsrc freq=660 num-buffers=300 ! m.sink_1 \
 *   audiotestsrc freq=990 num-buffers=300 ! m.sink_3 \
 *   m.src_0 ! fakesink m.src_1 ! fakesink m.src_3 ! fakesink \
 *   m.src_9 ! audioconvert ! wavenc ! filesink location=monitor.wav
 * ]| A coach (party 3) heard only by party 1; party 9 is a monitor.
 */
#include <cmath>
#include <cstring>

#include "prosodyconfmixprivate.h"

GST_DEBUG_CATEGORY(prosody_conf_mix_debug);

using prosody_gst::Inner;
using prosody_gst::Party;
using prosody_gst::PartyPtr;

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink_%u", GST_PAD_SINK, GST_PAD_REQUEST, GST_STATIC_CAPS(PROSODY_AUDIO_CAPS));
static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src_%u", GST_PAD_SRC, GST_PAD_REQUEST, GST_STATIC_CAPS(PROSODY_AUDIO_CAPS));

enum {
  PROP_0,
  PROP_RATE,
  PROP_FRAME_DURATION,
  PROP_LATENCY,
  PROP_ALIGNMENT_THRESHOLD,
  PROP_QUEUE_TIME,
  PROP_START_TIME_SELECTION,
  PROP_ACTIVITY_INTERVAL,
  PROP_ACTIVITY_SENSITIVITY,
  PROP_STATS,
};

static void prosody_conf_mix_child_proxy_init(gpointer g_iface, gpointer iface_data);

G_DEFINE_TYPE_WITH_CODE(ProsodyConfMix, prosody_conf_mix, GST_TYPE_ELEMENT,
                        G_IMPLEMENT_INTERFACE(GST_TYPE_CHILD_PROXY, prosody_conf_mix_child_proxy_init);
                        GST_DEBUG_CATEGORY_INIT(prosody_conf_mix_debug, "prosodyconfmix", 0,
                                                "Prosody conference mixer"));

GST_ELEMENT_REGISTER_DEFINE(prosodyconfmix, "prosodyconfmix", GST_RANK_NONE, PROSODY_TYPE_CONF_MIX);

/* ---- Inner and Party ---- */

namespace prosody_gst {

Party::Party(guint i) : index(i) { gst_segment_init(&segment, GST_FORMAT_TIME); }

Party::~Party() { out.clear(); }

Inner::Inner() { g_rec_mutex_init(&task_lock); }

Inner::~Inner() {
  clear_snapshots();
  if (combiner) gst_flow_combiner_free(combiner);
  if (task) gst_object_unref(task);
  g_rec_mutex_clear(&task_lock);
}

void Inner::clear_snapshots() {
  for (PadRef& o : out_snapshot) gst_object_unref(o.pad);
  for (PadRef& o : sink_snapshot) gst_object_unref(o.pad);
  out_snapshot.clear();
  sink_snapshot.clear();
  if (combiner) gst_flow_combiner_clear(combiner);
  parties_changed = true;
}

/* Keeps n_ready equal to the number of active parties whose input covers
 * the frame being assembled (or that have ended). */
void Inner::update_ready(Party& p) {
  const bool ready = p.counted_active && frame_samples > 0 &&
                     (p.eos || (p.timeline.started() && p.timeline.covered_until() >= std::int64_t(frame_end())));
  if (ready != p.counted_ready) {
    p.counted_ready = ready;
    if (ready)
      ++n_ready;
    else
      --n_ready;
  }
}

void Inner::set_active(Party& p, bool active) {
  if (active == p.counted_active) return;
  if (!active && p.counted_ready) {
    p.counted_ready = false;
    --n_ready;
  }
  p.counted_active = active;
  if (active)
    ++n_active;
  else
    --n_active;
  update_ready(p);
}

GstClockTime Inner::pos_to_time(std::uint64_t pos) const {
  return start_rt + gst_util_uint64_scale_int_round(pos, GST_SECOND, rate);
}

} /* namespace prosody_gst */

/* ---- Module and routing (Inner::lock held) ---- */

void prosody_conf_mix_report_error(ProsodyConfMix* self, const char* what, const std::exception& e) {
  GST_ELEMENT_ERROR(self, LIBRARY, FAILED, ("Prosody module call failed: %s", what), ("%s", e.what()));
}

/* Creates the module once the rate is known, with a channel per party. */
bool prosody_conf_mix_ensure_module(ProsodyConfMix* self) {
  Inner& in = *self->inner;
  if (in.module) return true;
  if (in.rate == 0) return false;
  PROSODY_OBJECT_LOCK(self);
  const guint64 frame_ns = in.frame_duration;
  PROSODY_OBJECT_UNLOCK(self);
  prosody::ModuleConfig config;
  config.sample_rate = in.rate;
  config.frame_us = static_cast<unsigned>(frame_ns / 1000);
  config.drive = prosody::DriveMode::stepped;
  try {
    in.module = prosody::Module::create(config);
    in.frame_samples = in.module.frame_samples();
  } catch (const std::exception& e) {
    prosody_conf_mix_report_error(self, "creating the module", e);
    return false;
  }
  GST_INFO_OBJECT(self, "module at %u Hz, %u samples per frame", in.rate, in.frame_samples);
  /* Inputs first, so outputs can add them as they start. */
  for (auto& kv : in.parties) prosody_conf_mix_party_setup(self, *kv.second);
  for (auto& kv : in.parties) {
    in.update_ready(*kv.second);
  }
  prosody_conf_mix_apply_activity(self);
  in.parties_changed = true;
  in.task_cond.notify_all(); /* the task may be waiting for a module */
  return true;
}

/* Output settings of a party from its src pad properties. */
static prosody::OutputSettings output_settings(GstPad* srcpad) {
  prosody::OutputSettings os;
  gboolean agc;
  prosody_pad_get_gain(PROSODY_PAD(srcpad), &os.volume_db, &agc);
  os.agc = agc;
  PROSODY_OBJECT_LOCK(srcpad);
  os.mute = PROSODY_CONF_MIX_SRC_PAD(srcpad)->deaf;
  PROSODY_OBJECT_UNLOCK(srcpad);
  return os;
}

static bool hears(const Party& talker, guint listener) {
  if (talker.index == listener) return false;
  if (talker.heard_by.empty()) return true;
  for (guint l : talker.heard_by)
    if (l == listener) return true;
  return false;
}

/* Brings a party's channel up to date with its pads: allocates it, attaches
 * its input, starts its output and adds the members that it hears. */
void prosody_conf_mix_party_setup(ProsodyConfMix* self, Party& p) {
  Inner& in = *self->inner;
  if (!in.module) return;
  try {
    if (!p.channel) {
      /* Audio in and out through the frame API: one copy each way. */
      p.channel = in.module.allocate(prosody::ChannelType::full_duplex);
      p.channel.enable_frame_input();
      p.channel.enable_frame_output();
    }
    if (p.sinkpad && !p.finished && p.pid < 0) {
      p.pid = p.channel.conf_attach();
      prosody_conf_mix_apply_sink(self, p);
      for (auto& kv : in.parties) {
        Party& o = *kv.second;
        if (o.output_started && hears(p, o.index)) o.channel.conf_add(p.channel);
      }
      if (in.activity_channel) in.activity_channel.conf_add(p.channel);
    }
    if (p.srcpad && !p.output_started) {
      p.channel.conf_start(output_settings(p.srcpad));
      p.output_started = true;
      for (auto& kv : in.parties) {
        Party& t = *kv.second;
        if (t.pid >= 0 && hears(t, p.index)) p.channel.conf_add(t.channel);
      }
      prosody_conf_mix_announce_to_new_output(in, p);
    }
  } catch (const std::exception& e) {
    prosody_conf_mix_report_error(self, "setting up a party", e);
  }
}

/* The party's input leaves every output (ramped out by the module). */
void prosody_conf_mix_party_detach_input(ProsodyConfMix* self, Party& p) {
  if (p.pid < 0 || !p.channel) return;
  Inner& in = *self->inner;
  try {
    /* Out of every output first (each leave is ramped), then detached. */
    for (auto& kv : in.parties)
      if (kv.second->output_started) kv.second->channel.conf_leave(p.pid);
    if (in.activity_channel) in.activity_channel.conf_leave(p.pid);
    p.channel.conf_detach();
    /* A tone in progress gets its end report in the next frame's events. */
    p.channel.listen_for(prosody::ListenSettings{});
    p.tones = PROSODY_CONF_MIX_TONES_NONE;
    p.lookahead_applied = 0;
  } catch (const std::exception& e) {
    prosody_conf_mix_report_error(self, "detaching an input", e);
  }
  p.pid = -1;
}

/* Input settings of a party from its sink pad properties. */
void prosody_conf_mix_apply_sink(ProsodyConfMix* self, Party& p) {
  if (!p.channel || !p.sinkpad || p.pid < 0) return; /* applied when the input attaches */
  auto* sp = PROSODY_CONF_MIX_SINK_PAD(p.sinkpad);
  prosody::InputSettings is;
  gboolean agc;
  prosody_pad_get_gain(PROSODY_PAD(sp), &is.volume_db, &agc);
  is.agc = agc;
  PROSODY_OBJECT_LOCK(sp);
  is.mute = sp->mute;
  const gint gate = sp->gate;
  const gint tones = sp->detect_tones;
  const bool suppress = sp->suppress_tones;
  const guint64 lookahead = tones != PROSODY_CONF_MIX_TONES_NONE ? sp->tone_lookahead : 0;
  PROSODY_OBJECT_UNLOCK(sp);
  const bool gating = gate == PROSODY_CONF_MIX_GATE_ON || (gate == PROSODY_CONF_MIX_GATE_AUTO && p.srcpad != nullptr);
  prosody::ListenSettings ls;
  if (tones != PROSODY_CONF_MIX_TONES_NONE) {
    ls.enabled = true;
    ls.report = prosody::ToneReport::start_and_end;
    ls.tone_set = tones == PROSODY_CONF_MIX_TONES_DTMF ? 0 : 1;
    ls.map_to_digits = tones == PROSODY_CONF_MIX_TONES_DTMF;
    ls.cptone_recognition = tones == PROSODY_CONF_MIX_TONES_CALL_PROGRESS;
    ls.suppress = suppress;
    ls.lookahead_us = static_cast<unsigned>(lookahead / GST_USECOND);
  }
  try {
    p.channel.conf_adjust_input(is);
    p.channel.conf_set_gating(gating);
    if (tones != p.tones || suppress != p.suppress_applied || lookahead != p.lookahead_applied)
      p.channel.listen_for(ls);
    p.tones = tones;
    p.suppress_applied = suppress;
    p.lookahead_applied = lookahead;
  } catch (const std::exception& e) {
    prosody_conf_mix_report_error(self, "adjusting an input", e);
  }
}

void prosody_conf_mix_apply_src(ProsodyConfMix* self, Party& p) {
  if (!p.channel || !p.srcpad || !p.output_started) return;
  try {
    p.channel.conf_adjust_output(output_settings(p.srcpad));
  } catch (const std::exception& e) {
    prosody_conf_mix_report_error(self, "adjusting an output", e);
  }
}

/* The activity reporter: a hidden output that every input joins. */
void prosody_conf_mix_apply_activity(ProsodyConfMix* self) {
  Inner& in = *self->inner;
  if (!in.module) return;
  PROSODY_OBJECT_LOCK(self);
  const guint64 interval = in.activity_interval;
  const guint sensitivity = in.activity_sensitivity;
  PROSODY_OBJECT_UNLOCK(self);
  try {
    if (interval == 0) {
      if (in.activity_channel) in.activity_channel.release();
      return;
    }
    if (!in.activity_channel) {
      in.activity_channel = in.module.allocate(prosody::ChannelType::output);
      in.activity_channel.enable_frame_output(); /* its reports come with each frame's events */
      in.activity_channel.conf_start();
      for (auto& kv : in.parties)
        if (kv.second->pid >= 0) in.activity_channel.conf_add(kv.second->channel);
    }
    const guint64 ms = MAX(interval / GST_MSECOND, (guint64)1);
    in.activity_channel.conf_config_activity(static_cast<unsigned>(MIN(ms, (guint64)G_MAXUINT)), sensitivity);
  } catch (const std::exception& e) {
    prosody_conf_mix_report_error(self, "configuring activity reports", e);
  }
}

/* A pad property changed: apply it to the module. */
void prosody_conf_mix_pad_changed(ProsodyPad* pad, gboolean routing) {
  GstElement* parent = gst_pad_get_parent_element(GST_PAD(pad));
  if (!parent) return; /* not in an element yet: applied on setup */
  ProsodyConfMix* self = PROSODY_CONF_MIX(parent);
  Inner& in = *self->inner;
  const guint index = prosody_pad_get_index(pad);
  const bool is_sink = PROSODY_IS_CONF_MIX_SINK_PAD(pad);
  bool latency_changed = false;
  {
    std::lock_guard<std::mutex> lk(in.lock);
    auto it = in.parties.find(index);
    if (it != in.parties.end()) {
      Party& p = *it->second;
      if (is_sink && p.sinkpad == GST_PAD(pad)) {
        if (routing) {
          std::vector<guint> old = p.heard_by;
          PROSODY_OBJECT_LOCK(pad);
          prosody_gst::parse_heard_by(PROSODY_CONF_MIX_SINK_PAD(pad)->heard_by, p.heard_by);
          PROSODY_OBJECT_UNLOCK(pad);
          if (p.pid >= 0 && old != p.heard_by) {
            try {
              for (auto& kv : in.parties) {
                Party& o = *kv.second;
                if (!o.output_started || o.index == p.index) continue;
                if (hears(p, o.index))
                  o.channel.conf_add(p.channel);
                else
                  o.channel.conf_leave(p.pid); /* no-op if not a member */
              }
            } catch (const std::exception& e) {
              prosody_conf_mix_report_error(self, "re-routing", e);
            }
          }
        }
        const GstClockTime lookahead_before = prosody_conf_mix_max_lookahead(in);
        prosody_conf_mix_apply_sink(self, p);
        latency_changed = prosody_conf_mix_max_lookahead(in) != lookahead_before;
      } else if (!is_sink && p.srcpad == GST_PAD(pad)) {
        prosody_conf_mix_apply_src(self, p);
      }
    }
  }
  /* A tone look-ahead delays the mix: the pipeline's latency changes. */
  if (latency_changed) gst_element_post_message(parent, gst_message_new_latency(GST_OBJECT(parent)));
  gst_object_unref(parent);
}

GstStructure* prosody_conf_mix_pad_stats(ProsodyPad* pad) {
  const bool is_sink = PROSODY_IS_CONF_MIX_SINK_PAD(pad);
  GstStructure* s = gst_structure_new_empty(is_sink ? "prosody-sink-stats" : "prosody-src-stats");
  GstElement* parent = gst_pad_get_parent_element(GST_PAD(pad));
  if (!parent) return s;
  Inner& in = *PROSODY_CONF_MIX(parent)->inner;
  {
    std::lock_guard<std::mutex> lk(in.lock);
    auto it = in.parties.find(prosody_pad_get_index(pad));
    if (it != in.parties.end()) {
      Party& p = *it->second;
      try {
        if (is_sink) {
          prosody::InputStats st;
          if (p.channel) st = p.channel.input_stats();
          const prosody_gst::TimelineCounters& c = p.timeline.counters();
          gst_structure_set(
              s, "buffers-in", G_TYPE_UINT64, (guint64)p.buffers_in, "frames-in", G_TYPE_UINT64, (guint64)st.frames_in,
              "frames-concealed", G_TYPE_UINT64, (guint64)st.frames_concealed, "late-buffers", G_TYPE_UINT64,
              (guint64)c.late_chunks, "late-samples", G_TYPE_UINT64, (guint64)c.late_samples, "overlap-samples",
              G_TYPE_UINT64, (guint64)c.overlap_samples, "gap-samples", G_TYPE_UINT64, (guint64)c.gap_samples,
              "dropped-samples", G_TYPE_UINT64,
              (guint64)(st.samples_dropped + c.dropped_bytes / prosody_gst::bytes_per_sample(p.in_format)),
              "cleaned-samples", G_TYPE_UINT64, (guint64)st.samples_cleaned, "level", G_TYPE_DOUBLE, st.level_dbm0,
              "active", G_TYPE_BOOLEAN, (gboolean)st.active, "participant-id", G_TYPE_INT, p.pid, nullptr);
        } else {
          prosody::OutputStats st;
          if (p.channel && p.output_started) st = p.channel.output_stats();
          gst_structure_set(s, "buffers-out", G_TYPE_UINT64, prosody_conf_mix_output_buffers(in, p), "frames-out",
                            G_TYPE_UINT64, (guint64)st.frames_out, "limited-frames", G_TYPE_UINT64,
                            (guint64)st.limited_frames, "dropped-samples", G_TYPE_UINT64, (guint64)st.samples_dropped,
                            "level", G_TYPE_DOUBLE, st.level_dbm0, nullptr);
        }
      } catch (const std::exception& e) {
        GST_WARNING_OBJECT(pad, "stats: %s", e.what());
      }
    }
  }
  gst_object_unref(parent);
  return s;
}

/* ---- Request and release pads ---- */

static bool parse_pad_index(const gchar* name, const char* prefix, guint& index) {
  const gsize len = strlen(prefix);
  if (!name || strncmp(name, prefix, len) != 0 || !g_ascii_isdigit(name[len])) return false;
  gchar* end = nullptr;
  const guint64 v = g_ascii_strtoull(name + len, &end, 10);
  if (*end != '\0' || v > G_MAXUINT) return false;
  index = static_cast<guint>(v);
  return true;
}

static GstPad* prosody_conf_mix_request_new_pad(GstElement* element, GstPadTemplate* templ, const gchar* req_name,
                                                const GstCaps*) {
  ProsodyConfMix* self = PROSODY_CONF_MIX(element);
  Inner& in = *self->inner;
  const bool is_sink = GST_PAD_TEMPLATE_DIRECTION(templ) == GST_PAD_SINK;
  const char* prefix = is_sink ? "sink_" : "src_";
  guint index = 0;
  GstPad* pad;

  {
    std::lock_guard<std::mutex> lk(in.lock);
    if (req_name && !parse_pad_index(req_name, prefix, index)) {
      GST_WARNING_OBJECT(self, "pad name %s is not %s<number>", req_name, prefix);
      return nullptr;
    }
    if (!req_name) {
      /* The lowest party without this kind of pad, so that unnamed requests
       * pair up: sink_0, sink_1, then src_0, src_1. */
      for (auto& kv : in.parties) {
        if (kv.first != index) break;
        if (is_sink ? kv.second->sinkpad == nullptr : kv.second->srcpad == nullptr) break;
        ++index;
      }
    }
    auto it = in.parties.find(index);
    if (it != in.parties.end() && (is_sink ? it->second->sinkpad != nullptr : it->second->srcpad != nullptr)) {
      GST_WARNING_OBJECT(self, "pad %s%u exists already", prefix, index);
      return nullptr;
    }
    gchar* name = g_strdup_printf("%s%u", prefix, index);
    pad = GST_PAD(g_object_new(is_sink ? PROSODY_TYPE_CONF_MIX_SINK_PAD : PROSODY_TYPE_CONF_MIX_SRC_PAD, "name", name,
                               "direction", GST_PAD_TEMPLATE_DIRECTION(templ), "template", templ, nullptr));
    prosody_pad_set_index(PROSODY_PAD(pad), index);
    PartyPtr party;
    if (it != in.parties.end()) {
      party = it->second;
    } else {
      party = std::make_shared<Party>(index);
      in.parties.emplace(index, party);
    }
    if (is_sink) {
      party->sink_name = name;
      party->sinkpad = pad;
      party->eos = party->finished = false;
      party->timeline.reset();
      party->join_aligned = false;
      party->join_shift = 0;
      party->flushing = false;
      if (in.started) in.set_active(*party, true);
    } else {
      party->src_name = name;
      party->srcpad = pad; /* the mixing task starts its stream */
      prosody_conf_mix_output_reset(in, *party, pad);
      /* gate=auto depends on whether the party has a src pad */
      prosody_conf_mix_apply_sink(self, *party);
    }
    g_free(name);
    if (is_sink)
      prosody_conf_mix_setup_sink_pad(self, pad);
    else
      prosody_conf_mix_setup_src_pad(self, pad);
    prosody_conf_mix_party_setup(self, *party);
    in.parties_changed = true;
    in.latency_valid = false;
    ++in.pads_generation;
  }
  GST_DEBUG_OBJECT(self, "new pad %s", GST_PAD_NAME(pad));
  if (!gst_element_add_pad(element, pad)) {
    /* Not ours after all (gst_element_add_pad dropped it): forget it. */
    GST_WARNING_OBJECT(self, "could not add pad %s", GST_PAD_NAME(pad));
    {
      std::lock_guard<std::mutex> lk(in.lock);
      auto it = in.parties.find(index);
      if (it != in.parties.end()) {
        Party& p = *it->second;
        if (is_sink && p.sinkpad == pad) {
          p.sinkpad = nullptr;
          in.set_active(p, false);
          prosody_conf_mix_party_detach_input(self, p);
        } else if (!is_sink && p.srcpad == pad) {
          p.srcpad = nullptr;
          if (p.output_started && p.channel) p.channel.conf_stop(false);
          p.output_started = false;
        }
        if (!p.sinkpad && !p.srcpad) in.parties.erase(it);
        in.parties_changed = true;
      }
    }
    return nullptr;
  }
  gst_child_proxy_child_added(GST_CHILD_PROXY(element), G_OBJECT(pad), GST_OBJECT_NAME(pad));
  return pad;
}

static void prosody_conf_mix_release_pad(GstElement* element, GstPad* pad) {
  ProsodyConfMix* self = PROSODY_CONF_MIX(element);
  Inner& in = *self->inner;
  const guint index = prosody_pad_get_index(PROSODY_PAD(pad));
  const bool is_sink = GST_PAD_IS_SINK(pad);

  GST_DEBUG_OBJECT(self, "release pad %s", GST_PAD_NAME(pad));
  {
    std::lock_guard<std::mutex> lk(in.lock);
    auto it = in.parties.find(index);
    if (it != in.parties.end()) {
      PartyPtr party = it->second;
      Party& p = *party;
      try {
        if (is_sink && p.sinkpad == pad) {
          p.sinkpad = nullptr;
          p.flushing = true; /* wakes a chain blocked on a full queue */
          p.space_cond.notify_all();
          in.set_active(p, false);
          prosody_conf_mix_party_detach_input(self, p);
          p.timeline.reset();
        } else if (!is_sink && p.srcpad == pad) {
          p.srcpad = nullptr;
          prosody_conf_mix_output_stop(in, p);
          prosody_conf_mix_output_reset(in, p, nullptr);
          if (p.output_started && p.channel) p.channel.conf_stop(false);
          p.output_started = false;
          prosody_conf_mix_apply_sink(self, p); /* gate=auto */
        }
      } catch (const std::exception& e) {
        prosody_conf_mix_report_error(self, "releasing a pad", e);
      }
      if (!p.sinkpad && !p.srcpad) in.parties.erase(it);
      in.parties_changed = true;
      in.latency_valid = false;
      ++in.pads_generation;
      in.task_cond.notify_all();
    }
  }
  gst_child_proxy_child_removed(GST_CHILD_PROXY(element), G_OBJECT(pad), GST_OBJECT_NAME(pad));
  gst_element_remove_pad(element, pad);
}

/* ---- GstChildProxy: the pads, so that m::sink_0::volume works ---- */

static GObject* child_proxy_get_child_by_name(GstChildProxy* proxy, const gchar* name) {
  return G_OBJECT(gst_element_get_static_pad(GST_ELEMENT(proxy), name));
}

static GObject* child_proxy_get_child_by_index(GstChildProxy* proxy, guint index) {
  GstElement* element = GST_ELEMENT(proxy);
  GObject* obj = nullptr;
  PROSODY_OBJECT_LOCK(element);
  if (gpointer pad = g_list_nth_data(element->pads, index)) obj = G_OBJECT(gst_object_ref(pad));
  PROSODY_OBJECT_UNLOCK(element);
  return obj;
}

static guint child_proxy_get_children_count(GstChildProxy* proxy) {
  GstElement* element = GST_ELEMENT(proxy);
  PROSODY_OBJECT_LOCK(element);
  const guint count = element->numpads;
  PROSODY_OBJECT_UNLOCK(element);
  return count;
}

static void prosody_conf_mix_child_proxy_init(gpointer g_iface, gpointer) {
  auto* iface = static_cast<GstChildProxyInterface*>(g_iface);
  iface->get_child_by_name = child_proxy_get_child_by_name;
  iface->get_child_by_index = child_proxy_get_child_by_index;
  iface->get_children_count = child_proxy_get_children_count;
}

/* ---- States ---- */

static void reset_conference(Inner& in, gint start_selection) {
  in.position = 0;
  in.end_pos = 0;
  in.n_active = in.n_ready = 0;
  in.all_done = false;
  in.frames_mixed = 0;
  in.start_known = start_selection == PROSODY_CONF_MIX_START_TIME_ZERO;
  in.start_rt = 0;
  for (auto& kv : in.parties) {
    Party& p = *kv.second;
    p.counted_active = p.counted_ready = false;
    p.eos = p.finished = false;
    p.flushing = false;
    p.timeline.reset();
    p.join_aligned = false;
    p.join_shift = 0;
    p.task_srcpad = nullptr; /* every src pad starts a new stream */
    prosody_conf_mix_output_reset(in, p, p.srcpad);
    gst_segment_init(&p.segment, GST_FORMAT_TIME);
  }
}

static GstStateChangeReturn prosody_conf_mix_change_state(GstElement* element, GstStateChange transition) {
  ProsodyConfMix* self = PROSODY_CONF_MIX(element);
  Inner& in = *self->inner;
  GstStateChangeReturn ret;

  /* The streaming threads about to start see what this thread set up. */
  PROSODY_TSAN_RELEASE(self);

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED: {
      PROSODY_OBJECT_LOCK(self);
      const guint rate = in.rate_property;
      const gint start_selection = in.start_time_selection;
      PROSODY_OBJECT_UNLOCK(self);
      std::lock_guard<std::mutex> lk(in.lock);
      reset_conference(in, start_selection);
      in.stopping = false;
      prosody_conf_mix_output_start_pool(in);
      in.started = true;
      in.latency_valid = false;
      in.rate = rate;
      if (rate) prosody_conf_mix_ensure_module(self);
      for (auto& kv : in.parties)
        if (kv.second->sinkpad) in.set_active(*kv.second, true);
      in.parties_changed = true;
      break;
    }
    case GST_STATE_CHANGE_PAUSED_TO_READY: {
      /* Wake every waiter before the pads are deactivated (deactivation
       * takes the stream locks that blocked chain functions hold). */
      {
        std::lock_guard<std::mutex> lk(in.lock);
        in.stopping = true;
        for (auto& kv : in.parties) {
          kv.second->flushing = true;
          kv.second->space_cond.notify_all();
          prosody_conf_mix_output_stop(in, *kv.second);
        }
        prosody_conf_mix_output_stop_pool(in);
        in.task_cond.notify_all();
        prosody_conf_mix_unschedule(in);
        if (in.task) gst_task_stop(in.task);
      }
      break;
    }
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED: {
      std::lock_guard<std::mutex> lk(in.lock);
      in.playing = false;
      prosody_conf_mix_output_set_state(in, in.live, false);
      prosody_conf_mix_unschedule(in);
      in.task_cond.notify_all();
      break;
    }
    default:
      break;
  }

  ret = GST_ELEMENT_CLASS(prosody_conf_mix_parent_class)->change_state(element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE) return ret;

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      if (!in.task) {
        in.task = gst_task_new(prosody_conf_mix_task_loop, self, nullptr);
        gst_task_set_lock(in.task, &in.task_lock);
        gchar* name = g_strdup_printf("%s:mix", GST_OBJECT_NAME(self));
        gst_object_set_name(GST_OBJECT(in.task), name);
        g_free(name);
      }
      gst_task_start(in.task);
      break;
    case GST_STATE_CHANGE_PAUSED_TO_PLAYING: {
      std::lock_guard<std::mutex> lk(in.lock);
      in.playing = true;
      prosody_conf_mix_output_set_state(in, in.live, true);
      in.task_cond.notify_all();
      break;
    }
    case GST_STATE_CHANGE_PAUSED_TO_READY: {
      if (in.task) gst_task_join(in.task);
      PROSODY_TSAN_ACQUIRE(self); /* what the task did before it ended */
      /* The pads are inactive and every sink below has left PAUSED: nothing
       * a sending thread could wait for is left. */
      prosody_conf_mix_output_join_retired(in, true);
      /* The module goes with the stream: the rate may change next time. */
      std::lock_guard<std::mutex> lk(in.lock);
      in.clear_snapshots();
      for (auto& kv : in.parties) {
        Party& p = *kv.second;
        p.timeline.reset();
        p.channel = prosody::Channel();
        p.pid = -1;
        p.tones = PROSODY_CONF_MIX_TONES_NONE;
        p.lookahead_applied = 0;
        p.output_started = false;
        p.have_caps = false;
        p.counted_active = p.counted_ready = false;
      }
      in.activity_channel = prosody::Channel();
      in.announcers.clear();
      in.announce_tones.clear();
      in.module = prosody::Module();
      in.rate = 0;
      in.frame_samples = 0;
      in.n_active = in.n_ready = 0;
      in.started = false;
      in.playing = false;
      prosody_conf_mix_output_set_state(in, in.live, false);
      break;
    }
    default:
      break;
  }
  return ret;
}

/* ---- Properties ---- */

static void prosody_conf_mix_set_property(GObject* object, guint id, const GValue* value, GParamSpec* pspec) {
  ProsodyConfMix* self = PROSODY_CONF_MIX(object);
  Inner& in = *self->inner;
  bool activity = false, latency = false;

  PROSODY_OBJECT_LOCK(self);
  switch (id) {
    case PROP_RATE: {
      /* A value the module cannot run at is refused where the user sees it
       * (gst-launch-1.0 prints GLib warnings), and the property keeps its
       * value. */
      const guint r = g_value_get_uint(value);
      if (r == 0 || r == 8000 || r == 16000 || r == 32000 || r == 48000)
        in.rate_property = r;
      else
        g_warning(
            "%s: rate %u Hz is not supported (use 8000, 16000, 32000 or 48000, or 0 for the first input's "
            "rate); rate stays %u",
            GST_OBJECT_NAME(self), r, in.rate_property);
      break;
    }
    case PROP_FRAME_DURATION: {
      const guint64 d = g_value_get_uint64(value);
      if (d == 5 * GST_MSECOND || d == 10 * GST_MSECOND || d == 20 * GST_MSECOND)
        in.frame_duration = d;
      else
        g_warning(
            "%s: frame-duration %" G_GUINT64_FORMAT
            " ns is not supported (use 5000000, 10000000 or 20000000: 5, 10 or 20 ms); it stays %" G_GUINT64_FORMAT,
            GST_OBJECT_NAME(self), d, in.frame_duration);
      break;
    }
    case PROP_LATENCY:
      in.latency = g_value_get_uint64(value);
      latency = true;
      break;
    case PROP_ALIGNMENT_THRESHOLD:
      in.alignment_threshold = g_value_get_uint64(value);
      break;
    case PROP_QUEUE_TIME:
      in.queue_time = g_value_get_uint64(value);
      break;
    case PROP_START_TIME_SELECTION:
      in.start_time_selection = g_value_get_enum(value);
      break;
    case PROP_ACTIVITY_INTERVAL:
      in.activity_interval = g_value_get_uint64(value);
      activity = true;
      break;
    case PROP_ACTIVITY_SENSITIVITY:
      in.activity_sensitivity = g_value_get_uint(value);
      activity = true;
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
      break;
  }
  PROSODY_OBJECT_UNLOCK(self);
  if (activity) {
    std::lock_guard<std::mutex> lk(in.lock);
    prosody_conf_mix_apply_activity(self);
  }
  if (latency) gst_element_post_message(GST_ELEMENT(self), gst_message_new_latency(GST_OBJECT(self)));
}

static void prosody_conf_mix_get_property(GObject* object, guint id, GValue* value, GParamSpec* pspec) {
  ProsodyConfMix* self = PROSODY_CONF_MIX(object);
  Inner& in = *self->inner;

  if (id == PROP_STATS) {
    std::lock_guard<std::mutex> lk(in.lock);
    guint threads = 0, threads_peak = 0;
    prosody_conf_mix_output_threads(in, &threads, &threads_peak);
    g_value_take_boxed(
        value,
        gst_structure_new("prosody-conf-mix-stats", "rate", G_TYPE_UINT, in.rate, "frame-samples", G_TYPE_UINT,
                          in.frame_samples, "frames-mixed", G_TYPE_UINT64, (guint64)in.frames_mixed, "parties",
                          G_TYPE_UINT, (guint)in.parties.size(), "live", G_TYPE_BOOLEAN, (gboolean)in.live, "position",
                          G_TYPE_UINT64, (guint64)(in.rate ? in.pos_to_time(in.position) : 0), "sending-threads",
                          G_TYPE_UINT, threads, "sending-threads-peak", G_TYPE_UINT, threads_peak, nullptr));
    return;
  }
  PROSODY_OBJECT_LOCK(self);
  switch (id) {
    case PROP_RATE:
      g_value_set_uint(value, in.rate_property);
      break;
    case PROP_FRAME_DURATION:
      g_value_set_uint64(value, in.frame_duration);
      break;
    case PROP_LATENCY:
      g_value_set_uint64(value, in.latency);
      break;
    case PROP_ALIGNMENT_THRESHOLD:
      g_value_set_uint64(value, in.alignment_threshold);
      break;
    case PROP_QUEUE_TIME:
      g_value_set_uint64(value, in.queue_time);
      break;
    case PROP_START_TIME_SELECTION:
      g_value_set_enum(value, in.start_time_selection);
      break;
    case PROP_ACTIVITY_INTERVAL:
      g_value_set_uint64(value, in.activity_interval);
      break;
    case PROP_ACTIVITY_SENSITIVITY:
      g_value_set_uint(value, in.activity_sensitivity);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
      break;
  }
  PROSODY_OBJECT_UNLOCK(self);
}

/* ---- Class ---- */

static void prosody_conf_mix_finalize(GObject* object) {
  ProsodyConfMix* self = PROSODY_CONF_MIX(object);
  prosody_conf_mix_output_join_retired(*self->inner, true);
  delete self->inner;
  self->inner = nullptr;
  G_OBJECT_CLASS(prosody_conf_mix_parent_class)->finalize(object);
}

static void prosody_conf_mix_init(ProsodyConfMix* self) {
  self->inner = new Inner();
  PROSODY_TSAN_RELEASE(self);
}

static void prosody_conf_mix_class_init(ProsodyConfMixClass* klass) {
  GObjectClass* gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);
  const auto ready = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  const auto playing = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);

  gobject_class->set_property = prosody_conf_mix_set_property;
  gobject_class->get_property = prosody_conf_mix_get_property;
  gobject_class->finalize = prosody_conf_mix_finalize;

  g_object_class_install_property(gobject_class, PROP_RATE,
                                  g_param_spec_uint("rate", "Rate",
                                                    "Sample rate of every pad in Hz: 8000, 16000, 32000 or 48000; 0 = "
                                                    "the rate of the first input caps, fixed until READY. Inputs at "
                                                    "another rate are refused (put audioresample in front). Any other "
                                                    "value is refused with a warning and the rate is unchanged",
                                                    0, 48000, 0, ready));
  g_object_class_install_property(gobject_class, PROP_FRAME_DURATION,
                                  g_param_spec_uint64("frame-duration", "Frame duration",
                                                      "Duration of a mixing frame and of every output buffer, in "
                                                      "nanoseconds: 5, 10 or 20 ms (any other value is refused with a "
                                                      "warning and the duration is unchanged)",
                                                      5 * GST_MSECOND, 20 * GST_MSECOND, 10 * GST_MSECOND, ready));
  g_object_class_install_property(
      gobject_class, PROP_LATENCY,
      g_param_spec_uint64("latency", "Latency",
                          "Live: extra time to wait for late inputs beyond the upstream "
                          "latency, in nanoseconds. Input arriving after its frame was mixed "
                          "is dropped, counted in the sink pad's stats and reported with a "
                          "QoS message from the sink pad",
                          0, G_MAXUINT64, 0, playing));
  g_object_class_install_property(
      gobject_class, PROP_ALIGNMENT_THRESHOLD,
      g_param_spec_uint64("alignment-threshold", "Alignment threshold",
                          "Timestamp jitter, in nanoseconds, up to which an input buffer is "
                          "taken as contiguous with the previous one; beyond it the buffer "
                          "is placed by its timestamp (gaps concealed, overlaps trimmed)",
                          0, G_MAXUINT64, 40 * GST_MSECOND, playing));
  g_object_class_install_property(gobject_class, PROP_QUEUE_TIME,
                                  g_param_spec_uint64("queue-time", "Queue time",
                                                      "Input audio queued per sink pad before its upstream is blocked, "
                                                      "in nanoseconds (live: raise it above the latency)",
                                                      20 * GST_MSECOND, G_MAXUINT64, GST_SECOND, playing));
  g_object_class_install_property(
      gobject_class, PROP_START_TIME_SELECTION,
      g_param_spec_enum("start-time-selection", "Start time selection", "Running time of the first output sample",
                        PROSODY_TYPE_CONF_MIX_START_TIME, PROSODY_CONF_MIX_START_TIME_ZERO, ready));
  g_object_class_install_property(
      gobject_class, PROP_ACTIVITY_INTERVAL,
      g_param_spec_uint64("activity-interval", "Activity interval",
                          "Least time between two prosody-activity element messages, in "
                          "nanoseconds; 0 = no messages. Fields: talkers (sink pad names of "
                          "the speech-active inputs, loudest first, at most 4), parties "
                          "(guint), levels (gdouble dBm0), timestamp, running-time, "
                          "stream-time (ns)",
                          0, G_MAXUINT64, 0, playing));
  g_object_class_install_property(gobject_class, PROP_ACTIVITY_SENSITIVITY,
                                  g_param_spec_uint("activity-sensitivity", "Activity sensitivity",
                                                    "When a prosody-activity message is posted: on a change of the "
                                                    "ranking, or of a level by more than (100 - sensitivity) / 5 dB "
                                                    "(100 = any change, 0 = 20 dB)",
                                                    0, 100, 50, playing));
  g_object_class_install_property(
      gobject_class, PROP_STATS,
      g_param_spec_boxed("stats", "Statistics",
                         "prosody-conf-mix-stats: rate (Hz), frame-samples, frames-mixed, "
                         "parties, live, position (ns), sending-threads (the src pads' "
                         "senders now), sending-threads-peak (most at once since READY->PAUSED)",
                         GST_TYPE_STRUCTURE, static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

  prosody_conf_mix_install_announce_signals(gobject_class);

  gst_element_class_add_static_pad_template_with_gtype(element_class, &sink_template, PROSODY_TYPE_CONF_MIX_SINK_PAD);
  gst_element_class_add_static_pad_template_with_gtype(element_class, &src_template, PROSODY_TYPE_CONF_MIX_SRC_PAD);
  gst_element_class_set_static_metadata(element_class, "Prosody conference mixer", "Filter/Audio/Mixer",
                                        "N-party audio conference: each party (sink_N, src_N) hears every "
                                        "other party; speak-only and listen-only parties, coach/whisper "
                                        "routing, per-party gain, AGC, mute, deaf, tone detection, talker "
                                        "activity",
                                        "Prosody project");

  element_class->request_new_pad = GST_DEBUG_FUNCPTR(prosody_conf_mix_request_new_pad);
  element_class->release_pad = GST_DEBUG_FUNCPTR(prosody_conf_mix_release_pad);
  element_class->change_state = GST_DEBUG_FUNCPTR(prosody_conf_mix_change_state);

  gst_type_mark_as_plugin_api(PROSODY_TYPE_PAD, static_cast<GstPluginAPIFlags>(0));
  gst_type_mark_as_plugin_api(PROSODY_TYPE_CONF_MIX_SINK_PAD, static_cast<GstPluginAPIFlags>(0));
  gst_type_mark_as_plugin_api(PROSODY_TYPE_CONF_MIX_SRC_PAD, static_cast<GstPluginAPIFlags>(0));
  gst_type_mark_as_plugin_api(PROSODY_TYPE_CONF_MIX_GATE, static_cast<GstPluginAPIFlags>(0));
  gst_type_mark_as_plugin_api(PROSODY_TYPE_CONF_MIX_TONES, static_cast<GstPluginAPIFlags>(0));
  gst_type_mark_as_plugin_api(PROSODY_TYPE_CONF_MIX_START_TIME, static_cast<GstPluginAPIFlags>(0));
}
