// The file layer (files.hpp): every format's round trip against its known
// bound, the writer's crash safety under SIGKILL, the resampler.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "prosody/files.hpp"
#include "file_readers.hpp"
#include "signal.hpp"

// spandsp's G.711: the oracle for the A-law and mu-law files.
#include <spandsp/telephony.h>
#include <spandsp/bit_operations.h>
#include <spandsp/g711.h>

namespace {

using prosody::FileReader;
using prosody::FileWriter;

std::string temp_path(const std::string& name) {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/prosody-files-" + std::to_string(getpid()) + "-" + name;
}

// Speech-band test signal: three tones, -18 dBm0 each, plus a little noise.
std::vector<float> test_signal(std::size_t n, double rate) {
  std::vector<float> x = testsig::sine(440.0, -18.0, n, rate);
  testsig::add_sine(x, 1230.0, -18.0, rate, 0.3);
  testsig::add_sine(x, 2710.0, -24.0, rate, 1.1);
  const auto noise = testsig::white_noise(-50.0, n, 7);
  for (std::size_t i = 0; i < n; ++i) x[i] += noise[i];
  return testsig::to_float(testsig::to_int16(x));  // on the 16-bit grid
}

std::vector<float> round_trip(const std::string& name, const std::vector<float>& x, unsigned rate,
                              std::vector<std::uint8_t>* encoded = nullptr) {
  const auto format = prosody::parse_file_format(name);
  EXPECT_TRUE(format) << name;
  const std::string path = temp_path("rt." + name);
  std::string error;
  {
    prosody::FileWriterSettings s;
    s.format = *format;
    s.rate = rate;
    auto w = FileWriter::open(path, s, &error);
    EXPECT_TRUE(w) << error;
    if (!w) return {};
    // In pieces, as a recording arrives.
    for (std::size_t at = 0; at < x.size(); at += 160)
      EXPECT_TRUE(w->write(x.data() + at, std::min<std::size_t>(160, x.size() - at)));
    EXPECT_TRUE(w->close()) << w->error();
  }
  prosody::FileReaderSettings rs;
  if (format->container == prosody::FileContainer::raw || format->container == prosody::FileContainer::vox) {
    rs.raw_format = format;
    rs.raw_rate = rate;
  }
  auto r = FileReader::open(path, rs, &error);
  EXPECT_TRUE(r) << error;
  if (!r) return {};
  EXPECT_EQ(r->rate(), rate);
  EXPECT_EQ(r->format(), *format) << name;
  std::vector<float> y(x.size() + 4096);
  y.resize(r->read(y.data(), y.size()));
  if (encoded) {
    r->seek(0);
    encoded->resize(x.size() * 2);
    encoded->resize(r->read_encoded(encoded->data(), encoded->size()));
  }
  std::remove(path.c_str());
  return y;
}

TEST(Files, Pcm16AndFlacAreBitExact) {
  const auto x = test_signal(16000, 8000.0);
  for (const char* name : {"wav", "au", "raw", "flac"}) {
    SCOPED_TRACE(name);
    const auto y = round_trip(name, x, 8000);
    ASSERT_EQ(y.size(), x.size());
    EXPECT_EQ(y, x);
  }
}

TEST(Files, G711FilesHoldSpandspsCodes) {
  const auto x = test_signal(8000, 8000.0);
  const auto pcm = testsig::to_int16(x);
  for (const char* name : {"wav-alaw", "au-alaw", "raw-alaw", "wav-ulaw", "au-ulaw", "raw-ulaw"}) {
    SCOPED_TRACE(name);
    const bool alaw = std::string(name).find("alaw") != std::string::npos;
    std::vector<std::uint8_t> codes;
    const auto y = round_trip(name, x, 8000, &codes);
    ASSERT_EQ(y.size(), x.size());
    ASSERT_EQ(codes.size(), x.size());
    std::size_t code_mismatch = 0, sample_mismatch = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const std::uint8_t want = alaw ? linear_to_alaw(pcm[i]) : linear_to_ulaw(pcm[i]);
      code_mismatch += codes[i] != want;
      const std::int16_t back = alaw ? alaw_to_linear(want) : ulaw_to_linear(want);
      sample_mismatch += std::lround(y[i] * 32768.0f) != back;
    }
    EXPECT_EQ(code_mismatch, 0u);
    EXPECT_EQ(sample_mismatch, 0u);
  }
}

