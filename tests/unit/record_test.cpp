// The record and replay jobs' features: OKI ADPCM and other rates, silence
// and tone elimination, the termination limits, the record AGC, the channel
// thresholds, inline recognition, and the FILE helpers on sound files.
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "prosody/files.hpp"
#include "prosody/prosody.hpp"
#include "prosody/smbesp.h"
#include "prosody/smhlib.h"
#include "corpus.hpp"
#include "signal.hpp"
#include "test_data.hpp"

namespace {

using prosody::Channel;
using prosody::ChannelType;
using prosody::DataFormat;
using prosody::Module;
using prosody::RecordSettings;
using prosody::RecordTermination;

std::string temp_path(const std::string& name) {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/prosody-record-" + std::to_string(getpid()) + "-" + name;
}

tSMChannelId c_id(const Channel& ch) { return reinterpret_cast<tSMChannelId>(ch.id().value); }

// A stepped 8 kHz module with one channel whose input is a host port: x is
// fed a frame at a time, the record job's bytes collected.
struct Recording {
  Module module = Module::create();
  Channel ch = module.allocate(ChannelType::full_duplex);
  std::vector<std::uint8_t> bytes;
  std::size_t frames_fed = 0;
  prosody::RecordStatus last;  // the last status read

  explicit Recording(const RecordSettings& s) {
    ch.enable_host_input();
    ch.record_start(s);
  }
  // Feeds x; stops early once the job has terminated. Returns the termination.
  RecordTermination feed(const std::vector<float>& x) {
    const std::size_t n = module.frame_samples();
    for (std::size_t at = 0; at + n <= x.size(); at += n) {
      ch.write_input(prosody::Span<const float>(x.data() + at, n));
      module.step();
      ++frames_fed;
      drain();
      last = ch.record_status();
      if (last.termination != RecordTermination::not_yet) return last.termination;
    }
    return RecordTermination::not_yet;
  }
  void drain() {
    std::uint8_t buf[2048];
    std::size_t got;
    while ((got = ch.record_get(buf)) > 0) bytes.insert(bytes.end(), buf, buf + got);
  }
  std::vector<float> samples16() const {
    std::vector<float> y(bytes.size() / 2);
    for (std::size_t i = 0; i < y.size(); ++i) {
      std::int16_t v;
      std::memcpy(&v, bytes.data() + 2 * i, 2);
      y[i] = float(v) / 32768.0f;
    }
    return y;
  }
};

std::vector<float> tones(std::size_t n, double rate) {
  std::vector<float> x = testsig::sine(440.0, -16.0, n, rate);
  testsig::add_sine(x, 1230.0, -18.0, rate, 0.3);
  return x;
}

// ---------------------------------------------------------------------------
// Formats and rates

// An OKI ADPCM recording decodes with libsndfile (another program's view),
// and replays as what was recorded. (The bytes are 8000 / 2 a second, so
// the replay's queue, two seconds, takes them at once.)
TEST(RecordJob, OkiAdpcmRecordsDecodesAndReplays) {
  RecordSettings s;
  s.format = DataFormat::oki_adpcm;
  Recording r(s);
  const auto x = tones(16000, 8000.0);
  r.feed(x);
  ASSERT_EQ(r.bytes.size(), x.size() / 2) << "two samples a byte";
  const std::string path = temp_path("rec.vox");
  FILE* f = std::fopen(path.c_str(), "wb");
  std::fwrite(r.bytes.data(), 1, r.bytes.size(), f);
  std::fclose(f);
  prosody::FileReaderSettings rs;
  rs.raw_format = prosody::parse_file_format("vox");
  auto reader = prosody::FileReader::open(path, rs, nullptr);
  ASSERT_TRUE(reader);
  std::vector<float> y(x.size());
  ASSERT_EQ(reader->read(y.data(), y.size()), x.size());
  const double snr = testsig::snr_db(x.data() + 800, y.data() + 800, x.size() - 800);
  std::printf("[ measure ] OKI ADPCM record: SNR %.1f dB\n", snr);
  EXPECT_GT(snr, 14.0);
  std::remove(path.c_str());

  Channel player = r.module.allocate(ChannelType::output);
  player.enable_host_output();
  prosody::ReplaySettings ps;
  ps.format = DataFormat::oki_adpcm;
  player.replay_start(ps);
  player.replay_put(prosody::Span<const std::uint8_t>(r.bytes.data(), r.bytes.size()), true);
  std::vector<float> z(x.size());
  for (std::size_t at = 0; at < z.size(); at += r.module.frame_samples()) {
    r.module.step();
    player.read_output(prosody::Span<float>(z.data() + at, r.module.frame_samples()));
  }
  EXPECT_EQ(z, y) << "the replay decodes as libsndfile does";
}

TEST(RecordJob, RecordsAndReplaysAtRatesOtherThanTheModules) {
  // Record an 8 kHz module's input as 16 kHz data.
  RecordSettings s;
  s.sample_rate = 16000;
  Recording r(s);
  const auto x = testsig::sine(1000.0, -10.0, 16000, 8000.0);
  r.feed(x);
  const auto y = r.samples16();
  // The converter holds its filter's delay (about 6 ms here).
  EXPECT_GT(y.size(), 32000u - 160u);
  EXPECT_LE(y.size(), 32000u);
  EXPECT_NEAR(testsig::tone_level_dbm0(y.data() + 3200, 16000, 1000.0, 16000.0), -10.0, 0.1);

  // Replay 16 kHz data into it.
  Channel player = r.module.allocate(ChannelType::output);
  player.enable_host_output();
  prosody::ReplaySettings ps;
  ps.sample_rate = 16000;
  player.replay_start(ps);
  const auto pcm = testsig::to_int16(testsig::sine(1000.0, -10.0, 16000, 16000.0));
  std::vector<std::uint8_t> data(reinterpret_cast<const std::uint8_t*>(pcm.data()),
                                 reinterpret_cast<const std::uint8_t*>(pcm.data() + pcm.size()));
  std::size_t put = 0;
  std::vector<float> out(8000);
  for (std::size_t at = 0; at < out.size(); at += 80) {
    while (put < data.size()) {
      const std::size_t k = std::min<std::size_t>(2048, data.size() - put);
      try {
        player.replay_put(prosody::Span<const std::uint8_t>(data.data() + put, k), put + k == data.size());
      } catch (const prosody::Error&) {
        break;  // no capacity: next frame
      }
      put += k;
    }
    r.module.step();
    player.read_output(prosody::Span<float>(out.data() + at, 80));
  }
  EXPECT_NEAR(testsig::tone_level_dbm0(out.data() + 800, 6400, 1000.0, 8000.0), -10.0, 0.1);
  for (int i = 0; i < 3; ++i) r.module.step();  // the converter's delay
  EXPECT_EQ(player.replay_status().state, prosody::ReplayState::complete) << "played to its end";
}

// ---------------------------------------------------------------------------
// Silence elimination

// Which frames of x a recording y kept: y is an ordered subset of x's
// frames (every frame unique, as noise makes them). Empty if y holds a
// frame that is not x's.
std::vector<bool> kept_frames_of(const std::vector<float>& x, const std::vector<float>& y, std::size_t fn) {
  const std::size_t nframes = x.size() / fn;
  std::vector<bool> kept(nframes, false);
  std::size_t next = 0;
  for (std::size_t at = 0; at + fn <= y.size(); at += fn) {
    while (next < nframes && std::memcmp(&x[next * fn], &y[at], fn * sizeof(float)) != 0) ++next;
    if (next == nframes) return {};
    kept[next++] = true;
  }
  return kept;
}

TEST(RecordJob, SilenceEliminationCutsSilencesAndKeepsOnsets) {
  // Three bursts of 300 ms, each starting with a 30 ms fade-in from -60
  // dBm0 (its first frames are below the silence level), 1 s apart, on
  // -70 dBm0 noise (so every frame is unique and can be found again).
  const std::size_t n = 8000 * 4;
  std::vector<float> x = testsig::white_noise(-70.0, n, 3);
  const std::size_t starts[3] = {4000, 4000 + 10400, 4000 + 20800};
  for (std::size_t b : starts) {
    const auto tone = testsig::sine(600.0, -20.0, 2400, 8000.0);
    for (std::size_t i = 0; i < 2400; ++i) {
      const double fade = i < 240 ? std::pow(10.0, -2.0 * (1.0 - double(i) / 240.0)) : 1.0;  // -40 dB -> 0
      x[b + i] += float(tone[i] * fade);
    }
  }
  x = testsig::to_float(testsig::to_int16(x));
  RecordSettings s;
  s.silence_elimination_ms = 100;
  Recording r(s);
  r.feed(x);
  const auto y = r.samples16();
  const std::size_t fn = 80, nframes = n / fn;
  const std::vector<bool> kept = kept_frames_of(x, y, fn);
  ASSERT_EQ(kept.size(), nframes);
  std::size_t clipped = 0, kept_frames = 0;
  for (std::size_t b : starts)
    for (std::size_t f = b / fn; f < (b + 2400) / fn; ++f) clipped += !kept[f];
  for (bool k : kept) kept_frames += k;
  const double removed_ms = double(nframes - kept_frames) * 10.0;
  std::printf("[ measure ] silence elimination: %.0f ms of 4000 removed, onsets clipped by %zu ms\n", removed_ms,
              clipped * 10);
  EXPECT_EQ(clipped, 0u) << "every burst, fade-in included, is recorded";
  // Silence: 500 ms before, 2 x 1000 ms between, 600 ms after. Kept: 100 ms
  // of lead-in before each burst's first loud frame (the fade-in's first
  // frame, below the silence level, is part of the lead-in) and 100 ms of
  // hang-over after each burst.
  EXPECT_NEAR(removed_ms, (500.0 - 100.0) + 2 * (1000.0 - 200.0) + (600.0 - 100.0) + 3 * 10.0, 0.5);
}

// Real speech: Asterisk's prompts, a second of line noise between them.
// Every utterance is recorded from its onset (its first 10 ms above -60
// dBm0, well under the -45 dBm0 silence level) on.
TEST(RecordJob, SilenceEliminationKeepsSpeechOnsets) {
  std::string why;
  auto files = testsig::speech_files(&why);
  if (files.empty()) PROSODY_SKIP_WITHOUT_DATA(why);
  files.resize(std::min<std::size_t>(files.size(), 12));
  const std::size_t fn = 80;
  std::vector<float> x;
  std::vector<std::size_t> onsets;  // frame of each utterance's onset
  std::size_t seed = 11;
  for (const auto& f : files) {
    std::vector<float> speech;
    int rate = 0;
    ASSERT_TRUE(testsig::read_wav(f, speech, rate)) << f;
    ASSERT_EQ(rate, 8000);
    const auto gap = testsig::white_noise(-70.0, 8000, std::uint32_t(seed++));
    x.insert(x.end(), gap.begin(), gap.end());
    x.resize(x.size() / fn * fn);
    const std::size_t start = x.size();
    x.insert(x.end(), speech.begin(), speech.end());
    x.resize((x.size() + fn - 1) / fn * fn, 0.0f);
    const auto hiss = testsig::white_noise(-70.0, x.size() - start, std::uint32_t(seed++));
    for (std::size_t i = start; i < x.size(); ++i) x[i] += hiss[i - start];  // no two frames alike
    for (std::size_t k = start / fn; k < x.size() / fn; ++k)
      if (testsig::level_dbm0(&x[k * fn], fn) > -60.0) {
        onsets.push_back(k);
        break;
      }
  }
  x = testsig::to_float(testsig::to_int16(x));
  RecordSettings s;
  s.silence_elimination_ms = 100;
  Recording r(s);
  r.feed(x);
  const auto kept = kept_frames_of(x, r.samples16(), fn);
  ASSERT_EQ(kept.size(), x.size() / fn) << "the recording holds only input frames";
  std::size_t worst = 0, removed = 0;
  for (std::size_t k : onsets) {
    std::size_t clipped = 0;
    while (k + clipped < kept.size() && !kept[k + clipped]) ++clipped;
    worst = std::max(worst, clipped);
  }
  for (bool k : kept) removed += !k;
  std::printf("[ measure ] speech: %zu utterances, %.1f of %.1f s removed, worst onset clipped by %zu ms\n",
              onsets.size(), removed / 100.0, kept.size() / 100.0, worst * 10);
  EXPECT_EQ(worst, 0u);
  EXPECT_GT(removed * 10, files.size() * 700) << "most of each 1 s gap is gone";
}

// ---------------------------------------------------------------------------
// Tone elimination

TEST(RecordJob, ToneEliminationRemovesDtmfFromTheRecording) {
  const std::size_t n = 8000 * 2;
  std::vector<float> x = testsig::sine(500.0, -25.0, n, 8000.0);  // a talker's tone throughout
  const std::size_t at = 6000, len = 800;                         // '5': 770 + 1336 Hz, 100 ms
  testsig::add_sine(x, 770.0, -10.0, 8000.0, 0.0, at, len);
  testsig::add_sine(x, 1336.0, -8.0, 8000.0, 0.0, at, len);
  RecordSettings s;
  s.tone_elimination.enabled = true;
  Recording r(s);
  r.feed(x);
  const auto y = r.samples16();
  ASSERT_EQ(y.size(), n);
  const std::size_t delay = 128;  // 16 ms look-ahead
  const double in_770 = testsig::tone_level_dbm0(x.data() + at, len, 770.0, 8000.0);
  const double out_770 = testsig::tone_level_dbm0(y.data() + at + delay, len, 770.0, 8000.0);
  const double out_1336 = testsig::tone_level_dbm0(y.data() + at + delay, len, 1336.0, 8000.0);
  std::printf("[ measure ] tone elimination: DTMF %.1f dB -> %.1f / %.1f dBm0\n", in_770, out_770, out_1336);
  EXPECT_LE(out_770 - in_770, -40.0);
  EXPECT_LE(out_1336 - (in_770 + 2.0), -40.0);
  // Away from the digit the recording is the input, 16 ms later.
  EXPECT_GT(testsig::snr_db(x.data() + 1000, y.data() + 1000 + delay, 4000), 60.0);
}

// ---------------------------------------------------------------------------
// Termination, each within a frame of its limit

TEST(RecordJob, EachTerminationFiresWithinAFrameOfItsLimit) {
  const auto loud = testsig::sine(700.0, -20.0, 8000 * 3, 8000.0);
  {
    RecordSettings s;
    s.max_elapsed_ms = 1234;
    Recording r(s);
    EXPECT_EQ(r.feed(loud), RecordTermination::max_time);
    const double ms = r.samples16().size() / 8.0;
    EXPECT_GE(ms, 1234.0);
    EXPECT_LT(ms, 1234.0 + 10.0);
  }
  {
    RecordSettings s;
    s.max_octets = 1001;
    Recording r(s);
    EXPECT_EQ(r.feed(loud), RecordTermination::length);
    EXPECT_EQ(r.bytes.size(), 1001u);
  }
  {
    // 200 ms of sound, then silence: ends 500 ms into the silence.
    std::vector<float> x(8000 * 3, 0.0f);
    std::copy(loud.begin(), loud.begin() + 1600, x.begin());
    RecordSettings s;
    s.max_silence_ms = 500;
    Recording r(s);
    EXPECT_EQ(r.feed(x), RecordTermination::silence);
    const double ms = r.samples16().size() / 8.0;
    EXPECT_GE(ms, 700.0);
    EXPECT_LT(ms, 710.0);
    EXPECT_EQ(r.last.termination_octets, 500u * 16u) << "the trailing silence, in octets";
  }
  {
    std::vector<float> x(8000 * 3, 0.0f);
    RecordSettings s;
    s.max_initial_silence_ms = 300;
    Recording r(s);
    EXPECT_EQ(r.feed(x), RecordTermination::silence);
    EXPECT_NEAR(r.samples16().size() / 8.0, 300.0, 10.0);
  }
}

// ---------------------------------------------------------------------------
// Record AGC

TEST(RecordJob, AgcAdjustForcesTheGainAndSettingsMoveTheTarget) {
  const auto x = testsig::sine(700.0, -30.0, 8000 * 8, 8000.0);
  {
    RecordSettings s;
    s.agc = true;
    Recording r(s);
    r.feed(std::vector<float>(x.begin(), x.begin() + 800));
    r.ch.record_agc_adjust(10.0);
    const std::size_t before = r.samples16().size();
    r.feed(std::vector<float>(x.begin(), x.begin() + 800));
    const auto y = r.samples16();
    EXPECT_NEAR(testsig::tone_level_dbm0(y.data() + before + 80, 640, 700.0, 8000.0), -20.0, 0.5)
        << "the forced gain applies from the next frame";
    EXPECT_THROW(r.ch.record_agc_adjust(40.0), prosody::Error);
  }
  for (double target : {-12.0, -20.0}) {
    RecordSettings s;
    s.agc = true;
    Recording r(s);
    if (target != -12.0) r.ch.record_agc_settings({0.5, target});
    r.feed(x);
    const auto y = r.samples16();
    EXPECT_NEAR(testsig::tone_level_dbm0(y.data() + y.size() - 8000, 8000, 700.0, 8000.0), target, 1.0);
  }
  Module m = Module::create();
  Channel idle = m.allocate(ChannelType::input);
  try {
    idle.record_agc_adjust(0.0);
    ADD_FAILURE() << "no recording";
  } catch (const prosody::Error& e) {
    EXPECT_EQ(e.code(), prosody::Errc::no_record_in_progress);
  }
  SM_RECORD_AGC_ADJUST_SETTINGS_PARMS bad{};
  bad.channel = c_id(idle);
  bad.max_level_decay = 2.0f;
  EXPECT_EQ(sm_record_agc_adjust_settings(&bad), ERR_SM_BAD_PARAMETER);
}

// ---------------------------------------------------------------------------
// Thresholds and inline recognition

bool event_ready(const tSMEventId& ev) {
  pollfd p{ev.fd, short(ev.mode), 0};
  return poll(&p, 1, 0) == 1;
}

TEST(RecordJob, ThresholdsDecideWhenEventsFire) {
  Module m = Module::create();
  Channel ch = m.allocate(ChannelType::full_duplex);
  ch.enable_host_input();
  SM_CHANNEL_SET_INPUT_THRESHOLD_PARMS in{};
  in.channel = c_id(ch);
  in.minimum_bits = 16385;
  EXPECT_EQ(sm_channel_set_input_threshold(&in), ERR_SM_BAD_PARAMETER);
  in.minimum_bits = 8 * 400;  // 400 octets: 200 samples of 16-bit
  ASSERT_EQ(sm_channel_set_input_threshold(&in), 0);
  ch.record_start({});
  EXPECT_EQ(sm_channel_set_input_threshold(&in), ERR_SM_WRONG_CHANNEL_STATE) << "while recording";
  tSMEventId ev{};
  ASSERT_EQ(smd_ev_create(&ev, c_id(ch), kSMEventTypeReadData, kSMChannelSpecificEvent), 0);
  SM_CHANNEL_SET_EVENT_PARMS set{};
  set.channel = c_id(ch);
  set.event_type = kSMEventTypeReadData;
  set.issue_events = kSMChannelSpecificEvent;
  set.event = ev;
  ASSERT_EQ(sm_channel_set_event(&set), 0);
  const auto x = testsig::sine(700.0, -20.0, 80, 8000.0);
  ch.write_input(prosody::Span<const float>(x.data(), x.size()));
  m.step();
  EXPECT_FALSE(event_ready(ev)) << "160 octets < 400";
  ch.write_input(prosody::Span<const float>(x.data(), x.size()));
  m.step();
  ch.write_input(prosody::Span<const float>(x.data(), x.size()));
  m.step();
  EXPECT_TRUE(event_ready(ev)) << "480 octets >= 400";
  smd_ev_free(ev);

  // Output: ready while fewer than 256 octets are queued.
  Channel out = m.allocate(ChannelType::output);
  out.replay_start({});
  const std::vector<std::uint8_t> block(2048, 0);
  out.replay_put(block);
  EXPECT_EQ(out.replay_status().state, prosody::ReplayState::has_capacity);
  out.set_output_threshold(-2048);  // ready below 256 octets queued
  EXPECT_EQ(out.replay_status().state, prosody::ReplayState::no_capacity);
  for (int i = 0; i < 11; ++i) m.step();  // 11 x 160 octets played: 288 left
  EXPECT_EQ(out.replay_status().state, prosody::ReplayState::no_capacity);
  m.step();
  EXPECT_EQ(out.replay_status().state, prosody::ReplayState::has_capacity);
}

TEST(RecordJob, RecognitionOnTheRecordingChannelComesInline) {
  Module m = Module::create();
  Channel ch = m.allocate(ChannelType::full_duplex);
  ch.enable_host_input();
  prosody::ListenSettings ls;
  ls.enabled = true;
  ch.listen_for(ls);
  ch.record_start({});
  std::vector<float> x(8000, 0.0f);
  testsig::add_sine(x, 770.0, -10.0, 8000.0, 0.0, 800, 800);
  testsig::add_sine(x, 1336.0, -10.0, 8000.0, 0.0, 800, 800);
  int digits = 0;
  std::uint8_t buf[2048];
  for (std::size_t at = 0; at < x.size(); at += 80) {
    ch.write_input(prosody::Span<const float>(x.data() + at, 80));
    m.step();
    const auto st = ch.record_status();
    if (st.state == prosody::RecordState::recognition) {
      EXPECT_EQ(st.recognition.type, prosody::RecognitionType::digit);
      EXPECT_EQ(st.recognition.param0, '5');
      ++digits;
    }
    while (ch.record_get(buf) > 0) {
    }
  }
  EXPECT_EQ(digits, 1);
}

// ---------------------------------------------------------------------------
// The FILE helpers on sound files (prosody_sw_file_open)

// Records x on a channel's input through the FILE helpers into path.
void record_file(const char* path, const char* format, enum kSMDataFormat type, const std::vector<float>& x) {
  Module m = Module::create();
  Channel ch = m.allocate(ChannelType::full_duplex);
  ch.enable_host_input();
  PROSODY_SW_FILE_OPEN_PARMS op{};
  op.path = path;
  op.write = 1;
  op.format = format;
  op.type = type;
  ASSERT_EQ(prosody_sw_file_open(&op), 0);
  SM_FILE_RECORD_PARMS fr{};
  fr.fd = op.fd;
  fr.record_parms.channel = c_id(ch);
  fr.record_parms.type = type;
  fr.record_parms.max_elapsed_time = tSM_UT32(x.size() / 8);
  ASSERT_EQ(sm_record_file_start(&fr), 0);
  EXPECT_EQ(fr.status, ERR_SM_PENDING);
  for (std::size_t at = 0; at + 80 <= x.size(); at += 80) {
    ch.write_input(prosody::Span<const float>(x.data() + at, 80));
    m.step();
    ASSERT_EQ(sm_record_file_progress(&fr), ERR_SM_PENDING);
  }
  int r;
  while ((r = sm_record_file_progress(&fr)) == ERR_SM_PENDING) {
  }
  EXPECT_EQ(r, 0);
  std::fclose(op.fd);
}

TEST(FileHelpers, RecordIntoSoundFilesOfEveryKind) {
  const auto x = testsig::to_float(testsig::to_int16(tones(8000, 8000.0)));
  struct Case {
    const char* format;
    enum kSMDataFormat type;
    double min_snr;  // 200: bit-exact
  };
  for (const Case& c : {Case{"wav", kSMDataFormat16bit, 200.0}, Case{"flac", kSMDataFormat16bit, 200.0},
                        Case{"wav-alaw", kSMDataFormatALawPCM, 30.0}, Case{"wav-alaw", kSMDataFormat16bit, 30.0},
                        Case{"vox", kSMDataFormatOKIADPCM, 14.0}, Case{"opus", kSMDataFormat16bit, 8.0}}) {
    SCOPED_TRACE(std::string(c.format) + " type " + std::to_string(int(c.type)));
    const std::string path = temp_path(std::string("helper.") + c.format);
    record_file(path.c_str(), c.format, c.type, x);
    prosody::FileReaderSettings rs;
    if (std::string(c.format) == "vox") rs.raw_format = prosody::parse_file_format("vox");
    auto reader = prosody::FileReader::open(path, rs, nullptr);
    ASSERT_TRUE(reader);
    std::vector<float> y(x.size() + 1000);
    y.resize(reader->read(y.data(), y.size()));
    ASSERT_GE(y.size(), x.size() - 200);
    const std::size_t n = std::min(x.size(), y.size()) - 800;
    if (c.min_snr >= 200.0)
      EXPECT_TRUE(std::equal(x.begin(), x.begin() + std::ptrdiff_t(n), y.begin()));
    else
      EXPECT_GT(testsig::snr_db(x.data() + 800, y.data() + 800, n - 800), c.min_snr);
    std::remove(path.c_str());
  }
  PROSODY_SW_FILE_OPEN_PARMS bad{};
  bad.path = "/nonexistent-dir/x.wav";
  bad.write = 1;
  bad.type = kSMDataFormat16bit;
  EXPECT_EQ(prosody_sw_file_open(&bad), ERR_SM_FILE_ACCESS);
  bad.path = "x.wav";
  bad.type = kSMDataFormatALawPCM;
  bad.format = "flac";
  EXPECT_EQ(prosody_sw_file_open(&bad), ERR_SM_FILE_FORMAT) << "A-law data into a FLAC file";
  bad.format = "mp3";
  EXPECT_EQ(prosody_sw_file_open(&bad), ERR_SM_FILE_FORMAT);
}

// Replays path (through the FILE helpers) into a channel; returns seconds of
// what it output.
std::vector<float> replay_file(const char* path, int loop, std::size_t samples, int* type = nullptr,
                               unsigned* rate = nullptr) {
  Module m = Module::create();
  Channel ch = m.allocate(ChannelType::output);
  ch.enable_host_output(400);
  PROSODY_SW_FILE_OPEN_PARMS op{};
  op.path = path;
  op.loop = loop;
  EXPECT_EQ(prosody_sw_file_open(&op), 0);
  if (type) *type = op.type;
  if (rate) *rate = unsigned(op.sampling_rate);
  SM_FILE_REPLAY_PARMS fp{};
  fp.fd = op.fd;
  fp.replay_parms.channel = c_id(ch);
  fp.replay_parms.type = op.type;
  fp.replay_parms.sampling_rate = op.sampling_rate;
  EXPECT_EQ(sm_replay_file_start(&fp), 0);
  std::vector<float> y(samples);
  for (std::size_t at = 0; at + 80 <= y.size(); at += 80) {
    const int r = sm_replay_file_progress(&fp);
    EXPECT_TRUE(r == ERR_SM_PENDING || r == 0) << r;
    m.step();
    ch.read_output(prosody::Span<float>(y.data() + at, 80));
  }
  sm_replay_file_stop(&fp, 1);
  std::fclose(op.fd);
  return y;
}

TEST(FileHelpers, ReplayAFileAtItsOwnRate) {
  const std::string path = temp_path("music16k.flac");
  {
    prosody::FileWriterSettings s;
    s.format = *prosody::parse_file_format("flac");
    s.rate = 16000;
    auto w = prosody::FileWriter::open(path, s, nullptr);
    const auto x = testsig::sine(1000.0, -10.0, 16000, 16000.0);
    ASSERT_TRUE(w->write(x.data(), x.size()));
    ASSERT_TRUE(w->close());
  }
  int type = 0;
  unsigned rate = 0;
  const auto y = replay_file(path.c_str(), 0, 12000, &type, &rate);
  EXPECT_EQ(type, kSMDataFormat16bit);
  EXPECT_EQ(rate, 16000u);
  EXPECT_NEAR(testsig::tone_level_dbm0(y.data() + 800, 6400, 1000.0, 8000.0), -10.0, 0.1);
  EXPECT_LT(testsig::level_dbm0(y.data() + 8400, 3000), -80.0) << "a second of audio, then silence";
  std::remove(path.c_str());
}

TEST(FileHelpers, LoopingReplayIsGapless) {
  // 0.5 s of a 500 Hz tone (whole periods), looped for 3 s: the output is
  // the periodic tone, sample for sample.
  const std::string path = temp_path("loop.wav");
  const auto x = testsig::to_float(testsig::to_int16(testsig::sine(500.0, -10.0, 4000, 8000.0)));
  ASSERT_TRUE(testsig::write_wav(path, x, 8000));
  const auto y = replay_file(path.c_str(), 1, 24000);
  std::size_t start = 0;
  while (start < y.size() && y[start] == 0.0f && x[0] == 0.0f && y[start + 1] != x[1]) ++start;
  std::size_t mismatches = 0;
  for (std::size_t i = start; i < y.size(); ++i) mismatches += y[i] != x[(i - start) % x.size()];
  EXPECT_LT(start, 400u);
  EXPECT_EQ(mismatches, 0u);
  EXPECT_LT(testsig::max_second_difference(y.data() + start, y.size() - start),
            1.01 * testsig::max_second_difference(x.data(), x.size()))
      << "no click where the file starts again";
  std::remove(path.c_str());
}

}  // namespace

