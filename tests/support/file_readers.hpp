// Independent readers of a sound file, for the crash-safety tests: each
// decodes the whole file and reports the seconds of audio it found, or a
// negative number if it could not read the file.
#pragma once

#include <string>

namespace testsig {

double seconds_by_libsndfile(const std::string& path);
// sox (Debian package sox), decoding to nothing.
double seconds_by_sox(const std::string& path);
// Python's wave module (Debian's /usr/bin/python3): WAV only.
double seconds_by_python_wave(const std::string& path);
// Whether sox is installed.
bool have_sox();

}  // namespace testsig
