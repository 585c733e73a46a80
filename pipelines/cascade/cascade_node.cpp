// cascade_node: one node of a conference that spans processes (and hosts),
// the application note's models over RTP (broadcast by default; --model
// pipeline or hierarchical).
//
// One process = one shared real-time module ("cascade") with P local
// parties fed through host ports from synthetic speech (a tone per party, in
// syllables), and a local sum of those parties. Through the GStreamer
// elements the node
//   exports, to each node it sends to, its local sum or a clone of it with
//   the imports the model adds:
//                            prosodysrc channel=<export> ! L16 RTP ! udpsink
//   imports each node it hears:
//                            udpsrc ! rtpjitterbuffer ! L16 depay !
//                            prosodysink channel=<import of that node>.
// Each party hears the local sum less itself plus every import. What is sent
// to a node never holds what that node sent: nobody hears themselves and no
// loop forms.
//
// Each listener's output is recorded and measured by Goertzel at every
// talker's frequency (all nodes'): the node prints one JSON report on stdout,
// read by cascade.py. A clicker party (an ungated input) puts a click in
// after the tone phase, every N seconds at this node's slot, for the latency
// per hop.
//
// Usage: see usage() below; cascade.py runs it.
#include <gst/gst.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "own_voice.hpp"
#include "prosody/prosody.hpp"
#include "signal.hpp"

namespace {

constexpr unsigned kRate = 8000;
constexpr unsigned kFrame = 80;      // 10 ms
constexpr double kToneDbm0 = -35.0;  // each talker's tone level
using cascade::kSyllable;
constexpr std::size_t kInputTarget = 4 * kFrame;  // host input kept this full
constexpr double kClickAmplitude = 0.25;
constexpr double kClickThreshold = 0.08;
constexpr std::int64_t kClickSearchDelay = 500000000;  // ns after the tone phase  // a click in a listener's output
// Time series: 500 ms windows (two whole syllables, so that a window's level
// does not depend on where the syllables fall) every 250 ms.
constexpr std::size_t kSeriesWindow = 2 * kSyllable;
constexpr std::size_t kSeriesStep = kSyllable;

struct Options {
  int node = 0;
  int nodes = 3;
  int parties = 4;
  int talkers = -1;    // parties with a tone (the rest: line noise); -1 = all
  int listeners = -1;  // talkers whose output is measured; -1 = all talkers
  int base_port = 40000;
  std::vector<std::string> peer_address;  // per node; default 127.0.0.1
  std::string bind_address = "0.0.0.0";
  std::int64_t start_ns = 0;  // CLOCK_MONOTONIC: the tone phase begins
  double warmup_s = 2.0;      // not measured: links settling
  double tone_s = 6.0;
  double click_s = 0.0;
  int jitter_ms = 60;               // rtpjitterbuffer latency
  int sink_latency_ms = 40;         // prosodysink's jitter margin
  double loss = 0.0;                // netsim at the receivers: drop probability
  int jitter_max_ms = 0;            // netsim: delay uniform in 0..this
  std::string model = "broadcast";  // broadcast, pipeline or hierarchical
  bool pace = false;                // release imports on their timestamps (identity sync=true)
};

std::int64_t now_ns() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return std::int64_t(t.tv_sec) * 1000000000 + t.tv_nsec;
}

// Party p of node n in the whole conference; its tone's frequency.
int global_party(const Options& o, int node, int p) { return node * o.talkers + p; }
double party_spacing(const Options& o) {
  // Spread over 300..3300 Hz, at least 100 Hz apart for 1 s Goertzel windows.
  const int total = o.nodes * o.talkers;
  return std::min(250.0, 3000.0 / std::max(1, total - 1));
}
double party_freq(const Options& o, int g) { return 300.0 + party_spacing(o) * g; }

// Levels heard are measured in short windows, their powers averaged: a
// sample the receiving sink drops or repeats to hold its delay (drift
// control) turns the phase of every tone after it, which a long coherent
// window would count as a loss of level (several dB at 3 kHz with a slip
// every 100 ms). 20 ms Hann windows resolve tones 200 Hz apart.
constexpr std::size_t kShortWindow = 160;
constexpr std::size_t kShortStep = 80;

