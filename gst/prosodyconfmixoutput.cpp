/* prosodyconfmixoutput.cpp - what prosodyconfmix's src pads send.
 *
 * Each src pad has a queue (up to queue-time of audio), sent by a small pool
 * of threads shared by every src pad: one per core (at most four), each
 * taking the next queue that is due and pushing a few of its buffers, then
 * the next, without sleeping while any is due. Not live, a queue falls due
 * once several buffers wait (fewer wake-ups than a queue element), and the
 * mixing task waits when a queue holds queue-time of audio. The queues and
 * the pool have their own lock (Inner::out_lock): on the element's lock,
 * which every upstream thread takes with every buffer, the sending threads
 * and the mixing task waited for each other's turn.
 *
 * A push may block: a sink waits to preroll, an encoder needs several
 * buffers, a downstream is slow. A single pushing thread would wait in the
 * first prerolling sink forever and the other branches would never get
 * data; so whenever the pool's threads may all be held up, more are
 * started: not PLAYING, once every thread has been in one push for longer
 * than kPrerollStalledUs, as many as are held up (the pool doubles until
 * every prerolling sink has a thread; a thread per due queue at once made a
 * thousand-pad conference start a hundred and fifty threads that then took
 * turns for the lock); in PLAYING, one once every thread has been in one
 * push for longer than kStalledUs. Threads the pool no longer needs end
 * after a second in which the pool's size sufficed.
 *
 * Live, a buffer is due at once; and once a pad's sink has taken a buffer
 * while the element plays, the mixing task pushes to that pad itself (live
 * sinks do not wait for preroll while playing, and a frame's buffers all
 * fall due together), with no thread hop, until the element pauses.
 */
#include <algorithm>
#include <chrono>

#include "prosodyconfmixprivate.h"

using prosody_gst::Inner;
using prosody_gst::OutputItem;
using prosody_gst::OutputQueue;
using prosody_gst::PadRef;
using prosody_gst::Party;
using prosody_gst::PartyPtr;
using prosody_gst::PushPool;
using prosody_gst::PushWorker;

