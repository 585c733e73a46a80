/* prosodytonesuppress.cpp - the element: input placed on a Timeline, run
 * through a prosody::ToneSuppressor, written back over the input buffer and
 * handed out by generate_output; its events posted as bus messages.
 */
/**
 * SECTION:element-prosodytonesuppress
 * @title: prosodytonesuppress
 * @short_description: detects DTMF, call-progress and fax tones, reports
 *   them on the bus and removes them from the audio
 * @see_also: dtmfdetect, dtmfsrc, rtpdtmfdepay, level, prosodyconfmix
 *
 * A filter on mono S16LE or F32LE audio at 8000, 16000, 32000 or 48000 Hz.
 * It analyses the undelayed input, posts a dtmf-event (digits) or
 * prosody-tone (call-progress and fax tones) element message at the start
 * and at the end of every tone, timed by the tone's own samples, and, with
 * suppress=TRUE, mutes each tone in the output; away from tones the output
 * is bit-identical to the input. With lookahead=L (up to 16 ms) the output
 * is the input delayed by L, stamped with its own timestamps, and L is the
 * element's latency. Lost audio (a timestamp jump, a GAP buffer or event, up
 * to 100 ms) is concealed, so a digit across a loss is one digit; longer
 * jumps, EOS, a flush and new caps end the stream, and every tone in
 * progress gets its end message. docs/prosodytonesuppress.md has the
 * message fields and the rules in full.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 -m filesrc location=call.wav ! wavparse ! audioconvert ! \
 *   audioresample ! audio/x-raw,rate=8000,channels=1 ! prosodytonesuppress ! \
 *   audioconvert ! wavenc ! filesink location=clean.wav
 * ]| Digits posted as dtmf-event messages (-m prints them) and removed
 * from clean.wav.
 * |[
 * gst-launch-1.0 -m audiotestsrc wave=silence num-buffers=100 ! \
 *   audio/x-raw,rate=16000,channels=1,format=S16LE ! \
 *   prosodytonesuppress tone-set=call-progress cptone-recognition=true \
 *   suppress=false ! fakesink
 * ]| Call-progress and fax tones reported, the audio left untouched.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "prosodytonesuppress.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <vector>

#include "prosodyelementsupport.h"
#include "prosodytsan.h"

GST_DEBUG_CATEGORY_STATIC(prosody_tone_suppress_debug);
#define GST_CAT_DEFAULT prosody_tone_suppress_debug

#define DEFAULT_TONE_SET PROSODY_TONE_SUPPRESS_TONE_SET_DTMF
#define DEFAULT_REPORT PROSODY_TONE_SUPPRESS_REPORT_START_AND_END
#define DEFAULT_MIN_DURATION PROSODY_TONE_SUPPRESS_MIN_DURATION_NONE
#define DEFAULT_SUPPRESS TRUE
#define DEFAULT_LOOKAHEAD 0
#define MAX_LOOKAHEAD (16 * GST_MSECOND)
#define DEFAULT_STANDARD PROSODY_TONE_SUPPRESS_STANDARD_Q24
#define DEFAULT_TWIST_NORMAL 8.0
#define DEFAULT_TWIST_REVERSE 4.0
#define DEFAULT_CPTONE_RECOGNITION FALSE
#define DEFAULT_POST_MESSAGES TRUE

enum {
  PROP_0,
  PROP_TONE_SET,
  PROP_REPORT,
  PROP_MIN_DURATION,
  PROP_SUPPRESS,
  PROP_LOOKAHEAD,
  PROP_STANDARD,
  PROP_TWIST_NORMAL,
  PROP_TWIST_REVERSE,
  PROP_CPTONE_RECOGNITION,
  PROP_POST_MESSAGES,
  PROP_STATS,
};

/* ---- Enums ---- */

GType prosody_tone_suppress_tone_set_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {PROSODY_TONE_SUPPRESS_TONE_SET_DTMF, "DTMF digits (dtmf-event messages)", "dtmf"},
      {PROSODY_TONE_SUPPRESS_TONE_SET_CALL_PROGRESS,
       "Call-progress and fax tones of tone set 1 (prosody-tone messages)", "call-progress"},
      {0, nullptr, nullptr}};
  if (g_once_init_enter(&type)) g_once_init_leave(&type, g_enum_register_static("ProsodyToneSuppressToneSet", values));
  return type;
}

GType prosody_tone_suppress_report_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {PROSODY_TONE_SUPPRESS_REPORT_START_AND_END, "A message at the start and one at the end of each tone",
       "start-and-end"},
      {PROSODY_TONE_SUPPRESS_REPORT_START, "Start messages only", "start"},
      {PROSODY_TONE_SUPPRESS_REPORT_END, "End messages only (with the duration)", "end"},
      {0, nullptr, nullptr}};
  if (g_once_init_enter(&type)) g_once_init_leave(&type, g_enum_register_static("ProsodyToneSuppressReport", values));
  return type;
}

GType prosody_tone_suppress_min_duration_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {PROSODY_TONE_SUPPRESS_MIN_DURATION_NONE, "The standard's guard time only (about 27 ms)", "none"},
      {PROSODY_TONE_SUPPRESS_MIN_DURATION_40MS, "At least 40 ms", "40ms"},
      {PROSODY_TONE_SUPPRESS_MIN_DURATION_64MS, "At least 64 ms", "64ms"},
      {0, nullptr, nullptr}};
  if (g_once_init_enter(&type))
    g_once_init_leave(&type, g_enum_register_static("ProsodyToneSuppressMinDuration", values));
  return type;
}

GType prosody_tone_suppress_standard_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {PROSODY_TONE_SUPPRESS_STANDARD_Q24, "ITU-T Q.24 (AT&T): 26 ms to qualify, breaks to 25 ms bridged", "q24"},
      {PROSODY_TONE_SUPPRESS_STANDARD_ETSI, "ETSI ES 201 235-3: 24 ms to qualify, breaks to 30 ms bridged", "etsi"},
      {0, nullptr, nullptr}};
  if (g_once_init_enter(&type)) g_once_init_leave(&type, g_enum_register_static("ProsodyToneSuppressStandard", values));
  return type;
}

/* ---- Instance ---- */

