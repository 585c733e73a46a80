// prosody_demo - a conference on the built-in software Prosody processor.
//
// Four callers talk (recorded speech from Debian's asterisk-core-sounds-en-wav,
// or synthetic voices if it is missing), background music plays under the
// conference (speak-only party), a coach whispers to caller 2, and a monitor
// records the whole conference. Every output is written as a WAV file, and a
// table shows, measured from the files, how loud each source is in each
// output: every caller hears the others, never itself; only caller 2 hears
// the coach.
//
// Usage: prosody_demo [output-dir] [speech-dir]
#include <sndfile.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <dirent.h>
#include <string>
#include <vector>

#include "prosody/prosody.hpp"

namespace {

constexpr unsigned kRate = 8000;
constexpr double kSeconds = 12.0;
constexpr double kPi = 3.14159265358979323846;

std::vector<float> read_wav(const std::string& path) {
  SF_INFO info{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
  if (!f) return {};
  std::vector<float> all(static_cast<std::size_t>(info.frames) * static_cast<std::size_t>(info.channels));
  sf_readf_float(f, all.data(), info.frames);
  sf_close(f);
  if (info.samplerate != static_cast<int>(kRate)) return {};
  std::vector<float> mono(static_cast<std::size_t>(info.frames));
  for (std::size_t i = 0; i < mono.size(); ++i) mono[i] = all[i * static_cast<std::size_t>(info.channels)];
  return mono;
}

bool write_wav(const std::string& path, const std::vector<float>& x) {
  SF_INFO info{};
  info.samplerate = kRate;
  info.channels = 1;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  if (!f) return false;
  sf_write_float(f, x.data(), static_cast<sf_count_t>(x.size()));
  sf_close(f);
  return true;
}

std::vector<std::string> wav_files(const std::string& dir) {
  std::vector<std::string> files;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      const std::string name = e->d_name;
      if (name.size() > 4 && name.compare(name.size() - 4, 4, ".wav") == 0) files.push_back(dir + "/" + name);
    }
    closedir(d);
  }
  std::sort(files.begin(), files.end());
  return files;
}

// A caller's voice: prompts one after another with short pauses. Each voice
// draws from its own share of the corpus (every sixth file), so no two
// sources say the same prompt.
std::vector<float> voice_from_corpus(const std::vector<std::string>& files, std::size_t who, std::size_t n) {
  std::vector<float> x;
  for (std::size_t k = who % 6 + 6 * (who * 5); x.size() < n && !files.empty(); k += 6) {
    std::vector<float> prompt = read_wav(files[k % files.size()]);
    x.insert(x.end(), prompt.begin(), prompt.end());
    x.resize(x.size() + kRate * (3 + who) / 10, 0.0f);  // pause
  }
  x.resize(n, 0.0f);
  return x;
}

// Fallback voice: a glottal buzz through two moving formants, in syllables.
std::vector<float> synthetic_voice(std::size_t who, std::size_t n) {
  std::vector<float> x(n, 0.0f);
  const double f0 = 100.0 + 35.0 * double(who);
  double r1 = 0, r2 = 0, s1 = 0, s2 = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double t = double(i) / kRate;
    const double syllable = std::max(0.0, std::sin(2.0 * kPi * (3.0 + 0.3 * double(who)) * t));
    const double pulse = (std::fmod(t * f0, 1.0) < 0.02) ? 1.0 : 0.0;
    const double f1 = 500.0 + 200.0 * std::sin(2.0 * kPi * 0.7 * t),
                 f2 = 1500.0 + 400.0 * std::cos(2.0 * kPi * 0.5 * t);
    // Two resonators (bandwidth ~100 Hz).
    const double a = std::exp(-kPi * 100.0 / kRate);
    const double y1 = pulse + 2.0 * a * std::cos(2.0 * kPi * f1 / kRate) * r1 - a * a * r2;
    r2 = r1;
    r1 = y1;
    const double y2 = y1 + 2.0 * a * std::cos(2.0 * kPi * f2 / kRate) * s1 - a * a * s2;
    s2 = s1;
    s1 = y2;
    x[i] = static_cast<float>(0.02 * y2 * syllable * syllable);
  }
  return x;
}

// Gentle background music: a slow arpeggio of soft tones.
std::vector<float> music(std::size_t n) {
  static const double notes[] = {261.63, 329.63, 392.00, 523.25, 392.00, 329.63};
  std::vector<float> x(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double t = double(i) / kRate;
    const std::size_t k = static_cast<std::size_t>(t * 2.0) % 6;
    const double env = 0.5 + 0.5 * std::cos(2.0 * kPi * std::fmod(t * 2.0, 1.0));
    x[i] =
        static_cast<float>(0.05 * env * std::sin(2.0 * kPi * notes[k] * t) + 0.02 * std::sin(2.0 * kPi * 130.81 * t));
  }
  return x;
}

