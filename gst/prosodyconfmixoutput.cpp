/* prosodyconfmixoutput.cpp - what prosodyconfmix's src pads send.
 *
 * Each src pad sends from its own thread and queue, so that a sink that
 * blocks to preroll (or an encoder that needs several buffers first) holds
 * up no other output: the element prerolls without a queue after each src
 * pad, where a single pushing thread would wait in the first sink forever.
 * That holds for live pipelines too: every sink prerolls before the
 * pipeline plays. Not live, a pushing thread is woken once several buffers
 * are queued (fewer wake-ups than a queue element), and the mixing task
 * waits when a queue holds queue-time of audio. Live, a buffer is sent at
 * once; and once a pad's sink has taken a buffer while the element plays,
 * the mixing task pushes to that pad itself (live sinks do not wait for
 * preroll while playing, and a frame's buffers all fall due together), with
 * no thread hop, until the element pauses.
 */
#include "prosodyconfmixprivate.h"

using prosody_gst::Inner;
using prosody_gst::OutputItem;
using prosody_gst::OutputQueue;
using prosody_gst::PadRef;
using prosody_gst::Party;
using prosody_gst::PartyPtr;

namespace {

/* A pushing thread is woken when this many buffers wait (and at EOS). */
constexpr std::size_t kBatchBuffers = 4;

void unref_item(const OutputItem& item) { gst_mini_object_unref(item.object); }

std::size_t capacity_buffers(ProsodyConfMix* self, const Inner& in) {
  PROSODY_OBJECT_LOCK(self);
  const guint64 queue_ns = in.queue_time;
  const guint64 frame_ns = in.frame_duration;
  PROSODY_OBJECT_UNLOCK(self);
  return std::max<std::size_t>(2 * kBatchBuffers, std::size_t(queue_ns / std::max<guint64>(frame_ns, 1)));
}

/* The pushing thread of one src pad: sends what is queued, a batch at a
 * time, with the pad's stream lock held as a GstTask would. */
void pusher_main(ProsodyConfMix* self, PartyPtr party, GstPad* pad, std::shared_ptr<std::atomic<bool>> done) {
  PROSODY_TSAN_ACQUIRE(self);
  Inner& in = *self->inner;
  Party& p = *party;
  std::vector<OutputItem> batch;
  std::unique_lock<std::mutex> lk(in.lock);
  for (;;) {
    p.out.wake.wait(lk, [&] {
      return p.out.flushing || p.out.buffers >= (in.live ? 1 : kBatchBuffers) || p.out.eos_queued ||
             (!p.out.items.empty() && p.out.buffers < p.out.items.size()); /* an event waits */
    });
    if (p.out.flushing) break;
    batch.assign(p.out.items.begin(), p.out.items.end());
    p.out.items.clear();
    p.out.buffers = 0;
    const bool eos = p.out.eos_queued;
    lk.unlock();
    p.out.space.notify_all();
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
    batch.clear();
    lk.lock();
    if (flow != GST_FLOW_OK) p.out.last_flow = flow;
    /* Live and playing, the sink took it: from now on the task may push. */
    if (flow == GST_FLOW_OK && in.live && in.playing && p.out.items.empty()) p.out.direct = true;
    if (eos) break;
  }
  lk.unlock();
  gst_object_unref(pad);
  party.reset();
  PROSODY_TSAN_RELEASE(self);
  done->store(true);
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

/* Queues items for the pad's pushing thread, starting it if need be (lock
 * held); waits while the queue is full. */
GstFlowReturn enqueue(ProsodyConfMix* self, Inner& in, const PartyPtr& party, GstPad* pad,
                      std::vector<OutputItem>& items, std::unique_lock<std::mutex>& lk) {
  Party& p = *party;
  const std::size_t capacity = capacity_buffers(self, in);
  p.out.space.wait(lk, [&] { return p.out.flushing || in.stopping || p.out.buffers < capacity; });
  if (p.out.flushing || in.stopping || p.srcpad != pad) {
    for (const OutputItem& item : items) unref_item(item);
    return GST_FLOW_FLUSHING;
  }
  for (const OutputItem& item : items) {
    p.out.items.push_back(item);
    if (item.is_buffer) ++p.out.buffers;
  }
  if (!p.out.pusher_running) {
    p.out.pusher_running = true;
    p.out.pusher_done = std::make_shared<std::atomic<bool>>(false);
    PROSODY_TSAN_RELEASE(self);
    p.out.pusher = std::thread(pusher_main, self, party, GST_PAD(gst_object_ref(pad)), p.out.pusher_done);
  }
  if (in.live || p.out.buffers >= kBatchBuffers || p.out.buffers < p.out.items.size()) p.out.wake.notify_one();
  return p.out.last_flow;
}

}  // namespace

void prosody_gst::OutputQueue::clear() {
  for (const OutputItem& item : items) unref_item(item);
  items.clear();
  buffers = 0;
}

GstFlowReturn prosody_conf_mix_output_buffer(ProsodyConfMix* self, PadRef& o, std::vector<GstEvent*>& events,
                                             GstBuffer* buffer) {
  Inner& in = *self->inner;
  Party& p = *o.party;
  if (p.src_discont) {
    GST_BUFFER_FLAG_SET(buffer, GST_BUFFER_FLAG_DISCONT);
    p.src_discont = false;
  }
  std::unique_lock<std::mutex> lk(in.lock);
  ++p.buffers_out;
  const bool direct = in.live && p.out.direct && p.out.items.empty();
  if (direct) {
    lk.unlock();
    for (GstEvent* ev : events) gst_pad_push_event(o.pad, ev);
    events.clear();
    PROSODY_TSAN_RELEASE(buffer);
    return gst_pad_push(o.pad, buffer);
  }
  std::vector<OutputItem> items;
  for (GstEvent* ev : events) items.push_back({GST_MINI_OBJECT_CAST(ev), false});
  events.clear();
  items.push_back({GST_MINI_OBJECT_CAST(buffer), true});
  return enqueue(self, in, o.party, o.pad, items, lk);
}

void prosody_conf_mix_output_eos(ProsodyConfMix* self) {
  Inner& in = *self->inner;
  std::unique_lock<std::mutex> lk(in.lock);
  for (PadRef& o : in.out_snapshot) {
    Party& p = *o.party;
    if (p.src_eos_sent || p.srcpad != o.pad) continue;
    p.src_eos_sent = true;
    if (p.out.pusher_running && !p.out.direct) {
      p.out.items.push_back({GST_MINI_OBJECT_CAST(gst_event_new_eos()), false});
      p.out.eos_queued = true;
      p.out.wake.notify_one();
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
  p.out.flushing = true;
  p.out.clear();
  p.out.wake.notify_all();
  p.out.space.notify_all();
  if (p.out.pusher_running) {
    in.retired_pushers.push_back({std::move(p.out.pusher), std::move(p.out.pusher_done)});
    p.out.pusher_running = false;
  }
}

void prosody_conf_mix_output_join_retired(Inner& in, bool all) {
  std::vector<Inner::RetiredPusher> ending;
  {
    std::lock_guard<std::mutex> lk(in.lock);
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