namespace {

using prosody::SampleFormat;
using prosody_gst::Timeline;

/* A lost stretch up to this long is concealed (the detector bridges it);
 * a longer one, or a jump back this far, starts a new stream. */
constexpr GstClockTime kMaxConceal = 100 * GST_MSECOND;
/* Without DISCONT, timestamps closer than this to the sample count are
 * jitter, not loss: the timeline's alignment threshold. */
constexpr GstClockTime kJitter = GST_MSECOND;

/* Property values. */
struct Settings {
  gint tone_set = DEFAULT_TONE_SET;
  gint report = DEFAULT_REPORT;
  gint min_duration = DEFAULT_MIN_DURATION;
  gboolean suppress = DEFAULT_SUPPRESS;
  guint64 lookahead = DEFAULT_LOOKAHEAD;
  gint standard = DEFAULT_STANDARD;
  gdouble twist_normal = DEFAULT_TWIST_NORMAL;
  gdouble twist_reverse = DEFAULT_TWIST_REVERSE;
  gboolean cptone_recognition = DEFAULT_CPTONE_RECOGNITION;
  gboolean post_messages = DEFAULT_POST_MESSAGES;
};

/* Counters besides the timeline's (which has the overlaps and losses). */
struct Stats {
  guint64 buffers = 0;
  guint64 samples = 0;           /* analysed */
  guint64 sanitised_samples = 0; /* NaN / inf replaced by 0 */
  guint64 streams = 0;           /* (re)starts of the detector */
  guint64 digits = 0;
  guint64 tones = 0;
};

/* What the streaming thread hands on once stream_lock is released. */
struct Outbox {
  std::vector<GstStructure*> messages;
  bool latency_changed = false;
  std::vector<GstBuffer*> buffers; /* to push (from an event) */
};

}  // namespace

struct ProsodyToneSuppressInner {
  ~ProsodyToneSuppressInner() {
    for (std::size_t i = output_head; i < output.size(); ++i) gst_buffer_unref(output[i]);
    for (GstStructure* s : messages) gst_structure_free(s);
  }

  /* Locks are std::mutex, not the object lock or GStreamer's stream lock,
   * so that ThreadSanitizer sees them (it cannot see GLib's futexes).
   * Order: stream_lock, then props_lock. Neither is held while pushing or
   * posting. */
  std::mutex props_lock;
  std::mutex stream_lock;

  /* Protected by props_lock (props_changed is also read without it, so
   * that a buffer with nothing changed costs no lock). */
  Settings props;
  std::atomic<bool> props_changed{true};
  GstClockTime latency = 0; /* what the LATENCY query adds */
  bool negotiated = false;  /* latency follows the applied look-ahead */

  /* Streaming state: protected by stream_lock (the streaming thread, and
   * start / stop / the stats property). Positions are samples of running
   * time. */
  Settings applied;
  std::unique_ptr<prosody::ToneSuppressor> ts;
  guint rate = 0;
  SampleFormat format = SampleFormat::s16;
  std::size_t delay = 0;         /* look-ahead in samples, as applied */
  std::uint64_t max_jump = 0;    /* kMaxConceal in samples */
  bool decrease_pending = false; /* waits until no tone is being removed */
  bool latency_changed = false;  /* a latency message to post */
  Timeline timeline;
  bool timed = false;       /* the stream's positions come from timestamps */
  std::int64_t origin = 0;  /* position of the detector's sample 0 */
  std::int64_t out_pos = 0; /* content position of the next output sample */
  /* The input buffer being processed: its output is written over it and
   * leaves as samples [in_place_offset, + in_place_count) of it. */
  GstBuffer* current = nullptr;
  GstMapInfo current_map{}; /* while the timeline holds it */
  std::size_t current_samples = 0;
  std::size_t in_place_offset = 0, in_place_count = 0;
  std::int64_t in_place_content = 0;
  prosody_gst::TimelineFrame frame;
  std::vector<float> work;
  prosody_gst::RecentInput history;
  std::vector<prosody::ToneEvent> events;
  std::vector<GstStructure*> messages;
  std::vector<GstBuffer*> output; /* for generate_output, from output_head on */
  std::size_t output_head = 0;
  Stats stats;
};

struct _ProsodyToneSuppress {
  GstAudioFilter parent;
  ProsodyToneSuppressInner* inner;
};

G_DEFINE_TYPE_WITH_CODE(ProsodyToneSuppress, prosody_tone_suppress, GST_TYPE_AUDIO_FILTER,
                        GST_DEBUG_CATEGORY_INIT(prosody_tone_suppress_debug, "prosodytonesuppress", 0,
                                                "Prosody tone detector and suppressor"));

GST_ELEMENT_REGISTER_DEFINE(prosodytonesuppress, "prosodytonesuppress", GST_RANK_NONE, PROSODY_TYPE_TONE_SUPPRESS);

/* ---- Helpers (streaming thread, stream_lock held, unless noted) ---- */

static prosody::ListenSettings listen_settings(const Settings& s) {
  prosody::ListenSettings ls;
  ls.enabled = true;
  ls.report = prosody::ToneReport::with_length; /* unused by ToneSuppressor */
  switch (s.min_duration) {
    case PROSODY_TONE_SUPPRESS_MIN_DURATION_40MS:
      ls.min_duration = prosody::ToneMinDuration::ms40;
      break;
    case PROSODY_TONE_SUPPRESS_MIN_DURATION_64MS:
      ls.min_duration = prosody::ToneMinDuration::ms64;
      break;
    default:
      ls.min_duration = prosody::ToneMinDuration::none;
      break;
  }
  ls.tone_set = s.tone_set == PROSODY_TONE_SUPPRESS_TONE_SET_CALL_PROGRESS;
  ls.map_to_digits = true;
  ls.cptone_recognition = s.cptone_recognition;
  ls.standard =
      s.standard == PROSODY_TONE_SUPPRESS_STANDARD_ETSI ? prosody::DtmfStandard::etsi : prosody::DtmfStandard::q24;
  ls.twist_normal_db = s.twist_normal;
  ls.twist_reverse_db = s.twist_reverse;
  ls.suppress = s.suppress;
  ls.lookahead_us = static_cast<unsigned>(std::min(s.lookahead, (guint64)MAX_LOOKAHEAD) / GST_USECOND);
  return ls;
}

/* Timeline position of a timestamp in the current segment. */
static std::int64_t position_of_pts(ProsodyToneSuppress* self, GstClockTime pts) {
  const GstSegment& seg = GST_BASE_TRANSFORM(self)->segment;
  if (seg.format != GST_FORMAT_TIME || !GST_CLOCK_TIME_IS_VALID(pts)) return Timeline::kNoPosition;
  return prosody_gst::position_of(gst_segment_to_running_time(&seg, GST_FORMAT_TIME, pts), self->inner->rate);
}

