// The frame API of stepped modules (Module::step_frame): the caller's spans
// in, the caller's buffers out, the frame's events back, measured: sample
// exactness, mix-minus, pieces, concealment of holes anywhere, absence, the
// module's sample counter, every misuse, and tone and activity events.
#include <gtest/gtest.h>

#include <array>
#include <cmath>

#include "api_support.hpp"
#include "harness.hpp"

namespace prosody::test {
namespace {

constexpr double kRate = 8000.0;

std::vector<std::int16_t> integer_noise(std::size_t n, std::uint32_t seed, int amplitude) {
  std::vector<std::int16_t> x(n);
  for (auto& v : x) {
    seed = seed * 1664525u + 1013904223u;
    v = static_cast<std::int16_t>(static_cast<int>(seed >> 16) % (2 * amplitude + 1) - amplitude);
  }
  return x;
}

// One whole-frame piece.
FramePiece whole(const void* samples, std::size_t n, SampleFormat format) {
  return FramePiece{0, static_cast<std::uint32_t>(n), samples, format};
}

Channel frame_channel(Module& m) {
  Channel c = m.allocate(ChannelType::full_duplex);
  c.enable_frame_input();
  c.enable_frame_output();
  return c;
}

// A listener hearing one talker, both on frame ports, gating off.
struct Talker {
  Module m = Module::create({});
  std::size_t n = m.frame_samples();
  Channel talker = frame_channel(m);
  Channel listener = frame_channel(m);
  Talker() {
    listener.conf_start();
    listener.conf_add(talker);
    talker.conf_set_gating(false);
  }
};

TEST(FrameApi, TwoPartyCallPassesAudioSampleExactInEitherFormat) {
  for (SampleFormat in_format : {SampleFormat::f32, SampleFormat::s16}) {
    for (SampleFormat out_format : {SampleFormat::f32, SampleFormat::s16}) {
      Module m = Module::create({});
      const std::size_t n = m.frame_samples();
      Channel a = frame_channel(m), b = frame_channel(m);
      // A call: each hears the other; gating off so nothing is cut.
      b.conf_start();
      b.conf_add(a);
      a.conf_start();
      a.conf_add(b);
      a.conf_set_gating(false);
      b.conf_set_gating(false);
      constexpr std::size_t kFrames = 40;
      // A's speech: integers for S16; for F32, values no int16 can hold.
      const std::vector<std::int16_t> said16 = integer_noise(n * kFrames, 7, 20000);
      std::vector<float> said32(said16.size());
      for (std::size_t i = 0; i < said32.size(); ++i) said32[i] = float(said16[i]) / 32768.0f + 1e-6f * float(i % 7);
      std::vector<float> heard32(n * kFrames);
      std::vector<std::int16_t> heard16(n * kFrames);
      FrameResult result;
      for (std::size_t f = 0; f < kFrames; ++f) {
        const void* in = in_format == SampleFormat::s16 ? static_cast<const void*>(said16.data() + f * n)
                                                        : static_cast<const void*>(said32.data() + f * n);
        const FramePiece piece = whole(in, n, in_format);
        const FrameInput inputs[] = {{a.id(), Span<const FramePiece>(&piece, 1)}};
        void* out = out_format == SampleFormat::s16 ? static_cast<void*>(heard16.data() + f * n)
                                                    : static_cast<void*>(heard32.data() + f * n);
        const FrameOutput outputs[] = {{b.id(), out, out_format}};
        ASSERT_EQ(m.samples_processed(), f * n);
        m.step_frame(inputs, outputs, result);
        EXPECT_EQ(result.first_sample, f * n) << "the module's counter at the frame's start";
        EXPECT_EQ(m.samples_processed(), (f + 1) * n);
      }
      // From frame 1 on (frame 0 fades the new participant in): what A said,
      // converted by the library's one rule where the formats differ.
      std::vector<float> said_as_float(said16.size());
      s16_to_float(said16.data(), said_as_float.data(), said16.size());
      const std::vector<float>& sent = in_format == SampleFormat::s16 ? said_as_float : said32;
      std::vector<std::int16_t> sent16(sent.size());
      float_to_s16(sent.data(), sent16.data(), sent.size());
      std::size_t mismatches = 0;
      for (std::size_t i = n; i < n * kFrames; ++i) {
        if (out_format == SampleFormat::f32)
          mismatches += heard32[i] != sent[i];
        else
          mismatches += heard16[i] != sent16[i];
      }
      EXPECT_EQ(mismatches, 0u) << "in " << int(in_format) << " out " << int(out_format);
    }
  }
}

TEST(FrameApi, MixMinusIsTheExactSumOfTheOthers) {
  // Integer inputs, unity gains, gating off: each int16 output is exactly
  // the integer sum of the other four inputs of the same frame.
  Module m = Module::create({});
  const std::size_t n = m.frame_samples();
  constexpr std::size_t kParties = 5, kFrames = 60;
  std::vector<Channel> ch;
  std::vector<std::vector<std::int16_t>> in, out(kParties, std::vector<std::int16_t>(n * kFrames));
  Conference conf;
  for (std::size_t i = 0; i < kParties; ++i) {
    ch.push_back(frame_channel(m));
    conf.add_party(ch.back());
    ch.back().conf_set_gating(false);
    in.push_back(integer_noise(n * kFrames, 12345u + std::uint32_t(i), 2048));
  }
  FrameResult result;
  for (std::size_t f = 0; f < kFrames; ++f) {
    std::vector<FramePiece> pieces(kParties);
    std::vector<FrameInput> inputs(kParties);
    std::vector<FrameOutput> outputs(kParties);
    for (std::size_t i = 0; i < kParties; ++i) {
      pieces[i] = whole(in[i].data() + f * n, n, SampleFormat::s16);
      inputs[i] = {ch[i].id(), Span<const FramePiece>(&pieces[i], 1)};
      outputs[i] = {ch[i].id(), out[i].data() + f * n, SampleFormat::s16};
    }
    m.step_frame(inputs, outputs, result);
  }
  std::size_t mismatches = 0;
  for (std::size_t l = 0; l < kParties; ++l)
    for (std::size_t s = 2 * n; s < n * kFrames; ++s) {  // past the join ramps
      int sum = 0;
      for (std::size_t t = 0; t < kParties; ++t)
        if (t != l) sum += in[t][s];
      mismatches += out[l][s] != sum;
    }
  EXPECT_EQ(mismatches, 0u);
}

// Each party's output written over its own input (a caller processing its
// buffers in place) hears exactly what separate buffers give, in a call
// (where one party's output is the other's input as received, so a module
// that mixed the caller's memory without copying it in first would let the
// other party hear itself) and in a conference.
TEST(FrameApi, OutputsWrittenOverTheirOwnInputsHearWhatSeparateBuffersGive) {
  for (std::size_t parties : {2u, 4u}) {
    constexpr std::size_t kFrames = 30;
    struct Run {
      Module m = Module::create({});
      std::vector<Channel> ch;
      Conference conf;
    };
    Run separate, in_place;
    for (Run* r : {&separate, &in_place})
      for (std::size_t i = 0; i < parties; ++i) {
        r->ch.push_back(frame_channel(r->m));
        r->conf.add_party(r->ch.back());
        r->ch.back().conf_set_gating(false);
      }
    const std::size_t n = separate.m.frame_samples();
    std::vector<std::vector<float>> said(parties), heard(parties, std::vector<float>(n * kFrames));
    std::vector<std::vector<float>> buffer(parties, std::vector<float>(n));
    for (std::size_t i = 0; i < parties; ++i) {
      const auto x = integer_noise(n * kFrames, 99u + std::uint32_t(i), 8000);
      said[i].resize(x.size());
      s16_to_float(x.data(), said[i].data(), x.size());
    }
    FrameResult result;
    std::size_t mismatches = 0, audible = 0;
    for (std::size_t f = 0; f < kFrames; ++f) {
      std::vector<FramePiece> pieces(parties);
      std::vector<FrameInput> inputs(parties);
      std::vector<FrameOutput> outputs(parties);
      for (std::size_t i = 0; i < parties; ++i) {
        pieces[i] = whole(said[i].data() + f * n, n, SampleFormat::f32);
        inputs[i] = {separate.ch[i].id(), Span<const FramePiece>(&pieces[i], 1)};
        outputs[i] = {separate.ch[i].id(), heard[i].data() + f * n, SampleFormat::f32};
      }
      separate.m.step_frame(inputs, outputs, result);
      for (std::size_t i = 0; i < parties; ++i) {
        std::copy_n(said[i].data() + f * n, n, buffer[i].data());
        pieces[i] = whole(buffer[i].data(), n, SampleFormat::f32);
        inputs[i] = {in_place.ch[i].id(), Span<const FramePiece>(&pieces[i], 1)};
        outputs[i] = {in_place.ch[i].id(), buffer[i].data(), SampleFormat::f32};
      }
      in_place.m.step_frame(inputs, outputs, result);
      for (std::size_t i = 0; i < parties; ++i)
        for (std::size_t k = 0; k < n; ++k) {
          mismatches += buffer[i][k] != heard[i][f * n + k];
          audible += std::fabs(heard[i][f * n + k]) > 1e-3f;
        }
    }
    EXPECT_GT(audible, parties * n * kFrames / 2) << parties << " parties: the outputs carry audio";
    EXPECT_EQ(mismatches, 0u) << parties << " parties";
  }
}

// What a listener hears of its own voice among a thousand talkers whose
// gains all move every frame (input and output AGC on): the difference
// between its output when it talks and when it is silent. With many
// talkers the group sum is rounded, so this is not bit-exact as with a few
// (MixMinusIsTheExactSumOfTheOthers); it must stay at the level of that
// rounding, far below audibility (measured: about -200 dB below the voice;
// a mix-minus in float, tried, gave -144 dB).
TEST(FrameApi, OwnVoiceAmongAThousandTalkersIsOnlyRounding) {
  constexpr std::size_t kParties = 1000, kFrames = 60;
  auto listen = [&](bool talks, std::vector<float>* own) {
    Module m = Module::create({});
    const std::size_t n = m.frame_samples();
    // Built from primitives, as the engine benchmark's conference (quicker to
    // set up than a Conference of a thousand): one output with everyone,
    // cloned for each party, minus the party itself.
    std::vector<Channel> ch;
    ch.reserve(kParties);
    for (std::size_t i = 0; i < kParties; ++i) ch.push_back(frame_channel(m));
    ch[0].conf_start({0.0, true, false});  // output AGC on
    for (auto& c : ch) ch[0].conf_add(c);
    for (std::size_t i = 1; i < kParties; ++i) {
      ch[i].conf_clone(ch[0]);
      ch[i].conf_leave(ch[i].participant_id());
    }
    ch[0].conf_leave(ch[0].participant_id());
    for (auto& c : ch) c.conf_adjust_input({0.0, false, true});  // input AGC on
    std::vector<std::vector<float>> in(kParties, std::vector<float>(n)), out(kParties, std::vector<float>(n));
    std::vector<FramePiece> pieces(kParties);
    std::vector<FrameInput> inputs(kParties);
    std::vector<FrameOutput> outputs(kParties);
    std::vector<float> heard;
    FrameResult result;
    for (std::size_t f = 0; f < kFrames; ++f) {
      for (std::size_t i = 0; i < kParties; ++i) {
        const double freq = i == 0 ? 1000.0 : 150.0 + 37.0 * double(i % 90);
        const double amplitude = i == 0 ? (talks ? 0.1 : 0.0) : 0.03;
        for (std::size_t k = 0; k < n; ++k)
          in[i][k] = float(amplitude * std::sin(2.0 * M_PI * freq * double(f * n + k) / kRate + 0.1 * double(i)));
        pieces[i] = whole(in[i].data(), n, SampleFormat::f32);
        inputs[i] = {ch[i].id(), Span<const FramePiece>(&pieces[i], 1)};
        outputs[i] = {ch[i].id(), out[i].data(), SampleFormat::f32};
      }
      if (own) own->insert(own->end(), in[0].begin(), in[0].end());
      m.step_frame(inputs, outputs, result);
      heard.insert(heard.end(), out[0].begin(), out[0].end());
    }
    return heard;
  };
  std::vector<float> voice;
  const std::vector<float> talking = listen(true, &voice);
  const std::vector<float> silent = listen(false, nullptr);
  ASSERT_EQ(talking.size(), silent.size());
  ASSERT_EQ(voice.size(), silent.size());
  double difference = 0.0, own = 0.0, others = 0.0;
  for (std::size_t i = 0; i < silent.size(); ++i) {
    difference += double(talking[i] - silent[i]) * double(talking[i] - silent[i]);
    own += double(voice[i]) * double(voice[i]);
    others += double(silent[i]) * double(silent[i]);
  }
  EXPECT_GT(10.0 * std::log10(others / own), -20.0) << "the others are heard at a normal level";
  EXPECT_LT(10.0 * std::log10(difference / own + 1e-300), -120.0) << "own voice in the listener's output";
}

TEST(FrameApi, PiecesCoveringTheFrameInPartsAreBitExactToOnePiece) {
  // Two identical modules; one gets every input as one float piece, the
  // other as pieces of both formats (and an empty one) that tile the frame.
  struct Setup {
    Module m = Module::create({});
    std::vector<Channel> ch;
    Conference conf;
  };
  Setup one, parts;
  constexpr std::size_t kParties = 3, kFrames = 30;
  for (Setup* s : {&one, &parts})
    for (std::size_t i = 0; i < kParties; ++i) {
      s->ch.push_back(frame_channel(s->m));
      s->conf.add_party(s->ch.back(), {0, true, 0, true});  // AGC on: gains that are not 1
    }
  const std::size_t n = one.m.frame_samples();
  std::vector<std::vector<std::int16_t>> said16;
  std::vector<std::vector<float>> said32;
  for (std::size_t i = 0; i < kParties; ++i) {
    said16.push_back(integer_noise(n * kFrames, 99u + std::uint32_t(i), 3000));
    said32.emplace_back(said16.back().size());
    s16_to_float(said16.back().data(), said32.back().data(), said16.back().size());
  }
  std::vector<std::vector<float>> heard_one(kParties, std::vector<float>(n)), heard_parts = heard_one;
  std::size_t mismatches = 0;
  FrameResult result;
  for (std::size_t f = 0; f < kFrames; ++f) {
    std::vector<FramePiece> single(kParties);
    std::vector<std::array<FramePiece, 4>> split(kParties);
    std::vector<FrameInput> in_one(kParties), in_parts(kParties);
    std::vector<FrameOutput> out_one(kParties), out_parts(kParties);
    for (std::size_t i = 0; i < kParties; ++i) {
      const std::size_t at = f * n;
      single[i] = whole(said32[i].data() + at, n, SampleFormat::f32);
      const std::uint32_t c1 = 17, c2 = 50;
      split[i] = {FramePiece{0, c1, said32[i].data() + at, SampleFormat::f32},
                  FramePiece{c1, 0, nullptr, SampleFormat::f32},
                  FramePiece{c1, c2 - c1, said16[i].data() + at + c1, SampleFormat::s16},
                  FramePiece{c2, std::uint32_t(n) - c2, said32[i].data() + at + c2, SampleFormat::f32}};
      in_one[i] = {one.ch[i].id(), Span<const FramePiece>(&single[i], 1)};
      in_parts[i] = {parts.ch[i].id(), Span<const FramePiece>(split[i].data(), split[i].size())};
      out_one[i] = {one.ch[i].id(), heard_one[i].data(), SampleFormat::f32};
      out_parts[i] = {parts.ch[i].id(), heard_parts[i].data(), SampleFormat::f32};
    }
    one.m.step_frame(in_one, out_one, result);
    parts.m.step_frame(in_parts, out_parts, result);
    for (std::size_t i = 0; i < kParties; ++i)
      for (std::size_t k = 0; k < n; ++k) mismatches += heard_one[i][k] != heard_parts[i][k];
  }
  EXPECT_EQ(mismatches, 0u);
  EXPECT_GT(testsig::peak(heard_one[0].data(), n), 0.01) << "something was heard";
  EXPECT_EQ(parts.ch[0].input_stats().frames_concealed, 0u) << "tiled pieces leave no hole";
}

TEST(FrameApi, HolesAnywhereInAFrameAreConcealedWithoutAClick) {
  // A talker's frames arrive with a hole at the start, in the middle, at the
  // end, and one frame not at all. 317 Hz does not fit a frame a whole
  // number of times, so neither silence nor a repeated frame would be
  // smooth. A hole of L samples may add at most 2A/(L+1) per sample to the
  // tone's own largest step (the crossfade's share), and so at most twice
  // that to its second difference.
  Talker call;
  Module& m = call.m;
  const std::size_t n = call.n;
  const Channel &talker = call.talker, &listener = call.listener;
  const double f = 317.0;
  constexpr std::size_t kFrames = 49;
  const std::vector<float> talk = testsig::sine(f, -6.0, n * kFrames, kRate);
  struct Hole {
    std::size_t frame, begin, end;
  };
  const std::size_t hole = 20;
  const Hole holes[] = {{30, 0, hole}, {32, 30, 30 + hole}, {34, n - hole, n}, {35, 0, n}};
  std::vector<float> heard(n * kFrames);
  FrameResult result;
  for (std::size_t fr = 0; fr < kFrames; ++fr) {
    std::vector<FramePiece> pieces;
    const float* x = talk.data() + fr * n;  // the talker's clock runs on through the gaps
    std::size_t at = 0;
    for (const Hole& h : holes) {
      if (h.frame != fr) continue;
      if (h.begin > at) pieces.push_back({std::uint32_t(at), std::uint32_t(h.begin - at), x + at, SampleFormat::f32});
      at = h.end;
    }
    if (at < n) pieces.push_back({std::uint32_t(at), std::uint32_t(n - at), x + at, SampleFormat::f32});
    const FrameInput inputs[] = {{talker.id(), Span<const FramePiece>(pieces.data(), pieces.size())}};
    const FrameOutput outputs[] = {{listener.id(), heard.data() + fr * n, SampleFormat::f32}};
    if (fr == 35)
      m.step_frame({}, outputs, result);  // absent altogether
    else
      m.step_frame(inputs, outputs, result);
  }
  const double a = testsig::sine_peak(-6.0);
  const double smooth = 2.0 * testsig::kPi * f / kRate * a;
  const double step_bound = smooth + 2.0 * a / double(hole + 1) + 1e-3;
  EXPECT_LE(max_step(heard, 20 * n, heard.size()), step_bound);
  EXPECT_LE(testsig::max_second_difference(heard.data() + 20 * n, heard.size() - 20 * n), 2.0 * step_bound);
  // Each hole was filled, not cut to silence.
  for (const Hole& h : holes) {
    if (h.end - h.begin == n) continue;  // after the end hole faded out: silence
    EXPECT_GT(testsig::peak(heard.data() + h.frame * n + h.begin + 5, hole - 10), 0.1 * a) << "frame " << h.frame;
  }
  const InputStats st = talker.input_stats();
  EXPECT_EQ(st.frames_concealed, 4u);
  EXPECT_EQ(st.frames_in, kFrames - 1) << "every frame with any audio";
  // And the talker is back at full level.
  EXPECT_NEAR(tone_db(heard, f, kRate, heard.size() - 4 * n, 4 * n), -6.0, 0.5);
}

TEST(FrameApi, AHoleAfterWholeFramesMirrorsTheLatestOne) {
  // An input keeps its frames in two buffers that take turns: the frame a
  // hole mirrors must be the latest, not the one before. Frames 0-4 silent,
  // 5-9 a tone, all whole; frame 10 brings only its first a samples. The end
  // hole is the mirror of what came before, faded out: past the received
  // samples, the mirror reaches into frame 9.
  Talker call;
  Module& m = call.m;
  const std::size_t n = call.n;
  const std::size_t a = 10;  // samples received in the last frame
  const std::vector<float> tone = testsig::sine(317.0, -6.0, n * 11, kRate);
  std::vector<float> said(n * 11, 0.0f);
  std::copy(tone.begin() + 5 * long(n), tone.end(), said.begin() + 5 * long(n));
  std::vector<float> heard(n * 11);
  FrameResult result;
  for (std::size_t fr = 0; fr <= 10; ++fr) {
    const FramePiece piece{0, std::uint32_t(fr == 10 ? a : n), said.data() + fr * n, SampleFormat::f32};
    const FrameInput inputs[] = {{call.talker.id(), Span<const FramePiece>(&piece, 1)}};
    const FrameOutput outputs[] = {{call.listener.id(), heard.data() + fr * n, SampleFormat::f32}};
    m.step_frame(inputs, outputs, result);
  }
  // Frames 1-9 pass sample-exact (frame 0 fades the talker in).
  std::size_t mismatches = 0;
  for (std::size_t i = n; i < 10 * n; ++i) mismatches += heard[i] != said[i];
  EXPECT_EQ(mismatches, 0u);
  // Frame 10: the received samples, then sample a + k holds sample a-1-k
  // counted back through this frame and on into frame 9, faded out.
  const float* last = heard.data() + 10 * n;
  const float* before = said.data() + 10 * n;  // before[-j]: frame 9's samples
  const std::size_t gap = n - a;
  for (std::size_t i = 0; i < a; ++i) EXPECT_EQ(last[i], before[i]) << i;
  std::size_t heard_from_frame_9 = 0;
  for (std::size_t k = 0; k < gap; ++k) {
    const float mirrored = before[std::ptrdiff_t(a) - 1 - std::ptrdiff_t(k)];
    EXPECT_EQ(last[a + k], mirrored * (1.0f - float(k + 1) / float(gap))) << "sample " << a + k;
    heard_from_frame_9 += k >= a && last[a + k] != 0.0f;
  }
  // Frame 4 was silent: had the hole mirrored it, all of these would be 0.
  EXPECT_EQ(heard_from_frame_9, gap - a - 1) << "all but the last, faded to 0";
}

TEST(FrameApi, AbsentInputIsMissingUntilItsStreamEnds) {
  Talker call;
  Module& m = call.m;
  const std::size_t n = call.n;
  const Channel &talker = call.talker, &listener = call.listener;
  std::vector<float> heard(n);
  const FrameOutput outputs[] = {{listener.id(), heard.data(), SampleFormat::f32}};
  FrameResult result;
  // Never given: every frame is missing (and with nothing to mirror, silent).
  for (int f = 0; f < 17; ++f) m.step_frame({}, outputs, result);
  EXPECT_EQ(talker.input_stats().frames_concealed, 17u);
  EXPECT_EQ(talker.input_stats().frames_in, 0u);
  EXPECT_EQ(testsig::peak(heard.data(), n), 0.0);
  // Named with no pieces: the same.
  const FrameInput empty[] = {{talker.id(), {}}};
  for (int f = 0; f < 8; ++f) m.step_frame(empty, outputs, result);
  EXPECT_EQ(talker.input_stats().frames_concealed, 25u);
  // A stream that ends: its absence afterwards is not loss.
  const std::vector<float> talk = testsig::sine(500.0, -10.0, n, kRate);
  const FramePiece piece = whole(talk.data(), n, SampleFormat::f32);
  for (int f = 0; f < 7; ++f) {
    const FrameInput inputs[] = {{talker.id(), Span<const FramePiece>(&piece, 1), f == 6}};
    m.step_frame(inputs, outputs, result);
  }
  for (int f = 0; f < 16; ++f) m.step_frame({}, outputs, result);
  const InputStats st = talker.input_stats();
  EXPECT_EQ(st.frames_concealed, 25u);
  EXPECT_EQ(st.frames_in, 7u);
  EXPECT_EQ(testsig::peak(heard.data(), n), 0.0) << "the end faded out";
}

// A party detached while its channel stays in use (its frame port is still
// fed, or goes quiet in that very frame) fades out of what the others hear
// over one frame, as a released one does: no step at the frame boundary.
TEST(FrameApi, DetachedPartyFadesOutWhileItsChannelGoesOn) {
  for (bool present_at_detach : {true, false}) {
    SCOPED_TRACE(present_at_detach ? "input present in the detach frame" : "input absent from the detach frame");
    Module m = Module::create({});
    const std::size_t n = m.frame_samples();
    Channel a = m.allocate(ChannelType::full_duplex), l = m.allocate(ChannelType::full_duplex),
            b = m.allocate(ChannelType::full_duplex);
    for (Channel* c : {&a, &l, &b}) {
      c->enable_frame_input();
      c->enable_frame_output();
      c->conf_attach();
      c->conf_start();
      c->conf_set_gating(false);
    }
    a.conf_add(l);
    a.conf_add(b);
    l.conf_add(a);
    l.conf_add(b);
    b.conf_add(a);
    b.conf_add(l);
    std::vector<float> heard, xa(n), xb(n), out(n);
    FrameResult r;
    for (int f = 0; f < 60; ++f) {
      for (std::size_t i = 0; i < n; ++i) {
        const double t = double(std::size_t(f) * n + i) / 8000.0;
        xa[i] = float(0.3 * std::sin(2 * testsig::kPi * 300 * t));
        xb[i] = float(0.1 * std::sin(2 * testsig::kPi * 200 * t + 1.0));  // never near 0 at a frame edge
      }
      if (f == 30) {
        const int pid = b.participant_id();
        a.conf_leave(pid);
        l.conf_leave(pid);
        b.conf_detach();
      }
      const FramePiece pa{0, std::uint32_t(n), xa.data(), SampleFormat::f32};
      const FramePiece pb{0, std::uint32_t(n), xb.data(), SampleFormat::f32};
      std::vector<FrameInput> ins{{a.id(), Span<const FramePiece>(&pa, 1), false}};
      if (f < 30 || (f == 30 && present_at_detach) || f > 40)
        ins.push_back({b.id(), Span<const FramePiece>(&pb, 1), false});
      const FrameOutput o{l.id(), out.data(), SampleFormat::f32};
      m.step_frame(Span<const FrameInput>(ins.data(), ins.size()), Span<const FrameOutput>(&o, 1), r);
      heard.insert(heard.end(), out.begin(), out.end());
    }
    // The sines' own curvature: 0.3 w300^2 + 0.1 w200^2 = 0.019.
    const std::size_t from = 5 * n;
    EXPECT_LT(testsig::max_second_difference(heard.data() + from, heard.size() - from), 0.025);
    EXPECT_LT(tone_db(heard, 200.0, 8000.0, 35 * n, 20 * n), -80.0) << "gone after the detach";
  }
}

TEST(FrameApi, MisuseIsRefusedBeforeAnythingIsProcessed) {
  Module m = Module::create({});
  const std::size_t n = m.frame_samples();
  Channel a = frame_channel(m), b = frame_channel(m);
  Channel host = m.allocate(ChannelType::full_duplex);
  host.enable_host_input();
  host.enable_host_output();
  b.conf_start();
  b.conf_add(a);
  Channel released = frame_channel(m);
  const ChannelId gone = released.id();
  released.release();
  Module other = Module::create({});
  Channel foreign = frame_channel(other);

  EXPECT_EQ(code_of([&] { m.allocate(ChannelType::output).enable_frame_input(); }), Errc::wrong_channel_type);
  EXPECT_EQ(code_of([&] { m.allocate(ChannelType::input).enable_frame_output(); }), Errc::wrong_channel_type);

  std::vector<float> x(n, 0.25f), y(n, 7.0f);  // 7.0: never a processed sample
  const std::vector<std::int16_t> x16(n, 1000);
  const FramePiece good = whole(x.data(), n, SampleFormat::f32);
  const FrameOutput out_b{b.id(), y.data(), SampleFormat::f32};
  auto attempt = [&](std::vector<FrameInput> inputs, std::vector<FrameOutput> outputs) {
    FrameResult r;
    return code_of([&] { m.step_frame(inputs, outputs, r); });
  };
  auto in = [&](ChannelId id, std::vector<FramePiece>* pieces) {
    return FrameInput{id, Span<const FramePiece>(pieces->data(), pieces->size())};
  };
  std::vector<FramePiece> one{good};
  EXPECT_EQ(attempt({in(a.id(), &one), in(gone, &one)}, {out_b}), Errc::no_such_channel) << "released";
  EXPECT_EQ(attempt({in(ChannelId{12345}, &one)}, {out_b}), Errc::no_such_channel) << "forged";
  EXPECT_EQ(attempt({in(foreign.id(), &one)}, {out_b}), Errc::no_such_channel) << "another module's";
  EXPECT_EQ(attempt({in(a.id(), &one)}, {out_b, {gone, y.data(), SampleFormat::f32}}), Errc::no_such_channel);
  EXPECT_EQ(attempt({in(host.id(), &one)}, {out_b}), Errc::wrong_channel_state) << "no frame input port";
  EXPECT_EQ(attempt({in(a.id(), &one)}, {{host.id(), y.data(), SampleFormat::f32}}), Errc::wrong_channel_state);
  EXPECT_EQ(attempt({in(a.id(), &one), in(a.id(), &one)}, {out_b}), Errc::bad_parameter) << "input twice";
  EXPECT_EQ(attempt({in(a.id(), &one)}, {out_b, out_b}), Errc::bad_parameter) << "output twice";
  std::vector<FramePiece> disorder{{40, 40, x.data(), SampleFormat::f32}, {0, 40, x.data(), SampleFormat::f32}};
  EXPECT_EQ(attempt({in(a.id(), &disorder)}, {out_b}), Errc::bad_parameter) << "out of order";
  std::vector<FramePiece> overlap{{0, 41, x.data(), SampleFormat::f32}, {40, 40, x.data(), SampleFormat::f32}};
  EXPECT_EQ(attempt({in(a.id(), &overlap)}, {out_b}), Errc::bad_parameter) << "overlapping";
  std::vector<FramePiece> outside{{std::uint32_t(n) - 10, 11, x.data(), SampleFormat::f32}};
  EXPECT_EQ(attempt({in(a.id(), &outside)}, {out_b}), Errc::bad_parameter) << "past the frame";
  std::vector<FramePiece> far{{std::uint32_t(n) + 1, 0, nullptr, SampleFormat::f32}};
  EXPECT_EQ(attempt({in(a.id(), &far)}, {out_b}), Errc::bad_parameter) << "offset past the frame";
  std::vector<FramePiece> null_samples{{0, 10, nullptr, SampleFormat::s16}};
  EXPECT_EQ(attempt({in(a.id(), &null_samples)}, {out_b}), Errc::bad_parameter) << "null samples";
  std::vector<FramePiece> bad_format{{0, 10, x16.data(), static_cast<SampleFormat>(7)}};
  EXPECT_EQ(attempt({in(a.id(), &bad_format)}, {out_b}), Errc::bad_parameter) << "unknown format";
  EXPECT_EQ(attempt({in(a.id(), &one)}, {{b.id(), nullptr, SampleFormat::f32}}), Errc::bad_parameter);
  EXPECT_EQ(attempt({FrameInput{a.id(), Span<const FramePiece>(nullptr, 2)}}, {out_b}), Errc::bad_parameter);

  // None of these processed anything or wrote to the caller's buffer.
  EXPECT_EQ(m.samples_processed(), 0u);
  EXPECT_EQ(m.stats().frames_processed, 0u);
  for (float v : y) ASSERT_EQ(v, 7.0f);
  // The same call without the fault goes through.
  EXPECT_EQ(attempt({in(a.id(), &one)}, {out_b}), Errc::ok);
  EXPECT_EQ(m.samples_processed(), n);
  EXPECT_NE(y[n - 1], 7.0f);
  // A frame port switched off is no frame port.
  a.disable_frame_input();
  EXPECT_EQ(attempt({in(a.id(), &one)}, {out_b}), Errc::wrong_channel_state);
}

TEST(FrameApi, RealTimeModulesRefuseStepFrame) {
  ModuleConfig cfg;
  cfg.drive = DriveMode::realtime;
  Module m = Module::create(cfg);
  Channel c = frame_channel(m);
  FrameResult r;
  EXPECT_EQ(code_of([&] { m.step_frame({}, {}, r); }), Errc::wrong_module_state);
  m.stop_realtime();
  EXPECT_EQ(code_of([&] { m.step_frame({}, {}, r); }), Errc::ok);
  EXPECT_EQ(m.samples_processed(), m.stats().frames_processed * m.frame_samples());
}

// Digit '5' (770 + 1336 Hz) at level per tone, from start for count samples.
void add_digit5(std::vector<float>& x, std::size_t start, std::size_t count, double level = -10.0) {
  testsig::add_sine(x, 770.0, level, kRate, 0.3, start, count);
  testsig::add_sine(x, 1336.0, level, kRate, 1.1, start, count);
}

TEST(FrameApi, DigitsComeBackAsEventsOfTheirFrameAndEndWithTheStream) {
  Module m = Module::create({});
  const std::size_t n = m.frame_samples();
  Channel a = frame_channel(m), b = frame_channel(m);
  b.conf_start();
  b.conf_add(a);
  ListenSettings ls;
  ls.enabled = true;
  ls.report = ToneReport::start_and_end;
  a.listen_for(ls);
  constexpr std::size_t kOnset = 2000, kEndFrame = 40;
  std::vector<float> said(n * (kEndFrame + 1), 0.0f);
  add_digit5(said, kOnset, 1600);  // 200 ms: still sounding at the end of frame 40
  struct Seen {
    std::size_t frame;
    Recognition r;
  };
  std::vector<Seen> seen;
  std::vector<float> heard(n);
  FrameResult result;
  for (std::size_t f = 0; f <= kEndFrame; ++f) {
    const FramePiece piece = whole(said.data() + f * n, n, SampleFormat::f32);
    const FrameInput inputs[] = {{a.id(), Span<const FramePiece>(&piece, 1), f == kEndFrame}};
    const FrameOutput outputs[] = {{b.id(), heard.data(), SampleFormat::f32}};
    m.step_frame(inputs, outputs, result);
    for (const FrameEvent& e : result.events) {
      ASSERT_EQ(e.kind, FrameEvent::Kind::recognition);
      EXPECT_EQ(e.channel, a.id());
      seen.push_back({f, e.recognition});
    }
  }
  ASSERT_EQ(seen.size(), 2u) << "the digit's start, and its end when the stream ended";
  const Recognition& start = seen[0].r;
  EXPECT_EQ(start.type, RecognitionType::digit);
  EXPECT_EQ(start.param0, '5');
  EXPECT_FALSE(start.is_end);
  EXPECT_NEAR(double(start.start_sample), double(kOnset), double(n)) << "onset within a frame";
  EXPECT_LE(seen[0].frame * n, kOnset + 400) << "reported within 50 ms of the onset";
  const Recognition& end = seen[1].r;
  EXPECT_EQ(seen[1].frame, kEndFrame) << "the end comes with the frame that ended the stream";
  EXPECT_TRUE(end.is_end);
  EXPECT_EQ(end.param0, '5');
  EXPECT_EQ(end.start_sample, start.start_sample);
  // It sounded from the onset to the end of the stream: 160 ms.
  EXPECT_NEAR(double(end.duration_ms), double((kEndFrame + 1) * n - kOnset) / 8.0, 15.0);
  EXPECT_FALSE(a.get_recognised().has_value()) << "frame-port reports do not go to the queue";
}

TEST(FrameApi, ActivityReportsArriveAsEventsOfTheirOutput) {
  Module m = Module::create({});
  const std::size_t n = m.frame_samples();
  Channel a = frame_channel(m), b = frame_channel(m), c = frame_channel(m);
  // An output that only watches: everyone joins it, nobody hears it.
  Channel watch = m.allocate(ChannelType::output);
  watch.enable_frame_output();
  watch.conf_start();
  for (Channel* p : {&a, &b, &c}) watch.conf_add(*p);
  watch.conf_config_activity(50, 100);  // sensitivity 100: any change is reported
  constexpr std::size_t kFrames = 100;
  const std::vector<float> talk = testsig::sine(700.0, -20.0, n * kFrames, kRate);
  const std::vector<float> quiet = testsig::white_noise(-70.0, n * kFrames, 3);
  std::vector<std::size_t> report_frames;
  ActivityReport last;
  FrameResult result;
  for (std::size_t f = 0; f < kFrames; ++f) {
    const FramePiece pa = whole(talk.data() + f * n, n, SampleFormat::f32);
    const FramePiece pq = whole(quiet.data() + f * n, n, SampleFormat::f32);
    const FrameInput inputs[] = {{a.id(), Span<const FramePiece>(&pa, 1)},
                                 {b.id(), Span<const FramePiece>(&pq, 1)},
                                 {c.id(), Span<const FramePiece>(&pq, 1)}};
    m.step_frame(inputs, {}, result);
    for (const FrameEvent& e : result.events) {
      ASSERT_EQ(e.kind, FrameEvent::Kind::activity);
      EXPECT_EQ(e.channel, watch.id());
      EXPECT_EQ(e.activity.frame, f) << "made in this frame";
      report_frames.push_back(f);
      last = e.activity;
    }
  }
  ASSERT_GE(report_frames.size(), 10u);
  for (std::size_t i = 1; i < report_frames.size(); ++i)
    EXPECT_GE(report_frames[i] - report_frames[i - 1], 5u) << "at most one report per 50 ms";
  EXPECT_EQ(last.ranks[0].id, a.participant_id());
  EXPECT_NEAR(last.ranks[0].level_dbm0, -20.0, 1.0);
  EXPECT_EQ(last.ranks[1].id, -1) << "the quiet ones are not active";
  EXPECT_FALSE(watch.conf_poll_activity().has_value()) << "frame-port reports do not go to the queue";
}

TEST(FrameApi, FramePortsAndHostPortsShareAModule) {
  Module m = Module::create({});
  const std::size_t n = m.frame_samples();
  Channel framed = frame_channel(m);
  Channel hosted = m.allocate(ChannelType::full_duplex);
  hosted.enable_host_input();
  hosted.enable_host_output();
  Conference conf;
  conf.add_party(framed);
  conf.add_party(hosted);
  constexpr std::size_t kFrames = 60;
  const std::vector<float> a = testsig::sine(600.0, -16.0, n * kFrames, kRate);
  const std::vector<float> b = testsig::sine(900.0, -16.0, n * kFrames, kRate);
  std::vector<float> framed_heard(n * kFrames), hosted_heard(n * kFrames);
  FrameResult result;
  for (std::size_t f = 0; f < kFrames; ++f) {
    hosted.write_input(Span<const float>(b.data() + f * n, n));
    const FramePiece piece = whole(a.data() + f * n, n, SampleFormat::f32);
    const FrameInput inputs[] = {{framed.id(), Span<const FramePiece>(&piece, 1)}};
    const FrameOutput outputs[] = {{framed.id(), framed_heard.data() + f * n, SampleFormat::f32}};
    m.step_frame(inputs, outputs, result);
    ASSERT_EQ(hosted.read_output(Span<float>(hosted_heard.data() + f * n, n)), n);
  }
  EXPECT_NEAR(tone_db(framed_heard, 900.0, kRate, 20 * n, 40 * n), -16.0, 0.2);
  EXPECT_NEAR(tone_db(hosted_heard, 600.0, kRate, 20 * n, 40 * n), -16.0, 0.2);
  EXPECT_LT(tone_db(framed_heard, 600.0, kRate, 20 * n, 40 * n), -80.0) << "not its own voice";
}

}  // namespace
}  // namespace prosody::test
