/* prosodyrecorder.cpp - the recorder element (prosodyrecorder.h).
 *
 * Threads and locks: every sink pad's streaming thread takes Inner::lock to
 * queue its buffer on the pad's timeline; whichever thread completes a frame
 * (every pad's timeline covers it, or has ended) writes it, still under the
 * lock. Properties are read under the element's object lock into the lock's
 * state when recording starts. Messages are posted after the lock is
 * released.
 *
 * The file's channels are the sink pads present at READY->PAUSED, in pad
 * order; a pad requested later is refused (the file's layout is fixed). The
 * rate is the first caps' rate; every pad must have it. Audio is placed by
 * running time from the first buffer of any pad (sample 0 of the file), so
 * pads that start later hold silence until then, and gaps, late and
 * overlapping audio are handled as the input timeline does. In a live
 * pipeline a pad that stops sending (no buffer, no GAP, no EOS) holds the
 * file back for at most max-lag of the others' audio; its channel is then
 * silent where it had nothing. In a pipeline that is not live a pad ahead of
 * the others waits for them (back-pressure), as their audio will come.
 */
#include "prosodyrecorder.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "prosody/files.hpp"
#include "prosodyelementsupport.h"
#include "prosodytimeline.hpp"
#include "prosodytsan.h"

GST_DEBUG_CATEGORY_STATIC(prosody_recorder_debug);
#define GST_CAT_DEFAULT prosody_recorder_debug

namespace {

constexpr guint64 kDefaultSyncInterval = 50 * GST_MSECOND;
constexpr guint64 kDefaultProgressInterval = GST_SECOND;
constexpr guint64 kDefaultMaxLag = GST_SECOND;
constexpr guint64 kAlignmentThreshold = 40 * GST_MSECOND;

enum {
  PROP_0,
  PROP_LOCATION,
  PROP_FORMAT,
  PROP_MAX_DURATION,
  PROP_MAX_SILENCE,
  PROP_MAX_INITIAL_SILENCE,
  PROP_MAX_BYTES,
  PROP_SILENCE_ELIMINATION,
  PROP_SILENCE_LEVEL,
  PROP_SPLIT_DURATION,
  PROP_SPLIT_BYTES,
  PROP_SYNC_INTERVAL,
  PROP_PROGRESS_INTERVAL,
  PROP_MAX_LAG,
};

/* What the properties say, copied when recording starts. */
struct Settings {
  std::string location;
  gint format = 0; /* index into prosody::file_format_names() */
  guint64 max_duration = 0;
  guint64 max_silence = 0;
  guint64 max_initial_silence = 0;
  guint64 max_bytes = 0;
  guint64 silence_elimination = 0;
  gdouble silence_level = -45.0;
  guint64 split_duration = 0;
  guint64 split_bytes = 0;
  guint64 sync_interval = kDefaultSyncInterval;
  guint64 progress_interval = kDefaultProgressInterval;
  guint64 max_lag = kDefaultMaxLag;
};

struct Input {
  GstPad* pad = nullptr; /* not owned */
  guint index = 0;
  GstSegment segment;
  bool have_caps = false;
  prosody::SampleFormat format = prosody::SampleFormat::s16;
  bool flushing = false;
  bool eos = false;
  bool live = false; /* upstream is live (asked at its first buffer) */
  bool live_known = false;
  prosody_gst::Timeline timeline;
  prosody_gst::TimelineFrame frame;
};

struct Inner {
  std::mutex lock;
  std::condition_variable space; /* a pad waits for the others to catch up */
  Settings props;                /* guarded by the element's object lock */

  /* ---- Guarded by lock ---- */
  std::map<guint, std::unique_ptr<Input>> inputs; /* by pad index: the file's channel order */
  std::vector<Input*> channels;                   /* fixed at READY->PAUSED */
  Settings s;                                     /* in force while recording */
  bool started = false;                           /* READY->PAUSED done */
  bool done = false;                              /* terminated: the file is closed */
  guint rate = 0;
  guint frame_samples = 0;
  bool start_known = false;
  GstClockTime start_rt = 0;
  std::unique_ptr<prosody::FileWriter> writer;
  std::unique_ptr<prosody::RecordGate> gate;
  guint file_no = 0;
  std::string path;
  guint64 file_frames = 0;  /* written to the current file (per channel) */
  guint64 total_frames = 0; /* written to every file */
  guint64 input_frames = 0; /* taken from the inputs (elapsed audio) */
  guint64 next_progress = 0;
  std::vector<float> interleaved;

