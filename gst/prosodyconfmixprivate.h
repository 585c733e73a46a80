/* prosodyconfmixprivate.h - the inside of prosodyconfmix, shared by its
 * source files (element, pads, streaming, task). Not installed.
 *
 * Threads and locks (lock order: Inner::lock, then a pad's object lock):
 *  - Inner::lock (a std::mutex) guards the party table, every party's input
 *    queue and stream state, the timeline and the task's wake-up state.
 *    Never held while pushing, posting, querying a peer or stepping the
 *    module.
 *  - the module (prosody::Module) is stepped only by the task; its control
 *    calls are thread-safe and take effect at the next frame boundary.
 *  - pad properties live in the pad structs under the pad's object lock.
 */
#pragma once

#include <gst/audio/audio.h>
#include <gst/base/gstflowcombiner.h>
#include <gst/gst.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "prosody/prosody.hpp"
#include "prosodyconfmix.h"
#include "prosodytsan.h"

GST_DEBUG_CATEGORY_EXTERN(prosody_conf_mix_debug);
#define GST_CAT_DEFAULT prosody_conf_mix_debug

#if G_BYTE_ORDER != G_LITTLE_ENDIAN
#error "prosodyconfmix speaks S16LE/F32LE and maps them as native samples"
#endif

/* ---- Pad instance structs (the types are declared in prosodyconfmix.h) */

struct _ProsodyConfMixSinkPad {
  ProsodyConfMixPad parent;
  /* Protected by the pad's object lock. */
  gdouble volume_db;
  gboolean agc;
  gboolean mute;
  gint gate;         /* ProsodyConfMixGate */
  gint detect_tones; /* ProsodyConfMixTones */
  gboolean suppress_tones;
  gchar* heard_by; /* as set; "" = everyone */
};

struct _ProsodyConfMixSrcPad {
  ProsodyConfMixPad parent;
  /* Protected by the pad's object lock. */
  gdouble volume_db;
  gboolean agc;
  gboolean deaf;
};

void prosody_conf_mix_pad_set_index(ProsodyConfMixPad* pad, guint index);

namespace prosody_gst {

/* Parses a heard-by list ("", "1", "1, 2"); false on bad syntax. */
bool parse_heard_by(const char* text, std::vector<guint>& out);

/* A stretch of one input buffer waiting to be mixed: samples
 * [pos + done, pos + n) of the conference timeline. The buffer stays mapped
 * (read) while queued, so nothing is copied before the module takes it. */
struct Chunk {
  GstBuffer* buffer = nullptr;
  GstMapInfo map{};
  bool is_float = false;
  guint64 pos = 0;  /* timeline sample of the first sample */
  gsize offset = 0; /* first sample of the buffer used */
  gsize n = 0;      /* samples used */
  gsize done = 0;   /* samples already taken by the task */
};

/* One party: sink_N and/or src_N and the module channel behind them. */
struct Party {
  explicit Party(guint i);
  ~Party();
  Party(const Party&) = delete;
  Party& operator=(const Party&) = delete;

  const guint index;
  std::string sink_name, src_name;

  /* ---- Guarded by Inner::lock ---- */
  GstPad* sinkpad = nullptr; /* not owned: valid while in the element */
  GstPad* srcpad = nullptr;
  prosody::Channel channel; /* empty while there is no module */
  int pid = -1;             /* participant id while the input is attached */
  bool output_started = false;
  std::vector<guint> heard_by;              /* parsed copy of the pad property */
  gint tones = PROSODY_CONF_MIX_TONES_NONE; /* detection in force */
  /* Frames to go on collecting reports after detection stopped: the module
   * ends a tone in progress at the next frame. */
  int tone_reports_due = 0;
  bool suppress_applied = true;

  /* Input stream state */
  GstSegment segment;
  bool have_caps = false;
  bool in_float = false;
  bool flushing = false;
  bool eos = false;            /* EOS received (data may still be queued) */
  bool finished = false;       /* EOS and drained: left the mix */
  bool counted_active = false; /* counted in Inner::n_active */
  bool counted_ready = false;  /* counted in Inner::n_ready */
  bool have_next = false;      /* next_pos is known */
  guint64 next_pos = 0;        /* where the next contiguous buffer goes */
  guint64 known_until = 0;     /* timeline covered by data or known gaps */
  std::deque<Chunk> queue;
  gsize queued = 0; /* samples in queue */
  bool chain_waiting = false;
  std::condition_variable space_cond;

  /* Counters (input side), besides the module's own */
  guint64 buffers_in = 0, late_buffers = 0, late_samples = 0;
  guint64 overlap_samples = 0, gap_samples = 0, dropped_bytes = 0;

  /* Output side: touched by the task only (and stats readers under lock) */
  bool src_need_stream_start = true, src_need_caps = true, src_need_segment = true, src_discont = true,
       src_eos_sent = false;
  bool out_float = false;
  guint64 buffers_out = 0;
  GstFlowReturn last_flow = GST_FLOW_OK;

