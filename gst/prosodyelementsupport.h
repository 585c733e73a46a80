/* prosodyelementsupport.h - what the prosody elements share: their raw audio
 * caps, buffers wrapped for the input timeline, sample helpers around
 * libprosody's one conversion rule, time <-> timeline positions, and the
 * dtmf-event / prosody-tone messages. Not installed.
 */
#pragma once

#include <gst/audio/audio.h>
#include <gst/gst.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "prosody/prosody.hpp"
#include "prosody/tones.hpp"
#include "prosodytimeline.hpp"

#if G_BYTE_ORDER != G_LITTLE_ENDIAN
#error "the prosody elements speak S16LE/F32LE and map them as native samples"
#endif

/* The raw audio every prosody element takes and gives. */
#define PROSODY_AUDIO_CAPS                                           \
  "audio/x-raw, format = (string) { S16LE, F32LE }, "                \
  "rate = (int) { 8000, 16000, 32000, 48000 }, channels = (int) 1, " \
  "layout = (string) interleaved"

G_BEGIN_DECLS

/* ---- The pad base class ---- */

/* ProsodyPad: a pad of a prosody element with what the elements' pads share:
 * an index (N of sink_N / src_N), the properties volume (gdouble, dB,
 * -60..24, ramped by the element) and agc (gboolean), both controllable
 * while playing, and a read-only stats property. A subclass adds its own
 * properties, calls prosody_pad_changed() after it changed one, and
 * implements changed (the element takes the new values; no lock held) and
 * stats (a new structure). */
#define PROSODY_TYPE_PAD (prosody_pad_get_type())
G_DECLARE_DERIVABLE_TYPE(ProsodyPad, prosody_pad, PROSODY, PAD, GstPad)
struct _ProsodyPadClass {
  GstPadClass parent_class;
  void (*changed)(ProsodyPad* pad, gboolean routing_changed);
  GstStructure* (*stats)(ProsodyPad* pad);
};

guint prosody_pad_get_index(ProsodyPad* pad);
void prosody_pad_set_index(ProsodyPad* pad, guint index);
/* volume and agc, read together under the pad's object lock. */
void prosody_pad_get_gain(ProsodyPad* pad, gdouble* volume_db, gboolean* agc);
/* Calls the class's changed (no lock may be held). */
void prosody_pad_changed(ProsodyPad* pad, gboolean routing_changed);

G_END_DECLS