  void reset_stream() {
    writer.reset();
    gate.reset();
    channels.clear();
    rate = 0;
    frame_samples = 0;
    start_known = false;
    done = false;
    file_no = 0;
    file_frames = total_frames = input_frames = next_progress = 0;
    for (auto& kv : inputs) {
      kv.second->timeline.reset();
      kv.second->eos = kv.second->flushing = false;
      kv.second->have_caps = kv.second->live_known = kv.second->live = false;
    }
  }
};

/* Posted after the lock is released. */
struct Messages {
  GstElement* element;
  std::vector<GstMessage*> list;
  explicit Messages(GstElement* e) : element(e) {}
  ~Messages() {
    for (GstMessage* m : list) gst_element_post_message(element, m);
  }
};

const std::vector<std::string>& format_names() {
  static const std::vector<std::string> names = prosody::file_format_names();
  return names;
}

prosody::FileFormat format_of(gint index) { return *prosody::parse_file_format(format_names()[std::size_t(index)]); }

/* The path of file number n: location as a printf pattern when it holds a
 * '%' (e.g. "call-%03u.wav"); otherwise, when splitting, "-NNNNN" before the
 * extension of every file after the first... and of the first too, so the
 * files sort in order. */
std::string file_path(const Settings& s, guint n) {
  if (s.location.find('%') != std::string::npos) {
    gchar* p = g_strdup_printf(s.location.c_str(), n);
    std::string out(p);
    g_free(p);
    return out;
  }
  if (s.split_bytes == 0 && s.split_duration == 0) return s.location;
  const auto slash = s.location.find_last_of('/');
  const auto dot = s.location.find_last_of('.');
  const bool has_ext = dot != std::string::npos && (slash == std::string::npos || dot > slash);
  gchar* num = g_strdup_printf("-%05u", n);
  std::string out = has_ext ? s.location.substr(0, dot) + num + s.location.substr(dot) : s.location + num;
  g_free(num);
  return out;
}

GstStructure* file_structure(const char* name, Inner& in) {
  return gst_structure_new(name, "location", G_TYPE_STRING, in.path.c_str(), "duration", G_TYPE_UINT64,
                           guint64(prosody_gst::samples_to_time(in.file_frames, in.rate)), "bytes", G_TYPE_UINT64,
                           guint64(in.writer ? in.writer->bytes() : 0), "file-index", G_TYPE_UINT, in.file_no, nullptr);
}

}  // namespace

struct _ProsodyRecorder {
  GstElement parent;
  Inner* inner;
};

G_DEFINE_TYPE(ProsodyRecorder, prosody_recorder, GST_TYPE_ELEMENT)
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE(prosodyrecorder, "prosodyrecorder", GST_RANK_NONE, PROSODY_TYPE_RECORDER,
                                      GST_DEBUG_CATEGORY_INIT(prosody_recorder_debug, "prosodyrecorder", 0,
                                                              "Prosody crash-safe recorder"));

GType prosody_recorder_format_get_type(void) {
  static GType type = 0;
  if (g_once_init_enter(&type)) {
    /* From the library's list, so the element offers every format it has. */
    static std::vector<GEnumValue> values;
    for (std::size_t i = 0; i < format_names().size(); ++i)
      values.push_back(GEnumValue{gint(i), format_names()[i].c_str(), format_names()[i].c_str()});
    values.push_back(GEnumValue{0, nullptr, nullptr});
    g_once_init_leave(&type, g_enum_register_static("ProsodyRecorderFormat", values.data()));
  }
  return type;
}

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink_%u", GST_PAD_SINK, GST_PAD_REQUEST, GST_STATIC_CAPS(PROSODY_AUDIO_CAPS));

/* ---- Recording (lock held) ---- */

/* An error message, posted with the others once the lock is released. */
static void queue_error(ProsodyRecorder* self, Messages& messages, GQuark domain, gint code, const std::string& text,
                        const std::string& debug) {
  GError* error = g_error_new_literal(domain, code, text.c_str());
  messages.list.push_back(gst_message_new_error(GST_OBJECT(self), error, debug.empty() ? nullptr : debug.c_str()));
  g_error_free(error);
}

/* Opens file number in.file_no. False, with an error queued, on failure. */
static bool open_file(ProsodyRecorder* self, Inner& in, Messages& messages) {
  in.path = file_path(in.s, in.file_no);
  prosody::FileWriterSettings ws;
  ws.format = format_of(in.s.format);
  ws.rate = in.rate;
  ws.channels = guint(in.channels.size());
  ws.sync_interval_s = double(in.s.sync_interval) / GST_SECOND;
  std::string error;
  in.writer = prosody::FileWriter::open(in.path, ws, &error);
  in.file_frames = 0;
  if (!in.writer) {
    queue_error(self, messages, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_WRITE,
                "Could not record to \"" + in.path + "\": " + error, "");
    return false;
  }
  GST_INFO_OBJECT(self, "recording to %s (%s, %u Hz, %zu channels)", in.path.c_str(),
                  prosody::file_format_name(ws.format).c_str(), in.rate, in.channels.size());
  return true;
}

/* Ends the recording: the file closed (its final header), a done message
 * with the reason, and EOS on the bus unless it failed. */