/* Buffer, running and stream time of a position. */
static prosody_gst::ToneTimes times_at(ProsodyToneSuppress* self, std::int64_t pos) {
  ProsodyToneSuppressInner& in = *self->inner;
  const GstSegment& seg = GST_BASE_TRANSFORM(self)->segment;
  prosody_gst::ToneTimes t;
  if (!in.timed || seg.format != GST_FORMAT_TIME) return t;
  t.running_time = prosody_gst::running_time_of(pos, in.rate);
  if (!GST_CLOCK_TIME_IS_VALID(t.running_time)) return t;
  t.timestamp = gst_segment_position_from_running_time(&seg, GST_FORMAT_TIME, t.running_time);
  t.stream_time = gst_segment_to_stream_time(&seg, GST_FORMAT_TIME, t.timestamp);
  return t;
}

/* An input buffer other threads may still hold (a tee): what this thread
 * did with it comes before what they do once our reference is gone. */
static void drop_input(GstBuffer* buf) {
  PROSODY_TSAN_RELEASE(buf);
  gst_buffer_unref(buf);
}
static GstBuffer* writable(GstBuffer* buf) {
  PROSODY_TSAN_RELEASE(buf);
  return gst_buffer_make_writable(buf);
}

static float* work_buffer(ProsodyToneSuppressInner& in, std::size_t n) {
  if (in.work.size() < n) in.work.resize(n);
  return in.work.data();
}

/* The detector's events so far, as messages timed by their own samples. */
static void collect_events(ProsodyToneSuppress* self) {
  ProsodyToneSuppressInner& in = *self->inner;
  const gint mode = in.applied.report;
  for (const prosody::ToneEvent& e : in.events) {
    if (!e.is_end) ++(e.type == prosody::RecognitionType::digit ? in.stats.digits : in.stats.tones);
    if (!in.applied.post_messages || (e.is_end && mode == PROSODY_TONE_SUPPRESS_REPORT_START) ||
        (!e.is_end && mode == PROSODY_TONE_SUPPRESS_REPORT_END))
      continue;
    prosody_gst::ToneTimes t = times_at(self, in.origin + std::int64_t(e.is_end ? e.end_sample : e.start_sample));
    if (e.is_end)
      t.duration =
          prosody_gst::samples_to_time(e.end_sample > e.start_sample ? e.end_sample - e.start_sample : 0, in.rate);
    if (GstStructure* s = prosody_gst::tone_event_structure(e, t)) in.messages.push_back(s);
  }
  in.events.clear();
}

static void stamp(ProsodyToneSuppress* self, GstBuffer* buf, std::int64_t content, std::size_t n) {
  GST_BUFFER_PTS(buf) = times_at(self, content).timestamp;
  GST_BUFFER_DURATION(buf) = prosody_gst::samples_to_time(n, self->inner->rate);
  GST_BUFFER_OFFSET(buf) = GST_BUFFER_OFFSET_NONE;
  GST_BUFFER_OFFSET_END(buf) = GST_BUFFER_OFFSET_NONE;
}

/* Output content [content, content + n), held in x, as a buffer of its own. */
static void queue_output(ProsodyToneSuppress* self, std::int64_t content, const float* x, std::size_t n) {
  if (n == 0) return;
  GstBuffer* buf = prosody_gst::new_audio_buffer(x, n, self->inner->format);
  stamp(self, buf, content, n);
  self->inner->output.push_back(buf);
}

/* The detector's output for input [pos, pos + n) is content
 * [pos - delay, pos + n - delay); what lies before out_pos was sent already
 * (or is the silence before the stream began). Returns how many samples at
 * the front to leave out, and advances out_pos. */
static std::size_t output_trim(ProsodyToneSuppressInner& in, std::int64_t pos, std::size_t n) {
  const std::int64_t from = pos - std::int64_t(in.delay);
  const std::int64_t trim = std::max<std::int64_t>(in.out_pos - from, 0);
  in.out_pos = std::max(in.out_pos, from + std::int64_t(n));
  return std::size_t(std::min<std::int64_t>(trim, std::int64_t(n)));
}

/* Input audio at pos, a piece of the current buffer: analysed, and the
 * output written over it. */
static void process_piece(ProsodyToneSuppress* self, std::int64_t pos, const prosody::FramePiece& piece) {
  ProsodyToneSuppressInner& in = *self->inner;
  const std::size_t n = piece.count;
  void* data = const_cast<void*>(piece.samples); /* the current buffer, mapped for writing */
  float* x;
  if (in.format == SampleFormat::f32) {
    x = static_cast<float*>(data);
    in.stats.sanitised_samples += prosody_gst::sanitise_samples(x, n);
  } else {
    x = work_buffer(in, n);
    prosody::s16_to_float(static_cast<const std::int16_t*>(data), x, n);
  }
  if (in.delay > 0 || in.applied.lookahead > 0) in.history.add(pos, x, n);
  in.ts->process(x, x, n, in.events);
  in.stats.samples += n;
  /* Most S16 blocks come out as they went in: then nothing to write. */
  if (in.format == SampleFormat::s16 && !in.ts->last_block_unchanged())
    prosody::float_to_s16(x, static_cast<std::int16_t*>(data), n);
  const std::size_t trim = output_trim(in, pos, n);
  const std::size_t offset = std::size_t(static_cast<const guint8*>(piece.samples) - in.current_map.data) /
                             prosody_gst::bytes_per_sample(in.format);
  in.in_place_offset = offset + trim;
  in.in_place_count = n - trim;
  in.in_place_content = pos - std::int64_t(in.delay) + std::int64_t(trim);
  collect_events(self);
}

/* n samples at pos are lost: the detector bridges them; with look-ahead the
 * delayed audio before the loss still comes out (then silence). */
static void process_missing(ProsodyToneSuppress* self, std::int64_t pos, std::size_t n) {
  ProsodyToneSuppressInner& in = *self->inner;
  if (in.delay > 0 || in.applied.lookahead > 0) in.history.add(pos, nullptr, n);
  if (in.delay == 0) {
    in.ts->conceal(n, in.events);
    in.out_pos = std::max(in.out_pos, pos + std::int64_t(n));
  } else {
    float* y = work_buffer(in, n);
    in.ts->conceal(n, y, in.events);
    const std::size_t trim = output_trim(in, pos, n);
    queue_output(self, pos - std::int64_t(in.delay) + std::int64_t(trim), y + trim, n - trim);
  }
  collect_events(self);
}

