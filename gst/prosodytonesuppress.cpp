/* prosodytonesuppress.cpp - the element: properties, caps, timestamps and
 * losses mapped onto a prosody::ToneSuppressor, and its events posted as bus
 * messages.
 */
/**
 * SECTION:element-prosodytonesuppress
 * @title: prosodytonesuppress
 * @short_description: detects DTMF, call-progress and fax tones, reports
 *   them on the bus and removes them from the audio
 * @see_also: dtmfdetect, dtmfsrc, rtpdtmfdepay, level, prosodyconfmix
 *
 * An in-place filter on mono S16LE or F32LE audio at 8000, 16000, 32000 or
 * 48000 Hz. It analyses the undelayed input (never its own output), posts an
 * element message for every tone it recognises, and, with suppress=TRUE,
 * mutes each tone in the output with 2.25 ms / 4 ms raised-cosine ramps. Away
 * from tones the output is bit-identical to the input.
 *
 * With lookahead=0 the output is the input with tones muted from about 10 ms
 * after their onset (the time it takes to suspect a tone). With lookahead=L
 * (up to 16 ms) the mute can start before the onset: the element holds L of
 * audio back, reports L as its latency (LATENCY query, and a latency message
 * when it changes), and keeps every output timestamp true to its content:
 * the output is the input delayed by L, stamped with the input's own
 * timestamps, so it is in sync with any other stream of the pipeline. The
 * first L of a stream leave with the next buffers, the last L at EOS, so
 * nothing is lost or added.
 *
 * Messages (element messages from this element; post-messages=FALSE stops
 * them). Times are those of the tone's own samples, not of the moment the
 * message is posted: a start message is posted when the tone is confirmed
 * (about 27 ms after its onset for DTMF), an end message about 35 ms after
 * it ends (when a return of the same tone can no longer be a bridged break).
 *
 * dtmf-event (tone-set=dtmf), the structure dtmfdetect and rtpdtmfdepay
 * post, so existing bus handlers keep working:
 *
 * - `type` (gint): 1, a named event
 * - `number` (gint): 0-9, 10 = *, 11 = #, 12-15 = A-D
 * - `method` (gint): 2, detected in the sound
 * - `start` (gboolean): TRUE when the digit is confirmed, FALSE at its end
 * - `volume` (gint): level of the stronger tone in -dBm0, 0-36 (clamped)
 * - `level` (gdouble): the same level in dBm0, unclamped
 * - `timestamp` (GstClockTime): PTS of the digit's first sample (start) or of
 *   the first sample after it (end)
 * - `stream-time` (GstClockTime): `timestamp` as stream time
 * - `running-time` (GstClockTime): `timestamp` as running time
 * - `duration` (GstClockTime, end messages only): the digit's measured
 *   length, a bridged break (up to 25 ms Q.24, 30 ms ETSI) included
 *
 * prosody-tone (tone-set=call-progress, or cptone-recognition=TRUE), the
 * structure prosodyconfmix posts:
 *
 * - `tone` (gchararray): for a recognised call-progress cadence its name:
 *   unobtainable, busy, path-engaged, ring, special-information, fax-cng,
 *   fax-ced, dial, reorder, us-intercept; for a steady tone of tone set 1
 *   (tone-set=call-progress) "tone"
 * - `id` (gint): the Prosody call-progress id (1 unobtainable, 2 busy,
 *   3 path engaged, 4 ring, 5 SIT, 6 fax CNG, 7 fax CED, 8 dial, 9 reorder,
 *   11 US intercept), or for "tone" the frequency band of tone set 1 (0 =
 *   305-555 Hz, 1 = 898-1008, 2 = 1336-1461, 3 = 1742-1852, 4 = 589-651,
 *   5 = 1062-1138 (fax CNG), 6 = 2085-2115 (fax CED))
 * - `id2` (gint): for "tone", the band of a second component (480+620 Hz
 *   gives 0 and 4), else -1
 * - `start` (gboolean): TRUE when recognised, FALSE when it ends
 * - `level` (gdouble): level of the strongest component in dBm0
 * - `volume` (gint): the same in -dBm0, clamped to 0-36
 * - `timestamp`, `stream-time`, `running-time` (GstClockTime): of the first
 *   sample (start) or of the first sample after the tone (end); a cadence
 *   spans its whole pattern, from the first matched burst
 * - `duration` (GstClockTime, end messages only)
 *
 * Losses and discontinuities: detection state is kept across them, so a
 * digit interrupted by a lost packet is reported once, with its whole
 * duration. A buffer whose running time is ahead of the samples received so
 * far (a DISCONT buffer: any amount; otherwise more than 1 ms), a GAP buffer
 * and a GAP event mark the missing time as lost audio (at most 100 ms; a
 * lost stretch is neither tone nor silence to the detector). A jump of more
 * than 100 ms, forward or back, a flush, EOS and a caps change end the
 * stream: tones in progress get their end message (at the last sample
 * received) and the detector starts afresh. A buffer that goes back in time
 * by up to 100 ms has the overlap dropped (counted in stats). A GAP longer
 * than 100 ms ends the stream too. NaN and infinite F32 samples are replaced
 * by 0 before anything sees them (counted). Empty buffers pass. A buffer that
 * is not a whole number of samples is an error.
 *
 * Without look-ahead the output has the same gaps and GAP buffers as the
 * input. With look-ahead a lost stretch leaves as silence after the delayed
 * audio that preceded it (a delay line cannot leave a hole), so the output
 * stays continuous.
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
#include "prosodytsan.h"

#include <algorithm>
#include <atomic>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <vector>

#include "prosody/tones.hpp"

#if G_BYTE_ORDER != G_LITTLE_ENDIAN
#error "prosodytonesuppress speaks S16LE/F32LE and maps them as native samples"
#endif

GST_DEBUG_CATEGORY_STATIC(prosody_tone_suppress_debug);
#define GST_CAT_DEFAULT prosody_tone_suppress_debug

#define TONE_SUPPRESS_CAPS                                           \
  "audio/x-raw, format = (string) { S16LE, F32LE }, "                \
  "rate = (int) { 8000, 16000, 32000, 48000 }, channels = (int) 1, " \
  "layout = (string) interleaved"

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

/* A lost stretch up to this long is concealed (the detector bridges it);
 * a longer one, or a jump back this far, starts a new stream. */