namespace prosody_gst {

/* ---- Caps ---- */

/* The answer to a CAPS query on pad: its template caps, with the rate fixed
 * when rate is not 0, intersected with filter (may be null). */
GstCaps* caps_at_rate(GstPad* pad, guint rate, GstCaps* filter);

/* Reads caps that must be PROSODY_AUDIO_CAPS. On failure, returns false
 * and says why in *why (a static string). */
bool parse_audio_caps(GstCaps* caps, GstAudioInfo* info, const char** why);

inline prosody::SampleFormat sample_format_of(const GstAudioInfo* info) {
  return GST_AUDIO_INFO_FORMAT(info) == GST_AUDIO_FORMAT_F32LE ? prosody::SampleFormat::f32
                                                               : prosody::SampleFormat::s16;
}
inline std::size_t bytes_per_sample(prosody::SampleFormat f) {
  return f == prosody::SampleFormat::f32 ? sizeof(float) : sizeof(std::int16_t);
}

/* ---- Properties ---- */

/* A property value kept in a plain field of its fundamental type (an enum
 * in a gint, a boolean in a gboolean; guint64, gdouble, gint, guint): the
 * GValue copied in or out. */
void set_field(void* field, const GValue* value);
void get_field(const void* field, GValue* value);

/* ---- Samples ---- */

/* Replaces NaN and infinities by 0 in place (neither may reach an analysis
 * or an output); returns how many. Checks eight samples at a time. */
std::size_t sanitise_samples(float* x, std::size_t n);

/* Writes n float samples to dest in format (S16: libprosody's rule). */
void store_samples(const float* x, std::size_t n, prosody::SampleFormat format, void* dest);

/* A new buffer holding n float samples in format. */
GstBuffer* new_audio_buffer(const float* x, std::size_t n, prosody::SampleFormat format);

/* ---- Buffers on the timeline ---- */

/* A buffer mapped for as long as the timeline holds it. */
struct MappedBuffer {
  GstBuffer* buffer;
  GstMapInfo map;
};

/* Maps buffer, taking over the caller's reference; null (and the reference
 * dropped) if it cannot be mapped. */
MappedBuffer* map_buffer(GstBuffer* buffer, GstMapFlags flags);
/* Timeline::Release for a MappedBuffer: unmaps and unrefs it. */
void release_mapped_buffer(void* mapped);

/* Queues buffer at running time rt (GST_CLOCK_TIME_NONE: contiguous),
 * mapped read-only (or read-write with writable: the caller writes its
 * output over the pieces). Takes over the caller's reference. Returns
 * false if it cannot be mapped. */
bool push_buffer(Timeline& timeline, GstBuffer* buffer, GstClockTime rt, guint rate, prosody::SampleFormat format,
                 bool writable, Placement* placement = nullptr);

/* ---- Time ---- */

/* Timeline position (samples at rate, rounded) of running time rt;
 * Timeline::kNoPosition for GST_CLOCK_TIME_NONE. */
std::int64_t position_of(GstClockTime rt, guint rate);
/* Running time of a position (GST_CLOCK_TIME_NONE before 0). */
GstClockTime running_time_of(std::int64_t position, guint rate);
inline GstClockTime samples_to_time(std::uint64_t n, guint rate) {
  return gst_util_uint64_scale_int_round(n, GST_SECOND, gint(rate));
}
inline std::uint64_t time_to_samples(GstClockTime t, guint rate) {
  return gst_util_uint64_scale_int_round(t, gint(rate), GST_SECOND);
}

/* ---- The look-ahead's history ---- */

/* The latest input samples by timeline position (lost ones as 0): what a
 * shrinking look-ahead must still send, which the ToneSuppressor's delay
 * line drops. */
class RecentInput {
 public:
  static constexpr std::size_t kCapacity = 1024; /* > 16 ms at 48 kHz */
  RecentInput() : ring_(kCapacity, 0.0f) {}
  void clear() { std::fill(ring_.begin(), ring_.end(), 0.0f); }
  /* Samples [pos, pos + n) were x (null: lost). */
  void add(std::int64_t pos, const float* x, std::size_t n);
  /* Copies [from, to): within the last kCapacity samples added. */
  void copy(std::int64_t from, std::int64_t to, float* out) const;

 private:
  std::vector<float> ring_;
};

/* ---- Tone messages ---- */

/* When a tone message happened, as the element's clock tells it. */
struct ToneTimes {
  GstClockTime timestamp = GST_CLOCK_TIME_NONE; /* PTS */
  GstClockTime running_time = GST_CLOCK_TIME_NONE;
  GstClockTime stream_time = GST_CLOCK_TIME_NONE;
  GstClockTime duration = GST_CLOCK_TIME_NONE; /* end messages */
};

/* The message structure of a detector event: dtmf-event for a digit (the
 * structure dtmfdetect and rtpdtmfdepay post: type 1, number, method 2,
 * start, volume, level), prosody-tone for a call-progress tone (tone = its
 * name) or a single tone of tone set 1 (tone = "tone", id and id2 its
 * bands); with timestamp, stream-time and running-time, and duration in end
 * messages. Null for an event that has no message (not a DTMF digit). */
GstStructure* tone_event_structure(const prosody::ToneEvent& event, const ToneTimes& times);

/* A module's recognition as a detector event (start_sample as reported). */
prosody::ToneEvent tone_event_of(const prosody::Recognition& r);

}  // namespace prosody_gst
