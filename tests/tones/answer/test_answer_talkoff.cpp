// Talk-off: no modem answer tone and no beep reported on real speech and
// music (the recorded corpora of tests/support/corpus.hpp), at the files'
// own level and 10 dB louder (clipped as a 16-bit path would clip).
//
// Debian's prompt set also holds a few tone prompts, which are beeps: they
// are no talk-off, and the real beep among them must be found.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "corpus.hpp"
#include "signal.hpp"
#include "test_data.hpp"
#include "tones/answer/answer_tones.hpp"

namespace {

// The tone prompts (not speech) of asterisk-core-sounds-en: a 700 Hz beep,
// two-tone chimes and the conference join/leave tones.
const char* const kTonePrompts[] = {"beep.wav", "ascending-2tone.wav", "descending-2tone.wav", "confbridge-join.wav",
                                    "confbridge-leave.wav"};

bool tone_prompt(const std::string& where) {
  for (const char* name : kTonePrompts)
    if (where == name) return true;
  return false;
}

struct Totals {
  double seconds = 0.0;
  std::size_t files_read = 0;
  int answer_tones = 0, beeps = 0;
  int prompt_beeps = 0, beep_wav_700hz = 0;  // on the tone prompts
  std::vector<std::string> offenders;
};

void run_file(const std::string& where, std::vector<float> x, double gain_db, Totals& t) {
  const float gain = static_cast<float>(std::pow(10.0, gain_db / 20.0));
  for (float& v : x) v = std::clamp(v * gain, -1.0f, 32767.0f / 32768.0f);
  x.resize(x.size() + 8000, 0.0f);  // a second of silence closes what is open
  prosody::tones::AnswerToneDetector answer;
  prosody::tones::BeepDetector beep;
  std::vector<prosody::ToneEvent> ev;
  for (std::size_t at = 0; at < x.size(); at += 160) {
    const std::size_t n = std::min<std::size_t>(160, x.size() - at);
    answer.process(x.data() + at, n, at, ev);
    beep.process(x.data() + at, n, at, ev);
  }
  for (const prosody::ToneEvent& e : ev) {
    if (tone_prompt(where)) {
      ++t.prompt_beeps;
      if (where == "beep.wav" && e.type == prosody::RecognitionType::beep && std::abs(e.code - 700) <= 5)
        ++t.beep_wav_700hz;
      continue;
    }
    char line[256];
    const bool is_answer = e.type == prosody::RecognitionType::ans;
    (is_answer ? t.answer_tones : t.beeps)++;
    std::snprintf(line, sizeof line, "%+.0f dB %s: %s %d at %.2f s (%u ms, %.1f dBm0)", gain_db, where.c_str(),
                  is_answer ? "answer tone" : "beep", e.code, e.start_sample / 8000.0, e.duration_ms, e.level_dbm0);
    t.offenders.push_back(line);
  }
}

void check(bool music, double gain_db) {
  std::string why;
  const std::vector<std::string> files = music ? testsig::music_files(&why) : testsig::speech_files(&why);
  if (files.empty()) PROSODY_SKIP_WITHOUT_DATA(why);
  const std::string dir = music ? testsig::music_dir() : testsig::speech_dir();
  Totals t;
  for (const std::string& path : files) {
    std::vector<float> x;
    if (!testsig::read_corpus_file(path, x)) {
      ADD_FAILURE() << "unreadable or not 8 kHz: " << path;
      continue;
    }
    ++t.files_read;
    t.seconds += x.size() / 8000.0;
    run_file(path.substr(dir.size() + 1), std::move(x), gain_db, t);
  }
  std::printf(
      "[answer talk-off %s %+.0f dB] %zu files, %.0f s: %d answer tones, %d beeps (and %d beeps on the %zu "
      "tone prompts)\n",
      music ? "music" : "speech", gain_db, t.files_read, t.seconds, t.answer_tones, t.beeps, t.prompt_beeps,
      std::size(kTonePrompts));
  for (const auto& o : t.offenders) std::printf("  %s\n", o.c_str());
  EXPECT_EQ(t.files_read, files.size());
  EXPECT_GE(t.seconds, 1000.0) << "corpus shorter than expected";
  EXPECT_EQ(t.answer_tones, 0);
  EXPECT_EQ(t.beeps, 0);
  if (!music) {
    EXPECT_EQ(t.beep_wav_700hz, 1) << "the corpus's own beep prompt";
  }
}

}  // namespace

TEST(AnswerTalkoff, Speech) { check(false, 0.0); }
TEST(AnswerTalkoff, SpeechLouder) { check(false, 10.0); }
TEST(AnswerTalkoff, Music) { check(true, 0.0); }
TEST(AnswerTalkoff, MusicLouder) { check(true, 10.0); }
