// file_readers.cpp - see file_readers.hpp.
#include "file_readers.hpp"

#include <sndfile.h>

#include <cstdio>
#include <string>
#include <vector>

namespace testsig {

namespace {

std::string output_of(const std::string& cmd) {
  std::string out;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char buf[256];
    while (std::fgets(buf, sizeof buf, p)) out += buf;
    pclose(p);
  }
  return out;
}

double number_or_fail(const std::string& text) {
  try {
    return text.empty() ? -1.0 : std::stod(text);
  } catch (...) {
    return -1.0;
  }
}

}  // namespace

double seconds_by_libsndfile(const std::string& path) {
  SF_INFO info{};
  SNDFILE* sf = sf_open(path.c_str(), SFM_READ, &info);
  if (!sf) return -1.0;
  std::vector<short> buf(4096 * std::size_t(info.channels));
  sf_count_t total = 0, got;
  while ((got = sf_readf_short(sf, buf.data(), 4096)) > 0) total += got;
  sf_close(sf);
  return double(total) / info.samplerate;
}

double seconds_by_sox(const std::string& path) {
  return number_or_fail(output_of("sox '" + path + "' -n stat 2>&1 | sed -n 's/^Length (seconds): *//p'"));
}

double seconds_by_python_wave(const std::string& path) {
  return number_or_fail(output_of(
      "/usr/bin/python3 -c \"import wave,sys; w=wave.open(sys.argv[1]); print(w.getnframes()/w.getframerate())\" '" +
      path + "' 2>/dev/null"));
}

bool have_sox() { return !output_of("command -v sox").empty(); }

}  // namespace testsig