static void finish(ProsodyRecorder* self, Inner& in, const char* reason, Messages& messages) {
  if (in.done) return;
  in.done = true;
  if (in.writer) in.writer->close();
  GstStructure* s = file_structure("prosody-recorder-done", in);
  gst_structure_set(s, "reason", G_TYPE_STRING, reason, "files", G_TYPE_UINT, in.writer ? in.file_no + 1 : 0,
                    "total-duration", G_TYPE_UINT64, guint64(prosody_gst::samples_to_time(in.total_frames, in.rate)),
                    nullptr);
  messages.list.push_back(gst_message_new_element(GST_OBJECT(self), s));
  if (std::strcmp(reason, "error") != 0) {
    GstMessage* eos = gst_message_new_eos(GST_OBJECT(self));
    messages.list.push_back(eos);
  }
  in.space.notify_all();
}

static void fail_write(ProsodyRecorder* self, Inner& in, Messages& messages) {
  const std::string why = in.writer->error();
  finish(self, in, "error", messages); /* the done message first: the error stops most applications */
  if (why.find(std::strerror(ENOSPC)) != std::string::npos)
    queue_error(self, messages, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NO_SPACE_LEFT,
                "The disk is full: \"" + in.path + "\" holds the recording up to this point", why);
  else
    queue_error(self, messages, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_WRITE, "Could not write \"" + in.path + "\"",
                why);
}

/* Closes the file (a prosody-recorder-file message) and opens the next one. */
static bool next_file(ProsodyRecorder* self, Inner& in, Messages& messages) {
  in.writer->close();
  messages.list.push_back(gst_message_new_element(GST_OBJECT(self), file_structure("prosody-recorder-file", in)));
  ++in.file_no;
  if (open_file(self, in, messages)) return true;
  finish(self, in, "error", messages);
  return false;
}

/* Writes samples (interleaved frames) to the file, splitting it where the
 * limits say. False once the recording ended. */
static bool write_frames(ProsodyRecorder* self, Inner& in, const float* x, std::size_t frames, Messages& messages) {
  const std::size_t nch = in.channels.size();
  while (frames > 0) {
    std::size_t k = frames;
    if (in.s.split_duration > 0) {
      const guint64 per_file = std::max<guint64>(1, prosody_gst::time_to_samples(in.s.split_duration, in.rate));
      k = std::size_t(std::min<guint64>(k, per_file - std::min(per_file, in.file_frames)));
      if (k == 0) {
        if (!next_file(self, in, messages)) return false;
        continue;
      }
    }
    if (!in.writer->write(x, k)) {
      fail_write(self, in, messages);
      return false;
    }
    in.file_frames += k;
    in.total_frames += k;
    x += k * nch;
    frames -= k;
    if (in.s.split_bytes > 0 && in.writer->bytes() >= in.s.split_bytes && !next_file(self, in, messages)) return false;
  }
  return true;
}

/* Whether the next frame can be written: every channel's timeline covers it
 * (or ended), or, when live, one of them holds max-lag of audio (a live pad
 * that sends nothing must not hold the file back; a pad of a pipeline that
 * is not live is waited for, as its audio will come). */
static bool frame_ready(Inner& in) {
  const std::uint32_t n = in.frame_samples;
  const std::uint64_t lag = prosody_gst::time_to_samples(in.s.max_lag, in.rate);
  bool all = true, any_pending = false, lagging = false;
  for (Input* c : in.channels) {
    if (!c->timeline.drained()) any_pending = true;
    if (!c->timeline.ready(n)) all = false;
    if (c->live && c->timeline.queued() >= lag) lagging = true;
  }
  return any_pending && (all || lagging);
}

/* Writes every frame that is ready. Returns the flow for the caller. */
static GstFlowReturn process_frames(ProsodyRecorder* self, Inner& in, Messages& messages) {
  if (in.done) return GST_FLOW_EOS;
  if (!in.writer) return GST_FLOW_OK;
  const std::size_t nch = in.channels.size();
  const std::uint32_t n = in.frame_samples;
  in.interleaved.resize(n * nch);
  while (frame_ready(in)) {
    double loudest = 0.0;
    for (std::size_t ch = 0; ch < nch; ++ch) {
      Input& c = *in.channels[ch];
      c.timeline.take(n, c.frame);
      float* y = in.interleaved.data();
      for (std::uint32_t i = 0; i < n; ++i) y[i * nch + ch] = 0.0f; /* missing: silence */
      double sum = 0.0;
      for (const prosody::FramePiece& p : c.frame.pieces) {
        float* to = y + std::size_t(p.offset) * nch + ch;
        if (p.format == prosody::SampleFormat::f32) {
          const float* from = static_cast<const float*>(p.samples);
          for (std::uint32_t i = 0; i < p.count; ++i) {
            const float v = from[i] == from[i] ? from[i] : 0.0f; /* NaN never reaches the file */
            to[i * nch] = v;
            sum += double(v) * v;
          }
        } else {
          const std::int16_t* from = static_cast<const std::int16_t*>(p.samples);
          for (std::uint32_t i = 0; i < p.count; ++i) {
            const float v = from[i] * (1.0f / 32768.0f);
            to[i * nch] = v;
            sum += double(v) * v;
          }
        }
      }
      loudest = std::max(loudest, sum / n);
    }
    for (Input* c : in.channels) c->timeline.release_taken();
    in.input_frames += n;
    const prosody::Span<const float> keep = in.gate->feed(in.interleaved.data(), loudest);
    if (!keep.empty() && !write_frames(self, in, keep.data(), keep.size() / nch, messages)) return GST_FLOW_ERROR;
    if (in.s.max_bytes > 0 && in.writer->bytes() >= in.s.max_bytes) {
      finish(self, in, "length", messages);
      return GST_FLOW_EOS;
    }
    switch (in.gate->termination()) {
      case prosody::RecordTermination::max_time:
        finish(self, in, "time", messages);
        return GST_FLOW_EOS;
      case prosody::RecordTermination::silence:
        finish(self, in, "silence", messages);
        return GST_FLOW_EOS;
      default:
        break;
    }
    if (in.s.progress_interval > 0 && prosody_gst::samples_to_time(in.input_frames, in.rate) >= in.next_progress) {
      GstStructure* s = file_structure("prosody-recorder-progress", in);
      gst_structure_set(s, "total-duration", G_TYPE_UINT64,
                        guint64(prosody_gst::samples_to_time(in.total_frames, in.rate)), "elapsed", G_TYPE_UINT64,
                        guint64(prosody_gst::samples_to_time(in.input_frames, in.rate)), nullptr);
      messages.list.push_back(gst_message_new_element(GST_OBJECT(self), s));
      in.next_progress += in.s.progress_interval;
    }
  }
  in.space.notify_all();
  bool all_drained = true;
  for (Input* c : in.channels) all_drained &= c->timeline.drained();
  if (all_drained) {
    finish(self, in, "eos", messages);
    return GST_FLOW_EOS;
  }
  return GST_FLOW_OK;
}

