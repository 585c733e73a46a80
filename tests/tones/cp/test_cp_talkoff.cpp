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

void run_corpus(const Corpus& corpus, double gain_db, TalkoffTotals& t) {
  const auto cfg = config(true, true, 0);
  for (const std::string& path : corpus.files) {
    std::vector<float> x;
    int rate = 0;
    if (!testsig::read_wav(path, x, rate) || rate != 8000) {
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
void check(const Corpus& corpus, const char* what, double gain_db, bool fax_bands_too) {
  if (corpus.files.empty()) PROSODY_SKIP_WITHOUT_DATA(corpus.why);
  TalkoffTotals t;
  run_corpus(corpus, gain_db, t);
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
void check_music(double gain_db) { check(music(), "music", gain_db, false); }

}  // namespace

TEST(CpTalkoff, SpeechCorpusNominalLevel) { check_speech(0.0); }
TEST(CpTalkoff, SpeechCorpusPlus10dB) { check_speech(10.0); }
TEST(CpTalkoff, MusicOnHoldNominalLevel) { check_music(0.0); }
TEST(CpTalkoff, MusicOnHoldPlus10dB) { check_music(10.0); }
