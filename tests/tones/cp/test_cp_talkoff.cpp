// C5: no false call-progress or fax detections on real speech (and music).
//
// Plays every WAV of a speech corpus (default: Debian's
// asterisk-core-sounds-en-wav, 8 kHz recorded prompts; override with
// PROSODY_SPEECH_DIR) through the detector at its nominal level and 10 dB
// louder (saturating as a 16-bit path would). Fails on any cptone report or
// any simple tone in the fax bands; prints the simple-tone counts and how
// much of the active speech the suppressor would have muted. The same for
// music on hold (asterisk-moh-opsound-wav, or PROSODY_MUSIC_DIR), where
// sustained notes are tones and only cptone and fax reports count as false.
#include "test_data.hpp"
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "cp_stimulus.hpp"
#include "cp_test_util.hpp"
#include "corpus.hpp"
#include "signal.hpp"

using namespace cptest;

namespace {

struct Corpus {
  std::string dir;
  std::vector<std::string> files;
  std::string why;  // if there are no files
};

const Corpus& speech() {
  static const Corpus c = [] {
    Corpus k{testsig::speech_dir(), {}, {}};
    k.files = testsig::speech_files(&k.why);
    return k;
  }();
  return c;
}
const Corpus& music() {
  static const Corpus c = [] {
    Corpus k{testsig::music_dir(), {}, {}};
    k.files = testsig::music_files(&k.why);
    return k;
  }();
  return c;
}

struct TalkoffTotals {
  double seconds = 0.0;
  double active_seconds = 0.0;          // 16 ms blocks above -50 dBm0
  double present_active_seconds = 0.0;  // of which tone_present() was true
  double candidate_active_seconds = 0.0;
  int cptones = 0;
  int fax_simple = 0;
  int simple_by_band[7] = {};
  std::vector<std::string> offenders;
  std::size_t files_read = 0;
};

void run_corpus(const Corpus& corpus, double gain_db, const prosody::tones::CallProgressConfig& cfg, TalkoffTotals& t) {
  for (const std::string& path : corpus.files) {
    std::vector<float> x;
    if (!testsig::read_corpus_file(path, x)) {
      ADD_FAILURE() << "unreadable or not 8 kHz: " << path;
      continue;
    }
    ++t.files_read;
    cpstim::apply_gain(x, gain_db);
    t.seconds += x.size() / 8000.0;
    prosody::tones::CallProgressDetector d(cfg);
    std::vector<ToneEvent> ev;
    const std::size_t step = 128;
    for (std::size_t at = 0; at < x.size(); at += step) {
      const std::size_t n = std::min(step, x.size() - at);
      d.process(x.data() + at, n, at, ev);
      if (testsig::level_dbm0(x.data() + at, n) > -50.0) {
        t.active_seconds += n / 8000.0;
        if (d.tone_present()) t.present_active_seconds += n / 8000.0;
        if (d.tone_candidate()) t.candidate_active_seconds += n / 8000.0;
      }
    }
    // Close whatever is open with a second of silence.
    const std::vector<float> silence(8000, 0.0f);
    d.process(silence.data(), silence.size(), x.size(), ev);
    for (const auto& e : ev) {
      // cptones counted at their start, simple tones at their end (with duration).
      if (e.is_end != (e.type == RecognitionType::tone)) continue;
      const std::string where = path.substr(corpus.dir.size() + 1);
      char line[256];
      if (e.type == RecognitionType::cptone) {
        ++t.cptones;
        std::snprintf(line, sizeof line, "%+.0f dB %s: cptone %d at %.2f s", gain_db, where.c_str(), e.code,
                      e.start_sample / 8000.0);
        t.offenders.push_back(line);
      } else if (e.type == RecognitionType::tone && e.code >= 0 && e.code < 7) {
        ++t.simple_by_band[e.code];
        if (e.code == 5 || e.code == 6) {
          ++t.fax_simple;
          std::snprintf(line, sizeof line, "%+.0f dB %s: fax-band tone %d at %.2f s, %u ms", gain_db, where.c_str(),
                        e.code, e.start_sample / 8000.0, e.duration_ms);
          t.offenders.push_back(line);
        }
      }
    }
  }
}

// fax_bands_too: also fail on simple tones in the CNG/CED bands. Speech has
// none; music has real notes there (a 120 ms synth note at 2092 Hz), which
// are tones of the set, though no fax tone (cptone 6/7 needs its cadence).
void check(const Corpus& corpus, const char* what, double gain_db, bool fax_bands_too,
           const prosody::tones::CallProgressConfig& cfg = config(true, true, 0)) {
  if (corpus.files.empty()) PROSODY_SKIP_WITHOUT_DATA(corpus.why);
  TalkoffTotals t;
  run_corpus(corpus, gain_db, cfg, t);
  std::printf(
      "[talk-off %s %+.0f dB] %zu files, %.0f s (%.0f s active): %d cptones, %d fax-band tones; "
      "simple tones per band:",
      what, gain_db, corpus.files.size(), t.seconds, t.active_seconds, t.cptones, t.fax_simple);
  for (int b = 0; b < 7; ++b) std::printf(" %d", t.simple_by_band[b]);
  std::printf("; tone_present %.2f %% and tone_candidate %.2f %% of active time\n",
              100.0 * t.present_active_seconds / std::max(1.0, t.active_seconds),
              100.0 * t.candidate_active_seconds / std::max(1.0, t.active_seconds));
  for (const auto& o : t.offenders) std::printf("  %s\n", o.c_str());
  // What it claims to have checked: every file, and the corpus's length
  // (Debian's: 1,529 s of speech, 1,107 s of music).
  EXPECT_EQ(t.files_read, corpus.files.size());
  EXPECT_GE(t.seconds, 1000.0) << what << " corpus shorter than expected";
  EXPECT_EQ(t.cptones, 0);
  if (fax_bands_too) {
    EXPECT_EQ(t.fax_simple, 0);
  }
}

void check_speech(double gain_db) { check(speech(), "speech", gain_db, true); }

// An application's own tones (sm_add_input_tone_set, sm_add_input_cptone),
// as the module's tables hand them to the detector: states in time order,
// durations in 32 ms units.
using prosody::tones::cp::CadencePattern;
using prosody::tones::cp::StateKind;
using prosody::tones::cp::ToneSetSpec;

// A user set of one frequency, 2380..2420 Hz, and its cadence 150 on,
// 150 off, 150 on (the test in tests/unit/porting_test.cpp).
prosody::tones::CallProgressConfig user_set_config() {
  auto cfg = config(true, true, 0);
  auto set = std::make_shared<ToneSetSpec>();
  set->band1 = {{2380.0, 2420.0}};
  cfg.tone_set = set;
  CadencePattern p{42, "user", false, 3, {}};
  p.states[0] = {StateKind::tone, 96, 192, 1};
  p.states[1] = {StateKind::silence, 96, 192, 0};
  p.states[2] = {StateKind::tone, 96, 192, 1};
  cfg.repertoire = std::make_shared<const std::vector<CadencePattern>>(std::vector<CadencePattern>{p});
  return cfg;
}

// Set 1's call progress 1 (350..480 Hz) in a cadence the default
// repertoire lacks: 250 on, 250 off, 250 on, 250 off, 700 on.
prosody::tones::CallProgressConfig set1_cadence_config() {
  auto cfg = config(true, true, 0);
  CadencePattern p{77, "user", false, 5, {}};
  p.states[0] = {StateKind::tone, 192, 320, 1};
  p.states[1] = {StateKind::silence, 192, 320, 0};
  p.states[2] = {StateKind::tone, 192, 320, 1};
  p.states[3] = {StateKind::silence, 192, 320, 0};
  p.states[4] = {StateKind::tone, 576, 800, 1};
  cfg.repertoire = std::make_shared<const std::vector<CadencePattern>>(std::vector<CadencePattern>{p});
  return cfg;
}
void check_music(double gain_db) { check(music(), "music", gain_db, false); }

}  // namespace