/* ---- Pads ---- */

static Input* input_of(Inner& in, GstPad* pad) {
  for (auto& kv : in.inputs)
    if (kv.second->pad == pad) return kv.second.get();
  return nullptr;
}

static GstFlowReturn sink_chain(GstPad* pad, GstObject* parent, GstBuffer* buffer) {
  ProsodyRecorder* self = PROSODY_RECORDER(parent);
  ProsodyTsanScope tsan(self); /* a streaming thread: before anything of it is read */
  Inner& in = *self->inner;
  Messages messages(GST_ELEMENT(self));
  PROSODY_TSAN_ACQUIRE(buffer);
  bool live_known;
  {
    std::lock_guard<std::mutex> lk(in.lock);
    Input* c = input_of(in, pad);
    live_known = !c || c->live_known;
  }
  gboolean live = FALSE;
  if (!live_known) {
    /* Asked once, without the lock (upstream answers from its thread). */
    GstQuery* q = gst_query_new_latency();
    if (gst_pad_peer_query(pad, q)) gst_query_parse_latency(q, &live, nullptr, nullptr);
    gst_query_unref(q);
  }
  std::unique_lock<std::mutex> lk(in.lock);
  Input* c = input_of(in, pad);
  if (c && !c->live_known && !live_known) {
    c->live = live;
    c->live_known = true;
  }
  if (!c || c->flushing || !in.started) {
    gst_buffer_unref(buffer);
    return GST_FLOW_FLUSHING;
  }
  if (in.done || c->eos) {
    gst_buffer_unref(buffer);
    return GST_FLOW_EOS;
  }
  if (!c->have_caps || !in.writer) {
    lk.unlock();
    gst_buffer_unref(buffer);
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("%s: audio arrived before its caps", GST_PAD_NAME(pad)), (nullptr));
    return GST_FLOW_NOT_NEGOTIATED;
  }
  /* Back-pressure: this pad waits while it is max-lag ahead of a frame the
   * others have not covered (live, frame_ready then writes without them). */
  const std::uint64_t lag = prosody_gst::time_to_samples(in.s.max_lag, in.rate);
  in.space.wait(lk, [&] { return c->timeline.queued() < lag || c->flushing || in.done || !in.started; });
  if (c->flushing || !in.started) {
    gst_buffer_unref(buffer);
    return GST_FLOW_FLUSHING;
  }
  if (in.done) {
    gst_buffer_unref(buffer);
    return GST_FLOW_EOS;
  }
  const std::size_t bps = prosody_gst::bytes_per_sample(c->format);
  buffer = gst_audio_buffer_clip(buffer, &c->segment, gint(in.rate), gint(bps));
  if (!buffer) return GST_FLOW_OK;
  GstClockTime rt = GST_BUFFER_PTS_IS_VALID(buffer)
                        ? gst_segment_to_running_time(&c->segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buffer))
                        : GST_CLOCK_TIME_NONE;
  if (!in.start_known && GST_CLOCK_TIME_IS_VALID(rt)) {
    /* Sample 0 of the file: every pad's timeline starts there. */
    in.start_known = true;
    in.start_rt = rt;
    for (Input* ch : in.channels) ch->timeline.reset_at(0);
  }
  if (!in.start_known) {
    in.start_known = true; /* no timestamps: every pad contiguous from 0 */
    for (Input* ch : in.channels) ch->timeline.reset_at(0);
  }
  std::int64_t position = prosody_gst::Timeline::kNoPosition;
  if (GST_CLOCK_TIME_IS_VALID(rt))
    position = rt >= in.start_rt ? std::int64_t(prosody_gst::time_to_samples(rt - in.start_rt, in.rate))
                                 : -std::int64_t(prosody_gst::time_to_samples(in.start_rt - rt, in.rate));
  const bool discont = GST_BUFFER_IS_DISCONT(buffer);
  prosody_gst::MappedBuffer* m = prosody_gst::map_buffer(buffer, GST_MAP_READ);
  if (!m) {
    lk.unlock();
    GST_ELEMENT_ERROR(self, RESOURCE, READ, ("%s: could not map a buffer", GST_PAD_NAME(pad)), (nullptr));
    return GST_FLOW_ERROR;
  }
  c->timeline.set_settings({prosody_gst::time_to_samples(kAlignmentThreshold, in.rate), 0});
  c->timeline.push(position, discont, m->map.data, m->map.size, c->format, &prosody_gst::release_mapped_buffer, m);
  return process_frames(self, in, messages);
}

