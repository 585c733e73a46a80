/* prosodyconfmixprivate.h - the inside of prosodyconfmix, shared by its
 * source files (element, pads, streaming, mixing task, outputs). Not
 * installed.
 *
 * Threads and locks (lock order: Inner::lock, then Inner::out_lock, then a
 * pad's object lock):
 *  - Inner::lock (a std::mutex) guards the party table, every party's input
 *    timeline and stream state, the conference's position and the task's
 *    wake-up state. Never held while pushing, posting, querying a peer or
 *    stepping the module.
 *  - Inner::out_lock (a std::mutex) guards the src pads' output queues and
 *    the threads that send them: the mixing task queues a frame and those
 *    threads take queues under it alone, so neither waits for the upstream
 *    threads that take Inner::lock with every input buffer. Never held while
 *    pushing.
 *  - the module (prosody::Module) is stepped only by the mixing task, with
 *    the frame API; its control calls are thread-safe and take effect at the
 *    next frame boundary.
 *  - pad properties live in the pad structs under the pad's object lock.
 */
#pragma once

#include <gst/audio/audio.h>
#include <gst/base/gstflowcombiner.h>
#include <gst/gst.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "prosody/prosody.hpp"
#include "prosodyconfmix.h"
#include "prosodyelementsupport.h"
#include "prosodytimeline.hpp"
#include "prosodytsan.h"

GST_DEBUG_CATEGORY_EXTERN(prosody_conf_mix_debug);
#define GST_CAT_DEFAULT prosody_conf_mix_debug

/* ---- Pad instance structs (the types are declared in prosodyconfmix.h) */

struct _ProsodyConfMixSinkPad {
  ProsodyPad parent;
  /* Protected by the pad's object lock. */
  gboolean mute;
  gint gate;         /* ProsodyConfMixGate */
  gint detect_tones; /* ProsodyConfMixTones */
  gboolean suppress_tones;
  guint64 tone_lookahead; /* ns */
  gchar* heard_by;        /* as set; "" = everyone */
};

struct _ProsodyConfMixSrcPad {
  ProsodyPad parent;
  /* Protected by the pad's object lock. */
  gboolean deaf;
};

namespace prosody_gst {

/* Parses a heard-by list ("", "1", "1, 2"); false on bad syntax. */
bool parse_heard_by(const char* text, std::vector<guint>& out);

/* What one src pad is to send, in order (buffers and events), for the
 * sending threads (see PushPool). Guarded by Inner::out_lock. */
struct OutputItem {
  GstMiniObject* object; /* owned */
  bool is_buffer;        /* else an event (known without reading the object) */
};
struct OutputQueue {
  GstPad* pad = nullptr; /* the src pad it is for (not owned: valid while in the element) */
  std::deque<OutputItem> items;
  std::size_t buffers = 0; /* buffers in items */
  bool flushing = false;   /* the pad went away or the element is stopping */
  bool eos_queued = false;
  GstFlowReturn last_flow = GST_FLOW_OK;
  std::condition_variable space; /* the mixing task: room again */
  bool awaiting_sender = false;  /* in PushPool::ready */
  bool being_sent = false;       /* a sending thread is pushing from it */
  /* Live: this pad's sink has taken a buffer in PLAYING, so the mixing task
   * may push to it itself (no thread hop) until the element pauses. */
  bool direct = false;

  void clear();
};

/* One thread of the pool that sends the src pads' queues. Guarded by
 * Inner::out_lock. */
struct PushWorker {
  std::thread thread;
  std::shared_ptr<std::atomic<bool>> done = std::make_shared<std::atomic<bool>>(false);
  gint64 sending_since = 0; /* monotonic us while pushing; 0: not pushing */
  bool listed = true;       /* still in PushPool::workers */
};

/* Where a party's input audio waits for the mix: blocks of memory the
 * chain copies each buffer into, handed to the timeline
 * and given back by it once mixed, to be used again. The buffer itself is
 * unreffed at once by the thread that pushed it. (Keeping buffers mapped
 * until mixed made the mixing thread free every input buffer: each crossed
 * threads back to its allocator, whose locks then showed in the element's
 * CPU time; and an upstream buffer pool had its buffers back only once
 * mixed.) Guarded by Inner::lock. */
class InputBlocks {
 public:
  InputBlocks() = default;
  InputBlocks(const InputBlocks&) = delete;
  InputBlocks& operator=(const InputBlocks&) = delete;
  ~InputBlocks();