  void clear_queue();
  void drop_consumed(guint64 until);
};

using PartyPtr = std::shared_ptr<Party>;

/* A party and one of its pads, as the task saw them (a snapshot entry). */
struct PadRef {
  PartyPtr party;
  GstPad* pad = nullptr; /* owned ref */
};

struct Inner {
  Inner();
  ~Inner();

  std::mutex lock;
  std::condition_variable task_cond;

  /* ---- Element properties: guarded by the element's object lock ---- */
  guint rate_property = 0;
  guint64 frame_duration = 10 * GST_MSECOND;
  guint64 latency = 0;
  guint64 alignment_threshold = 40 * GST_MSECOND;
  guint64 queue_time = GST_SECOND;
  gint start_time_selection = PROSODY_CONF_MIX_START_TIME_ZERO;
  guint64 activity_interval = 0;
  guint activity_sensitivity = 50;

  /* ---- Guarded by lock ---- */
  std::map<guint, PartyPtr> parties;
  bool parties_changed = true; /* task snapshots need rebuilding */
  guint rate = 0;              /* fixed rate, 0 = not yet known */
  guint frame_samples = 0;
  prosody::Module module;
  prosody::Channel activity_channel; /* hears every input; reports talkers */
  guint64 activity_interval_applied = 0;
  guint activity_sensitivity_applied = 0;
  bool started = false; /* READY->PAUSED done, until PAUSED->READY */
  bool stopping = false;
  bool playing = false;
  bool live = false;
  bool latency_valid = false;
  GstClockTime upstream_min = 0, upstream_max = GST_CLOCK_TIME_NONE;
  gint64 latency_computed_at = 0;
  guint64 pads_generation = 0; /* bumped when a pad comes or goes */
  GstClockTime latency_forwarded = GST_CLOCK_TIME_NONE;
  guint64 latency_forwarded_generation = 0;
  bool start_known = false;
  GstClockTime start_rt = 0; /* running time of timeline sample 0 */
  guint64 read_pos = 0;      /* first sample of the next frame to mix */
  guint64 end_pos = 0;       /* last input sample end seen (EOS trim) */
  guint n_active = 0, n_ready = 0;
  guint sinks_ever = 0;  /* sink parties that ever existed */
  bool all_done = false; /* EOS pushed downstream */
  GstClockID clock_id = nullptr;
  guint64 module_origin = 0; /* timeline sample of module frame 0 */

  /* ---- Task thread only ---- */
  GstTask* task = nullptr;
  GRecMutex task_lock;
  std::vector<PadRef> sink_snapshot;
  std::vector<PadRef> out_snapshot;
  GstFlowCombiner* combiner = nullptr;
  std::vector<float> zeros;
  guint group_id = 0;
  guint64 frames_mixed = 0;

  /* Helpers (lock held) */
  guint64 frame_end() const { return read_pos + frame_samples; }
  void update_ready(Party& p);
  void set_active(Party& p, bool active);
  GstClockTime pos_to_time(guint64 pos) const;
  void clear_snapshots();
};

} /* namespace prosody_gst */

/* The element's inner state. */
struct _ProsodyConfMix {
  GstElement parent;
  prosody_gst::Inner* inner;
};

/* ---- Between the source files ---- */

/* prosodyconfmix.cpp: module and routing (Inner::lock held). */
bool prosody_conf_mix_ensure_module(ProsodyConfMix* self);
void prosody_conf_mix_party_setup(ProsodyConfMix* self, prosody_gst::Party& p);
void prosody_conf_mix_party_detach_input(ProsodyConfMix* self, prosody_gst::Party& p);
void prosody_conf_mix_apply_sink(ProsodyConfMix* self, prosody_gst::Party& p);
void prosody_conf_mix_apply_src(ProsodyConfMix* self, prosody_gst::Party& p);
void prosody_conf_mix_apply_activity(ProsodyConfMix* self);
void prosody_conf_mix_report_error(ProsodyConfMix* self, const char* what, const std::exception& e);

/* Pads call these when a property changed (no lock held). */
void prosody_conf_mix_pad_changed(ProsodyConfMixPad* pad, gboolean routing_changed);
GstStructure* prosody_conf_mix_pad_stats(ProsodyConfMixPad* pad);

/* prosodyconfmixstream.cpp: pad functions. */
void prosody_conf_mix_setup_sink_pad(ProsodyConfMix* self, GstPad* pad);
void prosody_conf_mix_setup_src_pad(ProsodyConfMix* self, GstPad* pad);
void prosody_conf_mix_wake_all(ProsodyConfMix* self);

/* prosodyconfmixtask.cpp: the mixing task. */
void prosody_conf_mix_task_loop(gpointer user_data);
bool prosody_conf_mix_query_upstream_latency(ProsodyConfMix* self, bool force);
void prosody_conf_mix_unschedule(prosody_gst::Inner& in);