constexpr GstClockTime kMaxConceal = 100 * GST_MSECOND;
/* Without DISCONT, timestamps closer than this to the sample count are
 * jitter, not loss. */
constexpr GstClockTime kJitter = GST_MSECOND;
/* Anchors kept for placing events in time: a cadence's start can be
 * seconds back, but anchors are only added at discontinuities. */
constexpr std::size_t kMaxAnchors = 64;

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

/* Counters of one buffer (streaming thread), or since start (atomics, read
 * by the stats property without a lock on the streaming path). */
template <typename T>
struct StatsOf {
  T buffers = 0;
  T samples = 0; /* analysed */
  T concealed_samples = 0;
  T overlap_samples = 0;   /* dropped: time went backwards */
  T sanitised_samples = 0; /* NaN / inf replaced by 0 */
  T streams = 0;           /* (re)starts of the detector */
  T digits = 0;
  T tones = 0;
};
using Stats = StatsOf<guint64>;
using SharedStats = StatsOf<std::atomic<guint64> >;

/* Times of input sample `pos` (samples since the detector's reset). */
struct Anchor {
  guint64 pos;
  GstClockTime pts, running_time, stream_time;
};

/* One event of the ToneSuppressor, ready to become a message. */
struct Report {
  prosody::ToneEvent event;
  GstClockTime pts, running_time, stream_time, duration;
};

}  // namespace

struct ProsodyToneSuppressInner {
  /* Locks are std::mutex, not the object lock or GStreamer's stream lock,
   * so that ThreadSanitizer sees them (it cannot see GLib's futexes).
   * Order: stream_lock, then props_lock. Neither is held while posting;
   * stream_lock is held while pushing, as GStreamer's stream lock is. */
  std::mutex props_lock;
  std::mutex stream_lock;

  /* Protected by props_lock (props_changed is also read without it, so
   * that a buffer with nothing changed costs no lock). */
  Settings props;
  std::atomic<bool> props_changed{true};
  GstClockTime latency = 0; /* what the LATENCY query adds */
  SharedStats stats;
  bool negotiated = false; /* latency follows the applied look-ahead */

  /* Streaming state: protected by stream_lock (the streaming thread:
   * transform_ip, serialized events, setup; and start / stop). */
  Settings applied;
  std::unique_ptr<prosody::ToneSuppressor> ts;
  guint rate = 0;
  bool is_float = false;
  gsize bpf = 0;
  std::size_t delay = 0;         /* look-ahead in samples, as applied */
  bool decrease_pending = false; /* waits until no tone is being removed */
  bool latency_changed = false;  /* a latency message to post */
  bool started = false;          /* anchors and positions are valid */
  guint64 in_pos = 0;            /* input position of the next sample */
  guint64 out_pos = 0;           /* content position of the next output sample */
  std::deque<Anchor> anchors;
  Stats counted;              /* added to stats at the end of a buffer */
  std::vector<float> work;    /* float samples of the current buffer */
  std::vector<float> history; /* ring of the latest raw input */
  std::vector<prosody::ToneEvent> events;
  std::vector<Report> reports;
};

struct _ProsodyToneSuppress {
  GstAudioFilter parent;
  ProsodyToneSuppressInner* inner;
};

G_DEFINE_TYPE_WITH_CODE(ProsodyToneSuppress, prosody_tone_suppress, GST_TYPE_AUDIO_FILTER,
                        GST_DEBUG_CATEGORY_INIT(prosody_tone_suppress_debug, "prosodytonesuppress", 0,
                                                "Prosody tone detector and suppressor"));

GST_ELEMENT_REGISTER_DEFINE(prosodytonesuppress, "prosodytonesuppress", GST_RANK_NONE, PROSODY_TYPE_TONE_SUPPRESS);

/* ---- Helpers (streaming thread unless noted) ---- */