// The lossy formats: SNR of the decoded signal against the original, with
// the bound each is held to (measured values in docs/api.md).
TEST(Files, LossyFormatsMeetTheirBounds) {
  struct Case {
    const char* name;
    unsigned rate;
    double min_snr_db;
  };
  // 8-bit: libsndfile truncates 16-bit samples to 8 bits (noise step^2/3,
  // 6 dB above rounding's): 26.4 dB measured. ADPCM (4 bits): 19.7 dB, Opus
  // (libsndfile's default bitrate): 16.8 dB at 8 kHz, 22.0 dB at 48 kHz.
  for (const Case& c : {Case{"wav-u8", 8000, 25.0}, Case{"raw-s8", 8000, 25.0}, Case{"wav-ima-adpcm", 8000, 18.0},
                        Case{"vox", 8000, 17.0}, Case{"opus", 8000, 14.0}, Case{"opus", 48000, 19.0}}) {
    SCOPED_TRACE(std::string(c.name) + "@" + std::to_string(c.rate));
    const auto x = test_signal(c.rate * 2, c.rate);
    const auto y = round_trip(c.name, x, c.rate);
    ASSERT_GE(y.size(), x.size() - c.rate / 10);
    // Skip the codec's start-up (ADPCM step adaptation, Opus's first frame).
    const std::size_t skip = c.rate / 10, n = std::min(x.size(), y.size()) - skip;
    const double snr = testsig::snr_db(x.data() + skip, y.data() + skip, n);
    std::printf("[ measure ] %s at %u Hz: SNR %.1f dB\n", c.name, c.rate, snr);
    EXPECT_GE(snr, c.min_snr_db);
  }
}

TEST(Files, UnsupportedCombinationsAreRefusedWithAReason) {
  std::string why;
  EXPECT_FALSE(prosody::file_format_supported(*prosody::parse_file_format("vox"), 8000, 2, &why));
  EXPECT_NE(why.find("mono"), std::string::npos);
  EXPECT_FALSE(prosody::file_format_supported(*prosody::parse_file_format("opus"), 44100, 1, &why));
  EXPECT_FALSE(prosody::parse_file_format("mp3"));
  prosody::FileWriterSettings s;
  s.format = *prosody::parse_file_format("opus");
  s.rate = 44100;
  std::string error;
  EXPECT_FALSE(FileWriter::open(temp_path("x.opus"), s, &error));
  EXPECT_NE(error.find("Opus"), std::string::npos) << error;
  s.format = *prosody::parse_file_format("wav");
  s.rate = 8000;
  EXPECT_FALSE(FileWriter::open("/nonexistent-dir/x.wav", s, &error));
  EXPECT_NE(error.find("No such file"), std::string::npos) << error;
}

TEST(Files, ExtensionsImplyFormats) {
  EXPECT_EQ(prosody::file_format_name(*prosody::file_format_for_path("a/b.WAV")), "wav");
  EXPECT_EQ(prosody::file_format_name(*prosody::file_format_for_path("c.flac")), "flac");
  EXPECT_EQ(prosody::file_format_name(*prosody::file_format_for_path("c.vox")), "vox");
  EXPECT_EQ(prosody::file_format_name(*prosody::file_format_for_path("c.ul")), "raw-ulaw");
  EXPECT_FALSE(prosody::file_format_for_path("dir.wav/file"));
}

// ---------------------------------------------------------------------------
// Crash safety: a child writes in real time and is SIGKILLed at a random
// moment; the file must open with libsndfile, sox and Python's wave (WAV),
// holding within 100 ms of what was written by then.