  /* A block of at least bytes, from those given back if one is big
   * enough; owner is what Timeline::push wants with give_back. */
  unsigned char* take(std::size_t bytes, void** owner);
  /* Timeline::Release of a block. */
  static void give_back(void* owner);

 private:
  struct Block;
  std::vector<Block*> spare_;
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
  bool suppress_applied = true;
  guint64 lookahead_applied = 0;

  /* Input stream */
  GstSegment segment;
  bool have_caps = false;
  prosody::SampleFormat in_format = prosody::SampleFormat::s16;
  bool flushing = false;
  bool eos = false;      /* EOS received (audio may still be queued) */
  bool finished = false; /* EOS and drained: no more input */
  /* Conference position at which a finished input leaves the mix: after its
   * last sample and its tone look-ahead (what the delay line still holds). */
  std::int64_t leave_at = 0;
  bool counted_active = false; /* counted in Inner::n_active */
  bool counted_ready = false;  /* counted in Inner::n_ready */
  InputBlocks input_blocks;    /* before timeline: outlives its releases */
  Timeline timeline;           /* positions: conference samples */
  /* A party that joins a non-live conference after it started is heard from
   * where the mix is: its first buffer is moved there, the rest follow. */
  bool join_aligned = false;
  std::int64_t join_shift = 0;
  bool chain_waiting = false;
  std::condition_variable space_cond;
  guint64 buffers_in = 0;
  gint64 late_warned_at = 0; /* monotonic us of the last late-input warning */
  guint64 late_warned_samples = 0;

  /* Mixing task only: the frame handed to the module. */
  TimelineFrame frame;
  bool frame_taken = false;

  /* Output: the queue and buffers_out are guarded by Inner::out_lock; the
   * rest is the mixing task's (it resets it when it first sees a new src
   * pad). */
  OutputQueue out;
  GstPad* task_srcpad = nullptr; /* the src pad the task last prepared */
  bool src_need_stream_start = true, src_need_caps = true, src_need_segment = true, src_discont = true;
  bool src_eos_sent = false;
  prosody::SampleFormat out_format = prosody::SampleFormat::s16;
  guint64 buffers_out = 0;
};

using PartyPtr = std::shared_ptr<Party>;

/* The threads that send every src pad's queue (prosodyconfmixoutput.cpp):
 * a few, and more whenever those may all be held up downstream. Guarded by
 * Inner::out_lock. */
struct PushPool {
  bool live = false;          /* Inner::live, as the sending threads see it */
  bool playing = false;       /* Inner::playing, likewise */
  std::deque<PartyPtr> ready; /* queues due to be sent, each at most once */
  std::condition_variable wake;
  std::list<std::shared_ptr<PushWorker>> workers;
  std::size_t idle = 0; /* workers not pushing (waiting, or not yet started) */
  std::size_t peak = 0; /* most workers at once since READY->PAUSED */
  /* Checks every kStalledUs whether the workers are all held up while
   * queues wait (when the mixing task, which checks too, may be idle). */
  std::shared_ptr<PushWorker> watcher;
  std::condition_variable watcher_wake; /* stopping */
  bool stopping = false;
  gint64 stall_checked_at = 0; /* monotonic us */
  gint64 crowded_at = 0;       /* monotonic us: more threads pushing than the pool keeps */
};

/* An announcement source (the play-tone and play-digits action signals):
 * a generator output whose datafeed feeds an input attached to the
 * conference, heard by one party's output or by every party's, under the
 * conference. One per target; guarded by Inner::lock. */
struct Announcer {
  gint target = -1;           /* party index, or -1: every party */
  prosody::Channel generator; /* output half: the tone or digit job */
  prosody::Channel voice;     /* input fed by the generator: the participant */
  bool playing = false;
  const char* kind = ""; /* "tone" or "digits", for the end message */
};

/* A party and one of its pads, as the task saw them (a snapshot entry). */
struct PadRef {
  PartyPtr party;
  GstPad* pad = nullptr; /* owned ref */
};

struct Inner {
  Inner();
  ~Inner();