// How loud each source is in output y, in dB relative to the source itself:
// the least-squares gains of all sources together (normal equations), so
// that sources which happen to resemble each other are told apart.
// -200 when absent.
std::vector<double> presence_db(const std::vector<std::vector<float>>& s, const std::vector<float>& y) {
  const std::size_t k = s.size();
  std::vector<std::vector<double>> a(k, std::vector<double>(k + 1, 0.0));
  for (std::size_t i = 0; i < k; ++i) {
    for (std::size_t j = 0; j < k; ++j)
      for (std::size_t t = 0; t < y.size(); ++t) a[i][j] += double(s[i][t]) * s[j][t];
    for (std::size_t t = 0; t < y.size(); ++t) a[i][k] += double(s[i][t]) * y[t];
  }
  for (std::size_t c = 0; c < k; ++c) {  // Gaussian elimination, partial pivoting
    std::size_t piv = c;
    for (std::size_t r = c + 1; r < k; ++r)
      if (std::fabs(a[r][c]) > std::fabs(a[piv][c])) piv = r;
    std::swap(a[c], a[piv]);
    for (std::size_t r = 0; r < k; ++r) {
      if (r == c || a[c][c] == 0.0) continue;
      const double f = a[r][c] / a[c][c];
      for (std::size_t j = c; j <= k; ++j) a[r][j] -= f * a[c][j];
    }
  }
  std::vector<double> db(k);
  for (std::size_t i = 0; i < k; ++i) {
    const double g = a[i][i] != 0.0 ? a[i][k] / a[i][i] : 0.0;
    db[i] = std::fabs(g) > 1e-5 ? 20.0 * std::log10(std::fabs(g)) : -200.0;
  }
  return db;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string out_dir = argc > 1 ? argv[1] : "demo-out";
  const std::string speech_dir = argc > 2 ? argv[2] : "/usr/share/asterisk/sounds/en_US_f_Allison";
  mkdir(out_dir.c_str(), 0755);
  const std::size_t n = static_cast<std::size_t>(kSeconds * kRate);

  const std::vector<std::string> files = wav_files(speech_dir);
  const bool real_speech = files.size() >= 20;
  struct Source {
    std::string name;
    std::vector<float> audio;
  };
  std::vector<Source> sources;
  for (std::size_t i = 0; i < 4; ++i)
    sources.push_back(
        {"caller " + std::to_string(i), real_speech ? voice_from_corpus(files, i, n) : synthetic_voice(i, n)});
  sources.push_back({"music", music(n)});
  sources.push_back({"coach", real_speech ? voice_from_corpus(files, 9, n) : synthetic_voice(5, n)});
  enum { kMusic = 4, kCoach = 5, kMonitor = 6 };

  // One run of the conference; silence[s] mutes source s (for the exact
  // checks below).
  auto run = [&](std::vector<bool> silence) {
    // The processor: one module, stepped here (a file job), one channel per
    // party, fed and read through host ports.
    prosody::Module module = prosody::Module::create({});
    std::vector<prosody::Channel> ch;
    for (std::size_t i = 0; i < 7; ++i) {
      ch.push_back(module.allocate(prosody::ChannelType::full_duplex));
      ch.back().enable_host_input();
      ch.back().enable_host_output();
    }
    // Callers: the high-level library, exactly as on Prosody hardware. It
    // ties each caller's input to its own output for echo suppression; these
    // callers have no echo path (no telephone line), so it is switched off,
    // which also makes the exact checks below exact.
    prosody::Conference conference;
    for (std::size_t i = 0; i < 4; ++i) {
      conference.add_party(ch[i]);
      ch[i].set_sidetone(prosody::ChannelId{});
    }
    // Music: speak-only, heard by every caller, never gated (it is steady),
    // 10 dB under the voices.
    ch[kMusic].conf_attach();
    ch[kMusic].conf_set_gating(false);
    ch[kMusic].conf_adjust_input({-10.0, false, false});
    for (std::size_t i = 0; i < 4; ++i) ch[i].conf_add(ch[kMusic]);
    // Coach: heard by caller 2 only; hears every caller.
    ch[2].conf_add(ch[kCoach]);
    ch[kCoach].conf_clone(ch[0]);
    ch[kCoach].conf_add(ch[0]);
    // Monitor: hears the callers and the music; heard by nobody.
    ch[kMonitor].conf_clone(ch[0]);
    ch[kMonitor].conf_add(ch[0]);

    std::vector<std::vector<float>> heard(7);
    const std::size_t frame = module.frame_samples();
    std::vector<float> buf(frame), quiet(frame, 0.0f);
    for (std::size_t at = 0; at + frame <= n; at += frame) {
      for (std::size_t s = 0; s < sources.size(); ++s)
        ch[s].write_input(prosody::Span<const float>(silence[s] ? quiet.data() : sources[s].audio.data() + at, frame));
      module.step(1);
      for (std::size_t o = 0; o < 7; ++o) {
        const std::size_t got = ch[o].read_output(prosody::Span<float>(buf.data(), frame));
        heard[o].insert(heard[o].end(), buf.begin(), buf.begin() + static_cast<long>(got));
      }
    }
    return heard;
  };
  const std::vector<std::vector<float>> heard = run(std::vector<bool>(sources.size(), false));
  const std::size_t frame = prosody::Module::create({}).frame_samples();

  const char* names[] = {"caller0_hears", "caller1_hears", "caller2_hears",    "caller3_hears",
                         nullptr,         "coach_hears",   "monitor_recording"};
  std::printf("Prosody software processor demo: %s, %.0f s at %u Hz, frames of %zu samples\n",
              real_speech ? "recorded speech" : "synthetic voices (asterisk-core-sounds-en-wav not found)", kSeconds,
              kRate, frame);
  std::printf("\nWAV files in %s/:\n", out_dir.c_str());
  for (std::size_t s = 0; s < sources.size(); ++s) {
    const std::string path = out_dir + "/source_" + (s < 4 ? "caller" + std::to_string(s) : sources[s].name) + ".wav";
    write_wav(path, sources[s].audio);
  }
  for (std::size_t o = 0; o < 7; ++o)
    if (names[o]) {
      write_wav(out_dir + "/" + names[o] + ".wav", heard[o]);
      std::printf("  %s.wav\n", names[o]);
    }

  std::printf(
      "\nHow loud each source is in each output, in dB relative to the source (a joint\n"
      "least-squares fit; -- = below -50 dB, the fit's floor on a gated, time-varying mix):\n\n%-18s",
      "");
  for (const auto& s : sources) std::printf("%10s", s.name.c_str());
  std::printf("\n");
  int problems = 0;
  std::vector<std::vector<float>> source_audio;
  for (const auto& src : sources) source_audio.push_back(src.audio);
  for (std::size_t o = 0; o < 7; ++o) {
    if (!names[o]) continue;
    std::printf("%-18s", names[o]);
    const std::vector<double> presence = presence_db(source_audio, heard[o]);
    for (std::size_t s = 0; s < sources.size(); ++s) {
      const double db = presence[s];
      if (db < -50.0)
        std::printf("%10s", "--");
      else
        std::printf("%10.1f", db);
      // Who should hear what: the callers and the music by everyone but
      // themselves; the coach by caller 2 only.
      const bool should_hear = s != o && (s != kCoach || o == 2);
      if (should_hear != (db > -3.0 - (s == kMusic ? 10.0 : 0.0))) ++problems;
    }
    std::printf("\n");
  }

  // The exact checks: silence a source and run again; an output that must not
  // contain it has to come out bit-identical.
  std::printf("\nExact checks (run again with one source silenced, compare sample by sample):\n");
  // Compared as the 16-bit samples written to the WAV files.
  auto identical = [](const std::vector<float>& a, const std::vector<float>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (std::lrint(double(a[i]) * 32768.0) != std::lrint(double(b[i]) * 32768.0)) return false;
    return true;
  };
  for (std::size_t s = 0; s < 6; ++s) {
    std::vector<bool> silence(sources.size(), false);
    silence[s] = true;
    const auto without = run(silence);
    std::string unaffected;
    bool ok = true;
    for (std::size_t o = 0; o < 7; ++o) {
      if (!names[o]) continue;
      const bool must_be_unaffected = (o == s) || (s == kCoach && o != 2);
      if (!must_be_unaffected) continue;
      const bool same = identical(heard[o], without[o]);
      ok &= same;
      unaffected += std::string(" ") + names[o] + (same ? "" : "(DIFFERS)");
    }
    if (unaffected.empty()) continue;
    std::printf("  %-9s silenced: unchanged:%s  %s\n", sources[s].name.c_str(), unaffected.c_str(), ok ? "ok" : "FAIL");
    problems += !ok;
  }
  std::printf("\n%s\n", problems
                            ? "PROBLEM: someone hears what they should not (see above)"
                            : "Every caller hears the other callers and the music, never itself (exactly);\n"
                              "only caller 2 hears the coach (exactly); the monitor recorded the whole conference.");
  return problems ? 1 : 0;
}