/* The timeline is done with the current buffer: it may be cut now. */
static void unmap_current(void* inner) {
  auto& in = *static_cast<ProsodyToneSuppressInner*>(inner);
  gst_buffer_unmap(in.current, &in.current_map);
}

/* Runs the detector over everything placed on the timeline, in order. What
 * the current buffer's samples became leaves in that buffer. */
static void process_placed(ProsodyToneSuppress* self) {
  ProsodyToneSuppressInner& in = *self->inner;
  in.in_place_count = 0;
  while (const std::uint64_t n = in.timeline.available()) {
    in.timeline.take(std::uint32_t(std::min<std::uint64_t>(n, G_MAXINT32)), in.frame);
    const std::int64_t first = in.frame.first;
    prosody_gst::for_each_run(
        in.frame, [&](const prosody::FramePiece& p) { process_piece(self, first + p.offset, p); },
        [&](std::uint32_t offset, std::uint32_t count) { process_missing(self, first + offset, count); });
    in.timeline.release_taken();
  }
  GstBuffer* buf = in.current;
  in.current = nullptr;
  if (!buf) return;
  if (in.in_place_count == 0) {
    drop_input(buf); /* wholly dropped, or before the stream began */
    return;
  }
  /* Unmapped (the timeline let go of it): it can be cut. */
  if (in.delay > 0 || in.in_place_count != in.current_samples) {
    const gsize bps = prosody_gst::bytes_per_sample(in.format);
    gst_buffer_resize(buf, gssize(in.in_place_offset * bps), gssize(in.in_place_count * bps));
    stamp(self, buf, in.in_place_content, in.in_place_count);
  } /* else: the timestamps stay as they came */
  in.output.push_back(buf);
}

/* Forgets the stream: the next placement starts a new one. */
static void reset_stream(ProsodyToneSuppressInner& in) {
  if (in.ts) in.ts->reset();
  in.timeline.reset();
  in.events.clear();
  in.history.clear();
}

/* The stream ends (EOS, a jump, new caps, a long gap, a flush): tones in
 * progress end where it stopped and are reported, so every start gets its
 * end; the look-ahead's last samples are sent unless they are flushed. */
static void drain(ProsodyToneSuppress* self, bool send_tail = true) {
  ProsodyToneSuppressInner& in = *self->inner;
  if (in.ts && in.timeline.started()) {
    const std::int64_t end = in.timeline.read_position();
    float* tail = work_buffer(in, std::max<std::size_t>(in.delay, 1));
    in.ts->finish(tail, in.events);
    collect_events(self);
    if (in.delay > 0 && send_tail) {
      const std::size_t trim = output_trim(in, end, in.delay);
      GST_DEBUG_OBJECT(self, "draining %" G_GSIZE_FORMAT " samples", in.delay - trim);
      queue_output(self, end - std::int64_t(in.delay) + std::int64_t(trim), tail + trim, in.delay - trim);
    }
  }
  reset_stream(in);
}

/* Before data or a loss at position: a jump of more than kMaxConceal from
 * where the stream was going ends the stream. */
static void end_stream_on_jump(ProsodyToneSuppress* self, std::int64_t position) {
  ProsodyToneSuppressInner& in = *self->inner;
  const std::int64_t expected = in.timeline.contiguous_position();
  if (position == Timeline::kNoPosition || expected == Timeline::kNoPosition) return;
  const std::int64_t jump = position - expected;
  if (std::uint64_t(std::llabs(jump)) <= in.max_jump) return;
  GST_DEBUG_OBJECT(self, "a jump of %" G_GINT64_FORMAT " samples: a new stream", jump);
  drain(self);
}

/* After a placement: if it started the timeline, a stream starts there. */
static void note_stream_start(ProsodyToneSuppress* self, bool was_started, std::int64_t position) {
  ProsodyToneSuppressInner& in = *self->inner;
  if (was_started || !in.timeline.started()) return;
  in.origin = in.out_pos = in.timeline.read_position();
  in.timed = position != Timeline::kNoPosition;
  ++in.stats.streams;
  GST_DEBUG_OBJECT(self, "stream starts at sample %" G_GINT64_FORMAT, in.origin);
}

/* count samples at position are lost (a GAP buffer or event). */
static prosody_gst::Placement lose(ProsodyToneSuppress* self, std::int64_t position, std::uint64_t count) {
  ProsodyToneSuppressInner& in = *self->inner;
  end_stream_on_jump(self, position);
  const bool was_started = in.timeline.started();
  const prosody_gst::Placement p = in.timeline.mark_missing(position, count);
  note_stream_start(self, was_started, position);
  process_placed(self);
  return p;
}

/* Takes the property values into the ToneSuppressor. A shorter look-ahead
 * would skip delayed samples, so it waits until no tone is being removed,
 * and those samples (unity gain then) are sent from the history. */
static void apply_settings(ProsodyToneSuppress* self) {
  ProsodyToneSuppressInner& in = *self->inner;
  if (!in.props_changed.load(std::memory_order_acquire) && !in.decrease_pending) return;
  in.props_lock.lock();
  in.applied = in.props;
  in.props_changed = false;
  in.props_lock.unlock();
  if (!in.ts) return;
  prosody::ListenSettings ls = listen_settings(in.applied);
  const std::size_t want = (std::size_t)std::llround(double(ls.lookahead_us) * in.rate / 1e6);
  if (want < in.delay && in.timeline.started()) {
    if (in.ts->suppressing()) {
      ls.lookahead_us = in.ts->settings().lookahead_us;
      in.decrease_pending = true;
      in.ts->configure(ls);
      return;
    }
    const std::int64_t read = in.timeline.read_position();
    const std::int64_t from = std::max(in.out_pos, read - std::int64_t(in.delay));
    const std::int64_t to = read - std::int64_t(want);
    if (to > from) {
      float* x = work_buffer(in, std::size_t(to - from));
      in.history.copy(from, to, x);
      queue_output(self, from, x, std::size_t(to - from));
      in.out_pos = to;
    }
  }
  in.decrease_pending = false;
  in.ts->configure(ls);
  const std::size_t old_delay = in.delay;
  in.delay = in.ts->latency_samples();
  if (in.delay != old_delay) {
    in.props_lock.lock();
    in.latency = prosody_gst::samples_to_time(in.delay, in.rate);
    in.props_lock.unlock();
    GST_INFO_OBJECT(self, "look-ahead now %" G_GSIZE_FORMAT " samples", in.delay);
    in.latency_changed = true;
  }
}