static gboolean sink_event(GstPad* pad, GstObject* parent, GstEvent* event) {
  ProsodyRecorder* self = PROSODY_RECORDER(parent);
  ProsodyTsanScope tsan(self); /* a streaming thread: before anything of it is read */
  Inner& in = *self->inner;
  Messages messages(GST_ELEMENT(self));
  std::unique_lock<std::mutex> lk(in.lock);
  Input* c = input_of(in, pad);
  if (!c) {
    lk.unlock();
    return gst_pad_event_default(pad, parent, event);
  }
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_CAPS: {
      GstCaps* caps;
      gst_event_parse_caps(event, &caps);
      GstAudioInfo info;
      const char* why = nullptr;
      if (!prosody_gst::parse_audio_caps(caps, &info, &why)) {
        lk.unlock();
        GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("%s: %s", GST_PAD_NAME(pad), why), (nullptr));
        gst_event_unref(event);
        return FALSE;
      }
      const guint rate = guint(GST_AUDIO_INFO_RATE(&info));
      if (in.rate != 0 && rate != in.rate) {
        lk.unlock();
        GST_ELEMENT_ERROR(self, CORE, NEGOTIATION,
                          ("%s: %u Hz, but the file is at %u Hz: every pad must have the same rate", GST_PAD_NAME(pad),
                           rate, in.rate),
                          (nullptr));
        gst_event_unref(event);
        return FALSE;
      }
      c->format = prosody_gst::sample_format_of(&info);
      c->have_caps = true;
      if (in.rate == 0 && in.started) {
        in.rate = rate;
        in.frame_samples = rate / 100; /* 10 ms frames */
        prosody::RecordRules rules;
        rules.silence_level_dbm0 = in.s.silence_level;
        rules.max_elapsed_ms = std::uint32_t(in.s.max_duration / GST_MSECOND);
        rules.max_silence_ms = std::uint32_t(in.s.max_silence / GST_MSECOND);
        rules.max_initial_silence_ms = std::uint32_t(in.s.max_initial_silence / GST_MSECOND);
        rules.silence_elimination_ms = std::uint32_t(in.s.silence_elimination / GST_MSECOND);
        in.gate = std::make_unique<prosody::RecordGate>(rules, rate, in.frame_samples, guint(in.channels.size()));
        if (!open_file(self, in, messages)) {
          finish(self, in, "error", messages);
          gst_event_unref(event);
          return FALSE;
        }
      }
      gst_event_unref(event);
      return TRUE;
    }
    case GST_EVENT_SEGMENT: {
      const GstSegment* seg;
      gst_event_parse_segment(event, &seg);
      if (seg->format != GST_FORMAT_TIME) {
        lk.unlock();
        GST_ELEMENT_ERROR(self, STREAM, FORMAT, ("%s: segment not in time", GST_PAD_NAME(pad)), (nullptr));
        gst_event_unref(event);
        return FALSE;
      }
      gst_segment_copy_into(seg, &c->segment);
      c->timeline.resync();
      gst_event_unref(event);
      return TRUE;
    }
    case GST_EVENT_GAP: {
      GstClockTime ts, dur;
      gst_event_parse_gap(event, &ts, &dur);
      if (in.rate && in.start_known && GST_CLOCK_TIME_IS_VALID(ts) && GST_CLOCK_TIME_IS_VALID(dur)) {
        const GstClockTime rt = gst_segment_to_running_time(&c->segment, GST_FORMAT_TIME, ts);
        if (GST_CLOCK_TIME_IS_VALID(rt) && rt >= in.start_rt)
          c->timeline.mark_missing(std::int64_t(prosody_gst::time_to_samples(rt - in.start_rt, in.rate)),
                                   prosody_gst::time_to_samples(dur, in.rate));
        process_frames(self, in, messages);
      }
      gst_event_unref(event);
      return TRUE;
    }
    case GST_EVENT_EOS:
      c->eos = true;
      c->timeline.end();
      if (in.writer) {
        process_frames(self, in, messages);
      } else {
        bool all = true;
        for (Input* ch : in.channels) all &= ch->eos;
        if (all) finish(self, in, "eos", messages); /* nothing was ever recorded */
      }
      gst_event_unref(event);
      return TRUE;
    case GST_EVENT_FLUSH_START:
      c->flushing = true;
      in.space.notify_all();
      gst_event_unref(event);
      return TRUE;
    case GST_EVENT_FLUSH_STOP:
      c->flushing = false;
      c->eos = false;
      c->timeline.flush();
      gst_event_unref(event);
      return TRUE;
    default:
      break;
  }
  lk.unlock();
  return gst_pad_event_default(pad, parent, event);
}