namespace {

/* Not live, a queue falls due when this many buffers wait (or an event). A
 * sending thread pushes at most this many of a queue's buffers per visit, so
 * that queues paced by a syncing sink are served in turn. */
constexpr std::size_t kBatchBuffers = 4;
/* In PLAYING, a thread held up in one push for longer than this may be
 * blocked downstream: it no longer counts towards the pool's size. */
constexpr gint64 kStalledUs = 50 * 1000;
/* Not PLAYING, a sink waiting to preroll holds a push until the pipeline
 * plays: a thread in one push for longer than this may be waiting so. */
constexpr gint64 kPrerollStalledUs = 10 * 1000;
/* Threads beyond the pool's size end once no more than its size have been
 * pushing at once for this long. */
constexpr gint64 kSurplusIdleUs = 1000 * 1000;
/* The mixing task, waiting for room in a full queue, checks this often
 * whether the threads that should empty it are held up. */
constexpr std::chrono::milliseconds kFullQueueCheck{10};

void unref_item(const OutputItem& item) { gst_mini_object_unref(item.object); }

std::size_t capacity_buffers(ProsodyConfMix* self, const Inner& in) {
  PROSODY_OBJECT_LOCK(self);
  const guint64 queue_ns = in.queue_time;
  const guint64 frame_ns = in.frame_duration;
  PROSODY_OBJECT_UNLOCK(self);
  return std::max<std::size_t>(2 * kBatchBuffers, std::size_t(queue_ns / std::max<guint64>(frame_ns, 1)));
}

/* Threads the pool keeps: one per core, at most four. (Counted once:
 * g_get_num_processors opens and reads files on every call here.) */
std::size_t pool_size() {
  static const std::size_t size = std::clamp<std::size_t>(g_get_num_processors(), 1, 4);
  return size;
}

/* Whether the queue is due to be sent (out_lock held). */
bool is_due(const Inner& in, const OutputQueue& q) {
  return q.eos_queued || q.buffers >= (in.pushers.live ? 1 : kBatchBuffers) ||
         q.buffers < q.items.size(); /* an event */
}

/* Puts the party's queue on the ready list if it is due and nobody has it
 * (out_lock held). */
void schedule(Inner& in, const PartyPtr& party) {
  OutputQueue& q = party->out;
  if (q.awaiting_sender || q.being_sent || q.flushing || !is_due(in, q)) return;
  q.awaiting_sender = true;
  in.pushers.ready.push_back(party);
}

/* Takes the next items to send from the queue: up to kBatchBuffers buffers
 * and the events around them (out_lock held). */
void take_visit(OutputQueue& q, std::vector<OutputItem>& batch) {
  std::size_t buffers = 0;
  while (!q.items.empty() && (buffers < kBatchBuffers || !q.items.front().is_buffer)) {
    const OutputItem item = q.items.front();
    q.items.pop_front();
    batch.push_back(item);
    if (item.is_buffer) {
      ++buffers;
      --q.buffers;
    }
  }
  if (q.items.empty()) q.eos_queued = false; /* the EOS, if any, is in the batch */
}

/* Pushes a visit's items, with the pad's stream lock held as a GstTask
 * would; returns the last flow. */
GstFlowReturn push_items(GstPad* pad, const std::vector<OutputItem>& batch) {
  GstFlowReturn flow = GST_FLOW_OK;
  GST_PAD_STREAM_LOCK(pad);
  for (const OutputItem& item : batch) {
    if (flow != GST_FLOW_OK && flow != GST_FLOW_NOT_LINKED) {
      unref_item(item); /* downstream is gone or failed: drop the rest */
      continue;
    }
    /* Downstream frees it after GLib locks ThreadSanitizer cannot see. */
    PROSODY_TSAN_RELEASE(item.object);
    if (item.is_buffer)
      flow = gst_pad_push(pad, GST_BUFFER_CAST(item.object));
    else
      gst_pad_push_event(pad, GST_EVENT_CAST(item.object));
  }
  GST_PAD_STREAM_UNLOCK(pad);
  return flow;
}

/* Hands a thread over to be joined (out_lock held). */
void retire(Inner& in, PushWorker& w) {
  if (!w.listed) return;
  w.listed = false;
  in.retired_pushers.push_back({std::move(w.thread), w.done});
}

void start_worker(ProsodyConfMix* self, Inner& in);
void dispatch(ProsodyConfMix* self, Inner& in);

/* One sending thread: serves the ready queues until the pool stops or no
 * longer needs it. */
void worker_main(ProsodyConfMix* self, std::shared_ptr<PushWorker> me) {
  PROSODY_TSAN_ACQUIRE(self);
  Inner& in = *self->inner;
  PushPool& pool = in.pushers;
  std::vector<OutputItem> batch;
  std::unique_lock<std::mutex> lk(in.out_lock);
  for (;;) {
    const auto has_work = [&] { return pool.stopping || !pool.ready.empty(); };
    if (pool.workers.size() > pool_size()) {
      /* More threads than the pool keeps: this one ends once no more than
       * that many have been pushing at once for kSurplusIdle. */
      if (pool.ready.empty() && g_get_monotonic_time() - pool.crowded_at >= kSurplusIdleUs) break;
      pool.wake.wait_for(lk, std::chrono::microseconds(kSurplusIdleUs), has_work);
    } else {
      pool.wake.wait(lk, has_work);
    }
    if (pool.stopping) break;
    if (pool.ready.empty()) continue;
    PartyPtr party = std::move(pool.ready.front());
    pool.ready.pop_front();
    OutputQueue& q = party->out;
    q.awaiting_sender = false;
    if (q.flushing || !q.pad) continue; /* released or stopping: output_stop dropped the items */
    take_visit(q, batch);
    q.being_sent = true;
    GstPad* pad = GST_PAD(gst_object_ref(q.pad));
    --pool.idle;
    me->sending_since = g_get_monotonic_time();
    if (pool.workers.size() - pool.idle > pool_size()) pool.crowded_at = me->sending_since;
    if (!pool.ready.empty()) {
      /* More are due: another thread joins in, up to the pool's size. Not
       * PLAYING, this push may wait for preroll: a waiting thread is woken
       * regardless (more are started once pushes are seen to wait). */
      const std::size_t pushing = pool.workers.size() - pool.idle;
      if (pool.idle > 0 && (pushing < pool_size() || !pool.playing)) pool.wake.notify_one();
    }
    lk.unlock();
    q.space.notify_all();
    const GstFlowReturn flow = push_items(pad, batch);
    batch.clear();
    gst_object_unref(pad);
    lk.lock();
    me->sending_since = 0;
    ++pool.idle;
    q.being_sent = false;
    if (flow != GST_FLOW_OK) q.last_flow = flow;
    /* Live and playing, the sink took it: from now on the task may push. */
    if (flow == GST_FLOW_OK && pool.live && pool.playing && q.items.empty()) q.direct = true;
    schedule(in, party);
  }
  --pool.idle;
  if (me->listed) pool.workers.remove(me);
  retire(in, *me);
  lk.unlock();
  PROSODY_TSAN_RELEASE(self);
  me->done->store(true);
}

/* How many more threads the pool needs for the queues that are due, all of
 * its threads being in pushes (out_lock held): none while the pool's size of
 * them are moving (in a push for less than the stall time). Held up in
 * PLAYING, one more. Held up not PLAYING, every sink below may be waiting to
 * preroll, each holding a thread: as many more as are held up, so that the
 * pool doubles until every such sink has one (a thousand sinks in ten
 * steps), while a push that was merely slow costs a thread or two, not one
 * per due queue. */
std::size_t workers_needed(const Inner& in) {
  const PushPool& pool = in.pushers;
  if (pool.workers.size() < pool_size()) return 1;
  const gint64 stalled_us = pool.playing ? kStalledUs : kPrerollStalledUs;
  const gint64 now = g_get_monotonic_time();
  std::size_t moving = 0;
  for (const auto& w : pool.workers)
    if (w->sending_since == 0 || now - w->sending_since < stalled_us) ++moving;
  if (moving >= pool_size()) return 0;
  if (pool.playing) return 1;
  return std::min(pool.ready.size(), pool.workers.size() - moving);
}

/* The pool's watcher: every kStalledUs, gets queues that are due sent
 * (the mixing task, which does so as it queues, may be idle): wakes a
 * waiting thread, or starts one if every thread is held up downstream. */
void watcher_main(ProsodyConfMix* self, std::shared_ptr<PushWorker> me) {
  PROSODY_TSAN_ACQUIRE(self);
  Inner& in = *self->inner;
  PushPool& pool = in.pushers;
  std::unique_lock<std::mutex> lk(in.out_lock);
  while (!pool.stopping) {
    pool.watcher_wake.wait_for(lk, std::chrono::microseconds(kStalledUs));
    dispatch(self, in);
  }
  if (pool.watcher == me) pool.watcher.reset();
  retire(in, *me);
  lk.unlock();
  PROSODY_TSAN_RELEASE(self);
  me->done->store(true);
}

void start_worker(ProsodyConfMix* self, Inner& in) {
  PushPool& pool = in.pushers;
  auto w = std::make_shared<PushWorker>();
  ++pool.idle; /* until it takes a queue */
  pool.workers.push_back(w);
  pool.peak = std::max(pool.peak, pool.workers.size());
  PROSODY_TSAN_RELEASE(self);
  w->thread = std::thread(worker_main, self, w); /* it waits for the lock we hold */
  if (!pool.watcher) {
    pool.watcher = std::make_shared<PushWorker>();
    pool.watcher->thread = std::thread(watcher_main, self, pool.watcher);
  }
}

/* Gets the ready queues sent: wakes one waiting thread (it wakes another
 * if more are due), or starts one when every thread may be held up
 * downstream (out_lock held). */
void dispatch(ProsodyConfMix* self, Inner& in) {
  PushPool& pool = in.pushers;
  if (pool.ready.empty() || pool.stopping) return;
  if (pool.idle > 0) {
    pool.wake.notify_one();
    return;
  }
  /* Looking for held-up threads costs a walk of the pool: not every frame. */
  const gint64 now = g_get_monotonic_time();
  const gint64 check_us = (pool.playing ? kStalledUs : kPrerollStalledUs) / 4;
  if (now - pool.stall_checked_at < check_us && pool.workers.size() >= pool_size()) return;
  pool.stall_checked_at = now;
  for (std::size_t n = workers_needed(in); n > 0; --n) start_worker(self, in);
}

}  // namespace