// The mean power of the tone at f in x[0, n): 20 ms windows every 10 ms.
double short_window_level_dbm0(const float* x, std::size_t n, double f) {
  double power = 0.0;
  std::size_t count = 0;
  for (std::size_t k = 0; k + kShortWindow <= n; k += kShortStep, ++count)
    power += std::pow(10.0, testsig::tone_level_dbm0(x + k, kShortWindow, f, kRate) / 10.0);
  return count ? 10.0 * std::log10(power / double(count)) : NAN;
}

// What short_window_level_dbm0 finds of a tone in syllables, in dB against
// the steady tone: a window's coherent mean of the envelope, squared,
// averaged over every phase of the syllable (the windows of a second fall
// on 25 phases of each of four syllables).
double envelope_short_window_gain_db() {
  std::vector<double> w(kShortWindow);
  double wsum = 0.0;
  for (std::size_t i = 0; i < kShortWindow; ++i) {
    w[i] = 0.5 - 0.5 * std::cos(2.0 * testsig::kPi * double(i) / double(kShortWindow - 1));
    wsum += w[i];
  }
  double power = 0.0;
  for (unsigned phase = 0; phase < kSyllable; ++phase) {
    double a = 0.0;
    for (std::size_t i = 0; i < kShortWindow; ++i) a += w[i] * cascade::syllable_envelope(phase + i);
    power += (a / wsum) * (a / wsum);
  }
  return 10.0 * std::log10(power / kSyllable);
}

// A party's synthetic speech source.
struct Talker {
  prosody::Channel channel;
  double freq = 0.0;  // 0: line noise only
  std::uint64_t written = 0;
  const std::vector<float>* noise = nullptr;  // looped line noise (shared) for non-talkers
  // Listeners: the output recorded and, at each read, the module's sample
  // counter and its monotonic time, from which the output's clock is found.
  bool listens = false;
  std::vector<float> heard;
  std::vector<std::int64_t> offsets;  // module sample - output index, per read
  std::vector<std::int64_t> read_samples;
  std::vector<std::int64_t> read_mono;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "cascade_node: %s\n"
               "usage: cascade_node --node I --nodes N [--parties P] [--talkers T] [--listeners L]\n"
               "  [--base-port B] [--peer J=ADDR]... [--bind ADDR] [--start-ns MONO]\n"
               "  [--warmup S] [--tone-seconds S] [--click-seconds S] [--jitter-ms MS]\n"
               "  [--sink-latency-ms MS] [--loss P] [--jitter-max-ms MS] [--pace 0|1]\n"
               "  [--model broadcast|pipeline|hierarchical]\n",
               why);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  std::map<int, std::string> peers;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) usage(("missing value for " + a).c_str());
    const char* v = argv[++i];
    if (a == "--node")
      o.node = std::atoi(v);
    else if (a == "--nodes")
      o.nodes = std::atoi(v);
    else if (a == "--parties")
      o.parties = std::atoi(v);
    else if (a == "--talkers")
      o.talkers = std::atoi(v);
    else if (a == "--listeners")
      o.listeners = std::atoi(v);
    else if (a == "--base-port")
      o.base_port = std::atoi(v);
    else if (a == "--bind")
      o.bind_address = v;
    else if (a == "--start-ns")
      o.start_ns = std::atoll(v);
    else if (a == "--warmup")
      o.warmup_s = std::atof(v);
    else if (a == "--tone-seconds")
      o.tone_s = std::atof(v);
    else if (a == "--click-seconds")
      o.click_s = std::atof(v);
    else if (a == "--jitter-ms")
      o.jitter_ms = std::atoi(v);
    else if (a == "--sink-latency-ms")
      o.sink_latency_ms = std::atoi(v);
    else if (a == "--loss")
      o.loss = std::atof(v);
    else if (a == "--jitter-max-ms")
      o.jitter_max_ms = std::atoi(v);
    else if (a == "--model")
      o.model = v;
    else if (a == "--pace")
      o.pace = std::atoi(v) != 0;
    else if (a == "--peer") {
      const char* eq = std::strchr(v, '=');
      if (!eq) usage("--peer wants J=ADDR");
      peers[std::atoi(v)] = eq + 1;
    } else
      usage(("unknown option " + a).c_str());
  }
  if (o.nodes < 2 || o.node < 0 || o.node >= o.nodes) usage("need 0 <= node < nodes, nodes >= 2");
  if (o.model != "broadcast" && o.model != "pipeline" && o.model != "hierarchical") usage("unknown --model");
  if (o.talkers < 0 || o.talkers > o.parties) o.talkers = o.parties;
  if (o.listeners < 0 || o.listeners > o.talkers) o.listeners = o.talkers;
  if (o.start_ns == 0) o.start_ns = now_ns() + 1000000000;
  o.peer_address.assign(o.nodes, "127.0.0.1");
  for (const auto& [j, addr] : peers)
    if (j >= 0 && j < o.nodes) o.peer_address[j] = addr;
  return o;
}