namespace {

prosody::ListenSettings listen_settings(const Settings& s) {
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

const char* cptone_name(int id) {
  /* The names prosodyconfmix uses, so one bus handler serves both. */
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

GstClockTime add_time(GstClockTime t, GstClockTime base_offset, bool back) {
  if (!GST_CLOCK_TIME_IS_VALID(t)) return GST_CLOCK_TIME_NONE;
  if (back) return t >= base_offset ? t - base_offset : 0;
  return t + base_offset;
}

}  // namespace

static GstClockTime samples_to_time(ProsodyToneSuppressInner& in, guint64 n) {
  return gst_util_uint64_scale_int_round(n, GST_SECOND, in.rate);
}

static guint64 time_to_samples(ProsodyToneSuppressInner& in, GstClockTime t) {
  return gst_util_uint64_scale_int_round(t, in.rate, GST_SECOND);
}

/* Places input sample `pos` at buffer time `pts` (a new stream, or a
 * discontinuity after which the sample count and the timestamps agree
 * again). */
static void add_anchor(ProsodyToneSuppress* self, guint64 pos, GstClockTime pts) {
  ProsodyToneSuppressInner& in = *self->inner;
  const GstSegment& seg = GST_BASE_TRANSFORM(self)->segment;
  Anchor a{pos, pts, GST_CLOCK_TIME_NONE, GST_CLOCK_TIME_NONE};
  if (GST_CLOCK_TIME_IS_VALID(pts) && seg.format == GST_FORMAT_TIME) {
    a.running_time = gst_segment_to_running_time(&seg, GST_FORMAT_TIME, pts);
    a.stream_time = gst_segment_to_stream_time(&seg, GST_FORMAT_TIME, pts);
  }
  while (!in.anchors.empty() && in.anchors.back().pos >= pos) in.anchors.pop_back();
  in.anchors.push_back(a);
  if (in.anchors.size() > kMaxAnchors) in.anchors.pop_front();
}

/* Buffer, running and stream time of input sample `pos`. */
static Anchor times_at(ProsodyToneSuppressInner& in, guint64 pos) {
  Anchor none{pos, GST_CLOCK_TIME_NONE, GST_CLOCK_TIME_NONE, GST_CLOCK_TIME_NONE};
  if (in.anchors.empty()) return none;
  auto it =
      std::upper_bound(in.anchors.begin(), in.anchors.end(), pos, [](guint64 p, const Anchor& a) { return p < a.pos; });
  const Anchor& a = it == in.anchors.begin() ? *it : *(it - 1);
  const bool back = pos < a.pos;
  const GstClockTime dt = samples_to_time(in, back ? a.pos - pos : pos - a.pos);
  return Anchor{pos, add_time(a.pts, dt, back), add_time(a.running_time, dt, back), add_time(a.stream_time, dt, back)};
}

/* The latest raw input, for the samples a shorter look-ahead skips (none
 * to keep while there is no look-ahead). */
static void remember(ProsodyToneSuppressInner& in, const float* x, std::size_t n) {
  if (in.delay == 0 && in.applied.lookahead == 0) return;
  const std::size_t mask = in.history.size() - 1;
  const std::size_t keep = std::min(n, in.history.size());
  const guint64 first = in.in_pos + n - keep;
  for (std::size_t i = 0; i < keep; ++i) in.history[(first + i) & mask] = x ? x[n - keep + i] : 0.0f;
}

/* Events found in the last call, as reports timed by their own samples. */
static void collect_events(ProsodyToneSuppressInner& in) {
  const gint mode = in.applied.report;
  for (const prosody::ToneEvent& e : in.events) {
    const bool is_digit = e.type == prosody::RecognitionType::digit;
    if (!e.is_end) {
      if (is_digit)
        ++in.counted.digits;
      else
        ++in.counted.tones;
    }
    if (!in.applied.post_messages || (e.is_end && mode == PROSODY_TONE_SUPPRESS_REPORT_START) ||
        (!e.is_end && mode == PROSODY_TONE_SUPPRESS_REPORT_END))
      continue;
    const Anchor t = times_at(in, e.is_end ? e.end_sample : e.start_sample);
    GstClockTime duration = GST_CLOCK_TIME_NONE;
    if (e.is_end) duration = samples_to_time(in, e.end_sample > e.start_sample ? e.end_sample - e.start_sample : 0);
    in.reports.push_back(Report{e, t.pts, t.running_time, t.stream_time, duration});
  }
  in.events.clear();
}

/* Posts what the streaming thread found (stream_lock not held). */
static void post_reports(ProsodyToneSuppress* self, std::vector<Report>& reports, bool latency_changed) {
  if (latency_changed) gst_element_post_message(GST_ELEMENT(self), gst_message_new_latency(GST_OBJECT(self)));
  for (const Report& r : reports) {
    const prosody::ToneEvent& e = r.event;
    const gint volume = CLAMP((gint)std::lround(-e.level_dbm0), 0, 36);
    GstStructure* s;
    if (e.type == prosody::RecognitionType::digit) {
      const int number = prosody::dtmf_char_to_number(static_cast<char>(e.code));
      if (number < 0) continue;
      s = gst_structure_new("dtmf-event", "type", G_TYPE_INT, 1, "number", G_TYPE_INT, number, "method", G_TYPE_INT, 2,
                            "start", G_TYPE_BOOLEAN, (gboolean)!e.is_end, "volume", G_TYPE_INT, volume, "level",
                            G_TYPE_DOUBLE, e.level_dbm0, nullptr);
    } else {
      const bool cp = e.type == prosody::RecognitionType::cptone;
      s = gst_structure_new("prosody-tone", "tone", G_TYPE_STRING, cp ? cptone_name(e.code) : "tone", "id", G_TYPE_INT,
                            e.code, "id2", G_TYPE_INT, cp ? -1 : e.code2, "start", G_TYPE_BOOLEAN, (gboolean)!e.is_end,
                            "level", G_TYPE_DOUBLE, e.level_dbm0, "volume", G_TYPE_INT, volume, nullptr);
    }
    gst_structure_set(s, "timestamp", G_TYPE_UINT64, (guint64)r.pts, "stream-time", G_TYPE_UINT64,
                      (guint64)r.stream_time, "running-time", G_TYPE_UINT64, (guint64)r.running_time, nullptr);
    if (e.is_end) gst_structure_set(s, "duration", G_TYPE_UINT64, (guint64)r.duration, nullptr);
    GST_DEBUG_OBJECT(self, "%" GST_PTR_FORMAT, s);
    gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), s));
  }
  reports.clear();
}

/* Takes what post_reports will post, under stream_lock. */
static bool take_reports(ProsodyToneSuppressInner& in, std::vector<Report>& out) {
  out.swap(in.reports);
  const bool latency = in.latency_changed;
  in.latency_changed = false;
  return latency;
}