bool prosody_conf_mix_prepare_src(ProsodyConfMix* self, Party& p, GstPad* pad, std::vector<GstEvent*>& events) {
  Inner& in = *self->inner;
  if (p.src_need_stream_start) {
    /* Our own id: with several sink pads there is no upstream one. */
    gchar* id = g_strdup_printf("%08x%08x/%s", in.group_id, g_random_int(), GST_PAD_NAME(pad));
    GstEvent* ev = gst_event_new_stream_start(id);
    gst_event_set_group_id(ev, in.group_id);
    g_free(id);
    events.push_back(ev);
    p.src_need_stream_start = false;
  }
  if (p.src_need_caps || gst_pad_check_reconfigure(pad)) {
    GstCaps* templ = prosody_gst::caps_at_rate(pad, in.rate, nullptr);
    GstCaps* caps = gst_pad_peer_query_caps(pad, templ);
    gst_caps_unref(templ);
    if (gst_caps_is_empty(caps)) {
      gst_caps_unref(caps);
      GST_ELEMENT_ERROR(self, CORE, NEGOTIATION,
                        ("%s: downstream accepts neither S16LE nor F32LE mono at %u Hz", GST_PAD_NAME(pad), in.rate),
                        (nullptr));
      return false;
    }
    caps = gst_caps_fixate(caps);
    GstAudioInfo info;
    const char* why = nullptr;
    if (!prosody_gst::parse_audio_caps(caps, &info, &why)) {
      GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("%s: downstream caps %s", GST_PAD_NAME(pad), why),
                        ("%" GST_PTR_FORMAT, caps));
      gst_caps_unref(caps);
      return false;
    }
    p.out_format = prosody_gst::sample_format_of(&info);
    GST_DEBUG_OBJECT(pad, "output caps %" GST_PTR_FORMAT, caps);
    events.push_back(gst_event_new_caps(caps));
    gst_caps_unref(caps);
    p.src_need_caps = false;
  }
  if (p.src_need_segment) {
    GstSegment seg;
    gst_segment_init(&seg, GST_FORMAT_TIME);
    events.push_back(gst_event_new_segment(&seg));
    p.src_need_segment = false;
  }
  return true;
}

