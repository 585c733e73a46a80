// bench_srcsink - N live callers (default 200) in one conference, in one
// process, two ways, in the same run:
//
//  pairs    one pipeline per caller, as a telephony application runs them:
//           `audiotestsrc is-live=true ! prosodysink party=cK conference=room`
//           and `prosodysrc party=cK conference=room ! fakesink`, all on
//           the shared real-time module "bench" (8 kHz, 10 ms frames);
//  confmix  the same callers in one pipeline: the same sources into
//           prosodyconfmix's sink_K, src_K into a fakesink.
//
// Every caller sends 10 ms buffers of its own tone. After WARMUP_S (the
// callers are started and the module has settled), for SECONDS of wall
// time: the process CPU time (all threads, CLOCK_PROCESS_CPUTIME_ID) per
// wall second divided by N, the CPU share of one caller (1.0 = a whole
// core); and the underrun/overrun counts over that time from the stats:
//
//  pairs    underruns: prosodysink's `underruns` (frames the module
//           concealed); overruns: its `overrun-frames` plus prosodysrc's
//           `dropped-frames`;
//  confmix  underruns: the sink pads' `frames-concealed`; overruns: their
//           `late-buffers` and the src pads' `dropped-samples` / 80.
//
// Both use a 20 ms jitter margin (prosodysink latency, prosodyconfmix
// latency). Rounds interleave the two (pairs, confmix, pairs, ...).
//
// Usage: bench_srcsink [seconds=60] [callers=200] [rounds=1]
// (GST_PLUGIN_PATH must hold the built plugin, as the meson benchmark sets
// it.)
#include <gst/gst.h>
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "gst_bench_run.hpp"