/* Adds this buffer's counters to the stats the stats property shows. */
static void commit_stats(ProsodyToneSuppress* self) {
  ProsodyToneSuppressInner& in = *self->inner;
  const auto add = [](std::atomic<guint64>& to, guint64 v) {
    if (v != 0) to.fetch_add(v, std::memory_order_relaxed);
  };
  add(in.stats.buffers, in.counted.buffers);
  add(in.stats.samples, in.counted.samples);
  add(in.stats.concealed_samples, in.counted.concealed_samples);
  add(in.stats.overlap_samples, in.counted.overlap_samples);
  add(in.stats.sanitised_samples, in.counted.sanitised_samples);
  add(in.stats.streams, in.counted.streams);
  add(in.stats.digits, in.counted.digits);
  add(in.stats.tones, in.counted.tones);
  in.counted = Stats();
}

/* The per-sample loops below run on every buffer. They go in blocks of 8
 * with a known trip count, which -O2 (GCC's very-cheap vectoriser) turns
 * into vector code; a plain loop of unknown length stays scalar there. */
constexpr std::size_t kLanes = 8;

static inline gint16 to_s16(float x) {
  /* Rounded, branch-free (truncating a positive value is floor); exact for
   * unity gain: an S16 sample went in as s / 32768. */
  const float v = std::min(32767.0f, std::max(-32768.0f, x * 32768.0f));
  return static_cast<gint16>(static_cast<gint32>(v + 32768.5f) - 32768);
}

/* Writes float samples into `dest` in the negotiated format. */
static void store_samples(ProsodyToneSuppressInner& in, const float* x, std::size_t n, guint8* dest) {
  if (in.is_float) {
    memcpy(dest, x, n * sizeof(float));
    return;
  }
  gint16* __restrict d = reinterpret_cast<gint16*>(dest);
  const float* __restrict f = x;
  std::size_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (std::size_t k = 0; k < kLanes; ++k) d[i + k] = to_s16(f[i + k]);
  for (; i < n; ++i) d[i] = to_s16(f[i]);
}

/* Pushes output content [from, from + n) held in x (float). */
static GstFlowReturn push_samples(ProsodyToneSuppress* self, guint64 from, const float* x, std::size_t n) {
  ProsodyToneSuppressInner& in = *self->inner;
  if (n == 0) return GST_FLOW_OK;
  GstBuffer* buf = gst_buffer_new_allocate(nullptr, n * in.bpf, nullptr);
  GstMapInfo map;
  gst_buffer_map(buf, &map, GST_MAP_WRITE);
  store_samples(in, x, n, map.data);
  gst_buffer_unmap(buf, &map);
  GST_BUFFER_PTS(buf) = times_at(in, from).pts;
  GST_BUFFER_DURATION(buf) = samples_to_time(in, n);
  GST_LOG_OBJECT(self, "pushing %" G_GSIZE_FORMAT " samples of content %" G_GUINT64_FORMAT " at %" GST_TIME_FORMAT, n,
                 from, GST_TIME_ARGS(GST_BUFFER_PTS(buf)));
  PROSODY_TSAN_RELEASE(buf); /* downstream may read it in another thread */
  return gst_pad_push(GST_BASE_TRANSFORM_SRC_PAD(self), buf);
}

/* The output of a call that took input [P, P + m) is content
 * [P - delay, P + m - delay); what lies before out_pos was already sent (or
 * is the silence before the stream began). Returns how many samples at the
 * front to leave out, and advances out_pos. */
static std::size_t output_trim(ProsodyToneSuppressInner& in, guint64 P, std::size_t m) {
  const gint64 c0 = (gint64)P - (gint64)in.delay;
  const gint64 trim = MAX((gint64)in.out_pos - c0, (gint64)0);
  const gint64 end = c0 + (gint64)m;
  if (end > (gint64)in.out_pos) in.out_pos = (guint64)end;
  return (std::size_t)MIN(trim, (gint64)m);
}

/* Forgets the stream: the next sample starts a new one. */
static void reset_stream(ProsodyToneSuppressInner& in) {
  if (in.ts) in.ts->reset();
  in.started = false;
  in.in_pos = in.out_pos = 0;
  in.anchors.clear();
  in.events.clear();
  std::fill(in.history.begin(), in.history.end(), 0.0f);
}

static void start_stream(ProsodyToneSuppress* self, GstClockTime pts) {
  ProsodyToneSuppressInner& in = *self->inner;
  in.started = true;
  ++in.counted.streams;
  add_anchor(self, 0, pts);
  GST_DEBUG_OBJECT(self, "stream starts at %" GST_TIME_FORMAT, GST_TIME_ARGS(pts));
}

static float* work_buffer(ProsodyToneSuppressInner& in, std::size_t n) {
  if (in.work.size() < n) in.work.resize(n);
  return in.work.data();
}

/* n input samples are missing. Without look-ahead the detector is told and
 * the output has the same hole as the input. With look-ahead the delayed
 * audio before the hole still has to come out: `out` receives the n output
 * samples (or, if null, they are pushed as a buffer). */
