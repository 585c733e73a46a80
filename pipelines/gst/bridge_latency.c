/* bridge_latency.c - mouth-to-ear latency through an RTP conference bridge,
 * measured by two of its callers in one pipeline (one clock, one base time,
 * so their times compare).
 *
 * The talker sends a quiet 300 Hz tone (it keeps the conference's speech
 * gate open) as 10 ms mu-law RTP packets, with a click (one sample at 0.8 of
 * full scale) in the middle of every 50th packet. The listener takes the
 * bridge's RTP for another party straight from its socket (no jitter
 * buffer), decodes it and finds each click as a jump between samples far
 * above the tone's.
 *
 *   mouth: the click's capture time: its buffer's timestamp plus its place
 *     in the buffer (what a sound card's timestamp means);
 *   ear: when an ideal far phone, one that plays a packet the moment it
 *     arrives, plays the click: the packet's arrival time (udpsrc's
 *     timestamp) plus the click's place in the packet. A real phone adds
 *     its own jitter buffer.
 *
 * Prints every click's latency, and the median, min and max against the
 * bar (2 frames plus the bridge's jitter buffer); exit status 1 if fewer
 * than half the clicks came back.
 *
 *   bridge_latency SEND_PORT RECEIVE_PORT [CLICKS [JITTER_MS [FRAME_MS]]]
 *
 * Build: cc bridge_latency.c $(pkg-config --cflags --libs gstreamer-1.0)
 * It uses stock elements only; the bridge is srcsink_rtp_bridge.sh's.
 */
#include <gst/gst.h>
#include <stdio.h>
#include <stdlib.h>

#define RATE 8000
#define SAMPLES_PER_PACKET 80
#define CLICK_EVERY_PACKETS 50
#define CLICK_AT (SAMPLES_PER_PACKET / 2)
#define CLICK_VALUE 26214 /* 0.8 of full scale */
/* Decoded, the 300 Hz tone at volume 0.05 moves by at most ~400 a sample;
 * the click jumps by ~26000. */
#define JUMP 8000
#define MAX_CLICKS 1000
#define SETTLE_PACKETS 300

static GstClockTime sent[MAX_CLICKS];
static guint n_sent, clicks_wanted, packets_out;
static GstClockTime heard[MAX_CLICKS];
static guint n_heard;
static gint previous_sample;
static GMutex lock;

/* The talker's packets: a click in every 50th from the third second on
 * (the first seconds are the bridge's to settle: its jitter buffer and
 * sink start on this party's first packets). */
static GstPadProbeReturn on_mouth(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  (void)pad;
  (void)data;
  ++packets_out;
  if (packets_out < SETTLE_PACKETS || packets_out % CLICK_EVERY_PACKETS != 0) return GST_PAD_PROBE_OK;
  g_mutex_lock(&lock);
  const gboolean more = n_sent < clicks_wanted;
  g_mutex_unlock(&lock);
  if (!more) return GST_PAD_PROBE_OK;
  GstBuffer* buf = gst_buffer_make_writable(GST_PAD_PROBE_INFO_BUFFER(info));
  GST_PAD_PROBE_INFO_DATA(info) = buf;
  const gint16 click = GINT16_TO_LE(CLICK_VALUE);
  gst_buffer_fill(buf, CLICK_AT * sizeof(gint16), &click, sizeof click);
  g_mutex_lock(&lock);
  sent[n_sent++] = GST_BUFFER_PTS(buf) + gst_util_uint64_scale_int(CLICK_AT, GST_SECOND, RATE);
  g_mutex_unlock(&lock);
  return GST_PAD_PROBE_OK;
}

/* The listener's decoded packets, timestamped at arrival. */
static GstPadProbeReturn on_ear(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  (void)pad;
  (void)data;
  GstBuffer* buf = GST_PAD_PROBE_INFO_BUFFER(info);
  GstMapInfo map;
  if (!gst_buffer_map(buf, &map, GST_MAP_READ)) return GST_PAD_PROBE_OK;
  const gint16* v = (const gint16*)map.data;
  g_mutex_lock(&lock);
  for (gsize i = 0; i < map.size / 2; ++i) {
    const GstClockTime t = GST_BUFFER_PTS(buf) + gst_util_uint64_scale_int(i, GST_SECOND, RATE);
    /* One click is one jump up and one down: count it once. */
    if (abs(v[i] - previous_sample) > JUMP && n_heard < MAX_CLICKS &&
        (n_heard == 0 || t > heard[n_heard - 1] + 100 * GST_MSECOND))
      heard[n_heard++] = t;
    previous_sample = v[i];
  }
  g_mutex_unlock(&lock);
  gst_buffer_unmap(buf, &map);
  return GST_PAD_PROBE_OK;
}