static Outbox take_outbox(ProsodyToneSuppressInner& in, bool with_buffers) {
  Outbox box;
  box.messages.swap(in.messages);
  box.latency_changed = in.latency_changed;
  in.latency_changed = false;
  if (with_buffers) {
    box.buffers.assign(in.output.begin() + std::ptrdiff_t(in.output_head), in.output.end());
    in.output.clear();
    in.output_head = 0;
  }
  return box;
}

/* Posts and pushes what the streaming thread left (no lock held). */
static void deliver(ProsodyToneSuppress* self, Outbox& box) {
  if (box.latency_changed) gst_element_post_message(GST_ELEMENT(self), gst_message_new_latency(GST_OBJECT(self)));
  for (GstStructure* s : box.messages) {
    GST_DEBUG_OBJECT(self, "%" GST_PTR_FORMAT, s);
    gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), s));
  }
  for (GstBuffer* buf : box.buffers) {
    PROSODY_TSAN_RELEASE(buf); /* downstream may read it in another thread */
    gst_pad_push(GST_BASE_TRANSFORM_SRC_PAD(self), buf);
  }
}

/* ---- GstBaseTransform / GstAudioFilter ---- */

static GstFlowReturn submit(ProsodyToneSuppress* self, GstBuffer* buf) {
  ProsodyToneSuppressInner& in = *self->inner;
  const gsize bps = prosody_gst::bytes_per_sample(in.format);
  const gsize size = gst_buffer_get_size(buf);
  if (size % bps != 0) {
    drop_input(buf);
    GST_ELEMENT_ERROR(
        self, STREAM, FORMAT, ("Broken audio buffer"),
        ("a buffer of %" G_GSIZE_FORMAT " bytes is not a whole number of %" G_GSIZE_FORMAT "-byte samples", size, bps));
    return GST_FLOW_ERROR;
  }
  apply_settings(self);
  const std::size_t n = size / bps;
  if (n == 0) {
    in.output.push_back(buf); /* an empty buffer passes as it is */
    return GST_FLOW_OK;
  }
  ++in.stats.buffers;
  const std::int64_t position = position_of_pts(self, GST_BUFFER_PTS(buf));

  if (GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_GAP)) {
    if (prosody_gst::samples_to_time(n, in.rate) > kMaxConceal) {
      drain(self); /* a long silence: the stream ends, and the gap passes */
      in.output.push_back(buf);
      return GST_FLOW_OK;
    }
    const prosody_gst::Placement p = lose(self, position, n);
    if (in.delay > 0 || p.kept == 0) {
      drop_input(buf); /* with look-ahead the loss left as audio */
      return GST_FLOW_OK;
    }
    /* Without look-ahead the output has the input's gap. */
    if (p.kept < n) {
      buf = writable(buf);
      gst_buffer_resize(buf, gssize((n - p.kept) * bps), gssize(p.kept * bps));
      stamp(self, buf, p.start + std::int64_t(n - p.kept), p.kept);
    }
    in.output.push_back(buf);
    return GST_FLOW_OK;
  }

  end_stream_on_jump(self, position);
  const bool was_started = in.timeline.started();
  buf = writable(buf); /* the output is written over it */
  const bool discont = GST_BUFFER_IS_DISCONT(buf);
  if (!gst_buffer_map(buf, &in.current_map, GST_MAP_READWRITE)) {
    drop_input(buf);
    GST_ELEMENT_ERROR(self, RESOURCE, FAILED, (nullptr), ("cannot map a buffer for writing"));
    return GST_FLOW_ERROR;
  }
  in.current = buf;
  in.current_samples = n;
  in.timeline.push(position, discont, in.current_map.data, in.current_map.size, in.format, &unmap_current, &in);
  note_stream_start(self, was_started, position);
  process_placed(self);
  return GST_FLOW_OK;
}

static GstFlowReturn prosody_tone_suppress_submit_input_buffer(GstBaseTransform* trans, gboolean, GstBuffer* buf) {
  ProsodyToneSuppress* self = PROSODY_TONE_SUPPRESS(trans);
  const ProsodyTsanScope streaming(self);
  PROSODY_TSAN_ACQUIRE(buf); /* written in place: earlier readers are done */
  ProsodyToneSuppressInner& in = *self->inner;
  GstFlowReturn ret;
  Outbox box;
  {
    std::lock_guard<std::mutex> lk(in.stream_lock);
    if (!in.ts) {
      drop_input(buf);
      GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, (nullptr), ("data before caps"));
      return GST_FLOW_NOT_NEGOTIATED;
    }
    try {
      ret = submit(self, buf);
    } catch (const std::exception& e) {
      GST_ELEMENT_ERROR(self, LIBRARY, FAILED, ("Tone detection failed"), ("%s", e.what()));
      ret = GST_FLOW_ERROR;
    }
    box = take_outbox(in, false);
  }
  deliver(self, box);
  return ret;
}

/* One output buffer a call, in order, until none is left. */
static GstFlowReturn prosody_tone_suppress_generate_output(GstBaseTransform* trans, GstBuffer** outbuf) {
  ProsodyToneSuppress* self = PROSODY_TONE_SUPPRESS(trans);
  const ProsodyTsanScope streaming(self);
  ProsodyToneSuppressInner& in = *self->inner;
  std::lock_guard<std::mutex> lk(in.stream_lock);
  *outbuf = nullptr;
  if (in.output_head < in.output.size()) {
    *outbuf = in.output[in.output_head++];
    PROSODY_TSAN_RELEASE(*outbuf); /* downstream may read it in another thread */
  }
  if (in.output_head == in.output.size()) {
    in.output.clear();
    in.output_head = 0;
  }
  return GST_FLOW_OK;
}

/* A GAP event of duration at ts. Returns FALSE if the event was replaced by
 * audio (look-ahead) and must not be forwarded. */