static GstFlowReturn lose(ProsodyToneSuppress* self, std::size_t n, float* out) {
  ProsodyToneSuppressInner& in = *self->inner;
  const guint64 P = in.in_pos;
  in.counted.concealed_samples += n;
  remember(in, nullptr, n);
  if (in.delay == 0) {
    in.ts->conceal(n, in.events);
    in.in_pos += n;
    in.out_pos = in.in_pos;
    collect_events(in);
    return GST_FLOW_OK;
  }
  float* dest = out ? out : work_buffer(in, n);
  /* Lost audio, with the delayed output that falls due written. */
  in.ts->conceal(n, dest, in.events);
  in.in_pos += n;
  collect_events(in);
  if (out) return GST_FLOW_OK;
  const guint64 content = (guint64)MAX((gint64)in.out_pos, (gint64)P - (gint64)in.delay);
  const std::size_t trim = output_trim(in, P, n);
  return push_samples(self, content, dest + trim, n - trim);
}

/* The stream ends (EOS, a new stream, new caps, a flush): silence lets the
 * tones in progress end and reports them, so every start gets its end; the
 * look-ahead's last samples are sent unless they are being flushed. Then
 * the detector starts afresh. */
static GstFlowReturn drain(ProsodyToneSuppress* self, bool send_tail = true) {
  ProsodyToneSuppressInner& in = *self->inner;
  GstFlowReturn ret = GST_FLOW_OK;
  if (in.ts && in.started) {
    /* Tones in progress end where the stream stops; x gets the look-ahead's
     * last samples. */
    float* x = work_buffer(in, MAX(in.delay, (std::size_t)1));
    const guint64 P = in.in_pos;
    in.ts->finish(x, in.events);
    collect_events(in);
    if (in.delay > 0 && send_tail) {
      const guint64 content = (guint64)MAX((gint64)in.out_pos, (gint64)P - (gint64)in.delay);
      const std::size_t trim = output_trim(in, P, in.delay);
      GST_DEBUG_OBJECT(self, "draining %" G_GSIZE_FORMAT " samples", in.delay - trim);
      ret = push_samples(self, content, x + trim, in.delay - trim);
    }
  }
  reset_stream(in);
  return ret;
}

/* Takes the property values into the ToneSuppressor. A shorter look-ahead
 * would skip delayed samples, so it waits until no tone is being removed,
 * and those samples (unity gain then) are sent from the history. */
static GstFlowReturn apply_settings(ProsodyToneSuppress* self) {
  ProsodyToneSuppressInner& in = *self->inner;
  if (!in.props_changed.load(std::memory_order_acquire) && !in.decrease_pending) return GST_FLOW_OK;
  in.props_lock.lock();
  const Settings s = in.props;
  in.props_changed = false;
  in.props_lock.unlock();

  in.applied = s;
  if (!in.ts) return GST_FLOW_OK;
  prosody::ListenSettings ls = listen_settings(s);
  const std::size_t want = (std::size_t)std::llround(double(ls.lookahead_us) * in.rate / 1e6);
  GstFlowReturn ret = GST_FLOW_OK;
  if (want < in.delay && in.started) {
    if (in.ts->suppressing()) {
      ls.lookahead_us = in.ts->settings().lookahead_us;
      in.decrease_pending = true;
      in.ts->configure(ls);
      return GST_FLOW_OK;
    }
    const guint64 from = MAX(in.out_pos, in.in_pos - std::min<guint64>(in.in_pos, in.delay));
    const guint64 to = in.in_pos - std::min<guint64>(in.in_pos, want);
    if (to > from) {
      float* x = work_buffer(in, to - from);
      const std::size_t mask = in.history.size() - 1;
      for (guint64 c = from; c < to; ++c) x[c - from] = in.history[c & mask];
      ret = push_samples(self, from, x, to - from);
      in.out_pos = to;
    }
  }
  in.decrease_pending = false;
  in.ts->configure(ls);
  const std::size_t old_delay = in.delay;
  in.delay = in.ts->latency_samples();
  if (in.delay != old_delay) {
    in.props_lock.lock();
    in.latency = samples_to_time(in, in.delay);
    in.props_lock.unlock();
    GST_INFO_OBJECT(self, "look-ahead now %" G_GSIZE_FORMAT " samples", in.delay);
    in.latency_changed = true;
  }
  return ret;
}

/* Where does data at `pts` go on the sample count? Conceals a jump forward,
 * drops an overlap (sets *skip to the samples to leave out at the front), or
 * starts a new stream. */
static GstFlowReturn place(ProsodyToneSuppress* self, GstClockTime pts, std::size_t n, bool discont,
                           std::size_t* skip) {
  ProsodyToneSuppressInner& in = *self->inner;
  const GstSegment& seg = GST_BASE_TRANSFORM(self)->segment;
  *skip = 0;
  if (!in.started) {
    start_stream(self, pts);
    return GST_FLOW_OK;
  }
  if (!GST_CLOCK_TIME_IS_VALID(pts) || seg.format != GST_FORMAT_TIME) return GST_FLOW_OK; /* trust the sample count */
  const GstClockTime rt = gst_segment_to_running_time(&seg, GST_FORMAT_TIME, pts);
  const Anchor expected = times_at(in, in.in_pos);
  if (!GST_CLOCK_TIME_IS_VALID(rt) || !GST_CLOCK_TIME_IS_VALID(expected.running_time)) {
    add_anchor(self, in.in_pos, pts);
    return GST_FLOW_OK;
  }
  const GstClockTimeDiff diff = GST_CLOCK_DIFF(expected.running_time, rt);
  const GstClockTime tolerance = discont ? samples_to_time(in, 1) / 2 : kJitter;
  if ((GstClockTime)ABS(diff) < tolerance) {
    /* Contiguous; a new segment may have moved the buffer times. */
    if (!GST_CLOCK_TIME_IS_VALID(expected.pts) || (GstClockTime)ABS(GST_CLOCK_DIFF(expected.pts, pts)) >= tolerance)
      add_anchor(self, in.in_pos, pts);
    return GST_FLOW_OK;
  }
  if ((GstClockTime)ABS(diff) > kMaxConceal) {
    GST_DEBUG_OBJECT(self, "running time jumps by %" GST_STIME_FORMAT ": a new stream", GST_STIME_ARGS(diff));
    const GstFlowReturn ret = drain(self);
    start_stream(self, pts);
    return ret;
  }
  const std::size_t samples = (std::size_t)time_to_samples(in, (GstClockTime)ABS(diff));
  if (diff < 0) {
    GST_DEBUG_OBJECT(self,
                     "%" G_GSIZE_FORMAT
                     " samples go back in time: "
                     "dropped",
                     MIN(samples, n));
    *skip = MIN(samples, n);
    in.counted.overlap_samples += *skip;
    return GST_FLOW_OK;
  }
  GST_DEBUG_OBJECT(self, "%" G_GSIZE_FORMAT " samples lost before %" GST_TIME_FORMAT, samples, GST_TIME_ARGS(pts));
  const GstFlowReturn ret = samples > 0 ? lose(self, samples, nullptr) : GST_FLOW_OK;
  add_anchor(self, in.in_pos, pts);
  return ret;
}