static int compare_double(const void* a, const void* b) {
  const double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  if (argc < 3) {
    fprintf(stderr, "usage: %s SEND_PORT RECEIVE_PORT [CLICKS [JITTER_MS [FRAME_MS]]]\n", argv[0]);
    return 2;
  }
  const int send_port = atoi(argv[1]), receive_port = atoi(argv[2]);
  clicks_wanted = argc > 3 ? (guint)atoi(argv[3]) : 20;
  if (clicks_wanted < 1 || clicks_wanted > MAX_CLICKS) clicks_wanted = 20;
  const double jitter_ms = argc > 4 ? atof(argv[4]) : 0.0;
  const double frame_ms = argc > 5 ? atof(argv[5]) : 10.0;
  const guint packets = SETTLE_PACKETS + (clicks_wanted + 1) * CLICK_EVERY_PACKETS;

  gchar* description = g_strdup_printf(
      "audiotestsrc name=mouth is-live=true freq=300 volume=0.05 samplesperbuffer=%d num-buffers=%u ! "
      "audio/x-raw,format=S16LE,rate=%d,channels=1 ! mulawenc ! rtppcmupay ! udpsink host=127.0.0.1 port=%d "
      "udpsrc port=%d caps=\"application/x-rtp,media=audio,clock-rate=8000,encoding-name=PCMU,payload=0\" ! "
      "rtppcmudepay ! mulawdec name=ear ! fakesink sync=false",
      SAMPLES_PER_PACKET, packets, RATE, send_port, receive_port);
  GError* error = NULL;
  GstElement* pipeline = gst_parse_launch(description, &error);
  g_free(description);
  if (!pipeline) {
    fprintf(stderr, "parse: %s\n", error->message);
    return 2;
  }
  GstElement* mouth = gst_bin_get_by_name(GST_BIN(pipeline), "mouth");
  GstElement* ear = gst_bin_get_by_name(GST_BIN(pipeline), "ear");
  GstPad* mouth_pad = gst_element_get_static_pad(mouth, "src");
  GstPad* ear_pad = gst_element_get_static_pad(ear, "src");
  gst_pad_add_probe(mouth_pad, GST_PAD_PROBE_TYPE_BUFFER, on_mouth, NULL, NULL);
  gst_pad_add_probe(ear_pad, GST_PAD_PROBE_TYPE_BUFFER, on_ear, NULL, NULL);
  gst_object_unref(mouth_pad);
  gst_object_unref(ear_pad);
  gst_object_unref(mouth);
  gst_object_unref(ear);

  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  GstBus* bus = gst_element_get_bus(pipeline);
  GstMessage* msg = gst_bus_timed_pop_filtered(bus, (packets / 100 + 10) * GST_SECOND,
                                               (GstMessageType)(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  int status = 0;
  if (msg && GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    GError* e;
    gchar* dbg;
    gst_message_parse_error(msg, &e, &dbg);
    fprintf(stderr, "error: %s (%s)\n", e->message, dbg ? dbg : "");
    g_error_free(e);
    g_free(dbg);
    status = 1;
  }
  if (msg) gst_message_unref(msg);
  /* The last click is still on its way when the talker ends. */
  g_usleep(500000);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(bus);
  gst_object_unref(pipeline);
  if (status) return status;

  /* Each click heard against the latest click sent before it. */
  double latency_ms[MAX_CLICKS];
  guint n = 0;
  for (guint h = 0; h < n_heard; ++h) {
    gint last = -1;
    for (guint s = 0; s < n_sent; ++s)
      if (sent[s] <= heard[h]) last = (gint)s;
    if (last >= 0) latency_ms[n++] = (double)(heard[h] - sent[last]) / 1e6;
  }
  printf("clicks sent %u, heard %u\nlatency ms:", n_sent, n_heard);
  for (guint i = 0; i < n; ++i) printf(" %.1f", latency_ms[i]);
  printf("\n");
  if (n < (clicks_wanted + 1) / 2) {
    fprintf(stderr, "too few clicks came back\n");
    return 1;
  }
  qsort(latency_ms, n, sizeof latency_ms[0], compare_double);
  const double median = n % 2 ? latency_ms[n / 2] : (latency_ms[n / 2 - 1] + latency_ms[n / 2]) / 2;
  printf(
      "mouth-to-ear through the bridge: median %.1f ms, min %.1f, max %.1f (%u clicks); bar: 2 frames + jitter "
      "buffer = %.1f ms\n",
      median, latency_ms[0], latency_ms[n - 1], n, 2 * frame_ms + jitter_ms);
  return 0;
}