static gboolean sink_query(GstPad* pad, GstObject* parent, GstQuery* query) {
  ProsodyRecorder* self = PROSODY_RECORDER(parent);
  ProsodyTsanScope tsan(self); /* a streaming thread: before anything of it is read */
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
      GstCaps* caps = prosody_gst::caps_at_rate(pad, rate, filter);
      gst_query_set_caps_result(query, caps);
      gst_caps_unref(caps);
      return TRUE;
    }
    default:
      return gst_pad_query_default(pad, parent, query);
  }
}

static GstPad* request_new_pad(GstElement* element, GstPadTemplate* templ, const gchar* name, const GstCaps*) {
  ProsodyRecorder* self = PROSODY_RECORDER(element);
  Inner& in = *self->inner;
  std::unique_lock<std::mutex> lk(in.lock);
  if (in.started) {
    lk.unlock();
    /* The file's channels are fixed once it is being written. */
    GST_ELEMENT_WARNING(self, CORE, PAD,
                        ("A pad was requested while recording: the file's channels are the pads present at "
                         "READY->PAUSED; request every sink_%%u pad before starting"),
                        (nullptr));
    return nullptr;
  }
  guint index = 0;
  if (name && std::sscanf(name, "sink_%u", &index) == 1) {
    if (in.inputs.count(index)) return nullptr;
  } else {
    while (in.inputs.count(index)) ++index;
  }
  gchar* pad_name = g_strdup_printf("sink_%u", index);
  GstPad* pad = gst_pad_new_from_template(templ, pad_name);
  g_free(pad_name);
  gst_pad_set_chain_function(pad, sink_chain);
  gst_pad_set_event_function(pad, sink_event);
  gst_pad_set_query_function(pad, sink_query);
  GST_PAD_SET_PROXY_ALLOCATION(pad);
  auto input = std::make_unique<Input>();
  input->pad = pad;
  input->index = index;
  gst_segment_init(&input->segment, GST_FORMAT_TIME);
  in.inputs[index] = std::move(input);
  lk.unlock();
  gst_element_add_pad(element, pad);
  return pad;
}

static void release_pad(GstElement* element, GstPad* pad) {
  ProsodyRecorder* self = PROSODY_RECORDER(element);
  Inner& in = *self->inner;
  Messages messages(element);
  {
    std::lock_guard<std::mutex> lk(in.lock);
    for (auto it = in.inputs.begin(); it != in.inputs.end(); ++it) {
      if (it->second->pad != pad) continue;
      Input* c = it->second.get();
      const bool is_channel = std::find(in.channels.begin(), in.channels.end(), c) != in.channels.end();
      if (is_channel) {
        /* Its channel stays in the file, silent from here on. */
        c->pad = nullptr;
        c->eos = true;
        c->timeline.end();
        process_frames(self, in, messages);
      } else {
        in.inputs.erase(it);
      }
      break;
    }
  }
  gst_element_remove_pad(element, pad);
}

/* ---- Element ---- */

