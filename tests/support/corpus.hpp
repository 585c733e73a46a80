// corpus.hpp - the recorded speech and music the tests use as real signals:
// Asterisk's prompts (Debian asterisk-core-sounds-en-wav) and music on hold
// (asterisk-moh-opsound-wav), 8 kHz WAV files.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace testsig {

// Where each corpus is: PROSODY_SPEECH_DIR / PROSODY_MUSIC_DIR, or Debian's
// location.
std::string speech_dir();
std::string music_dir();

// The corpus's .wav files (searched recursively), sorted. Empty if there are
// none, with the reason (and how to install them) in why.
std::vector<std::string> speech_files(std::string* why);
std::vector<std::string> music_files(std::string* why);

// One corpus file's samples: false if it is unreadable or not 8 kHz.
bool read_corpus_file(const std::string& path, std::vector<float>& x);

// A talk-off run's reading: each readable file's samples, gain_db louder
// and clipped as a 16-bit path would clip, to each(path, x); the files
// that could not be read, and the seconds read.
struct CorpusRun {
  std::vector<std::string> unreadable;
  std::size_t files_read = 0;
  double seconds = 0.0;
};
CorpusRun for_each_corpus_file(const std::vector<std::string>& files, double gain_db,
                               const std::function<void(const std::string& path, std::vector<float>& x)>& each);

}  // namespace testsig