/* ---- GstBaseTransform / GstAudioFilter ---- */

/* The buffer now holds, after `skip` samples to leave out, out_n samples of
 * output content ending at out_pos: cut it to them and stamp it with that
 * content's own time. */
static void restamp(ProsodyToneSuppressInner& in, GstBuffer* buf, std::size_t skip, std::size_t out_n) {
  const guint64 content = in.out_pos - out_n;
  gst_buffer_resize(buf, (gssize)(skip * in.bpf), (gssize)(out_n * in.bpf));
  GST_BUFFER_PTS(buf) = times_at(in, content).pts;
  GST_BUFFER_DURATION(buf) = samples_to_time(in, out_n);
  GST_BUFFER_OFFSET(buf) = GST_BUFFER_OFFSET_NONE;
  GST_BUFFER_OFFSET_END(buf) = GST_BUFFER_OFFSET_NONE;
}

/* Samples in (S16 converted, F32 sanitised in place) -> float x. */
static float* input_samples(ProsodyToneSuppressInner& in, guint8* data, std::size_t m) {
  if (!in.is_float) {
    float* __restrict x = work_buffer(in, m);
    const gint16* __restrict s = reinterpret_cast<const gint16*>(data);
    std::size_t i = 0;
    for (; i + kLanes <= m; i += kLanes)
      for (std::size_t k = 0; k < kLanes; ++k) x[i + k] = float(s[i + k]) * (1.0f / 32768.0f);
    for (; i < m; ++i) x[i] = float(s[i]) * (1.0f / 32768.0f);
    return x;
  }
  /* NaN and inf would pass into the output and, while a tone is analysed,
   * disturb the analysis: a sample of silence does neither. */
  float* x = reinterpret_cast<float*>(data);
  bool any = false; /* a vector test first; fixes are rare */
  std::size_t i = 0;
  for (; i + kLanes <= m; i += kLanes) {
    int bad = 0;
    for (std::size_t k = 0; k < kLanes; ++k) bad |= !(std::fabs(x[i + k]) <= FLT_MAX); /* NaN fails too */
    any |= bad != 0;
  }
  for (; i < m; ++i) any |= !(std::fabs(x[i]) <= FLT_MAX);
  if (G_UNLIKELY(any)) {
    for (i = 0; i < m; ++i) {
      if (!std::isfinite(x[i])) {
        x[i] = 0.0f;
        ++in.counted.sanitised_samples;
      }
    }
  }
  return x;
}

static GstFlowReturn process_buffer(ProsodyToneSuppress* self, GstBuffer* buf) {
  ProsodyToneSuppressInner& in = *self->inner;
  const gsize size = gst_buffer_get_size(buf);
  if (size % in.bpf != 0) {
    GST_ELEMENT_ERROR(self, STREAM, FORMAT, ("Broken audio buffer"),
                      ("a buffer of %" G_GSIZE_FORMAT " bytes is not a whole number of "
                       "%" G_GSIZE_FORMAT "-byte samples",
                       size, in.bpf));
    return GST_FLOW_ERROR;
  }
  GstFlowReturn ret = apply_settings(self);
  const std::size_t n = size / in.bpf;
  if (ret != GST_FLOW_OK || n == 0) return ret; /* an empty buffer passes as it is */
  ++in.counted.buffers;

  const bool gap = GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_GAP);
  if (gap && samples_to_time(in, n) > kMaxConceal) {
    /* A long silence: a stream in progress ends here, and the gap passes. */
    return in.started ? drain(self) : GST_FLOW_OK;
  }
  std::size_t skip = 0;
  ret = place(self, GST_BUFFER_PTS(buf), n, GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DISCONT) || gap, &skip);
  if (ret != GST_FLOW_OK) return ret;
  if (skip >= n) return GST_BASE_TRANSFORM_FLOW_DROPPED;
  const std::size_t m = n - skip;

  if (gap && in.delay == 0) {
    /* Lost audio to the detector; the neutral data passes as it is. */
    lose(self, m, nullptr);
    if (skip > 0) restamp(in, buf, skip, m);
    return GST_FLOW_OK;
  }

  const guint64 P = in.in_pos;
  GstMapInfo map;
  if (!gst_buffer_map(buf, &map, GST_MAP_READWRITE)) {
    GST_ELEMENT_ERROR(self, RESOURCE, FAILED, (nullptr), ("cannot map a buffer for writing"));
    return GST_FLOW_ERROR;
  }
  guint8* data = map.data + skip * in.bpf;
  if (gap) {
    float* y = work_buffer(in, m);
    lose(self, m, y); /* the delayed audio before the loss */
    store_samples(in, y, m, data);
  } else {
    float* x = input_samples(in, data, m);
    remember(in, x, m);
    in.ts->process(x, x, m, in.events); /* in place */
    in.in_pos += m;
    in.counted.samples += m;
    collect_events(in);
    /* Most S16 buffers come out as they went in: then nothing to write. */
    if (!in.is_float && !in.ts->last_block_unchanged()) store_samples(in, x, m, data);
  }
  gst_buffer_unmap(buf, &map);
  if (gap) GST_BUFFER_FLAG_UNSET(buf, GST_BUFFER_FLAG_GAP);

  const std::size_t trim = output_trim(in, P, m);
  if (trim >= m) return GST_BASE_TRANSFORM_FLOW_DROPPED; /* before the stream began */
  if (in.delay > 0 || skip + trim > 0) restamp(in, buf, skip + trim, m - trim);
  /* else: the timestamps stay as they came */
  return GST_FLOW_OK;
}