  std::mutex lock;
  std::mutex out_lock; /* see the top of this file */
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
  bool started = false;              /* READY->PAUSED done, until PAUSED->READY */
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
  GstClockTime start_rt = 0; /* running time of conference sample 0 */
  /* First sample of the next frame: the module's sample counter, read back
   * after every frame (the module is the clock of record). */
  std::uint64_t position = 0;
  std::int64_t end_pos = 0; /* last input sample end seen (EOS trim) */
  guint n_active = 0, n_ready = 0;
  bool all_done = false; /* EOS sent downstream */
  GstClockID clock_id = nullptr;
  PushPool pushers; /* guarded by out_lock */
  /* Sending threads that have left the pool, joined once they have ended
   * (out_lock). */
  struct RetiredPusher {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::vector<RetiredPusher> retired_pushers;

  /* Announcements by target, and the output tones they have added to the
   * module ((f1, f2, level) -> tone id). Guarded by lock. */
  std::map<gint, std::unique_ptr<Announcer>> announcers;
  std::map<std::tuple<double, double, double>, int> announce_tones;

  /* ---- Task thread only ---- */
  GstTask* task = nullptr;
  GRecMutex task_lock;
  std::vector<PadRef> sink_snapshot;
  std::vector<PadRef> out_snapshot;
  GstFlowCombiner* combiner = nullptr;
  guint group_id = 0;
  guint64 frames_mixed = 0;
  std::vector<prosody::FrameInput> frame_inputs;
  std::vector<prosody::FrameOutput> frame_outputs;
  std::vector<prosody::ChannelId> out_channels; /* per out_snapshot entry; empty: no buffer this frame */
  std::vector<GstBuffer*> out_buffers;          /* parallel to frame_outputs */
  std::vector<GstMapInfo> out_maps;
  std::vector<GstFlowReturn> out_flows;    /* per out_snapshot entry */
  std::vector<std::size_t> direct_outputs; /* out_snapshot entries pushed by the task */
  prosody::FrameResult result;