namespace {

/* Queues items for the sending threads (out_lock held); waits while the queue
 * is full. */
GstFlowReturn enqueue(ProsodyConfMix* self, Inner& in, const PartyPtr& party, GstPad* pad,
                      std::vector<OutputItem>& items, std::size_t capacity, std::unique_lock<std::mutex>& lk) {
  Party& p = *party;
  while (!(p.out.flushing || in.pushers.stopping || p.out.buffers < capacity)) {
    dispatch(self, in); /* those that should empty it may all be held up */
    p.out.space.wait_for(lk, kFullQueueCheck);
  }
  if (p.out.flushing || in.pushers.stopping || p.out.pad != pad) {
    for (const OutputItem& item : items) unref_item(item);
    return GST_FLOW_FLUSHING;
  }
  for (const OutputItem& item : items) {
    p.out.items.push_back(item);
    if (item.is_buffer) ++p.out.buffers;
  }
  schedule(in, party); /* sent once the frame's buffers are all queued */
  return p.out.last_flow;
}

}  // namespace

void prosody_gst::OutputQueue::clear() {
  for (const OutputItem& item : items) unref_item(item);
  items.clear();
  buffers = 0;
}

void prosody_conf_mix_output_frame(ProsodyConfMix* self, std::vector<PadRef>& pads,
                                   std::vector<std::vector<GstEvent*>>& events, std::vector<GstBuffer*>& buffers,
                                   std::vector<GstFlowReturn>& flows) {
  Inner& in = *self->inner;
  flows.assign(pads.size(), prosody_gst::kNothingSent);
  std::vector<std::size_t>& direct = in.direct_outputs;
  direct.clear();
  std::vector<OutputItem> items;
  const std::size_t capacity = capacity_buffers(self, in);
  {
    /* One lock for the frame: the queues, then the sending threads woken once. */
    std::unique_lock<std::mutex> lk(in.out_lock);
    for (std::size_t i = 0; i < pads.size(); ++i) {
      GstBuffer* buffer = buffers[i];
      if (!buffer) continue;
      Party& p = *pads[i].party;
      if (p.src_discont) {
        GST_BUFFER_FLAG_SET(buffer, GST_BUFFER_FLAG_DISCONT);
        p.src_discont = false;
      }
      ++p.buffers_out;
      if (in.pushers.live && p.out.direct && p.out.items.empty() && !p.out.being_sent) {
        direct.push_back(i);
        continue;
      }
      items.clear();
      for (GstEvent* ev : events[i]) items.push_back({GST_MINI_OBJECT_CAST(ev), false});
      events[i].clear();
      items.push_back({GST_MINI_OBJECT_CAST(buffer), true});
      buffers[i] = nullptr;
      flows[i] = enqueue(self, in, pads[i].party, pads[i].pad, items, capacity, lk);
    }
    dispatch(self, in);
  }
  for (std::size_t i : direct) {
    for (GstEvent* ev : events[i]) gst_pad_push_event(pads[i].pad, ev);
    events[i].clear();
    PROSODY_TSAN_RELEASE(buffers[i]);
    flows[i] = gst_pad_push(pads[i].pad, buffers[i]);
    buffers[i] = nullptr;
  }
}