void kill_while_writing(const std::string& format, std::mt19937& rng) {
  const std::string path = temp_path("kill." + format);
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    prosody::FileWriterSettings s;
    s.format = *prosody::parse_file_format(format);
    s.rate = 8000;
    auto w = FileWriter::open(path, s, nullptr);
    if (!w) _exit(2);
    const auto x = test_signal(80, 8000.0);
    const auto start = std::chrono::steady_clock::now();
    (void)!write(ready[1], "s", 1);
    for (std::uint64_t k = 1;; ++k) {  // 10 ms of audio every 10 ms
      w->write(x.data(), x.size());
      std::this_thread::sleep_until(start + std::chrono::milliseconds(10 * k));
    }
  }
  char c;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  const auto start = std::chrono::steady_clock::now();
  std::uniform_int_distribution<int> ms(300, 2500);
  std::this_thread::sleep_for(std::chrono::milliseconds(ms(rng)));
  kill(child, SIGKILL);
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  int status = 0;
  waitpid(child, &status, 0);
  close(ready[0]);
  close(ready[1]);
  ASSERT_TRUE(WIFSIGNALED(status));

  const double by_sndfile = testsig::seconds_by_libsndfile(path), by_sox = testsig::seconds_by_sox(path);
  EXPECT_NEAR(by_sndfile, elapsed, 0.1) << "libsndfile";
  EXPECT_NEAR(by_sox, elapsed, 0.1) << "sox";
  if (format == "wav") EXPECT_NEAR(testsig::seconds_by_python_wave(path), elapsed, 0.1) << "Python's wave";
  std::printf("[ measure ] %s killed after %.3f s: libsndfile %.3f s, sox %.3f s\n", format.c_str(), elapsed,
              by_sndfile, by_sox);
  std::remove(path.c_str());
}

TEST(FilesCrash, WavAndFlacKilledAtFiveRandomMomentsStayReadable) {
  if (!testsig::have_sox()) GTEST_SKIP() << "sox is not installed (build.sh installs it)";
  std::mt19937 rng(std::random_device{}());
  for (const char* format : {"wav", "flac"})
    for (int i = 0; i < 5; ++i) {
      SCOPED_TRACE(std::string(format) + " #" + std::to_string(i));
      kill_while_writing(format, rng);
    }
}

// ---------------------------------------------------------------------------

TEST(Resampler, ConvertsATonePreservingItsLevel) {
  for (auto [from, to] : {std::pair<unsigned, unsigned>{16000, 8000}, {8000, 48000}, {44100, 8000}}) {
    SCOPED_TRACE(std::to_string(from) + "->" + std::to_string(to));
    const auto x = testsig::sine(1000.0, -10.0, from, from);
    prosody::Resampler r(from, to);
    std::vector<float> y(to + 1000);
    std::size_t at_in = 0, at_out = 0;
    while (at_in < x.size()) {  // in 10 ms pieces
      const std::size_t k = std::min<std::size_t>(from / 100, x.size() - at_in);
      std::size_t used = 0, made = 0;
      r.process(x.data() + at_in, k, y.data() + at_out, y.size() - at_out, false, used, made);
      at_in += used;
      at_out += made;
    }
    EXPECT_NEAR(double(at_out), double(to), to * 0.01);
    const std::size_t skip = to / 10;
    EXPECT_NEAR(testsig::tone_level_dbm0(y.data() + skip, to / 2, 1000.0, to), -10.0, 0.1);
    // Everything but the tone (aliases, filter ripple) at least 60 dB down:
    // the residual after the best fit of a 1 kHz sine of any phase.
    const std::size_t n = to / 2;
    const auto s = testsig::sine(1000.0, -10.0, n, to), c = testsig::sine(1000.0, -10.0, n, to, testsig::kPi / 2);
    const float* v = y.data() + skip;
    double ss = 0, cc = 0, sc = 0, sv = 0, cv = 0;
    for (std::size_t i = 0; i < n; ++i) {
      ss += double(s[i]) * s[i];
      cc += double(c[i]) * c[i];
      sc += double(s[i]) * c[i];
      sv += double(s[i]) * v[i];
      cv += double(c[i]) * v[i];
    }
    const double det = ss * cc - sc * sc, a = (sv * cc - cv * sc) / det, b = (cv * ss - sv * sc) / det;
    double signal = 0, residual = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double fit = a * s[i] + b * c[i];
      signal += fit * fit;
      residual += (v[i] - fit) * (v[i] - fit);
    }
    const double snr = 10.0 * std::log10(signal / residual);
    std::printf("[ measure ] resampler %u->%u Hz: tone to residual %.1f dB\n", from, to, snr);
    EXPECT_GT(snr, 60.0);
  }
}

}  // namespace