// The UDP port on which node `to` receives node `from`'s sum.
int link_port(const Options& o, int from, int to) { return o.base_port + to * o.nodes + from; }

constexpr const char* kRtpCaps =
    "application/x-rtp,media=audio,clock-rate=8000,encoding-name=L16,channels=1,payload=96";

// The application note's models over RTP: which nodes this node hears
// (imports) and, per node it sends to, which imports its export adds to the
// local sum. Whatever the model, what is sent to a node never holds what
// that node sent.
//   broadcast     every node sends its local sum to every other;
//   pipeline      node m sends "local + from the left" right and "local +
//                 from the right" left;
//   hierarchical  leaves send their local sum to node 0, which returns to
//                 each leaf its own parties and every other leaf.
struct Topology {
  std::vector<int> imports;                               // nodes heard
  std::vector<std::pair<int, std::vector<int>>> exports;  // (to node, imports added to the local sum)
};

Topology topology(const Options& o) {
  Topology t;
  const int m = o.node, k = o.nodes;
  if (o.model == "pipeline") {
    if (m > 0) t.imports.push_back(m - 1);
    if (m + 1 < k) t.imports.push_back(m + 1);
    if (m + 1 < k) t.exports.push_back({m + 1, m > 0 ? std::vector<int>{m - 1} : std::vector<int>{}});
    if (m > 0) t.exports.push_back({m - 1, m + 1 < k ? std::vector<int>{m + 1} : std::vector<int>{}});
  } else if (o.model == "hierarchical") {
    if (m == 0) {
      for (int j = 1; j < k; ++j) t.imports.push_back(j);
      for (int j = 1; j < k; ++j) {
        std::vector<int> others;
        for (int i = 1; i < k; ++i)
          if (i != j) others.push_back(i);
        t.exports.push_back({j, others});
      }
    } else {
      t.imports.push_back(0);
      t.exports.push_back({0, {}});
    }
  } else {
    for (int j = 0; j < k; ++j)
      if (j != m) {
        t.imports.push_back(j);
        t.exports.push_back({j, {}});
      }
  }
  return t;
}

// exports: per (to node, channel); imports: per node, the input channel.
std::string pipeline_description(const Options& o, const std::vector<std::pair<int, prosody::ChannelId>>& exports,
                                 const std::vector<prosody::ChannelId>& imports) {
  std::string d;
  // Exports: 10 ms L16 packets of each export channel to its node.
  for (const auto& [to, channel] : exports)
    d += "prosodysrc module=cascade channel=" + std::to_string(channel.value) +
         " ! audioconvert ! audio/x-raw,format=S16BE,rate=8000,channels=1"
         " ! rtpL16pay pt=96 min-ptime=10000000 max-ptime=10000000 ! udpsink sync=false async=false host=" +
         o.peer_address[std::size_t(to)] + " port=" + std::to_string(link_port(o, o.node, to)) + " ";
  // Imports: one chain per node heard, impaired by netsim when asked.
  for (int j = 0; j < o.nodes; ++j) {
    if (!imports[std::size_t(j)]) continue;
    d += "udpsrc address=" + o.bind_address + " port=" + std::to_string(link_port(o, j, o.node)) + " caps=\"" +
         kRtpCaps + "\" ! ";
    if (o.loss > 0.0 || o.jitter_max_ms > 0)
      d += "netsim drop-probability=" + std::to_string(o.loss) +
           " delay-distribution=uniform min-delay=0 max-delay=" + std::to_string(o.jitter_max_ms) + " ! ";
    d += "rtpjitterbuffer latency=" + std::to_string(o.jitter_ms) +
         " ! rtpL16depay ! audioconvert ! audio/x-raw,format=S16LE ! " +
         std::string(o.pace ? "identity sync=true ! " : "") + "prosodysink name=import" + std::to_string(j) +
         " module=cascade channel=" + std::to_string(imports[std::size_t(j)].value) +
         " latency=" + std::to_string(std::int64_t(o.sink_latency_ms) * 1000000) + " ";
  }
  return d;
}