void prosody_conf_mix_output_eos(ProsodyConfMix* self) {
  Inner& in = *self->inner;
  std::unique_lock<std::mutex> lk(in.out_lock);
  for (PadRef& o : in.out_snapshot) {
    Party& p = *o.party;
    if (p.src_eos_sent || p.out.pad != o.pad) continue;
    p.src_eos_sent = true;
    if (!p.out.direct) {
      /* After what is queued; and a sink waiting to preroll holds up a
       * sending thread, not the mixing task. */
      p.out.items.push_back({GST_MINI_OBJECT_CAST(gst_event_new_eos()), false});
      p.out.eos_queued = true;
      schedule(in, o.party);
      dispatch(self, in);
    } else {
      /* Pushed without the lock (a sink may block on it), from a ref. */
      GstPad* pad = GST_PAD(gst_object_ref(o.pad));
      lk.unlock();
      gst_pad_push_event(pad, gst_event_new_eos());
      gst_object_unref(pad);
      lk.lock();
    }
  }
}

void prosody_conf_mix_output_stop(Inner& in, Party& p) {
  std::lock_guard<std::mutex> lk(in.out_lock);
  p.out.flushing = true;
  p.out.clear();
  p.out.eos_queued = false;
  p.out.space.notify_all();
}

void prosody_conf_mix_output_reset(Inner& in, Party& p, GstPad* pad) {
  std::lock_guard<std::mutex> lk(in.out_lock);
  p.out.pad = pad;
  if (!pad) return; /* released: stays stopped */
  p.out.flushing = false;
  p.out.eos_queued = false;
  p.out.direct = false;
  p.out.last_flow = GST_FLOW_OK;
}

void prosody_conf_mix_output_set_state(Inner& in, bool live, bool playing) {
  std::lock_guard<std::mutex> lk(in.out_lock);
  in.pushers.live = live;
  in.pushers.playing = playing;
  /* Paused, sinks preroll again: outputs go through the sending threads. */
  if (!playing)
    for (auto& kv : in.parties) kv.second->out.direct = false;
}

void prosody_conf_mix_output_threads(Inner& in, guint* now, guint* peak) {
  std::lock_guard<std::mutex> lk(in.out_lock);
  *now = guint(in.pushers.workers.size());
  *peak = guint(in.pushers.peak);
}

guint64 prosody_conf_mix_output_buffers(Inner& in, const Party& p) {
  std::lock_guard<std::mutex> lk(in.out_lock);
  return p.buffers_out;
}

void prosody_conf_mix_output_start_pool(Inner& in) {
  std::lock_guard<std::mutex> lk(in.out_lock);
  in.pushers.stopping = false;
  in.pushers.peak = in.pushers.workers.size();
}

void prosody_conf_mix_output_stop_pool(Inner& in) {
  std::lock_guard<std::mutex> lk(in.out_lock);
  PushPool& pool = in.pushers;
  pool.stopping = true;
  for (const PartyPtr& party : pool.ready) party->out.awaiting_sender = false;
  pool.ready.clear();
  pool.wake.notify_all();
  pool.watcher_wake.notify_all();
}

void prosody_conf_mix_output_join_retired(Inner& in, bool all) {
  std::vector<Inner::RetiredPusher> ending;
  {
    std::lock_guard<std::mutex> lk(in.out_lock);
    if (all) {
      for (const auto& w : in.pushers.workers) retire(in, *w);
      in.pushers.workers.clear();
      if (in.pushers.watcher) retire(in, *in.pushers.watcher);
      in.pushers.watcher.reset();
    }
    for (auto it = in.retired_pushers.begin(); it != in.retired_pushers.end();) {
      if (all || it->done->load()) {
        ending.push_back(std::move(*it));
        it = in.retired_pushers.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (Inner::RetiredPusher& r : ending)
    if (r.thread.joinable()) r.thread.join();
}