  /* Helpers (lock held) */
  std::uint64_t frame_end() const { return position + frame_samples; }
  void update_ready(Party& p);
  void set_active(Party& p, bool active);
  GstClockTime pos_to_time(std::uint64_t pos) const;
  void clear_snapshots();
};

}  // namespace prosody_gst

/* The element's inner state. */
struct _ProsodyConfMix {
  GstElement parent;
  prosody_gst::Inner* inner;
};

/* ---- Between the source files ---- */

namespace prosody_gst {
/* prosody_conf_mix_output_frame's flow for a pad that had no buffer. */
constexpr GstFlowReturn kNothingSent = GST_FLOW_CUSTOM_SUCCESS;
}  // namespace prosody_gst

/* prosodyconfmix.cpp: module and routing (Inner::lock held). */
bool prosody_conf_mix_ensure_module(ProsodyConfMix* self);
void prosody_conf_mix_party_setup(ProsodyConfMix* self, prosody_gst::Party& p);
void prosody_conf_mix_party_detach_input(ProsodyConfMix* self, prosody_gst::Party& p);
void prosody_conf_mix_apply_sink(ProsodyConfMix* self, prosody_gst::Party& p);
void prosody_conf_mix_apply_src(ProsodyConfMix* self, prosody_gst::Party& p);
void prosody_conf_mix_apply_activity(ProsodyConfMix* self);
void prosody_conf_mix_report_error(ProsodyConfMix* self, const char* what, const std::exception& e);

/* The pads' ProsodyPad hooks: a property changed (no lock held), stats. */
void prosody_conf_mix_pad_changed(ProsodyPad* pad, gboolean routing_changed);
GstStructure* prosody_conf_mix_pad_stats(ProsodyPad* pad);

/* prosodyconfmixstream.cpp: pad functions. */
void prosody_conf_mix_setup_sink_pad(ProsodyConfMix* self, GstPad* pad);
void prosody_conf_mix_setup_src_pad(ProsodyConfMix* self, GstPad* pad);
void prosody_conf_mix_wake_all(ProsodyConfMix* self);
GstClockTime prosody_conf_mix_max_lookahead(prosody_gst::Inner& in); /* lock held */

/* prosodyconfmixannounce.cpp: announcements to parties (lock held). */
void prosody_conf_mix_install_announce_signals(GObjectClass* klass);
/* A party's output has started: it hears the announcers aimed at it. */
void prosody_conf_mix_announce_to_new_output(prosody_gst::Inner& in, prosody_gst::Party& p);
/* Announcements that ended this frame, as prosody-announcement messages. */
void prosody_conf_mix_collect_announcements(ProsodyConfMix* self, prosody_gst::Inner& in,
                                            std::vector<GstMessage*>& out);

/* prosodyconfmixtask.cpp: the mixing task. */
void prosody_conf_mix_task_loop(gpointer user_data);
bool prosody_conf_mix_query_upstream_latency(ProsodyConfMix* self, bool force);
void prosody_conf_mix_unschedule(prosody_gst::Inner& in);

/* prosodyconfmixoutput.cpp: what the src pads send. */
/* The stream-start, caps and segment events the party's src pad needs
 * before its next buffer, in events; negotiates the output format (no lock
 * held: downstream is queried). False if no caps can be agreed (an error is
 * posted). */
bool prosody_conf_mix_prepare_src(ProsodyConfMix* self, prosody_gst::Party& p, GstPad* pad,
                                  std::vector<GstEvent*>& events);
/* Sends each pad's events then buffer (taken; the pointers are cleared):
 * straight away when live and the pad's sink plays (the task pushes, no lock
 * held), else through its queue and the sending threads, woken once for the
 * frame. flows: per pad, the flow to combine, or kNothingSent for a pad
 * without a buffer. Lock not held. */
void prosody_conf_mix_output_frame(ProsodyConfMix* self, std::vector<prosody_gst::PadRef>& pads,
                                   std::vector<std::vector<GstEvent*>>& events, std::vector<GstBuffer*>& buffers,
                                   std::vector<GstFlowReturn>& flows);
/* EOS on every src pad that has not had it (lock not held). */
void prosody_conf_mix_output_eos(ProsodyConfMix* self);
/* Stops a party's output queue (Inner::lock held): what it holds is
 * dropped. */
void prosody_conf_mix_output_stop(prosody_gst::Inner& in, prosody_gst::Party& p);
/* The party's output queue starts afresh (a new stream or a flush ended),
 * for pad, or for none (the pad was released). Inner::lock held. */
void prosody_conf_mix_output_reset(prosody_gst::Inner& in, prosody_gst::Party& p, GstPad* pad);
/* Whether the element plays, and is live, as the sending threads see it
 * (Inner::lock held). Not playing, no output is pushed by the task. */
void prosody_conf_mix_output_set_state(prosody_gst::Inner& in, bool live, bool playing);
/* The sending threads now, and the most at once since READY->PAUSED. */
void prosody_conf_mix_output_threads(prosody_gst::Inner& in, guint* now, guint* peak);
/* Buffers sent on the party's src pad since it started. */
guint64 prosody_conf_mix_output_buffers(prosody_gst::Inner& in, const prosody_gst::Party& p);
/* Starts (READY->PAUSED) or stops (PAUSED->READY) the sending threads (lock
 * held); stopped ones are retired, to be joined where nothing they may wait
 * for is held. */
void prosody_conf_mix_output_start_pool(prosody_gst::Inner& in);
void prosody_conf_mix_output_stop_pool(prosody_gst::Inner& in);
/* Joins retired sending threads: those that have ended, or all, with every
 * pool thread (no lock held). */
void prosody_conf_mix_output_join_retired(prosody_gst::Inner& in, bool all);
