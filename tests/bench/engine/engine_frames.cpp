// engine_frames N FRAMES [RATE] [host|frames]: builds the engine benchmark's
// conference (N parties, gating and input/output AGC on, everyone talking)
// and processes FRAMES frames, through host ports (Module::step, the
// default) or the frame API (Module::step_frame). Run under callgrind by
// instruction_counts.sh, which counts the instructions of the module's call:
// a machine-independent measure of how the work grows with N. The conference
// is built from primitives (one output holding everyone, cloned for each
// party, minus the party itself), the same membership and settings as the
// high-level library gives, only much faster to set up under valgrind.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "prosody/prosody.hpp"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s N FRAMES [RATE] [host|frames]\n", argv[0]);
    return 2;
  }
  const int n = std::atoi(argv[1]);
  const int frames = std::atoi(argv[2]);
  prosody::ModuleConfig cfg;
  cfg.sample_rate = argc > 3 ? static_cast<unsigned>(std::atoi(argv[3])) : 8000u;
  const bool frame_api = argc > 4 && std::strcmp(argv[4], "frames") == 0;
  prosody::Module m = prosody::Module::create(cfg);
  std::vector<prosody::Channel> party;
  party.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    party.push_back(m.allocate(prosody::ChannelType::full_duplex));
    if (frame_api) {
      party.back().enable_frame_input();
      party.back().enable_frame_output();
    } else {
      party.back().enable_host_input(2);
      party.back().enable_host_output(2);
    }
  }
  party[0].conf_start({0.0, true, false});     // output AGC on
  for (auto& p : party) party[0].conf_add(p);  // everyone; each output then drops itself
  for (int i = 1; i < n; ++i) {
    party[std::size_t(i)].conf_clone(party[0]);
    party[std::size_t(i)].conf_leave(party[std::size_t(i)].participant_id());
  }
  party[0].conf_leave(party[0].participant_id());
  for (auto& p : party) {
    p.conf_adjust_input({0.0, false, true});  // input AGC on; gating is on by default
    p.set_sidetone(p.id());                   // echo suppression, as the library sets it
  }
  const std::size_t frame = m.frame_samples();
  const std::size_t parties = static_cast<std::size_t>(n);
  // Every party's input frame and output buffer in the application's memory.
  std::vector<std::vector<float>> in(parties, std::vector<float>(frame)), out(parties, std::vector<float>(frame));
  std::vector<prosody::FramePiece> pieces(parties);
  std::vector<prosody::FrameInput> inputs(parties);
  std::vector<prosody::FrameOutput> outputs(parties);
  prosody::FrameResult result;
  for (int f = 0; f < frames; ++f) {
    for (std::size_t i = 0; i < parties; ++i) {
      const double freq = 150.0 + 37.0 * double(i % 90);
      for (std::size_t k = 0; k < frame; ++k)
        in[i][k] = float(
            0.03 * std::sin(2.0 * 3.14159265358979 * freq * double(std::size_t(f) * frame + k) / cfg.sample_rate));
      if (frame_api) {
        pieces[i] = {0, std::uint32_t(frame), in[i].data(), prosody::SampleFormat::f32};
        inputs[i] = {party[i].id(), prosody::Span<const prosody::FramePiece>(&pieces[i], 1)};
        outputs[i] = {party[i].id(), out[i].data(), prosody::SampleFormat::f32};
      } else {
        party[i].write_input(prosody::Span<const float>(in[i].data(), frame));
      }
    }
    if (frame_api) {
      m.step_frame(inputs, outputs, result);
    } else {
      m.step(1);
      for (std::size_t i = 0; i < parties; ++i) party[i].read_output(prosody::Span<float>(out[i].data(), frame));
    }
  }
  return 0;
}