TEST(CpTalkoff, SpeechCorpusNominalLevel) { check_speech(0.0); }
TEST(CpTalkoff, SpeechCorpusPlus10dB) { check_speech(10.0); }
TEST(CpTalkoff, MusicOnHoldNominalLevel) { check_music(0.0); }
// The call-progress reports of cfg's detector on cycles of a cadence of
// freq_hz at -15 dBm0: the control that the talk-off configuration does
// detect its tone.
int cptones_in_cadence(const prosody::tones::CallProgressConfig& cfg, double freq_hz, std::vector<int> on_off,
                       int cycles) {
  std::vector<float> x;
  for (int c = 0; c < cycles; ++c)
    for (std::size_t i = 0; i < on_off.size(); ++i) {
      const std::size_t n = std::size_t(on_off[i]) * 8;
      const auto part = i % 2 == 0 ? testsig::sine(freq_hz, -15.0, n, 8000.0) : std::vector<float>(n, 0.0f);
      x.insert(x.end(), part.begin(), part.end());
    }
  x.resize(x.size() + 8000, 0.0f);
  prosody::tones::CallProgressDetector d(cfg);
  std::vector<ToneEvent> ev;
  d.process(x.data(), x.size(), 0, ev);
  return static_cast<int>(starts(ev, RecognitionType::cptone).size());
}

TEST(CpTalkoff, SpeechCorpusUserToneSetAndCadence) {
  EXPECT_GE(cptones_in_cadence(user_set_config(), 2400.0, {150, 150, 150, 450}, 3), 1) << "the control";
  check(speech(), "speech, user set", 0.0, false, user_set_config());
  check(speech(), "speech, user set", 10.0, false, user_set_config());
}
TEST(CpTalkoff, SpeechCorpusUserCadenceOfToneSetOne) {
  EXPECT_GE(cptones_in_cadence(set1_cadence_config(), 425.0, {250, 250, 250, 250, 700, 1000}, 2), 1) << "the control";
  check(speech(), "speech, user cadence", 0.0, false, set1_cadence_config());
  check(speech(), "speech, user cadence", 10.0, false, set1_cadence_config());
}
TEST(CpTalkoff, MusicOnHoldPlus10dB) { check_music(10.0); }