namespace {

// complete() blocks on the channel's events: a real-time module drives it.
TEST(FileHelpers, CompleteWaitsForTheJobOnARealTimeModule) {
  prosody::ModuleConfig cfg;
  cfg.drive = prosody::DriveMode::realtime;
  Module m = Module::create(cfg);
  Channel ch = m.allocate(ChannelType::full_duplex);
  const std::string wav = temp_path("complete.wav");
  PROSODY_SW_FILE_OPEN_PARMS op{};
  op.path = wav.c_str();
  op.write = 1;
  op.type = kSMDataFormat16bit;
  ASSERT_EQ(prosody_sw_file_open(&op), 0);
  SM_FILE_RECORD_PARMS fr{};
  fr.fd = op.fd;
  fr.record_parms.channel = c_id(ch);
  fr.record_parms.type = kSMDataFormat16bit;
  fr.record_parms.max_elapsed_time = 300;
  ASSERT_EQ(sm_record_file_start(&fr), 0);
  SM_RECORD_STATUS_PARMS st{};
  EXPECT_EQ(sm_record_file_complete_tstatus(&fr, &st), 0);
  EXPECT_EQ(st.termination_reason, kSMRecordHowTerminatedMaxTime);
  EXPECT_EQ(fr.status, 0);
  std::fclose(op.fd);
  auto reader = prosody::FileReader::open(wav, {}, nullptr);
  ASSERT_TRUE(reader);
  EXPECT_EQ(reader->frames(), 2400) << "300 ms";

  // And a replay of that file, played to its end.
  Channel out = m.allocate(ChannelType::output);
  PROSODY_SW_FILE_OPEN_PARMS ip{};
  ip.path = wav.c_str();
  ASSERT_EQ(prosody_sw_file_open(&ip), 0);
  SM_FILE_REPLAY_PARMS fp{};
  fp.fd = ip.fd;
  fp.replay_parms.channel = c_id(out);
  fp.replay_parms.type = ip.type;
  ASSERT_EQ(sm_replay_file_start(&fp), 0);
  EXPECT_EQ(sm_replay_file_complete(&fp), 0);
  EXPECT_EQ(fp.status, 0);
  std::fclose(ip.fd);
  std::remove(wav.c_str());
}

}  // namespace