static GstFlowReturn prosody_tone_suppress_transform_ip(GstBaseTransform* trans, GstBuffer* buf) {
  ProsodyToneSuppress* self = PROSODY_TONE_SUPPRESS(trans);
  const ProsodyTsanScope streaming(self);
  PROSODY_TSAN_ACQUIRE(buf); /* written in place: earlier readers are done */
  ProsodyToneSuppressInner& in = *self->inner;
  GstFlowReturn ret;
  bool latency_changed;
  std::vector<Report> reports;
  {
    std::lock_guard<std::mutex> lk(in.stream_lock);
    if (!in.ts) {
      GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, (nullptr), ("data before caps"));
      return GST_FLOW_NOT_NEGOTIATED;
    }
    try {
      ret = process_buffer(self, buf);
    } catch (const std::exception& e) {
      GST_ELEMENT_ERROR(self, LIBRARY, FAILED, ("Tone detection failed"), ("%s", e.what()));
      ret = GST_FLOW_ERROR;
    }
    commit_stats(self);
    latency_changed = take_reports(in, reports);
  }
  post_reports(self, reports, latency_changed);
  PROSODY_TSAN_RELEASE(buf); /* downstream may read it in another thread */
  return ret;
}

/* Handles a GAP event of `duration` at `ts`. Returns FALSE if the event was
 * replaced by audio (look-ahead) and must not be forwarded. */
static gboolean handle_gap(ProsodyToneSuppress* self, GstClockTime ts, GstClockTime duration) {
  ProsodyToneSuppressInner& in = *self->inner;
  if (!in.ts || !GST_CLOCK_TIME_IS_VALID(ts) || !GST_CLOCK_TIME_IS_VALID(duration))
    return TRUE; /* the next buffer's timestamp tells */
  if (apply_settings(self) != GST_FLOW_OK) return TRUE;
  if (!in.started) return TRUE; /* nothing to conceal yet */
  if (duration > kMaxConceal) {
    drain(self);
    return TRUE;
  }
  const std::size_t n = (std::size_t)time_to_samples(in, duration);
  std::size_t skip = 0;
  if (place(self, ts, n, true, &skip) != GST_FLOW_OK || skip >= n) return TRUE;
  lose(self, n - skip, nullptr);
  return in.delay == 0;
}