// Keeps a talker's host input kInputTarget samples full.
void feed(Talker& t, const Options& o, int g) {
  const std::size_t queued = t.channel.input_queued();
  if (queued >= kInputTarget) return;
  std::vector<float> chunk(kInputTarget - queued);
  const double peak = testsig::sine_peak(kToneDbm0);
  for (std::size_t k = 0; k < chunk.size(); ++k) {
    const std::uint64_t n = t.written + k;
    if (t.freq > 0.0)
      chunk[k] = float(cascade::speech_sample(peak, t.freq, kRate, n));
    else
      chunk[k] = (*t.noise)[(n + std::uint64_t(g) * 997) % t.noise->size()];
  }
  // Talkers stop at the end of the tone phase (the click phase is quiet).
  const std::int64_t due = now_ns() + std::int64_t(queued) * 1000000000 / kRate;
  if (due >= o.start_ns + std::int64_t(o.tone_s * 1e9)) std::fill(chunk.begin(), chunk.end(), 0.0f);
  t.written += t.channel.write_input(prosody::Span<const float>(chunk.data(), chunk.size()));
}

// The clicker: silence, and one click every `nodes` seconds in the click
// phase, at half a second into this node's second (second s belongs to node
// s mod nodes), so a click anywhere is attributed by when it is heard.
struct Clicker {
  prosody::Channel channel;
  std::int64_t next_click_ns = 0;
  std::vector<std::int64_t> clicks_sent_ns;
};

void feed_clicker(Clicker& c, const Options& o) {
  const std::size_t queued = c.channel.input_queued();
  if (queued >= kInputTarget) return;
  std::vector<float> chunk(kInputTarget - queued, 0.0f);
  const std::int64_t first_due = now_ns() + std::int64_t(queued) * 1000000000 / kRate;
  const std::int64_t end = o.start_ns + std::int64_t((o.tone_s + o.click_s) * 1e9);
  const std::int64_t chunk_end = first_due + std::int64_t(chunk.size()) * 1000000000 / kRate;
  if (c.next_click_ns < chunk_end && c.next_click_ns < end) {
    const std::size_t at = std::size_t(std::max<std::int64_t>(0, c.next_click_ns - first_due) * kRate / 1000000000);
    chunk[std::min(at, chunk.size() - 1)] = float(kClickAmplitude);
    c.clicks_sent_ns.push_back(c.next_click_ns);
    c.next_click_ns += std::int64_t(o.nodes) * 1000000000;
  }
  c.channel.write_input(prosody::Span<const float>(chunk.data(), chunk.size()));
}

void drain(Talker& t, const prosody::Module& module) {
  float buf[4 * kFrame];
  for (;;) {
    const std::size_t n = t.channel.read_output(prosody::Span<float>(buf, 4 * kFrame));
    if (n == 0) break;
    t.heard.insert(t.heard.end(), buf, buf + n);
  }
  const prosody::ModuleTime mt = module.time();
  t.offsets.push_back(std::int64_t(mt.samples) - std::int64_t(t.heard.size()));
  t.read_samples.push_back(std::int64_t(mt.samples));
  t.read_mono.push_back(mt.monotonic_ns);
}

// Output index -> monotonic ns at which that sample was due (the module's
// clock: sample s is due at mono + (s - samples) / rate).
struct OutputClock {
  std::int64_t offset = 0;  // module sample of output index 0
  // At each read: the module's sample counter and when it was reached. Each
  // sample is placed by the first read after it, so that a real-time module
  // that starts its schedule again after a stall (more than five frames
  // late) misplaces nothing before or after.
  std::vector<std::int64_t> samples, mono_ns;

  std::int64_t mono(std::int64_t index) const {
    const std::int64_t s = index + offset;
    std::size_t k = std::size_t(std::upper_bound(samples.begin(), samples.end(), s) - samples.begin());
    if (k == samples.size()) k = samples.size() - 1;
    return mono_ns[k] - (samples[k] - s) * 1000000000 / kRate;
  }
  // The first output index whose sample is due at or after mono.
  std::int64_t index_at(std::int64_t mono) const {
    std::size_t k = std::size_t(std::lower_bound(mono_ns.begin(), mono_ns.end(), mono) - mono_ns.begin());
    if (k == mono_ns.size()) k = mono_ns.size() - 1;
    return samples[k] - (mono_ns[k] - mono) * std::int64_t(kRate) / 1000000000 - offset;
  }
};