static gboolean handle_gap(ProsodyToneSuppress* self, GstClockTime ts, GstClockTime duration) {
  ProsodyToneSuppressInner& in = *self->inner;
  if (!in.ts || !GST_CLOCK_TIME_IS_VALID(ts) || !GST_CLOCK_TIME_IS_VALID(duration))
    return TRUE; /* the next buffer's timestamp tells */
  apply_settings(self);
  if (!in.timeline.started()) return TRUE; /* nothing to conceal yet */
  if (duration > kMaxConceal) {
    drain(self);
    return TRUE;
  }
  lose(self, position_of_pts(self, ts), prosody_gst::time_to_samples(duration, in.rate));
  return in.delay == 0;
}

static gboolean prosody_tone_suppress_sink_event(GstBaseTransform* trans, GstEvent* event) {
  ProsodyToneSuppress* self = PROSODY_TONE_SUPPRESS(trans);
  const ProsodyTsanScope streaming(self);
  ProsodyToneSuppressInner& in = *self->inner;
  bool forward = true;
  Outbox box;
  {
    std::lock_guard<std::mutex> lk(in.stream_lock);
    try {
      switch (GST_EVENT_TYPE(event)) {
        case GST_EVENT_FLUSH_STOP:
          drain(self, false);
          for (std::size_t i = in.output_head; i < in.output.size(); ++i) gst_buffer_unref(in.output[i]);
          in.output.clear();
          in.output_head = 0;
          break;
        case GST_EVENT_EOS:
          drain(self);
          break;
        case GST_EVENT_CAPS: {
          /* New caps are a new stream: finish the old one in its format. */
          GstCaps* caps;
          GstAudioInfo info;
          gst_event_parse_caps(event, &caps);
          if (in.ts && gst_audio_info_from_caps(&info, caps) &&
              (GST_AUDIO_INFO_RATE(&info) != (gint)in.rate || prosody_gst::sample_format_of(&info) != in.format))
            drain(self);
          break;
        }
        case GST_EVENT_GAP: {
          GstClockTime ts, duration;
          gst_event_parse_gap(event, &ts, &duration);
          forward = handle_gap(self, ts, duration);
          break;
        }
        default:
          break;
      }
    } catch (const std::exception& e) {
      GST_ELEMENT_ERROR(self, LIBRARY, FAILED, ("Tone detection failed"), ("%s", e.what()));
    }
    box = take_outbox(in, true);
  }
  deliver(self, box); /* the audio before the event goes first */
  if (!forward) {
    gst_event_unref(event);
    return TRUE;
  }
  return GST_BASE_TRANSFORM_CLASS(prosody_tone_suppress_parent_class)->sink_event(trans, event);
}

static gboolean prosody_tone_suppress_query(GstBaseTransform* trans, GstPadDirection direction, GstQuery* query) {
  ProsodyToneSuppress* self = PROSODY_TONE_SUPPRESS(trans);
  const ProsodyTsanScope streaming(self);
  gboolean res = GST_BASE_TRANSFORM_CLASS(prosody_tone_suppress_parent_class)->query(trans, direction, query);
  if (res && direction == GST_PAD_SRC && GST_QUERY_TYPE(query) == GST_QUERY_LATENCY) {
    gboolean live;
    GstClockTime min, max;
    gst_query_parse_latency(query, &live, &min, &max);
    ProsodyToneSuppressInner& in = *self->inner;
    in.props_lock.lock();
    const GstClockTime ours = in.latency;
    in.props_lock.unlock();
    min += ours;
    if (GST_CLOCK_TIME_IS_VALID(max)) max += ours;
    GST_DEBUG_OBJECT(self, "latency %" GST_TIME_FORMAT " of our own, now %" GST_TIME_FORMAT "-%" GST_TIME_FORMAT,
                     GST_TIME_ARGS(ours), GST_TIME_ARGS(min), GST_TIME_ARGS(max));
    gst_query_set_latency(query, live, min, max);
  }
  return res;
}

static gboolean prosody_tone_suppress_setup(GstAudioFilter* filter, const GstAudioInfo* info) {
  ProsodyToneSuppress* self = PROSODY_TONE_SUPPRESS(filter);
  const ProsodyTsanScope streaming(self);
  ProsodyToneSuppressInner& in = *self->inner;
  const guint rate = GST_AUDIO_INFO_RATE(info);
  const SampleFormat format = prosody_gst::sample_format_of(info);
  std::unique_lock<std::mutex> lk(in.stream_lock);
  if (in.ts && rate == in.rate && format == in.format) return TRUE; /* the same stream goes on */
  in.props_lock.lock();
  in.applied = in.props;
  in.props_changed = false;
  in.props_lock.unlock();
  try {
    in.ts = std::make_unique<prosody::ToneSuppressor>(rate, listen_settings(in.applied));
  } catch (const std::exception& e) {
    GST_ELEMENT_ERROR(self, LIBRARY, INIT, ("Cannot detect tones at %u Hz", rate), ("%s", e.what()));
    in.ts.reset();
    return FALSE;
  }
  in.rate = rate;
  in.format = format;
  in.delay = in.ts->latency_samples();
  in.max_jump = prosody_gst::time_to_samples(kMaxConceal, rate);
  in.decrease_pending = false;
  in.timeline.set_settings(prosody_gst::TimelineSettings{prosody_gst::time_to_samples(kJitter, rate), 0});
  in.work.reserve(rate / 10);
  reset_stream(in);
  in.props_lock.lock();
  const GstClockTime old_latency = in.latency;
  in.latency = prosody_gst::samples_to_time(in.delay, rate);
  in.negotiated = true;
  const bool latency_changed = old_latency != in.latency;
  in.props_lock.unlock();
  GST_INFO_OBJECT(self, "%u Hz %s, look-ahead %" G_GSIZE_FORMAT " samples", rate,
                  format == SampleFormat::f32 ? "F32LE" : "S16LE", in.delay);
  lk.unlock();
  if (latency_changed) gst_element_post_message(GST_ELEMENT(self), gst_message_new_latency(GST_OBJECT(self)));
  return TRUE;
}

static gboolean prosody_tone_suppress_start(GstBaseTransform* trans) {
  ProsodyToneSuppress* self = PROSODY_TONE_SUPPRESS(trans);
  std::lock_guard<std::mutex> lk(self->inner->stream_lock);
  reset_stream(*self->inner);
  /* The streaming threads about to start see what this thread set up. */
  PROSODY_TSAN_RELEASE(self);
  return TRUE;
}

