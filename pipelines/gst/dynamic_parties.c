/* dynamic_parties.c - adds and removes conference parties while PLAYING.
 *
 * Party 0 talks (440 Hz), party 1 listens. Every 400 ms a new party joins
 * with its own tone (a sink_N/src_N pair is requested, a live source linked
 * to it) and the previous newcomer leaves (source stopped, pads released),
 * five times. What party 1 heard is checked with a Goertzel filter: each
 * newcomer's tone while it was there and not after it left; 440 Hz all along.
 * Exit status 0 when it holds.
 *
 * Build: cc dynamic_parties.c $(pkg-config --cflags --libs gstreamer-app-1.0) -lm
 * Run with GST_PLUGIN_PATH holding the built plugin (see env.sh).
 */
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <math.h>
#include <stdio.h>

#define RATE 8000
#define TURNS 5

static gfloat* heard;
static gsize n_heard, cap_heard;
/* Running time of heard[0]: windows are placed by running time, so that how
 * far the appsink lags behind (a loaded machine) does not matter. */
static GstClockTime first_pts = GST_CLOCK_TIME_NONE;

static void drain(GstElement* sink) {
  GstSample* s;
  while ((s = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 0))) {
    GstBuffer* b = gst_sample_get_buffer(s);
    if (!GST_CLOCK_TIME_IS_VALID(first_pts)) first_pts = GST_BUFFER_PTS(b);
    GstMapInfo map;
    gst_buffer_map(b, &map, GST_MAP_READ);
    const gint16* v = (const gint16*)map.data;
    for (gsize i = 0; i < map.size / 2; ++i) {
      if (n_heard == cap_heard) {
        cap_heard = cap_heard ? 2 * cap_heard : 65536;
        heard = g_renew(gfloat, heard, cap_heard);
      }
      heard[n_heard++] = v[i] / 32768.0f;
    }
    gst_buffer_unmap(b, &map);
    gst_sample_unref(s);
  }
}

static gboolean run_for(GstElement* pipeline, GstElement* sink, gint ms) {
  gint64 end = g_get_monotonic_time() + ms * 1000;
  GstBus* bus = gst_element_get_bus(pipeline);
  gboolean ok = TRUE;
  while (g_get_monotonic_time() < end) {
    drain(sink);
    GstMessage* m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
    if (m) {
      GError* e;
      gst_message_parse_error(m, &e, NULL);
      fprintf(stderr, "error: %s\n", e->message);
      g_error_free(e);
      gst_message_unref(m);
      ok = FALSE;
      break;
    }
    g_usleep(10000);
  }
  gst_object_unref(bus);
  return ok;
}

/* The pipeline's running time now. */
static GstClockTime running_time(GstElement* pipeline) {
  GstClock* clock = gst_element_get_clock(pipeline);
  const GstClockTime now = gst_clock_get_time(clock);
  gst_object_unref(clock);
  return now - gst_element_get_base_time(pipeline);
}

/* Index in heard[] of the sample at running time rt (the output is
 * contiguous from first_pts). */
static gsize sample_at(GstClockTime rt) {
  if (rt <= first_pts) return 0;
  const gsize i = (gsize)gst_util_uint64_scale(rt - first_pts, RATE, GST_SECOND);
  return i < n_heard ? i : n_heard;
}