OutputClock output_clock(const Talker& t) {
  OutputClock c;
  std::vector<std::int64_t> o = t.offsets;
  if (o.empty()) return c;
  std::nth_element(o.begin(), o.begin() + o.size() / 2, o.end());
  c.offset = o[o.size() / 2];  // a frame finishing between the read and time(): rare
  for (std::size_t k = 0; k < t.read_mono.size(); ++k)
    if (t.read_mono[k] >= 0 && (c.mono_ns.empty() || t.read_mono[k] > c.mono_ns.back())) {
      c.samples.push_back(t.read_samples[k]);
      c.mono_ns.push_back(t.read_mono[k]);
    }
  if (c.samples.empty()) {  // never ran in real time: one frame per 10 ms from now
    c.samples.push_back(0);
    c.mono_ns.push_back(0);
  }
  return c;
}

double median(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::string fmt(double x) {
  if (!std::isfinite(x)) return "null";
  char b[32];
  std::snprintf(b, sizeof b, "%.2f", x);
  return b;
}

std::string sink_stats_json(GstElement* sink) {
  GstStructure* s = nullptr;
  g_object_get(sink, "stats", &s, nullptr);
  if (!s) return "{}";
  std::string j = "{";
  for (const char* f : {"buffers-in", "frames-in", "underruns", "overrun-frames", "drift-dropped", "drift-repeated",
                        "late-samples", "overlap-samples", "gap-samples"}) {
    guint64 v = 0;
    gst_structure_get_uint64(s, f, &v);
    j += std::string(j.size() > 1 ? "," : "") + "\"" + f + "\":" + std::to_string(v);
  }
  gst_structure_free(s);
  return j + "}";
}

// What the links and the module count, at one moment: the difference of two
// is what happened over the measured part of the run (not the start-up).
struct Counters {
  std::vector<std::uint64_t> underruns, concealed;  // per node (0 for this one)
  std::vector<std::uint64_t> corrections;           // the sink's drift control: samples dropped + repeated
  std::uint64_t late_frames = 0;
  bool taken = false;
};

// One counter of the stats of the prosodysink importing node j.
std::uint64_t sink_counter(GstElement* pipeline, std::size_t j, const char* field) {
  const std::string name = "import" + std::to_string(j);
  GstElement* sink = gst_bin_get_by_name(GST_BIN(pipeline), name.c_str());
  guint64 v = 0;
  if (sink) {
    GstStructure* s = nullptr;
    g_object_get(sink, "stats", &s, nullptr);
    if (s) {
      gst_structure_get_uint64(s, field, &v);
      gst_structure_free(s);
    }
    gst_object_unref(sink);
  }
  return v;
}

Counters take_counters(GstElement* pipeline, const std::vector<prosody::Channel>& imports,
                       const prosody::Module& module) {
  Counters c;
  c.underruns.assign(imports.size(), 0);
  c.concealed.assign(imports.size(), 0);
  c.corrections.assign(imports.size(), 0);
  for (std::size_t j = 0; j < imports.size(); ++j) {
    if (!imports[j]) continue;
    c.underruns[j] = sink_counter(pipeline, j, "underruns");
    c.corrections[j] = sink_counter(pipeline, j, "drift-dropped") + sink_counter(pipeline, j, "drift-repeated");
    c.concealed[j] = imports[j].input_stats().frames_concealed;
  }
  c.late_frames = module.stats().late_frames;
  c.taken = true;
  return c;
}

// When the module concealed an import's frame or missed a frame deadline, or
// an import's sink dropped or repeated a sample (drift control) or dropped a
// frame (overrun): the spans of monotonic time in which any of those counts
// moved, by link. Such a moment's fade out and in, or turn of phase, spreads
// the other tones' energy across the spectrum for a window or two, here and
// on every node that hears this one's sums, where it would pass for a
// killed node's parties; cascade.py's fault check leaves those windows out.
struct Trouble {
  struct Span {
    std::int64_t from, to;
    int source;  // the node whose import it was; -1: the module (a late frame)
  };
  std::vector<Span> spans;
  std::vector<std::uint64_t> last;  // per source + 1
  std::int64_t last_check = 0;

  void check(GstElement* pipeline, const std::vector<prosody::Channel>& imports, const prosody::Module& module,
             std::int64_t now) {
    std::vector<std::uint64_t> count(imports.size() + 1, 0);
    count[0] = module.stats().late_frames;
    for (std::size_t j = 0; j < imports.size(); ++j)
      if (imports[j]) {
        count[j + 1] = imports[j].input_stats().frames_concealed;
        for (const char* field : {"drift-dropped", "drift-repeated", "overrun-frames"})
          count[j + 1] += sink_counter(pipeline, j, field);
      }
    for (std::size_t k = 0; k < count.size() && last_check; ++k) {
      if (count[k] == last[k]) continue;
      const int source = int(k) - 1;
      // One span for a run of checks in trouble (a dead link conceals every frame).
      Span* run = nullptr;
      for (std::size_t i = spans.size(); i-- > 0;)
        if (spans[i].source == source) {
          if (spans[i].to == last_check) run = &spans[i];
          break;
        }
      if (run)
        run->to = now;
      else
        spans.push_back({last_check, now, source});
    }
    last = count;
    last_check = now;
  }
  std::string json() const {
    std::string j = "[";
    for (std::size_t i = 0; i < spans.size(); ++i)
      j += std::string(i ? "," : "") + "[" + std::to_string(spans[i].from) + "," + std::to_string(spans[i].to) + "," +
           std::to_string(spans[i].source) + "]";
    return j + "]";
  }
};

}  // namespace

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  const Options o = parse(argc, argv);

  prosody::ModuleConfig cfg;
  cfg.sample_rate = kRate;
  cfg.frame_us = 10000;
  cfg.drive = prosody::DriveMode::realtime;
  prosody::Module module = prosody::Module::open_shared("cascade", cfg);

  // The local sum: every local party and the clicker.
  prosody::Channel sum = module.allocate(prosody::ChannelType::output);
  sum.conf_start();
  std::vector<Talker> parties(std::size_t(o.parties));
  std::vector<int> ids(parties.size());
  const std::vector<float> line_noise = testsig::white_noise(-63.0, 4000, 7);
  for (int p = 0; p < o.parties; ++p) {
    Talker& t = parties[std::size_t(p)];
    t.channel = module.allocate(prosody::ChannelType::full_duplex);
    t.channel.enable_host_input(20);
    if (p < o.talkers)
      t.freq = party_freq(o, global_party(o, o.node, p));
    else
      t.noise = &line_noise;
    t.listens = p < o.listeners;
    ids[std::size_t(p)] = sum.conf_add(t.channel);
  }
  Clicker clicker;
  clicker.channel = module.allocate(prosody::ChannelType::input);
  clicker.channel.enable_host_input(20);
  sum.conf_add(clicker.channel);
  clicker.channel.conf_set_gating(false);
  {
    // First click slot: this node's second, half a second in, from the
    // second after the tone phase (clicks are looked for from half a second
    // after the tones end, when their last syllables have crossed every hop).
    std::int64_t s = std::int64_t(std::ceil(o.tone_s)) + 1;
    while (s % o.nodes != o.node) ++s;
    clicker.next_click_ns = o.start_ns + s * 1000000000 + 500000000;
  }

  // The imports: one input per node heard, ungated (a sum is not one talker).
  const Topology topo = topology(o);
  std::vector<prosody::Channel> imports(std::size_t(o.nodes));
  std::vector<prosody::ChannelId> import_ids(std::size_t(o.nodes));
  for (int j : topo.imports) {
    imports[std::size_t(j)] = module.allocate(prosody::ChannelType::input);
    import_ids[std::size_t(j)] = imports[std::size_t(j)].id();
  }
  // Each party: the local sum less itself, plus every import.
  for (int p = 0; p < o.parties; ++p) {
    Talker& t = parties[std::size_t(p)];
    t.channel.conf_clone(sum);
    t.channel.conf_leave(ids[std::size_t(p)]);
    for (int j : topo.imports) t.channel.conf_add(imports[std::size_t(j)]);
    if (t.listens) t.channel.enable_host_output(50);
  }
  for (int j : topo.imports) imports[std::size_t(j)].conf_set_gating(false);
  // The exports: the local sum itself, or a clone of it with imports added.
  std::vector<prosody::Channel> export_sums;
  std::vector<std::pair<int, prosody::ChannelId>> exports;
  for (const auto& [to, added] : topo.exports) {
    if (added.empty()) {
      exports.push_back({to, sum.id()});
      continue;
    }
    export_sums.push_back(module.allocate(prosody::ChannelType::output));
    export_sums.back().conf_clone(sum);
    for (int j : added) export_sums.back().conf_add(imports[std::size_t(j)]);
    exports.push_back({to, export_sums.back().id()});
  }

  const std::string desc = pipeline_description(o, exports, import_ids);
  GError* err = nullptr;
  GstElement* pipeline = gst_parse_launch(desc.c_str(), &err);
  if (!pipeline || err) {  // a missing element leaves a partial pipeline and an error
    std::fprintf(stderr, "cascade_node %d: bad pipeline: %s\n%s\n", o.node, err ? err->message : "?", desc.c_str());
    return 1;
  }
  if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    std::fprintf(stderr, "cascade_node %d: the pipeline does not start\n", o.node);
    return 1;
  }
  GstBus* bus = gst_element_get_bus(pipeline);

  // Feed and record until the end of the click phase.
  const std::int64_t end_ns = o.start_ns + std::int64_t((o.tone_s + o.click_s) * 1e9);
  const std::int64_t measure_from = o.start_ns + std::int64_t(o.warmup_s * 1e9);
  const std::int64_t measure_to = o.start_ns + std::int64_t(o.tone_s * 1e9);
  Counters at_from, at_to;
  Trouble trouble;
  int status = 0;
  while (now_ns() < end_ns) {
    const std::int64_t now = now_ns();
    if (!at_from.taken && now >= measure_from) at_from = take_counters(pipeline, imports, module);
    if (!at_to.taken && now >= measure_to) at_to = take_counters(pipeline, imports, module);
    trouble.check(pipeline, imports, module, now);
    for (int p = 0; p < o.parties; ++p) {
      Talker& t = parties[std::size_t(p)];
      feed(t, o, global_party(o, o.node, p));
      if (t.listens) drain(t, module);
    }
    feed_clicker(clicker, o);
    if (GstMessage* m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR)) {
      GError* e = nullptr;
      gst_message_parse_error(m, &e, nullptr);
      std::fprintf(stderr, "cascade_node %d: %s\n", o.node, e ? e->message : "error");
      if (e) g_error_free(e);
      gst_message_unref(m);
      status = 1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }

  if (!at_to.taken) at_to = take_counters(pipeline, imports, module);

  // Report.
  // A talker heard at the level it sends reads `expected` (short windows).
  const double expected = kToneDbm0 + envelope_short_window_gain_db();
  std::string out = "{\"node\":" + std::to_string(o.node) + ",\"expected_dbm0\":" + fmt(expected) +
                    ",\"start_ns\":" + std::to_string(o.start_ns) + ",\"listeners\":[";
  for (int p = 0; p < o.listeners; ++p) {
    Talker& t = parties[std::size_t(p)];
    const OutputClock clk = output_clock(t);
    const std::int64_t n = std::int64_t(t.heard.size());
    if (p) out += ",";
    out += "{\"party\":" + std::to_string(p) + ",\"freq\":" + fmt(t.freq) + ",\"samples\":" + std::to_string(n);
    // Levels per source (relative to what the source sends): the median of
    // 1 s windows over the measured part of the tone phase (its own voice:
    // coherent over the whole part); and, for the first listener, a 250 ms
    // time series over the whole tone phase.
    out += ",\"heard_db\":{";
    std::string series = ",\"series_t0_ns\":" + std::to_string(o.start_ns) +
                         ",\"series_window_ms\":" + std::to_string(kSeriesWindow * 1000 / kRate) +
                         ",\"series_step_ms\":" + std::to_string(kSeriesStep * 1000 / kRate) + ",\"series\":{";
    for (int j = 0; j < o.nodes; ++j)
      for (int q = 0; q < o.talkers; ++q) {
        const double f = party_freq(o, global_party(o, j, q));
        const bool own = j == o.node && q == p;
        double level = NAN;
        if (own) {
          // Own voice: coherent at its frequency over the whole measured
          // part, robust to the smear of concealed frames (own_voice.hpp),
          // against the same measure of what the party sent.
          const std::int64_t from = std::max<std::int64_t>(0, clk.index_at(measure_from));
          const std::int64_t to = std::min(n, clk.index_at(measure_to));
          if (to > from) {
            std::vector<float> sent(std::size_t(to - from));
            for (std::size_t k = 0; k < sent.size(); ++k)
              sent[k] = float(cascade::speech_sample(testsig::sine_peak(kToneDbm0), f, kRate, k));
            level = cascade::own_voice_db(&t.heard[std::size_t(from)], sent.size(), sent.data(), sent.size(), f, kRate,
                                          party_spacing(o));
          }
        } else {
          std::vector<double> windows;
          for (std::int64_t w = clk.index_at(measure_from); w + kRate <= clk.index_at(measure_to); w += kRate)
            if (w >= 0 && w + kRate <= n)
              windows.push_back(short_window_level_dbm0(&t.heard[std::size_t(w)], kRate, f) - expected);
          level = median(windows);
        }
        const std::string key = "\"" + std::to_string(j) + "." + std::to_string(q) + "\"";
        out += std::string(j || q ? "," : "") + key + ":" + fmt(level);
        if (p == 0) {
          series += std::string(j || q ? "," : "") + key + ":[";
          bool first = true;
          for (std::int64_t w = clk.index_at(o.start_ns); w + std::int64_t(kSeriesWindow) <= clk.index_at(measure_to);
               w += kSeriesStep) {
            const double l = (w >= 0 && w + std::int64_t(kSeriesWindow) <= n)
                                 ? short_window_level_dbm0(&t.heard[std::size_t(w)], kSeriesWindow, f) - expected
                                 : NAN;
            series += std::string(first ? "" : ",") + fmt(l);
            first = false;
          }
          series += "]";
        }
      }
    out += "}";
    if (p == 0) out += series + "}";
    // Clicks heard in the click phase: monotonic times.
    out += ",\"clicks_ns\":[";
    bool first = true;
    std::int64_t last = -1;
    for (std::int64_t k = std::max<std::int64_t>(0, clk.index_at(measure_to + kClickSearchDelay)); k < n; ++k)
      if (std::fabs(t.heard[std::size_t(k)]) > kClickThreshold && (last < 0 || k - last > kRate / 10)) {
        out += std::string(first ? "" : ",") + std::to_string(clk.mono(k));
        first = false;
        last = k;
      }
    out += "]}";
  }
  out += "],\"trouble\":" + trouble.json() + ",\"clicks_sent_ns\":[";
  for (std::size_t k = 0; k < clicker.clicks_sent_ns.size(); ++k)
    out += std::string(k ? "," : "") + std::to_string(clicker.clicks_sent_ns[k]);
  out += "],\"imports\":{";
  bool first = true;
  for (int j : topo.imports) {
    const std::string name = "import" + std::to_string(j);
    GstElement* sink = gst_bin_get_by_name(GST_BIN(pipeline), name.c_str());
    const prosody::InputStats in = imports[std::size_t(j)].input_stats();
    out += std::string(first ? "" : ",") + "\"" + std::to_string(j) + "\":{\"sink\":" + sink_stats_json(sink) +
           ",\"frames_concealed\":" + std::to_string(in.frames_concealed);
    if (at_from.taken)  // over the measured part of the tone phase
      out += ",\"measured_underruns\":" +
             std::to_string(at_to.underruns[std::size_t(j)] - at_from.underruns[std::size_t(j)]) +
             ",\"measured_concealed\":" +
             std::to_string(at_to.concealed[std::size_t(j)] - at_from.concealed[std::size_t(j)]) +
             ",\"measured_corrections\":" +
             std::to_string(at_to.corrections[std::size_t(j)] - at_from.corrections[std::size_t(j)]);
    out += "}";
    first = false;
    gst_object_unref(sink);
  }
  const prosody::ModuleStats ms = module.stats();
  out += "},\"late_frames\":" + std::to_string(ms.late_frames) + ",\"measured_late_frames\":" +
         std::to_string(at_from.taken ? at_to.late_frames - at_from.late_frames : ms.late_frames) +
         ",\"frames_processed\":" + std::to_string(ms.frames_processed) + ",\"status\":" + std::to_string(status) + "}";
  std::printf("%s\n", out.c_str());
  std::fflush(stdout);

  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(bus);
  gst_object_unref(pipeline);
  return status;
}