static gboolean prosody_tone_suppress_stop(GstBaseTransform* trans) {
  ProsodyToneSuppress* self = PROSODY_TONE_SUPPRESS(trans);
  ProsodyToneSuppressInner& in = *self->inner;
  std::lock_guard<std::mutex> lk(in.stream_lock);
  reset_stream(in);
  for (std::size_t i = in.output_head; i < in.output.size(); ++i) gst_buffer_unref(in.output[i]);
  in.output.clear();
  in.output_head = 0;
  in.ts.reset();
  in.rate = 0;
  in.props_lock.lock();
  in.props_changed = true;
  in.negotiated = false;
  in.latency = in.props.lookahead;
  in.props_lock.unlock();
  PROSODY_TSAN_RELEASE(self); /* for the finalizer, whichever thread runs it */
  return TRUE;
}

/* ---- Properties ---- */

/* The field of Settings behind a property (null for stats). */
static void* setting(Settings& s, guint prop_id) {
  switch (prop_id) {
    case PROP_TONE_SET:
      return &s.tone_set;
    case PROP_REPORT:
      return &s.report;
    case PROP_MIN_DURATION:
      return &s.min_duration;
    case PROP_SUPPRESS:
      return &s.suppress;
    case PROP_LOOKAHEAD:
      return &s.lookahead;
    case PROP_STANDARD:
      return &s.standard;
    case PROP_TWIST_NORMAL:
      return &s.twist_normal;
    case PROP_TWIST_REVERSE:
      return &s.twist_reverse;
    case PROP_CPTONE_RECOGNITION:
      return &s.cptone_recognition;
    case PROP_POST_MESSAGES:
      return &s.post_messages;
    default:
      return nullptr;
  }
}

static void prosody_tone_suppress_set_property(GObject* object, guint prop_id, const GValue* value, GParamSpec* pspec) {
  ProsodyToneSuppress* self = PROSODY_TONE_SUPPRESS(object);
  ProsodyToneSuppressInner& in = *self->inner;
  std::unique_lock<std::mutex> lk(in.props_lock);
  void* field = setting(in.props, prop_id);
  if (!field) {
    lk.unlock();
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    return;
  }
  prosody_gst::set_field(field, value);
  in.props_changed = true;
  /* Once negotiated, the streaming thread reports a look-ahead change when
   * it takes effect (a decrease waits for the end of a tone). */
  const bool post_latency = prop_id == PROP_LOOKAHEAD && !in.negotiated && in.latency != in.props.lookahead;
  if (post_latency) in.latency = in.props.lookahead;
  lk.unlock();
  if (post_latency) gst_element_post_message(GST_ELEMENT(self), gst_message_new_latency(GST_OBJECT(self)));
}

static GstStructure* stats_structure(ProsodyToneSuppress* self) {
  ProsodyToneSuppressInner& in = *self->inner;
  std::lock_guard<std::mutex> lk(in.stream_lock);
  const Stats& s = in.stats;
  const prosody_gst::TimelineCounters& c = in.timeline.counters();
  in.props_lock.lock();
  const GstClockTime latency = in.latency;
  in.props_lock.unlock();
  return gst_structure_new("prosody-tonesuppress-stats", "buffers", G_TYPE_UINT64, s.buffers, "samples", G_TYPE_UINT64,
                           s.samples, "concealed-samples", G_TYPE_UINT64, (guint64)c.missing_samples, "overlap-samples",
                           G_TYPE_UINT64, (guint64)(c.late_samples + c.overlap_samples), "sanitised-samples",
                           G_TYPE_UINT64, s.sanitised_samples, "streams", G_TYPE_UINT64, s.streams, "digits",
                           G_TYPE_UINT64, s.digits, "tones", G_TYPE_UINT64, s.tones, "latency", G_TYPE_UINT64,
                           (guint64)latency, nullptr);
}

static void prosody_tone_suppress_get_property(GObject* object, guint prop_id, GValue* value, GParamSpec* pspec) {
  ProsodyToneSuppress* self = PROSODY_TONE_SUPPRESS(object);
  ProsodyToneSuppressInner& in = *self->inner;
  if (prop_id == PROP_STATS) { /* takes stream_lock, which comes before props_lock */
    g_value_take_boxed(value, stats_structure(self));
    return;
  }
  std::lock_guard<std::mutex> lk(in.props_lock);
  if (const void* field = setting(in.props, prop_id))
    prosody_gst::get_field(field, value);
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
}

static void prosody_tone_suppress_finalize(GObject* object) {
  ProsodyToneSuppress* self = PROSODY_TONE_SUPPRESS(object);
  PROSODY_TSAN_ACQUIRE(self); /* after the streaming threads' last use */
  delete self->inner;
  self->inner = nullptr;
  G_OBJECT_CLASS(prosody_tone_suppress_parent_class)->finalize(object);
}

static void prosody_tone_suppress_init(ProsodyToneSuppress* self) {
  self->inner = new ProsodyToneSuppressInner();
  GstBaseTransform* trans = GST_BASE_TRANSFORM(self);
  gst_base_transform_set_in_place(trans, TRUE);
  gst_base_transform_set_passthrough(trans, FALSE);
  PROSODY_TSAN_RELEASE(self);
}