static GstStateChangeReturn change_state(GstElement* element, GstStateChange transition) {
  ProsodyRecorder* self = PROSODY_RECORDER(element);
  Inner& in = *self->inner;
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED) {
    Settings s;
    PROSODY_OBJECT_LOCK(self);
    s = in.props;
    PROSODY_OBJECT_UNLOCK(self);
    std::unique_lock<std::mutex> lk(in.lock);
    if (s.location.empty()) {
      lk.unlock();
      GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("No file name given: set the location property"), (nullptr));
      return GST_STATE_CHANGE_FAILURE;
    }
    if (in.inputs.empty()) {
      lk.unlock();
      GST_ELEMENT_ERROR(self, CORE, PAD, ("No sink pads: request a sink_%%u pad for each channel of the file"),
                        (nullptr));
      return GST_STATE_CHANGE_FAILURE;
    }
    std::string why;
    const prosody::FileFormat format = format_of(s.format);
    if (!prosody::file_format_supported(format, 8000, guint(in.inputs.size()), &why) &&
        !prosody::file_format_supported(format, 48000, guint(in.inputs.size()), &why)) {
      lk.unlock();
      GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS,
                        ("Format %s cannot record %zu channels: %s", prosody::file_format_name(format).c_str(),
                         in.inputs.size(), why.c_str()),
                        (nullptr));
      return GST_STATE_CHANGE_FAILURE;
    }
    /* An unwritable location fails now, not when the first audio comes. */
    const std::string first = file_path(s, 0);
    const int fd = ::open(first.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
      const int err = errno;
      lk.unlock();
      GST_ELEMENT_ERROR(self, RESOURCE, OPEN_WRITE,
                        ("Could not open \"%s\" for writing: %s", first.c_str(), std::strerror(err)), (nullptr));
      return GST_STATE_CHANGE_FAILURE;
    }
    ::close(fd);
    in.reset_stream();
    in.s = s;
    for (auto& kv : in.inputs) in.channels.push_back(kv.second.get());
    in.started = true;
  }
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    std::lock_guard<std::mutex> lk(in.lock);
    in.started = false;
    for (auto& kv : in.inputs) kv.second->flushing = true;
    in.space.notify_all();
  }
  const GstStateChangeReturn ret = GST_ELEMENT_CLASS(prosody_recorder_parent_class)->change_state(element, transition);
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    /* Stopped without EOS: the file is finished all the same. */
    Messages messages(element);
    std::lock_guard<std::mutex> lk(in.lock);
    if (in.writer && !in.done) {
      in.done = true;
      in.writer->close();
      GstStructure* s = file_structure("prosody-recorder-done", in);
      gst_structure_set(s, "reason", G_TYPE_STRING, "stopped", nullptr);
      messages.list.push_back(gst_message_new_element(GST_OBJECT(self), s));
    }
    /* Pads released while recording leave with the stream. */
    for (auto it = in.inputs.begin(); it != in.inputs.end();)
      it = it->second->pad ? std::next(it) : in.inputs.erase(it);
    in.reset_stream();
  }
  return ret;
}

