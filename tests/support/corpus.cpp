#include "corpus.hpp"

#include "signal.hpp"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace testsig {

namespace {

void collect_wavs(const std::string& dir, std::vector<std::string>& out) {
  DIR* d = opendir(dir.c_str());
  if (!d) return;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    const std::string path = dir + "/" + name;
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      collect_wavs(path, out);
    } else if (name.size() > 4 && name.compare(name.size() - 4, 4, ".wav") == 0) {
      out.push_back(path);
    }
  }
  closedir(d);
}

std::string dir_from(const char* variable, const char* fallback) {
  const char* env = std::getenv(variable);
  return env && *env ? env : fallback;
}

std::vector<std::string> corpus_files(const std::string& dir, const char* what, const char* package,
                                      const char* variable, std::string* why) {
  std::vector<std::string> files;
  collect_wavs(dir, files);
  std::sort(files.begin(), files.end());
  if (files.empty() && why)
    *why = std::string("no ") + what + " corpus at " + dir + " (install the Debian package " + package + " or set " +
           variable + ")";
  return files;
}

}  // namespace

std::string speech_dir() { return dir_from("PROSODY_SPEECH_DIR", "/usr/share/asterisk/sounds/en_US_f_Allison"); }
std::string music_dir() { return dir_from("PROSODY_MUSIC_DIR", "/usr/share/asterisk/moh"); }

std::vector<std::string> speech_files(std::string* why) {
  return corpus_files(speech_dir(), "speech", "asterisk-core-sounds-en-wav", "PROSODY_SPEECH_DIR", why);
}

std::vector<std::string> music_files(std::string* why) {
  return corpus_files(music_dir(), "music", "asterisk-moh-opsound-wav", "PROSODY_MUSIC_DIR", why);
}

bool read_corpus_file(const std::string& path, std::vector<float>& x) {
  int rate = 0;
  return read_wav(path, x, rate) && rate == 8000;
}

CorpusRun for_each_corpus_file(const std::vector<std::string>& files, double gain_db,
                               const std::function<void(const std::string& path, std::vector<float>& x)>& each) {
  CorpusRun run;
  const float gain = static_cast<float>(std::pow(10.0, gain_db / 20.0));
  for (const std::string& path : files) {
    std::vector<float> x;
    if (!read_corpus_file(path, x)) {
      run.unreadable.push_back(path);
      continue;
    }
    ++run.files_read;
    run.seconds += double(x.size()) / 8000.0;
    for (float& v : x) v = std::clamp(v * gain, -1.0f, 32767.0f / 32768.0f);
    each(path, x);
  }
  return run;
}

}  // namespace testsig