namespace {

using benchrun::process_cpu_seconds;

constexpr double kWarmupS = 3.0;
constexpr guint64 kFrameSamples = 80;  // 10 ms at 8 kHz
const char* const kCaps = "audio/x-raw,format=S16LE,rate=8000,channels=1";
const char* const kMargin = "20000000";

double wall_seconds() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

std::string talker(int k) {
  return "audiotestsrc is-live=true freq=" + std::to_string(200 + 37 * (k % 80)) +
         " volume=0.05 samplesperbuffer=80 ! " + kCaps;
}

struct Counts {
  guint64 underruns = 0, overruns = 0;
};

guint64 stat_of(GstObject* object, const char* field) {
  GstStructure* s = nullptr;
  g_object_get(object, "stats", &s, nullptr);
  guint64 v = 0;
  const bool found = s && gst_structure_get_uint64(s, field, &v);
  if (s) gst_structure_free(s);
  if (!found) {
    /* A count that silently read 0 would be a figure of nothing. */
    std::fprintf(stderr, "%s has no stats field %s\n", GST_OBJECT_NAME(object), field);
    std::exit(1);
  }
  return v;
}

GstObject* by_name(GstElement* bin, const std::string& name) {
  return GST_OBJECT(gst_bin_get_by_name(GST_BIN(bin), name.c_str()));
}

// One construction: its pipelines, what to count, and a name.
struct Construction {
  const char* name;
  std::vector<GstElement*> pipelines;
  Counts (*count)(const Construction&, int callers);
};

Counts count_pairs(const Construction& c, int callers) {
  Counts n;
  for (int k = 0; k < callers; ++k) {
    GstObject* in = by_name(c.pipelines[std::size_t(k)], "in");
    GstObject* out = by_name(c.pipelines[std::size_t(k)], "out");
    n.underruns += stat_of(in, "underruns");
    n.overruns += stat_of(in, "overrun-frames") + stat_of(out, "dropped-frames");
    gst_object_unref(in);
    gst_object_unref(out);
  }
  return n;
}

Counts count_confmix(const Construction& c, int callers) {
  Counts n;
  GstObject* mix = by_name(c.pipelines[0], "m");
  for (int k = 0; k < callers; ++k) {
    GstPad* sink = gst_element_get_static_pad(GST_ELEMENT(mix), ("sink_" + std::to_string(k)).c_str());
    GstPad* src = gst_element_get_static_pad(GST_ELEMENT(mix), ("src_" + std::to_string(k)).c_str());
    if (sink) {
      n.underruns += stat_of(GST_OBJECT(sink), "frames-concealed");
      n.overruns += stat_of(GST_OBJECT(sink), "late-buffers");
      gst_object_unref(sink);
    }
    if (src) {
      n.overruns += stat_of(GST_OBJECT(src), "dropped-samples") / kFrameSamples;
      gst_object_unref(src);
    }
  }
  gst_object_unref(mix);
  return n;
}

GstElement* parse(const std::string& description) {
  GError* err = nullptr;
  GstElement* p = gst_parse_launch(description.c_str(), &err);
  if (err) {
    std::fprintf(stderr, "parse error: %s\n", err->message);
    g_error_free(err);
    if (p) gst_object_unref(p);
    return nullptr;
  }
  return p;
}

Construction pairs(int callers) {
  Construction c{"pairs", {}, count_pairs};
  for (int k = 0; k < callers; ++k) {
    const std::string party = " module=bench party=c" + std::to_string(k) + " conference=room";
    c.pipelines.push_back(parse(talker(k) + " ! prosodysink name=in latency=" + kMargin + party +
                                " prosodysrc name=out" + party + " ! fakesink sync=false async=false"));
  }
  return c;
}

Construction confmix(int callers) {
  Construction c{"confmix", {}, count_confmix};
  std::string d = std::string("prosodyconfmix name=m rate=8000 frame-duration=10000000 latency=") + kMargin + " ";
  for (int k = 0; k < callers; ++k) {
    const std::string i = std::to_string(k);
    d += talker(k) + " ! m.sink_" + i + " m.src_" + i + " ! fakesink sync=false async=false ";
  }
  c.pipelines.push_back(parse(d));
  return c;
}

// The first error any pipeline posted, or "".
std::string first_error(const Construction& c) {
  for (GstElement* p : c.pipelines) {
    GstBus* bus = gst_element_get_bus(p);
    GstMessage* m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
    gst_object_unref(bus);
    if (m) {
      GError* e = nullptr;
      gst_message_parse_error(m, &e, nullptr);
      std::string text = e->message;
      g_error_free(e);
      gst_message_unref(m);
      return text;
    }
  }
  return "";
}

struct Result {
  double cpu_per_caller = -1;  // share of a core
  Counts counts;
  double seconds = 0;
};

Result measure(Construction c, int callers, double seconds) {
  Result r;
  for (GstElement* p : c.pipelines)
    if (!p) return r;
  for (GstElement* p : c.pipelines) gst_element_set_state(p, GST_STATE_PLAYING);
  g_usleep(gulong(kWarmupS * 1e6));
  const Counts before = c.count(c, callers);
  const double cpu0 = process_cpu_seconds(), wall0 = wall_seconds();
  g_usleep(gulong(seconds * 1e6));
  const double cpu = process_cpu_seconds() - cpu0, wall = wall_seconds() - wall0;
  const Counts after = c.count(c, callers);
  const std::string error = first_error(c);
  for (GstElement* p : c.pipelines) gst_element_set_state(p, GST_STATE_NULL);
  for (GstElement* p : c.pipelines) gst_object_unref(p);
  if (!error.empty()) {
    std::fprintf(stderr, "%s: error: %s\n", c.name, error.c_str());
    return r;
  }
  r.cpu_per_caller = cpu / wall / callers;
  r.counts.underruns = after.underruns - before.underruns;
  r.counts.overruns = after.overruns - before.overruns;
  r.seconds = wall;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  const double seconds = argc > 1 ? std::atof(argv[1]) : 60.0;
  const int callers = argc > 2 ? std::atoi(argv[2]) : 200;
  const int rounds = argc > 3 ? std::max(1, std::atoi(argv[3])) : 1;
  for (const char* f : {"prosodysink", "prosodysrc", "prosodyconfmix"}) {
    GstElementFactory* factory = gst_element_factory_find(f);
    if (!factory) {
      std::fprintf(stderr, "%s not found: set GST_PLUGIN_PATH to <build>/gst\n", f);
      return 1;
    }
    gst_object_unref(factory);
  }
  std::printf("%d live callers, %.0f s measured after %.0f s of warm-up, %d round(s) interleaved\n\n", callers, seconds,
              kWarmupS, rounds);
  std::printf(
      "| round | construction | CPU per caller (%% of a core) | process CPU (cores) | underruns | overruns |\n");
  std::printf("|---|---|---|---|---|---|\n");
  bool ok = true;
  for (int round = 1; round <= rounds; ++round) {
    for (Construction (*make)(int) : {pairs, confmix}) {
      Construction c = make(callers);
      const char* name = c.name;
      const Result r = measure(std::move(c), callers, seconds);
      if (r.cpu_per_caller < 0) {
        ok = false;
        continue;
      }
      std::printf("| %d | %s | %.3f | %.2f | %llu | %llu |\n", round, name, 100.0 * r.cpu_per_caller,
                  r.cpu_per_caller * callers, (unsigned long long)r.counts.underruns,
                  (unsigned long long)r.counts.overruns);
      std::fflush(stdout);
    }
  }
  return ok ? 0 : 1;
}