static gboolean prosody_tone_suppress_sink_event(GstBaseTransform* trans, GstEvent* event) {
  ProsodyToneSuppress* self = PROSODY_TONE_SUPPRESS(trans);
  const ProsodyTsanScope streaming(self);
  ProsodyToneSuppressInner& in = *self->inner;
  bool forward = true;
  bool latency_changed;
  std::vector<Report> reports;
  std::unique_lock<std::mutex> lk(in.stream_lock);
  try {
    switch (GST_EVENT_TYPE(event)) {
      case GST_EVENT_FLUSH_STOP:
        drain(self, false);
        break;
      case GST_EVENT_EOS:
        drain(self);
        break;
      case GST_EVENT_CAPS: {
        /* New caps are a new stream: finish the old one in its format. */
        GstCaps* caps;
        GstAudioInfo info;
        gst_event_parse_caps(event, &caps);
        if (in.ts && in.started && gst_audio_info_from_caps(&info, caps) &&
            (GST_AUDIO_INFO_RATE(&info) != (gint)in.rate ||
             (GST_AUDIO_INFO_FORMAT(&info) == GST_AUDIO_FORMAT_F32LE) != in.is_float))
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
  commit_stats(self);
  latency_changed = take_reports(in, reports);
  lk.unlock(); /* the parent class calls setup() for caps */
  post_reports(self, reports, latency_changed);
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
  const bool is_float = GST_AUDIO_INFO_FORMAT(info) == GST_AUDIO_FORMAT_F32LE;
  std::unique_lock<std::mutex> lk(in.stream_lock);
  if (in.ts && rate == in.rate && is_float == in.is_float) return TRUE; /* the same stream goes on */
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
  in.is_float = is_float;
  in.bpf = GST_AUDIO_INFO_BPF(info);
  in.delay = in.ts->latency_samples();
  in.decrease_pending = false;
  in.history.assign(1024, 0.0f); /* > 16 ms at 48 kHz */
  in.work.reserve(rate / 10);
  in.events.reserve(16);
  in.reports.reserve(16);
  reset_stream(in);
  in.props_lock.lock();
  const GstClockTime old_latency = in.latency;
  in.latency = samples_to_time(in, in.delay);
  in.negotiated = true;
  in.props_lock.unlock();
  GST_INFO_OBJECT(self, "%u Hz %s, look-ahead %" G_GSIZE_FORMAT " samples", rate, is_float ? "F32LE" : "S16LE",
                  in.delay);
  const bool latency_changed = old_latency != samples_to_time(in, in.delay);
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
  in.ts.reset();
  in.rate = 0;
  in.props_lock.lock();
  in.props_changed = true;
  in.negotiated = false;
  in.latency = in.props.lookahead;
  in.props_lock.unlock();
  return TRUE;
}

/* ---- Properties ---- */

static void prosody_tone_suppress_set_property(GObject* object, guint prop_id, const GValue* value, GParamSpec* pspec) {
  ProsodyToneSuppress* self = PROSODY_TONE_SUPPRESS(object);
  ProsodyToneSuppressInner& in = *self->inner;
  bool post_latency = false;
  in.props_lock.lock();
  Settings& s = in.props;
  switch (prop_id) {
    case PROP_TONE_SET:
      s.tone_set = g_value_get_enum(value);
      break;
    case PROP_REPORT:
      s.report = g_value_get_enum(value);
      break;
    case PROP_MIN_DURATION:
      s.min_duration = g_value_get_enum(value);
      break;
    case PROP_SUPPRESS:
      s.suppress = g_value_get_boolean(value);
      break;
    case PROP_LOOKAHEAD:
      s.lookahead = g_value_get_uint64(value);
      /* Once negotiated, the streaming thread reports the change when it
       * takes effect (a decrease waits for the end of a tone). */
      if (!in.negotiated && in.latency != s.lookahead) {
        in.latency = s.lookahead;
        post_latency = true;
      }
      break;
    case PROP_STANDARD:
      s.standard = g_value_get_enum(value);
      break;
    case PROP_TWIST_NORMAL:
      s.twist_normal = g_value_get_double(value);
      break;
    case PROP_TWIST_REVERSE:
      s.twist_reverse = g_value_get_double(value);
      break;
    case PROP_CPTONE_RECOGNITION:
      s.cptone_recognition = g_value_get_boolean(value);
      break;
    case PROP_POST_MESSAGES:
      s.post_messages = g_value_get_boolean(value);
      break;
    default:
      in.props_lock.unlock();
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      return;
  }
  in.props_changed = true;
  in.props_lock.unlock();
  if (post_latency) gst_element_post_message(GST_ELEMENT(self), gst_message_new_latency(GST_OBJECT(self)));
}

static GstStructure* stats_structure(ProsodyToneSuppress* self) {
  ProsodyToneSuppressInner& in = *self->inner;
  const SharedStats& s = in.stats;
  return gst_structure_new("prosody-tonesuppress-stats", "buffers", G_TYPE_UINT64, s.buffers.load(), "samples",
                           G_TYPE_UINT64, s.samples.load(), "concealed-samples", G_TYPE_UINT64,
                           s.concealed_samples.load(), "overlap-samples", G_TYPE_UINT64, s.overlap_samples.load(),
                           "sanitised-samples", G_TYPE_UINT64, s.sanitised_samples.load(), "streams", G_TYPE_UINT64,
                           s.streams.load(), "digits", G_TYPE_UINT64, s.digits.load(), "tones", G_TYPE_UINT64,
                           s.tones.load(), "latency", G_TYPE_UINT64, (guint64)in.latency, nullptr);
}

static void prosody_tone_suppress_get_property(GObject* object, guint prop_id, GValue* value, GParamSpec* pspec) {
  ProsodyToneSuppress* self = PROSODY_TONE_SUPPRESS(object);
  ProsodyToneSuppressInner& in = *self->inner;
  in.props_lock.lock();
  const Settings& s = in.props;
  switch (prop_id) {
    case PROP_TONE_SET:
      g_value_set_enum(value, s.tone_set);
      break;
    case PROP_REPORT:
      g_value_set_enum(value, s.report);
      break;
    case PROP_MIN_DURATION:
      g_value_set_enum(value, s.min_duration);
      break;
    case PROP_SUPPRESS:
      g_value_set_boolean(value, s.suppress);
      break;
    case PROP_LOOKAHEAD:
      g_value_set_uint64(value, s.lookahead);
      break;
    case PROP_STANDARD:
      g_value_set_enum(value, s.standard);
      break;
    case PROP_TWIST_NORMAL:
      g_value_set_double(value, s.twist_normal);
      break;
    case PROP_TWIST_REVERSE:
      g_value_set_double(value, s.twist_reverse);
      break;
    case PROP_CPTONE_RECOGNITION:
      g_value_set_boolean(value, s.cptone_recognition);
      break;
    case PROP_POST_MESSAGES:
      g_value_set_boolean(value, s.post_messages);
      break;
    case PROP_STATS:
      g_value_take_boxed(value, stats_structure(self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
  in.props_lock.unlock();
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
  /* GAP buffers are ours to judge: lost audio to the detector, and only
   * without look-ahead still neutral at the output. */
  gst_base_transform_set_gap_aware(trans, TRUE);
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

  GstCaps* caps = gst_caps_from_string(TONE_SUPPRESS_CAPS);
  gst_audio_filter_class_add_pad_templates(filter_class, caps);
  gst_caps_unref(caps);
  gst_element_class_set_static_metadata(element_class, "Prosody tone detector and suppressor", "Filter/Analyzer/Audio",
                                        "Detects DTMF digits, call-progress and fax tones, posts them as "
                                        "dtmf-event / prosody-tone messages with their timing, and removes "
                                        "them from the audio",
                                        "Prosody project");

  trans_class->transform_ip = GST_DEBUG_FUNCPTR(prosody_tone_suppress_transform_ip);
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