/* dBm0 of the component at freq in heard[from, to) (Hann-windowed DFT bin). */
static double tone_dbm0(double freq, gsize from, gsize to) {
  double re = 0, im = 0, wsum = 0;
  gsize n = to - from;
  for (gsize i = 0; i < n; ++i) {
    double w = 0.5 - 0.5 * cos(2 * G_PI * i / (n - 1));
    re += w * heard[from + i] * cos(2 * G_PI * freq * i / RATE);
    im -= w * heard[from + i] * sin(2 * G_PI * freq * i / RATE);
    wsum += w;
  }
  double amp = 2 * sqrt(re * re + im * im) / wsum, ms = amp * amp / 2;
  return ms > 1e-30 ? 10 * log10(ms / 0.5) + 3.14 : -300;
}

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  GError* err = NULL;
  GstElement* pipeline = gst_parse_launch(
      "prosodyconfmix name=m rate=8000 "
      "audiotestsrc is-live=true freq=440 volume=0.3 samplesperbuffer=80 ! "
      "audio/x-raw,format=S16LE,rate=8000,channels=1 ! m.sink_0 "
      "m.src_0 ! queue ! fakesink async=false "
      "m.src_1 ! queue ! appsink name=heard sync=false async=false "
      "caps=audio/x-raw,format=S16LE",
      &err);
  if (!pipeline) {
    fprintf(stderr, "%s\n", err->message);
    return 2;
  }
  GstElement* mix = gst_bin_get_by_name(GST_BIN(pipeline), "m");
  GstElement* sink = gst_bin_get_by_name(GST_BIN(pipeline), "heard");
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  gboolean ok = run_for(pipeline, sink, 400);

  double freq[TURNS];
  GstClockTime joined[TURNS], left[TURNS]; /* running times */
  GstElement* talker = NULL;
  GstPad* pads[2] = {NULL, NULL};
  for (int t = 0; t < TURNS && ok; ++t) {
    /* The previous newcomer leaves... */
    if (talker) {
      gst_element_set_state(talker, GST_STATE_NULL);
      gst_bin_remove(GST_BIN(pipeline), talker);
      gst_element_release_request_pad(mix, pads[0]);
      gst_element_release_request_pad(mix, pads[1]);
      gst_object_unref(pads[0]);
      gst_object_unref(pads[1]);
      left[t - 1] = running_time(pipeline);
    }
    /* ...and a new one joins, as party 2 + t, with its own tone. */
    freq[t] = 600 + 150 * t;
    gchar* desc = g_strdup_printf(
        "audiotestsrc is-live=true freq=%g "
        "volume=0.3 samplesperbuffer=80 ! capsfilter caps=audio/x-raw,"
        "format=S16LE,rate=8000,channels=1",
        freq[t]);
    talker = gst_parse_bin_from_description(desc, TRUE, NULL);
    g_free(desc);
    gst_bin_add(GST_BIN(pipeline), talker);
    gchar* sname = g_strdup_printf("sink_%d", 2 + t);
    gchar* oname = g_strdup_printf("src_%d", 2 + t);
    pads[0] = gst_element_request_pad_simple(mix, sname);
    pads[1] = gst_element_request_pad_simple(mix, oname);
    g_free(sname);
    g_free(oname);
    GstPad* tsrc = gst_element_get_static_pad(talker, "src");
    gst_pad_link(tsrc, pads[0]);
    gst_object_unref(tsrc);
    gst_element_sync_state_with_parent(talker);
    joined[t] = running_time(pipeline);
    ok = run_for(pipeline, sink, 400);
  }
  if (talker) {
    gst_element_set_state(talker, GST_STATE_NULL);
    gst_bin_remove(GST_BIN(pipeline), talker);
    gst_element_release_request_pad(mix, pads[0]);
    gst_element_release_request_pad(mix, pads[1]);
    gst_object_unref(pads[0]);
    gst_object_unref(pads[1]);
    left[TURNS - 1] = running_time(pipeline);
  }
  ok = ok && run_for(pipeline, sink, 400);
  gst_element_set_state(pipeline, GST_STATE_NULL);

  const gsize q = RATE / 8; /* skip 125 ms around changes: joining, ramps */
  for (int t = 0; t < TURNS && ok; ++t) {
    const gsize join = sample_at(joined[t]), leave = sample_at(left[t]);
    const gsize after_end = t + 1 < TURNS ? sample_at(left[t + 1]) : n_heard;
    double in = tone_dbm0(freq[t], join + q, leave);
    double out = tone_dbm0(freq[t], leave + q, after_end);
    gboolean good = in > -20 && out < -55;
    printf("party %d (%g Hz): %.1f dBm0 while there, %.1f dBm0 after %s\n", 2 + t, freq[t], in, out,
           good ? "ok" : "WRONG");
    ok &= good;
  }
  double base = tone_dbm0(440, RATE / 10, n_heard);
  printf("party 0 (440 Hz) throughout: %.1f dBm0 %s\n", base, base > -20 ? "ok" : "WRONG");
  ok &= base > -20;
  gst_object_unref(mix);
  gst_object_unref(sink);
  gst_object_unref(pipeline);
  g_free(heard);
  return ok ? 0 : 1;
}