static void set_property(GObject* object, guint id, const GValue* value, GParamSpec* pspec) {
  ProsodyRecorder* self = PROSODY_RECORDER(object);
  Settings& p = self->inner->props;
  PROSODY_OBJECT_LOCK(self);
  switch (id) {
    case PROP_LOCATION:
      p.location = g_value_get_string(value) ? g_value_get_string(value) : "";
      break;
    case PROP_FORMAT:
      p.format = g_value_get_enum(value);
      break;
    case PROP_MAX_DURATION:
      p.max_duration = g_value_get_uint64(value);
      break;
    case PROP_MAX_SILENCE:
      p.max_silence = g_value_get_uint64(value);
      break;
    case PROP_MAX_INITIAL_SILENCE:
      p.max_initial_silence = g_value_get_uint64(value);
      break;
    case PROP_MAX_BYTES:
      p.max_bytes = g_value_get_uint64(value);
      break;
    case PROP_SILENCE_ELIMINATION:
      p.silence_elimination = g_value_get_uint64(value);
      break;
    case PROP_SILENCE_LEVEL:
      p.silence_level = g_value_get_double(value);
      break;
    case PROP_SPLIT_DURATION:
      p.split_duration = g_value_get_uint64(value);
      break;
    case PROP_SPLIT_BYTES:
      p.split_bytes = g_value_get_uint64(value);
      break;
    case PROP_SYNC_INTERVAL:
      p.sync_interval = g_value_get_uint64(value);
      break;
    case PROP_PROGRESS_INTERVAL:
      p.progress_interval = g_value_get_uint64(value);
      break;
    case PROP_MAX_LAG:
      p.max_lag = g_value_get_uint64(value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
      break;
  }
  PROSODY_OBJECT_UNLOCK(self);
}

static void get_property(GObject* object, guint id, GValue* value, GParamSpec* pspec) {
  ProsodyRecorder* self = PROSODY_RECORDER(object);
  const Settings& p = self->inner->props;
  PROSODY_OBJECT_LOCK(self);
  switch (id) {
    case PROP_LOCATION:
      g_value_set_string(value, p.location.c_str());
      break;
    case PROP_FORMAT:
      g_value_set_enum(value, p.format);
      break;
    case PROP_MAX_DURATION:
      g_value_set_uint64(value, p.max_duration);
      break;
    case PROP_MAX_SILENCE:
      g_value_set_uint64(value, p.max_silence);
      break;
    case PROP_MAX_INITIAL_SILENCE:
      g_value_set_uint64(value, p.max_initial_silence);
      break;
    case PROP_MAX_BYTES:
      g_value_set_uint64(value, p.max_bytes);
      break;
    case PROP_SILENCE_ELIMINATION:
      g_value_set_uint64(value, p.silence_elimination);
      break;
    case PROP_SILENCE_LEVEL:
      g_value_set_double(value, p.silence_level);
      break;
    case PROP_SPLIT_DURATION:
      g_value_set_uint64(value, p.split_duration);
      break;
    case PROP_SPLIT_BYTES:
      g_value_set_uint64(value, p.split_bytes);
      break;
    case PROP_SYNC_INTERVAL:
      g_value_set_uint64(value, p.sync_interval);
      break;
    case PROP_PROGRESS_INTERVAL:
      g_value_set_uint64(value, p.progress_interval);
      break;
    case PROP_MAX_LAG:
      g_value_set_uint64(value, p.max_lag);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
      break;
  }
  PROSODY_OBJECT_UNLOCK(self);
}

static void finalize(GObject* object) {
  PROSODY_TSAN_ACQUIRE(object); /* what the streaming threads did last */
  delete PROSODY_RECORDER(object)->inner;
  G_OBJECT_CLASS(prosody_recorder_parent_class)->finalize(object);
}

static void prosody_recorder_class_init(ProsodyRecorderClass* klass) {
  GObjectClass* gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);
  gobject_class->set_property = set_property;
  gobject_class->get_property = get_property;
  gobject_class->finalize = finalize;
  element_class->change_state = change_state;
  element_class->request_new_pad = request_new_pad;
  element_class->release_pad = release_pad;

  const auto rw = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  const auto time_prop = [&](guint id, const char* name, const char* nick, const char* blurb, guint64 def) {
    g_object_class_install_property(gobject_class, id, g_param_spec_uint64(name, nick, blurb, 0, G_MAXUINT64, def, rw));
  };
  g_object_class_install_property(
      gobject_class, PROP_LOCATION,
      g_param_spec_string("location", "Location",
                          "The file to record to. With a printf pattern (\"call-%03u.wav\") the files are numbered "
                          "from 0; when splitting without one, \"-NNNNN\" goes before the extension",
                          nullptr, rw));
  g_object_class_install_property(
      gobject_class, PROP_FORMAT,
      g_param_spec_enum("format", "Format",
                        "Container and encoding: wav (16-bit PCM), wav-alaw, wav-ulaw, wav-ima-adpcm, au..., raw..., "
                        "vox (OKI ADPCM, mono), flac, opus (Ogg/Opus)",
                        PROSODY_TYPE_RECORDER_FORMAT, 0, rw));
  time_prop(PROP_MAX_DURATION, "max-duration", "Maximum duration",
            "Stop recording after this much audio has come in (ns, 0 = no limit); reason \"time\"", 0);
  time_prop(PROP_MAX_SILENCE, "max-silence", "Maximum silence",
            "Stop after this much silence following sound (ns, 0 = no limit); reason \"silence\"", 0);
  time_prop(PROP_MAX_INITIAL_SILENCE, "max-initial-silence", "Maximum initial silence",
            "Stop if nothing but silence came for this long from the start (ns, 0 = no limit); reason \"silence\"", 0);
  g_object_class_install_property(
      gobject_class, PROP_MAX_BYTES,
      g_param_spec_uint64("max-bytes", "Maximum bytes",
                          "Stop once the file holds this many bytes (0 = no limit); reason \"length\"", 0, G_MAXUINT64,
                          0, rw));
  time_prop(PROP_SILENCE_ELIMINATION, "silence-elimination", "Silence elimination",
            "Cut silences down to this much after sound and this much before it, so onsets are kept (ns, 0 = off, "
            "at most 1 s)",
            0);
  g_object_class_install_property(
      gobject_class, PROP_SILENCE_LEVEL,
      g_param_spec_double("silence-level", "Silence level",
                          "A frame whose loudest channel is below this level (dBm0) is silence", -90.0, 3.0, -45.0,
                          rw));
  time_prop(PROP_SPLIT_DURATION, "split-duration", "Split duration",
            "Start a new numbered file after this much audio (ns, 0 = never)", 0);
  g_object_class_install_property(gobject_class, PROP_SPLIT_BYTES,
                                  g_param_spec_uint64("split-bytes", "Split bytes",
                                                      "Start a new numbered file once one holds this many bytes "
                                                      "(0 = never)",
                                                      0, G_MAXUINT64, 0, rw));
  time_prop(PROP_SYNC_INTERVAL, "sync-interval", "Sync interval",
            "How often the file's header is made true (ns): at most this much audio, plus one encoder block (FLAC: "
            "40 ms), is lost if the process dies. 0 = after every write",
            kDefaultSyncInterval);
  time_prop(PROP_PROGRESS_INTERVAL, "progress-interval", "Progress interval",
            "How often a prosody-recorder-progress message is posted (ns of audio, 0 = never)",
            kDefaultProgressInterval);
  time_prop(PROP_MAX_LAG, "max-lag", "Maximum lag",
            "Live pipelines: how far ahead one pad's audio may be of another pad that sends nothing before that "
            "pad's channel is written as silence (ns). Not live: how far a pad may run ahead before it waits",
            kDefaultMaxLag);

  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_set_static_metadata(
      element_class, "Prosody crash-safe recorder", "Sink/Audio/File",
      "Records its sink pads into one sound file, one channel per pad, through libsndfile: the file is valid at "
      "every moment (a killed process loses at most sync-interval); silence elimination and limits as Prosody's "
      "record job; posts prosody-recorder-progress, -file and -done messages",
      "Prosody for GStreamer");
}

static void prosody_recorder_init(ProsodyRecorder* self) {
  self->inner = new Inner;
  GST_OBJECT_FLAG_SET(self, GST_ELEMENT_FLAG_SINK);
  PROSODY_TSAN_RELEASE(self);
}