static void prosody_tone_suppress_class_init(ProsodyToneSuppressClass* klass) {
  GObjectClass* gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);
  GstBaseTransformClass* trans_class = GST_BASE_TRANSFORM_CLASS(klass);
  GstAudioFilterClass* filter_class = GST_AUDIO_FILTER_CLASS(klass);
  const auto playing = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);

  gobject_class->set_property = prosody_tone_suppress_set_property;
  gobject_class->get_property = prosody_tone_suppress_get_property;
  gobject_class->finalize = prosody_tone_suppress_finalize;

  g_object_class_install_property(gobject_class, PROP_TONE_SET,
                                  g_param_spec_enum("tone-set", "Tone set",
                                                    "Tones to detect and remove: DTMF digits (dtmf-event messages), or "
                                                    "the call-progress and fax tones of Prosody's tone set 1 "
                                                    "(prosody-tone messages). A change restarts the analysis",
                                                    PROSODY_TYPE_TONE_SUPPRESS_TONE_SET, DEFAULT_TONE_SET, playing));
  g_object_class_install_property(gobject_class, PROP_REPORT,
                                  g_param_spec_enum("report", "Report",
                                                    "Which messages to post for each tone: at its start (when "
                                                    "confirmed), at its end (with the duration), or both",
                                                    PROSODY_TYPE_TONE_SUPPRESS_REPORT, DEFAULT_REPORT, playing));
  g_object_class_install_property(
      gobject_class, PROP_MIN_DURATION,
      g_param_spec_enum("min-duration", "Minimum duration",
                        "How long a tone must last to count (Prosody's modes): none = the "
                        "standard's guard time (a DTMF start is reported about 27 ms after "
                        "the onset), 40 ms or 64 ms (later reports, fewer false digits)",
                        PROSODY_TYPE_TONE_SUPPRESS_MIN_DURATION, DEFAULT_MIN_DURATION, playing));
  g_object_class_install_property(
      gobject_class, PROP_SUPPRESS,
      g_param_spec_boolean("suppress", "Suppress",
                           "Remove detected tones from the output (muted with 2.25 ms / 4 ms "
                           "ramps); FALSE = detect and report only, the audio passes "
                           "unchanged",
                           DEFAULT_SUPPRESS, playing));
  g_object_class_install_property(
      gobject_class, PROP_LOOKAHEAD,
      g_param_spec_uint64("lookahead", "Look-ahead",
                          "Delay of the output, in nanoseconds (0 to 16 ms), so that a tone "
                          "is muted from its first sample: 16 ms leaves under 3 ms of a "
                          "digit in the output, 0 about 10-14 ms. It is the element's "
                          "latency; output timestamps stay true to the audio. A decrease "
                          "while playing takes effect when no tone is being removed",
                          0, MAX_LOOKAHEAD, DEFAULT_LOOKAHEAD, playing));
  g_object_class_install_property(gobject_class, PROP_STANDARD,
                                  g_param_spec_enum("standard", "Standard",
                                                    "DTMF receiver timing: Q.24 (a digit qualifies after 26 ms, "
                                                    "breaks up to 25 ms are bridged) or ETSI ES 201 235-3 (24 ms, "
                                                    "30 ms)",
                                                    PROSODY_TYPE_TONE_SUPPRESS_STANDARD, DEFAULT_STANDARD, playing));
  g_object_class_install_property(gobject_class, PROP_TWIST_NORMAL,
                                  g_param_spec_double("twist-normal", "Normal twist",
                                                      "Largest accepted excess of the DTMF low-group tone over the "
                                                      "high-group tone, in dB (accepted exactly, rejected 0.5 dB past)",
                                                      0.0, 20.0, DEFAULT_TWIST_NORMAL, playing));
  g_object_class_install_property(gobject_class, PROP_TWIST_REVERSE,
                                  g_param_spec_double("twist-reverse", "Reverse twist",
                                                      "Largest accepted excess of the DTMF high-group tone over the "
                                                      "low-group tone, in dB",
                                                      0.0, 20.0, DEFAULT_TWIST_REVERSE, playing));
  g_object_class_install_property(
      gobject_class, PROP_CPTONE_RECOGNITION,
      g_param_spec_boolean("cptone-recognition", "Call-progress recognition",
                           "Also match call-progress cadences (busy, ring, dial, fax CNG and "
                           "CED, ...) and post them as prosody-tone messages, with either "
                           "tone set; their tones are then removed too",
                           DEFAULT_CPTONE_RECOGNITION, playing));
  g_object_class_install_property(
      gobject_class, PROP_POST_MESSAGES,
      g_param_spec_boolean("post-messages", "Post messages",
                           "Post element messages: dtmf-event (type=1, number 0-15, method=2, "
                           "start, volume in -dBm0, level in dBm0) for digits and prosody-tone "
                           "(tone name, id, id2, start, level, volume) for call-progress and "
                           "fax tones, each with timestamp, stream-time and running-time of "
                           "the tone's first sample (start=TRUE) or of the first sample after "
                           "it (start=FALSE, with duration), in nanoseconds",
                           DEFAULT_POST_MESSAGES, playing));
  g_object_class_install_property(
      gobject_class, PROP_STATS,
      g_param_spec_boxed("stats", "Statistics",
                         "prosody-tonesuppress-stats: buffers, samples (analysed), "
                         "concealed-samples (lost input), overlap-samples (dropped, time "
                         "went back), sanitised-samples (NaN or inf replaced by 0), "
                         "streams (detector starts), digits, tones, latency (ns)",
                         GST_TYPE_STRUCTURE, static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

  GstCaps* caps = gst_caps_from_string(PROSODY_AUDIO_CAPS);
  gst_audio_filter_class_add_pad_templates(filter_class, caps);
  gst_caps_unref(caps);
  gst_element_class_set_static_metadata(element_class, "Prosody tone detector and suppressor", "Filter/Analyzer/Audio",
                                        "Detects DTMF digits, call-progress and fax tones, posts them as "
                                        "dtmf-event / prosody-tone messages with their timing, and removes "
                                        "them from the audio",
                                        "Prosody project");

  trans_class->submit_input_buffer = GST_DEBUG_FUNCPTR(prosody_tone_suppress_submit_input_buffer);
  trans_class->generate_output = GST_DEBUG_FUNCPTR(prosody_tone_suppress_generate_output);
  trans_class->sink_event = GST_DEBUG_FUNCPTR(prosody_tone_suppress_sink_event);
  trans_class->query = GST_DEBUG_FUNCPTR(prosody_tone_suppress_query);
  trans_class->start = GST_DEBUG_FUNCPTR(prosody_tone_suppress_start);
  trans_class->stop = GST_DEBUG_FUNCPTR(prosody_tone_suppress_stop);
  filter_class->setup = GST_DEBUG_FUNCPTR(prosody_tone_suppress_setup);

  gst_type_mark_as_plugin_api(PROSODY_TYPE_TONE_SUPPRESS_TONE_SET, static_cast<GstPluginAPIFlags>(0));
  gst_type_mark_as_plugin_api(PROSODY_TYPE_TONE_SUPPRESS_REPORT, static_cast<GstPluginAPIFlags>(0));
  gst_type_mark_as_plugin_api(PROSODY_TYPE_TONE_SUPPRESS_MIN_DURATION, static_cast<GstPluginAPIFlags>(0));
  gst_type_mark_as_plugin_api(PROSODY_TYPE_TONE_SUPPRESS_STANDARD, static_cast<GstPluginAPIFlags>(0));
}
